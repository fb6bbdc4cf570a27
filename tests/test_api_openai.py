"""The OpenAI-compatible endpoint of ``icrag serve``, called by the clients people use: the openai SDK and LangChain.

One real server (one worker) over a tiny index of two documents serves the module's slow tests;
the follow-up rule and the streamed pieces are checked on their own, without a server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from api_server import READER, Server, bearer, served_api, tiny_index
from langchain_openai import ChatOpenAI
from openai.types.chat import ChatCompletionMessageParam

from app.api_openai import stream_pieces
from index.embedding import Embedder
from index.settings import Settings
from rag.followup import conversation_question, is_follow_up
from rag.query import MAX_QUESTION_CHARS

QUESTION = "How do leaders work with power in integrated care?"
FOLLOW_UP = "What about night shifts?"


# --- The follow-up rule and the streamed pieces (no server) -------------------------------------


@pytest.mark.parametrize(
    ("turn", "follows"),
    [
        ("and in Scotland?", True),
        ("What about working with power?", True),
        ("how about rotas", True),
        ("Why?", True),
        ("How did they measure it in the study?", True),
        (QUESTION, False),
        ("Which leadership behaviours improve staff wellbeing in integrated teams?", False),
    ],
)
def test_follow_up_rule(turn: str, follows: bool) -> None:
    assert is_follow_up(turn) is follows


def test_conversation_question_combines_a_follow_up_with_the_question_before() -> None:
    assert conversation_question([QUESTION, FOLLOW_UP]) == f"{QUESTION} {FOLLOW_UP}"
    # A chain of follow-ups keeps the first full question; a new question starts afresh.
    assert conversation_question([QUESTION, "and in Scotland?", "why?"]) == f"{QUESTION} and in Scotland? why?"
    new = "Which leadership behaviours improve staff wellbeing in integrated teams?"
    assert conversation_question([QUESTION, new]) == new
    assert conversation_question(["", "  "]) == ""
    # Context that would push the question over the limit is dropped, not refused.
    long_first = "word " * (MAX_QUESTION_CHARS // 5 - 2) + "?"
    assert conversation_question([long_first, FOLLOW_UP]) == FOLLOW_UP


def test_stream_pieces_split_by_sentence_and_join_to_the_text() -> None:
    text = "Leaders share a purpose. [1][2] They talk first! [3]\n\nReferences:\n[1] A (2020).\n[2] B (2021)."
    pieces = stream_pieces(text)
    assert "".join(pieces) == text
    assert pieces[:2] == ["Leaders share a purpose. [1][2] ", "They talk first! [3]\n\n"]
    assert pieces[2:] == ["References:\n", "[1] A (2020).\n", "[2] B (2021)."]


# --- Through a real server --------------------------------------------------------------------


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path, embedder: Embedder) -> Settings:
    return tiny_index(tmp_path_factory.mktemp("chat"), cache_dir, embedder)


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with served_api(settings, tmp_path_factory.mktemp("chat-log") / "serve.log") as running:
        yield running


@pytest.fixture(scope="module")
def client(server: Server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=READER, max_retries=0, timeout=120)


def ask(client: openai.OpenAI, question: str = QUESTION) -> openai.types.chat.ChatCompletion:
    return client.chat.completions.create(model="icrag", messages=[{"role": "user", "content": question}])


@pytest.mark.slow
def test_chat_completion_is_a_cited_answer(client: openai.OpenAI, server: Server) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="icrag", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}]
    )
    response = raw.parse()
    assert raw.headers["X-Icrag-Index"] == httpx.get(server.url + "/readyz", headers=bearer(READER)).json()["index"]
    assert response.id.startswith("chatcmpl-")
    assert response.object == "chat.completion"
    assert response.model == "icrag"
    choice = response.choices[0]
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    content = choice.message.content or ""
    assert (response.model_extra or {})["abstained"] is False
    assert "[1]" in content
    assert "\n\nReferences:\n[1] Smith J; Jones K (2020). Leadership of integrated care." in content
    assert "https://doi.org/10.1/abc" in content
    citations = (choice.message.model_extra or {})["citations"]
    assert citations[0]["source_id"] == "alpha2020"
    assert "power" in citations[0]["quote"]
    assert (response.model_extra or {})["citations"] == citations
    assert response.usage is not None
    assert response.usage.completion_tokens == len(content.split())
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens


@pytest.mark.slow
def test_streaming_yields_the_same_text_and_the_citations(client: openai.OpenAI, server: Server) -> None:
    whole = ask(client)
    stream = client.chat.completions.create(
        model="icrag", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(chunk.object == "chat.completion.chunk" and chunk.id == chunks[0].id for chunk in chunks)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == whole.choices[0].message.content
    assert sum(1 for chunk in chunks if chunk.choices and chunk.choices[0].delta.content) > 2  # sentence by sentence
    assert "citations" not in (chunks[1].model_extra or {})  # icrag's extras come with the last chunk only
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert [c["source_id"] for c in (last.model_extra or {})["citations"]] == [
        c["source_id"] for c in (whole.model_extra or {})["citations"]
    ]
    raw = httpx.post(
        server.url + "/v1/chat/completions",
        headers=bearer(READER),
        json={"model": "icrag", "messages": [{"role": "user", "content": QUESTION}], "stream": True},
        timeout=120,
    )
    assert raw.headers["content-type"].startswith("text/event-stream")
    assert raw.headers["X-Icrag-Index"]
    assert raw.text.rstrip().endswith("data: [DONE]")


@pytest.mark.slow
def test_an_abstention_is_an_ordinary_reply(client: openai.OpenAI) -> None:
    response = ask(client, "What is the boiling point of mercury in kelvin at sea level?")
    assert (response.model_extra or {})["abstained"] is True
    assert response.choices[0].finish_reason == "stop"
    assert (response.choices[0].message.content or "").startswith("The indexed evidence does not cover")
    assert (response.choices[0].message.model_extra or {})["citations"] == []


@pytest.mark.slow
def test_a_follow_up_is_combined_with_the_question_before(client: openai.OpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": "Leaders notice how status shapes who is heard. [1]"},
        {"role": "user", "content": [{"type": "text", "text": FOLLOW_UP}]},
    ]
    response = client.chat.completions.create(model="icrag", messages=messages)
    extra = response.model_extra or {}
    assert extra["question"] == f"{QUESTION} {FOLLOW_UP}"
    # The follow-up alone is answered from the rota report only; with its question, leadership is cited too.
    assert {c["source_id"] for c in extra["citations"]} == {"alpha2020", "beta2021"}
    alone = (ask(client, FOLLOW_UP).model_extra or {})["citations"]
    assert {c["source_id"] for c in alone} == {"beta2021"}


@pytest.mark.slow
def test_a_wrong_token_raises_authentication_error(server: Server) -> None:
    wrong = openai.OpenAI(base_url=server.url + "/v1", api_key="not-a-token", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as raised:
        wrong.chat.completions.create(model="icrag", messages=[{"role": "user", "content": QUESTION}])
    assert raised.value.code == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()
    # Other routes keep the API's own error shape.
    other = httpx.get(server.url + "/v1/sources", headers=bearer("not-a-token"))
    assert other.status_code == 401
    assert other.json() == {"error": "unknown token"}


@pytest.mark.slow
def test_refusals_raise_the_sdk_errors(client: openai.OpenAI, server: Server) -> None:
    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert unknown.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as missing:
        client.chat.completions.create(model="icrag", messages=[{"role": "system", "content": "Be brief."}])
    assert missing.value.param == "messages"
    with pytest.raises(openai.BadRequestError) as too_long:
        ask(client, "word " * (MAX_QUESTION_CHARS // 5 + 1))
    assert "characters long" in too_long.value.message
    bad_json = httpx.post(
        server.url + "/v1/chat/completions",
        headers={**bearer(READER), "Content-Type": "application/json"},
        content=b'{"model": "icrag", "messages": [',
    )
    assert bad_json.status_code == 400
    assert set(bad_json.json()["error"]) == {"message", "type", "param", "code"}


@pytest.mark.slow
def test_models_list_names_icrag(client: openai.OpenAI) -> None:
    names = [model.id for model in client.models.list()]
    assert names == ["icrag", "icrag-extractive"]
    assert client.models.retrieve("icrag").id == "icrag"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


@pytest.mark.slow
def test_langchain_chat_openai_answers(client: openai.OpenAI, server: Server) -> None:
    chat = ChatOpenAI(base_url=server.url + "/v1", api_key=READER, model="icrag", max_retries=0, timeout=120)
    reply = chat.invoke(QUESTION)
    assert isinstance(reply.content, str)
    assert "[1]" in reply.content
    assert reply.content == ask(client).choices[0].message.content

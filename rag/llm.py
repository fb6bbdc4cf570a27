"""The optional LLM answerer: a LangChain chat model writes, icrag's checks decide what is shown.

A model's reply is never trusted as it stands. It is parsed into sentences with their
``[n]`` markers and checked, in this order:

1. A reply containing :data:`rag.prompts.NOT_COVERED` is an abstention.
2. Markers naming a passage that was not in the prompt (``[9]`` of 5) are removed.
3. A sentence left with no valid marker is dropped: nothing can vouch for it, and shown
   beside cited sentences it would read as evidence.
4. Each cited sentence is scored against each passage it cites (:class:`SupportScorer`).
   Citations of passages that do not support it are removed when another cited passage
   does; when none does, the sentence is kept but flagged (``supported=False``), so a
   reader sees the model's claim and that the evidence did not bear it out.
5. If no sentence is supported, the answer abstains: flagged claims alone are not an answer.

Surviving sentences (at most ``max_answer_sentences``) are renumbered 1..k by first use,
and each citation quotes the passage's sentence unit that best supports its sentence, so
quotes are exact spans a reader can find in the document.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import SecretStr

from index.embedding import Embedder
from index.errors import IcragError
from index.markers import take_markers
from index.sentences import sentence_spans
from index.settings import Settings
from index.store import IndexStore
from rag.citations import Quote, abstention, assemble, display_text, make_citation
from rag.forms import evidence_of
from rag.models import Answer, Citation, Intent, RetrievedPassage
from rag.prompts import NOT_COVERED, PROMPT_VERSION, answer_messages
from rag.query import Query
from rag.support import SupportScorer

logger = logging.getLogger(__name__)

#: Reasoning models served through Ollama may think aloud before answering.
_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_INSTALL_HINT = "install it with: pip install 'icrag[llm]'"


@dataclass(frozen=True)
class DraftSentence:
    """A sentence of a model's reply and the passage numbers its markers name."""

    text: str
    numbers: tuple[int, ...]


@dataclass(frozen=True)
class CheckedSentence:
    """A sentence that passed the checks, with the citations it keeps and its support."""

    text: str
    citations: list[Citation]
    support_score: float
    supported: bool


def chat_model(settings: Settings, backend: str | None = None, variable: str = "ICRAG_ANSWERER") -> BaseChatModel:
    """The chat model of a backend (the answerer's by default), imported only when asked for.

    ``variable`` names the setting that chose the backend, for error messages.

    Raises:
        IcragError: when a setting or the backend's package is missing.
    """
    backend = backend or settings.answerer
    if backend not in ("openai", "ollama"):
        raise IcragError(f"{variable}={backend} uses no language model; set {variable}=openai or ollama")
    if not settings.llm_model:
        raise IcragError(f"{variable}={backend} needs a model; set ICRAG_LLM_MODEL to a chat model name")
    if backend == "openai":
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as exc:
            raise IcragError(f"{variable}=openai needs langchain-openai; {_INSTALL_HINT}") from exc
        if settings.llm_api_key is None and settings.llm_base_url is None:
            raise IcragError(
                f"{variable}=openai needs ICRAG_LLM_API_KEY for api.openai.com, "
                "or ICRAG_LLM_BASE_URL for another OpenAI-compatible endpoint"
            )
        # Local OpenAI-compatible servers ignore the key, but the client insists on one.
        key = settings.llm_api_key or SecretStr("unused")
        return ChatOpenAI(
            model=settings.llm_model,
            base_url=settings.llm_base_url,
            api_key=key,
            temperature=settings.llm_temperature,
        )
    try:
        from langchain_ollama import ChatOllama
    except ImportError as exc:
        raise IcragError(f"{variable}=ollama needs langchain-ollama; {_INSTALL_HINT}") from exc
    return ChatOllama(model=settings.llm_model, base_url=settings.llm_base_url, temperature=settings.llm_temperature)


def invoke(model: BaseChatModel, system: str, user: str) -> str:
    """The model's reply to a (system, user) prompt.

    Raises:
        IcragError: naming the backend's error when the call fails (network, API, model).
    """
    try:
        message = model.invoke([SystemMessage(system), HumanMessage(user)])
    except Exception as exc:  # each backend raises its own network and API errors
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise IcragError(
            f"the language model call failed ({type(exc).__name__}: {detail}); "
            "check ICRAG_LLM_BASE_URL, ICRAG_LLM_MODEL and that the server is running"
        ) from exc
    return message.text


def without_reasoning(reply: str) -> str:
    """A reply without the ``<think>`` blocks in which reasoning models think aloud."""
    return _THINKING.sub("", reply)


def parse_reply(reply: str) -> list[DraftSentence]:
    """The sentences of a reply, each with the passage numbers of the markers that follow it.

    Markers belong to the sentence they end, whether written before or after its full stop
    (``claim [1].`` or ``claim. [1]``); markdown bullets and emphasis are dropped.
    """
    lines = [display_text(line) for line in without_reasoning(reply).splitlines()]
    text, markers = take_markers("\n".join(line for line in lines if line))
    spans = [span for span in sentence_spans(text) if any(ch.isalnum() for ch in text[span[0] : span[1]])]
    starts = [start for start, _ in spans]
    numbers: list[list[int]] = [[] for _ in spans]
    for position, found in markers:
        if spans:
            numbers[max(0, bisect_right(starts, position) - 1)].extend(found)
    return [
        DraftSentence(text[start:end], tuple(dict.fromkeys(found)))
        for (start, end), found in zip(spans, numbers, strict=True)
    ]


class LLMAnswerer:
    """Asks a chat model for a cited answer, then keeps only what the evidence supports.

    The checks are described in the module docstring; the model can be any LangChain
    ``BaseChatModel``, so tests pass fake ones.
    """

    def __init__(
        self, model: BaseChatModel, store: IndexStore, settings: Settings, scorer: SupportScorer, name: str = ""
    ) -> None:
        self.model = model
        self.store = store
        self.settings = settings
        self.scorer = scorer
        #: Recorded in each answer with the prompt version; the model's class name when not given.
        self.name = f"{name or type(model).__name__} ({PROMPT_VERSION})"

    @classmethod
    def from_settings(cls, settings: Settings, store: IndexStore, embedder: Embedder) -> LLMAnswerer:
        """The answerer of ``ICRAG_ANSWERER``, judging support with the pipeline's embedder."""
        name = f"{settings.answerer}:{settings.llm_model}"
        return cls(chat_model(settings), store, settings, SupportScorer(embedder), name)

    def answer(self, query: Query | str, hits: Sequence[RetrievedPassage]) -> Answer:
        """A checked, cited answer from the retrieved passages, or an abstention, naming its model and prompt."""
        question = query if isinstance(query, str) else query.as_asked
        intent = "general" if isinstance(query, str) else query.intent.intent
        answer = self._checked_answer(question, hits, intent)
        if not answer.abstained:
            answer.evidence = evidence_of(self.store, answer.citations)
        answer.answerer = self.name
        return answer

    def _checked_answer(self, question: str, hits: Sequence[RetrievedPassage], intent: Intent = "general") -> Answer:
        settings_hash = self.settings.settings_hash()
        if not hits:
            return abstention(question, hits, settings_hash)
        reply = self.reply(question, hits, intent)
        if NOT_COVERED in reply.upper():
            return abstention(question, hits, settings_hash)
        checked = [c for draft in parse_reply(reply) if (c := self.check(draft, hits)) is not None]
        checked = checked[: self.settings.max_answer_sentences]
        if not any(c.supported for c in checked):
            return abstention(question, hits, settings_hash)
        answer = assemble(question, [(c.text, c.citations) for c in checked], settings_hash)
        answer.sentences = [
            sentence.model_copy(update={"supported": c.supported, "support_score": round(c.support_score, 4)})
            for sentence, c in zip(answer.sentences, checked, strict=True)
        ]
        return answer

    def reply(self, question: str, hits: Sequence[RetrievedPassage], intent: Intent = "general") -> str:
        """The model's raw reply to the answer prompt."""
        system, user = answer_messages(question, hits, self.settings.max_answer_sentences, intent)
        return invoke(self.model, system, user)

    def check(self, draft: DraftSentence, hits: Sequence[RetrievedPassage]) -> CheckedSentence | None:
        """A sentence with its valid, supporting citations; None when it cites no retrieved passage."""
        valid = [n for n in draft.numbers if 1 <= n <= len(hits)]
        if len(valid) < len(draft.numbers):
            logger.info("removed citations of passages not retrieved: %s", sorted(set(draft.numbers) - set(valid)))
        if not valid:
            logger.info("dropped a sentence citing no retrieved passage: %r", draft.text[:80])
            return None
        cited = [hits[n - 1] for n in valid]
        units = [self._units(hit) for hit in cited]
        evidences = [text for hit, spans in zip(cited, units, strict=True) for text in self._texts(hit, spans)]
        scores = self.scorer.score_many(draft.text, evidences)
        judged: list[tuple[float, Quote]] = []
        offset = 0
        for hit, spans in zip(cited, units, strict=True):
            support, unit_scores = scores[offset], scores[offset + 1 : offset + 1 + len(spans)]
            offset += 1 + len(spans)
            start, end = spans[max(range(len(spans)), key=unit_scores.__getitem__)]
            judged.append((support, Quote(hit, start, end)))
        best = max(support for support, _ in judged)
        supported = best >= self.scorer.threshold
        kept = [quote for support, quote in judged if support >= self.scorer.threshold or not supported]
        return CheckedSentence(draft.text, [make_citation(1, quote) for quote in kept], best, supported)

    def _units(self, hit: RetrievedPassage) -> list[tuple[int, int]]:
        """Sentence units of a passage; the whole passage when it has none."""
        spans = self.store.sentences(hit.passage).spans
        return spans or [(0, len(hit.passage.text))]

    @staticmethod
    def _texts(hit: RetrievedPassage, spans: list[tuple[int, int]]) -> list[str]:
        """The passage text followed by the text of each unit, in one list for one scoring call."""
        text = hit.passage.text
        return [text, *(text[start:end] for start, end in spans)]

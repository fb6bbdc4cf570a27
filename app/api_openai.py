"""An OpenAI-compatible chat endpoint on ``icrag serve``: icrag as a "model" that chat clients can call.

``POST /v1/chat/completions`` answers the conversation's question with the pipeline (no LLM
unless the server's answerer is one) and ``GET /v1/models`` lists the model names it accepts,
so the openai SDK, LangChain's ``ChatOpenAI``, Open WebUI or LibreChat can use icrag as is.

The reply's content is the answer with its ``[n]`` markers followed by a references block;
the structured citations travel as an extra ``citations`` field on the message (and at the top
level, with the question actually answered). Streaming sends the same content as
``chat.completion.chunk`` server-sent events, sentence by sentence, citations in the last chunk.

``usage`` counts words, not tokens: there is no tokenizer behind the answer, and a client that
sums usage still gets sizes in proportion. Errors on these routes take the protocol's shape
``{"error": {"message", "type", "param", "code"}}`` (so SDKs raise their usual exceptions);
every other route keeps the API's ``{"error": "..."}``.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, Literal, Protocol

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api_auth import ApiError
from app.api_common import INDEX_HEADER, Reader
from index.errors import IcragError, IndexBusyError, InputError
from index.settings import Settings
from rag.citations import display_text, reference
from rag.followup import conversation_question
from rag.live import LivePipeline
from rag.models import Answer, Citation
from rag.pipeline import Pipeline

logger = logging.getLogger(__name__)

#: The model name clients ask for; ``icrag-<answerer>`` names the same pipeline by its answerer.
MODEL = "icrag"
#: Longest quote shown in a references line; the structured citations carry the whole quote.
QUOTE_CHARS = 240
_STARTED = int(time.time())


class _Served(Protocol):
    """What these routes use of :class:`app.api.Service` (named structurally: app.api includes this module)."""

    settings: Settings
    live: LivePipeline

    def pipeline(self) -> Pipeline: ...

    def versioned(self) -> tuple[Pipeline, str]: ...


class ProtocolError(Exception):
    """A refusal in the protocol's terms: status, message, and the ``type``, ``param`` and ``code`` SDKs read."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.param = param
        self.code = code
        self.headers = headers or {}


# --- Requests ---------------------------------------------------------------------------------


class ContentPart(BaseModel):
    """One part of a message's content; only ``text`` parts are read (images and audio are ignored)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="'text' for the parts icrag reads.")
    text: str | None = Field(None, description="The text of a text part.")


class ChatMessage(BaseModel):
    """A turn of the conversation; fields other than role and content (name, tool calls) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    role: str = Field(description="system, developer, user, assistant or tool; only user turns are read.")
    content: str | list[ContentPart] | None = Field(None, description="Text, or a list of content parts.")

    def text(self) -> str:
        """The turn's text: the string, or its text parts joined."""
        if isinstance(self.content, str):
            return self.content
        return " ".join(part.text for part in self.content or [] if part.type == "text" and part.text)


class StreamOptions(BaseModel):
    """``stream_options``: with ``include_usage`` a last chunk before ``[DONE]`` carries the usage."""

    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """``POST /v1/chat/completions``; sampling options (temperature, max_tokens, ...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(description="'icrag', or a name /v1/models lists.")
    messages: list[ChatMessage] = Field(description="The conversation; the last user turn is the question.")
    stream: bool = Field(False, description="Send the reply as server-sent chat.completion.chunk events.")
    stream_options: StreamOptions | None = Field(None, description="Streaming options.")


# --- Replies ----------------------------------------------------------------------------------


class Usage(BaseModel):
    """Sizes in words (not tokens): the question answered, the reply, and both."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    """The reply: text with [n] markers and references, and the structured citations."""

    role: Literal["assistant"] = "assistant"
    content: str = Field(description="The answer with its [n] markers, then a references block.")
    refusal: None = None
    citations: list[Citation] = Field(description="The numbered citations of the [n] markers (empty: abstained).")
    related: list[Citation] = Field(description="When abstaining, the closest passages (not cited as support).")


class Choice(BaseModel):
    """The one choice of a reply."""

    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    """A ``chat.completion`` with icrag's extras: the question answered, whether it abstained, the citations."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    question: str = Field(description="The question answered: the last user turn, with the one it follows up.")
    abstained: bool = Field(description="True when the evidence does not cover the question.")
    citations: list[Citation] = Field(description="As message.citations.")


class Delta(BaseModel):
    """What one chunk adds to the reply; unset fields are left out, as the protocol sends them."""

    role: Literal["assistant"] | None = None
    content: str | None = None
    citations: list[Citation] | None = None
    related: list[Citation] | None = None

    @model_serializer(mode="wrap")
    def _only_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {key: value for key, value in handler(self).items() if value is not None}


class ChunkChoice(BaseModel):
    """The one choice of a chunk."""

    index: int = 0
    delta: Delta
    finish_reason: Literal["stop"] | None = None
    logprobs: None = None


_EXTRAS = {"question", "abstained", "citations"}


class ChatCompletionChunk(BaseModel):
    """A ``chat.completion.chunk`` event; the last one with choices has finish_reason and the citations."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    question: str | None = None
    abstained: bool | None = None
    citations: list[Citation] | None = None

    @model_serializer(mode="wrap")
    def _extras_when_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # The protocol's own fields are always sent (null included); icrag's only on the chunk that has them.
        return {key: value for key, value in handler(self).items() if value is not None or key not in _EXTRAS}


class ModelCard(BaseModel):
    """A model name /v1/chat/completions accepts."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "icrag"


class ModelList(BaseModel):
    """``GET /v1/models``."""

    object: Literal["list"] = "list"
    data: list[ModelCard]


class ErrorDetail(BaseModel):
    """The protocol's error: what went wrong, its kind, the request field at fault and a code SDKs match on."""

    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    """``{"error": {...}}`` of every refusal on these routes."""

    error: ErrorDetail


# --- Conversion -------------------------------------------------------------------------------


def model_names(settings: Settings) -> list[str]:
    """The model names the endpoint answers to: ``icrag`` and ``icrag-<answerer>`` (one pipeline)."""
    return [MODEL, f"{MODEL}-{settings.answerer}"]


def question_of(messages: list[ChatMessage]) -> str:
    """The question a conversation asks (see :mod:`rag.followup`); ProtocolError 400 with no user text."""
    question = conversation_question([message.text() for message in messages if message.role == "user"])
    if not question:
        raise ProtocolError(400, "the messages have no user message with text to answer", param="messages")
    return question


def reply_text(answer: Answer) -> str:
    """The answer with its [n] markers, then its references (or, when abstaining, the related evidence)."""
    if answer.citations:
        return answer.answer + "\n\nReferences:\n" + "\n".join(_reference_line(c) for c in answer.citations)
    if answer.related:
        lines = "\n".join(_reference_line(c) for c in answer.related)
        return answer.answer + "\n\nRelated evidence (not cited as support):\n" + lines
    return answer.answer


def _reference_line(citation: Citation) -> str:
    """``[n] Authors (year). Title. §Section, p. N. DOI link — “quote”``."""
    quote = display_text(citation.quote)
    if len(quote) > QUOTE_CHARS:
        quote = quote[: QUOTE_CHARS - 1].rstrip() + "…"
    return f"{reference(citation)} — “{quote}”"


#: A line (with the blank lines after it), the unit of the references block.
_LINE = re.compile(r"[^\n]+\n*|\n+")
#: The end of a sentence and its [n] markers, where another sentence follows on the same line.
_SENTENCE_END = re.compile(r"[.!?](?:[ \t]*\[\d+\])*[ \t]+(?=[^\s\[])")
_REFERENCE_LINE = re.compile(r"\[\d+\] ")


def stream_pieces(text: str) -> list[str]:
    """The content pieces to stream: answer sentences, and reference lines whole; joined they are ``text``."""
    pieces: list[str] = []
    for line in (match.group() for match in _LINE.finditer(text)):
        start = 0
        if not _REFERENCE_LINE.match(line):
            for end in _SENTENCE_END.finditer(line):
                pieces.append(line[start : end.end()])
                start = end.end()
        pieces.append(line[start:])
    return [piece for piece in pieces if piece]


def completion(answer: Answer, model: str) -> ChatCompletion:
    """The ``chat.completion`` of an answer."""
    content = reply_text(answer)
    return ChatCompletion(
        id=f"chatcmpl-{uuid.uuid4().hex}",
        created=int(time.time()),
        model=model,
        choices=[Choice(message=AssistantMessage(content=content, citations=answer.citations, related=answer.related))],
        usage=_usage(answer.question, content),
        question=answer.question,
        abstained=answer.abstained,
        citations=answer.citations,
    )


def chunks(answer: Answer, model: str, include_usage: bool = False) -> Iterator[ChatCompletionChunk]:
    """The ``chat.completion.chunk`` events of an answer: role, content pieces, then finish and citations."""
    reply = completion(answer, model)
    message = reply.choices[0].message

    def chunk(delta: Delta, finish: Literal["stop"] | None = None, **extra: Any) -> ChatCompletionChunk:
        choice = ChunkChoice(delta=delta, finish_reason=finish)
        return ChatCompletionChunk(id=reply.id, created=reply.created, model=model, choices=[choice], **extra)

    yield chunk(Delta(role="assistant", content=""))
    for piece in stream_pieces(message.content):
        yield chunk(Delta(content=piece))
    yield chunk(
        Delta(citations=message.citations, related=message.related),
        finish="stop",
        question=reply.question,
        abstained=reply.abstained,
        citations=reply.citations,
    )
    if include_usage:
        yield ChatCompletionChunk(id=reply.id, created=reply.created, model=model, choices=[], usage=reply.usage)


def _events(chunks: Iterator[ChatCompletionChunk]) -> Iterator[str]:
    """Server-sent events: one ``data:`` line per chunk, then ``data: [DONE]``."""
    for item in chunks:
        yield f"data: {item.model_dump_json()}\n\n"
    yield "data: [DONE]\n\n"


def _usage(question: str, content: str) -> Usage:
    asked, replied = len(question.split()), len(content.split())
    return Usage(prompt_tokens=asked, completion_tokens=replied, total_tokens=asked + replied)


# --- Errors -----------------------------------------------------------------------------------

#: The protocol's error type and code for each status, unless the refusal names its own.
_KINDS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", "insufficient_permissions"),
    404: ("invalid_request_error", "not_found"),
    413: ("invalid_request_error", "request_too_large"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
    503: ("server_error", "service_unavailable"),
}


def protocol_error(exc: Exception) -> ProtocolError:
    """Any refusal of these routes in the protocol's terms (validation failures are 400, as the protocol has it)."""
    if isinstance(exc, ProtocolError):
        return exc
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        if first.get("type") == "json_invalid":
            ctx = first.get("ctx")
            reason = ctx.get("error", "invalid") if isinstance(ctx, dict) else "invalid"
            return ProtocolError(400, f"the body is not valid JSON: {reason}")
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or None
        return ProtocolError(400, f"invalid {where or 'request'}: {first.get('msg', 'invalid')}", param=where)
    if isinstance(exc, ApiError):
        return _by_status(exc.status, exc.message, exc.headers)
    if isinstance(exc, InputError):
        return ProtocolError(400, str(exc), param="messages")
    if isinstance(exc, IndexBusyError):
        return _by_status(503, str(exc), {"Retry-After": "1"})
    if isinstance(exc, IcragError):
        return _by_status(503, str(exc))
    if isinstance(exc, StarletteHTTPException):
        return _by_status(exc.status_code, str(exc.detail), dict(exc.headers or {}))
    return ProtocolError(
        500, f"internal error ({type(exc).__name__}); details are in the server log", kind="server_error"
    )


def _by_status(status: int, message: str, headers: dict[str, str] | None = None) -> ProtocolError:
    kind, code = _KINDS.get(status, ("server_error" if status >= 500 else "invalid_request_error", None))
    return ProtocolError(status, message, kind=kind, code=code, headers=headers)


def _error_response(error: ProtocolError) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(message=error.message, type=error.kind, param=error.param, code=error.code))
    return JSONResponse(body.model_dump(), status_code=error.status, headers=error.headers)


class _ProtocolRoute(APIRoute):
    """A route whose refusals (token, body, pipeline) take the protocol's error shape, not the API's."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                error = protocol_error(exc)
                if error.status >= 500 and not isinstance(exc, IcragError):
                    logger.error("error answering %s %s", request.method, request.url.path, exc_info=exc)
                return _error_response(error)

        return guarded


# --- Routes -----------------------------------------------------------------------------------

_REFUSALS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in [
        (400, "Bad JSON, no user message, a question too long."),
        (401, "Missing or unknown token."),
        (404, "Unknown model."),
    ]
}
router = APIRouter(route_class=_ProtocolRoute, tags=["chat clients"], responses=_REFUSALS)


def _served(request: Request) -> _Served:
    service: _Served = request.app.state.service
    return service


@router.get("/v1/models")
def list_models(request: Request, _: Reader) -> ModelList:
    """The model names /v1/chat/completions answers to."""
    names = model_names(_served(request).settings)
    return ModelList(data=[ModelCard(id=name, created=_STARTED) for name in names])


@router.get("/v1/models/{model}")
def get_model(model: str, request: Request, _: Reader) -> ModelCard:
    """One model name, or 404 ``model_not_found``."""
    _check_model(model, _served(request).settings)
    return ModelCard(id=model, created=_STARTED)


@router.post(
    "/v1/chat/completions",
    response_model=ChatCompletion,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
def chat_completions(
    body: ChatCompletionRequest, request: Request, response: Response, _: Reader
) -> ChatCompletion | Response:
    """A cited answer to the conversation's last question, as a chat completion (or its chunks, streamed)."""
    service = _served(request)
    _check_model(body.model, service.settings)
    question = question_of(body.messages)
    pipeline, generation = service.versioned()
    answer = pipeline.ask(question)
    headers = {INDEX_HEADER: generation}
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        events = _events(chunks(answer, body.model, include_usage))
        return StreamingResponse(
            events, media_type="text/event-stream", headers={**headers, "Cache-Control": "no-cache"}
        )
    response.headers.update(headers)
    return completion(answer, body.model)


def _check_model(model: str, settings: Settings) -> None:
    """404 ``model_not_found`` for a name /v1/models does not list."""
    names = model_names(settings)
    if model not in names:
        raise ProtocolError(
            404,
            f"the model '{model}' does not exist; use one of: {', '.join(names)}",
            param="model",
            code="model_not_found",
        )


__all__ = ["MODEL", "ChatCompletion", "ChatCompletionChunk", "ChatCompletionRequest", "ModelList", "router"]

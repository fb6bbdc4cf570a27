"""The HTTP API of ``icrag serve``: cited answers, search, the library and scoring for other programs.

Every route calls the code the command line and the app call: the pipeline for answers and
search, :class:`index.library.Library` for changes to the evidence (with its rules and audit
log), :func:`rag.records.coded_records` for the coded evidence, :func:`eval.scoring.score_answers`
for scoring, :func:`rag.citation_export.export_references` for references. Reading needs the
reader role, changing the library the curator role (see :mod:`app.api_auth`). Every refusal is
JSON ``{"error": "..."}`` with its status, never a traceback.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api_auth import ApiError, Authenticator, RateLimiter, parse_tokens
from app.api_common import INDEX_HEADER, Admin, Curator, Reader
from app.api_metrics import CONTENT_TYPE_LATEST, DOCUMENTS, ERRORS, LATENCY, PASSAGES, REQUESTS, exposition
from app.api_openai import router as chat_router
from eval.judge import make_judge
from eval.metrics import SupportJudge
from eval.scoring import ScoreReport, load_answer_lines, score_answers
from index.embedding import Embedder
from index.errors import IcragError, IndexBusyError, InputError
from index.library import AuditEntry, DocumentSummary, Library, LibraryChange, Upload
from index.models import Record, SourceInfo
from index.settings import Settings
from index.store import icrag_version
from rag.citation_export import CITE_MEDIA_TYPES, CiteFormat, export_references
from rag.live import LivePipeline
from rag.models import Answer, RetrievedPassage
from rag.pipeline import Pipeline
from rag.records import RecordRow, coded_records

logger = logging.getLogger(__name__)

#: Most files one upload request may carry; each is held to ``max_file_mb``.
MAX_UPLOAD_FILES = 8
#: Largest body of a request that is not an upload (questions, answers files to score), in bytes.
MAX_JSON_BYTES = 8 * 1024 * 1024


class AskRequest(Record):
    """``POST /v1/ask``: a question, as ``icrag ask`` takes it."""

    question: str = Field(description="A question in plain language.")
    top_k: int | None = Field(None, ge=1, le=100, description="Passages to retrieve (default: the server's).")
    filters: dict[str, str] = Field(
        default_factory=dict, description="KEY: VALUE filters; keys: source_id, doc_id, component, kind, year, section."
    )


class SearchRequest(Record):
    """``POST /v1/search``: words or a question, as ``icrag search`` takes them."""

    query: str = Field(description="Words or a question to search the evidence for.")
    top_k: int | None = Field(None, ge=1, le=100, description="Passages to return (default: the server's).")
    filters: dict[str, str] = Field(default_factory=dict, description="KEY: VALUE filters, as for /v1/ask.")


class Health(Record):
    """``/healthz`` and ``/readyz``: whether the server runs, and whether it can answer."""

    status: str = Field(description="'ok', or 'unavailable' with the reason in `error`.")
    version: str = Field(description="icrag version.")
    index: str = Field("", description="Loaded index version, sent as X-Icrag-Index with answers.")
    documents: int = Field(0, description="Documents in the loaded index.")
    passages: int = Field(0, description="Passages in the loaded index.")
    error: str = Field("", description="Why the server cannot answer yet.")
    worker: int = Field(0, description="Process id of the worker that answered (several share one index).")
    uploads_ready: bool = Field(
        False, description="Whether the model that embeds uploads is loaded (it loads in the background at start)."
    )


class Service:
    """What every request shares in one server process: settings, model, live pipeline, library, access rules."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.live = LivePipeline(settings, embedder)
        self.library = Library(settings, embedder)
        self.auth = Authenticator(parse_tokens(settings.api_tokens))
        self.limiter = RateLimiter(settings.api_rate_limit)
        self._judge: SupportJudge | None = None

    def pipeline(self) -> Pipeline:
        """The pipeline over the newest index, with the index size published as metrics."""
        return self.versioned()[0]

    def versioned(self) -> tuple[Pipeline, str]:
        """The pipeline over the newest index and its version label, for the X-Icrag-Index header."""
        pipeline, generation = self.live.versioned()
        PASSAGES.set(len(pipeline.store.passages))
        DOCUMENTS.set(len(pipeline.store.manifest.documents))
        return pipeline, generation

    def judge(self) -> SupportJudge:
        """The support judge of ``icrag eval score``, made on first use."""
        if self._judge is None:
            self._judge = make_judge(self.settings, self.embedder)
        return self._judge

    def warm_document_model(self) -> None:
        """Load the model that embeds documents; a failure is left for the first upload to report."""
        try:
            _ = self.embedder.model
        except IcragError as exc:
            logger.warning("embedding model not loaded: %s", exc)

    def changed(self) -> None:
        """After a library change through this process: answer from the new index on the next request."""
        self.live.refresh(force=True)


def create_app(settings: Settings | None = None, embedder: Embedder | None = None) -> FastAPI:
    """The API application; with no arguments (as uvicorn's factory) settings come from ``ICRAG_*`` variables."""
    settings = settings or Settings()
    service = Service(settings, embedder or Embedder(settings))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # A change a killed process left half done is recorded before serving; then the index is loaded.
        try:
            service.library.reconcile()
        except IcragError as exc:
            logger.warning("audit log not reconciled: %s", exc)
        service.live.refresh()
        # Questions are encoded without the full model; uploads need it, so it loads in the background
        # now rather than making the first curator wait for it.
        threading.Thread(target=service.warm_document_model, name="icrag-warm", daemon=True).start()
        yield

    api = FastAPI(
        title="icrag",
        version=icrag_version(),
        summary="Cited answers from the evidence on leading integrated health and social care.",
        lifespan=lifespan,
    )
    api.state.service = service  # read by the role dependencies
    _add_error_handlers(api)
    _add_routes(api, service)
    api.include_router(chat_router)  # OpenAI-compatible; its refusals take that protocol's shape
    api.add_middleware(_BodyLimit, upload_limit=_upload_limit(settings))
    api.add_middleware(_Metrics)  # outermost: refusals are counted too
    return api


def _upload_limit(settings: Settings) -> int:
    """Largest upload request: as many files as one request may carry, each at the file limit."""
    return int(settings.max_file_mb * 1024 * 1024 * MAX_UPLOAD_FILES) + 1024 * 1024


def _add_routes(api: FastAPI, service: Service) -> None:
    @api.get("/healthz", tags=["service"])
    def healthz() -> Health:
        """The server process runs (no token needed)."""
        return Health(status="ok", version=icrag_version(), worker=os.getpid())

    @api.get("/readyz", tags=["service"], response_model=Health, responses={503: {"description": "No index loaded."}})
    def readyz(_: Reader) -> Health | JSONResponse:
        """The server can answer: an index is loaded."""
        try:
            pipeline, generation = service.versioned()
        except IcragError as exc:
            body = Health(status="unavailable", version=icrag_version(), error=str(exc), worker=os.getpid())
            return JSONResponse(body.model_dump(), status_code=503)
        return Health(
            status="ok",
            version=icrag_version(),
            index=generation,
            documents=len(pipeline.store.manifest.documents),
            passages=len(pipeline.store.passages),
            worker=os.getpid(),
            uploads_ready=service.embedder.model_loaded,
        )

    @api.post("/v1/ask", tags=["answers"], response_model=Answer)
    def ask(
        body: AskRequest,
        response: Response,
        _: Reader,
        cite: Annotated[CiteFormat | None, Query(description="Return the answer's references in this format.")] = None,
    ) -> Answer | Response:
        """A cited answer, as ``icrag ask --json`` gives it; with ``cite``, its references as RIS, BibTeX or CSL."""
        pipeline, generation = service.versioned()
        answer = pipeline.ask(body.question, top_k=body.top_k, filters=body.filters)
        headers = {INDEX_HEADER: generation}
        if cite is not None:
            text = export_references(answer, pipeline.store.manifest.sources, cite)
            return Response(text, media_type=CITE_MEDIA_TYPES[cite], headers=headers)
        response.headers.update(headers)
        return answer

    @api.post("/v1/search", tags=["answers"])
    def search(body: SearchRequest, response: Response, _: Reader) -> list[RetrievedPassage]:
        """The passages that best match a query, as ``icrag search --json`` lists them."""
        pipeline, generation = service.versioned()
        hits = pipeline.retrieve(body.query, top_k=body.top_k, filters=body.filters)
        response.headers[INDEX_HEADER] = generation
        return hits

    @api.get("/v1/documents", tags=["library"])
    def documents(_: Reader) -> list[DocumentSummary]:
        """The indexed documents: id, kind, passages and file."""
        return service.library.documents()

    @api.post("/v1/documents", tags=["library"], status_code=201)
    async def add_documents(request: Request, caller: Curator) -> LibraryChange:
        """Add or replace documents (multipart form field ``files``); a ``sources.csv`` is merged."""
        uploads = await _uploads(request)
        change = await run_in_threadpool(service.library.add_uploads, uploads, caller.role)
        await run_in_threadpool(service.changed)  # loading the new index must not stall other requests
        return change

    @api.delete("/v1/documents/{doc_id}", tags=["library"])
    def remove_document(doc_id: str, caller: Curator) -> LibraryChange:
        """Remove a document, and its file when it was uploaded."""
        if doc_id not in {document.doc_id for document in service.library.documents()}:
            raise ApiError(404, f"no document '{doc_id}' in the index (GET /v1/documents lists them)")
        change = service.library.remove([doc_id], caller.role)
        service.changed()
        return change

    @api.get("/v1/sources", tags=["library"])
    def sources(_: Reader) -> list[SourceInfo]:
        """The publications of the index with their bibliographic details."""
        return list(service.pipeline().store.manifest.sources.values())

    @api.get("/v1/records", tags=["library"])
    def records(
        request: Request,
        _: Reader,
        search: Annotated[str, Query(description="Words every listed record contains.")] = "",
    ) -> list[RecordRow]:
        """The coded evidence; other query parameters filter as ``--filter KEY=VALUE`` does (e.g. ``component``)."""
        filters = {key: value for key, value in request.query_params.items() if key != "search"}
        return coded_records(service.pipeline().store.passages, filters, search)

    @api.get("/v1/audit", tags=["library"])
    def audit(_: Admin) -> list[AuditEntry]:
        """The library's audit log: a started line and an ending line per change, with role, files and checksums."""
        return service.library.audit_log()

    @api.post(
        "/v1/score",
        tags=["evaluation"],
        openapi_extra={"requestBody": {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}}},
    )
    async def score(request: Request, _: Reader) -> ScoreReport:
        """Score an answers file (the JSONL body) as ``icrag eval score`` does."""
        name = Path(request.query_params.get("name") or "answers.jsonl").name
        data = await request.body()
        return await run_in_threadpool(_score, service, name, data)

    @api.get("/metrics", tags=["service"], response_class=Response)
    def metrics(_: Reader) -> Response:
        """Prometheus metrics of every worker: requests by route and status, latency, errors, index size."""
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


def _score(service: Service, name: str, data: bytes) -> ScoreReport:
    """Read and score an uploaded answers file (blocking work, run off the event loop)."""
    return score_answers(load_answer_lines(Path(name), data), service.judge(), name)


async def _uploads(request: Request) -> list[Upload]:
    """The files of a multipart upload's ``files`` field; 400 when there are none or too many."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise ApiError(415, "send the files as multipart/form-data in the form field 'files'")
    async with request.form(max_files=MAX_UPLOAD_FILES, max_fields=16) as form:
        files = [item for item in form.getlist("files") if isinstance(item, UploadFile)]
        if not files:
            raise ApiError(400, "no files in the form field 'files'")
        return [Upload(name=item.filename or "upload", data=await item.read()) for item in files]


def _add_error_handlers(api: FastAPI) -> None:
    """Every refusal as ``{"error": "..."}`` with the right status; tracebacks stay in the server log."""

    def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    @api.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error(exc.status, exc.message, exc.headers)

    @api.exception_handler(InputError)
    async def input_error(_: Request, exc: InputError) -> JSONResponse:
        return error(400, str(exc))

    @api.exception_handler(IndexBusyError)
    async def busy(_: Request, exc: IndexBusyError) -> JSONResponse:
        return error(503, str(exc), {"Retry-After": "1"})

    @api.exception_handler(IcragError)
    async def unavailable(_: Request, exc: IcragError) -> JSONResponse:
        return error(503, str(exc))

    @api.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or "request"
        return error(422, f"invalid {where}: {first.get('msg', 'invalid')}")

    @api.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail), dict(exc.headers or {}))

    @api.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.error("error answering %s %s", request.method, request.url.path, exc_info=exc)
        return error(500, f"internal error ({type(exc).__name__}); details are in the server log")


class _BodyLimit:
    """Refuses a body over its route's limit: at once when Content-Length says so, else as soon as it grows past it.

    Uploads may carry several files at ``max_file_mb`` each; every other body (a question, an
    answers file) is held to :data:`MAX_JSON_BYTES`.
    """

    def __init__(self, app: ASGIApp, upload_limit: int) -> None:
        self.app = app
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["method"] == "POST" and scope["path"].rstrip("/") == "/v1/documents"
        limit = self.upload_limit if upload else MAX_JSON_BYTES
        message = f"request body over the {limit / (1024 * 1024):g} MB limit"
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _send_error(send, 413, message)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            received = await receive()
            seen += len(received.get("body", b""))
            if seen > limit:
                # FastAPI passes an HTTPException from the body reader through to the handlers unchanged.
                raise HTTPException(413, message)
            return received

        await self.app(scope, limited, send)


async def _send_error(send: Send, status: int, message: str) -> None:
    """A JSON error sent straight from middleware, before the body is read; the connection then closes."""
    body = JSONResponse({"error": message}).body
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _Metrics:
    """Counts every request by route template and status, and times it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(route=route, status=str(status)).inc()
            LATENCY.labels(route=route).observe(time.perf_counter() - started)
            if status >= 500:
                ERRORS.labels(route=route).inc()


__all__ = ["INDEX_HEADER", "AskRequest", "SearchRequest", "create_app"]

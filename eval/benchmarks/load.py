"""Load and fault bench: many clients ask a running ``icrag serve`` at once, optionally while a curator changes it.

Readers ask the question set round-robin for a fixed time; the report gives throughput,
latency percentiles and errors by kind. With ``churn`` seconds, a curator uploads a small
document and removes it again, one change every ``churn`` seconds, while the readers ask:
every answer must still succeed and name the complete index version it came from. The bench
drives loopback servers only, and is bounded in clients, time and requests, so it cannot be
pointed at someone else's service.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx
from pydantic import Field

from eval.metrics import Latency, latency_percentiles
from eval.report import now
from index.errors import InputError
from index.models import Record
from index.network import is_loopback

MAX_CLIENTS = 256
MAX_SECONDS = 600
#: Most requests one bench run makes, whatever the clients and time.
MAX_REQUESTS = 200_000
INDEX_HEADER = "X-Icrag-Index"
#: The document the curator adds and removes during a churn run.
CHURN_NAME = "load-bench-churn.md"
CHURN_TEXT = (
    "# Load bench note\n\nThis note is added and removed by the load bench while readers ask questions; "
    "it records that a district rota meeting took place on a Tuesday.\n"
)


class ChurnReport(Record):
    """What the curator did during the run."""

    every_seconds: float = Field(description="Seconds between changes.")
    changes: int = Field(description="Changes attempted (uploads and removals).")
    failed: int = Field(description="Changes that did not succeed.")
    errors: dict[str, int] = Field(default_factory=dict, description="Failed changes by status or exception.")


class LoadReport(Record):
    """Result of ``icrag eval bench load``."""

    benchmark: str = "load"
    url: str
    created_at: str
    clients: int
    seconds: float = Field(description="How long the readers asked, in seconds.")
    requests: int = Field(description="Questions asked.")
    ok: int = Field(description="Answers with status 200.")
    errors: dict[str, int] = Field(default_factory=dict, description="Failed requests by status or exception.")
    throughput_rps: float = Field(description="Answers with status 200 per second.")
    latency_ms: Latency = Field(description="Latency of the answers with status 200.")
    index_versions: list[str] = Field(
        default_factory=list, description="Index versions the answers came from, in the order first seen."
    )
    answers_without_version: int = Field(0, description="Answers that did not name their index version.")
    churn: ChurnReport | None = None


def check_target(url: str) -> str:
    """The URL without a trailing slash, if it is an http URL on this machine's loopback; InputError otherwise."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "http" or not is_loopback(host):
        raise InputError(
            "--url", f"{url} is not an http URL on loopback (127.0.0.1); the bench only drives local servers"
        )
    return url.rstrip("/")


def run_load(
    url: str,
    questions: Sequence[str],
    clients: int,
    seconds: float,
    reader_token: str | None = None,
    curator_token: str | None = None,
    churn: float | None = None,
) -> LoadReport:
    """Ask ``questions`` from ``clients`` threads for ``seconds``; with ``churn``, change the library meanwhile."""
    base = check_target(url)
    if not questions:
        raise InputError("--questions", "no questions to ask")
    if not 1 <= clients <= MAX_CLIENTS:
        raise InputError("--clients", f"must be between 1 and {MAX_CLIENTS}")
    if not 0 < seconds <= MAX_SECONDS:
        raise InputError("--seconds", f"must be more than 0 and at most {MAX_SECONDS}")
    if churn is not None and not curator_token:
        raise InputError("--churn", "needs a curator token in ICRAG_API_TOKENS (e.g. curator:...)")
    state = _Run(questions, time.monotonic() + seconds)
    readers = [
        threading.Thread(target=state.ask, args=(base, _headers(reader_token)), daemon=True) for _ in range(clients)
    ]
    curator = None
    if churn is not None:
        curator = threading.Thread(target=state.change, args=(base, _headers(curator_token), churn), daemon=True)
    started = time.monotonic()
    for thread in [*readers, *([curator] if curator else [])]:
        thread.start()
    for thread in readers:
        thread.join()
    elapsed = time.monotonic() - started
    if curator is not None:
        curator.join()
    ok = len(state.latencies)
    return LoadReport(
        url=base,
        created_at=now(),
        clients=clients,
        seconds=round(elapsed, 2),
        requests=state.requests,
        ok=ok,
        errors=dict(state.errors),
        throughput_rps=round(ok / elapsed, 2) if elapsed else 0.0,
        latency_ms=latency_percentiles(state.latencies),
        index_versions=list(state.versions),
        answers_without_version=state.unversioned,
        churn=None if churn is None else ChurnReport(
            every_seconds=churn, changes=state.changes, failed=sum(state.change_errors.values()),
            errors=dict(state.change_errors),
        ),
    )  # fmt: skip


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


class _Run:
    """What the client threads share: the questions, the deadline and the tallies."""

    def __init__(self, questions: Sequence[str], deadline: float) -> None:
        self.questions = itertools.cycle(questions)
        self.deadline = deadline
        self.lock = threading.Lock()
        self.requests = 0
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.versions: dict[str, None] = {}
        self.unversioned = 0
        self.changes = 0
        self.change_errors: Counter[str] = Counter()

    def _next(self) -> str | None:
        with self.lock:
            if time.monotonic() >= self.deadline or self.requests >= MAX_REQUESTS:
                return None
            self.requests += 1
            return next(self.questions)

    def ask(self, base: str, headers: dict[str, str]) -> None:
        """One reader: ask until the deadline, one request at a time."""
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            while (question := self._next()) is not None:
                started = time.perf_counter()
                try:
                    response = client.post("/v1/ask", json={"question": question})
                except httpx.HTTPError as exc:
                    with self.lock:
                        self.errors[type(exc).__name__] += 1
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                with self.lock:
                    if response.status_code != 200 or "citations" not in response.json():
                        self.errors[str(response.status_code)] += 1
                        continue
                    self.latencies.append(elapsed)
                    version = response.headers.get(INDEX_HEADER, "")
                    if version:
                        self.versions.setdefault(version)
                    else:
                        self.unversioned += 1

    def change(self, base: str, headers: dict[str, str], every: float) -> None:
        """The curator: alternately upload and remove a small document, from the start and every ``every`` seconds."""
        present = False
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            while time.monotonic() < self.deadline:
                started = time.monotonic()
                try:
                    if present:
                        response = client.delete(f"/v1/documents/{CHURN_NAME.removesuffix('.md')}")
                    else:
                        response = client.post("/v1/documents", files={"files": (CHURN_NAME, CHURN_TEXT.encode())})
                    failed = str(response.status_code) if response.status_code >= 300 else ""
                except httpx.HTTPError as exc:
                    failed = type(exc).__name__
                with self.lock:
                    self.changes += 1
                    if failed:
                        self.change_errors[failed] += 1
                if not failed:
                    present = not present
                time.sleep(max(0.0, min(started + every, self.deadline) - time.monotonic()))
            if present:  # leave the library as it was
                client.delete(f"/v1/documents/{CHURN_NAME.removesuffix('.md')}")

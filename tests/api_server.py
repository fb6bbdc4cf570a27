"""A real ``icrag serve`` on a free loopback port, for the API, load-bench and chat-client tests."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from helpers import DOC_A, DOC_B, ICRAG, REPO_ROOT, server_environment, stop_session, write_files

from index.builder import IndexBuilder
from index.embedding import Embedder
from index.network import free_port
from index.settings import Settings

START_TIMEOUT_S = 120
READER, CURATOR, ADMIN = "reader-token-1", "curator-token-2", "admin-token-3"
TOKENS = f"reader:{READER},curator:{CURATOR},admin:{ADMIN}"


EVIDENCE = (
    "record_id,component,context,mechanism,outcome,source_id\n"
    'R1,working with power,"Partners with unequal funding","Leaders name how status shapes who is heard",'
    '"Smaller partners speak up in joint decisions",alpha2020\n'
    'R2,inspiring intent to work together,"New integrated teams","Leaders tell a shared story of purpose",'
    '"Staff commit to working together",beta2021\n'
)
SOURCES = (
    "source_id,authors,year,title,venue,doi,design,country\n"
    'alpha2020,"Smith J; Jones K",2020,Leadership of integrated care,Journal of Integrated Care,10.1/abc,'
    "qualitative study,England\n"
    'beta2021,"Social Care Institute for Excellence",2021,Rotas and wellbeing,SCIE reports,,survey,Scotland\n'
)


def tiny_index(root: Path, cache_dir: Path, embedder: Embedder) -> Settings:
    """Two documents, two coded records and their publications, indexed with the session's model.

    The server reuses the embedding cache, so it embeds nothing again.
    """
    data = root / "data"
    write_files(data, {"alpha2020.md": DOC_A, "beta2021.md": DOC_B, "evidence.csv": EVIDENCE, "sources.csv": SOURCES})
    settings = Settings(index_dir=root / "index", data_dir=data, cache_dir=cache_dir, show_progress=False)
    IndexBuilder(settings, embedder).build(data)
    return settings


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Server:
    """A running server: its base URL, its process (the uvicorn supervisor with several workers) and log."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def workers(self) -> list[int]:
        """PIDs of the worker processes (children of the supervisor; none with one in-process worker)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(pid) for pid in children.read_text().split()] if children.exists() else []
        return [pid for pid in pids if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")]


@contextmanager
def served_api(settings: Settings, log: Path, workers: int = 1, tokens: str | None = TOKENS) -> Iterator[Server]:
    """``icrag serve`` for these settings on a free port; yields once every worker answers ``/readyz``."""
    port = free_port()
    environment = server_environment(settings)
    if tokens is not None:
        environment["ICRAG_API_TOKENS"] = tokens
    command = [str(ICRAG), "serve", "--port", str(port), "--workers", str(workers)]
    with open(log, "w") as output:
        process = subprocess.Popen(
            command, env=environment, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        server = Server(f"http://127.0.0.1:{port}", process, log)
        try:
            _wait_ready(server, workers, {} if tokens is None else bearer(READER))
            yield server
        finally:
            stop_session(process)


def _wait_ready(server: Server, workers: int, headers: dict[str, str]) -> None:
    """Wait until the server answers /readyz, and each of several workers has loaded the index."""
    deadline = time.monotonic() + START_TIMEOUT_S
    ready = 0
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"icrag serve exited with {server.process.returncode}:\n{server.log.read_text()}")
        try:
            response = httpx.get(f"{server.url}/readyz", headers=headers, timeout=5)
            ready = ready + 1 if response.status_code == 200 else 0
            # Requests spread over the workers; several answers in a row mean every worker is up.
            if ready >= 4 * workers and server.log.read_text().count("Application startup complete") >= workers:
                return
        except httpx.HTTPError:
            ready = 0
        time.sleep(0.2)
    pytest.fail(f"icrag serve did not get ready within {START_TIMEOUT_S}s:\n{server.log.read_text()}")

"""Several workers, one index: every worker follows a change within 2 s, and a killed worker breaks nothing."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from api_server import ADMIN, CURATOR, READER, Server, bearer, served_api
from helpers import DOC_A, DOC_B, write_files

from index.builder import IndexBuilder
from index.embedding import Embedder
from index.settings import Settings
from index.store import IndexStore

pytestmark = pytest.mark.slow  # starts servers with two workers, each loading the model

NOTE = "# Discharge\n\nDistrict nurses and social workers planned hospital discharges together every Friday.\n"


@pytest.fixture
def settings(tmp_path: Path, cache_dir: Path, embedder: Embedder) -> Settings:
    data = tmp_path / "data"
    write_files(data, {"alpha2020.md": DOC_A, "beta2021.md": DOC_B})
    settings = Settings(index_dir=tmp_path / "index", data_dir=data, cache_dir=cache_dir, show_progress=False)
    IndexBuilder(settings, embedder).build(data)
    return settings


def ready(server: Server) -> dict[str, object]:
    """/readyz on a fresh connection, so the kernel may hand it to any worker."""
    return dict(httpx.get(f"{server.url}/readyz", headers=bearer(READER), timeout=30).json())


def test_every_worker_answers_from_the_new_index_within_2_seconds(settings: Settings, tmp_path: Path) -> None:
    with served_api(settings, tmp_path / "serve.log", workers=2) as server:
        assert len(server.workers()) == 2
        before = ready(server)["documents"]
        response = httpx.post(
            f"{server.url}/v1/documents",
            headers=bearer(CURATOR),
            files={"files": ("note.md", NOTE.encode())},
            timeout=120,
        )
        assert response.status_code == 201, response.text
        changed = time.monotonic()
        time.sleep(2.0)
        seen: dict[int, object] = {}
        for _ in range(40):  # fresh connections land on both workers
            answer = ready(server)
            seen[int(str(answer["worker"]))] = answer["documents"]
        assert time.monotonic() - changed < 10
        assert len(seen) == 2, f"only workers {sorted(seen)} answered"
        assert set(seen.values()) == {int(str(before)) + 1}


def _lock_holder(server: Server, settings: Settings) -> int | None:
    """The worker holding the index write lock, by its open lock file."""
    lock = (settings.index_dir.parent / f".{settings.index_dir.name}.lock").resolve()
    for pid in server.workers():
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if fd.readlink() == lock:
                    return pid
            except OSError:
                continue
    return None


def test_killing_a_worker_during_an_upload_leaves_a_working_server_and_an_audit_record(
    settings: Settings, tmp_path: Path
) -> None:
    big = "# Long report\n\n" + "\n\n".join(
        f"Paragraph {i}: partners in district {i} reviewed shared budgets, rotas and discharge plans together "
        f"and recorded {i} agreed actions for the integrated care team."
        for i in range(400)
    )
    with served_api(settings, tmp_path / "serve.log", workers=2) as server:
        before = {e.doc_id for e in IndexStore.load(settings.index_dir, settings).manifest.documents}
        outcome: dict[str, object] = {}

        def upload() -> None:
            try:
                outcome["response"] = httpx.post(
                    f"{server.url}/v1/documents",
                    headers=bearer(CURATOR),
                    files={"files": ("long-report.md", big.encode())},
                    timeout=300,
                )
            except httpx.HTTPError as exc:
                outcome["error"] = exc

        thread = threading.Thread(target=upload)
        thread.start()
        deadline = time.monotonic() + 60
        victim = None
        while victim is None and time.monotonic() < deadline:
            victim = _lock_holder(server, settings)
            time.sleep(0.05)
        assert victim is not None, "no worker took the write lock"
        os.kill(victim, signal.SIGKILL)
        thread.join(timeout=300)
        assert "response" not in outcome or outcome["response"].status_code >= 500  # type: ignore[attr-defined]

        # The other worker answers meanwhile, and the supervisor brings a new one up.
        answer = httpx.post(
            f"{server.url}/v1/ask",
            headers=bearer(READER),
            json={"question": "How do leaders build shared purpose?"},
            timeout=60,
        )
        assert answer.status_code == 200
        deadline = time.monotonic() + 120
        while len(server.workers()) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(server.workers()) == 2
        assert victim not in server.workers()

        after = {e.doc_id for e in IndexStore.load(settings.index_dir, settings).manifest.documents}
        assert after in (before, before | {"long-report"})
        # The restarted worker reconciled the audit log: the change is recorded as interrupted.
        deadline = time.monotonic() + 30
        entries: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            audit = httpx.get(f"{server.url}/v1/audit", headers=bearer(ADMIN), timeout=30)
            entries = audit.json()
            if entries and entries[-1]["status"] == "interrupted":
                break
            time.sleep(0.5)
        assert [(e["action"], e["status"]) for e in entries[-2:]] == [("add", "started"), ("add", "interrupted")]
        assert entries[-1]["change"] == entries[-2]["change"]
        assert all(json.loads(line) for line in (settings.index_dir / "audit.jsonl").read_text().splitlines())

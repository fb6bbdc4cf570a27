"""``icrag eval bench load`` against a real server: readers ask while a curator changes the library."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from api_server import READER, TOKENS, bearer, served_api
from helpers import DOC_A, DOC_B, ICRAG, REPO_ROOT, write_files

from eval.benchmarks.load import LoadReport, check_target
from index.builder import IndexBuilder
from index.embedding import Embedder
from index.errors import InputError
from index.settings import Settings
from index.store import read_manifest

QUESTIONS = [
    {
        "id": "q1",
        "question": "How do leaders build a shared purpose?",
        "type": "factoid",
        "answer": "x",
        "persona": "policymaker",
    },
    {
        "id": "q2",
        "question": "What fatigue did night-shift nurses report?",
        "type": "factoid",
        "answer": "x",
        "persona": "policymaker",
    },
]


@pytest.mark.parametrize(
    "url", ["http://example.org:8000", "https://127.0.0.1:8000", "http://10.0.0.5", "http://127.evil.example"]
)
def test_only_loopback_http_servers_are_driven(url: str) -> None:
    with pytest.raises(InputError, match="not an http URL on loopback"):
        check_target(url)


@pytest.mark.slow  # starts a server and drives it for several seconds
def test_readers_get_no_errors_while_a_curator_changes_the_library(
    tmp_path: Path, cache_dir: Path, embedder: Embedder
) -> None:
    data = tmp_path / "data"
    write_files(data, {"alpha2020.md": DOC_A, "beta2021.md": DOC_B})
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    settings = Settings(index_dir=tmp_path / "index", data_dir=data, cache_dir=cache_dir, show_progress=False)
    IndexBuilder(settings, embedder).build(data)
    with served_api(settings, tmp_path / "serve.log") as server:
        # The curator's first upload should not wait for the document model, still loading after start.
        deadline = time.monotonic() + 120
        while not httpx.get(f"{server.url}/readyz", headers=bearer(READER)).json()["uploads_ready"]:
            assert time.monotonic() < deadline, "the document model did not load"
            time.sleep(0.5)
        completed = subprocess.run(
            [str(ICRAG), "eval", "bench", "load", "--url", server.url, "--clients", "4", "--seconds", "12",
             "--churn", "2", "--questions", str(questions), "--out", str(tmp_path / "report")],
            capture_output=True, text=True, timeout=300, cwd=REPO_ROOT,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("ICRAG_")}, "ICRAG_API_TOKENS": TOKENS},
        )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    report = LoadReport.model_validate_json(completed.stdout)
    assert report.ok == report.requests > 0
    assert report.errors == {}
    assert report.latency_ms.p99 is not None
    assert report.churn is not None
    assert report.churn.changes >= 1
    assert report.churn.failed == 0
    assert len(report.index_versions) >= 2  # answers came from the index before and after a change
    assert report.answers_without_version == 0
    documents = {entry.doc_id for entry in read_manifest(settings.index_dir).documents}
    assert documents == {"alpha2020", "beta2021"}  # the curator left the library as it was

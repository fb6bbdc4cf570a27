"""The HTTP API, through a real ``icrag serve`` process on a free loopback port: every route and role.

One server (one worker) serves the module's tests over a tiny index of two documents, coded
records and publication details; tests that change the library restore it before they end.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_server import ADMIN, CURATOR, READER, Server, bearer, served_api, tiny_index
from helpers import BAD_INPUT_CASES, ICRAG, make_bad_input, tree_digest

from eval.scoring import ScoreReport
from index.embedding import Embedder
from index.settings import Settings
from rag.models import Answer, RetrievedPassage

pytestmark = pytest.mark.slow  # starts a server process that loads the model

QUESTION = "How do leaders build a shared purpose across organisations?"
NEW_DOC = "# Discharge\n\nDistrict nurses and social workers planned hospital discharges together every Friday.\n"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path, embedder: Embedder) -> Settings:
    return tiny_index(tmp_path_factory.mktemp("api"), cache_dir, embedder)


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with served_api(settings, tmp_path_factory.mktemp("api-log") / "serve.log") as running:
        yield running


def call(
    server: Server,
    method: str,
    path: str,
    token: str | None = READER,
    headers: dict[str, str] | None = None,
    **kwargs: object,
) -> httpx.Response:
    sent = {**(bearer(token) if token else {}), **(headers or {})}
    return httpx.request(method, server.url + path, headers=sent, timeout=120, **kwargs)  # type: ignore[arg-type]


def test_health_needs_no_token_and_readiness_reports_the_index(server: Server) -> None:
    assert call(server, "GET", "/healthz", token=None).json()["status"] == "ok"
    ready = call(server, "GET", "/readyz").json()
    assert ready["status"] == "ok"
    assert ready["documents"] == 3
    assert ready["index"]
    assert isinstance(ready["uploads_ready"], bool)


def test_ask_returns_the_answer_of_icrag_ask(server: Server) -> None:
    response = call(server, "POST", "/v1/ask", json={"question": QUESTION})
    assert response.status_code == 200
    answer = Answer.model_validate(response.json())
    assert not answer.abstained
    assert answer.citations
    assert answer.citations[0].source_id == "alpha2020"
    assert response.headers["X-Icrag-Index"] == call(server, "GET", "/readyz").json()["index"]


def test_ask_takes_top_k_and_filters(server: Server) -> None:
    response = call(server, "POST", "/v1/ask", json={"question": QUESTION, "top_k": 1, "filters": {"kind": "bogus"}})
    assert response.status_code == 200
    assert response.json()["abstained"]
    bad = call(server, "POST", "/v1/ask", json={"question": QUESTION, "filters": {"colour": "red"}})
    assert bad.status_code == 400
    assert "unknown filter key" in bad.json()["error"]


@pytest.mark.parametrize(
    ("cite", "media_type", "opening"),
    [
        ("ris", "application/x-research-info-systems", "TY  - "),
        ("bibtex", "application/x-bibtex", "@"),
        ("csl", "application/vnd.citationstyles.csl+json", "["),
    ],
)
def test_ask_exports_the_references(server: Server, cite: str, media_type: str, opening: str) -> None:
    response = call(server, "POST", f"/v1/ask?cite={cite}", json={"question": QUESTION})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert response.text.startswith(opening)
    assert "Leadership of integrated care" in response.text


def test_unknown_citation_format_is_a_json_error(server: Server) -> None:
    response = call(server, "POST", "/v1/ask?cite=endnote", json={"question": QUESTION})
    assert response.status_code == 422
    assert "cite" in response.json()["error"]


def test_search_lists_passages_best_first(server: Server) -> None:
    response = call(server, "POST", "/v1/search", json={"query": "night shift fatigue", "top_k": 2})
    hits = [RetrievedPassage.model_validate(item) for item in response.json()]
    assert [hit.rank for hit in hits] == [1, 2]
    assert hits[0].passage.source_id == "beta2021"


def test_documents_sources_and_records(server: Server) -> None:
    documents = call(server, "GET", "/v1/documents").json()
    assert {d["doc_id"] for d in documents} == {"alpha2020", "beta2021", "evidence"}
    assert set(documents[0]) >= {"doc_id", "kind", "passages", "path"}
    sources = {s["source_id"]: s for s in call(server, "GET", "/v1/sources").json()}
    assert sources["alpha2020"]["doi"] == "10.1/abc"
    records = call(server, "GET", "/v1/records", params={"component": "working with power"}).json()
    assert [r["record_id"] for r in records] == ["R1"]
    searched = call(server, "GET", "/v1/records", params={"search": "shared story"}).json()
    assert [r["record_id"] for r in searched] == ["R2"]
    assert call(server, "GET", "/v1/records", params={"colour": "red"}).status_code == 400


def test_score_scores_an_answers_file_like_icrag_eval_score(server: Server) -> None:
    answer = call(server, "POST", "/v1/ask", json={"question": QUESTION}).json()
    body = json.dumps({**answer, "key_facts": ["shared purpose"]}) + "\n"
    response = call(server, "POST", "/v1/score", content=body.encode())
    assert response.status_code == 200
    report = ScoreReport.model_validate(response.json())
    assert report.n_answers == 1
    assert report.answers.key_fact_recall == 1.0
    broken = call(server, "POST", "/v1/score?name=mine.jsonl", content=b"{not json\n")
    assert broken.status_code == 400
    assert broken.json()["error"].startswith("mine.jsonl:1: invalid JSON")


def test_metrics_count_requests_by_route_and_status(server: Server) -> None:
    call(server, "GET", "/v1/documents")
    call(server, "GET", "/v1/documents", token="wrong")
    text = call(server, "GET", "/metrics").text
    assert 'icrag_requests_total{route="/v1/documents",status="200"}' in text
    assert 'icrag_requests_total{route="/v1/documents",status="401"}' in text
    assert "icrag_request_seconds_bucket" in text
    assert "icrag_index_passages" in text


@pytest.mark.parametrize(
    ("method", "path", "token", "status"),
    [
        ("GET", "/v1/documents", None, 401),
        ("GET", "/v1/documents", "not-a-token", 401),
        ("POST", "/v1/documents", READER, 403),
        ("DELETE", "/v1/documents/alpha2020", READER, 403),
        ("GET", "/v1/audit", CURATOR, 403),
        ("GET", "/metrics", None, 401),
        ("POST", "/v1/ask", None, 401),
    ],
)
def test_roles_guard_every_route(server: Server, method: str, path: str, token: str | None, status: int) -> None:
    response = call(server, method, path, token=token, files={"files": ("x.md", b"# x\n\nsome text here.\n")})
    assert response.status_code == status
    assert set(response.json()) == {"error"}
    assert (token or "") not in response.text or token is None
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_curator_adds_and_removes_a_document_and_the_audit_log_records_both(
    server: Server, settings: Settings
) -> None:
    added = call(server, "POST", "/v1/documents", token=CURATOR, files={"files": ("discharge.md", NEW_DOC.encode())})
    assert added.status_code == 201, added.text
    assert added.json()["report"]["added"] == ["discharge"]
    assert "discharge" in {d["doc_id"] for d in call(server, "GET", "/v1/documents").json()}
    answer = call(server, "POST", "/v1/ask", json={"question": "Who planned hospital discharges together?"}).json()
    assert answer["citations"][0]["source_id"] == "discharge"
    removed = call(server, "DELETE", "/v1/documents/discharge", token=CURATOR)
    assert removed.status_code == 200
    assert "discharge" not in {d["doc_id"] for d in call(server, "GET", "/v1/documents").json()}
    assert not (settings.data_dir / "uploads" / "discharge.md").exists()
    audit = call(server, "GET", "/v1/audit", token=ADMIN).json()
    lines = [(e["action"], e["status"], e["role"]) for e in audit[-4:]]
    assert lines == [("add", "started", "curator"), ("add", "done", "curator"),
                     ("remove", "started", "curator"), ("remove", "done", "curator")]  # fmt: skip
    upload = audit[-4]["files"][0]
    assert upload["name"] == "discharge.md"
    assert upload["bytes"] == len(NEW_DOC.encode())
    log = (settings.index_dir / "audit.jsonl").read_text()
    assert CURATOR not in log
    assert len(log.splitlines()) == len(audit)


@pytest.mark.parametrize("case", [c for c in BAD_INPUT_CASES if c != "missing_path"])
def test_hostile_uploads_get_a_json_error_and_leave_the_index_as_it_was(
    server: Server, settings: Settings, tmp_path: Path, case: str
) -> None:
    path, problem = make_bad_input(case, tmp_path / "incoming")
    problem = "unsupported file type" if case == "unknown_extension" else problem  # named before it is read
    before = tree_digest(settings.index_dir)
    data_before = tree_digest(settings.data_dir)
    response = call(server, "POST", "/v1/documents", token=CURATOR, files={"files": (path.name, path.read_bytes())})
    assert 400 <= response.status_code < 500
    assert problem in response.json()["error"]
    assert path.name in response.json()["error"]
    assert str(tmp_path) not in response.text and "/tmp" not in response.text
    after = tree_digest(settings.index_dir)
    after.pop("audit.jsonl", None), before.pop("audit.jsonl", None)
    assert after == before
    assert tree_digest(settings.data_dir) == data_before


@pytest.mark.parametrize("name", ["../../escape.md", "/etc/cron.d/evil.md", "..\\..\\win.md"])
def test_path_traversal_names_land_in_the_uploads_folder(server: Server, settings: Settings, name: str) -> None:
    response = call(server, "POST", "/v1/documents", token=CURATOR, files={"files": (name, NEW_DOC.encode())})
    assert response.status_code == 201, response.text
    doc_id = response.json()["report"]["added"][0]
    stored = [p for p in (settings.data_dir / "uploads").iterdir()]
    assert [p.name for p in stored] == [f"{doc_id}.md"]
    assert not (settings.data_dir.parent / "escape.md").exists()
    assert call(server, "DELETE", f"/v1/documents/{doc_id}", token=CURATOR).status_code == 200


def test_a_2_gb_content_length_is_refused_before_its_body_is_read(server: Server) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            b"POST /v1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + CURATOR.encode() + b"\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 2147483648\r\n\r\n--b\r\n"
        )
        reply = b""
        while chunk := connection.recv(65536):  # the server answers and closes without reading the body
            reply += chunk
        text = reply.decode()
    assert text.startswith("HTTP/1.1 413")
    assert '{"error":"request body over the' in text
    assert time.monotonic() - started < 5


def test_bad_requests_are_json_errors(server: Server) -> None:
    not_json = call(server, "POST", "/v1/ask", content=b"{oops", headers={"content-type": "application/json"})
    assert not_json.status_code == 422
    assert set(not_json.json()) == {"error"}
    too_long = call(server, "POST", "/v1/ask", json={"question": "why " * 1000})
    assert too_long.status_code == 400
    assert "characters long" in too_long.json()["error"]
    missing = call(server, "GET", "/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {"error": "Not Found"}
    unknown = call(server, "DELETE", "/v1/documents/no-such-doc", token=CURATOR)
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "no document 'no-such-doc' in the index (GET /v1/documents lists them)"}


def test_openapi_docs_are_served(server: Server) -> None:
    schema = call(server, "GET", "/openapi.json", token=None).json()
    assert {"/v1/ask", "/v1/search", "/v1/documents", "/v1/score", "/metrics"} <= set(schema["paths"])
    assert call(server, "GET", "/docs", token=None).status_code == 200


def test_serving_beyond_loopback_without_tokens_is_refused(settings: Settings) -> None:
    completed = subprocess.run(
        [str(ICRAG), "serve", "--host", "0.0.0.0", "--index", str(settings.index_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1
    assert "no tokens" in completed.stderr


def test_a_question_body_over_its_limit_is_refused_even_without_content_length(server: Server) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * (1024 * 1024)  # 10 MB of a JSON body, more than a question may be

    response = call(server, "POST", "/v1/ask", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"].startswith("request body over the 8 MB limit")

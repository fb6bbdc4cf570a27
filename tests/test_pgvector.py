"""The PostgreSQL + pgvector backend against a real server: rows, refusals, parity with FAISS, a replica.

One embedded PostgreSQL (the scale extra's binaries, our own initdb and pg_ctl) serves the module;
it runs as an unprivileged user when the tests run as root and is stopped by PID at the end. The
scale extra is part of ``make test``: missing binaries fail these tests, they never skip.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import psycopg
import pytest
from eval_fixtures import icrag
from helpers import DATA_DIR, DOC_A, DOC_B, DOC_C, bundled_settings, write_files
from pydantic import SecretStr
from test_eval_benchmarks import write_squad

from eval.questions import Question, load_questions
from index.builder import IndexBuilder
from index.embedding import Embedder
from index.errors import IcragError, IndexMismatchError, InputError
from index.models import Manifest
from index.network import free_port
from index.pg_server import EmbeddedPostgres, running, wait_for_replay
from index.pgvector_store import (
    COLLECTION_TABLE,
    EMBEDDING_TABLE,
    UNIT_TABLE,
    PgVectorStore,
)
from index.roles import ROLE_CODE
from index.settings import Settings
from index.store import IndexStore
from rag.pipeline import Pipeline

if TYPE_CHECKING:
    from fixtures_rag import RagIndex

pytest_plugins = ["fixtures_rag"]
pytestmark = [pytest.mark.pgvector, pytest.mark.slow]

QUESTION_SETS = ["dev_questions.jsonl", "extra_dev_questions.jsonl", "policy_dev_questions.jsonl"]
#: Parity with the FAISS backend on the bundled questions (see docs in index.pgvector_store).
MIN_TOP5_OVERLAP = 0.9
MIN_SAME_ANSWERS = 0.9


@pytest.fixture(scope="module")
def pg_server() -> Iterator[EmbeddedPostgres]:
    """One embedded PostgreSQL with pgvector for the module, stopped (by PID if need be) at its end."""
    with EmbeddedPostgres() as server:
        yield server
    assert server.pid is None


def pg_settings(base: Settings, server: EmbeddedPostgres, collection: str) -> Settings:
    return base.model_copy(update={"backend": "pgvector", "pg_dsn": SecretStr(server.dsn), "pg_collection": collection})


def with_manifest(store: IndexStore, **changes: object) -> IndexStore:
    """The same index under another manifest (another version of it)."""
    manifest = store.manifest.model_copy(update=changes)
    return IndexStore(manifest, store.passages, store.vectors, store.documents, store.unit_vectors, store.units)


def scalar(server: EmbeddedPostgres, sql: str, *params: object) -> object:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


# --- the embedded server --------------------------------------------------------------------


def test_the_embedded_server_runs_unprivileged_and_stops_by_pid() -> None:
    with EmbeddedPostgres() as server:
        pid = server.pid
        assert pid is not None and running(pid) and server.data_dir.is_dir()
        # PostgreSQL refuses root: as root, the server runs as an unprivileged user who owns its folder.
        owner = Path(f"/proc/{pid}").stat().st_uid
        assert owner == (server.user.pw_uid if server.user is not None else os.geteuid())
        assert server.data_dir.stat().st_uid == owner
        if os.geteuid() == 0:
            assert owner != 0
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            row = conn.execute(
                "SELECT current_setting('data_directory'), "
                "(SELECT extversion FROM pg_extension WHERE extname = 'vector')"
            ).fetchone()
            assert row is not None and row[0] == str(server.data_dir) and row[1] >= "0.8"
        root = server.data_dir.parent
    assert not running(pid) and not root.exists() and server.pid is None


# --- rows ----------------------------------------------------------------------------------


def test_an_index_round_trips_through_the_tables(pg_server: EmbeddedPostgres, rag_index: RagIndex) -> None:
    store = rag_index.store
    postgres = PgVectorStore(pg_server.dsn, "tiny")
    report = postgres.write(store)
    assert report.written and (report.n_passages, report.n_units) == (len(store.passages), len(store.units))
    assert "tiny" in report.where and "127.0.0.1" in report.where
    loaded, version = postgres.load(rag_index.settings)
    assert str(version) == report.version
    assert loaded.manifest == store.manifest
    assert loaded.passages == store.passages and loaded.documents == store.documents
    assert np.array_equal(loaded.vectors, store.vectors) and loaded.vectors.dtype == np.float32
    assert np.array_equal(loaded.unit_vectors, store.unit_vectors)
    assert np.array_equal(loaded.units.table(), store.units.table())
    assert (
        loaded.sentences(3).spans == store.sentences(3).spans and loaded.sentences(3).roles == store.sentences(3).roles
    )
    # The rows as SQL sees them: one per passage and unit, kinds and roles by name, the manifest as JSON.
    count = f"SELECT count(*) FROM {{}} WHERE collection_id = '{version}'"
    assert scalar(pg_server, count.format(EMBEDDING_TABLE)) == len(store.passages)
    assert scalar(pg_server, count.format(UNIT_TABLE)) == len(store.units)
    kinds = scalar(pg_server, f"SELECT array_agg(DISTINCT kind ORDER BY kind) FROM {UNIT_TABLE}")
    assert kinds == ["sentence", "window"]
    scope_notes = int((store.units.role == ROLE_CODE["scope_note"]).sum())
    assert (
        scope_notes and scalar(pg_server, f"SELECT count(*) FROM {UNIT_TABLE} WHERE role = 'scope_note'") == scope_notes
    )
    stored = scalar(pg_server, f"SELECT cmetadata FROM {COLLECTION_TABLE} WHERE name = 'tiny' AND current")
    assert Manifest.model_validate(stored) == store.manifest
    # HNSW over inner products on both vector columns; a generated tsvector with a GIN index.
    indexes = " ".join(
        str(scalar(pg_server, "SELECT string_agg(indexdef, ' ') FROM pg_indexes WHERE tablename = %s", t))
        for t in (EMBEDDING_TABLE, UNIT_TABLE)
    )
    assert indexes.count("USING hnsw (embedding vector_ip_ops)") == 2 and "USING gin (tsv)" in indexes
    generated = (
        f"SELECT attgenerated FROM pg_attribute WHERE attrelid = '{EMBEDDING_TABLE}'::regclass AND attname = 'tsv'"
    )
    assert scalar(pg_server, generated) == "s"
    matched = scalar(
        pg_server,
        f"SELECT count(*) FROM {EMBEDDING_TABLE} WHERE collection_id = %s AND tsv @@ to_tsquery('english', 'fatigue')",
        version,
    )
    assert matched == sum("fatigue" in p.text.lower() for p in store.passages)
    # Writing the same version again is a no-op.
    assert not postgres.sync(store).written


def test_a_write_is_one_transaction(
    pg_server: EmbeddedPostgres, rag_index: RagIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = rag_index.store
    postgres = PgVectorStore(pg_server.dsn, "atomic")
    first = postgres.write(store)
    _, backend = postgres.open(rag_index.settings)
    query = rag_index.pipeline.embedder.embed_query("night shift fatigue")
    before = backend.dense_candidates(query, 5)

    def broken(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(PgVectorStore, "_copy_units", staticmethod(broken))
    with pytest.raises(RuntimeError, match="disk full"):
        postgres.write(with_manifest(store, created_at="2099-01-01T00:00:00+00:00"))
    monkeypatch.undo()
    # Nothing of the failed version is left: readers still see the first, whole.
    current = postgres.current()
    assert current is not None and str(current[0]) == first.version and current[1] == store.manifest
    assert scalar(pg_server, f"SELECT count(*) FROM {COLLECTION_TABLE} WHERE name = 'atomic'") == 1
    assert scalar(pg_server, f"SELECT count(DISTINCT collection_id) FROM {EMBEDDING_TABLE}") == scalar(
        pg_server, f"SELECT count(*) FROM {COLLECTION_TABLE}"
    )
    # A new version becomes current; a server that loaded the previous one keeps its candidates until the next.
    second = postgres.write(with_manifest(store, created_at="2099-01-02T00:00:00+00:00"))
    assert str(postgres.load(rag_index.settings)[1]) == second.version
    assert backend.dense_candidates(query, 5) == before
    postgres.write(with_manifest(store, created_at="2099-01-03T00:00:00+00:00"))
    assert scalar(pg_server, f"SELECT count(*) FROM {COLLECTION_TABLE} WHERE name = 'atomic'") == 2
    assert backend.dense_candidates(query, 5)[0].positions == []
    backend.close()


# --- refusals ------------------------------------------------------------------------------


def test_a_wrong_dimension_or_model_is_refused_in_one_line(pg_server: EmbeddedPostgres, rag_index: RagIndex) -> None:
    store = rag_index.store
    n = len(store.passages)
    narrow = IndexStore.create(
        rag_index.settings,
        model_name="tiny-8d-model",
        dimension=8,
        documents=list(store.documents.values()),
        passages=store.passages,
        vectors=np.random.default_rng(0).normal(size=(n, 8)).astype(np.float32),
        unit_vectors=[np.zeros((0, 8), np.float32)] * n,
        units=[[]] * n,
        sources=store.manifest.sources,
    )
    PgVectorStore(pg_server.dsn, "tiny").sync(store)  # the tables exist, for 384-dimension vectors
    with pytest.raises(IndexMismatchError) as refused:
        PgVectorStore(pg_server.dsn, "narrow").write(narrow)
    message = str(refused.value)
    assert "\n" not in message and "384-dimension" in message and "tiny-8d-model gives 8" in message
    assert PgVectorStore(pg_server.dsn, "narrow").current() is None
    # Loading with another model names the setting, as the FAISS store does.
    other = rag_index.settings.model_copy(update={"embedding_model": "other-model"})
    with pytest.raises(IndexMismatchError) as mismatch:
        PgVectorStore(pg_server.dsn, "tiny").load(other)
    assert "\n" not in str(mismatch.value) and "embedding_model" in str(mismatch.value)
    assert "collection 'tiny'" in str(mismatch.value)


def test_bad_connection_strings_and_servers_are_one_line_errors(
    pg_server: EmbeddedPostgres, rag_index: RagIndex
) -> None:
    with pytest.raises(InputError, match=r"^ICRAG_PG_DSN: not a PostgreSQL connection string"):
        PgVectorStore("this is not a dsn")
    port = free_port()
    unreachable = PgVectorStore(f"postgresql://icrag:s3cret@127.0.0.1:{port}/icrag")
    with pytest.raises(IcragError) as refused:
        unreachable.current()
    message = str(refused.value)
    assert message.startswith(f"cannot connect to PostgreSQL at 127.0.0.1:{port}/icrag: ")
    assert "\n" not in message and "s3cret" not in message
    # LangChain's scheme is accepted; a collection never written is missing, not an error.
    langchain_style = PgVectorStore(pg_server.dsn.replace("postgresql://", "postgresql+psycopg://"), "never-written")
    assert langchain_style.current() is None
    with pytest.raises(IcragError, match=r"no index in PostgreSQL at 127\.0\.0\.1:.*'never-written'"):
        langchain_style.load(rag_index.settings)
    # The pgvector backend without a DSN says which variable to set.
    with pytest.raises(InputError, match="ICRAG_PG_DSN"):
        Pipeline.load(rag_index.settings.model_copy(update={"backend": "pgvector"}), rag_index.pipeline.embedder)


# --- parity with FAISS on the bundled corpus -----------------------------------------------


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> tuple[IndexStore, Settings]:
    """The index of data/: the repository's .icrag/index when it is current, else built with its embedding cache."""
    settings = bundled_settings()
    try:
        return IndexStore.load(settings.index_dir, settings), settings
    except IcragError:  # a clean clone: embedding the corpus takes minutes when the cache is empty too
        settings = settings.model_copy(update={"index_dir": tmp_path_factory.mktemp("bundled") / "index"})
        IndexBuilder(settings, Embedder(settings)).build()
        return IndexStore.load(settings.index_dir, settings), settings


def test_retrieval_and_answers_match_faiss_on_the_bundled_questions(
    pg_server: EmbeddedPostgres, bundled: tuple[IndexStore, Settings], embedder: Embedder
) -> None:
    store, settings = bundled
    questions: list[Question] = [q for name in QUESTION_SETS for q in load_questions(DATA_DIR / name)]
    assert len(questions) == 75
    faiss = Pipeline.from_store(store, settings, embedder)
    postgres_settings = pg_settings(settings, pg_server, "bundled")
    PgVectorStore.from_settings(postgres_settings).write(store)
    pgvector = Pipeline.load(postgres_settings, embedder)
    try:
        assert pgvector.backend is not None and pgvector.backend.name == "pgvector"
        overlaps, same = [], 0
        for question in questions:
            want = [h.passage.passage_id for h in faiss.retrieve(question.question)]
            got = [h.passage.passage_id for h in pgvector.retrieve(question.question)]
            overlaps.append(len(set(want) & set(got)) / len(want))
            same += faiss.ask(question.question).answer == pgvector.ask(question.question).answer
    finally:
        pgvector.close()
    overlap, identical = float(np.mean(overlaps)), same / len(questions)
    print(f"\npgvector vs faiss on {len(questions)} questions: top-5 overlap {overlap:.3f}, same answers {same}")
    assert overlap >= MIN_TOP5_OVERLAP and identical >= MIN_SAME_ANSWERS, (overlap, same)


# --- a streaming replica -------------------------------------------------------------------


def test_a_streaming_replica_serves_reads(pg_server: EmbeddedPostgres, rag_index: RagIndex) -> None:
    question = "How did clinical leaders help partnership boards?"
    with pg_server.replica() as replica:
        assert scalar(replica, "SELECT pg_is_in_recovery()") is True
        # The primary writes after the replica was made; the replica serves it once replayed.
        PgVectorStore(pg_server.dsn, "replicated").write(rag_index.store)
        wait_for_replay(pg_server.dsn, replica.dsn)
        primary = Pipeline.load(pg_settings(rag_index.settings, pg_server, "replicated"), rag_index.pipeline.embedder)
        standby = Pipeline.load(pg_settings(rag_index.settings, replica, "replicated"), rag_index.pipeline.embedder)
        try:
            hits = standby.retrieve(question)
            assert hits and [h.passage.passage_id for h in hits] == [
                h.passage.passage_id for h in primary.retrieve(question)
            ]
            assert standby.ask(question).answer == primary.ask(question).answer
        finally:
            standby.close()
            primary.close()
        with pytest.raises(IcragError, match=r"read-only .*write the index to the primary"):
            PgVectorStore(replica.dsn, "replicated").write(rag_index.store)
        replica_pid = replica.pid
    assert replica_pid is not None and not running(replica_pid)


# --- the command line ----------------------------------------------------------------------


def test_index_build_writes_to_postgres_and_search_reads_it(
    pg_server: EmbeddedPostgres, tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, shared_model: None
) -> None:
    write_files(tmp_path / "data", {"a.md": DOC_A, "b.txt": DOC_B, "c.md": DOC_C})
    environment = {
        "ICRAG_BACKEND": "pgvector",
        "ICRAG_PG_DSN": pg_server.dsn,
        "ICRAG_PG_COLLECTION": "cli",
        "ICRAG_DATA_DIR": str(tmp_path / "data"),
        "ICRAG_INDEX_DIR": str(tmp_path / "index"),
        "ICRAG_CACHE_DIR": str(cache_dir),
        "ICRAG_SHOW_PROGRESS": "false",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    built = icrag("index", "build")
    assert built.exit_code == 0, built.output
    assert "index built" in built.output and "(collection 'cli'): wrote" in built.output
    again = icrag("index", "build")
    assert again.exit_code == 0 and "(collection 'cli'): up to date" in again.output
    found = icrag("search", "night shift fatigue", "--json")
    assert found.exit_code == 0, found.output
    assert "fatigue" in json.loads(found.output)[0]["passage"]["text"]
    monkeypatch.setenv("ICRAG_PG_DSN", "not a dsn")
    refused = icrag("index", "build", "--force")
    assert refused.exit_code == 2 and refused.output.strip().splitlines() == [
        "icrag: error: ICRAG_PG_DSN: not a PostgreSQL connection string (e.g. postgresql://user:password@host:5432/db)"
    ]


def test_bench_with_the_pgvector_backend(
    pg_server: EmbeddedPostgres, tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, shared_model: None
) -> None:
    monkeypatch.setenv("ICRAG_SHOW_PROGRESS", "false")
    data = write_squad(tmp_path / "data")
    servers_before = set(Path(tempfile.gettempdir()).glob("icrag-pg-*"))
    reports = {}
    for label, extra in [
        ("faiss", []),
        ("embedded", ["--backend", "pgvector"]),
        ("dsn", ["--backend", "pgvector", "--pg-dsn", pg_server.dsn]),
    ]:
        out = tmp_path / label
        result = icrag(
            "eval", "bench", "covidqa", "--data", str(data), "--out", str(out), "--cache", str(cache_dir), *extra
        )
        assert result.exit_code == 0, result.output
        reports[label] = json.loads((out / "report.json").read_text())
    # Without a DSN the bench started its own server and stopped it; with one, it wrote there.
    assert set(Path(tempfile.gettempdir()).glob("icrag-pg-*")) == servers_before
    assert PgVectorStore(pg_server.dsn, "bench-covidqa").current() is not None
    assert [reports[k]["backend"] for k in ("faiss", "embedded", "dsn")] == ["faiss", "pgvector", "pgvector"]
    for report in reports.values():
        assert report["systems"]["icrag"]["recall@5"] == 1.0  # two articles: the gold passage is found
    assert reports["embedded"]["settings_hash"] == reports["dsn"]["settings_hash"] != reports["faiss"]["settings_hash"]
    assert "backend pgvector" in (tmp_path / "dsn" / "report.md").read_text()

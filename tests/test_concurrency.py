"""Concurrency: many readers of one pipeline, several writers of one index, readers beside writers.

- 8 threads asking different questions of one loaded Pipeline (as the app's browser tabs share
  it) get exactly the answers one thread gets;
- two ``icrag index add`` processes started at once on one index are serialised by its lock
  file: both documents land, the second add sees the first, and the index loads;
- a reader that loads the index while a writer swaps a new version in gets one whole version,
  old or new, never an error, and never "recovers" the writer's swap from under it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fixtures_app import build_corpus_index
from helpers import DOC_A, DOC_B, DOC_C, ICRAG, BuilderFactory, SettingsFactory, write_files

import index.store as store_module
from index.embedding import Embedder
from index.settings import Settings
from index.store import IndexStore, write_lock
from rag.models import Answer
from rag.pipeline import Pipeline

pytestmark = pytest.mark.slow  # threads and real icrag processes at once

QUESTIONS = [
    "How do leaders of integrated care build a shared purpose?",
    "What does working with power mean for leaders?",
    "How did managers keep more district nurses?",
    "How many papers did the review include?",
    "Which databases were searched and when?",
    "What happens when partners of unequal standing make joint decisions?",
    "What did the reviews find about the US Veterans Health Administration?",
    "How much funding did the integrated care boards receive?",
]
ROUNDS = 3

NOTE_X = "# Pharmacy\n\nCommunity pharmacists joined the weekly team meeting to review medicines of frail patients.\n"
NOTE_Y = "# Volunteers\n\nVolunteers ran a lunch club for isolated older residents in the village hall every Tuesday.\n"


def comparable(answer: Answer) -> dict[str, object]:
    """An answer as data, without its timings (the only part that may differ between runs)."""
    data = answer.model_dump(mode="json")
    data.pop("timings_ms")
    return dict(data)


def test_threads_get_exactly_the_answers_one_thread_gets(tmp_path: Path, cache_dir: Path, embedder: Embedder) -> None:
    settings = build_corpus_index(tmp_path, cache_dir, embedder)
    pipeline = Pipeline.load(settings, embedder)
    expected = {question: comparable(pipeline.ask(question)) for question in QUESTIONS}
    assert any(not a["abstained"] for a in expected.values()) and any(a["abstained"] for a in expected.values())

    start = threading.Barrier(len(QUESTIONS))

    def ask_repeatedly(question: str) -> list[dict[str, object]]:
        start.wait(timeout=60)  # every thread asks at the same moment
        return [comparable(pipeline.ask(question)) for _ in range(ROUNDS)]

    with ThreadPoolExecutor(max_workers=len(QUESTIONS)) as pool:
        results = dict(zip(QUESTIONS, pool.map(ask_repeatedly, QUESTIONS), strict=True))
    for question, got in results.items():
        assert got == [expected[question]] * ROUNDS, question


@pytest.fixture
def two_documents_index(make_settings: SettingsFactory, make_builder: BuilderFactory, tmp_path: Path) -> Settings:
    """An index of two documents; the two notes the writers add are already in the embedding cache."""
    settings = make_settings()
    write_files(settings.data_dir, {"a.md": DOC_A, "b.txt": DOC_B})
    make_builder(settings).build()
    notes = write_files(tmp_path / "incoming", {"x.md": NOTE_X, "y.md": NOTE_Y})
    scratch = settings.model_copy(update={"index_dir": tmp_path / "scratch"})
    make_builder(scratch).add(list(notes.values()))  # so the writers need not load the model
    return settings


def test_two_processes_adding_at_once_are_serialised_by_the_lock(two_documents_index: Settings, tmp_path: Path) -> None:
    settings = two_documents_index
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ICRAG_")}
    environment.update(
        ICRAG_INDEX_DIR=str(settings.index_dir),
        ICRAG_DATA_DIR=str(settings.data_dir),
        ICRAG_CACHE_DIR=str(settings.cache_dir),
        ICRAG_SHOW_PROGRESS="false",
    )
    manifest = settings.index_dir / "manifest.json"
    before = manifest.read_bytes()
    with write_lock(settings.index_dir, timeout=5):  # hold the lock until both writers wait for it
        writers = [
            subprocess.Popen(
                [str(ICRAG), "index", "add", str(tmp_path / "incoming" / name), "--json"],
                env=environment,
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in ("x.md", "y.md")
        ]
        time.sleep(4)  # the command starts in about a second, then blocks on the lock
        assert [w.poll() for w in writers] == [None, None]  # neither can write while the lock is held
        assert manifest.read_bytes() == before
    outputs = [w.communicate(timeout=120) for w in writers]
    for writer, (_, stderr) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, stderr
    reports = [json.loads(stdout) for stdout, _ in outputs]
    assert sorted(r["added"][0] for r in reports) == ["x", "y"]
    assert sorted(r["n_documents"] for r in reports) == [3, 4]  # the second writer saw the first one's document
    assert all(r["seconds"] > 1.0 for r in reports)  # both waited for the lock
    store = IndexStore.load(settings.index_dir, settings)
    assert [d.doc_id for d in store.manifest.documents] == ["a", "b", "x", "y"]
    assert store.faiss_index.ntotal == len(store.passages) == store.manifest.n_passages


def test_reader_waits_for_a_writer_caught_between_its_renames(
    make_settings: SettingsFactory, make_builder: BuilderFactory, tmp_path: Path
) -> None:
    """The writer has moved the old version aside and not yet moved the new one in: a reader must not restore
    the old version under it (that lost the writer's version, or the index); it waits and reads the new one."""
    settings = make_settings()
    write_files(settings.data_dir, {"a.md": DOC_A})
    make_builder(settings).build()
    newer = settings.model_copy(update={"index_dir": tmp_path / "newer"})
    write_files(settings.data_dir, {"c.md": DOC_C})
    make_builder(newer).build()

    index_dir = settings.index_dir
    backup = index_dir.parent / f".{index_dir.name}.old"
    loaded: list[IndexStore] = []
    with write_lock(index_dir, timeout=5):
        index_dir.replace(backup)  # the writer's first rename
        reader = threading.Thread(target=lambda: loaded.append(IndexStore.load(index_dir, settings)))
        reader.start()
        reader.join(timeout=1.5)
        assert reader.is_alive(), "the reader did not wait for the writer"
        assert backup.exists() and not index_dir.exists()  # the writer's state, untouched
        newer.index_dir.replace(index_dir)  # the writer's second rename succeeds
        shutil.rmtree(backup)
    reader.join(timeout=60)
    assert [d.doc_id for d in loaded[0].manifest.documents] == ["a", "c"]


def test_a_reader_outpaced_on_every_attempt_reads_under_the_write_lock(
    make_settings: SettingsFactory, make_builder: BuilderFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that swaps version after version in, faster than a reader reads, makes every lock-free attempt
    see another version: the reader then waits for the write lock and reads holding it, instead of failing."""
    settings = make_settings()
    write_files(settings.data_dir, {"a.md": DOC_A})
    make_builder(settings).build()
    versions = iter(range(1_000_000))
    monkeypatch.setattr(store_module, "index_version", lambda index_dir: next(versions))  # a new version each look
    locked: list[bool] = []
    real_lock = store_module.write_lock

    @contextlib.contextmanager
    def watched_lock(index_dir: Path, timeout: float = 600.0) -> Iterator[None]:
        with real_lock(index_dir, timeout):
            locked.append(True)
            yield

    monkeypatch.setattr(store_module, "write_lock", watched_lock)
    store = IndexStore.load(settings.index_dir, settings)
    assert [d.doc_id for d in store.manifest.documents] == ["a"]
    assert locked == [True]


def test_readers_beside_a_writer_always_load_one_whole_version(
    make_settings: SettingsFactory, make_builder: BuilderFactory, tmp_path: Path
) -> None:
    settings = make_settings()
    write_files(settings.data_dir, {"a.md": DOC_A, "b.txt": DOC_B})
    builder = make_builder(settings)
    builder.build()
    extra = write_files(tmp_path / "incoming", {"c.md": DOC_C})["c.md"]
    builder.add([extra])  # embed once; later adds use the cache
    versions = {("a", "b"), ("a", "b", "c")}

    done = threading.Event()
    seen: list[tuple[str, ...]] = []
    failures: list[BaseException] = []

    def read() -> None:
        while not done.is_set():
            try:
                store = IndexStore.load(settings.index_dir, settings)
                assert len(store.passages) == store.faiss_index.ntotal == store.vectors.shape[0]
                assert sum(e.n_passages for e in store.manifest.documents) == len(store.passages)
            except BaseException as exc:  # any failure of a reader is the test's failure
                failures.append(exc)
                return
            seen.append(tuple(d.doc_id for d in store.manifest.documents))

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for _ in range(8):
            builder.remove(["c"])
            builder.add([extra])
    finally:
        done.set()
        for reader in readers:
            reader.join(timeout=60)
    assert failures == []
    assert seen and set(seen) <= versions
    assert [d.doc_id for d in IndexStore.load(settings.index_dir, settings).manifest.documents] == ["a", "b", "c"]

"""Crash safety: a writer killed (SIGKILL) at any moment never loses or damages the index.

Each test builds a small index, records the answers it gives, then kills a real ``icrag``
process while it writes a new version:

- during embedding, in ``icrag index build`` and in ``icrag index add`` (a fresh embedding cache
  and about 80 generated passages, so the process is killed well before it finishes);
- at three moments inside ``IndexStore.save``, by a small wrapper that runs the real command
  and kills itself (SIGKILL) at that moment: the new version written but not swapped in, the old
  version moved aside but the new one not yet in place, and the new one in place with the
  old one not yet deleted.

Afterwards the index loads, answers exactly as before (or holds the completed change), and a
later build or add succeeds: stale temporary folders and the lock file do not block it.
The swap's narrow window is also recreated by hand and recovered.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import DOC_A, DOC_B, DOC_C, ICRAG, REPO_ROOT, BuilderFactory, SettingsFactory, tree_digest, write_files
from typer.testing import CliRunner

from app.cli import app
from index.builder import IndexBuilder
from index.embedding import Embedder
from index.settings import Settings
from index.store import IndexStore, recover, write_lock
from rag.pipeline import Pipeline

pytestmark = pytest.mark.slow  # real icrag processes killed mid-write

QUESTIONS = [
    "How do leaders build a shared purpose?",
    "night shift fatigue among nurses",
    "shared electronic records and medication lists",
]
#: tqdm's line once the first batch of a fresh embedding run is done.
EMBEDDING_STARTED = re.compile(r"Batches:\s+\d+%.*\|\s*[1-9]\d*/\d+")
NOTES = "# Notes\n\nCommunity pharmacists joined the weekly team meeting to review medicines of frail patients.\n"


@dataclass
class Previous:
    """The index before the crash: its settings, its bytes and the answers it gives."""

    settings: Settings
    digest: dict[str, str]
    answers: list[tuple[str, list[dict[str, object]]]]


def answers(settings: Settings, embedder: Embedder) -> list[tuple[str, list[dict[str, object]]]]:
    """Answer text and citations for each question, from the index on disk."""
    pipeline = Pipeline.from_store(IndexStore.load(settings.index_dir, settings), settings, embedder)
    return [
        (answer.answer, [c.model_dump() for c in answer.citations])
        for answer in (pipeline.ask(question) for question in QUESTIONS)
    ]


@pytest.fixture
def previous(make_settings: SettingsFactory, make_builder: BuilderFactory, embedder: Embedder) -> Previous:
    settings = make_settings()
    write_files(settings.data_dir, {"a.md": DOC_A, "b.txt": DOC_B, "c.md": DOC_C})
    make_builder(settings).build()
    return Previous(settings, tree_digest(settings.index_dir), answers(settings, embedder))


def assert_previous_index(previous: Previous, embedder: Embedder) -> None:
    """The index loads (finishing an interrupted swap), answers as before and is byte-for-byte the old one."""
    settings = previous.settings
    assert answers(settings, embedder) == previous.answers
    assert tree_digest(settings.index_dir) == previous.digest


def leftovers(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.parent.iterdir() if ".tmp-" in p.name or p.name.endswith(".old"))


def generated_corpus(folder: Path, tag: str, n_docs: int = 4, per_doc: int = 20) -> Path:
    """About n_docs * per_doc passages of text no cache has seen (the tag makes it unique)."""
    topics = ["leaders", "nurses", "budget holders", "social workers", "pharmacists", "care navigators"]
    objects = ["joint decisions", "shift rotas", "medication lists", "care plans", "discharge delays", "referrals"]
    files: dict[str, str | bytes] = {}
    for d in range(n_docs):
        sections = []
        for i in range(per_doc):
            n = d * per_doc + i
            sentences = " ".join(
                f"In {tag} district {n} the {topics[(n + k) % 6]} reviewed {objects[(n * k) % 6]} "
                f"during week {k + 1} of the {tag} study."
                for k in range(6)
            )
            sections.append(f"## Site {n}\n{sentences}\n")
        files[f"{tag}-{d}.md"] = f"# Report {d}\n\n" + "\n".join(sections)
    write_files(folder, files)
    return folder


def environment(settings: Settings, cache_dir: Path, progress: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICRAG_")}
    env.update(
        ICRAG_INDEX_DIR=str(settings.index_dir),
        ICRAG_DATA_DIR=str(settings.data_dir),
        ICRAG_CACHE_DIR=str(cache_dir),
        ICRAG_SHOW_PROGRESS="true" if progress else "false",
    )
    return env


def kill_during_embedding(command: list[str], env: dict[str, str], log: Path, timeout: float = 240) -> None:
    """Start a command, SIGKILL it once its first embedding batch is done, and wait for it to die."""
    with open(log, "wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, cwd=log.parent)
    try:
        deadline = time.monotonic() + timeout
        while not EMBEDDING_STARTED.search(log.read_text(errors="replace")):
            assert process.poll() is None, f"finished before it could be killed:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no embedding progress within {timeout}s:\n{log.read_text()}"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, log.read_text()
    assert "index built" not in log.read_text() and "index updated" not in log.read_text()


def test_kill_during_build_leaves_the_previous_index(previous: Previous, tmp_path: Path, embedder: Embedder) -> None:
    settings = previous.settings
    corpus = generated_corpus(tmp_path / "big", "build")
    command = [str(ICRAG), "index", "build", "--data", str(corpus), "--force"]
    kill_during_embedding(command, environment(settings, tmp_path / "fresh-cache"), tmp_path / "build.log")

    assert_previous_index(previous, embedder)
    with write_lock(settings.index_dir, timeout=5):  # the dead writer's lock is free at once
        pass
    write_files(tmp_path / "small", {"a.md": DOC_A, "notes.md": NOTES})
    later = IndexBuilder(settings, embedder=embedder).build(tmp_path / "small", force=True)
    assert later.written and sorted(later.added) == ["a", "notes"]
    assert [d.doc_id for d in IndexStore.load(settings.index_dir, settings).manifest.documents] == ["a", "notes"]
    assert leftovers(settings.index_dir) == []


def test_kill_during_add_leaves_the_previous_index(
    previous: Previous, tmp_path: Path, embedder: Embedder, shared_model: None
) -> None:
    settings = previous.settings
    corpus = generated_corpus(tmp_path / "big", "add")
    command = [str(ICRAG), "index", "add", *sorted(str(p) for p in corpus.iterdir())]
    kill_during_embedding(command, environment(settings, tmp_path / "fresh-cache"), tmp_path / "add.log")

    assert_previous_index(previous, embedder)
    notes = write_files(tmp_path / "later", {"notes.md": NOTES})["notes.md"]
    env = {
        "ICRAG_INDEX_DIR": str(settings.index_dir),
        "ICRAG_DATA_DIR": str(settings.data_dir),
        "ICRAG_CACHE_DIR": str(settings.cache_dir),
    }
    later = CliRunner().invoke(app, ["index", "add", str(notes)], env=env)  # the lock does not block it
    assert later.exit_code == 0, later.output
    assert later.stdout.startswith("index updated: 4 documents")
    assert leftovers(settings.index_dir) == []


#: Runs the real command line, but SIGKILLs itself at one moment inside IndexStore.save.
KILLER = """
import os, signal, sys
from pathlib import Path

import index.store as store

moment = os.environ["KILL_AT"]
kill = lambda: os.kill(os.getpid(), signal.SIGKILL)
if moment == "before-swap":  # every file of the new version written, nothing swapped
    store._swap_in = lambda tmp, index_dir: kill()
elif moment == "between-renames":  # the old version moved aside, the new one not yet in place
    rename = Path.replace

    def replace(self, target):
        if ".tmp-" in self.name:
            kill()
        return rename(self, target)

    Path.replace = replace
elif moment == "before-cleanup":  # the new version in place, the old one not yet deleted
    store._sync_dir = lambda path: kill()
else:
    raise SystemExit(f"unknown moment {moment}")

from app.cli import main

main()
"""


def run_killed_add(previous: Previous, moment: str, tmp_path: Path, embedder: Embedder) -> Path:
    """``icrag index add notes.md`` killed at a moment of the save; returns the added file."""
    settings = previous.settings
    notes = write_files(tmp_path / "later", {"notes.md": NOTES})["notes.md"]
    # Embed the note beforehand, into the session cache the subprocess uses, so it need not load the model.
    scratch = settings.model_copy(update={"index_dir": tmp_path / "scratch"})
    IndexBuilder(scratch, embedder=embedder).add([notes])
    env = environment(settings, settings.cache_dir, progress=False) | {"KILL_AT": moment}
    completed = subprocess.run(
        [sys.executable, "-c", KILLER, "index", "add", str(notes)],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == -signal.SIGKILL, completed.stderr
    return notes


@pytest.mark.parametrize("moment", ["before-swap", "between-renames"])
def test_kill_inside_the_save_keeps_the_previous_index(
    previous: Previous, moment: str, tmp_path: Path, embedder: Embedder
) -> None:
    settings = previous.settings
    notes = run_killed_add(previous, moment, tmp_path, embedder)
    index_dir = settings.index_dir
    backup = index_dir.parent / f".{index_dir.name}.old"
    assert [p for p in leftovers(index_dir) if ".tmp-" in p]  # the dead writer's new version
    if moment == "between-renames":
        assert not index_dir.exists() and backup.exists()  # the narrow window, as the crash left it

    assert_previous_index(previous, embedder)  # loading recovers the old version, byte for byte
    assert not backup.exists()
    report = IndexBuilder(settings, embedder=embedder).add([notes])
    assert report.written and report.added == ["notes"]
    assert leftovers(index_dir) == []  # the next writer removed the stale temporary folder


def test_kill_after_the_swap_keeps_the_new_index(previous: Previous, tmp_path: Path, embedder: Embedder) -> None:
    settings = previous.settings
    run_killed_add(previous, "before-cleanup", tmp_path, embedder)
    backup = settings.index_dir.parent / f".{settings.index_dir.name}.old"
    assert backup.exists()  # the old version, not yet deleted
    store = IndexStore.load(settings.index_dir, settings)
    assert [d.doc_id for d in store.manifest.documents] == ["a", "b", "c", "notes"]  # the completed add
    assert all(answer for answer, _ in answers(settings, embedder))
    with write_lock(settings.index_dir, timeout=5):  # the next writer drops the stale backup
        pass
    assert leftovers(settings.index_dir) == []


def test_hand_made_interrupted_swap_is_recovered(previous: Previous, tmp_path: Path, embedder: Embedder) -> None:
    """The window inside the swap, made by hand: old version renamed to the backup, new one not in place."""
    settings = previous.settings
    index_dir = settings.index_dir
    backup = index_dir.parent / f".{index_dir.name}.old"
    half_written = index_dir.parent / f".{index_dir.name}.tmp-crashed"
    shutil.copytree(index_dir, half_written)
    (half_written / "manifest.json").unlink()  # the manifest is written last
    index_dir.replace(backup)

    recover(index_dir)
    assert tree_digest(index_dir) == previous.digest and not backup.exists()

    index_dir.replace(backup)  # again, this time for loading to find
    index_dir.mkdir()  # an empty folder where the index was
    assert_previous_index(previous, embedder)
    assert not backup.exists()
    with write_lock(index_dir, timeout=5):
        pass
    assert leftovers(index_dir) == []

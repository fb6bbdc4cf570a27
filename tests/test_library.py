"""The library service (index.library): the CLI's and the uploads' rules, the audit log and its reconciliation.

Each test works on a tiny real index (one or two short documents, embedded once per session
thanks to the shared cache) in its own temporary folders.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from datetime import datetime
from pathlib import Path

import pytest
from helpers import DOC_A, DOC_B, SettingsFactory, tree_digest, write_files
from typer.testing import CliRunner, Result

from app.cli import app
from index.builder import IndexBuilder
from index.embedding import Embedder
from index.errors import IndexBusyError, InputError
from index.library import AuditEntry, AuditFile, DocumentSummary, Library, Upload
from index.settings import Settings
from index.store import IndexStore, read_manifest, write_lock

NOTES = b"# Notes\n\nDistrict nurses and social workers planned discharges together every Friday morning.\n"
REPORT_TXT = "Report\n\nCommunity matrons coordinated discharge planning with social workers in three boroughs.\n"
SOURCES_CSV = b'source_id,authors,year,title\na,"Smith J; Jones K",2021,"Leading integrated care"\n'


@pytest.fixture
def settings(make_settings: SettingsFactory, embedder: Embedder) -> Settings:
    """An index of one Markdown document, a.md (document 'a'), built from the data folder."""
    settings = make_settings()
    write_files(settings.data_dir, {"a.md": DOC_A})
    IndexBuilder(settings, embedder=embedder).build()
    return settings


@pytest.fixture
def library(settings: Settings, embedder: Embedder) -> Library:
    return Library(settings, embedder)


def cli(settings: Settings, *args: str) -> Result:
    """``icrag ARGS`` in-process on this test's folders (use with the shared_model fixture)."""
    environment = {
        "ICRAG_INDEX_DIR": str(settings.index_dir),
        "ICRAG_DATA_DIR": str(settings.data_dir),
        "ICRAG_CACHE_DIR": str(settings.cache_dir),
        "ICRAG_SHOW_PROGRESS": "false",
    }
    return CliRunner().invoke(app, list(args), env=environment)


def statuses(library: Library) -> list[tuple[str, str, str]]:
    return [(e.action, e.status, e.role) for e in library.audit_log()]


# --- the command line -------------------------------------------------------------------------


def test_cli_add_refuses_a_file_whose_document_id_another_file_holds(
    settings: Settings, library: Library, tmp_path: Path, shared_model: None
) -> None:
    first = write_files(tmp_path / "in", {"report.md": "# Report\n\n" + REPORT_TXT})["report.md"]
    assert cli(settings, "index", "add", str(first)).exit_code == 0
    before = tree_digest(settings.index_dir)

    other = write_files(tmp_path / "later", {"report.txt": REPORT_TXT})["report.txt"]
    result = cli(settings, "index", "add", str(other))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"icrag: error: {other}: the index already holds document 'report' from report.md; rename the file, "
        "or remove that document first (icrag index remove report)"
    ]
    assert tree_digest(settings.index_dir) == before
    assert statuses(library)[-2:] == [("add", "started", "cli"), ("add", "refused", "cli")]

    # Two files of one command that are one document are refused too, before anything is read.
    twins = write_files(tmp_path / "twins", {"c.md": DOC_B, "c.txt": DOC_B})
    result = cli(settings, "index", "add", str(twins["c.md"]), str(twins["c.txt"]))
    assert result.exit_code == 2 and "is document 'c' too" in result.stderr
    assert tree_digest(settings.index_dir) == before

    # A file of the same name (from anywhere) replaces the document, as before.
    newer = write_files(tmp_path / "newer", {"report.md": "# Report\n\n" + REPORT_TXT.replace("three", "four")})
    replaced = cli(settings, "index", "add", str(newer["report.md"]))
    assert replaced.exit_code == 0, replaced.output
    assert replaced.stdout.startswith("index updated: 2 documents")


def test_cli_add_sources_csv_persists_the_merge_and_updates_citations(
    settings: Settings, tmp_path: Path, shared_model: None
) -> None:
    given = write_files(tmp_path / "in", {"sources.csv": SOURCES_CSV})["sources.csv"]
    result = cli(settings, "index", "add", str(given))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["sources.csv: 1 publication added."]
    merged = (settings.data_dir / "sources.csv").read_text(encoding="utf-8")
    assert '"a","Smith J; Jones K","2021","Leading integrated care"' in merged
    store = IndexStore.load(settings.index_dir, settings)
    assert {p.source.title for p in store.passages} == {"Leading integrated care"}  # what citations carry
    assert store.manifest.sources["a"].authors == "Smith J; Jones K"

    again = cli(settings, "index", "add", str(given), "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == {"report": None, "sources": {"added": [], "updated": [], "unchanged": ["a"]}}
    assert (settings.data_dir / "sources.csv").read_text(encoding="utf-8") == merged


# --- uploads ----------------------------------------------------------------------------------


def test_add_uploads_is_all_or_nothing_when_one_file_cannot_be_read(settings: Settings, library: Library) -> None:
    write_files(settings.data_dir, {"sources.csv": b"source_id,title\nb,Old title\n"})
    index_before, data_before = tree_digest(settings.index_dir), tree_digest(settings.data_dir)
    batch = [
        Upload(name="sources.csv", data=SOURCES_CSV),
        Upload(name="notes.md", data=NOTES),
        Upload(name="C:\\Users\\me\\scan (1).txt", data=b"GIF89a\x00\x01\x02\x00\x00binary\x00"),
    ]
    with pytest.raises(InputError) as refused:
        library.add_uploads(batch, role="curator")
    assert str(refused.value) == "scan-1.txt: binary content in a text file"  # its clean name, no temporary path
    assert tree_digest(settings.index_dir) == index_before
    assert tree_digest(settings.data_dir) == data_before
    assert statuses(library) == [("add", "started", "curator"), ("add", "refused", "curator")]
    assert library.audit_log()[-1].detail == str(refused.value)

    change = library.add_uploads(batch[:2], role="curator")  # without the unreadable file all of it goes in
    assert change.report is not None and change.report.added == ["notes"]
    assert change.sources is not None and change.sources.added == ["a"]
    assert (library.uploads_dir / "notes.md").read_bytes() == NOTES
    store = IndexStore.load(settings.index_dir, settings)
    assert {p.source.title for p in store.passages if p.source_id == "a"} == {"Leading integrated care"}


def test_two_uploads_of_one_batch_that_are_one_document_are_refused(settings: Settings, library: Library) -> None:
    before = tree_digest(settings.index_dir)
    for names, problem in [
        (("a b.md", "a-b.md"), "a-b.md: a b.md, sent with it, is document 'a-b' too; rename one"),
        (("report.md", "report.txt"), "report.txt: report.md, sent with it, is document 'report' too; rename one"),
        (("notes.md", "../notes.md"), "notes.md: given twice; send it once"),
        (("a.md",), "a.md: the index already holds document 'a' from a.md; rename the file to add it"),
    ]:
        with pytest.raises(InputError, match=re.escape(problem)):
            library.add_uploads([Upload(name=name, data=NOTES) for name in names], role="app")
    assert tree_digest(settings.index_dir) == before
    assert not library.uploads_dir.exists()


def test_a_sources_upload_before_any_index_leaves_a_folder_the_first_add_accepts(
    make_settings: SettingsFactory, embedder: Embedder
) -> None:
    library = Library(make_settings(), embedder)
    change = library.add_uploads([Upload(name="Sources.CSV", data=SOURCES_CSV)], role="app")
    assert change.report is None and change.sources is not None and change.sources.added == ["a"]
    assert [e.action for e in library.audit_log()] == ["sources", "sources"]
    assert library.documents() == []
    added = library.add_uploads([Upload(name="a.md", data=DOC_A.encode())], role="app").report
    assert added is not None and added.added == ["a"]  # the audit-only folder is no foreign folder
    assert {p.source.title for p in IndexStore.load(library.index_dir, library.settings).passages} == {
        "Leading integrated care"
    }


# --- the audit log ----------------------------------------------------------------------------


def test_audit_log_records_an_add_and_a_remove_with_checksums(settings: Settings, library: Library) -> None:
    library.add_uploads([Upload(name="../Team notes!.md", data=NOTES)], role="curator")
    library.remove(["Team-notes"], role="admin")
    assert not (library.uploads_dir / "Team-notes.md").exists()

    entries = library.audit_log()
    assert [(e.action, e.status, e.role) for e in entries] == [
        ("add", "started", "curator"),
        ("add", "done", "curator"),
        ("remove", "started", "admin"),
        ("remove", "done", "admin"),
    ]
    add, added, remove, removed = entries
    assert add.files == [AuditFile(name="Team-notes.md", sha256=hashlib.sha256(NOTES).hexdigest(), bytes=len(NOTES))]
    assert add.doc_ids == ["Team-notes"] and added.detail == "added Team-notes"
    assert remove.doc_ids == ["Team-notes"] and removed.detail == "removed Team-notes; deleted uploaded Team-notes.md"
    assert add.change == added.change != remove.change == removed.change
    for entry in entries:
        assert datetime.fromisoformat(entry.time).utcoffset() is not None
    lines = library.audit_path.read_text(encoding="utf-8").splitlines()
    assert [AuditEntry.model_validate_json(line) for line in lines] == entries  # one JSON object a line
    assert "District nurses" not in library.audit_path.read_text(encoding="utf-8")  # never file contents
    assert library.audit_path == settings.index_dir / "audit.jsonl"


def test_a_refused_upload_logs_started_and_refused(settings: Settings, library: Library) -> None:
    small = Library(settings.model_copy(update={"max_file_mb": 0.0001}), library.builder.embedder)
    with pytest.raises(InputError, match=re.escape("big.md: file is 0.0 MB, over the 0.0001 MB limit")):
        small.add_uploads([Upload(name="big.md", data=NOTES * 4)], role="app")
    started, refused = library.audit_log()
    assert (started.status, refused.status, refused.change) == ("started", "refused", started.change)
    assert started.files[0].name == "big.md" and started.files[0].bytes == len(NOTES * 4)
    assert refused.detail == "big.md: file is 0.0 MB, over the 0.0001 MB limit"
    assert not library.uploads_dir.exists()


def test_reconcile_marks_changes_a_killed_process_left_as_interrupted(settings: Settings, library: Library) -> None:
    checksum = read_manifest(settings.index_dir).documents[0].checksum

    def dangling(change: str, name: str, sha256: str) -> AuditEntry:
        file = AuditFile(name=name, sha256=sha256, bytes=10)
        return AuditEntry(
            time="2025-01-01T00:00:00+00:00", change=change, role="curator", action="add", status="started",
            files=[file], doc_ids=[Path(name).stem],
        )  # fmt: skip

    settings.index_dir.joinpath("audit.jsonl").write_text(
        dangling("killed-before", "x.md", "0" * 64).model_dump_json()
        + "\n"
        + dangling("killed-after", "a.md", checksum).model_dump_json()
        + "\n",
        encoding="utf-8",
    )
    before = tree_digest(settings.index_dir)
    marked = library.reconcile()
    assert [(e.change, e.status, e.role, e.detail) for e in marked] == [
        ("killed-before", "interrupted", "curator", "the index holds the previous version"),
        ("killed-after", "interrupted", "curator", "the index holds the change"),
    ]
    assert library.audit_log()[2:] == marked
    assert library.reconcile() == []  # each change is marked once
    assert tree_digest(settings.index_dir) == before

    # A change reconciles before it starts: a dangling line is marked before the new change's lines.
    with library.audit_path.open("a", encoding="utf-8") as log:
        log.write(dangling("killed-again", "y.md", "1" * 64).model_dump_json() + "\n")
    library.add_uploads([Upload(name="notes.md", data=NOTES)], role="app")
    tail = [(e.change, e.status) for e in library.audit_log()[-3:]]
    assert tail[0] == ("killed-again", "interrupted") and [s for _, s in tail[1:]] == ["started", "done"]


# --- documents and the lock -------------------------------------------------------------------


def test_documents_lists_the_manifest(settings: Settings, library: Library, tmp_path: Path) -> None:
    library.add_uploads([Upload(name="notes.md", data=NOTES)], role="app")
    passages = {e.doc_id: e.n_passages for e in read_manifest(settings.index_dir).documents}
    assert library.documents() == [
        DocumentSummary(doc_id="a", kind="markdown", passages=passages["a"], path="a.md"),
        DocumentSummary(doc_id="notes", kind="markdown", passages=passages["notes"], path="notes.md"),
    ]
    assert passages["a"] == 2 and passages["notes"] == 1
    empty = Library(settings.model_copy(update={"index_dir": tmp_path / "none"}), library.builder.embedder)
    assert empty.documents() == []


def test_the_write_lock_lets_its_holder_in_again_and_no_other_thread(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    outcome: list[str] = []

    def other_thread() -> None:
        try:
            with write_lock(index_dir, timeout=0.3):
                outcome.append("entered")
        except IndexBusyError:
            outcome.append("busy")

    with write_lock(index_dir, timeout=1), write_lock(index_dir, timeout=1):  # the library around its builder
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert outcome == ["busy"]
    other_thread()
    assert outcome == ["busy", "entered"]

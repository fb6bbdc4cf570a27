"""The library: adding and removing evidence with every rule that protects it, for the CLI, the app and the API.

Front ends only collect files and show outcomes; the rules live here, so ``icrag index add``,
the Library page and the HTTP API cannot drift apart:

- an upload gets a safe file name (no folders, no '..', ASCII) and must fit ``max_file_mb``;
- a file never takes over a document id that another file holds (report.md after report.pdf);
- uploads are kept under ``data_dir/uploads`` only once the index accepted them, and a batch of
  uploads goes in whole or not at all;
- a ``sources.csv`` is merged column by column into ``data_dir/sources.csv``, and the index's
  publication details follow it;
- every change is recorded in ``index_dir/audit.jsonl``: a ``started`` line before anything is
  touched, then ``done``, ``refused`` or ``failed``; :meth:`Library.reconcile` marks changes a
  killed process left without an ending as ``interrupted``.

A change holds the index's write lock from its ``started`` line to its ending, so a ``started``
line without an ending seen under the lock belongs to a process that died.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import logging
import os
import re
import stat
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Literal

from pydantic import Field, ValidationError

from index.builder import BuildReport, IndexBuilder
from index.embedding import Embedder
from index.errors import IndexMissingError, InputError, one_line
from index.loaders import (
    SOURCE_COLUMNS,
    SOURCES_FILE,
    SUPPORTED_SUFFIXES,
    doc_id_for,
    parse_sources,
    read_csv_table,
    read_sources,
)
from index.models import DocKind, DocumentEntry, Manifest, Record, SourceInfo
from index.settings import Settings
from index.store import AUDIT_FILE, read_manifest, write_lock

logger = logging.getLogger(__name__)

#: Folder of ``data_dir`` where accepted uploads are kept, so ``icrag index build`` finds them again.
UPLOADS_FOLDER = "uploads"
_MAX_STEM = 100
_BYTES_PER_MB = 1024 * 1024
_RENAME_OR_REMOVE = "rename the file or remove that document first"
_RENAME = "rename the file to add it"

AuditAction = Literal["add", "remove", "sources"]
AuditStatus = Literal["started", "done", "refused", "failed", "interrupted"]


class Upload(Record):
    """A file given by name and bytes (the app's and the API's uploads)."""

    name: str = Field(description="File name as the user gave it; folders in it are dropped.")
    data: bytes = Field(repr=False, description="The file's bytes.")


class AuditFile(Record):
    """One file of a change, identified without its content."""

    name: str = Field(description="Stored name of an upload, or the path given on the command line.")
    sha256: str = Field(description="SHA-256 of its bytes; empty for a file that could not be read.")
    bytes: int = Field(description="Its size.")


class AuditEntry(Record):
    """One line of the audit log; the lines of one change share ``change``."""

    time: str = Field(description="UTC time, ISO-8601.")
    change: str = Field(description="Id shared by the lines of one change.")
    role: str = Field(description="Who made it: 'cli', 'app', or an API role such as 'curator'.")
    action: AuditAction
    status: AuditStatus
    files: list[AuditFile] = Field(default_factory=list, description="The files given (on 'started' lines).")
    doc_ids: list[str] = Field(default_factory=list, description="Documents the change means to add or remove.")
    detail: str = Field("", description="One line: what changed, or why it was refused or failed.")


class SourcesMerge(Record):
    """What merging a ``sources.csv`` changed, by source_id."""

    added: list[str]
    updated: list[str]
    unchanged: list[str]

    @property
    def changed(self) -> bool:
        """Whether any publication was added or updated."""
        return bool(self.added or self.updated)

    def summary(self, name: str) -> str:
        """One line for the user, e.g. 'sources.csv: 2 publications added, 1 updated.'"""
        if not self.changed:
            listed = f"{len(self.unchanged)} publication(s)"
            return f"{name}: nothing changed; its {listed} are already listed with these details."
        parts = [f"{len(ids)} {what}" for ids, what in ((self.added, "added"), (self.updated, "updated")) if ids]
        number, rest = ", ".join(parts).split(" ", 1)
        noun = "publication" if number == "1" else "publications"
        return f"{name}: {number} {noun} {rest}."


class DocumentSummary(Record):
    """One indexed document, as the manifest lists it."""

    doc_id: str
    kind: DocKind
    passages: int
    path: str


class LibraryChange(Record):
    """What one change did: the evidence added or removed, and the publications merged."""

    report: BuildReport | None = None
    sources: SourcesMerge | None = None


def base_name(name: str) -> str:
    """An uploaded file's name without any folders, as the user knows the file."""
    return PureWindowsPath(PurePosixPath(name).name).name  # drops '/' and '\\' folders alike


def safe_filename(name: str) -> str:
    """A file name fit to store: no folders, no '..', only letters, digits, '.', '_' and '-'.

    Raises InputError when the name has no supported evidence type.
    """
    base = base_name(name)
    ascii_base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()  # 'été' -> 'ete'
    stem, dot, suffix = ascii_base.rpartition(".")
    suffix = suffix.lower()
    if not dot or f".{suffix}" not in SUPPORTED_SUFFIXES:
        raise InputError(name or "upload", f"unsupported file type (supported: {', '.join(SUPPORTED_SUFFIXES)})")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem)
    stem = re.sub(r"\.{2,}", ".", stem).strip("-._")[:_MAX_STEM].rstrip("-._")
    return f"{stem or 'upload'}.{suffix}"


def is_sources_file(name: str) -> bool:
    """Whether a file is publication details (``sources.csv``, any case) to merge, not evidence to index."""
    return base_name(name).lower() == SOURCES_FILE


@dataclass(frozen=True)
class _Checked:
    """An evidence upload that passed the name, size and id checks."""

    name: str  # as the user knows it
    stored: str  # its safe name under the uploads folder
    doc_id: str
    sha256: str
    data: bytes


@dataclass(frozen=True)
class _SourcesPlan:
    """A sources.csv merge worked out but not yet written."""

    merged: bytes
    before: bytes | None
    merge: SourcesMerge


class Library:
    """The one place that changes an index's evidence; one instance per settings object."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.builder = IndexBuilder(settings, embedder)

    @property
    def index_dir(self) -> Path:
        """Folder of the index this library changes."""
        return self.settings.index_dir

    @property
    def uploads_dir(self) -> Path:
        """Where accepted uploads are kept."""
        return self.settings.data_dir / UPLOADS_FOLDER

    @property
    def audit_path(self) -> Path:
        """The audit log: inside the index folder, carried from one index version to the next."""
        return self.index_dir / AUDIT_FILE

    # --- changes ---------------------------------------------------------------------------

    def add_uploads(self, uploads: Sequence[Upload], role: str) -> LibraryChange:
        """Add uploaded files: a ``sources.csv`` is merged first, evidence is indexed all or nothing.

        Every name, size and document id is checked before anything is written; a file that
        cannot be read raises InputError naming it as uploaded (its clean name) and leaves the
        index and the data folder as they were.
        """
        files = [self._upload_file(upload) for upload in uploads]
        doc_ids = [doc_id_for(Path(f.name)) for f in files if not is_sources_file(f.name) and _supported(f.name)]
        return self._change(role, _action(files), files, doc_ids, lambda: self._add_uploads(uploads))

    def add_paths(self, paths: Sequence[Path], role: str) -> LibraryChange:
        """Add files by path (``icrag index add``): the same id rule and sources.csv merge as uploads.

        Unlike uploads, a batch keeps the files it can read and reports the others, as
        ``icrag index build`` does.
        """
        paths = list(dict.fromkeys(paths))
        files = [self._path_file(path) for path in paths]
        doc_ids = [doc_id_for(path) for path in paths if not is_sources_file(path.name) and _supported(path.name)]
        return self._change(role, _action(files), files, doc_ids, lambda: self._add_paths(paths))

    def remove(self, doc_ids: Sequence[str], role: str) -> LibraryChange:
        """Remove documents from the index, and their files when they were uploaded here."""
        wanted = list(dict.fromkeys(doc_ids))
        return self._change(role, "remove", [], wanted, lambda: self._remove(wanted))

    # --- reading ---------------------------------------------------------------------------

    def documents(self) -> list[DocumentSummary]:
        """The indexed documents from the manifest; none when there is no index yet."""
        try:
            manifest = read_manifest(self.index_dir)
        except IndexMissingError:
            return []
        return [
            DocumentSummary(doc_id=e.doc_id, kind=e.kind, passages=e.n_passages, path=e.path)
            for e in manifest.documents
        ]

    def audit_log(self) -> list[AuditEntry]:
        """Every entry of the audit log, oldest first; a line that is not an entry is skipped with a warning."""
        try:
            data = self.audit_path.read_bytes()
        except FileNotFoundError:
            return []
        entries = []
        for number, line in enumerate(data.decode("utf-8", "replace").split("\n"), 1):
            if not line.strip():
                continue
            try:
                entries.append(AuditEntry.model_validate_json(line))
            except ValidationError:
                logger.warning("%s: line %d is not an audit entry; skipped", self.audit_path, number)
        return entries

    def reconcile(self) -> list[AuditEntry]:
        """Mark changes that a killed process left without an ending as ``interrupted``; the lines added.

        Runs under the write lock, where no live change can be half done. Each line says whether
        the index holds the change or the version before it.
        """
        if not self.audit_path.exists():
            return []
        with write_lock(self.index_dir):
            return self._reconcile_locked()

    # --- the audit log ---------------------------------------------------------------------

    def _change(
        self,
        role: str,
        action: AuditAction,
        files: list[AuditFile],
        doc_ids: list[str],
        work: Callable[[], tuple[LibraryChange, str]],
    ) -> LibraryChange:
        """Run one change under the write lock, between its ``started`` line and its ending.

        A change that never gets the lock (another writer for too long, a folder that is no
        index) touched nothing and is not logged: its error goes straight to the caller.
        """
        clock = time.perf_counter()
        with write_lock(self.index_dir):
            self._reconcile_locked()
            started = AuditEntry(
                time=_now(),
                change=uuid.uuid4().hex,
                role=role,
                action=action,
                status="started",
                files=files,
                doc_ids=doc_ids,
            )
            self._append(started)
            try:
                change, detail = work()
            except InputError as exc:
                self._append(_ending(started, "refused", str(exc)))
                raise
            except BaseException as exc:
                self._append(_ending(started, "failed", f"{type(exc).__name__}: {exc}"))
                raise
            self._append(_ending(started, "done", detail))
        if change.report is not None:
            change.report.seconds = time.perf_counter() - clock  # waiting for the lock included
        return change

    def _append(self, entry: AuditEntry) -> None:
        """Append one line with one write to a file opened for appending, then sync it.

        O_APPEND makes each write land whole at the end, so lines of several processes never
        interleave; a line a crash cut short is ended first, so it spoils only itself.
        """
        self.index_dir.mkdir(parents=True, exist_ok=True)
        line = (entry.model_dump_json() + "\n").encode()
        fd = os.open(self.audit_path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line
            if os.write(fd, line) != len(line):
                raise OSError(f"{self.audit_path}: short write to the audit log")
            os.fsync(fd)
        finally:
            os.close(fd)

    def _reconcile_locked(self) -> list[AuditEntry]:
        """reconcile() for a caller that holds the write lock."""
        entries = self.audit_log()
        ended = {e.change for e in entries if e.status != "started"}
        dangling = [e for e in entries if e.status == "started" and e.change not in ended]
        if not dangling:
            return []
        manifest = self._manifest()
        added = []
        for started in dangling:
            entry = _ending(started, "interrupted", self._interrupted_detail(started, manifest))
            self._append(entry)
            added.append(entry)
            logger.warning("change %s (%s by %s) was interrupted: %s", started.change, started.action, started.role,
                           entry.detail)  # fmt: skip
        return added

    def _interrupted_detail(self, started: AuditEntry, manifest: Manifest | None) -> str:
        """Whether the index holds an interrupted change, from its manifest's ids and checksums."""
        held = {e.doc_id: e.checksum for e in manifest.documents} if manifest else {}
        if started.action == "remove":
            gone = [d for d in started.doc_ids if d not in held]
            return _holds(len(gone), len(started.doc_ids), gone)
        wanted = {
            doc_id_for(Path(f.name)): f.sha256
            for f in started.files
            if not is_sources_file(f.name) and _supported(f.name)
        }
        if wanted:
            present = [d for d, sha in wanted.items() if sha and held.get(d) == sha]
            return _holds(len(present), len(wanted), present)
        if manifest is None:
            return "there is no index; data_dir/sources.csv is read by the first build"
        try:
            current = read_sources(self.settings.data_dir / SOURCES_FILE)
        except InputError as exc:
            return f"data_dir/sources.csv cannot be read ({exc.problem})"
        agree = all((current.get(sid) or SourceInfo(source_id=sid)) == s for sid, s in manifest.sources.items())
        if agree:
            return "the index cites the publication details of data_dir/sources.csv"
        return "the index does not cite data_dir/sources.csv as it is now; upload the sources.csv again"

    # --- adding ----------------------------------------------------------------------------

    def _add_uploads(self, uploads: Sequence[Upload]) -> tuple[LibraryChange, str]:
        if not uploads:
            raise InputError("upload", "no files given")
        sources = [u for u in uploads if is_sources_file(u.name)]
        if len(sources) > 1:
            raise InputError(base_name(sources[1].name), "given twice; send one sources.csv at a time")
        plan = None
        if sources:
            self._check_size(safe_filename(sources[0].name), len(sources[0].data))
            plan = self._sources_plan(base_name(sources[0].name), sources[0].data)
        manifest = self._manifest()
        held = {e.doc_id: e for e in manifest.documents} if manifest else {}
        checked = self._checked_uploads([u for u in uploads if not is_sources_file(u.name)], held)
        kept = [c.doc_id for c in checked if self._kept_unchanged(c, held.get(c.doc_id))]
        fresh = [c for c in checked if c.doc_id not in kept]

        def index() -> BuildReport | None:
            if not fresh:
                return None
            with tempfile.TemporaryDirectory(prefix="icrag-upload-") as staging:
                # Each file under its clean name: problems name it as the user knows it.
                names = {Path(staging) / c.stored: c.stored for c in fresh}
                for c in fresh:
                    (Path(staging) / c.stored).write_bytes(c.data)
                return self.builder.add(list(names), strict=True, names=names)

        report = self._apply(plan, index)
        for c in fresh:
            _write_atomically(self.uploads_dir / c.stored, c.data)
        if checked:
            report = self._with_unchanged(report, kept)
        change = LibraryChange(report=report, sources=plan.merge if plan else None)
        return change, _describe(change, set(held), sources[0].name if sources else SOURCES_FILE)

    def _add_paths(self, paths: Sequence[Path]) -> tuple[LibraryChange, str]:
        if not paths:
            raise InputError("index add", "no files given")
        for path in paths:
            if path.is_dir():
                raise InputError(
                    path, "is a folder, not a regular file; to index a folder use `icrag index build --data FOLDER`"
                )
        sources = [p for p in paths if is_sources_file(p.name)]
        if len(sources) > 1:
            raise InputError(sources[1], "a second sources.csv; give one at a time")
        plan = self._sources_plan(str(sources[0]), self._read_given(sources[0])) if sources else None
        evidence = [p for p in paths if not is_sources_file(p.name)]
        manifest = self._manifest()
        held = {e.doc_id: e for e in manifest.documents} if manifest else {}
        _refuse_path_collisions(evidence, held)
        report = self._apply(plan, lambda: self.builder.add(evidence) if evidence else None)
        change = LibraryChange(report=report, sources=plan.merge if plan else None)
        return change, _describe(change, set(held), sources[0].name if sources else SOURCES_FILE)

    def _checked_uploads(self, uploads: Sequence[Upload], held: dict[str, DocumentEntry]) -> list[_Checked]:
        """Names, sizes and document ids of evidence uploads, all checked before anything is written.

        An upload may replace an earlier upload stored under the same name, never another
        file's document. Files named alike (report.pdf and report.md, or 'a b.md' and 'a-b.md',
        stored alike) share a document id: one would replace the other in the index, and removing
        the document would delete only the last one's file, the other coming back with the next build.
        """
        checked: dict[str, _Checked] = {}
        for upload in uploads:
            stored = safe_filename(upload.name)
            self._check_size(stored, len(upload.data))
            name, doc_id = base_name(upload.name), doc_id_for(Path(stored))
            holds = f"the index already holds document '{doc_id}' from"
            entry, earlier = held.get(doc_id), checked.get(doc_id)
            if earlier is not None:  # two files of this batch; the earlier one may be indexed already
                if earlier.name == name:
                    raise InputError(name, "given twice; send it once")
                if entry is not None and (entry.path, entry.checksum) == (earlier.stored, earlier.sha256):
                    raise InputError(name, f"{holds} {earlier.name}; {_RENAME_OR_REMOVE}")
                raise InputError(name, f"{earlier.name}, sent with it, is document '{doc_id}' too; rename one")
            if entry is not None and not (entry.path == stored and (self.uploads_dir / stored).is_file()):
                uploaded = (self.uploads_dir / entry.path).is_file()
                raise InputError(name, f"{holds} {entry.path}; {_RENAME_OR_REMOVE if uploaded else _RENAME}")
            sha256 = hashlib.sha256(upload.data).hexdigest()
            checked[doc_id] = _Checked(name, stored, doc_id, sha256, upload.data)
        return list(checked.values())

    def _kept_unchanged(self, item: _Checked, entry: DocumentEntry | None) -> bool:
        """Whether the index and the uploads folder already hold exactly this upload (nothing to read again)."""
        if entry is None or (entry.path, entry.checksum) != (item.stored, item.sha256):
            return False
        kept = self.uploads_dir / item.stored
        try:
            return hashlib.sha256(kept.read_bytes()).hexdigest() == item.sha256
        except OSError:
            return False

    def _with_unchanged(self, report: BuildReport | None, unchanged: list[str]) -> BuildReport:
        """The report of the files indexed, with the uploads that were already indexed as they are."""
        if report is None:
            manifest = self._manifest()
            report = BuildReport(
                index_dir=str(self.index_dir),
                n_documents=len(manifest.documents) if manifest else 0,
                n_passages=manifest.n_passages if manifest else 0,
            )
        report.unchanged = [*unchanged, *report.unchanged]
        return report

    def _check_size(self, name: str, size: int) -> None:
        """InputError when a file is over the size limit; checked before anything is written."""
        limit = self.settings.max_file_mb
        if size > limit * _BYTES_PER_MB:
            raise InputError(name, f"file is {size / 1e6:.1f} MB, over the {limit:g} MB limit")

    def _read_given(self, path: Path) -> bytes:
        """The bytes of a file named on the command line, refused (not read) when it is no regular file or too big."""
        try:
            status = path.stat()
        except FileNotFoundError:
            raise InputError(path, "no such file") from None
        if not stat.S_ISREG(status.st_mode):
            raise InputError(path, "not a regular file")
        self._check_size(str(path), status.st_size)
        return path.read_bytes()

    # --- publication details ---------------------------------------------------------------

    def _sources_plan(self, name: str, data: bytes) -> _SourcesPlan:
        """The data folder's sources.csv with an uploaded one merged in, and what that changes.

        An uploaded row adds a publication or, for a source_id already listed, sets the columns
        the upload has and keeps the others; rows and columns the upload does not mention stay.
        """
        header, rows = _uploaded_table(name, data)
        path = self.settings.data_dir / SOURCES_FILE
        before = path.read_bytes() if path.exists() else None
        current = parse_sources(path, before) if before is not None else {}
        merged = _merged_sources_csv(path, before, header, rows)
        after = parse_sources(path, merged)
        uploaded = list(dict.fromkeys(row["source_id"].strip() for row in rows if (row.get("source_id") or "").strip()))
        merge = SourcesMerge(
            added=[sid for sid in uploaded if sid not in current],
            updated=[sid for sid in uploaded if sid in current and current[sid] != after[sid]],
            unchanged=[sid for sid in uploaded if current.get(sid) == after[sid]],
        )
        return _SourcesPlan(merged=merged, before=before, merge=merge)

    def _apply(self, plan: _SourcesPlan | None, index: Callable[[], BuildReport | None]) -> BuildReport | None:
        """Write a sources merge, then change the index; the data folder's sources.csv is put back if that fails.

        The builder reads publication details only from ``data_dir/sources.csv``: evidence added
        with it is indexed citing them, and otherwise the index is brought up to date alone.
        """
        if plan is None or not plan.merge.changed:
            return index()
        path = self.settings.data_dir / SOURCES_FILE
        _write_atomically(path, plan.merged)
        try:
            report = index()
            if (report is None or not report.written) and (self.index_dir / "manifest.json").exists():
                self.builder.update_sources()  # with no index yet, the first build reads the file
        except BaseException:
            if plan.before is None:
                path.unlink(missing_ok=True)
            else:
                _write_atomically(path, plan.before)
            raise
        return report

    # --- removing --------------------------------------------------------------------------

    def _remove(self, doc_ids: list[str]) -> tuple[LibraryChange, str]:
        if not doc_ids:
            raise InputError("index remove", "no document ids given")
        manifest = self._manifest()
        entries = {e.doc_id: e for e in manifest.documents} if manifest else {}
        report = self.builder.remove(doc_ids)
        deleted = []
        for doc_id in doc_ids:
            entry = entries.get(doc_id)
            uploaded = self.uploads_dir / entry.path if entry else None
            if uploaded is not None and uploaded.is_file() and doc_id_for(uploaded) == doc_id:
                uploaded.unlink()
                deleted.append(uploaded.name)
        detail = f"removed {', '.join(doc_ids)}"
        if deleted:
            detail += f"; deleted uploaded {', '.join(deleted)}"
        return LibraryChange(report=report), detail

    # --- helpers ---------------------------------------------------------------------------

    def _manifest(self) -> Manifest | None:
        """The index's manifest, or None when there is no index yet."""
        try:
            return read_manifest(self.index_dir)
        except IndexMissingError:
            return None

    def _upload_file(self, upload: Upload) -> AuditFile:
        """An upload as the audit log records it: its clean name where it has one."""
        try:
            name = safe_filename(upload.name)
        except InputError:
            name = base_name(upload.name) or "upload"
        return AuditFile(name=name, sha256=hashlib.sha256(upload.data).hexdigest(), bytes=len(upload.data))

    def _path_file(self, path: Path) -> AuditFile:
        """A file named on the command line as the audit log records it; only regular files in the limit are read."""
        try:
            status = path.stat()
        except OSError:
            return AuditFile(name=str(path), sha256="", bytes=0)
        if not stat.S_ISREG(status.st_mode):  # a FIFO would block, a device never ends
            return AuditFile(name=str(path), sha256="", bytes=0)
        digest = ""
        if status.st_size <= self.settings.max_file_mb * _BYTES_PER_MB:
            with contextlib.suppress(OSError):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return AuditFile(name=str(path), sha256=digest, bytes=status.st_size)


def _refuse_path_collisions(paths: Sequence[Path], held: dict[str, DocumentEntry]) -> None:
    """A file may replace the document of a file with its name, never another file's.

    Files the builder will refuse anyway (missing, unsupported) are left to it, so they get
    their usual one-line problem.
    """
    seen: dict[str, Path] = {}
    for path in paths:
        if not _supported(path.name) or not path.exists():
            continue
        doc_id = doc_id_for(path)
        earlier = seen.setdefault(doc_id, path)
        if earlier is not path:
            raise InputError(path, f"{earlier} is document '{doc_id}' too; add one of them under another name")
        entry = held.get(doc_id)
        if entry is not None and entry.path != path.name:
            raise InputError(
                path,
                f"the index already holds document '{doc_id}' from {entry.path}; rename the file, "
                f"or remove that document first (icrag index remove {doc_id})",
            )


def _action(files: list[AuditFile]) -> AuditAction:
    """'sources' for a change that only merges publication details, else 'add'."""
    return "sources" if files and all(is_sources_file(f.name) for f in files) else "add"


def _supported(name: str) -> bool:
    """Whether a file name has an evidence type."""
    return PurePosixPath(name).suffix.lower() in SUPPORTED_SUFFIXES


def _holds(done: int, wanted: int, ids: list[str]) -> str:
    """Which version of an interrupted change the index holds."""
    if wanted and done == wanted:
        return "the index holds the change"
    if not done:
        return "the index holds the previous version"
    return f"the index holds part of the change ({', '.join(ids)})"


def _describe(change: LibraryChange, before: set[str], sources_name: str) -> str:
    """The ``done`` line's detail: publications merged, documents added, replaced, unchanged or skipped."""
    parts = []
    if change.sources is not None:
        parts.append(change.sources.summary(base_name(sources_name)).rstrip("."))
    report = change.report
    if report is not None:
        added = [d for d in report.added if d not in before]
        replaced = [d for d in report.added if d in before]
        for ids, what in ((added, "added"), (replaced, "replaced"), (report.unchanged, "unchanged")):
            if ids:
                parts.append(f"{what} {', '.join(ids)}")
        if report.failed:
            parts.append(f"skipped {len(report.failed)} unreadable file(s)")
    return "; ".join(parts) or "nothing changed"


def _ending(started: AuditEntry, status: AuditStatus, detail: str) -> AuditEntry:
    """The line that ends a change: its id, role and action, with the outcome in one line."""
    return started.model_copy(
        update={"time": _now(), "status": status, "files": [], "doc_ids": [], "detail": one_line(detail)}
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _uploaded_table(name: str, data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of a given sources.csv; InputError (naming it) when unusable."""
    try:
        header, rows = read_csv_table(Path(name), data, required=("source_id",))
    except InputError as exc:
        raise InputError(name, exc.problem) from None
    if not any((row.get("source_id") or "").strip() for row in rows):
        raise InputError(name, "no row has a source_id")
    return header, rows


def _merged_sources_csv(path: Path, existing: bytes | None, header: list[str], rows: list[dict[str, str]]) -> bytes:
    """The data folder's sources.csv (``existing``, its bytes) with the given rows merged in, cells quoted."""
    columns, table = read_csv_table(path, existing, ("source_id",)) if existing is not None else ([], [])
    columns = list(dict.fromkeys([*(columns or SOURCE_COLUMNS), *(c for c in header if c)]))
    position = {(row.get("source_id") or "").strip(): i for i, row in enumerate(table)}
    for row in rows:
        sid = (row.get("source_id") or "").strip()
        if not sid:
            continue
        given = {column: value for column, value in row.items() if column}
        if sid in position:
            table[position[sid]].update(given)
        else:
            position[sid] = len(table)
            table.append(given)
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, restval="", quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    return out.getvalue().encode("utf-8")


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace a file whole or not at all: a hidden temporary file beside it, synced, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise

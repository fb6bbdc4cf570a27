"""Files uploaded in the app: safe names, size limits, and adding or removing them from the index.

An upload is kept under ``data_dir/uploads`` only once the index accepted it, so a later
``icrag index build`` finds it again; a file the index refuses leaves no trace on disk. An
uploaded ``sources.csv`` is not evidence: its publications are merged into the data folder's.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from index.builder import BuildReport, IndexBuilder
from index.errors import IcragError, InputError
from index.loaders import SOURCE_COLUMNS, SOURCES_FILE, SUPPORTED_SUFFIXES, doc_id_for, parse_sources, read_csv_table
from index.store import read_manifest

UPLOADS_FOLDER = "uploads"
_MAX_STEM = 100


def uploads_dir(builder: IndexBuilder) -> Path:
    """Where accepted uploads are kept."""
    return builder.settings.data_dir / UPLOADS_FOLDER


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
    """Whether an upload is publication details (``sources.csv``) to merge, not evidence to index."""
    return base_name(name).lower() == SOURCES_FILE


def _checked_name(builder: IndexBuilder, name: str, data: bytes) -> str:
    """The safe name of an upload within the size limit; InputError otherwise."""
    settings = builder.settings
    safe = safe_filename(name)
    if len(data) > settings.max_file_mb * 1024 * 1024:
        raise InputError(safe, f"file is {len(data) / 1e6:.1f} MB, over the {settings.max_file_mb:g} MB limit")
    return safe


def add_upload(builder: IndexBuilder, name: str, data: bytes, batch: dict[str, str] | None = None) -> BuildReport:
    """Index one uploaded file and keep it under the uploads folder; InputError leaves everything unchanged.

    ``batch`` maps the stored names of the earlier files uploaded together with this one to the
    names they were uploaded as, and gains this file's; two names that clean to one stored name
    are then refused instead of one file silently replacing the other.
    """
    safe = _checked_name(builder, name, data)
    batch = {} if batch is None else batch
    target = uploads_dir(builder) / safe
    _refuse_shadowing(builder, base_name(name), safe, batch)
    with tempfile.TemporaryDirectory(prefix="icrag-upload-") as staging:
        staged = Path(staging) / safe
        staged.write_bytes(data)
        try:
            report = builder.add([staged])
        except IcragError as exc:
            message = str(exc)
            if str(staged) not in message:
                raise
            # Name the file as the user knows it, not by its temporary copy.
            raise InputError(safe, message.replace(f"{staged}: ", "").replace(str(staged), safe)) from None
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(staged, target)
    batch[safe] = base_name(name)
    return report


def _refuse_shadowing(builder: IndexBuilder, name: str, safe: str, batch: dict[str, str]) -> None:
    """An upload may replace an earlier upload of the same file name, never another file's document.

    Files named alike (report.pdf and report.md, or 'a b.md' and 'a-b.md', stored alike) share a
    document id: one would replace the other in the index, and removing the document would delete
    only the last one's file, the other coming back with the next build.
    """
    manifest_path = builder.index_dir / "manifest.json"
    if not manifest_path.exists():
        return
    doc_id = doc_id_for(Path(safe))
    entry = next((e for e in read_manifest(builder.index_dir).documents if e.doc_id == doc_id), None)
    if entry is None:
        return
    uploaded = (uploads_dir(builder) / entry.path).is_file()
    held = batch.get(safe, name) if entry.path == safe else entry.path  # the file as the user knows it
    if uploaded and held == name:
        return
    fix = "rename the file or remove that document first" if uploaded else "rename the file to add it"
    raise InputError(name, f"the index already holds document '{doc_id}' from {held}; {fix}")


@dataclass
class SourcesMerge:
    """What merging an uploaded ``sources.csv`` changed, by source_id."""

    added: list[str]
    updated: list[str]
    unchanged: list[str]


def add_sources(builder: IndexBuilder, name: str, data: bytes) -> SourcesMerge:
    """Merge an uploaded ``sources.csv`` into the data folder's and give the index the new details.

    The builder reads publication details only from ``data_dir/sources.csv``. An uploaded row
    adds a publication or, for a source_id already listed, sets the columns the upload has and
    keeps the others; rows and columns the upload does not mention stay as they were. The index
    keeps its documents and only what citations carry changes. A malformed file, or an index that
    cannot be updated, leaves the data folder and the index as they were.
    """
    _checked_name(builder, name, data)
    header, rows = _uploaded_table(base_name(name), data)
    path = builder.settings.data_dir / SOURCES_FILE
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
    if not merge.added and not merge.updated:
        return merge
    _write_atomically(path, merged)
    try:
        if (builder.index_dir / "manifest.json").exists():  # with no index yet, the first build reads the file
            builder.update_sources()
    except BaseException:
        if before is None:
            path.unlink()
        else:
            _write_atomically(path, before)
        raise
    return merge


def _uploaded_table(name: str, data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of an uploaded sources.csv; InputError (naming the upload) when unusable."""
    try:
        header, rows = read_csv_table(Path(name), data, required=("source_id",))
    except InputError as exc:
        raise InputError(name, exc.problem) from None
    if not any((row.get("source_id") or "").strip() for row in rows):
        raise InputError(name, "no row has a source_id")
    return header, rows


def _merged_sources_csv(path: Path, existing: bytes | None, header: list[str], rows: list[dict[str, str]]) -> bytes:
    """The data folder's sources.csv (``existing``, its bytes) with the uploaded rows merged in, cells quoted."""
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


def remove_document(builder: IndexBuilder, doc_id: str) -> BuildReport:
    """Remove a document from the index, and its file when it was uploaded here."""
    entries = {entry.doc_id: entry for entry in read_manifest(builder.index_dir).documents}
    report = builder.remove([doc_id])
    entry = entries.get(doc_id)
    if entry is not None:
        uploaded = uploads_dir(builder) / entry.path
        if uploaded.is_file() and doc_id_for(uploaded) == doc_id:
            uploaded.unlink()
    return report

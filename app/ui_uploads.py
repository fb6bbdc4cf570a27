"""Files uploaded in the app: safe names, size limits, and adding or removing them from the index.

An upload is kept under ``data_dir/uploads`` only once the index accepted it, so a later
``icrag index build`` finds it again; a file the index refuses leaves no trace on disk.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import unicodedata
from pathlib import Path, PurePosixPath, PureWindowsPath

from index.builder import BuildReport, IndexBuilder
from index.errors import IcragError, InputError
from index.loaders import SUPPORTED_SUFFIXES, doc_id_for
from index.store import read_manifest

UPLOADS_FOLDER = "uploads"
_MAX_STEM = 100


def uploads_dir(builder: IndexBuilder) -> Path:
    """Where accepted uploads are kept."""
    return builder.settings.data_dir / UPLOADS_FOLDER


def safe_filename(name: str) -> str:
    """A file name fit to store: no folders, no '..', only letters, digits, '.', '_' and '-'.

    Raises InputError when the name has no supported evidence type.
    """
    base = PureWindowsPath(PurePosixPath(name).name).name  # drops '/' and '\\' folders alike
    ascii_base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()  # 'été' -> 'ete'
    stem, dot, suffix = ascii_base.rpartition(".")
    suffix = suffix.lower()
    if not dot or f".{suffix}" not in SUPPORTED_SUFFIXES:
        raise InputError(name or "upload", f"unsupported file type (supported: {', '.join(SUPPORTED_SUFFIXES)})")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem)
    stem = re.sub(r"\.{2,}", ".", stem).strip("-._")[:_MAX_STEM].rstrip("-._")
    return f"{stem or 'upload'}.{suffix}"


def add_upload(builder: IndexBuilder, name: str, data: bytes) -> BuildReport:
    """Index one uploaded file and keep it under the uploads folder; InputError leaves everything unchanged."""
    settings = builder.settings
    safe = safe_filename(name)
    if len(data) > settings.max_file_mb * 1024 * 1024:
        raise InputError(safe, f"file is {len(data) / 1e6:.1f} MB, over the {settings.max_file_mb:g} MB limit")
    target = uploads_dir(builder) / safe
    _refuse_shadowing(builder, safe, target)
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
    return report


def _refuse_shadowing(builder: IndexBuilder, safe: str, target: Path) -> None:
    """An upload may replace an earlier upload of the same name, never a document from elsewhere."""
    manifest_path = builder.index_dir / "manifest.json"
    if not manifest_path.exists():
        return
    doc_id = doc_id_for(Path(safe))
    for entry in read_manifest(builder.index_dir).documents:
        if entry.doc_id == doc_id and not (target.parent / entry.path).is_file():
            raise InputError(
                safe, f"the index already holds document '{doc_id}' from {entry.path}; rename the file to add it"
            )


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

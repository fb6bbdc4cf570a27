"""Read evidence files (PDF, HTML, Markdown, text, coded-evidence CSV/JSON) into Documents.

The checks every file gets live here; the formats themselves are read by ``index.readers``,
and the names other packages import from this module are re-exported from there.
Every failure is an :class:`InputError` naming the file and the problem, so a batch can skip
the file and the command line can print one line instead of a traceback.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import unquote

from index.errors import InputError
from index.models import DocKind, Document, SourceInfo
from index.readers.evidence import EVIDENCE_OPTIONAL, EVIDENCE_REQUIRED, render_record
from index.readers.registry import FORMATS, SUPPORTED_SUFFIXES, format_of
from index.readers.sources import SOURCE_COLUMNS, SOURCES_FILE, parse_sources, read_sources
from index.readers.tables import read_csv_table
from index.readers.textio import unwrap_lines, without_accents
from index.settings import Settings

__all__ = [
    "EVIDENCE_OPTIONAL",
    "EVIDENCE_REQUIRED",
    "SOURCES_FILE",
    "SOURCE_COLUMNS",
    "SUPPORTED_SUFFIXES",
    "discover",
    "doc_id_for",
    "kind_of",
    "load_file",
    "parse_sources",
    "read_csv_table",
    "read_sources",
    "render_record",
    "unwrap_lines",
]

_BYTES_PER_MB = 1024 * 1024  # settings.max_file_mb counts binary megabytes


def kind_of(path: Path) -> DocKind:
    """The format a file is read as, from its extension."""
    return format_of(path).kind


def doc_id_for(path: Path) -> str:
    """A stable document id from a file name: URL-decoded stem, accents dropped, reduced to safe characters."""
    stem = without_accents(unquote(path.stem))  # 'Évaluation' -> 'Evaluation'
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.")
    return slug or "document"


def discover(data_dir: Path) -> list[Path]:
    """Evidence files under a folder, in a stable order; question sets and READMEs are skipped."""
    if not data_dir.is_dir():
        raise InputError(data_dir, "not a folder")
    found = []
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.name == SOURCES_FILE or path.stem.upper() == "README" or path.suffix == ".jsonl":
            continue
        if path.suffix.lower() in FORMATS:
            found.append(path)
    return found


def load_file(path: Path, settings: Settings, sources: dict[str, SourceInfo] | None = None) -> Document:
    """Read one evidence file into a Document, or raise InputError naming the problem."""
    sources = sources or {}
    file_format = format_of(path)
    if not path.exists():
        raise InputError(path, "no such file")
    if not path.is_file():
        raise InputError(path, "not a regular file")
    size = path.stat().st_size
    if size > settings.max_file_mb * _BYTES_PER_MB:
        raise InputError(path, f"file is {size / 1e6:.0f} MB, over the {settings.max_file_mb:g} MB limit")
    data = path.read_bytes()
    if not data.strip():
        raise InputError(path, "file is empty")
    doc_id = doc_id_for(path)
    text, segments = file_format.read(path, data, _match_source(path, doc_id, sources), settings)
    if not text.strip() or not segments:
        raise InputError(path, "no readable text found")
    return Document(
        doc_id=doc_id,
        path=path.name,
        kind=file_format.kind,
        checksum=hashlib.sha256(data).hexdigest(),
        text=text,
        segments=segments,
    )


def _match_source(path: Path, doc_id: str, sources: dict[str, SourceInfo]) -> str:
    """The source_id a file belongs to: by name, by DOI in the file name, else its own id."""
    if doc_id in sources:
        return doc_id
    stem = unquote(path.stem).lower()
    for source in sources.values():
        if source.doi and source.doi.lower() == stem:
            return source.source_id
    return doc_id

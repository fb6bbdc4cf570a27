"""Which kind and reader each file suffix gets: the one table of supported formats."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from index.errors import InputError
from index.models import DocKind, Segment
from index.readers.evidence import read_evidence
from index.readers.html import read_html
from index.readers.markdown import read_markdown
from index.readers.pdf import read_pdf
from index.readers.text import read_text
from index.settings import Settings

Reader = Callable[[Path, bytes, str, Settings], tuple[str, list[Segment]]]


@dataclass(frozen=True)
class Format:
    """A supported format: the kind a document is recorded as, and the reader that turns bytes into text."""

    kind: DocKind
    read: Reader


_PDF = Format("pdf", read_pdf)
_HTML = Format("html", read_html)
_MARKDOWN = Format("markdown", read_markdown)
_TEXT = Format("text", read_text)
_EVIDENCE = Format("evidence", read_evidence)

FORMATS: dict[str, Format] = {
    ".pdf": _PDF,
    ".html": _HTML,
    ".htm": _HTML,
    ".md": _MARKDOWN,
    ".markdown": _MARKDOWN,
    ".txt": _TEXT,
    ".csv": _EVIDENCE,
    ".json": _EVIDENCE,
}
SUPPORTED_SUFFIXES = tuple(sorted(FORMATS))


def format_of(path: Path) -> Format:
    """The format a file is read as, from its extension; InputError lists the supported ones."""
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        supported = ", ".join(SUPPORTED_SUFFIXES)
        raise InputError(path, f"unsupported file type '{path.suffix or '(none)'}' (supported: {supported})")
    return found

"""Decoding and paragraph rules shared by the text-based readers (Markdown, text, HTML, CSV/JSON)."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from index.errors import InputError

_CONTROL_ALLOWANCE = 5  # a few stray control characters in pasted text are tolerated even in a short file
_CHARS_PER_CONTROL = 100  # more than one control character per this many characters means binary data
_PROSE_LINE_CHARS = 40  # a hard-wrapped prose line is at least this long; shorter lines are menus, labels, lists
_BLOCK_START = re.compile(r"^\s*(?:#|\||```|>|[-*+•]\s|\d+[.)]\s)")


def without_accents(text: str) -> str:
    """A text with its accents dropped: "Szücs" -> "Szucs", "Évaluation" -> "Evaluation"."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def decode_text(path: Path, data: bytes) -> str:
    """Decode text bytes strictly: binary content and unknown encodings are refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(path, "invalid UTF-16 text") from exc
    else:
        if b"\x00" in data:
            raise InputError(path, "binary content in a text file")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(path, f"not UTF-8 text (invalid byte at offset {exc.start}); re-save it as UTF-8") from exc
    control = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    if control > max(_CONTROL_ALLOWANCE, len(text) // _CHARS_PER_CONTROL):
        raise InputError(path, "binary content in a text file")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def unwrap_lines(text: str) -> str:
    """Join hard-wrapped prose lines with spaces; the length is kept, so offsets stay valid.

    Only a prose-length line is joined to the next, and never across a heading, list item,
    table row, fence or quote, so menus and lists keep their shape.
    """
    lines = text.split("\n")
    pieces = []
    for line, following in itertools.pairwise(lines):
        joined = (
            len(line.strip()) >= _PROSE_LINE_CHARS
            and following.strip() != ""
            and not _BLOCK_START.match(line)
            and not _BLOCK_START.match(following)
        )
        pieces.append(line + (" " if joined else "\n"))
    return "".join(pieces) + lines[-1]


def paragraph_spans(text: str, start: int, end: int) -> Iterable[tuple[int, int]]:
    """Spans of blank-line separated paragraphs inside text[start:end], whitespace trimmed."""
    for match in re.finditer(r"\S(?:.*?\S)?(?=\n\s*\n|\s*$)", text[start:end], re.DOTALL):
        yield start + match.start(), start + match.end()

"""Reading JSON Lines files a user hands to ``icrag eval``: every problem names the file and line.

Objects may also span lines and follow one another (``icrag ask --json "..." >> answers.json``
appends pretty-printed Answers), so a file is read as a stream of JSON objects separated by
whitespace; each is numbered by the line it starts on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from index.errors import InputError


def read_jsonl(path: Path, data: bytes | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each object of the file; InputError for a missing file or bad JSON.

    ``data`` is the file's content when it arrived some other way than on disk (an upload to the
    API); ``path`` then only names it in messages.
    """
    if data is None and not path.is_file():
        raise InputError(path, "no such file" if not path.exists() else "not a regular file")
    try:
        text = path.read_text(encoding="utf-8-sig") if data is None else data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (invalid byte at offset {exc.start})") from exc
    decoder = json.JSONDecoder()
    position, line, counted = 0, 1, 0
    while (start := _next_value(text, position)) < len(text):
        line += text.count("\n", counted, start)
        counted = start
        try:
            value, position = decoder.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{exc.lineno}", f"invalid JSON ({exc.msg} at column {exc.colno})") from exc
        except RecursionError:
            raise InputError(f"{path}:{line}", "JSON nested too deeply") from None
        if not isinstance(value, dict):
            raise InputError(f"{path}:{line}", f"expected a JSON object, found {type(value).__name__}")
        yield line, value


def _next_value(text: str, position: int) -> int:
    """Where the next JSON value starts at or after ``position`` (``len(text)`` when none does)."""
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def first_error(exc: ValidationError) -> tuple[str, str]:
    """(field, message) of the first problem pydantic found in a record, for a one-line error."""
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "record"
    return field, first["msg"]

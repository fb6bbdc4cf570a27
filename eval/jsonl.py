"""Reading JSON Lines files a user hands to ``icrag eval``: every problem names the file and line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from index.errors import InputError


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; InputError for a missing file or a bad line."""
    if not path.is_file():
        raise InputError(path, "no such file" if not path.exists() else "not a regular file")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (invalid byte at offset {exc.start})") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}", f"invalid JSON ({exc.msg} at column {exc.colno})") from exc
        if not isinstance(value, dict):
            raise InputError(f"{path}:{number}", f"expected a JSON object, found {type(value).__name__}")
        yield number, value


def first_error(exc: ValidationError) -> tuple[str, str]:
    """(field, message) of the first problem pydantic found in a record, for a one-line error."""
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "record"
    return field, first["msg"]

"""CSV tables with a header row, as coded evidence and ``sources.csv`` are written."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from index.errors import InputError
from index.readers.textio import decode_text


def read_csv_table(path: Path, data: bytes, required: tuple[str, ...]) -> tuple[list[str], list[dict[str, str]]]:
    """A CSV file's header and its non-empty rows by column name; InputError names what is wrong."""
    text = decode_text(path, data)
    reader = csv.reader(io.StringIO(text))
    try:
        header = [name.strip().lstrip("\ufeff") for name in next(reader)]
    except StopIteration as exc:
        raise InputError(path, "CSV file is empty") from exc
    except csv.Error as exc:
        raise InputError(path, f"malformed CSV ({exc})") from exc
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if duplicated:
        raise InputError(path, f"duplicated CSV column(s): {', '.join(duplicated)}")
    missing = [name for name in required if name not in header]
    if missing:
        raise InputError(path, f"CSV is missing required column(s): {', '.join(missing)}")
    rows = []
    try:
        for line_no, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                raise InputError(path, f"row {line_no} has {len(values)} cells but the header has {len(header)}")
            rows.append(dict(zip(header, values, strict=False)))
    except csv.Error as exc:
        raise InputError(path, f"malformed CSV ({exc})") from exc
    return header, rows

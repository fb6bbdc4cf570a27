"""Coded evidence (CSV or JSON): one atomic segment per context–mechanism–outcome record."""

from __future__ import annotations

import json
from pathlib import Path

from index.errors import InputError
from index.models import EvidenceRecord, FieldName, FieldSpan, Segment
from index.readers.assemble import Block, assemble
from index.readers.tables import read_csv_table
from index.readers.textio import decode_text
from index.settings import Settings

EVIDENCE_REQUIRED = ("record_id", "component", "context", "mechanism", "outcome", "source_id")
EVIDENCE_OPTIONAL = ("evidence_summary", "section", "included_study")
_NON_EMPTY = ("record_id", "component", "source_id")  # a record must be identifiable, placeable and attributable


def render_record(record: EvidenceRecord) -> tuple[str, list[FieldSpan]]:
    """A readable passage for one coded-evidence row, and where each field's value sits in it.

    The labels ("Context:", ...) are for reading only; the field spans let answers quote a
    value without its label and tell a context from a mechanism without parsing the text.
    """
    where = f" §{record.section}" if record.section else ""
    heading = (
        f"Coded evidence {record.record_id} on the component '{record.component}', from {record.source_id}{where}."
    )
    text = heading
    fields = [FieldSpan(name="heading", start=0, end=len(heading))]
    values: tuple[tuple[FieldName, str, str], ...] = (
        ("context", "Context", record.context),
        ("mechanism", "Mechanism", record.mechanism),
        ("outcome", "Outcome", record.outcome),
        ("summary", "Summary", record.evidence_summary),
    )
    for name, label, value in values:
        value = " ".join(value.split())
        if value:
            text += f"\n{label}: "
            fields.append(FieldSpan(name=name, start=len(text), end=len(text) + len(value)))
            text += value
    return text, fields


def read_evidence(path: Path, data: bytes, source_id: str, settings: Settings) -> tuple[str, list[Segment]]:
    """Each row rendered as readable text, one segment carrying the record and its field spans."""
    rows = _evidence_rows(path, data)
    if not rows:
        raise InputError(path, "no evidence records")
    seen: set[str] = set()
    blocks: list[Block] = []
    for number, row in enumerate(rows, start=1):
        fields = {name: (row.get(name) or "").strip() for name in EVIDENCE_REQUIRED + EVIDENCE_OPTIONAL}
        for name in _NON_EMPTY:
            if not fields[name]:
                raise InputError(path, f"record {number} has an empty '{name}'")
        if fields["record_id"] in seen:
            raise InputError(path, f"duplicate record_id '{fields['record_id']}'")
        seen.add(fields["record_id"])
        record = EvidenceRecord(**fields)
        text, spans = render_record(record)
        segment = Segment(
            start=0, end=len(text), source_id=record.source_id, section=record.section, record=record, fields=spans
        )
        blocks.append(Block(text, [segment]))
    return assemble(blocks)


def _evidence_rows(path: Path, data: bytes) -> list[dict[str, str]]:
    """Rows as strings by field name, from a CSV table or a JSON list (or ``{"records": [...]}``)."""
    if path.suffix.lower() == ".csv":
        return read_csv_table(path, data, EVIDENCE_REQUIRED)[1]
    try:
        payload = json.loads(decode_text(path, data))
    except json.JSONDecodeError as exc:
        raise InputError(path, f"invalid JSON (line {exc.lineno}: {exc.msg})") from exc
    except RecursionError as exc:
        raise InputError(path, "invalid JSON (nested too deeply)") from exc
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise InputError(path, f"invalid JSON ({str(exc).split(':')[0]})") from exc
    if isinstance(payload, dict) and isinstance(payload.get("records"), list):
        payload = payload["records"]
    if not isinstance(payload, list) or not all(isinstance(item, dict) for item in payload):
        raise InputError(path, 'JSON evidence must be a list of record objects (or {"records": [...]})')
    for index, item in enumerate(payload):
        missing = [name for name in EVIDENCE_REQUIRED if name not in item]
        if missing:
            raise InputError(path, f"record {index} is missing field(s): {', '.join(missing)}")
    return [{key: "" if value is None else str(value) for key, value in item.items()} for item in payload]

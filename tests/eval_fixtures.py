"""Helpers of the eval tests: the session's model behind the command line, and a tiny evidence base."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from helpers import write_files
from typer.testing import CliRunner, Result

from app.cli import app
from index.embedding import Embedder

EVIDENCE_MD = """# Evidence on leading integrated care

## smith2020 — Smith (2020)

### Results
Leaders of integrated care teams build a shared purpose across health and social care.
[smith2020 §Abstract-Results]

### Methods
The team interviewed 64 managers in three integrated care systems during 2021. [smith2020 §Abstract-Methods]
"""

EVIDENCE_CSV = (
    "record_id,component,context,mechanism,outcome,evidence_summary,source_id,section,included_study\n"
    "R1,working with power,Joint boards of councils and NHS trusts,"
    "Leaders notice how funding and status shape which partners are heard,"
    "More balanced joint decisions,"
    "Working with power means noticing how funding and status shape whose voice counts.,smith2020,Results,\n"
)

QUESTIONS = [
    {
        "id": "t1",
        "question": "How many managers did the team interview?",
        "answer": "64 managers in three integrated care systems.",
        "key_facts": ["64 managers", "three integrated care systems"],
        "support": ["smith2020 §Abstract-Methods"],
        "type": "methods",
        "persona": "researcher",
    },
    {
        "id": "t2",
        "question": "What does working with power mean for leaders?",
        "answer": "Noticing how funding and status shape whose voice counts.",
        "key_facts": ["funding and status"],
        "support": ["R1"],
        "type": "component",
        "persona": "policymaker",
    },
    {
        "id": "t3",
        "question": "How much did the programme cost in 2019?",
        "answer": "NOT_IN_CORPUS",
        "key_facts": ["cost not in evidence base"],
        "support": [],
        "type": "unanswerable",
        "persona": "evaluator",
    },
]


def use_session_model(monkeypatch: pytest.MonkeyPatch, embedder: Embedder) -> None:
    """Make the command line's embedders the session's already loaded one."""
    monkeypatch.setattr("app.cli_common.Embedder", lambda settings: embedder)


def write_evidence(folder: Path) -> Path:
    """A two-file evidence base: tagged summaries and one coded-evidence row."""
    write_files(folder, {"summaries.md": EVIDENCE_MD, "coded_evidence.csv": EVIDENCE_CSV})
    return folder


def write_jsonl(path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    """One JSON object per line."""
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def icrag(*args: str) -> Result:
    """Run the icrag command line in-process."""
    return CliRunner().invoke(app, list(args))

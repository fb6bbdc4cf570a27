"""Helpers for the tests: tiny documents, real PDFs and digests of folders."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from index.builder import IndexBuilder
from index.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"
#: Real documents kept beside the repository; tests that need them skip when it is absent.
SHARED_DIR = REPO_ROOT.parent / "shared"

SettingsFactory = Callable[..., Settings]
BuilderFactory = Callable[[Settings], IndexBuilder]

# Short documents on distinct topics, so searches have unambiguous answers.
DOC_A = """# Leadership of integrated care

## Shared purpose
Leaders of integrated care teams build a shared purpose across health and social care organisations.
They spend time on relationships before structures.

## Power
Working with power means leaders notice how funding and status shape which partners are heard in joint decisions.
"""

DOC_B = """Staff wellbeing

Nurses working night shifts in community hospitals reported more fatigue and sleep problems than day staff.

Rota design

Managers who planned rotas four weeks ahead reduced short-notice shift changes and kept more district nurses.
"""

DOC_C = """# Digital records

## Interoperability
Shared electronic care records let social workers and general practitioners see the same medication list,
which reduced duplicated assessments.
"""

QUERIES = [
    "How do leaders build a shared purpose?",
    "night shift fatigue among nurses",
    "shared electronic records and medication lists",
]


def write_files(folder: Path, files: dict[str, str | bytes]) -> dict[str, Path]:
    """Write files by name into a folder; returns their paths by name."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        paths[name] = path
    return paths


def write_pdf(path: Path, pages: list[str]) -> Path:
    """A real PDF with one page per string (an empty string gives a blank page)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 6, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def tree_digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under a folder by relative path: equal digests mean untouched bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }

"""Helpers for the tests: tiny documents, real PDFs and digests of folders."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from index.builder import IndexBuilder
from index.embedding import Embedder
from index.errors import IcragError
from index.settings import Settings
from index.store import AUDIT_FILE, IndexStore, check_compatible, read_manifest
from rag.pipeline import Pipeline

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"
#: Real documents kept beside the repository; tests that need them skip when it is absent.
SHARED_DIR = REPO_ROOT.parent / "shared"
#: The ``icrag`` console script installed beside the interpreter running the tests.
ICRAG = Path(sys.executable).parent / "icrag"

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


def bundled_settings() -> Settings:
    """Settings of the bundled index as ``make index`` builds it: data/ into .icrag/index, with its cache."""
    return Settings(
        index_dir=REPO_ROOT / ".icrag" / "index",
        data_dir=DATA_DIR,
        cache_dir=REPO_ROOT / ".icrag" / "cache",
        show_progress=False,
    )


def bundled_index_or_skip() -> Settings:
    """The bundled index's settings, or a skip naming the fix when that index is missing or out of date."""
    settings = bundled_settings()
    try:
        check_compatible(read_manifest(settings.index_dir), settings, settings.index_dir)
    except IcragError as exc:
        pytest.skip(f"the bundled index is not usable ({exc}); build it with `make index`")
    return settings


def server_environment(settings: Settings) -> dict[str, str]:
    """The environment of an ``icrag app`` or ``icrag serve`` subprocess for these settings, no other ICRAG_*."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("ICRAG_")},
        "ICRAG_INDEX_DIR": str(settings.index_dir),
        "ICRAG_DATA_DIR": str(settings.data_dir),
        "ICRAG_CACHE_DIR": str(settings.cache_dir),
        "ICRAG_SHOW_PROGRESS": "false",
    }


def tree_digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under a folder by relative path: equal digests mean untouched bytes.

    An index's audit log is left out: it records refused and interrupted changes too, by design.
    """
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != AUDIT_FILE
    }


#: Inputs that must each fail with one line naming the file and the problem; see make_bad_input.
BAD_INPUT_CASES = [
    "corrupt_pdf",
    "encrypted_pdf",
    "zero_byte_pdf",
    "blank_pdf",
    "image_pdf",
    "binary_md",
    "binary_txt",
    "latin1_txt",
    "csv_missing_columns",
    "unknown_extension",
    "missing_path",
]


def make_bad_input(case: str, folder: Path) -> tuple[Path, str]:
    """A file (or path) that cannot be indexed, and words its error must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    good_page = "Leaders of integrated care teams build shared purpose across organisations."
    if case == "corrupt_pdf":
        data = write_pdf(folder / "whole.pdf", [good_page]).read_bytes()
        (folder / "whole.pdf").unlink()
        (folder / "corrupt.pdf").write_bytes(data[: len(data) // 2])
        return folder / "corrupt.pdf", "corrupt PDF"
    if case == "encrypted_pdf":
        from pypdf import PdfWriter

        writer = PdfWriter(clone_from=str(write_pdf(folder / "plain.pdf", [good_page])))
        (folder / "plain.pdf").unlink()
        writer.encrypt("secret", algorithm="RC4-128")
        writer.write(folder / "locked.pdf")
        return folder / "locked.pdf", "PDF is encrypted"
    if case == "zero_byte_pdf":
        (folder / "empty.pdf").write_bytes(b"")
        return folder / "empty.pdf", "file is empty"
    if case == "blank_pdf":
        return write_pdf(folder / "blank.pdf", ["", ""]), "no extractable text"
    if case == "image_pdf":
        return _image_only_pdf(folder / "scan.pdf"), "no extractable text"
    if case == "binary_md":
        (folder / "binary.md").write_bytes(b"# Title\n\x00\x01\x02\x03\xff\xfe binary payload")
        return folder / "binary.md", "binary content"
    if case == "binary_txt":
        (folder / "image.txt").write_bytes(bytes(range(256)) * 4)
        return folder / "image.txt", "binary content"
    if case == "latin1_txt":
        (folder / "latin1.txt").write_bytes("Café leadership in Malmö: naïve models fail.\n".encode("latin-1"))
        return folder / "latin1.txt", "not UTF-8"
    if case == "csv_missing_columns":
        (folder / "coded.csv").write_text("record_id,component,context\nR1,general,Some context\n", encoding="utf-8")
        return folder / "coded.csv", "missing required column(s): mechanism, outcome, source_id"
    if case == "unknown_extension":
        (folder / "report.docx").write_bytes(b"PK\x03\x04 not really a word file")
        return folder / "report.docx", "unsupported file type '.docx'"
    if case == "missing_path":
        return folder / "nowhere.md", "no such file"
    raise AssertionError(case)


def _image_only_pdf(path: Path) -> Path:
    from fpdf import FPDF
    from PIL import Image

    image = Image.new("RGB", (60, 20), "white")
    for x in range(5, 55):
        image.putpixel((x, 10), (0, 0, 0))  # a scanned line of "text" is pixels, not characters
    pdf = FPDF()
    pdf.add_page()
    pdf.image(image, x=10, y=10, w=120)
    pdf.output(str(path))
    return path


def stop_session(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started with ``start_new_session`` and everything it started (workers, Streamlit).

    SIGTERM to its process group, SIGKILL after 30 s; a group already gone is no error.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@dataclass(frozen=True)
class RagIndex:
    """A built index: its folder, the settings that built it, and a pipeline over it."""

    index_dir: Path
    settings: Settings
    pipeline: Pipeline

    @property
    def store(self) -> IndexStore:
        """The index in memory."""
        return self.pipeline.store


def build_index(root: Path, files: dict[str, str | bytes], cache_dir: Path, embedder: Embedder) -> RagIndex:
    """An index of some files under ``root``, built with settings untouched by ICRAG_* variables."""
    with pytest.MonkeyPatch.context() as env:
        for name in [name for name in os.environ if name.startswith("ICRAG_")]:
            env.delenv(name)
        settings = Settings(index_dir=root / "index", data_dir=root / "data", cache_dir=cache_dir, show_progress=False)
    write_files(settings.data_dir, files)
    IndexBuilder(settings, embedder=embedder).build()
    store = IndexStore.load(settings.index_dir, settings)
    return RagIndex(settings.index_dir, settings, Pipeline.from_store(store, settings, embedder))

"""Real documents ingest cleanly: nine open-access PDFs and one messy web page, loaded and chunked.

Nothing is embedded: loading and chunking show whether passages are clean, and embedding
hundreds of passages would take minutes.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from helpers import SHARED_DIR
from pypdf import PdfReader

from index.chunking import is_readable, split_document
from index.loaders import load_file
from index.models import Document, Passage
from index.settings import Settings

PDF_DIR = SHARED_DIR / "external" / "litqa2" / "pdfs"
SEED_DIR = SHARED_DIR / "seed"
PDF_NAMES = [
    "10.1007%2Fs00125-024-06103-w.pdf",
    "10.1038%2Fs12276-023-01094-x.pdf",
    "10.1038%2Fs41467-022-30570-7.pdf",
    "10.1038%2Fs41467-024-48375-1.pdf",
    "10.1101%2F2024.05.13.593936.pdf",
    "10.1128%2Fmsphere.00109-24.pdf",
    "10.1186%2Fs13059-023-02935-8.pdf",
    "10.3390%2Fcancers14194849.pdf",
    "10.7150%2Fijbs.86869.pdf",
]
PREPRINT = "10.1101%2F2024.05.13.593936.pdf"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not PDF_DIR.is_dir(), reason=f"real documents not found at {SHARED_DIR} (optional)"),
]

SETTINGS = Settings(show_progress=False)
_loaded: dict[str, tuple[Document, list[Passage]]] = {}


def ingest(path: Path) -> tuple[Document, list[Passage]]:
    """Load and chunk a file once per session."""
    if path.name not in _loaded:
        document = load_file(path, SETTINGS)
        _loaded[path.name] = (document, split_document(document, SETTINGS))
    return _loaded[path.name]


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


@functools.cache
def pdf_pages(path: Path) -> list[str]:
    """Page texts as pypdf extracts them, the reference for page numbers."""
    return [page.extract_text() or "" for page in PdfReader(path).pages]


def assert_clean_passages(document: Document, passages: list[Passage]) -> None:
    """No empty, garbled or misplaced passage."""
    assert len(passages) >= 5
    for passage in passages:
        text = passage.text
        assert document.text[passage.start : passage.end] == text
        assert is_readable(text, SETTINGS.min_passage_chars), text[:200]
        tokens = text.split()
        wordless = sum(1 for token in tokens if not re.search(r"[^\W\d_]{2,}", token))
        assert wordless / len(tokens) < 0.6, text[:200]  # not a table of numbers or one-letter labels
        assert not re.search(r"[\x00-\x08\x0b-\x1f\ufffd\xad]", text), text[:200]  # no control or broken bytes
        assert len(text) <= SETTINGS.chunk_size


def test_the_shared_folder_holds_the_nine_pdfs() -> None:
    assert sorted(p.name for p in PDF_DIR.glob("*.pdf")) == sorted(PDF_NAMES)


@pytest.mark.parametrize("name", PDF_NAMES)
def test_pdf_ingests_cleanly(name: str) -> None:
    path = PDF_DIR / name
    document, passages = ingest(path)
    assert_clean_passages(document, passages)
    pages = pdf_pages(path)
    assert all(p.page is not None and 1 <= p.page <= len(pages) for p in passages)
    assert [p.page for p in passages] == sorted(p.page for p in passages)  # type: ignore[type-var]
    assert {p.section for p in passages} & {"Abstract", "Introduction", "Background", "Results", "Discussion"}
    # Running headers and footers: lines repeated on many pages are not passage text (the title
    # page has its own layout, so only later pages are checked).
    lines_per_page = [{normalise(line) for line in page.split("\n")} for page in pages]
    repeated = Counter(line for lines in lines_per_page for line in lines if len(line) >= 15)
    running = [line for line, count in repeated.items() if count >= 0.4 * len(pages)]
    later = " ".join(p.text for p in passages if p.page and p.page > 1)
    assert [line for line in running if line in later] == []
    # Words broken at line ends are mended: a hyphen followed by a space is rare.
    broken = sum(len(re.findall(r"[a-z]- [a-z]{2,}", p.text)) for p in passages)
    assert broken <= 5


KNOWN_SENTENCES = [
    ("10.1007%2Fs00125-024-06103-w.pdf", "There was an ~40% reduction in the surface expression of hetS118L"),
    (
        "10.1038%2Fs41467-024-48375-1.pdf",
        "We found that the negative bias in decision-making persisted after effective",
    ),
    (
        "10.1128%2Fmsphere.00109-24.pdf",
        "A. baumannii readily evolved resistance to meropenem, ciprofloxacin, and gentamicin",
    ),
]


@pytest.mark.parametrize(("name", "sentence"), KNOWN_SENTENCES)
def test_known_sentence_is_on_its_page(name: str, sentence: str) -> None:
    """LitQA2's key passages sit in a passage carrying the page pypdf finds them on."""
    path = PDF_DIR / name
    on_pages = [number for number, text in enumerate(pdf_pages(path), start=1) if sentence in normalise(text)]
    assert len(on_pages) == 1
    _, passages = ingest(path)
    assert [p.page for p in passages if sentence in p.text] == on_pages


def test_preprint_line_numbers_footers_and_references_are_gone() -> None:
    document, passages = ingest(PDF_DIR / PREPRINT)
    assert "bioRxiv a license to display the preprint" not in document.text
    sections = [p.section for p in passages]
    assert sections.index("Abstract") < sections.index("Introduction") < sections.index("Results")
    assert "Material and methods" in sections
    for passage in passages:
        bare = re.findall(r"(?<=\s)\d{1,4}(?=\s)", f" {passage.text} ")
        numbers = [int(n) for n in bare if not 1900 <= int(n) <= 2100]  # years are not line numbers
        assert max(_runs(numbers), default=1) < 4, passage.text[:200]  # margin line numbers count up line by line
    assert not any("Nucleic Acids Res" in p.text for p in passages)  # the literature cited is not evidence
    abstract = next(p for p in passages if p.section == "Abstract")
    assert "protein-protein interactions are often mediated by modular domains that bind short linear motifs" in (
        abstract.text
    )


def _runs(numbers: list[int]) -> list[int]:
    """Lengths of runs of consecutive integers (n, n+1, n+2, ...) in a sequence."""
    runs, length = [], 1
    for before, after in itertools.pairwise(numbers):
        length = length + 1 if after == before + 1 else 1
        runs.append(length)
    return runs


@pytest.mark.skipif(not SEED_DIR.is_dir(), reason=f"seed page not found at {SEED_DIR} (optional)")
def test_messy_web_page_ingests_cleanly() -> None:
    paths = sorted(SEED_DIR.glob("*.txt"))
    assert paths
    for path in paths:
        document, passages = ingest(path)
        assert_clean_passages(document, passages)
        assert all(p.page is None for p in passages)
        sections = {p.section for p in passages}
        assert {"Abstract", "Introduction"} <= sections
        # The page's navigation ("Objectives / Methods / Results ...") is a menu, not evidence.
        assert not any(p.text.startswith("Objectives\nMethods") for p in passages)

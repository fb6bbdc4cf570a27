"""LitQA2 (public part) over the 9 open-licence PDFs: gold = the page holding the key passage.

The key passage is verbatim text of the paper, but PDF extraction changes spacing, hyphens,
ligatures and line numbers, so it is located by normalised fuzzy matching: the share of its
word trigrams found on each page.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

from eval.benchmarks.common import BenchData, BenchQuestion, data_file, passages_of
from eval.jsonl import read_jsonl
from index.errors import InputError
from index.loaders import load_file
from index.models import Document
from index.settings import Settings

QUESTIONS_FILE = "litqa-v2-public.jsonl"
PDF_FOLDER = "pdfs"
#: Least share of the key passage's trigrams its gold page(s) must hold for the question to count.
MIN_COVERAGE = 0.5
#: Least share of new trigrams a neighbouring page must add to count as well (a passage across a page break).
MIN_SPILL = 0.2


def shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    """Word n-grams of lower-cased, NFKC-normalised alphanumeric tokens."""
    words = re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKC", text).lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def key_pages(document: Document, key_passage: str) -> list[int]:
    """Pages holding a key passage: the best-matching page, plus a neighbour it spills onto; [] if not found."""
    wanted = shingles(key_passage)
    pages: dict[int, set[tuple[str, ...]]] = {}
    for segment in document.segments:
        if segment.page is not None:
            pages.setdefault(segment.page, set()).update(shingles(document.text[segment.start : segment.end]))
    if not wanted or not pages:
        return []
    best = max(sorted(pages), key=lambda page: len(wanted & pages[page]))
    found = {best}
    covered = wanted & pages[best]
    for neighbour in (best - 1, best + 1):
        new = (wanted & pages.get(neighbour, set())) - covered
        if len(new) / len(wanted) >= MIN_SPILL:
            found.add(neighbour)
            covered |= new
    return sorted(found) if len(covered) / len(wanted) >= MIN_COVERAGE else []


def doi_of(pdf: Path) -> str:
    """The DOI a PDF is named after (file names are URL-encoded DOIs)."""
    return unquote(pdf.stem).lower()


def load(path: Path, settings: Settings, docs: int | None = None) -> BenchData:
    """The benchmark over the first ``docs`` PDFs (all by default) and the questions they answer."""
    questions_file = data_file(path, QUESTIONS_FILE)
    rows = list(read_jsonl(questions_file))
    if not rows:
        raise InputError(questions_file, "no questions")
    pdfs = sorted((questions_file.parent / PDF_FOLDER).glob("*.pdf"))
    if not pdfs:
        raise InputError(questions_file.parent / PDF_FOLDER, "no PDF files")
    pdfs = pdfs[:docs] if docs else pdfs
    documents = {doi_of(pdf): load_file(pdf, settings) for pdf in pdfs}
    questions, skipped = [], []
    for number, row in rows:
        try:
            sources = [str(s).lower() for s in row["sources"]]
            question, key_passage, question_id = str(row["question"]), str(row["key-passage"]), str(row["id"])
        except (KeyError, TypeError) as exc:
            raise InputError(f"{questions_file}:{number}", f"not a LitQA2 row (missing {exc})") from None
        for doi, document in documents.items():
            if not any(source.endswith(doi) for source in sources):
                continue
            pages = key_pages(document, key_passage)
            if pages:
                gold = [f"{document.doc_id}#p{page}" for page in pages]
                questions.append(BenchQuestion(id=question_id, question=question, gold=gold))
            else:
                skipped.append(question_id)
    if not questions and not skipped:
        raise InputError(questions_file, f"no question's sources match the {len(pdfs)} PDF(s) in {PDF_FOLDER}/")
    loaded = list(documents.values())
    return BenchData(
        name="litqa2",
        settings=settings,
        unit="page",
        documents=loaded,
        passages=passages_of(loaded, settings, {}),
        questions=questions,
        skipped=skipped,
    )

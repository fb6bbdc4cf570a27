"""PDF: one text block per page, so every passage knows its page; references are skipped.

Running headers and footers, margin line numbers and figure labels are dropped, and words
hyphenated at line ends are mended, so passages read as the article's prose.
"""

from __future__ import annotations

import io
import itertools
import math
import re
import unicodedata
from collections import Counter
from pathlib import Path

from index.errors import InputError
from index.models import Segment
from index.readers.assemble import Block, assemble
from index.settings import Settings

_HEADING_RE = re.compile(
    r"^(?:\d+(?:\.\d+)*\.?\s+)?(abstract|summary|introduction|background|methods?|"
    r"materials? and methods|methods and materials|results|results and discussion|discussion|"
    r"conclusions?|limitations|references|literature cited|bibliography|acknowledge?ments)\s*:?$",
    re.IGNORECASE,
)
_SKIPPED_SECTIONS = {"references", "literature cited", "bibliography", "acknowledgements", "acknowledgments"}
_LEADING_NUMBER_RE = re.compile(r"^(\d{1,4})(?:\s+|$)")
_TRAILING_NUMBER_RE = re.compile(r"(?:^|(?<=[\s\-\u2013]))(\d{1,4})$")
_WORD_RE = re.compile(r"[^\W\d_]+(?:[-\u2010][^\W\d_]+)*")
_LETTERS_RE = re.compile(r"[^\W\d_]")
_ERROR_DETAIL_CHARS = 80  # enough of pypdf's message to name the damage, short enough for one line
_EDGE_LINES = 4  # running headers and footers sit within this many lines of a page's edge
_RUNNING_SHARE = 0.4  # under half, so a header printed on odd or on even pages only still counts as running
_RUNNING_MIN_PAGES = 3  # fewer recurrences than this could be coincidence (two pages opening one section)
_NUMBERED_MIN_LINES = 3  # margin numbering is a run of at least this many consecutive integers ...
_NUMBERED_DIVISOR = 2  # ... covering at least half (1 / this) of a page's lines, so stray numbers survive
_WORD_MIN_LETTERS = 2  # a token with fewer letters ("a", "3", "p<") is a label or tick, not a word
_PROSE_MIN_WORDS = 3  # a line with fewer real words is a figure label, axis tick or table cell
_DEBRIS_RUN = 3  # this many debris lines in a row are a figure or table, not prose
_FRAGMENT_MAX = 2  # a fragment this short ("co", "re") is a prefix, not evidence of a two-word compound


def read_pdf(path: Path, data: bytes, source_id: str, settings: Settings) -> tuple[str, list[Segment]]:
    """One block per page, split into segments where section headings start."""
    raw_pages = _extract_pages(path, data, settings)
    page_lines = _drop_running_lines([_pdf_lines(raw) for raw in raw_pages])
    vocabulary = _vocabulary(page_lines)
    blocks: list[Block] = []
    section = ""
    for page_no, lines in enumerate(page_lines, start=1):
        page_text, page_sections = _join_pdf_lines(lines, section, vocabulary)
        segments = []
        for start, end, sec in page_sections:
            section = sec
            if sec.lower() in _SKIPPED_SECTIONS or end <= start:
                continue
            segments.append(Segment(start=start, end=end, source_id=source_id, section=sec, page=page_no))
        blocks.append(Block(page_text, segments))
    return assemble(blocks)


def _extract_pages(path: Path, data: bytes, settings: Settings) -> list[str]:
    """Each page's raw text; damaged, encrypted, oversized or image-only PDFs are refused."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.lstrip().startswith(b"%PDF"):
        raise InputError(path, "not a PDF file (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(path, "PDF is encrypted; save an unprotected copy")
        pages = reader.pages
        n_pages = len(pages)
        if n_pages == 0:
            raise InputError(path, "PDF has no pages")
        if n_pages > settings.max_pdf_pages:
            raise InputError(path, f"PDF has {n_pages} pages, over the {settings.max_pdf_pages} page limit")
        raw_pages = [page.extract_text() or "" for page in pages]
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as exc:
        raise InputError(path, f"corrupt PDF ({type(exc).__name__}: {str(exc)[:_ERROR_DETAIL_CHARS]})") from exc
    except Exception as exc:  # pypdf raises many internal types on damaged files
        raise InputError(path, f"corrupt PDF ({type(exc).__name__})") from exc
    if not any(page.strip() for page in raw_pages):
        raise InputError(path, "PDF has no extractable text (scanned images need OCR first)")
    return raw_pages


def _pdf_lines(raw: str) -> list[str]:
    """Non-empty, whitespace-normalised lines of one page, without margin line numbers."""
    raw = unicodedata.normalize("NFKC", raw).replace("\x00", "")
    # Soft hyphens are invisible except where they break a word at a line's end.
    lines = [re.sub(r"\s+", " ", line.replace("\xad", "\x01")).strip() for line in raw.split("\n")]
    lines = [line.replace("\x01", "\xad" if line.endswith("\x01") else "").rstrip() for line in lines]
    lines = [line for line in lines if line]
    for pattern in (_LEADING_NUMBER_RE, _TRAILING_NUMBER_RE):
        lines = [line for line in _strip_line_numbers(lines, pattern) if line]
    return lines


def _strip_line_numbers(lines: list[str], pattern: re.Pattern[str]) -> list[str]:
    """Remove numbers that count lines in a margin (as preprints print them).

    A number is a line number only when it continues a run of consecutive integers, so
    years, quantities and page numbers at a line's edge survive.
    """
    numbers = [int(m.group(1)) if (m := pattern.search(line)) else None for line in lines]
    found = [(i, n) for i, n in enumerate(numbers) if n is not None]
    counted: set[int] = set()
    for (i, a), (j, b) in itertools.pairwise(found):
        if b == a + 1:
            counted.update((i, j))
    if len(counted) < max(_NUMBERED_MIN_LINES, len(lines) // _NUMBERED_DIVISOR):
        return lines
    return [pattern.sub("", line).strip() if i in counted else line for i, line in enumerate(lines)]


def _drop_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Remove running headers and footers: lines at a page's edge that recur on many pages.

    Digits are ignored when comparing, so "Page 3 of 12" and journal lines with page
    numbers count as the same line on every page.
    """
    if len(pages) < _RUNNING_MIN_PAGES:
        return pages

    def edges(lines: list[str]) -> list[int]:
        n = len(lines)
        return [i for i in range(n) if i < _EDGE_LINES or i >= n - _EDGE_LINES]

    def signature(line: str) -> str:
        return re.sub(r"\d+", "#", re.sub(r"\s+", "", line.lower()))

    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({signature(lines[i]) for i in edges(lines)})
    threshold = max(_RUNNING_MIN_PAGES, math.ceil(_RUNNING_SHARE * len(pages)))
    running = {sig for sig, count in counts.items() if count >= threshold}
    cleaned = []
    for lines in pages:
        dropped = {i for i in edges(lines) if signature(lines[i]) in running}
        cleaned.append([line for i, line in enumerate(lines) if i not in dropped])
    return cleaned


def _vocabulary(pages: list[list[str]]) -> set[str]:
    """Lower-cased words and hyphenated compounds (and their parts) written whole within a line.

    A line's first word is left out after a line ending in a hyphen: it may be a word's tail.
    """
    vocabulary: set[str] = set()
    for lines in pages:
        for before, line in itertools.pairwise(["", *lines]):
            words = _WORD_RE.findall(line)
            for word in words[1:] if before.endswith(("-", "\u2010", "\xad")) else words:
                compound = word.lower().replace("\u2010", "-")
                vocabulary.add(compound)
                vocabulary.update(compound.split("-"))
    return vocabulary


def _is_debris(line: str) -> bool:
    """A figure label, axis tick or table cell: too few tokens that read as words."""
    words = sum(1 for token in line.split() if len(_LETTERS_RE.findall(token)) >= _WORD_MIN_LETTERS)
    return words < _PROSE_MIN_WORDS


def _join_pdf_lines(lines: list[str], section: str, vocabulary: set[str]) -> tuple[str, list[tuple[int, int, str]]]:
    """Join one page's lines into running text and split it where section headings start.

    Returns the page text and (start, end, section) spans within it. Runs of figure and
    table debris are dropped and words hyphenated across lines are rejoined.
    """
    keep = [True] * len(lines)
    run: list[int] = []
    for i, line in enumerate([*lines, ""]):
        if i < len(lines) and _is_debris(line) and not _HEADING_RE.match(line):
            run.append(i)
            continue
        if len(run) >= _DEBRIS_RUN:
            for j in run:
                keep[j] = False
        run = []
    out = ""
    spans: list[tuple[int, int, str]] = []
    span_start = 0
    previous = ""
    for line in (line for line, kept in zip(lines, keep, strict=True) if kept):
        heading = _HEADING_RE.match(line)
        if heading:
            if out:
                out += "\n\n"
            spans.append((span_start, len(out.rstrip()), section))
            section = heading.group(1).strip().capitalize()
            out += line + "\n\n"
            span_start = len(out)
        elif not out or out.endswith("\n\n"):
            out += line
        else:
            out = _join_line(out, line, previous, vocabulary)
        previous = line
    out = out.rstrip()
    if out.endswith("\xad"):
        out = out[:-1] + "-"  # a word broken across the page's end
    spans.append((span_start, len(out), section))
    return out, [(s, e, sec) for s, e, sec in spans if e > s]


def _join_line(out: str, line: str, previous: str, vocabulary: set[str]) -> str:
    """Append a line to running text, mending words and compounds broken at the line end."""
    if out.endswith("\xad"):  # a soft hyphen only ever marks a break inside a word
        return out[:-1] + line
    if len(previous) == 1 and previous.isupper() and (line[0] == "-" or line[0].islower()):
        return out + line  # a drop capital: "G" + "-protein coupled receptors"
    broken = re.search(r"([^\W_]+) ?[-\u2010]$", out)
    if broken is None or not line[:1].isalnum():
        return out + " " + line
    word, hyphen = broken.group(1), out[-1]
    head = out[: broken.start()] + word
    if not line[:1].islower() or not word.isalpha():
        return head + hyphen + line  # "SH3-" + "Binding", "CD4-" + "positive": compounds, not split words
    letters = re.match(r"[^\W\d_]+", line)
    tail = letters.group(0) if letters else ""
    if f"{word}{tail}".lower() in vocabulary:
        return head + line
    both_words = min(len(word), len(tail)) > _FRAGMENT_MAX and {word.lower(), tail.lower()} <= vocabulary
    if f"{word}-{tail}".lower() in vocabulary or both_words:
        return head + hyphen + line  # "protein-protein", "network-level": the document's own compounds
    return head + line

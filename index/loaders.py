"""Read evidence files (PDF, HTML, Markdown, text, coded-evidence CSV/JSON) into Documents.

Every failure is an :class:`InputError` naming the file and the problem, so a batch can skip
the file and the command line can print one line instead of a traceback.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import unquote

from index.errors import InputError
from index.models import DocKind, Document, EvidenceRecord, FieldName, FieldSpan, Segment, SourceInfo
from index.settings import Settings

logger = logging.getLogger(__name__)

SOURCES_FILE = "sources.csv"
EVIDENCE_REQUIRED = ("record_id", "component", "context", "mechanism", "outcome", "source_id")
EVIDENCE_OPTIONAL = ("evidence_summary", "section", "included_study")
SOURCE_COLUMNS = ("source_id", "authors", "year", "title", "venue", "doi", "url", "licence", "design", "country")

_KIND_BY_SUFFIX: dict[str, DocKind] = {
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".csv": "evidence",
    ".json": "evidence",
}
SUPPORTED_SUFFIXES = tuple(sorted(_KIND_BY_SUFFIX))

_TAG_RE = re.compile(r"\[([A-Za-z0-9_.\-]+) §([^\]\n]+)\]")
_TRAILING_TAGS_RE = re.compile(r"(?:\s*\[[A-Za-z0-9_.\-]+ §[^\]\n]+\][\s;,]*)+$")
_MD_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_PDF_HEADING_RE = re.compile(
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
_EDGE_LINES = 4  # running headers and footers sit within this many lines of a page's edge
_DEBRIS_RUN = 3  # this many debris lines in a row are a figure or table, not prose


def kind_of(path: Path) -> DocKind:
    """The format a file is read as, from its extension."""
    kind = _KIND_BY_SUFFIX.get(path.suffix.lower())
    if kind is None:
        supported = ", ".join(SUPPORTED_SUFFIXES)
        raise InputError(path, f"unsupported file type '{path.suffix or '(none)'}' (supported: {supported})")
    return kind


def doc_id_for(path: Path) -> str:
    """A stable document id from a file name: URL-decoded stem, accents dropped, reduced to safe characters."""
    stem = unicodedata.normalize("NFKD", unquote(path.stem))
    stem = "".join(ch for ch in stem if not unicodedata.combining(ch))  # 'Évaluation' -> 'Evaluation'
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.")
    return slug or "document"


def discover(data_dir: Path) -> list[Path]:
    """Evidence files under a folder, in a stable order; question sets and READMEs are skipped."""
    if not data_dir.is_dir():
        raise InputError(data_dir, "not a folder")
    found = []
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.name == SOURCES_FILE or path.stem.upper() == "README" or path.suffix == ".jsonl":
            continue
        if path.suffix.lower() in _KIND_BY_SUFFIX:
            found.append(path)
    return found


def read_sources(path: Path) -> dict[str, SourceInfo]:
    """Bibliographic metadata by source_id from a ``sources.csv`` file (empty if absent)."""
    return parse_sources(path, path.read_bytes()) if path.exists() else {}


def parse_sources(path: Path, data: bytes) -> dict[str, SourceInfo]:
    """Bibliographic metadata by source_id from the bytes of a ``sources.csv`` (``path`` names it in errors)."""
    _, rows = read_csv_table(path, data, required=("source_id",))
    sources = {}
    for row in rows:
        fields = {name: (row.get(name) or "").strip() for name in SOURCE_COLUMNS}
        if fields["source_id"]:
            sources[fields["source_id"]] = SourceInfo(**fields)
    return sources


def load_file(path: Path, settings: Settings, sources: dict[str, SourceInfo] | None = None) -> Document:
    """Read one evidence file into a Document, or raise InputError naming the problem."""
    sources = sources or {}
    kind = kind_of(path)
    if not path.exists():
        raise InputError(path, "no such file")
    if not path.is_file():
        raise InputError(path, "not a regular file")
    size = path.stat().st_size
    if size > settings.max_file_mb * 1024 * 1024:
        raise InputError(path, f"file is {size / 1e6:.0f} MB, over the {settings.max_file_mb:g} MB limit")
    data = path.read_bytes()
    if not data.strip():
        raise InputError(path, "file is empty")
    doc_id = doc_id_for(path)
    source_id = _match_source(path, doc_id, sources)
    reader = _READERS[path.suffix.lower()]
    text, segments = reader(path, data, source_id, settings)
    if not text.strip() or not segments:
        raise InputError(path, "no readable text found")
    return Document(
        doc_id=doc_id,
        path=path.name,
        kind=kind,
        checksum=hashlib.sha256(data).hexdigest(),
        text=text,
        segments=segments,
    )


def _match_source(path: Path, doc_id: str, sources: dict[str, SourceInfo]) -> str:
    """The source_id a file belongs to: by name, by DOI in the file name, else its own id."""
    if doc_id in sources:
        return doc_id
    stem = unquote(path.stem).lower()
    for source in sources.values():
        if source.doi and source.doi.lower() == stem:
            return source.source_id
    return doc_id


# --- text-based formats -------------------------------------------------------------------


def _decode_text(path: Path, data: bytes) -> str:
    """Decode text bytes strictly: binary content and unknown encodings are refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(path, "invalid UTF-16 text") from exc
    else:
        if b"\x00" in data:
            raise InputError(path, "binary content in a text file")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(path, f"not UTF-8 text (invalid byte at offset {exc.start}); re-save it as UTF-8") from exc
    control = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    if control > max(5, len(text) // 100):
        raise InputError(path, "binary content in a text file")
    return text.replace("\r\n", "\n").replace("\r", "\n")


_BLOCK_START = re.compile(r"^\s*(?:#|\||```|>|[-*+•]\s|\d+[.)]\s)")


def unwrap_lines(text: str) -> str:
    """Join hard-wrapped prose lines with spaces; the length is kept, so offsets stay valid.

    Only a prose-length line (40+ characters) is joined to the next, and never across a
    heading, list item, table row, fence or quote, so menus and lists keep their shape.
    """
    lines = text.split("\n")
    pieces = []
    for line, following in itertools.pairwise(lines):
        joined = (
            len(line.strip()) >= 40
            and following.strip() != ""
            and not _BLOCK_START.match(line)
            and not _BLOCK_START.match(following)
        )
        pieces.append(line + (" " if joined else "\n"))
    return "".join(pieces) + lines[-1]


def _paragraph_spans(text: str, start: int, end: int) -> Iterable[tuple[int, int]]:
    """Spans of blank-line separated paragraphs inside text[start:end], whitespace trimmed."""
    for match in re.finditer(r"\S(?:.*?\S)?(?=\n\s*\n|\s*$)", text[start:end], re.DOTALL):
        yield start + match.start(), start + match.end()


def _read_markdown(path: Path, data: bytes, source_id: str, settings: Settings) -> tuple[str, list[Segment]]:
    """Markdown: headings become sections; trailing ``[source_id §Section]`` tags become metadata."""
    text = unwrap_lines(_decode_text(path, data))
    headings: list[tuple[int, int, str]] = []  # (line start, line end, title)
    offset = 0
    in_fence = False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else _MD_HEADING_RE.match(line)
        if match:
            headings.append((offset, offset + len(line), match.group(2).strip()))
        offset += len(line) + 1
    segments: list[Segment] = []
    current_source = source_id
    bounds = [*headings, (len(text), len(text), "")]
    body_start, section = 0, ""
    for line_start, line_end, title in bounds:
        segments.extend(_markdown_block(text, body_start, line_start, current_source, section))
        heading_source = re.split(r"\s+[—–-]\s+", title, maxsplit=1)[0].strip()
        if " " not in heading_source and heading_source and heading_source != title:
            current_source = heading_source
        section = title
        body_start = line_end
    return text, segments


def _markdown_block(text: str, start: int, end: int, source_id: str, section: str) -> list[Segment]:
    """Paragraphs under one heading; untagged paragraphs join the next tagged one they lead into."""
    segments = []
    pending: int | None = None  # start of untagged paragraphs awaiting a tag
    pending_end = start
    for para_start, para_end in _paragraph_spans(text, start, end):
        paragraph = text[para_start:para_end]
        if set(paragraph.strip()) <= set("-*_= "):
            continue  # a thematic break
        trailing = _TRAILING_TAGS_RE.search(paragraph)
        first = _TAG_RE.search(paragraph, trailing.start()) if trailing else None
        if trailing is None or first is None:
            pending = para_start if pending is None else pending
            pending_end = para_end
            continue
        body_end = para_start + trailing.start()
        tags = [f"{m.group(1)} §{m.group(2).strip()}" for m in _TAG_RE.finditer(paragraph[trailing.start() :])]
        seg_start = pending if pending is not None else para_start
        pending = None
        if body_end > seg_start:
            segments.append(
                Segment(
                    start=seg_start, end=body_end, source_id=first.group(1), section=first.group(2).strip(), tags=tags
                )
            )
    if pending is not None:
        segments.append(Segment(start=pending, end=pending_end, source_id=source_id, section=section))
    return segments


def _looks_like_heading(line: str) -> bool:
    words = line.split()
    return (
        0 < len(words) <= 8
        and line[:1].isupper()
        and line.rstrip()[-1:] not in ".,;:!?)\"'”’"
        and not any(ch.isdigit() for ch in line[:2])
    )


def _read_text(path: Path, data: bytes, source_id: str, settings: Settings) -> tuple[str, list[Segment]]:
    """Plain text: short title-like lines between paragraphs become section headings."""
    text = unwrap_lines(_decode_text(path, data))
    segments: list[Segment] = []
    section = ""
    for para_start, para_end in _paragraph_spans(text, 0, len(text)):
        paragraph = text[para_start:para_end]
        if "\n" not in paragraph and _looks_like_heading(paragraph):
            section = paragraph.strip()
            continue
        segments.append(Segment(start=para_start, end=para_end, source_id=source_id, section=section))
    return text, _merge_adjacent(segments, text)


def _merge_adjacent(segments: list[Segment], text: str) -> list[Segment]:
    """Join consecutive paragraphs of one section so the chunker can pack them into passages."""
    merged: list[Segment] = []
    for segment in segments:
        last = merged[-1] if merged else None
        if last and last.section == segment.section and last.page == segment.page and not last.tags:
            merged[-1] = last.model_copy(update={"end": segment.end})
        else:
            merged.append(segment)
    return merged


_HTML_BLOCKS = (
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "li",
    "pre",
    "blockquote",
    "td",
    "th",
    "dt",
    "dd",
    "figcaption",
    "caption",
)


def _read_html(path: Path, data: bytes, source_id: str, settings: Settings) -> tuple[str, list[Segment]]:
    """HTML: scripts and styles dropped, block elements become paragraphs, headings sections."""
    from bs4 import BeautifulSoup

    markup = _decode_text(path, data)
    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "object", "svg", "head"]):
        tag.decompose()
    parts: list[str] = []
    segments: list[Segment] = []
    section = ""
    cursor = 0
    blocks = [el for el in soup.find_all(_HTML_BLOCKS) if not el.find_parent(_HTML_BLOCKS)]
    if not blocks:
        blocks = [soup]
    for element in blocks:
        block = re.sub(r"\s+", " ", element.get_text(" ", strip=True)).strip()
        if not block:
            continue
        if getattr(element, "name", "") in ("h1", "h2", "h3", "h4", "h5", "h6"):
            section = block
        else:
            segments.append(Segment(start=cursor, end=cursor + len(block), source_id=source_id, section=section))
        parts.append(block)
        cursor += len(block) + 2
    text = "\n\n".join(parts)
    return text, _merge_adjacent(segments, text)


# --- PDF ------------------------------------------------------------------------------------


def _read_pdf(path: Path, data: bytes, source_id: str, settings: Settings) -> tuple[str, list[Segment]]:
    """PDF: one text block per page, so every passage knows its page; references are skipped.

    Running headers and footers, margin line numbers and figure labels are dropped, and words
    hyphenated at line ends are mended, so passages read as the article's prose.
    """
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
        raise InputError(path, f"corrupt PDF ({type(exc).__name__}: {str(exc)[:80]})") from exc
    except Exception as exc:  # pypdf raises many internal types on damaged files
        raise InputError(path, f"corrupt PDF ({type(exc).__name__})") from exc
    if not any(page.strip() for page in raw_pages):
        raise InputError(path, "PDF has no extractable text (scanned images need OCR first)")
    page_lines = _drop_running_lines([_pdf_lines(raw) for raw in raw_pages])
    vocabulary = _vocabulary(page_lines)
    parts: list[str] = []
    segments: list[Segment] = []
    section = ""
    cursor = 0
    for page_no, lines in enumerate(page_lines, start=1):
        page_text, page_sections = _join_pdf_lines(lines, section, vocabulary)
        for rel_start, rel_end, sec in page_sections:
            section = sec
            if sec.lower() in _SKIPPED_SECTIONS or rel_end <= rel_start:
                continue
            segments.append(
                Segment(start=cursor + rel_start, end=cursor + rel_end, source_id=source_id, section=sec, page=page_no)
            )
        parts.append(page_text)
        cursor += len(page_text) + 2
    return "\n\n".join(parts), segments


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
    if len(counted) < max(3, len(lines) // 2):
        return lines
    return [pattern.sub("", line).strip() if i in counted else line for i, line in enumerate(lines)]


def _drop_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Remove running headers and footers: lines at a page's edge that recur on many pages.

    Digits are ignored when comparing, so "Page 3 of 12" and journal lines with page
    numbers count as the same line on every page.
    """
    if len(pages) < 3:
        return pages

    def edges(lines: list[str]) -> list[int]:
        n = len(lines)
        return [i for i in range(n) if i < _EDGE_LINES or i >= n - _EDGE_LINES]

    def signature(line: str) -> str:
        return re.sub(r"\d+", "#", re.sub(r"\s+", "", line.lower()))

    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({signature(lines[i]) for i in edges(lines)})
    threshold = max(3, math.ceil(0.4 * len(pages)))
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
    """A figure label, axis tick or table cell: fewer than three words of two letters or more."""
    return sum(1 for token in line.split() if len(_LETTERS_RE.findall(token)) >= 2) < 3


def _join_pdf_lines(lines: list[str], section: str, vocabulary: set[str]) -> tuple[str, list[tuple[int, int, str]]]:
    """Join one page's lines into running text and split it where section headings start.

    Returns the page text and (start, end, section) spans within it. Runs of figure and
    table debris are dropped and words hyphenated across lines are rejoined.
    """
    keep = [True] * len(lines)
    run: list[int] = []
    for i, line in enumerate([*lines, ""]):
        if i < len(lines) and _is_debris(line) and not _PDF_HEADING_RE.match(line):
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
        heading = _PDF_HEADING_RE.match(line)
        if heading:
            if out:
                out += "\n\n"
            spans.append((span_start, len(out.rstrip()), section))
            section = heading.group(1).strip().capitalize()
            out += line
            span_start = len(out) + 2
            out += "\n\n"
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
    both_words = min(len(word), len(tail)) > 2 and {word.lower(), tail.lower()} <= vocabulary
    if f"{word}-{tail}".lower() in vocabulary or both_words:
        return head + hyphen + line  # "protein-protein", "network-level": the document's own compounds
    return head + line


# --- coded evidence -------------------------------------------------------------------------


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


def read_csv_table(path: Path, data: bytes, required: tuple[str, ...]) -> tuple[list[str], list[dict[str, str]]]:
    """A CSV file's header and its non-empty rows by column name; InputError names what is wrong."""
    text = _decode_text(path, data)
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


def _evidence_rows(path: Path, data: bytes) -> list[dict[str, str]]:
    if path.suffix.lower() == ".csv":
        return read_csv_table(path, data, EVIDENCE_REQUIRED)[1]
    try:
        payload = json.loads(_decode_text(path, data))
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


def _read_evidence(path: Path, data: bytes, source_id: str, settings: Settings) -> tuple[str, list[Segment]]:
    """Coded evidence: one atomic segment per row, rendered as readable text."""
    rows = _evidence_rows(path, data)
    if not rows:
        raise InputError(path, "no evidence records")
    seen: set[str] = set()
    parts: list[str] = []
    segments: list[Segment] = []
    cursor = 0
    for number, row in enumerate(rows, start=1):
        fields = {name: (row.get(name) or "").strip() for name in EVIDENCE_REQUIRED + EVIDENCE_OPTIONAL}
        for name in ("record_id", "component", "source_id"):
            if not fields[name]:
                raise InputError(path, f"record {number} has an empty '{name}'")
        if fields["record_id"] in seen:
            raise InputError(path, f"duplicate record_id '{fields['record_id']}'")
        seen.add(fields["record_id"])
        record = EvidenceRecord(**fields)
        block, spans = render_record(record)
        segments.append(
            Segment(
                start=cursor,
                end=cursor + len(block),
                source_id=record.source_id,
                section=record.section,
                record=record,
                fields=[f.model_copy(update={"start": cursor + f.start, "end": cursor + f.end}) for f in spans],
            )
        )
        parts.append(block)
        cursor += len(block) + 2
    return "\n\n".join(parts), segments


_Reader = Callable[[Path, bytes, str, Settings], tuple[str, list[Segment]]]
_READERS: dict[str, _Reader] = {
    ".pdf": _read_pdf,
    ".html": _read_html,
    ".htm": _read_html,
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".txt": _read_text,
    ".csv": _read_evidence,
    ".json": _read_evidence,
}

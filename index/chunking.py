"""Split documents into passages: sentence-aware, never across segments, offsets exact."""

from __future__ import annotations

import logging

from langchain_text_splitters import RecursiveCharacterTextSplitter

from index.models import Document, Passage, Segment, SourceInfo
from index.settings import Settings

logger = logging.getLogger(__name__)

# Paragraphs first, then lines, then sentence ends, then clauses; words only as a last resort.
_SEPARATORS = ["\n\n", "\n", r"(?<=[.!?])\s+", r"(?<=[;:])\s+", r"(?<=,)\s+", r"\s+"]


def make_splitter(settings: Settings) -> RecursiveCharacterTextSplitter:
    """The text splitter for the configured passage size."""
    return RecursiveCharacterTextSplitter(
        chunk_size=settings.chunk_size,
        chunk_overlap=min(settings.chunk_overlap, settings.chunk_size // 2),
        separators=_SEPARATORS,
        is_separator_regex=True,
        keep_separator="end",
        strip_whitespace=True,
    )


def is_readable(text: str, min_chars: int) -> bool:
    """Whether a span is prose worth citing, not a table dump, a number list or noise."""
    stripped = text.strip()
    if len(stripped) < min_chars:
        return False
    letters = sum(ch.isalpha() for ch in stripped)
    if letters / len(stripped) < 0.5:
        return False
    lines = [line for line in stripped.split("\n") if line.strip()]
    if len(lines) >= 4 and sorted(len(line) for line in lines)[len(lines) // 2] < 25:
        return False  # a menu, a column of numbers or a table flattened into short lines
    words = stripped.split()
    return len(words) >= 5 and sum(len(w) == 1 for w in words) / len(words) < 0.5


def split_document(
    document: Document, settings: Settings, sources: dict[str, SourceInfo] | None = None
) -> list[Passage]:
    """Passages of a document in text order, each an exact span of ``document.text``."""
    sources = sources or {}
    splitter = make_splitter(settings)
    passages: list[Passage] = []
    for segment in document.segments:
        source = sources.get(segment.source_id) or SourceInfo(source_id=segment.source_id)
        for start, end in _spans(document.text, segment, splitter):
            text = document.text[start:end]
            if segment.record is None and not is_readable(text, settings.min_passage_chars):
                continue
            passages.append(
                Passage(
                    passage_id=Passage.make_id(document.doc_id, start, text),
                    doc_id=document.doc_id,
                    kind=document.kind,
                    text=text,
                    start=start,
                    end=end,
                    source_id=segment.source_id,
                    section=segment.section,
                    heading=segment.heading,
                    page=segment.page,
                    tags=segment.tags,
                    record=segment.record,
                    fields=[
                        f.model_copy(update={"start": f.start - start, "end": f.end - start})
                        for f in segment.fields
                        if start <= f.start and f.end <= end
                    ],
                    source=source,
                )
            )
    return passages


def _spans(text: str, segment: Segment, splitter: RecursiveCharacterTextSplitter) -> list[tuple[int, int]]:
    """Character spans of the chunks of one segment, located exactly in the document text."""
    body = text[segment.start : segment.end]
    if segment.record is not None or len(body) <= splitter._chunk_size:
        stripped = body.strip()
        if not stripped:
            return []
        lead = len(body) - len(body.lstrip())
        return [(segment.start + lead, segment.start + lead + len(stripped))]
    spans = []
    cursor = 0
    for chunk in splitter.split_text(body):
        # The next chunk starts at most chunk_overlap characters before this one ends; searching
        # from there, not from just after this start, keeps repeated sentences at their own place.
        position = body.find(chunk, cursor)
        if position < 0:
            position = body.find(chunk)
        if position < 0:
            logger.warning("chunk not found in its segment; skipped (%r...)", chunk[:40])
            continue
        spans.append((segment.start + position, segment.start + position + len(chunk)))
        cursor = position + max(1, len(chunk) - splitter._chunk_overlap)
    return spans

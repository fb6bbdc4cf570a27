"""Markdown: headings become sections; trailing ``[source_id §Section]`` tags become metadata.

A heading of the form ``id — title`` (an em dash, en dash or hyphen between spaces, and an id
without spaces) switches the source of the untagged text below it, up to the next such heading:
one Markdown file can summarise several publications (data/README.md, ``review_summaries.md``).
"""

from __future__ import annotations

import re
from pathlib import Path

from index.models import Segment
from index.readers.textio import decode_text, paragraph_spans, unwrap_lines
from index.settings import Settings

_TAG_RE = re.compile(r"\[([A-Za-z0-9_.\-]+) §([^\]\n]+)\]")
_TRAILING_TAGS_RE = re.compile(r"(?:\s*\[[A-Za-z0-9_.\-]+ §[^\]\n]+\][\s;,]*)+$")
_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_SOURCE_HEADING_DASH = re.compile(r"\s+[—–-]\s+")  # 'sims2021 — Realist review': the dash after the id
_THEMATIC_BREAK = set("-*_= ")  # a paragraph of only these characters is a rule line, not text


def read_markdown(path: Path, data: bytes, source_id: str, settings: Settings) -> tuple[str, list[Segment]]:
    """Segments per heading, tagged paragraphs attributed by their tags, the rest to the current source."""
    text = unwrap_lines(decode_text(path, data))
    headings: list[tuple[int, int, str]] = []  # (line start, line end, title)
    offset = 0
    in_fence = False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else _HEADING_RE.match(line)
        if match:
            headings.append((offset, offset + len(line), match.group(2).strip()))
        offset += len(line) + 1
    segments: list[Segment] = []
    current_source = source_id
    bounds = [*headings, (len(text), len(text), "")]
    body_start, section = 0, ""
    for line_start, line_end, title in bounds:
        segments.extend(_markdown_block(text, body_start, line_start, current_source, section))
        current_source = _heading_source(title) or current_source
        section = title
        body_start = line_end
    return text, segments


def _heading_source(title: str) -> str | None:
    """The source id a heading names (``id — title``), or None for an ordinary heading."""
    head = _SOURCE_HEADING_DASH.split(title, maxsplit=1)[0].strip()
    if " " not in head and head and head != title:
        return head
    return None


def _markdown_block(text: str, start: int, end: int, source_id: str, section: str) -> list[Segment]:
    """Paragraphs under one heading; untagged paragraphs join the next tagged one they lead into."""
    segments = []
    pending: int | None = None  # start of untagged paragraphs awaiting a tag
    pending_end = start
    for para_start, para_end in paragraph_spans(text, start, end):
        paragraph = text[para_start:para_end]
        if set(paragraph.strip()) <= _THEMATIC_BREAK:
            continue
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
                    start=seg_start,
                    end=body_end,
                    source_id=first.group(1),
                    section=first.group(2).strip(),
                    heading=section,
                    tags=tags,
                )
            )
    if pending is not None:
        segments.append(Segment(start=pending, end=pending_end, source_id=source_id, section=section))
    return segments

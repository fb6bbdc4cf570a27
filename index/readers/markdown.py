"""Markdown: headings become sections; trailing ``[source_id §Section]`` tags become metadata.

A heading of the form ``id — title`` (an em dash, en dash or hyphen between spaces, and an id
without spaces) switches the source of the untagged text below it, up to the next such heading:
one Markdown file can summarise several publications (data/README.md, ``review_summaries.md``).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from index.models import Segment
from index.readers.textio import decode_text, paragraph_spans, unwrap_lines
from index.sentences import sentence_units
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


def _attributed(text: str, start: int, end: int, tags: list[tuple[str, str]], heading: str) -> list[Segment]:
    """A tagged paragraph as segments: one for the publication its tags name, or, where the tags name
    several (a comparison compiled across publications), its sentences grouped by the one publication each
    names, by id ("bhat2022") or by the name its id starts with ("Middleton et al."); a sentence naming
    none or several keeps all the tags, and the first tag's publication."""
    sources = list(dict.fromkeys(source_id for source_id, _ in tags))
    sections = dict(reversed(tags))  # a source's first tag gives its section
    first = sources[0]

    def segment(seg_start: int, seg_end: int, source_id: str | None) -> Segment:
        """A span of the paragraph: of the one publication it names, or (None) of the paragraph's tags."""
        return Segment(
            start=seg_start,
            end=seg_end,
            source_id=source_id or first,
            section=sections[source_id or first],
            heading=heading,
            tags=[f"{sid} §{sec}" for sid, sec in tags if source_id in (None, sid)],
        )

    if len(sources) == 1:
        return [segment(start, end, None)]
    names = _source_names(sources)
    owners: list[tuple[int, int, str | None]] = []
    for unit_start, unit_end in sentence_units(text[start:end]):
        words = set(re.findall(r"[a-z0-9_]+", text[start + unit_start : start + unit_end].lower()))
        named = {source_id for source_id in sources if source_id.lower() in words or names.get(source_id) in words}
        owners.append((unit_start, unit_end, named.pop() if len(named) == 1 else None))
    # A sentence naming none that opens the paragraph ("Several publications raise power ...") leads into
    # the sentence after it.
    if len(owners) > 1 and owners[0][2] is None and owners[1][2] is not None:
        owners[:2] = [(owners[0][0], owners[1][1], owners[1][2])]
    groups: list[tuple[int, int, str | None]] = []
    for unit_start, unit_end, owner in owners:
        if groups and groups[-1][2] == owner:
            groups[-1] = (groups[-1][0], start + unit_end, owner)
        else:
            groups.append((start + unit_start if groups else start, start + unit_end, owner))
    return [segment(seg_start, seg_end, owner) for seg_start, seg_end, owner in groups]


def _source_names(sources: list[str]) -> dict[str, str]:
    """The name each source id starts with ("middleton" for middleton2024), where no other id shares it."""
    stems = {source_id: re.split(r"[^a-z]", source_id.lower())[0] for source_id in sources}
    counts = Counter(stems.values())
    return {source_id: stem for source_id, stem in stems.items() if len(stem) >= 3 and counts[stem] == 1}


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
        found = [(m.group(1), m.group(2).strip()) for m in _TAG_RE.finditer(paragraph[trailing.start() :])]
        seg_start = pending if pending is not None else para_start
        pending = None
        if body_end > seg_start:
            segments.extend(_attributed(text, seg_start, body_end, found, section))
    if pending is not None:
        segments.append(Segment(start=pending, end=pending_end, source_id=source_id, section=section))
    return segments

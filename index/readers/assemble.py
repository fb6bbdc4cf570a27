"""The one place a document's text is put together from blocks, so segment offsets are computed once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from index.models import Segment

BLOCK_SEPARATOR = "\n\n"  # a blank line: the chunker and sentence splitter read it as a paragraph break


@dataclass(frozen=True)
class Block:
    """A piece of a document's text and its segments, with offsets relative to the piece."""

    text: str
    segments: list[Segment] = field(default_factory=list)


def assemble(blocks: Iterable[Block]) -> tuple[str, list[Segment]]:
    """Join blocks with blank lines and move each block's segments to offsets in the whole text."""
    parts: list[str] = []
    segments: list[Segment] = []
    cursor = 0
    for block in blocks:
        segments.extend(_shifted(segment, cursor) for segment in block.segments)
        parts.append(block.text)
        cursor += len(block.text) + len(BLOCK_SEPARATOR)
    return BLOCK_SEPARATOR.join(parts), segments


def _shifted(segment: Segment, offset: int) -> Segment:
    """A segment and its field spans moved ``offset`` characters later."""
    fields = [
        span.model_copy(update={"start": span.start + offset, "end": span.end + offset}) for span in segment.fields
    ]
    return segment.model_copy(update={"start": segment.start + offset, "end": segment.end + offset, "fields": fields})


def merge_adjacent(segments: list[Segment]) -> list[Segment]:
    """Join consecutive paragraphs of one section so the chunker can pack them into passages."""
    merged: list[Segment] = []
    for segment in segments:
        last = merged[-1] if merged else None
        if last and last.section == segment.section and last.page == segment.page and not last.tags:
            merged[-1] = last.model_copy(update={"end": segment.end})
        else:
            merged.append(segment)
    return merged

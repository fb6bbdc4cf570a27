"""Plain text: short title-like lines between paragraphs become section headings."""

from __future__ import annotations

from pathlib import Path

from index.models import Segment
from index.readers.assemble import merge_adjacent
from index.readers.textio import decode_text, paragraph_spans, unwrap_lines
from index.settings import Settings

_HEADING_MAX_WORDS = 8  # titles are short ("Results", "Barriers to joint working"); longer lines are prose
_SENTENCE_END = ".,;:!?)\"'”’"  # a line ending in punctuation is a sentence or a lead-in, not a title
_NUMBERED_PREFIX = 2  # a digit in a line's first characters marks a list item, date or figure, not a title


def read_text(path: Path, data: bytes, source_id: str, settings: Settings) -> tuple[str, list[Segment]]:
    """One segment per section: paragraphs under the same heading are merged."""
    text = unwrap_lines(decode_text(path, data))
    segments: list[Segment] = []
    section = ""
    for para_start, para_end in paragraph_spans(text, 0, len(text)):
        paragraph = text[para_start:para_end]
        if "\n" not in paragraph and _looks_like_heading(paragraph):
            section = paragraph.strip()
            continue
        segments.append(Segment(start=para_start, end=para_end, source_id=source_id, section=section))
    return text, merge_adjacent(segments)


def _looks_like_heading(line: str) -> bool:
    """A one-line paragraph that reads as a title: short, capitalised, unpunctuated, not numbered."""
    words = line.split()
    return (
        0 < len(words) <= _HEADING_MAX_WORDS
        and line[:1].isupper()
        and line.rstrip()[-1:] not in _SENTENCE_END
        and not any(ch.isdigit() for ch in line[:_NUMBERED_PREFIX])
    )

"""HTML: scripts and styles dropped, block elements become paragraphs, headings sections."""

from __future__ import annotations

import re
from pathlib import Path

from index.models import Segment
from index.readers.assemble import Block, assemble, merge_adjacent
from index.readers.textio import decode_text
from index.settings import Settings

_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_BLOCKS = (*_HEADINGS, "p", "li", "pre", "blockquote", "td", "th", "dt", "dd", "figcaption", "caption")
_DROPPED = ["script", "style", "noscript", "template", "iframe", "object", "svg", "head"]  # not the page's prose


def read_html(path: Path, data: bytes, source_id: str, settings: Settings) -> tuple[str, list[Segment]]:
    """One paragraph per outermost block element; a page without block elements is one paragraph."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(path, data), "html.parser")
    for tag in soup(_DROPPED):
        tag.decompose()
    elements = [el for el in soup.find_all(_BLOCKS) if not el.find_parent(_BLOCKS)] or [soup]
    blocks: list[Block] = []
    section = ""
    for element in elements:
        block = re.sub(r"\s+", " ", element.get_text(" ", strip=True)).strip()
        if not block:
            continue
        if getattr(element, "name", "") in _HEADINGS:
            section = block
            blocks.append(Block(block))
        else:
            blocks.append(Block(block, [Segment(start=0, end=len(block), source_id=source_id, section=section)]))
    text, segments = assemble(blocks)
    return text, merge_adjacent(segments)

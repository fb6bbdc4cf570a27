"""Sentence boundaries with exact offsets, shared by indexing, answering and evaluation.

A rule-based splitter: scientific prose is full of "et al.", "e.g.", decimals and
citation brackets that naive splitting on full stops breaks apart.
"""

from __future__ import annotations

import re

from index.markers import BODY as MARKER_BODY

_ABBREVIATIONS = {
    "al", "e.g", "i.e", "eg", "ie", "etc", "vs", "cf", "fig", "figs", "no", "nos", "vol", "pp", "p",
    "dr", "mr", "mrs", "ms", "prof", "st", "approx", "ca", "ed", "eds", "inc", "ltd", "co", "jr", "sr",
    "dept", "univ", "resp", "ref", "refs", "tab", "eq", "sec", "ch", "u.s", "u.k", "n.d",
}  # fmt: skip

# A candidate boundary: end punctuation (maybe followed by quotes, brackets or a citation
# marker such as [3], [1,2] or [1-3]), then whitespace, then something that can open a sentence.
_BOUNDARY = re.compile(rf"([.!?])([\"'”’)\]]*(?:\s*\[{MARKER_BODY}\])?)(\s+)(?=[\"'“‘(\[]?[A-Z0-9•\-])")
_LINE_BREAK = re.compile(r"\n\s*")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text``, whitespace trimmed, in order."""
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _blocks(text):
        start = block_start
        for match in _BOUNDARY.finditer(text, block_start, block_end):
            end = match.end(2)
            if _is_abbreviation(text, start, match.start(1)) or _inside_quote(text, start, match):
                continue
            spans.append((start, end))
            start = match.end(3)
        spans.append((start, block_end))
    return [trimmed for span in spans if (trimmed := _trim(text, *span))]


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` as strings."""
    return [text[start:end] for start, end in sentence_spans(text)]


def _blocks(text: str) -> list[tuple[int, int]]:
    """Lines: a sentence never spans a line break (loaders unwrap hard-wrapped prose)."""
    blocks = []
    start = 0
    for match in _LINE_BREAK.finditer(text):
        blocks.append((start, match.start()))
        start = match.end()
    blocks.append((start, len(text)))
    return blocks


def _inside_quote(text: str, start: int, match: re.Match[str]) -> bool:
    """Whether a question or exclamation mark ends a quoted title inside the sentence rather than the
    sentence: 'The article is titled "What does success look like? A realist review".' is one sentence."""
    if match.group(1) == "." or match.group(2):
        return False  # a full stop, or a mark the quote closes after, ends the sentence
    before = text[start : match.start(1)]
    return before.count('"') % 2 == 1 or before.count("“") > before.count("”")


def _is_abbreviation(text: str, start: int, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word = re.search(r"([A-Za-z][A-Za-z.]*)$", text[start:dot])
    if word is None:
        return False
    token = word.group(1).lower()
    return token in _ABBREVIATIONS or len(token) == 1


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


#: A list item's opening marker: "-", "*", "•", "1.", "2)".
LIST_MARKER = r"(?:[-*•]|\d{1,2}[.)])"
#: A list item: its opening marker and at least one word after it.
_LIST_ITEM = re.compile(rf"\s*{LIST_MARKER}\s+\S")


def sentence_units(text: str, max_words: int = 60, min_words: int = 8) -> list[tuple[int, int]]:
    """Spans embedded one by one for sentence-level scoring and extraction.

    Sentences, with fragments under ``min_words`` joined to the next sentence (a list item, and
    the words that open a list, stay whole: joined, two items would read as one; a fragment just
    before a list item stands alone) and sentences over ``max_words`` cut at word boundaries, so
    every unit fits the embedding model's window.
    """
    units: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None  # a fragment waiting to be read with what follows
    for start, end in sentence_spans(text):
        if pending is not None:
            if _LIST_ITEM.match(text[start:end]):
                units.append(pending)
            else:
                start = pending[0]  # a bare "1." or a short phrase reads with the sentence after it
            pending = None
        words = list(re.finditer(r"\S+", text[start:end]))
        whole = _LIST_ITEM.match(text[start:end]) or text[start:end].rstrip().endswith(":")
        if len(words) < min_words and not whole:
            pending = (start, end)
            continue
        for i in range(0, len(words), max_words):
            piece = words[i : i + max_words]
            units.append((start + piece[0].start(), start + piece[-1].end()))
    if pending is not None:
        tail = _trim(text, pending[0], len(text))
        if tail and units and text[units[-1][1] : tail[0]].strip() == "":
            units[-1] = (units[-1][0], tail[1])
        elif tail:
            units.append(tail)
    return units


def word_window_spans(text: str, size: int = 64, stride: int = 32) -> list[tuple[int, int]]:
    """Spans of ``size``-word windows every ``stride`` words, the last aligned to the text's end.

    Empty when the text has no more than ``size`` words: it is then its own window.
    """
    words = list(re.finditer(r"\S+", text))
    if len(words) <= size:
        return []
    starts = list(range(0, len(words) - size + 1, stride))
    if starts[-1] != len(words) - size:
        starts.append(len(words) - size)
    return [(words[i].start(), words[i + size - 1].end()) for i in starts]

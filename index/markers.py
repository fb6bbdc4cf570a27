"""Citation markers: the one grammar of the ``[n]`` by which an answer cites its passages.

A marker holds numbers separated by commas or semicolons, or joined by a dash into a range:
``[1]``, ``[1, 2]``, ``[1; 2]``, ``[1-3]``, ``[1–3]``; markers may follow one another, ``[1][2]``
or ``[1] [2]``. A range cites every number in it. The sentence splitter, the LLM answerer, the
support scorer and eval scoring all read markers here, so they agree on what a marker is.
"""

from __future__ import annotations

import re

#: The inside of one marker, as a pattern to embed: ``1``, ``1, 2``, ``1; 2``, ``1-3``, ``1–3``.
BODY = r"\d+(?:\s*[,;–-]\s*\d+)*"
#: One marker with the white space before it; group 1 is its body.
_MARKER_RE = re.compile(rf"\s*\[({BODY})\]")
#: Markers one after another: ``[1]``, `` [1, 2]``, ``[1][2]``, ``[1] [2]``.
GROUP_RE = re.compile(rf"(?:\s*\[{BODY}\])+")
#: A marker group right after a colon or semicolon on the same line: ``lists three habits: [1]``.
GROUP_AFTER_COLON_RE = re.compile(rf"[:;](?:[ \t]*\[{BODY}\])+")
#: A range wider than this (``[1-2020]``) is read as its two ends: no answer cites so many passages.
MAX_RANGE = 20


def has_markers(text: str) -> bool:
    """Whether a text holds at least one marker."""
    return _MARKER_RE.search(text) is not None


def strip_markers(text: str) -> str:
    """A text without its markers, trimmed."""
    return _MARKER_RE.sub("", text).strip()


def marker_numbers(text: str) -> list[int]:
    """The numbers the markers of a text cite, in order: ``a [2] b [1-3]`` -> [2, 1, 2, 3]."""
    return [n for match in _MARKER_RE.finditer(text) for n in _body_numbers(match.group(1))]


def take_markers(text: str) -> tuple[str, list[tuple[int, list[int]]]]:
    """The text without its markers, and each marker's numbers with its position in that text."""
    pieces: list[str] = []
    markers: list[tuple[int, list[int]]] = []
    cursor = length = 0
    for match in _MARKER_RE.finditer(text):
        pieces.append(text[cursor : match.start()])
        length += match.start() - cursor
        markers.append((length, _body_numbers(match.group(1))))
        cursor = match.end()
    pieces.append(text[cursor:])
    return "".join(pieces), markers


def _body_numbers(body: str) -> list[int]:
    """Numbers of one marker's body: ``2`` -> [2], ``1, 3`` -> [1, 3], ``1-3`` -> [1, 2, 3]."""
    numbers: list[int] = []
    for part in re.split(r"\s*[,;]\s*", body):
        ends = [int(n) for n in re.split(r"\s*[–-]\s*", part)]
        low, high = ends[0], ends[-1]
        numbers.extend(range(low, high + 1) if 0 <= high - low <= MAX_RANGE else ends)
    return numbers

"""Figures of speech a question may use, read in the plain words the research writes."""

from __future__ import annotations

import pytest
from helpers import DATA_DIR

from rag.idioms import FIGURES, _figures, in_plain_words


@pytest.mark.parametrize(
    ("question", "plain"),
    [
        ("Why do some partnerships run out of steam?", "Why do some partnerships fail to be sustained?"),
        ("How should leaders handle turf wars?", "How should leaders handle conflicts over boundaries?"),
        ("How long does integration take to bear fruit?", "How long does integration take to produce results?"),
        # a verb keeps its ending
        ("What makes or breaks integration?", "What decides the success of integration?"),
        ("leaders juggling loyalties", "leaders balancing loyalties"),
        ("How do we get everyone on board?", "How do we get everyone committed?"),
        # case does not matter
        ("Is There A Silver Bullet?", "Is There a single solution?"),
    ],
)
def test_a_figure_of_speech_is_read_in_plain_words(question: str, plain: str) -> None:
    assert in_plain_words(question) == plain


@pytest.mark.parametrize(
    "text",
    [
        "How many people were on board the ship?",  # literally on board
        "Which proteins stick out of the membrane?",
        "What do top-down reforms achieve?",  # the research's own word
        "How do leaders steam ahead?",  # a figure's word alone is no figure
    ],
)
def test_literal_words_are_left_as_they_are(text: str) -> None:
    assert in_plain_words(text) == text


def test_no_figure_is_in_the_words_of_the_bundled_evidence() -> None:
    """A figure the evidence writes itself is its own word: read in other words, a question would miss it."""
    files = ("review_summaries.md", "coded_evidence.csv", "sources.csv")
    evidence = "\n".join((DATA_DIR / name).read_text(encoding="utf-8") for name in files)
    assert "top-down" in evidence
    assert [raw for raw, (pattern, _) in zip(FIGURES, _figures(), strict=True) if pattern.search(evidence)] == []

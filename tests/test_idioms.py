"""Figures of speech a question may use, read in the plain words the research writes."""

from __future__ import annotations

import pytest
from helpers import DATA_DIR

from rag.idioms import FIGURES, _figures, in_plain_words


@pytest.mark.parametrize(
    ("question", "plain"),
    [
        ("Why do some partnerships run out of steam?", "Why do some partnerships fail to last?"),
        ("Are partnerships losing steam?", "Are partnerships failing to last?"),
        ("How should leaders handle turf wars?", "How should leaders handle conflicts over boundaries?"),
        ("How long does integration take to bear fruit?", "How long does integration take to produce results?"),
        # a verb keeps its ending, and its object
        ("What makes or breaks integration?", "What decides the success of integration?"),
        ("leaders juggling loyalties", "leaders balancing loyalties"),
        ("Has it borne fruit?", "Has it produced results?"),
        ("How do we get everyone on board?", "How do we get everyone committed?"),
        ("Who keeps patients in the loop?", "Who keeps patients informed?"),
        # an article stays the question's own
        ("Is there no panacea?", "Is there no single solution?"),
        ("How solid is the research underneath them?", "How strong is the research behind them?"),
        ("Is there rock-solid evidence for it?", "Is there strong evidence for it?"),
        ("Should doctors lead integration across our patch?", "Should physicians lead integration across our area?"),
        ("Is it just ticking a box?", "Is it a formality?"),
        ("How do I get sceptical consultants to buy into it?", "How do I get reluctant consultants to commit to it?"),
        ("How do I get the GPs to buy in to it?", "How do I get the GPs to commit to it?"),
        ("Is the course a waste of money?", "Is the course not worth it?"),
        ("How do people stop defending their corner?", "How do people stop protecting their interests?"),
        ("What on earth does that mean?", "What does that mean?"),
        ("Which do I believe?", "Which is better supported by the evidence?"),
        ("Is it a quick win?", "Is it a fast gain?"),
        ("How do leaders break down silos?", "How do leaders break down barriers?"),
        # everyday clippings are read in full
        ("What helps a chief exec make that jump?", "What helps a chief executive make that change?"),
        ("our new non-execs", "our new non-executives"),
        # case does not matter
        ("Is There A Silver Bullet?", "Is There A single solution?"),
        ("What will staff do differently on Monday morning?", "What will staff do differently in daily practice?"),
        # not "aim it": the words of a question asking for a study's aims
        ("At what levels should we pitch it?", "At what levels should we target it?"),
        ("Should it be pitched at different levels?", "Should it be targeted at different levels?"),
        ("What can the person at the top do to make it stick?", "What can senior management do to sustain it?"),
        (
            "How can senior management get it embedded everywhere?",
            "How can senior management get it sustained everywhere?",
        ),
        ("We must embed the changes, not just pilot them.", "We must sustain the changes, not just pilot them."),
        ("designing a leadership course for teams", "designing a leadership programme for teams"),
        ("Of course the course of events matters.", "Of course the course of events matters."),
        ("Is it anything more than a badge on the board?", "Is it anything more than a formal role only?"),
        ("nz primary care - realist findings pls", "New Zealand primary care - realist findings please"),
        ("How should a large ICS lead across its footprint?", "How should a large ICS lead across its area?"),
        ("Can ICSs cut their carbon footprint?", "Can ICSs cut their carbon footprint?"),
    ],
)
def test_a_figure_of_speech_is_read_in_plain_words(question: str, plain: str) -> None:
    assert in_plain_words(question) == plain


@pytest.mark.parametrize(
    "text",
    [
        "How many people were on board the ship?",  # literally on board
        "Did they stick out the trial?",
        "What do top-down reforms achieve?",  # the research's own word
        "How do leaders steam ahead?",  # a figure's word alone is no figure
        "What causes growing pains in children?",
        "Were patients with no teeth excluded?",
    ],
)
def test_literal_words_are_left_as_they_are(text: str) -> None:
    assert in_plain_words(text) == text


def test_a_figure_whose_every_word_the_index_uses_is_read_as_written() -> None:
    """An index that writes "buy-in" or "moved the needle" means what it says; one that never writes "steam"
    does not."""

    def own_words(figure: str) -> bool:
        return "steam" not in figure  # the index writes every word of any other figure

    assert in_plain_words("How do we win buy-in?", own_words) == "How do we win buy-in?"
    assert in_plain_words("Did it run out of steam?", own_words) == "Did it fail to last?"


def test_no_figure_is_in_the_words_of_the_bundled_evidence() -> None:
    """A figure the evidence writes itself is its own word: read in other words, a question would miss it."""
    files = ("review_summaries.md", "coded_evidence.csv", "sources.csv")
    evidence = "\n".join((DATA_DIR / name).read_text(encoding="utf-8") for name in files)
    assert "top-down" in evidence
    assert [raw for raw, (pattern, _) in zip(FIGURES, _figures(), strict=True) if pattern.search(evidence)] == []

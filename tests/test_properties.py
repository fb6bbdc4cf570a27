"""Properties, checked on generated inputs: sentence and unit spans, word windows, citation numbering.

The chunker's own property (passages are exact, bounded, ordered spans) is in test_chunking.py.
"""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.sentences import sentence_spans, sentence_units, word_window_spans
from rag.citations import assemble, cited_sentence
from rag.models import Citation

# Prose with the things that trip sentence splitters: abbreviations, decimals, citation
# brackets, quotes, list bullets, line breaks and runs of whitespace.
token = st.sampled_from(
    [
        "leaders", "Care", "teams", "shared", "purpose", "et al.", "e.g.", "i.e.", "Fig.", "3.5", "2021.",
        "U.S.", "Dr.", "No.", "p.", "(see", "below)", "[3]", "[1,2].", "“Quoted.”", "•", "-", "?", "!", "...",
        "A.", "B", "x", "é", "Σ", "\n", "\n\n", "  ", "\t",
    ]
)  # fmt: skip
prose = st.lists(token, max_size=80).map(" ".join) | st.text(max_size=200)

PROPERTY = settings(max_examples=200, deadline=None)


def assert_clean_spans(text: str, spans: list[tuple[int, int]]) -> None:
    """In bounds, ordered, non-empty and stripped of surrounding whitespace."""
    for start, end in spans:
        assert 0 <= start < end <= len(text)
        piece = text[start:end]
        assert piece and piece == piece.strip()
    assert [s for s, _ in spans] == sorted(s for s, _ in spans)


def non_space_positions(text: str) -> set[int]:
    return {i for i, ch in enumerate(text) if not ch.isspace()}


def covered(spans: list[tuple[int, int]]) -> set[int]:
    return {i for start, end in spans for i in range(start, end)}


@PROPERTY
@given(prose)
def test_sentences_are_ordered_disjoint_clean_and_cover_the_text(text: str) -> None:
    spans = sentence_spans(text)
    assert_clean_spans(text, spans)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start  # no overlap
    for start, end in spans:
        assert "\n" not in text[start:end]  # a sentence never crosses a line break
    assert non_space_positions(text) <= covered(spans)  # nothing is lost


@PROPERTY
@given(prose, st.integers(2, 80), st.integers(1, 12))
def test_sentence_units_are_ordered_disjoint_clean_and_bounded(text: str, max_words: int, min_words: int) -> None:
    units = sentence_units(text, max_words=max_words, min_words=min_words)
    assert_clean_spans(text, units)
    for (_, end), (start, _) in itertools.pairwise(units):
        assert end <= start
    assert non_space_positions(text) <= covered(units)
    for start, end in units:
        # A fragment shorter than min_words joins its neighbour, so a unit may pass max_words by that much.
        assert len(text[start:end].split()) <= max_words + min_words


def test_a_short_list_item_is_a_unit_of_its_own() -> None:
    """Two short items joined would be quoted as one sentence stating two publications' figures."""
    text = (
        "The main findings were:\n- **harris2022:** 36 included papers.\n"
        "- **knight2024:** six CMOCs from 18 documents.\nA short note. It joins the sentence after it here."
    )
    units = [text[start:end] for start, end in sentence_units(text)]
    assert units == [
        "The main findings were:",
        "- **harris2022:** 36 included papers.",
        "- **knight2024:** six CMOCs from 18 documents.",
        "A short note. It joins the sentence after it here.",
    ]
    numbered = "1. First thing here is short.\n2. Second thing here."
    assert [numbered[a:b] for a, b in sentence_units(numbered)] == [
        "1. First thing here is short.",
        "2. Second thing here.",
    ]
    inline = "Key points. - Item one. - Item two."
    assert [inline[a:b] for a, b in sentence_units(inline)] == ["Key points.", "- Item one.", "- Item two."]


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            'The article is titled "Does success last? A realist review". It appeared in 2021.',
            ['The article is titled "Does success last? A realist review".', "It appeared in 2021."],
        ),
        ("The report, “Why now? Lessons”, was short. Next.", ["The report, “Why now? Lessons”, was short.", "Next."]),
        ('He asked "why?" Then he left.', ['He asked "why?"', "Then he left."]),  # the quote closes the sentence
        ("What works? Trust does.", ["What works?", "Trust does."]),
    ],
)
def test_a_question_mark_inside_a_quoted_title_does_not_end_the_sentence(text: str, sentences: list[str]) -> None:
    assert [text[a:b] for a, b in sentence_spans(text)] == sentences


@PROPERTY
@given(st.lists(st.sampled_from(["care", "team", "x", "3.5", "—", "[1]", "é"]), max_size=200), st.integers(1, 70))
def test_word_windows_have_size_words_and_reach_both_ends(words: list[str], size: int) -> None:
    separators = itertools.cycle([" ", "  ", "\n", "\t "])
    text = "".join(w + next(separators) for w in words)
    stride = max(1, size // 2)
    windows = word_window_spans(text, size=size, stride=stride)
    tokens = list(re.finditer(r"\S+", text))
    if len(tokens) <= size:
        assert windows == []
        return
    assert_clean_spans(text, windows)
    for start, end in windows:
        assert len(text[start:end].split()) == size
    assert windows[0][0] == tokens[0].start() and windows[-1][1] == tokens[-1].end()
    starts = [s for s, _ in windows]
    assert len(set(starts)) == len(starts)
    assert non_space_positions(text) <= covered(windows)


def citation(passage: int, start: int, length: int) -> Citation:
    return Citation(
        n=99,  # assemble renumbers; the incoming number must not matter
        passage_id=f"p{passage}",
        source_id="s",
        quote="q" * length,
        start=start,
        end=start + length,
        score=0.5,
    )


cite = st.builds(citation, st.integers(0, 3), st.integers(0, 3), st.integers(1, 3))
sentences = st.lists(st.tuples(st.text(min_size=1, max_size=20), st.lists(cite, max_size=4)), max_size=8)


@PROPERTY
@given(sentences)
def test_citations_are_numbered_one_to_k_in_order_of_first_use(items: list[tuple[str, list[Citation]]]) -> None:
    answer = assemble("Q?", items, "hash")
    numbers = [c.n for c in answer.citations]
    assert numbers == list(range(1, len(numbers) + 1))  # 1..k, contiguous
    keys = [(c.passage_id, c.start, c.end) for c in answer.citations]
    assert len(set(keys)) == len(keys)  # one number per passage and span

    first_use: list[int] = []
    for sentence in answer.sentences:
        assert all(1 <= n <= len(numbers) for n in sentence.citations)  # every number refers to a citation
        assert len(set(sentence.citations)) == len(sentence.citations)
        first_use += [n for n in sentence.citations if n not in first_use]
    assert first_use == numbers  # numbered in order of first use, and every citation is used

    for (text, given_cites), sentence in zip(items, answer.sentences, strict=True):
        assert sentence.text == text
        wanted = {(c.passage_id, c.start, c.end) for c in given_cites}
        assert {keys[n - 1] for n in sentence.citations} == wanted  # duplicates share one number
    assert answer.answer == " ".join(cited_sentence(s.text, s.citations) for s in answer.sentences)

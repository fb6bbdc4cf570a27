"""The citation marker grammar, and that the answerer, the support scorer and eval scoring share it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eval.scoring import AnswerLine, line_citations, marked_sentences
from index.markers import GROUP_RE, has_markers, marker_numbers, strip_markers, take_markers
from index.sentences import split_sentences
from rag.llm import parse_reply
from rag.support import SupportScorer


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("Claim [1].", [1]),
        ("Claim [1, 2].", [1, 2]),
        ("Claim [1;2].", [1, 2]),
        ("Claim [1-3].", [1, 2, 3]),
        ("Claim [1 – 3].", [1, 2, 3]),
        ("Claim [1][2].", [1, 2]),
        ("Claim [1] [2].", [1, 2]),
        ("Claim [1, 4-5].", [1, 4, 5]),
        ("Claim [3-1].", [3, 1]),  # a backwards range is its two ends
        ("Claim [1-2020].", [1, 2020]),  # so is one wider than any answer cites
        ("Claim [a] [1 2] [] (1).", []),  # not markers
    ],
)
def test_marker_numbers(text: str, numbers: list[int]) -> None:
    assert marker_numbers(text) == numbers
    assert has_markers(text) == bool(numbers)


def test_stripping_removes_every_form_and_the_space_before_it() -> None:
    assert strip_markers("A [1]. B [1, 2]; C [1-3] [4][5]. ") == "A. B; C."
    assert strip_markers("[a] and (1) stay") == "[a] and (1) stay"


def test_taking_markers_records_where_each_was() -> None:
    assert take_markers("One [1]. Two. [2-3]") == ("One. Two.", [(3, [1]), (9, [2, 3])])


def test_a_group_is_markers_one_after_another() -> None:
    match = GROUP_RE.match(" [1] [2, 3][4-5] next")
    assert match is not None and marker_numbers(match.group()) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("marker", ["[2]", "[2, 3]", "[2; 3]", "[2-3]"])
def test_a_marker_after_a_full_stop_stays_with_its_sentence(marker: str) -> None:
    assert split_sentences(f"One claim. {marker} Another claim.") == [f"One claim. {marker}", "Another claim."]


@pytest.mark.parametrize("marker", ["[1]", "[1, 2]", "[1; 2]", "[1-2]", "[1][2]"])
def test_every_reader_accepts_every_form(marker: str) -> None:
    numbers = marker_numbers(marker)
    assert parse_reply(f"Teams met weekly {marker}.")[0].numbers == tuple(numbers)
    assert SupportScorer().score(f"Teams met weekly {marker}.", "Teams met weekly.") == 1.0
    assert marked_sentences(f"Teams met weekly. {marker}") == [("Teams met weekly.", numbers)]
    cited = line_citations(AnswerLine(id="1", question="q", answer=f"Teams met. {marker}", contexts=["A", "B"]))
    assert cited.sentences[0].evidence == ["A", "B"][: len(set(numbers))]


@given(st.lists(st.integers(min_value=1, max_value=99), min_size=1, max_size=4), st.sampled_from([", ", ";", "] ["]))
def test_listed_numbers_are_read_back_in_order(numbers: list[int], separator: str) -> None:
    text = "Claim [" + separator.join(map(str, numbers)) + "]."
    assert marker_numbers(text) == numbers
    assert strip_markers(text) == "Claim."

"""rag.abbreviations: short forms the indexed text defines match their full words, both ways."""

from __future__ import annotations

import pytest

from rag.abbreviations import Abbreviations, definitions, long_form
from rag.lexical import BM25Index, Tokenizer

TEXTS = [
    "Leadership matters in integrated care systems (ICSs), the report argues.",
    "The Social Care Institute for Excellence (SCIE) wrote it with partners.",
    "Most ICSs are building their ability to act together.",
    "Night shifts made community nurses tired.",
]


@pytest.mark.parametrize(
    ("before", "short", "full"),
    [
        ("Leadership matters in integrated care systems", "ICSs", "integrated care systems"),
        ("The Social Care Institute for Excellence", "SCIE", "Social Care Institute for Excellence"),
        ("with the Advancing Quality Alliance", "AQuA", "Advancing Quality Alliance"),
        ("new Ontario Health Teams", "OHTs", "Ontario Health Teams"),
        ("patients in Accident and Emergency", "A&E", "Accident and Emergency"),
    ],
)
def test_the_words_before_a_short_form_that_spell_it(before: str, short: str, full: str) -> None:
    assert long_form(before, short) == full


@pytest.mark.parametrize(
    ("before", "short"),
    [
        ("the NIHR Health and Social Care Delivery Research", "HSDR"),  # "Care" breaks the initials
        ("results were significant", "P"),  # one capital is no abbreviation
        ("as shown in the table", "Table"),
    ],
)
def test_no_long_form_when_the_initials_do_not_spell_it(before: str, short: str) -> None:
    assert long_form(before, short) is None


def test_definitions_are_read_from_the_texts() -> None:
    assert definitions(TEXTS) == {"ICSs": "integrated care systems", "SCIE": "Social Care Institute for Excellence"}


def test_a_short_form_that_is_also_an_ordinary_word_is_left_out() -> None:
    texts = ["Assertive Community Treatment (ACT) teams visit daily.", "Leaders must act together."]
    assert definitions(texts) == {}
    assert definitions(texts[:1]) == {"ACT": "Assertive Community Treatment"}


def test_a_short_form_brings_its_full_words_and_the_full_words_their_short_form() -> None:
    tokenize = Tokenizer()
    abbreviations = Abbreviations(TEXTS, tokenize)
    assert len(abbreviations) == 2
    sentence = set(tokenize(["Most ICSs are building"])[0])
    assert set(tokenize(["integrated care systems"])[0]) <= abbreviations.with_full_words(sentence)
    question = tokenize(["What are integrated care systems doing?"])[0]
    assert "icss" in abbreviations.with_short_forms(question)
    assert (
        abbreviations.with_short_forms(tokenize(["What are care systems doing?"])[0])
        == tokenize(["What are care systems doing?"])[0]
    )  # only all of the full words bring the short form


def test_bm25_finds_a_passage_that_only_abbreviates_the_question_words() -> None:
    scores = BM25Index(TEXTS).scores("What are integrated care systems managing to do?")
    assert scores[2] > 0  # "Most ICSs are building ..." shares no word with the question
    assert scores[3] == 0


def test_the_short_forms_of_words_are_given_as_written() -> None:
    """ "What is an integrated care system?" may be answered by "ICSs are ..." or "An ICS is ..."."""
    abbreviations = Abbreviations(TEXTS, Tokenizer())
    assert set(abbreviations.short_forms("integrated care system")) == {"ICS", "ICSs"}
    assert abbreviations.short_forms("Social Care Institute for Excellence") == ("SCIE",)
    assert abbreviations.short_forms("care system") == ()  # not all of the full words

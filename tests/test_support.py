"""The offline support scorer shared by the LLM answerer and the evaluation."""

from __future__ import annotations

from index.embedding import Embedder
from rag.support import SupportScorer, numbers_in

PASSAGE = (
    "The review was carried out in 2020. "
    "It included 36 papers on leading integrated care teams and systems. "
    "Stakeholders were consulted throughout the work. "
    "Its findings were published in a journal with 12 issues a year. "
    "The authors call for further research."
)


def test_numbers_are_read_from_digits_and_words() -> None:
    assert numbers_in("thirty-six papers, 1,000 records and seven components") == {"36", "1000", "7"}
    assert numbers_in("no numbers here") == set()


def test_a_quoted_sentence_is_fully_supported() -> None:
    scorer = SupportScorer()
    assert scorer.score("It included 36 papers on leading integrated care teams and systems. [1]", PASSAGE) == 1.0


def test_a_changed_number_is_not_supported_even_if_it_occurs_elsewhere_in_the_passage() -> None:
    scorer = SupportScorer()
    faithful = scorer.score("The review included thirty-six papers on integrated care teams.", PASSAGE)
    changed = scorer.score("The review included 12 papers on integrated care teams.", PASSAGE)
    assert scorer.supports("The review included thirty-six papers on integrated care teams.", PASSAGE)
    assert faithful > scorer.threshold > changed
    # 12 occurs in the passage, but not near the sentence the claim draws on: without that
    # sentence's neighbourhood rule the changed claim would score as a full match.
    assert changed == 0.5


def test_an_unrelated_claim_is_not_supported(embedder: Embedder) -> None:
    scorer = SupportScorer(embedder)
    related = scorer.score("Stakeholders were consulted during the whole review.", PASSAGE)
    unrelated = scorer.score("Hospital car parking charges rose sharply last winter.", PASSAGE)
    assert related >= scorer.threshold > unrelated
    assert scorer.score_many("The review included 36 papers.", [PASSAGE, "Unrelated text about parking."])[1] < 0.3

"""Metric functions on small examples computed by hand."""

from __future__ import annotations

import copy
import math
import re

import pytest

from eval.metrics import (
    CitedAnswer,
    CitedSentence,
    Score,
    abstention_scores,
    auroc,
    citation_scores,
    gold_ranks,
    key_fact_recall,
    latency_percentiles,
    mrr_at_k,
    ndcg_at_k,
    recall_at_k,
    reference_recall,
    retrieval_scores,
)
from eval.text import canonical_tokens, fact_found


class WordJudge:
    """Supports a claim when every word of it occurs in the evidence: predictable by hand."""

    name = "words"

    def supports(self, claim: str, evidence: str) -> bool:
        words = set(re.findall(r"\w+", evidence.lower()))
        return set(re.findall(r"\w+", claim.lower())) <= words


def test_gold_ranks_count_each_unit_once() -> None:
    assert gold_ranks(["a", "x", "b", "a", "c"], {"a", "b", "c"}) == [1, 3, 5]
    assert gold_ranks(["x", "y"], {"a"}) == []


def test_recall_counts_a_question_as_found_when_a_gold_unit_is_in_the_top_k() -> None:
    ranked = ["x", "y", "b", "a", "c"]
    gold = {"a", "b", "c"}
    assert recall_at_k(ranked, gold, 1) == 0.0
    assert recall_at_k(ranked, gold, 2) == 0.0
    assert recall_at_k(ranked, gold, 3) == 1.0  # one gold unit suffices
    assert recall_at_k(ranked, gold, 5) == 1.0
    assert recall_at_k(["x", "y", "g"], {"g"}, 1) == 0.0
    assert recall_at_k([], {"g"}, 5) == 0.0


def test_mrr_uses_the_first_gold_rank_within_k() -> None:
    assert mrr_at_k(["x", "y", "g"], {"g"}, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(["x", "y", "g"], {"g"}, 2) == 0.0
    assert mrr_at_k(["g"], {"g"}, 10) == 1.0


def test_ndcg_by_hand() -> None:
    dcg = 1 + 1 / math.log2(4) + 1 / math.log2(6)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(["a", "x", "b", "a", "c"], {"a", "b", "c"}, 10) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(["x", "y", "g"], {"g"}, 10) == pytest.approx(0.5)
    assert ndcg_at_k(["g", "g"], {"g", "h"}, 10) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_retrieval_scores_skip_questions_without_gold() -> None:
    rankings = [["x", "y", "g"], ["a"], ["z"]]
    golds: list[set[str]] = [{"g"}, set(), {"q"}]
    before = copy.deepcopy((rankings, golds))
    scores = retrieval_scores(rankings, golds)
    assert scores.recall_at_5.per_question == [1.0, None, 0.0]
    assert scores.recall_at_5.overall == 0.5
    assert scores.mrr_at_10.per_question == [pytest.approx(1 / 3), None, 0.0]
    assert scores.overall().recall_at_1 == 0.0
    assert scores.overall().model_dump(by_alias=True)["mrr@10"] == pytest.approx(1 / 6)
    assert scores.of_question(1).ndcg_at_10 is None
    assert (rankings, golds) == before


def test_retrieval_scores_reject_misaligned_inputs() -> None:
    with pytest.raises(ValueError):
        retrieval_scores([["a"]], [])


def test_score_of_averages_present_values_only() -> None:
    assert Score.of([1.0, None, 0.0]).overall == 0.5
    assert Score.of([None]).overall is None


def test_key_fact_recall_normalises_case_punctuation_and_number_words() -> None:
    answers = ["The review included Thirty-Six papers [1].", "Nothing relevant.", "ignored"]
    facts: list[list[str] | None] = [["36 papers", "limited empirical evidence"], ["seven components"], None]
    scores = key_fact_recall(answers, facts)
    assert scores.per_question == [0.5, 0.0, None]
    assert scores.overall == 0.25


@pytest.mark.parametrize(
    ("fact", "answer", "found"),
    [
        ("36 papers", "It included thirty six papers.", True),
        ("seven components", "evidence for 7 potentially important components", True),
        ("63% response", "a 63 per cent response rate", True),
        ("English-language literature", "literature in English language", True),
        ("36 papers", "It included 26 papers.", False),
        ("1,000 people", "1000 people took part", True),
        ("working with power", "Working with power [2].", True),
        ("working with power", "They worked on budgets.", False),
    ],
)
def test_fact_found(fact: str, answer: str, found: bool) -> None:
    assert fact_found(fact, answer) is found


def test_canonical_tokens_drop_citation_markers() -> None:
    assert canonical_tokens("Two reviews [1][2].") == ["2", "review"]


def test_citation_scores_follow_alce_by_hand() -> None:
    first = CitedAnswer(
        sentences=[
            CitedSentence(text="cats purr", evidence=["cats purr loudly", "dogs bark"]),  # supported; 1 of 2 precise
            CitedSentence(text="dogs purr", evidence=["dogs bark"]),  # unsupported; its citation imprecise
            CitedSentence(text="fish swim", evidence=[]),  # no citation: unsupported
        ]
    )
    second = CitedAnswer(sentences=[CitedSentence(text="cats bark", evidence=["cats purr", "dogs bark"])])
    unnumbered = CitedAnswer(sentences=[CitedSentence(text="cats purr", evidence=["cats purr"])], numbered=False)
    answers = [first, second, None, unnumbered]
    before = copy.deepcopy(answers)
    scores = citation_scores(answers, WordJudge())
    assert scores.support.per_question == [pytest.approx(1 / 3), 1.0, None, 1.0]
    assert scores.precision.per_question == [pytest.approx(1 / 3), 1.0, None, None]
    assert scores.support.overall == pytest.approx((1 / 3 + 1 + 1) / 3)
    assert scores.precision.overall == pytest.approx((1 / 3 + 1) / 2)
    assert answers == before


def test_reference_recall_counts_supported_reference_sentences() -> None:
    scores = reference_recall(["cats purr and dogs bark", "x"], ["Cats purr. Birds sing.", None], WordJudge())
    assert scores.per_question == [0.5, None]


def test_abstention_scores_split_answerable_and_unanswerable() -> None:
    scores = abstention_scores([True, False, True, False], [False, False, True, True])
    assert scores.recall.per_question == [1.0, 0.0, None, None]
    assert scores.false_rate.per_question == [None, None, 1.0, 0.0]
    assert scores.recall.overall == 0.5
    assert scores.false_rate.overall == 0.5


def test_latency_percentiles_interpolate_linearly() -> None:
    latency = latency_percentiles([40.0, 10.0, 30.0, 20.0])
    assert latency.p50 == pytest.approx(25.0)
    assert latency.p95 == pytest.approx(38.5)
    assert latency_percentiles([]).p50 is None


def test_auroc_counts_ties_as_half() -> None:
    assert auroc([0.9, 0.8, 0.4, 0.8], [True, True, False, False]) == pytest.approx(0.875)
    assert auroc([0.1, 0.9], [True, False]) == 0.0
    with pytest.raises(ValueError):
        auroc([0.5], [True])

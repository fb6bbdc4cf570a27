"""The measures of shaped answers, by hand: sources cited, pool coverage, comparison sides, noise, spans."""

from __future__ import annotations

from collections.abc import Sequence
from typing import get_args

import pytest

from eval.benchmarks.common import overlap_sentence
from eval.metrics import (
    Pool,
    by_group,
    comparison_sides,
    facts_in_reach,
    noise,
    pool_coverage,
    sentence_reach,
    sides_covered,
    source_coverage,
    span_scores,
)
from eval.questions import TYPE_INTENTS, QuestionType
from eval.report import Declined, EvalReport, TypeValues, declined_text, eval_markdown
from eval.text import span_found
from index.models import Role
from rag.intent import asked_roles
from rag.models import Answer, AnswerSection, AnswerSentence, Citation, Gap, QueryIntent, Side


def cite(n: int, source_id: str, role: Role | None = "finding") -> Citation:
    """A citation of passage p<n> of a publication, quoting text of a role."""
    return Citation(n=n, passage_id=f"p{n}", source_id=source_id, role=role, quote="q", start=0, end=1, score=1.0)


def answer(
    citations: Sequence[Citation],
    sentences: Sequence[Sequence[int]] = (),
    abstained: bool = False,
    **shape: object,
) -> Answer:
    """An answer whose i-th sentence cites the numbers given for it (default: one sentence per citation)."""
    cited = list(sentences) or [[c.n] for c in citations]
    return Answer.model_validate(
        {
            "question": "q",
            "answer": " ".join(f"Claim {i}. [{','.join(map(str, ns))}]" for i, ns in enumerate(cited)),
            "sentences": [AnswerSentence(text=f"Claim {i}.", citations=list(ns)) for i, ns in enumerate(cited)],
            "citations": list(citations),
            "abstained": abstained,
            **shape,
        }
    )


def test_source_coverage_is_the_share_of_gold_publications_cited() -> None:
    answers = [
        answer([cite(1, "sims2021"), cite(2, "sims2021"), cite(3, "other")]),
        answer([cite(1, "sims2021"), cite(2, "harris2022")]),
        answer([cite(1, "sims2021")], abstained=True),
        answer([cite(1, "sims2021")]),
    ]
    gold = [["sims2021", "harris2022"], ["harris2022", "sims2021"], ["sims2021"], []]
    score = source_coverage(answers, gold)
    assert score.per_question == [0.5, 1.0, None, None]  # abstained, no gold publications: not scored
    assert score.overall == 0.75
    with pytest.raises(ValueError):
        source_coverage(answers, gold[:2])


def test_pool_coverage_counts_facts_a_single_sentence_states() -> None:
    pool = Pool(
        sources=["sims2021", "lette2020"],
        sentences=["Leaders built shared goals with managers.", "Trust grew over three years."],
    )
    facts = ["shared goals", "trust grew over three years", "shared goals and trust"]  # the last spans two sentences
    assert facts_in_reach(facts, pool.sentences) == [True, True, False]
    scores = pool_coverage([pool, pool, None], [["sims2021", "harris2022"], [], ["sims2021"]], [facts, None, facts])
    assert scores.sources.per_question == [0.5, None, None]
    assert scores.facts.per_question == pytest.approx([2 / 3, None, None])
    with pytest.raises(ValueError):
        pool_coverage([pool], [[], []], [None])


SIDES = QueryIntent(intent="comparison", sides=[Side(label="Scottish"), Side(label="Dutch")])


def section(heading: str, *numbers: int) -> AnswerSection:
    return AnswerSection(heading=heading, sentences=[AnswerSentence(text=f"S{n}.", citations=[n]) for n in numbers])


def test_a_comparison_covers_its_sides_only_with_cited_evidence_for_each_and_two_gold_publications() -> None:
    citations = [cite(1, "scot_report"), cite(2, "lette2020")]
    gold = ["scot_report", "lette2020"]
    both = answer(citations, intent=SIDES, sections=[section("Scottish", 1), section("Dutch experience", 2)])
    assert sides_covered(both, gold) == 1.0
    # A side whose block cites nothing, or that is a gap, is not covered.
    uncited = both.model_copy(update={"sections": [section("Scottish", 1), section("Dutch")]})
    assert sides_covered(uncited, gold) == 0.0
    gap = both.model_copy(update={"gaps": [Gap(part="Dutch", note="No indexed evidence on the Dutch side.")]})
    assert sides_covered(gap, gold) == 0.0
    # Both sides quoted from one gold publication do not compare two when the question has two.
    one_source = answer([cite(1, "scot_report"), cite(2, "scot_report")], intent=SIDES, sections=both.sections)
    assert sides_covered(one_source, gold) == 0.0
    assert sides_covered(one_source, ["scot_report"]) == 1.0
    # An answer that found no sides has not compared.
    assert sides_covered(answer(citations), gold) == 0.0
    assert sides_covered(answer(citations, intent=QueryIntent(intent="comparison")), gold) == 0.0

    abstained = both.model_copy(update={"abstained": True})
    score = comparison_sides([both, one_source, abstained, both], [True, True, True, False], [gold] * 4)
    assert score.per_question == [1.0, 0.0, None, None]  # an abstention and a non-comparison are not scored


def test_noise_is_the_share_of_cited_sentences_of_roles_not_asked_for() -> None:
    findings = asked_roles("what_works")
    mixed = answer([cite(1, "a", "finding"), cite(2, "a", "bibliographic"), cite(3, "a", "method"), cite(4, "a", None)])
    assert noise([mixed], [findings]).per_question == [0.75]  # a citation without a role is not asked for
    assert noise([mixed], [asked_roles("methods")]).per_question == [0.5]  # publication details not asked for
    assert noise([mixed], [asked_roles("methods", "Who wrote it, and how?")]).per_question == [0.25]
    # A sentence is noise only when none of its citations is of an asked role.
    joint = answer([cite(1, "a", "finding"), cite(2, "a", "method")], sentences=[[1, 2], [2]])
    assert noise([joint], [findings]).per_question == [0.5]
    untagged = answer([cite(1, "a", None)])
    abstained = mixed.model_copy(update={"abstained": True})
    score = noise([untagged, abstained, mixed], [findings, findings, None])
    assert score.per_question == [None, None, None]  # no roles recorded, abstained, unanswerable
    with pytest.raises(ValueError):
        noise([mixed], [])


def test_every_question_type_maps_to_the_intent_it_asks_with() -> None:
    assert set(TYPE_INTENTS) == set(get_args(QuestionType))
    assert TYPE_INTENTS["cmo"] == TYPE_INTENTS["component"] == "what_works"
    assert TYPE_INTENTS["unanswerable"] is None


def test_by_group_averages_present_values_per_group() -> None:
    grouped = by_group([1.0, None, 0.0, 0.5, None], ["a", "b", "a", "c", "c"])
    assert grouped == {"a": 0.5, "b": None, "c": 0.5}
    assert list(grouped) == ["a", "b", "c"]
    with pytest.raises(ValueError):
        by_group([1.0], [])


@pytest.mark.parametrize(
    ("span", "text", "found"),
    [
        ("5.2 days", "The median incubation period was 5.2 days in Wuhan.", True),
        ("five point two days", "The incubation period was 5 days.", False),
        ("Thirty-six studies", "The synthesis included 36 studies [3].", True),
        # Not in sequence, but 4 of the 5 content words: at least 80%.
        ("bats shed coronaviruses in saliva and faeces", "Coronaviruses are shed by bats in saliva.", True),
        ("bats shed coronaviruses in saliva and faeces", "Bats carry coronaviruses.", False),
        ("days", "Twelve days later.", True),
        ("", "Anything.", False),
        ("...", "Anything...", False),
    ],
)
def test_span_found(span: str, text: str, found: bool) -> None:
    assert span_found(span, text) is found


def test_span_scores_count_abstentions_as_missing_and_report_the_median_length() -> None:
    spans = ["5.2 days", "ferrets", "masks"]
    answers = ["Cases rose. The period was 5.2 days. [1]", None, "Masks reduce droplet spread [2] in clinics."]
    first = ["Cases rose.", None, "Masks reduce droplet spread in clinics."]
    scores = span_scores(spans, answers, first)
    assert scores.contains.per_question == [1.0, 0.0, 1.0]
    assert scores.first_contains.per_question == [0.0, 0.0, 1.0]
    assert scores.words == [7, None, 6]  # citation markers are not words
    assert scores.median_words == 6.5
    assert span_scores([], [], []).median_words is None
    with pytest.raises(ValueError):
        span_scores(spans, answers, first[:1])


def test_sentence_reach_reads_the_k_best_sentences_together() -> None:
    spans = ["5.2 days", "ferrets", "masks"]
    ranked = [
        ["Cases rose in Wuhan.", "The period was 5.2 days."],  # second best holds it
        [],  # nothing scored
        ["Masks reduce droplet spread.", "Gloves too."],
    ]
    reach = sentence_reach(spans, ranked, depth=3)
    assert [r.k for r in reach] == [1, 2, 3]
    assert [r.contains for r in reach] == [pytest.approx(1 / 3), pytest.approx(2 / 3), pytest.approx(2 / 3)]
    assert [r.median_words for r in reach] == [4.0, 7.5, 7.5]  # 4 and 4 words, then 9 and 6 words
    assert sentence_reach([], [], depth=2)[0].contains is None
    with pytest.raises(ValueError):
        sentence_reach(spans, ranked[:1])


def test_overlap_baseline_picks_the_sentence_sharing_most_question_words() -> None:
    sentences = ["Bats host viruses.", "The incubation period in Wuhan was 5.2 days.", "Wuhan incubation data."]
    assert overlap_sentence("What was the incubation period in Wuhan?", sentences) == sentences[1]
    assert overlap_sentence("Where do bats live?", ["Bats fly.", "Bats roost."]) == "Bats fly."  # ties: the first
    assert overlap_sentence("Anything?", []) is None


def test_declined_counts_and_report_markdown() -> None:
    declined = Declined.count([True, False, True, True], [True, True, False, False])
    assert (declined.answerable_declined, declined.answerable) == (1, 2)
    assert (declined.unanswerable_declined, declined.unanswerable) == (2, 2)
    assert declined_text(declined) == "2 of 2 unanswerable, 1 of 2 answerable"

    values = dict.fromkeys(TypeValues.model_fields, None)
    report = EvalReport.model_validate(
        {
            "n_questions": 4,
            "settings_hash": "h",
            "retrieval": {},
            "answers": {
                "key_fact_recall": 0.5,
                "citation_support": 1.0,
                "citation_precision": 1.0,
                "abstention_recall": 1.0,
                "false_abstention_rate": 0.5,
                "noise": 0.25,
            },
            "latency_ms": {"p50": 1.0, "p95": 2.0},
            "per_question": [],
            "questions_file": "q.jsonl",
            "index_dir": "i",
            "missing_gold": [],
            "by_type": {"comparison": {**values, "n": 2, "comparison_sides": 0.5}},
            "declined": declined.model_dump(),
        }
    )
    markdown = eval_markdown(report)
    assert "Declined: 2 of 2 unanswerable, 1 of 2 answerable." in markdown
    assert "| comparison | 2 | – | – | – | – | – | 0.500 | – |" in markdown
    assert "| noise |" in markdown and "| icrag | – | – | – | – | 0.250 |" in markdown

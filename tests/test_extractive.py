"""Extractive answers: quoted sentences with exact citations, lists kept whole, and abstentions."""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

import numpy as np
import pytest

from index.embedding import Embedder
from rag import extractive
from rag.citations import Quote
from rag.extractive import (
    _CALL_FOR_RESEARCH,
    _LISTS_PUBLICATIONS,
    _ON_THE_RESEARCH,
    _RESEARCH_GAP,
    ANAPHOR,
    ANSWER_TYPE_BONUS,
    CONTINUATION,
    GAP_PENALTY,
    ExtractiveAnswerer,
    ScoredSentence,
    answer_type_bonus,
    quotable_span,
)
from rag.forms import SELECTION_RATIO
from rag.lexical import Tokenizer
from rag.models import Answer
from rag.pipeline import Pipeline
from rag.support import normalise

if TYPE_CHECKING:
    from fixtures_rag import RagIndex

pytest_plugins = ["fixtures_rag"]  # one twelve-passage index shared with the retrieval and CLI tests

ANSWERABLE = [
    "How does night shift work affect nurses' fatigue?",
    "How many community nurses were surveyed?",
    "What habits did leaders who succeeded in joint working rely on?",
    "How did leaders who succeeded in joint working keep partners talking?",
    "How did clinical leaders help partnership boards?",
    "What did Sims et al. (2019) report about night shifts?",
]
#: The colon-introduced list of the test index and its first item, as an answer shows them.
LIST_INTRO = "The review lists the three habits these leaders relied on in their daily work:"
FIRST_ITEM = "Holding monthly budget meetings where council and NHS partners sat as equals."
HABITS = (
    FIRST_ITEM,
    "Rotating the chair of the partnership board between the member organisations.",
    "Publishing the minutes of every joint decision for staff and the public to read.",
)
NEAR_DUPLICATES = (
    "Clinical leaders helped partnership boards agree shared priorities for the local population.",
    "Clinical leaders helped the partnership boards to agree shared priorities for their local population.",
)
VETERANS = "What did these reviews find about leading integrated care in the Veterans Health Administration?"
MONEY = "How much money did the programme cost?"
SCOPE = "How are leaders of integrated care teams recruited and selected?"


@pytest.fixture(scope="module")
def answers(rag_index: RagIndex) -> dict[str, Answer]:
    """The answers of the answerable questions, asked once for the module."""
    return {question: rag_index.pipeline.ask(question) for question in ANSWERABLE}


def candidates(pipeline: Pipeline, embedder: Embedder, question: str) -> list[ScoredSentence]:
    """The scored sentences the answerer chooses from for a question, best first."""
    query = pipeline.query(question)
    return pipeline.extractive.score_sentences(query, pipeline.pool(query))


# --- every answer quotes its evidence exactly -------------------------------------------------


@pytest.mark.parametrize("question", ANSWERABLE)
def test_every_sentence_is_quoted_from_its_cited_passage(
    rag_index: RagIndex, answers: dict[str, Answer], question: str
) -> None:
    answer = answers[question]
    store = rag_index.store
    assert not answer.abstained and answer.sentences and answer.related == []
    for sentence in answer.sentences:
        assert len(sentence.citations) == 1
        citation = answer.citations[sentence.citations[0] - 1]
        assert normalise(sentence.text) in normalise(citation.quote)
        assert sentence.text == " ".join(citation.quote.split())  # verbatim: no label cut out, no word added
        passage = store.passages[store.position[citation.passage_id]]
        assert store.documents[passage.doc_id].text[citation.start : citation.end] == citation.quote
        assert passage.start <= citation.start < citation.end <= passage.end
        assert passage.text[citation.start - passage.start : citation.end - passage.start] == citation.quote
        source = passage.source
        assert (citation.source_id, citation.title, citation.authors, citation.year, citation.doi) == (
            passage.source_id,
            source.title,
            source.authors,
            source.year,
            source.doi,
        )
        assert (citation.section, citation.page) == (passage.section, passage.page)


@pytest.mark.parametrize("question", ANSWERABLE)
def test_citations_are_numbered_in_order_of_first_use(answers: dict[str, Answer], question: str) -> None:
    answer = answers[question]
    used = [n for sentence in answer.sentences for n in sentence.citations]
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert list(dict.fromkeys(used)) == [c.n for c in answer.citations]
    assert len({(c.passage_id, c.start, c.end) for c in answer.citations}) == len(answer.citations)
    marked = [f"{s.text} [{s.citations[0]}]" for s in answer.sentences]
    assert all(text in answer.answer for text in marked)
    assert answer.evidence is not None
    assert answer.answer.endswith(answer.evidence.line)
    assert re.findall(r"\[(\d+)\]", answer.answer) == [str(n) for n in used]


def test_answers_quote_the_sentences_that_answer(answers: dict[str, Answer]) -> None:
    night = answers["How does night shift work affect nurses' fatigue?"]
    assert night.sentences[0].text == (
        "Nurses working night shifts in community hospitals reported more fatigue and sleep problems than day staff."
    )
    assert (night.citations[0].source_id, night.citations[0].section) == ("sims2019", "Results")
    surveyed = answers["How many community nurses were surveyed?"]
    assert (
        surveyed.sentences[0].text
        == "The survey of 412 community nurses ran in 2018 across six English hospital trusts."
    )
    assert all(not re.search(r"\[\d+\]", s.text) for a in answers.values() for s in a.sentences)


def test_a_question_may_name_a_publication_by_its_first_author(rag_index: RagIndex, answers: dict[str, Answer]) -> None:
    """Authors live in the bibliographic record, not the passage text; naming one is not naming the unknown."""
    store = rag_index.store
    assert not any("Sims" in p.text for p in store.passages)
    answer = answers["What did Sims et al. (2019) report about night shifts?"]
    assert not answer.abstained
    assert answer.citations[0].source_id == "sims2019"
    assert rag_index.pipeline.ask("What did Smith et al. (2019) report about night shifts?").abstained


def test_naming_a_publication_does_not_make_its_authors_words_to_match(rag_index: RagIndex) -> None:
    """A sentence that merely names "Sims et al. (2019)" must not score as if it answered the question."""
    pipeline = rag_index.pipeline
    tokenizer = pipeline.vocabulary.tokenizer
    question = "What did Sims et al. (2019) report about night shifts?"
    stems = set(tokenizer([question])[0])
    naming = set(tokenizer(["Sims Brearley 2019 et al"])[0])
    assert {"sim", "2019", "al"} <= naming & stems
    assert pipeline.query(question).words == stems - naming
    assert "2019" in pipeline.query("Which surveys of night shifts ran in 2019?").words  # names no publication
    only_naming = "Sims et al. (2019)?"  # asks about the publication itself: its words are all there is
    assert pipeline.query(only_naming).words == set(tokenizer([only_naming])[0])


# --- selection: lists and near-duplicates ----------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "What habits did leaders who succeeded in joint working rely on?",  # the list's introduction scores best
        "How did leaders who succeeded in joint working keep partners talking?",  # the sentence before it does
    ],
)
def test_a_list_introduced_by_a_colon_comes_with_its_first_item(answers: dict[str, Answer], question: str) -> None:
    texts = [s.text for s in answers[question].sentences]
    assert LIST_INTRO in texts
    assert texts[texts.index(LIST_INTRO) + 1] == FIRST_ITEM


@pytest.mark.parametrize("question", ANSWERABLE)
def test_no_answer_ends_a_sentence_with_a_colon_and_stops(
    rag_index: RagIndex, answers: dict[str, Answer], question: str
) -> None:
    """Whatever introduces a list is followed by the unit that comes next in its passage."""
    answer = answers[question]
    store = rag_index.store
    for i, sentence in enumerate(answer.sentences):
        quote = answer.citations[sentence.citations[0] - 1]
        if not quote.quote.rstrip().endswith(":"):
            continue
        assert i + 1 < len(answer.sentences), answer.answer
        after = answer.citations[answer.sentences[i + 1].citations[0] - 1]
        position = store.position[quote.passage_id]
        spans = store.sentences(position).spans
        offset = store.passages[position].start
        units = [quotable_span(store.passages[position].text, *span) for span in spans]
        following = units[units.index((quote.start - offset, quote.end - offset)) + 1]
        assert (after.passage_id, after.start - offset, after.end - offset) == (quote.passage_id, *following)


def test_the_talking_question_reaches_the_list_through_the_sentence_before_it(
    rag_index: RagIndex, embedder: Embedder
) -> None:
    question = "How did leaders who succeeded in joint working keep partners talking?"
    scored = candidates(rag_index.pipeline, embedder, question)
    assert scored[0].quote.text.startswith("Leaders who succeeded in joint working kept partners talking")


def test_a_sentence_already_chosen_does_not_use_up_the_sentence_limit(rag_index: RagIndex, embedder: Embedder) -> None:
    pipeline = rag_index.pipeline
    # Room for five under "What works", with one left for a circumstance and one for a result.
    settings = rag_index.settings.model_copy(update={"max_answer_sentences": 7})
    answerer = ExtractiveAnswerer(rag_index.store, settings, pipeline.vocabulary, pipeline.reader.vector)
    question = "What habits did leaders who succeeded in joint working rely on?"
    answer = answerer.answer(pipeline.query(question), pipeline.pool(question))
    texts = [s.text for s in answer.sentences]
    assert len(texts) == len(set(texts)) >= 5
    # The sentence opening the list brings every item of it.
    assert texts[:5] == [
        "Leaders who succeeded in joint working kept partners talking between the formal board meetings.",
        LIST_INTRO,
        *HABITS,
    ]


def test_a_list_item_opening_in_lower_case_comes_after_what_introduces_it(rag_index: RagIndex) -> None:
    answer = rag_index.pipeline.ask(
        "Which sites did the study sample, and where did agency nurses cover most night shifts?"
    )
    texts = [s.text for s in answer.sentences]
    item = "city hospitals where agency nurses covered most night shifts."
    assert item in texts
    start = texts.index("The trusts were chosen to span two kinds of site:")
    assert texts[start : start + 3] == [
        "The trusts were chosen to span two kinds of site:",
        "rural community hospitals with small night teams;",
        item,
    ]


def test_near_duplicate_sentences_are_not_both_chosen(
    rag_index: RagIndex, embedder: Embedder, answers: dict[str, Answer]
) -> None:
    question = "How did clinical leaders help partnership boards?"
    scored = candidates(rag_index.pipeline, embedder, question)
    by_text = {c.quote.text: c for c in scored}
    first, second = (by_text[text] for text in NEAR_DUPLICATES)
    assert float(np.dot(first.vector, second.vector)) > 0.9  # they say the same thing
    assert min(first.score, second.score) >= SELECTION_RATIO * scored[0].score  # each would qualify alone
    texts = [s.text for s in answers[question].sentences]
    assert sum(text in NEAR_DUPLICATES for text in texts) == 1
    assert len(texts) >= 3


# --- selection: sentences that need the one before, and a record's lines -----------------------

DEDICATION = "To whom did the team dedicate the report?"
NAMES_HER = "The project was first shaped with Professor Ada Lane, who died suddenly in 2017."
POINTS_BACK = (
    "She had led research on interprofessional teams for twenty years, and the team dedicated the report to her."
)
CONDITIONS = "What did the review find about creating the conditions?"


def test_a_sentence_opening_with_she_comes_after_the_sentence_naming_her(
    rag_index: RagIndex, embedder: Embedder
) -> None:
    pipeline = rag_index.pipeline
    scored = candidates(pipeline, embedder, DEDICATION)
    assert scored[0].quote.text == POINTS_BACK
    shown = {}
    for limit in (1, 2):
        settings = rag_index.settings.model_copy(update={"max_answer_sentences": limit})
        answerer = ExtractiveAnswerer(rag_index.store, settings, pipeline.vocabulary, pipeline.reader.vector)
        answer = answerer.answer(pipeline.query(DEDICATION), pipeline.pool(DEDICATION))
        shown[limit] = [s.text for s in answer.sentences]
    # With room for one sentence the best one is left out rather than shown without its subject.
    assert POINTS_BACK not in shown[1] and len(shown[1]) == 1
    assert shown[2] == [NAMES_HER, POINTS_BACK]


def test_a_record_line_is_quoted_without_the_note_joined_to_it(rag_index: RagIndex) -> None:
    quotes = [c.quote for c in rag_index.pipeline.ask(CONDITIONS).citations]
    assert "Named as one of the components the review found evidence for" in quotes
    assert not any("Not reported" in quote for quote in quotes)
    assert not any(quote.startswith("Coded evidence") for quote in quotes)  # a record's heading is no finding


# --- abstention ------------------------------------------------------------------------------

ABSTENTION = "The indexed evidence does not cover this question. The closest passages are listed as related evidence."


@pytest.mark.parametrize("question", [VETERANS, MONEY, SCOPE])
def test_abstentions_cite_nothing_and_list_related_passages(
    rag_index: RagIndex, embedder: Embedder, question: str
) -> None:
    pipeline = rag_index.pipeline
    answer = pipeline.ask(question)
    hits = pipeline.retrieve(question)
    assert answer.abstained
    assert (answer.answer, answer.sentences, answer.citations) == (ABSTENTION, [], [])
    assert [c.passage_id for c in answer.related] == [hit.passage.passage_id for hit in hits]
    assert [c.n for c in answer.related] == list(range(1, len(hits) + 1)) and len(hits) == 5
    assert [c.quote for c in answer.related] == [hit.passage.text for hit in hits]
    # A rule about the evidence declined it, not only a weak match.
    query = pipeline.query(question)
    scored = candidates(pipeline, embedder, question)
    evidence = pipeline.extractive.rules.evidence(query, scored, [c for c in scored if c.eligible(query.roles)])
    margin = rag_index.settings.scope_note_margin
    assert evidence.unknown_name or evidence.money_missing or evidence.note_names_gap or evidence.note_margin >= margin


def test_abstains_on_a_question_naming_what_the_index_never_mentions(rag_index: RagIndex) -> None:
    assert not any("Veterans" in p.text or "Administration" in p.text for p in rag_index.store.passages)
    pipeline = rag_index.pipeline
    assert pipeline.ask(VETERANS).abstained
    assert not pipeline.ask(VETERANS.replace(" in the Veterans Health Administration", "")).abstained


def test_abstains_on_a_money_question_when_no_passage_states_an_amount(rag_index: RagIndex, embedder: Embedder) -> None:
    money = re.compile(r"[£$€]|\b(?:million|billion|pounds|dollars|euros)\b", re.IGNORECASE)
    assert not any(money.search(p.text) for p in rag_index.store.passages)
    assert not candidates(rag_index.pipeline, embedder, MONEY)[0].is_scope_note
    assert rag_index.pipeline.ask(MONEY).abstained


def test_abstains_when_the_best_evidence_is_a_scope_note(rag_index: RagIndex, embedder: Embedder) -> None:
    scored = candidates(rag_index.pipeline, embedder, SCOPE)
    assert scored[0].is_scope_note
    assert scored[0].quote.text == (
        "How leaders of integrated care teams are recruited and selected is not covered by this evidence base."
    )
    assert rag_index.pipeline.ask(SCOPE).abstained


def test_abstains_when_the_top_passage_notes_it_lacks_what_is_asked(rag_index: RagIndex, embedder: Embedder) -> None:
    """The record names the component but says its supporting studies are not covered."""
    question = "Which studies support creating the conditions?"
    assert not candidates(rag_index.pipeline, embedder, question)[0].is_scope_note  # not the rule above
    assert rag_index.pipeline.ask(question).abstained
    assert not rag_index.pipeline.ask(CONDITIONS).abstained


def test_a_scope_note_about_another_publication_does_not_decline(rag_index: RagIndex, embedder: Embedder) -> None:
    """The note says sims2021 lacks the detail; it says nothing of what Waring et al. report."""
    about_sims = "How did Sims et al. recruit and select leaders of integrated care teams?"
    about_waring = "How did Waring et al. recruit and select leaders of integrated care teams?"
    for question in (about_sims, about_waring):
        assert candidates(rag_index.pipeline, embedder, question)[0].is_scope_note
    assert rag_index.pipeline.ask(about_sims).abstained
    # The twelve-passage index scores lower than the bundled corpus the threshold was fitted on.
    lenient = rag_index.settings.model_copy(update={"abstain_threshold": 0.0})
    pipeline = rag_index.pipeline
    answerer = ExtractiveAnswerer(rag_index.store, lenient, pipeline.vocabulary, pipeline.reader.vector)
    answer = answerer.answer(pipeline.query(about_waring), pipeline.pool(about_waring))
    assert not answer.abstained
    assert all(c.source_id == "waring2023" for c in answer.citations[:1])


TOKENIZER = Tokenizer()
HOW_TO = ("How should leaders run joint budget meetings?", "What did leaders find about joint budget meetings?")
STRENGTH = (
    "How strong is the evidence on clinical leaders and partnership boards?",
    "What did clinical leaders contribute to partnership boards?",
)


@pytest.mark.parametrize(
    ("questions", "intent", "text", "states"),
    [
        # A how-to question's answer type is advice, as a count is a how-many question's.
        (HOW_TO, "how_to", "Expectations of speed should be realistic.", True),
        (HOW_TO, "how_to", "Improving how professionals communicate is a key first step.", True),
        (HOW_TO, "how_to", "Lasting integration cannot be rushed.", True),
        (HOW_TO, "how_to", "Success depends on sustained effort by every partner.", True),
        (HOW_TO, "how_to", "Clinical leaders helped partnership boards agree shared priorities.", False),
        (HOW_TO, "how_to", "The survey of nurses ran across six trusts.", False),
        # "How strong is the evidence ...?" is answered by sentences that say how far it can be trusted.
        (STRENGTH, "evidence_strength", "Good-quality research on leading integrated care is scarce.", True),
        (STRENGTH, "evidence_strength", "Two studies without control groups suggested that programmes helped.", True),
        (
            STRENGTH,
            "evidence_strength",
            "The authors call the components potentially important, which signals they are tentative.",
            True,
        ),
        (STRENGTH, "evidence_strength", "Clinical leaders helped partnership boards agree shared priorities.", False),
    ],
)
def test_what_an_intent_asks_for_earns_the_answer_type_bonus(
    rag_index: RagIndex, questions: tuple[str, str], intent: str, text: str, states: bool
) -> None:
    """A sentence stating the kind of thing an intent asks for gets the bonus; for another question, none."""
    asked, other = (rag_index.pipeline.query(question) for question in questions)
    assert asked.intent.intent == intent and other.intent.intent != intent
    assert (answer_type_bonus(asked, text, TOKENIZER) == ANSWER_TYPE_BONUS) is states
    assert answer_type_bonus(other, text, TOKENIZER) == 0.0


COUNT = ("How many studies did the review include?", "What did the review include?")
WHEN = ("When did the boards first meet?", "What was the result when the boards met?")
RATE = ("What was the survey's response rate?", "What did the survey find?")
MEAN = ("What was the mean time from referral to the first visit?", "What happened after referral?")
FUNDED = ("Who funded the survey?", "What did the survey find?")
WROTE = ("Who wrote the survey report?", "What did the survey find?")


@pytest.mark.parametrize(
    ("questions", "text", "states"),
    [
        (COUNT, "The review included 20 studies.", True),
        (COUNT, "Three studies met the inclusion criteria.", True),  # a count in words, of what is counted
        (COUNT, "Two researchers selected the papers independently.", False),  # in words, of something else
        (COUNT, "The review covers COVID-19 and the work of IL-4 researchers.", False),  # numbers inside names
        (COUNT, "The review found studies scarce [11] and weak (28).", False),  # reference markers count nothing
        (COUNT, "The review included studies from 12 countries [3, 4].", True),  # a count beside a marker still does
        (COUNT, "Programme theory 1: the review works when leaders own problems.", False),  # a label, no count
        (COUNT, "As Table 2 shows, the review included studies of boards.", False),
        (COUNT, "Tables 2 and 3 summarise the review; themes 1-3 recur in round 2.", False),
        (RATE, "Of those surveyed, 63% responded.", True),  # a rate is a share
        (RATE, "One in five of those surveyed responded.", True),
        (RATE, "Of those surveyed, 3 out of 5 responded.", True),
        (RATE, "Three surveys ran in 2019.", False),  # a count in a year is no rate
        (RATE, "Responses were 2.5 times higher online.", True),
        (RATE, "The survey went to 785 people.", False),  # a count is no rate
        (MEAN, "The mean time to the first visit was 12 days.", True),  # an average is an amount
        (FUNDED, "The survey was funded by the regional health board.", True),
        (FUNDED, "Funding came from a charitable grant.", True),
        (FUNDED, "The survey went to 785 people.", False),
        (WROTE, "The authors are Alex Baylis and Allison Trimble.", True),
        (WROTE, "The report is titled 'Leading across health and social care'.", False),
        (WROTE, "The authors were surprised that the boards met monthly.", False),
        (WHEN, "The boards first met in 2019.", True),
        (WHEN, "The boards first met in the 1990s.", True),
        (WHEN, "The boards first met 10 days after the merger.", True),  # a time counted from an event
        (WHEN, "The boards met with 10 partners.", False),
    ],
)
def test_a_count_or_a_date_earns_the_answer_type_bonus_only_when_asked(
    rag_index: RagIndex, questions: tuple[str, str], text: str, states: bool
) -> None:
    """ "How many studies ...?" is answered by a number of studies; "When ...?" by a date or a time after an
    event; the "when" of a clause ("What was the result when ...?") asks for no date."""
    asked, other = (rag_index.pipeline.query(question) for question in questions)
    assert (answer_type_bonus(asked, text, TOKENIZER) == ANSWER_TYPE_BONUS) is states
    assert answer_type_bonus(other, text, TOKENIZER) == 0.0


@pytest.mark.parametrize(
    ("text", "states"),
    [
        ("Differing cultures and a lack of shared budgets hindered the boards.", True),
        ("Staff shortages made it hard to run joint meetings.", True),
        ("Some board members worried that doctors dominated discussions.", False),  # no hindrance named
        ("Clinical leaders helped partnership boards agree shared priorities.", False),
    ],
)
def test_a_question_on_what_stands_in_the_way_is_answered_by_what_hindered(
    rag_index: RagIndex, text: str, states: bool
) -> None:
    """ "What are the barriers to ...?" and "Why do boards fail?" ask what stood in the way: a sentence saying
    what hindered, was hard or was lacking states it; for a question not asking that, it earns nothing."""
    for question in (
        "What are the barriers to joint working on boards?",
        "Why do partnership boards fail?",
        "What undermines joint working on boards?",
        "What holds back partnership boards?",
        "What holds partnership boards back?",
    ):
        asked = rag_index.pipeline.query(question)
        assert (answer_type_bonus(asked, text, TOKENIZER) == ANSWER_TYPE_BONUS) is states
    other = rag_index.pipeline.query("Who sits on partnership boards?")
    assert answer_type_bonus(other, text, TOKENIZER) == 0.0


def test_a_place_or_a_person_asked_for_is_no_amount(rag_index: RagIndex) -> None:
    """ "Where is the response rate highest?" asks for a place: a sentence with a rate does not answer it."""
    assert rag_index.pipeline.query("What is the response rate in the north?").wants_rate
    for question in ("Where is the response rate highest?", "Who had the highest response rate?"):
        query = rag_index.pipeline.query(question)
        assert not (query.wants_count or query.wants_rate)
        assert answer_type_bonus(query, "The response rate was 63% in the north.", TOKENIZER) == 0.0


@pytest.mark.parametrize(
    ("text", "states"),
    [
        ("Partnership boards are committees where council and NHS partners decide together.", True),
        ("A partnership board (the joint committee) is where partners decide together.", True),
        ("The joint committee, known as the partnership board, meets monthly.", True),
        ("Councils call this committee a partnership board.", False),
        ("Here, partnership boards are committees where partners decide together.", True),
        ("The study found that partnership boards are committees of partners.", True),
        ("Leading partnership boards is hard work for chairs.", False),  # about leading them, not what they are
        ("Waring studied partnership boards, a new kind of committee.", True),
        ("Clinical leaders helped partnership boards agree shared priorities.", False),
    ],
)
def test_what_a_what_is_question_asks_for_is_a_statement_of_its_term(
    rag_index: RagIndex, text: str, states: bool
) -> None:
    """ "What are partnership boards?" is answered by a sentence saying what they are."""
    query = rag_index.pipeline.query("What are partnership boards?")
    assert query.term == "partnership boards"
    assert rag_index.pipeline.query("What are partnership boards, in short?").term == "partnership boards"
    assert rag_index.pipeline.query("How do partnership boards decide?").term == ""
    assert (answer_type_bonus(query, text, TOKENIZER) == ANSWER_TYPE_BONUS) is states
    meant = rag_index.pipeline.query("What does 'partnership boards' mean?")  # asks the same
    assert (meant.term, meant.intent.intent) == ("partnership boards", "definition")
    assert (answer_type_bonus(meant, text, TOKENIZER) == ANSWER_TYPE_BONUS) is states


@pytest.mark.parametrize(
    ("text", "leans"),
    [
        ("They brokered connections between partners.", True),
        ("Second, what exists tends to fall back on established ways of thinking.", True),
        ("Third, studies often concentrate on the leader as a person.", True),
        ("Moreover, leaders need time.", False),  # adds a point that reads on its own
        ("Even so, the participatory approach helped managers develop shared goals.", True),
        ("Nevertheless, the boards kept meeting.", True),
        ("By contrast, the Finnish managers saw few power imbalances.", True),
        ("According to the same announcement, the chief officers considered their roles.", True),
        ("In this context, leaders shared budgets.", True),
        ("In 2019 the boards met monthly.", False),
        ("Secondary care leaders joined the board.", False),
        ("Theirs was a different approach.", False),
        ("It argues that leaders need time.", True),
        ("It was designed to support leaders.", True),
        ("The review found evidence that it is potentially important for leaders.", True),
        ("The authors argue that it is important to involve staff.", False),  # "it" stands for what follows
        ("The review reports evidence for it as a potentially important part.", True),  # "it" after a preposition
        ("Leaders who committed to them early saw results.", True),
        ("Leaders helped staff make sense of it all.", False),  # an idiom, pointing at nothing before
        ("The board agreed to it.", True),
        # "It" standing for what follows reads on its own.
        ("It is interesting to note that the two bat viruses infect rats.", False),
        ("It was found that boards met monthly.", False),
        ("It remains unclear whether the boards helped.", False),
        ("It is not clear whether the boards helped.", False),
        # "The other ..." and "One favoured ..." after "The interviews contained two opposing lines of argument."
        ("The other followed recent national policies.", True),
        ("One favoured a single government authority.", True),
        ("One study found that trust was lacking.", False),
        ("The otherwise similar boards met monthly.", False),
        # a demonstrative standing alone for what the sentence before says
        ("The authors present this as a very large challenge for leaders.", True),
        ("Leaders saw these as barriers to joint working.", True),
        ("Leaders saw these barriers early.", False),
        # "this study" is the publication quoted, not the sentence before
        ("In this study, leaders were interviewed twice.", False),
        # named or listed, "them" and "they" are what the sentence before names
        ("The authors call them 'potentially important'.", True),
        ("In the order the abstract gives them, they are: (1) 'inspiring intent'; (2) 'power'.", True),
        ("When patients were discharged early, they were more likely to be readmitted.", False),
        ("Patients whose families named them as carers were excluded.", False),
    ],
)
def test_a_sentence_continuing_the_one_before_is_read_with_it(text: str, leans: bool) -> None:
    """ "Second, ..." reads only after "First, ...", as "They ..." after the sentence naming them."""
    assert bool(ANAPHOR.match(text)) is leans


@pytest.mark.parametrize(
    ("text", "carries_on"),
    [
        ("However, more than 90% of later strains had the mutation.", True),
        ("Moreover, leaders need time.", True),
        ("In addition, the boards met monthly.", True),
        ("They brokered connections between partners.", True),
        ("Meanwhile, 8 of the 11 patients were in a severe stage.", True),
        ("Secondary care leaders joined the board.", False),
        ("Howard et al. found the opposite.", False),
    ],
)
def test_a_sentence_carrying_on_from_the_one_before_is_told_apart(text: str, carries_on: bool) -> None:
    """ "However, ..." finishes what the sentence before it says; a sentence with its own subject does not."""
    assert bool(CONTINUATION.match(text)) is carries_on


def test_a_list_item_is_about_what_its_lists_opening_sentence_is_about(
    rag_index: RagIndex, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "- Rotating the chair ..." alone does not say it is a habit of leaders who succeeded; its list's
    opening sentence does, so the item is scored with that sentence's match."""
    question = "What habits did leaders who succeeded in joint working rely on?"

    def item_score() -> float:
        scored = candidates(rag_index.pipeline, embedder, question)
        return next(c.score for c in scored if c.quote.text.startswith("Rotating the chair"))

    with_list = item_score()
    monkeypatch.setattr("rag.extractive.LIST_CARRY", 0.0)
    assert with_list > item_score()


def test_abstains_when_a_note_names_what_the_question_asks_for(
    rag_index: RagIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "What selection process ...?" asks for selection; the publication notes how leaders are selected is
    not covered, and none of its findings names selection, so what it says about those leaders does not answer."""
    pipeline = rag_index.pipeline
    question = "What selection process picks the leaders who share budgets openly with council and NHS partners?"
    assert pipeline.ask(question).abstained
    assert not pipeline.ask("What habits did leaders who succeeded in joint working rely on?").abstained
    # "Which studies ...?" asks for the publications, which the answer's citations name.
    assert not pipeline.ask("Which studies found that leaders who shared budgets openly built trust?").abstained
    monkeypatch.setattr("rag.abstention._FOCUS", re.compile(r"(?!)"))
    # Without its focus, "selection" would be a word the index never uses: that rule is left out here.
    monkeypatch.setattr("rag.abstention.AbstentionRules.uncovered_gain", lambda *_: 0.0)
    assert not pipeline.ask(question).abstained  # the note on what is asked for declined it


@pytest.mark.parametrize(
    ("text", "gap"),
    [
        ("There is little evidence on how to support those who lead integrated care teams.", True),
        ("It is unclear what kind of leadership is needed.", True),
        ("The review starts from a gap.", True),
        ("The authors argue that leadership is especially important in integrated care systems.", True),
        ("Leaders who shared budgets openly reported more trust between partners.", False),
        ("Health and social care in England are moving towards integration.", False),
    ],
)
def test_background_framing_a_gap_in_research_is_told_apart(text: str, gap: bool) -> None:
    assert bool(_RESEARCH_GAP.search(text)) is gap


@pytest.mark.parametrize(
    ("question", "penalised"),
    [("What works in working with power?", True), ("How many nurses took part in the survey?", False)],
)
def test_background_on_a_gap_in_research_is_no_answer_to_what_works(
    rag_index: RagIndex, monkeypatch: pytest.MonkeyPatch, question: str, penalised: bool
) -> None:
    """What is not known is not what works: background stating a research gap loses ``GAP_PENALTY``
    when the question asks what works, and nothing otherwise."""
    store = rag_index.pipeline.extractive.store
    sentences = store.sentences
    # Every sentence is background here, so the only difference is whether it states a gap.
    monkeypatch.setattr(
        store,
        "sentences",
        lambda position: sentences(position)._replace(roles=["background"] * len(sentences(position).roles)),
    )
    lost = penalty_on_one_sentence(rag_index, monkeypatch, question, "_RESEARCH_GAP")
    assert lost == pytest.approx(GAP_PENALTY * penalised)


def penalty_on_one_sentence(rag_index: RagIndex, monkeypatch: pytest.MonkeyPatch, question: str, cue: str) -> float:
    """What the best sentence of a question's pool loses when the cue pattern ``cue`` matches it alone;
    no other sentence's score may change."""
    pipeline = rag_index.pipeline
    query = pipeline.query(question)
    hits = pipeline.pool(query)
    before = {c.quote.text: c.score for c in pipeline.extractive.score_sentences(query, hits)}
    target = next(iter(before))
    monkeypatch.setattr(extractive, cue, re.compile(rf"^{re.escape(target)}$"))
    after = {c.quote.text: c.score for c in pipeline.extractive.score_sentences(query, hits)}
    assert all(after[text] == before[text] for text in before if text != target)
    return before[target] - after[target]


@pytest.mark.parametrize(
    ("text", "calls"),
    [
        ("Future work should clarify which leadership skills integrated care needs.", True),
        ("They call for more knowledge about the leadership skills needed.", True),
        ("Further research should examine whether they are a hidden barrier.", True),
        ("The skills judged important were relational and organisational skills.", False),
        ("There was little evidence that leaders themselves improved implementation.", False),
        ("Their key messages stress that stronger evidence on leadership is urgently needed.", True),
        ("More evidence was gathered in the second year.", False),
    ],
)
def test_a_call_for_more_research_is_told_apart(text: str, calls: bool) -> None:
    assert bool(_CALL_FOR_RESEARCH.search(text)) is calls


@pytest.mark.parametrize(
    ("question", "penalised"),
    [
        ("How many nurses took part in the survey?", True),
        ("What works in working with power?", True),
        ("What evidence is there on night shifts and fatigue?", False),  # asks about the research itself
        ("What does the evidence say about night shifts and fatigue?", True),  # asks the research about them
        ("How strong is the case for rotating the chair?", False),  # evidence strength
    ],
)
def test_a_call_for_more_research_is_no_answer_unless_research_is_asked_about(
    rag_index: RagIndex, monkeypatch: pytest.MonkeyPatch, question: str, penalised: bool
) -> None:
    lost = penalty_on_one_sentence(rag_index, monkeypatch, question, "_CALL_FOR_RESEARCH")
    assert lost == pytest.approx(GAP_PENALTY * penalised)


@pytest.mark.parametrize(
    ("text", "about"),
    [
        ("First, there is little research on leading integrated care teams and systems.", True),
        ("That research seldom deals with leaders who work across care boundaries.", True),
        ("The summary notes plenty of descriptive leadership research, mostly tied to single professions.", True),
        ("The authors make three critical points about the existing research.", True),
        ("The report names three gaps: how leadership is put into practice, and where.", True),
        ("Knowledge gap about how effective leadership is enacted", True),
        ("Third, studies often concentrate on the leader as a person.", True),
        ("A critique in the discussion: studies often focus on who the leader is.", True),
        ("Research attention centres on the leader's identity.", True),
        ("The authors conclude that high-quality studies of clinical leadership are rare.", True),
        ("It identifies three gaps: how leadership is backed, how it is done and what shapes it.", True),
        ("Studies found that shared budgets built trust.", False),  # what studies found is a finding
        ("Leaders closed gaps in services by pooling budgets.", False),
        ("Gap in understanding what integrated care leaders actually do", True),
        ("Two studies suggested that programmes helped leaders.", False),
        ("Leaders who shared budgets openly reported more trust.", False),
        ("Sims et al. criticise the wider literature for focusing on who the leader is.", True),
        ("The added publications look at leadership at different levels: system leaders and chief officers.", True),
        ("Three publications deal directly with developing leaders.", True),
        # a short sentence joined to the finding after it is no longer about the publications alone
        (
            "Three publications deal directly with developing leaders. Fillingham and Weir draw on work in England.",
            False,
        ),
        ("The publications found that trust matters.", False),
        ("It notes that little was known about the mechanisms of effective leadership.", True),
        ("Little changed once the boards were known to the public.", False),
        ("The new role was poorly understood by frontline staff.", False),  # a finding about the role
    ],
)
def test_a_sentence_about_the_research_itself_is_told_apart(text: str, about: bool) -> None:
    assert bool(_ON_THE_RESEARCH.search(text)) is about


@pytest.mark.parametrize(
    ("text", "lists"),
    [
        ("**Scotland:** baylis2018 (chief officers) and hendry2021 (national reform).", True),
        ("bornman2023 included 42 of 465 records.", True),
        ("Trusting relationships in Scotland (hendry2021) took time to build.", False),  # cites one
    ],
)
def test_an_overview_line_listing_the_publications_is_told_apart(text: str, lists: bool) -> None:
    assert bool(_LISTS_PUBLICATIONS.match(text)) is lists


@pytest.mark.parametrize(
    ("question", "penalised"),
    [
        ("How many nurses took part in the survey?", True),
        ("What works in working with power?", True),
        ("Which studies looked at night shifts?", False),  # asks about the research itself
    ],
)
def test_an_overview_line_listing_the_publications_answers_only_a_question_about_the_research(
    rag_index: RagIndex, monkeypatch: pytest.MonkeyPatch, question: str, penalised: bool
) -> None:
    lost = penalty_on_one_sentence(rag_index, monkeypatch, question, "_LISTS_PUBLICATIONS")
    assert lost == pytest.approx(GAP_PENALTY * penalised)


@pytest.mark.parametrize(
    ("question", "excluded"),
    [
        ("What works in working with power?", True),
        ("What does the research say about what works in working with power?", True),  # asks the research
        ("What research gaps remain on what works in working with power?", False),
        ("How does the critique of the literature on working with power read?", False),
        ("What do we know about what works in working with power?", True),  # asks what is known of it
        ("Which publications in the evidence base say what works in working with power?", True),  # where it looks
        ("What do English and Welsh studies say about what works in working with power?", True),
        # what it wants answered from, not what it asks about
        ("What works in working with power? I'm after the review evidence, not opinion.", True),
        ("What role do nurses play in the handover?", True),  # of no clear intent, it asks for findings
        ("How many nurses took part in the survey?", False),  # a count is no finding
        ("What is working with power?", True),  # what something is, not what the research lacks
    ],
)
def test_a_sentence_about_the_research_is_no_answer_to_what_works(
    rag_index: RagIndex, monkeypatch: pytest.MonkeyPatch, question: str, excluded: bool
) -> None:
    """Whatever its section, a sentence on what research lacks or dwells on does not say what works: to a
    question asking for findings, not about research, it is no candidate at all; to others, one as before."""
    pipeline = rag_index.pipeline
    query = pipeline.query(question)
    hits = pipeline.pool(query)
    monkeypatch.setattr(extractive, "_ON_THE_RESEARCH", re.compile(r"(?!)"))  # from no sentence on research
    before, eligible = pipeline.extractive.candidates(query, hits)
    target = eligible[0].quote.text
    monkeypatch.setattr(extractive, "_ON_THE_RESEARCH", re.compile(rf"^{re.escape(target)}$"))
    after, still = pipeline.extractive.candidates(query, hits)
    assert [(c.quote.text, c.score) for c in after] == [(c.quote.text, c.score) for c in before]
    assert (target not in {c.quote.text for c in still}) is excluded
    assert len(still) == len(eligible) - excluded


def test_a_demonstrative_naming_what_the_question_names_reads_without_the_sentence_before(rag_index: RagIndex) -> None:
    """ "These partnership boards decide ..." answers "What do the partnership boards decide?" on its own: the
    question's noun phrase says what it points at. "These include ...", "This is ..." and "This suggests
    ..." name nothing, whatever words they share with the question."""
    pipeline = rag_index.pipeline
    asked = pipeline.query("What do the partnership boards decide?")
    points = pipeline.extractive.points_at_the_question
    assert points(asked, "These partnership boards agree budgets together.")
    assert not points(asked, "These include partnership boards.")
    assert not points(asked, "This is the second component.")
    assert not points(pipeline.query("What do the clinical leaders decide?"), "These partnership boards met monthly.")
    assert not points(pipeline.query("What suggests that boards work?"), "This suggests that boards work.")


@pytest.mark.parametrize(
    ("text", "eligible"),
    [
        ("The major finding was that partnership boards helped.", True),
        ("What was the major finding of the study?", False),  # a question asks; it states nothing
        ("Co-leadership", False),  # a fragment names a topic
    ],
)
def test_only_a_sentence_that_states_something_may_be_quoted(
    rag_index: RagIndex, embedder: Embedder, text: str, eligible: bool
) -> None:
    """A question in the text ("What was the major finding of the study?") is never quoted as an answer."""
    best = candidates(rag_index.pipeline, embedder, "How did clinical leaders help partnership boards?")[0]
    hit = best.quote.hit
    written = hit.model_copy(update={"passage": hit.passage.model_copy(update={"text": text})})
    sentence = dataclasses.replace(best, quote=Quote(written, 0, len(text)))
    assert sentence.eligible(frozenset({best.role})) is eligible


def test_a_named_publications_passages_share_its_best_rank_for_what_works_only(rag_index: RagIndex) -> None:
    """What works, by Waring et al., is anything they found: each of their passages takes the rank of their
    best, and a sentence's own match decides. For a fact about them, the ranking of their passages stands."""
    pipeline = rag_index.pipeline

    def priors(question: str) -> set[float]:
        query = pipeline.query(question)
        candidates, _ = pipeline.extractive.candidates(query, pipeline.pool(query))
        return {round(c.prior, 6) for c in candidates if c.source_id == "waring2023"}

    assert len(priors("What helps partnership boards work, according to Waring et al.?")) == 1
    assert len(priors("How many partnership boards did Waring et al. follow?")) > 1

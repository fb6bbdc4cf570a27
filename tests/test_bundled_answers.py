"""Every answer to the 75 bundled questions on the bundled index quotes its passages verbatim.

Needs the index of the bundled corpus at .icrag/index (``make test`` builds it first with
``make index``); skipped, as the browser test is, when it is missing or built with other settings.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from helpers import DATA_DIR, ICRAG, bundled_index_or_skip, server_environment

from eval.questions import Question, load_questions
from index.embedding import Embedder
from rag.abstention import decides
from rag.evidence_map import COMPONENTS
from rag.models import Answer
from rag.pipeline import Pipeline

pytestmark = pytest.mark.slow

QUESTION_SETS = ["dev_questions.jsonl", "extra_dev_questions.jsonl", "policy_dev_questions.jsonl"]
QUESTIONS: list[Question] = [q for name in QUESTION_SETS for q in load_questions(DATA_DIR / name)]
LABELS = ("Context:", "Mechanism:", "Outcome:", "Summary:")


def words(text: str) -> str:
    return " ".join(text.split())


def test_the_bundled_sets_hold_75_questions() -> None:
    assert len(QUESTIONS) == 75
    assert len({q.id for q in QUESTIONS}) == 75


@pytest.fixture(scope="module")
def bundled(embedder: Embedder) -> Pipeline:
    """A pipeline over the bundled index, as ``make index`` built it; the session's model."""
    return Pipeline.load(bundled_index_or_skip(), embedder)


@pytest.fixture(scope="module")
def answers(bundled: Pipeline) -> dict[str, Answer]:
    """Each bundled question's answer, asked once."""
    return {q.id: bundled.ask(q.question) for q in QUESTIONS}


@pytest.mark.parametrize("question", QUESTIONS, ids=[q.id for q in QUESTIONS])
def test_cited_sentences_are_verbatim_quotes(question: Question, answers: dict[str, Answer], bundled: Pipeline) -> None:
    answer = answers[question.id]
    if answer.abstained:
        assert not answer.sentences and not answer.citations
        return
    assert answer.sentences and answer.citations
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert len({s.text for s in answer.sentences}) == len(answer.sentences), question.id  # none quoted twice
    by_n = {c.n: c for c in answer.citations}
    for sentence in answer.sentences:
        assert sentence.text.strip(), question.id
        assert not sentence.text.startswith(LABELS), (question.id, sentence.text)
        assert sentence.citations, (question.id, sentence.text)
        for n in sentence.citations:
            assert words(sentence.text) in words(by_n[n].quote), (question.id, n, sentence.text, by_n[n].quote)
    store = bundled.store
    for citation in answer.citations:
        passage = store.passages[store.position[citation.passage_id]]
        assert passage.source_id == citation.source_id
        document = store.documents[passage.doc_id]
        assert document.text[citation.start : citation.end] == citation.quote, (question.id, citation.n)
        assert passage.start <= citation.start < citation.end <= passage.end


def test_most_answerable_questions_are_answered(answers: dict[str, Answer]) -> None:
    answerable = [q for q in QUESTIONS if q.answerable]
    answered = [q.id for q in answerable if not answers[q.id].abstained]
    assert len(answered) > len(answerable) // 2, sorted(set(q.id for q in answerable) - set(answered))


@pytest.mark.parametrize(
    "question",
    [
        "What does the research say about leading integrated care for homeless people?",
        "What is the evidence on estates and building maintenance in integrated care systems?",
        "What evidence is there on leadership of hospices in integrated care?",
    ],
)
def test_a_question_about_a_subject_no_passage_mentions_is_declined(bundled: Pipeline, question: str) -> None:
    """Its other words ("leading integrated care") match findings well; the words no passage uses carry what
    it asks about, and the evidence does not hold it (none of these is in the calibration sets)."""
    assert bundled.extractive.rules.uncovered_words(question)
    assert bundled.ask(question).abstained


@pytest.mark.parametrize(
    ("question", "mostly"),
    [
        ("Has minimum unit pricing for alcohol reduced alcohol-related deaths in Scotland?", True),
        ("What does the evidence say about carers' allowance and unpaid carers' wellbeing?", True),
        ("How should leaders handle turf wars between professions?", False),  # two of five
        ("What do the studies say about leaders who micromanage?", False),  # one word alone
        ("What do the studies say about telehealth and telehealth leaders?", False),  # one word, said twice
    ],
)
def test_a_question_mostly_in_words_no_passage_uses_is_declined(bundled: Pipeline, question: str, mostly: bool) -> None:
    """Left out, words carrying most of what a question asks about leave too little of it to come nearer the
    evidence: "Has ... for ... reduced ...-related in Scotland?" is no nearer anything. Half of its subject words,
    two or more, decline it whatever the gain."""
    query = bundled.query(question)
    evidence = bundled.extractive.abstention_evidence(query, bundled.pool(query))
    assert evidence.mostly_uncovered is mostly
    if mostly:
        # no other rule but one naming an outcome measure ("deaths") no passage mentions
        alone = {"mostly_uncovered": False, "measure_unmentioned": False}
        assert not decides(evidence.model_copy(update=alone), bundled.settings)
        assert bundled.ask(question).abstained


@pytest.mark.parametrize(
    "question",
    [
        "How can doctors in our system make the integration strategy better?",
        "What helps an ordinary practitioner become a leader across professions?",
    ],
)
def test_a_word_no_passage_uses_that_names_no_new_subject_does_not_decline(bundled: Pipeline, question: str) -> None:
    """The index says "physicians" for "doctors", and "ordinary" names no subject: leaving them out moves the
    question hardly at all."""
    query = bundled.query(question)
    evidence = bundled.extractive.abstention_evidence(query, bundled.pool(query))
    assert bundled.extractive.rules.uncovered_words(question)
    assert evidence.uncovered_gain < bundled.settings.uncovered_gain
    assert not bundled.ask(question).abstained


@pytest.mark.parametrize(
    "question",
    [
        "Why do some partnerships run out of steam?",
        "How should leaders handle turf wars between professions?",
        "How long does integration take to bear fruit, according to the Dutch work?",
    ],
)
def test_a_figure_of_speech_is_no_subject_the_evidence_lacks(bundled: Pipeline, question: str) -> None:
    """Read literally, "steam", "turf" and "fruit" are words no passage uses; read in plain words (rag.idioms),
    the question asks what the evidence covers. The answer still shows the question as asked."""
    query = bundled.query(question)
    assert query.as_asked == question and query.text != question
    assert bundled.extractive.rules.uncovered_words(query.text) == []
    answer = bundled.ask(question)
    assert not answer.abstained and answer.question == question


def test_a_question_pointing_back_at_its_scene_asks_about_the_scene(bundled: Pipeline) -> None:
    """ "How do these sources describe it?" asks nothing of its own: "it" is the scene's 'systems leadership',
    and "in plain English" names a language, not England's publications."""
    question = (
        "I need to explain 'systems leadership' to our new board members in plain English. "
        "How do these sources describe it?"
    )
    query = bundled.query(question)
    assert query.places == ()
    answer = bundled.ask(query)
    assert any("systems leadership" in s.text for s in answer.sentences[:3])
    assert not answer.sentences[0].text.startswith("Sims et al. found evidence")


@pytest.mark.parametrize(
    "question",
    [
        "What helps leaders when integration becomes bewildering?",
        "What should a leader do when partnership working has stalled?",
        # what stands in the way, the evidence says in its own words ("a lack of trust")
        "What leader behaviours undermine integration?",
    ],
)
def test_what_a_question_says_of_its_subject_is_not_counted_as_uncovered(bundled: Pipeline, question: str) -> None:
    """ "becomes bewildering" and "has stalled" describe integration and partnership working, which the index
    covers; left out, they would leave a question far nearer the evidence than it was, as a new subject does."""
    assert bundled.extractive.rules.uncovered_words(question) == []
    assert not bundled.ask(question).abstained


@pytest.mark.parametrize(
    "question",
    [
        "What works for clinical leaders in integrated care, and in what circumstances?",
        "Compare what the Scottish and Dutch experience says about leading integration.",
        "How many papers did the NIHR HSDR realist synthesis include?",
        "What leadership approaches help integrated care systems succeed during a crisis like COVID-19?",
    ],
)
def test_the_issues_four_policy_questions_are_answered(bundled: Pipeline, question: str) -> None:
    """ "a crisis like COVID-19" asks about COVID-19, which the index covers, though it never says "crisis"."""
    assert not bundled.ask(question).abstained


def test_words_that_name_nothing_new_are_not_counted_as_uncovered(bundled: Pipeline) -> None:
    """Stop words, the thing a "What <thing> ...?" question asks for, kinds of body, known countries, typos and
    other forms of the index's words are not what the evidence lacks; "dashboards" is."""
    question = "What weakness did the Spanish study find in the board dashboards we use much for integrtion?"
    assert bundled.extractive.rules.uncovered_words(question) == ["dashboards"]
    # "What is the hallmark of ...?" asks for a hallmark, which the evidence names in its own words.
    assert bundled.extractive.rules.uncovered_words("What is the hallmark of good dashboards?") == ["dashboards"]
    # A superlative of a word of the index, and a stop word run into one, are forms of words it uses.
    assert bundled.extractive.rules.uncovered_words("Which is the largest dashboard ofintegration?") == ["dashboard"]


def test_a_question_mostly_in_the_words_of_titles_is_read_in_them(bundled: Pipeline) -> None:
    """ "leading", "integrated", "care" and "time" are all words of some title; without them only "take" is
    left, which a scope note ("what form it takes") happens to share. The question is about all its words."""
    question = "Why does leading integrated care take time?"
    rules = bundled.extractive.rules
    query = bundled.query(question)
    assert len(set(query.words) - rules.vocabulary.question_words - rules._bibliographic) == 1
    assert not bundled.ask(query).abstained


@pytest.mark.parametrize(
    "question",
    ["What are the seven components?", "What are the seven leadership components identified by Sims et al.?"],
)
def test_a_question_asking_for_seven_items_gets_all_seven(bundled: Pipeline, question: str) -> None:
    """Sims et al.'s components are seven records alike but for their names; asked to list them, the answer
    names each once."""
    answer = bundled.ask(question)
    components = [c for c in COMPONENTS if c != "general"]  # the evidence map's rows, less its catch-all
    assert len(components) == 7
    assert [c for c in components if c not in answer.answer] == []
    # The sentence numbering all seven ("they are: (1) ...; and (7) ...") opens the answer, with the sentences
    # its "they" points back to, whatever words it shares with the question.
    listing = next(i for i, s in enumerate(answer.sentences) if all(c in s.text for c in components))
    assert listing <= 2 and answer.sentences[0].text.startswith("The review found evidence for seven components")
    # and no component is named again
    assert [c for c in components if sum(c in s.text for s in answer.sentences) > 1] == []


def test_a_definition_written_under_its_abbreviation_answers_what_the_term_is(bundled: Pipeline) -> None:
    """The corpus says "ICSs are complex, ..." and never "integrated care systems are ..."."""
    query = bundled.query("What is an integrated care system?")
    assert set(query.term_forms) == {"ICS", "ICSs"}
    assert bundled.ask(query).sentences[0].text.startswith("ICSs are")


def test_a_sentence_standing_in_for_a_records_line_is_not_quoted_again_as_context(bundled: Pipeline) -> None:
    """Sibbald et al.'s record line is answered in their own words; "Such leadership, they say, ..." then
    brings that same sentence as what "they" points back to, which must not be quoted a second time."""
    answer = bundled.ask("What does the evidence say about distributed or shared leadership in integrated care?")
    texts = [s.text for s in answer.sentences]
    assert len(set(texts)) == len(texts)


def test_the_next_point_of_an_enumeration_about_the_research_is_about_it_too(bundled: Pipeline) -> None:
    """ "First, there is little research on ...". "Second, what exists tends to fall back on ..." is the
    second point about the research, no answer to what helps or hinders integration."""
    answer = bundled.ask("What are the main barriers to integrating health and social care leadership?")
    assert answer.form == "realist"
    assert not [s.text for s in answer.sentences if s.text.startswith(("First, there", "Second, what exists"))]


def test_the_study_a_country_names_is_the_one_whose_methods_are_told(bundled: Pipeline) -> None:
    """ "How strong is the Canadian evidence on collaborative leadership?" tells how the Canadian study
    gathered its evidence, not how the best-matching study of any country (an English one) did."""
    answer = bundled.ask("How strong is the Canadian evidence on collaborative leadership?")
    assert answer.form == "evidence_strength"
    gathered = next(s for s in answer.sections if s.heading == "How the evidence was gathered")
    assert {answer.citations[s.citations[0] - 1].source_id for s in gathered.sentences} == {"sibbald_oht"}


def test_a_publication_asked_what_it_found_is_answered_from_its_findings(bundled: Pipeline) -> None:
    """ "What did Waring et al. find?" names nothing but the publication: its findings answer it, first."""
    answer = bundled.ask("What did Waring et al. find?")
    assert not answer.abstained
    assert answer.citations[0].source_id == "waring2023"


def test_when_a_named_publication_appeared_is_read_in_its_publication_details(bundled: Pipeline) -> None:
    answer = bundled.ask("When was the Sims et al. review published?")
    assert any("2021" in s.text for s in answer.sentences[:2])


def test_a_named_publication_asked_about_its_titles_topic_is_answered_from_its_findings(bundled: Pipeline) -> None:
    """Kjellberg et al.'s title is about collaborative advantage, a phrase its findings never repeat: all they found
    is about it, so the question is answered from them, not declined for want of a sentence saying the words."""
    answer = bundled.ask("What does Kjellberg et al.'s study say about collaborative advantage?")
    assert not answer.abstained
    assert answer.citations[0].source_id == "kjellberg2020"


def test_an_abbreviation_for_a_kind_of_body_names_nothing_the_evidence_lacks(bundled: Pipeline) -> None:
    """The indexed text never says "ICB", but an integrated care board is a kind of body, not a name it lacks."""
    answer = bundled.ask("How should a new ICB chair balance national targets against local priorities?")
    assert not answer.abstained
    assert answer.citations[0].source_id == "sanderson2023"
    assert bundled.ask("What leadership lessons came from the Canterbury District Health Board?").abstained


def test_what_a_named_study_found_excludes_overview_lines_listing_the_publications(bundled: Pipeline) -> None:
    """ "What did the New Zealand study find ...?" asks the study, not which studies there are."""
    answer = bundled.ask("What did the New Zealand study find about involving communities in primary health care?")
    assert not any(s.text.startswith("**") or "middleton2024 (" in s.text for s in answer.sentences)
    assert "middleton2024" in {c.source_id for c in answer.citations}


def test_what_a_named_publication_found_about_something_is_read_in_all_it_found(bundled: Pipeline) -> None:
    """Amunarriz et al.'s findings on the chief executive's part never use the question's words ("chief
    executive", "role"): every passage of theirs is pooled, and each sentence of theirs is ranked by its own
    match, not by how its passage ranks for the whole question."""
    answer = bundled.ask(
        "What did Amunarriz et al. find about the chief executive's role in building an integrated care organisation?"
    )
    assert any("goals of senior management" in s.text for s in answer.sentences)


def test_a_question_about_one_countrys_experience_is_answered_from_its_publications_first(bundled: Pipeline) -> None:
    """ "The Basque experience" is Amunarriz et al.'s Spanish case, whose findings share few words with the
    question: they open the answer, not the nearer words of Scottish chief officers' reports."""
    answer = bundled.ask("What lessons does the Basque experience offer a chief executive?")
    assert answer.citations[0].source_id == "amunarriz2020"


@pytest.mark.parametrize(
    "question", ["Which components did Sims et al. identify?", "Which mechanisms did Middleton et al. identify?"]
)
def test_how_a_publication_came_by_what_is_asked_is_no_word_its_notes_can_lack(
    bundled: Pipeline, question: str
) -> None:
    """ "identify" asks how the review came by its components, not what they are: a scope note sharing that word
    ("the behaviours identified are not summarised") does not outweigh the findings that name the components."""
    assert not bundled.ask(question).abstained


@pytest.mark.parametrize(
    "question",
    [
        # the scene counts at its weight in the question's vector, with or without the word left out
        "Scotland gets held up as the model for integration. Has it actually narrowed health inequalities?",
        "Our health and wellbeing board is split between creating one body to run health and social care for older"
        " people or sticking with partnership agreements between organisations. Has that debate come up anywhere"
        " else?",
        # a name written without its accents ("Szücs")
        "What theoretical lens did Kjellberg and Szucs use to study trust, and how many people did they interview?",
        # "paper" and "describe" name no detail a note can lack; "framework" is in what a note says is recorded
        "What does the SCIE paper for the NHS Leadership Academy say ICS leaders actually need to be good at?",
        "I need to explain 'systems leadership' to our new non-execs in plain English. How do these sources"
        " describe it?",
        "Does the Sims framework include anything about dealing with power?",
        # a scene spending years, not money; a question in lower case after its scene
        "Sweden and the Netherlands have both spent years trying to join up care for older people. Do the studies"
        " from the two countries say the same thing about who should be in charge?",
        "We're designing a development offer for system leaders across our patch. how should we structure it?",
    ],
)
def test_answerable_questions_in_everyday_words_are_answered(bundled: Pipeline, question: str) -> None:
    """Questions the corpus answers, asked as users ask them, decline on none of the abstention rules."""
    assert not bundled.ask(question).abstained


@pytest.mark.parametrize(
    "question",
    [
        # the note says "the professions of the clinical leaders" are not summarised, after a phrase saying where
        "In the Waring study, what professions did the 24 clinical leaders come from - mostly GPs or hospital"
        " consultants?",
        # the note says "the names of the eight ICSs are not summarised here": the short form of what is asked for
        "Which eight integrated care systems did The King's Fund follow in its review of the first year of ICSs?",
        "Which were the eight first-wave ICSs that the King's Fund followed for a year?",
        # a note elsewhere says "the number of participants in ... baylis2018" is not stated, and none is given
        "How many chief officers took part in The King's Fund's work with Scotland's integration authorities?",
    ],
)
def test_a_detail_the_publications_notes_say_is_missing_is_declined(bundled: Pipeline, question: str) -> None:
    assert bundled.ask(question).abstained


def test_a_question_about_the_only_publication_of_a_place_pools_all_of_it(bundled: Pipeline) -> None:
    """The Basque chief executive's case is one publication: what its model found sits in a passage whose words
    are far from the question's, and is quoted only when every passage of it is pooled."""
    answer = bundled.ask("How did the Basque integrated care organisation's chief executive drive integration?")
    assert answer.citations[0].source_id == "amunarriz2020"
    assert any("goals of senior management" in s.text for s in answer.sentences)


def test_a_sentence_stating_what_is_asked_opens_the_answer_only_from_the_publication_asked_about(
    bundled: Pipeline,
) -> None:
    """ "The introduction frames the problem internationally." names a problem, but of another paper than the
    first-year review of integrated care systems the question is about."""
    answer = bundled.ask("What were the main problems in the first year of integrated care systems in England?")
    assert answer.citations[0].source_id == "charles2018"


def test_a_general_question_is_answered_by_findings_before_background(bundled: Pipeline) -> None:
    """What a protocol argues leaders will need frames a study; what studies found about deciding across
    organisations answers the question."""
    answer = bundled.ask("How do system leaders make decisions across organisations with different accountabilities?")
    assert answer.citations[0].role == "finding"
    assert "little was known" not in answer.answer


def test_an_evidence_strength_question_asking_how_many_is_answered_first_by_a_count(bundled: Pipeline) -> None:
    """ "How many studies support ...?" asks how strong the evidence is by a count: the sentence that states one
    ("Two studies without control groups suggested ...") opens the findings, before appraisals without one."""
    answer = bundled.ask(
        "How many studies support the claim that clinical leadership improves integrated primary care?"
    )
    assert answer.form == "evidence_strength"
    assert answer.sentences[0].text.startswith("Two studies")


def test_a_records_context_stating_the_count_asked_for_answers_a_how_many_question(bundled: Pipeline) -> None:
    """A record's context frames findings and is no answer outside "In what circumstances", unless it states
    what a direct question asks for and nothing else does."""
    answer = bundled.ask("How many Ontario Health Teams were in the first cohort?")
    assert "30" in answer.sentences[0].text


def test_a_countrys_study_described_by_its_design_is_the_one_asked_about(bundled: Pipeline) -> None:
    """Of the two Dutch publications, "the Dutch participatory case study" is Lette et al.'s, not Nies et al.'s
    policy analysis, which matches the question's other words better."""
    answer = bundled.ask("What did the Dutch participatory case study change?")
    assert answer.citations[0].source_id == "lette2020"
    assert "nies2021" not in {c.source_id for c in answer.citations[:3]}


def test_a_question_asking_what_counts_most_is_answered_first_by_the_sentence_ranking_one_above_the_rest(
    bundled: Pipeline,
) -> None:
    """ "Which one comes out as mattering most?" is answered by "judged leadership the most influential", not by
    the background of the review that judged it."""
    answer = bundled.ask(
        "Of all the things that affect whether integrated health and social care systems in the NHS function "
        "well, which one comes out as mattering most?"
    )
    assert "most influential" in answer.sentences[0].text


def test_a_term_spelt_out_in_a_methods_section_answers_what_it_is(bundled: Pipeline) -> None:
    """RAMESES is named only where the reviews' methods are told: the sentence spelling it out says what it is,
    whatever its section, and the question pointing back at it ("What is it?") asks about it."""
    answer = bundled.ask("Several of these reviews mention RAMESES. What is it?")
    assert not answer.abstained
    assert "Realist And Meta-narrative Evidence Syntheses" in answer.sentences[0].text


def test_a_question_asking_for_a_share_no_leading_sentence_states_is_declined(bundled: Pipeline) -> None:
    """The chief officers' report says what they worked on, not where they came from: no number, no answer."""
    answer = bundled.ask(
        "What proportion of Scotland's integration authority chief officers came from a social work background?"
    )
    assert answer.abstained


def test_a_comparison_of_one_countrys_studies_compares_that_countrys_publications(bundled: Pipeline) -> None:
    answer = bundled.ask("The two Dutch studies look at integration at very different scales. What did each find?")
    assert answer.form == "comparison"
    assert {c.source_id for c in answer.citations} == {"lette2020", "nies2021"}


def test_an_evidence_strength_question_is_answered_by_what_was_found_before_what_a_study_starts_from(
    bundled: Pipeline,
) -> None:
    """That co-leadership "has been little studied" frames the Swedish study; that it "made management more robust"
    is what the study found, on which the evidence is judged."""
    answer = bundled.ask(
        "We're thinking of putting a pair of managers, one from the trust and one from the council, in charge of our "
        "integrated community service. Is there evidence that co-leadership like that works?"
    )
    assert answer.form == "evidence_strength"
    assert any("robust" in s.text for s in answer.sentences)
    assert all(c.role != "background" for c in answer.citations[:2])


def test_a_question_about_an_outcome_measure_no_passage_mentions_is_declined(bundled: Pipeline) -> None:
    """The Norfolk and Waveney case study reports how the project was led; no passage mentions admissions or deaths."""
    answer = bundled.ask("Did COVID-19 Protect reduce hospital admissions or deaths among the people it flagged?")
    assert answer.abstained


def test_a_law_no_passage_names_is_unknown_though_the_index_uses_each_of_its_words(bundled: Pipeline) -> None:
    question = "What statutory duties does the Health and Care Act 2022 place on integrated care board chairs?"
    assert not bundled.extractive.rules.uncovered_words(question)
    assert bundled.ask(question).abstained


def test_a_comparison_with_a_side_the_evidence_never_names_answers_the_other_and_notes_the_gap(
    bundled: Pipeline,
) -> None:
    answer = bundled.ask(
        "How does the evidence on collaborative leadership in Ontario Health Teams stack up against evaluations of "
        "Kaiser Permanente's integrated model?"
    )
    assert not answer.abstained and answer.form == "comparison"
    assert {c.source_id for c in answer.citations} == {"sibbald_oht"}
    assert [gap.part for gap in answer.gaps] == ["Kaiser Permanente"]


def test_a_what_works_question_asking_for_the_one_thing_opens_with_the_sentence_ranking_it_first(
    bundled: Pipeline,
) -> None:
    answer = bundled.ask(
        "If our integrated system could only really put its energy into one thing to function better - culture, "
        "workforce, money, leadership - which one does the evidence point to?"
    )
    assert answer.form == "realist"
    assert "most influential" in answer.sentences[0].text


def test_a_question_about_a_reviews_limitations_is_answered_first_by_what_limits_it(bundled: Pipeline) -> None:
    answer = bundled.ask(
        "Can Knight et al.'s four programme theories on ICS leadership be applied to other systems? What are the main "
        "limitations of that review?"
    )
    assert "one ICS" in answer.sentences[0].text


def test_a_comparison_with_a_country_the_evidence_lacks_notes_the_gap_whatever_names_that_side(
    bundled: Pipeline,
) -> None:
    """ "Gesundes Kinzigtal" is no word of the index, but it names the German side, which the evidence lacks."""
    answer = bundled.ask("How does the Dutch approach to integration compare with Germany's Gesundes Kinzigtal model?")
    assert not answer.abstained
    assert [gap.part for gap in answer.gaps] == ["Germany"]
    assert {c.source_id for c in answer.citations} <= {"nies2021", "lette2020"}


def test_how_many_people_a_study_heard_is_answered_by_whoever_it_counts(bundled: Pipeline) -> None:
    """ "How many people ...?" is answered by "nine strategic stakeholders", not declined for want of "people"."""
    answer = bundled.ask("The Swedish study on trust in older people's care - how many people did they interview?")
    assert "nine" in answer.sentences[0].text


def test_a_sentence_counting_things_it_does_not_name_brings_the_sentence_listing_them(bundled: Pipeline) -> None:
    """ "Positive change in five outcomes" says little without "Five outcomes showed positive change: skills,
    knowledge, ..."; the list follows it."""
    answer = bundled.ask("Do leadership development programmes for multi-professional teams make any real difference?")
    texts = [s.text for s in answer.sentences]
    counted = next(i for i, t in enumerate(texts) if "positive change in five outcomes" in t)
    assert "skills, knowledge, confidence, attitudes and satisfaction" in texts[counted + 1]


def test_a_misspelt_author_still_names_a_side_of_a_comparison(bundled: Pipeline) -> None:
    answer = bundled.ask("Niewboer vs Sims - do they agree on who should be leading integrated care?")
    assert not answer.gaps
    assert {"nieuwboer2019", "sims2021"} <= {c.source_id for c in answer.citations}


@pytest.mark.parametrize(
    "question",
    [
        "How long should ICS leaders expect to wait before integration shows results?",  # a verb, no measure
        "How many times do we have to restructure before integration works?",  # asks no count
        "What share of the work should the council take on in an integrated care partnership?",  # what ought to be
    ],
)
def test_everyday_words_of_measures_and_amounts_decline_nothing(bundled: Pipeline, question: str) -> None:
    query = bundled.query(question)
    evidence = bundled.extractive.abstention_evidence(query, bundled.pool(query))
    assert not evidence.measure_unmentioned and not evidence.amount_missing


def test_a_country_style_names_the_country_not_a_publication(bundled: Pipeline) -> None:
    """ "Swedish-style" is Sweden's side, both Swedish studies, of which the co-leadership one answers."""
    answer = bundled.ask(
        "Is the Swedish-style co-leadership model better than having a single integrated manager, as in the Torbay "
        "care trust model?"
    )
    assert [side.label for side in bundled.query(answer.question).intent.sides] == ["Sweden", "Torbay"]
    assert "klinga2016" in {c.source_id for c in answer.citations}


def test_an_evidence_strength_answer_says_how_strong_the_publications_judge_their_evidence(bundled: Pipeline) -> None:
    """ "How solid is the research?" is answered by what the publications say of their evidence ("little research",
    "limited"), in whatever section they say it, before anything else they found."""
    answer = bundled.ask("Before I brief the board: how solid is the research on leading integrated care?")
    assert answer.form == "evidence_strength"
    strength = next(s for s in answer.sections if s.heading == "How strong it is")
    assert strength.sentences and all(re.search(r"little|limited|thin|rare", s.text) for s in strength.sentences)
    assert answer.sections.index(strength) < next(
        i for i, s in enumerate(answer.sections) if s.heading == "What it found"
    )


def test_a_first_author_with_a_letter_doubled_is_named_not_unknown(bundled: Pipeline) -> None:
    """ "Bhatt and colleagues" is Bhat et al. misspelt, not an author the index lacks."""
    answer = bundled.ask("Which factor came out as most important in the systematic review by Bhatt and colleagues?")
    assert not answer.abstained
    assert answer.citations[0].source_id == "bhat2022"


def test_a_question_asking_for_what_a_note_lists_as_missing_is_declined(bundled: Pipeline) -> None:
    """The Spanish study's "specific management behaviours, attitudes and values identified … are not summarised
    here", though every word of the question is the evidence's: the study and what it set out to find are."""
    question = (
        "Which management behaviours, attitudes and values did the Spanish study of person-centred care identify?"
    )
    assert bundled.ask(question).abstained
    assert not bundled.ask("What did the Spanish study of person-centred care find?").abstained


def test_how_strong_the_evidence_of_two_named_publications_is_compared_side_by_side(bundled: Pipeline) -> None:
    """ "How big was the evidence base behind X compared with Y?" is answered publication by publication, each side
    opening with the sentence that states its size."""
    answer = bundled.ask(
        "How big was the evidence base behind Knight et al.'s review compared with Nieuwboer et al.'s?"
    )
    assert answer.form == "comparison"
    by_n = {c.n: c for c in answer.citations}
    firsts = {
        by_n[section.sentences[0].citations[0]].source_id: section.sentences[0].text for section in answer.sections
    }
    assert set(firsts) == {"knight2024", "nieuwboer2019"}
    assert "18 documents" in firsts["knight2024"] and "20 included" in firsts["nieuwboer2019"]


def test_an_answer_does_not_depend_on_the_order_python_iterates_sets_in() -> None:
    """Two records that say the same thing score the same; which comes first must not hang on how a process hashes
    strings (the order its sets of words are summed in). Under these two hash seeds, floating-point sums in set order
    once put different sentences in this answer."""
    settings = bundled_index_or_skip()
    question = next(q.question for q in load_questions(DATA_DIR / "policy_dev_questions.jsonl") if q.id == "pd16")

    def answer(seed: str) -> str:
        env = {**server_environment(settings), "PYTHONHASHSEED": seed}
        completed = subprocess.run(
            [str(ICRAG), "ask", "--json", question], capture_output=True, text=True, timeout=120, env=env, check=True
        )
        return str(json.loads(completed.stdout)["answer"])

    assert answer("1") == answer("3")


def test_a_pronoun_names_nothing_a_scope_note_could_lack(bundled: Pipeline) -> None:
    """ "its" is stemmed to "it", which the tokenizer keeps: a note on what one component involves ("… what the
    component involves (its contexts, …)") named it, and "What are its components?" was declined."""
    answer = bundled.ask(
        "A colleague keeps quoting the Sims framework for leading integrated care. What are its components?"
    )
    assert not answer.abstained
    assert answer.citations[0].source_id == "sims2021"


def test_a_question_asking_for_results_asks_what_was_found(bundled: Pipeline) -> None:
    """ "The rest of the results are not covered" says part of what the study found is missing; "What were the
    results …?" asks what it found, and what it found is there."""
    assert not bundled.ask("What were the results of collaborative leadership in the OHTs?").abstained


def test_a_reviews_stand_on_the_research_is_its_side_of_a_comparison(bundled: Pipeline) -> None:
    """ "Sims et al. criticise the wider literature for focusing on who the leader is …" is about research, no
    finding of what works; where reviews are compared on who should lead, it is Sims et al.'s position."""
    critique = "Sims et al. criticise the wider literature"

    def on_research(question: str) -> bool:
        query = bundled.query(question)
        candidates, _ = bundled.extractive.candidates(query, bundled.pool(query))
        return next(c for c in candidates if c.quote.text.startswith(critique)).on_research

    assert not on_research("Do Sims et al. and Nieuwboer et al. differ on whether it matters who the leader is?")
    assert on_research("What works for leaders of integrated care, whoever the leader is?")


def test_a_word_opening_a_question_names_no_author_unless_cited_as_one(bundled: Pipeline) -> None:
    """ "Warring partners" is no misspelt Waring; "Knights et al." opening a question is Knight et al."""
    assert not bundled.query("Warring partners: how can leaders bring them together?").named
    assert bundled.query("Knights et al. - how did they test their programme theories?").named == {"knight2024"}


def test_how_strong_one_study_is_is_judged_from_that_study(bundled: Pipeline) -> None:
    """How much weight the Scottish paper bears is not how Nieuwboer et al. judge their own papers."""
    answer = bundled.ask("How much weight can I put on the Hendry et al. paper on Scotland's reform?")
    assert answer.form == "evidence_strength"
    by_n = {c.n: c for c in answer.citations}
    judged = [s for section in answer.sections if section.heading == "How strong it is" for s in section.sentences]
    assert all(by_n[n].source_id == "hendry2021" for s in judged for n in s.citations)


def test_a_question_asking_two_things_is_answered_part_by_part_when_whole_it_is_declined(bundled: Pipeline) -> None:
    """Whole, it matches no single sentence well enough; each part alone does, and each gets its own block."""
    question = "What is an integrated care system, in plain terms, and why is leading one considered so demanding?"
    query = bundled.query(question)
    assert bundled.extractive.answer(query, bundled.pool(query)).abstained
    answer = bundled.ask(question)
    assert not answer.abstained and answer.form == "parts" and not answer.gaps
    assert answer.sections[0].heading == "What is an integrated care system, in plain terms"
    assert answer.sections[-1].heading.startswith("Why is leading one considered so demanding")
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert len({s.text for s in answer.sentences}) == len(answer.sentences)
    assert any("ICSs are complex" in s.text for s in answer.sections[0].sentences)


def test_a_part_the_evidence_does_not_answer_gets_a_note_and_the_rest_is_answered(bundled: Pipeline) -> None:
    answer = bundled.ask("What is an integrated care system, in plain terms, and how much are ICB chairs paid?")
    assert not answer.abstained and answer.form == "parts"
    assert [s.heading for s in answer.sections] == ["What is an integrated care system, in plain terms"]
    assert [g.part for g in answer.gaps] == ["How much are ICB chairs paid"]
    assert "How much are ICB chairs paid? The indexed evidence does not cover this part" in answer.answer


def test_later_parts_are_not_answered_when_the_first_is_not(bundled: Pipeline) -> None:
    """ "What is driving the churn?" leans on what the first part asks about, which the evidence lacks."""
    question = "How many ICB chief executives have thrown in the towel since 2022, and what is driving the churn?"
    assert len(bundled.query(question).parts) == 2
    assert bundled.ask(question).abstained


@pytest.mark.parametrize(
    ("question", "declined"),
    [
        ("Sims et al 7 components vs Knight et al programme theories - how do the two frameworks differ?", False),
        ("How do Sims et al. and Knight et al. compare on telehealth?", True),  # a word no passage uses
    ],
)
def test_a_comparison_of_publications_it_names_is_answered_from_them(
    bundled: Pipeline, question: str, declined: bool
) -> None:
    """Its words match no one sentence well (the sides split them), but the publications it names answer it."""
    query = bundled.query(question)
    evidence = bundled.extractive.abstention_evidence(query, bundled.pool(query))
    assert evidence.best_score < bundled.settings.abstain_threshold
    assert evidence.compares_named is not declined
    answer = bundled.ask(question)
    assert answer.abstained is declined
    if not declined:
        assert answer.form == "comparison" and [s.heading for s in answer.sections] == [
            "Sims et al. (2021)",
            "Knight et al. (2024)",
        ]


@pytest.mark.parametrize(
    "question",
    [
        "How much are ICB chairs paid?",
        "What do ICB chief executives typically get paid compared with trust chief executives?",
        "What return on investment did the leadership development programmes in Bornman and Louw's review deliver?",
    ],
)
def test_a_question_asking_for_an_amount_of_money_no_passage_states_is_declined(
    bundled: Pipeline, question: str
) -> None:
    query = bundled.query(question)
    assert bundled.extractive.abstention_evidence(query, bundled.pool(query)).money_missing
    assert bundled.ask(question).abstained


@pytest.mark.parametrize(
    ("question", "declined"),
    [
        (
            "Northern Ireland has had integrated health and social care trusts for decades. "
            "What does the research say about how they're led?",
            True,
        ),
        # the asker's own circumstances are no subject the evidence must hold
        (
            "My PhD student keeps citing the Sims framework for integrated care leadership. What are its components?",
            False,
        ),
        (
            "We fund a course for social workers, OTs and nurses. Is there evidence these programmes change anything?",
            False,
        ),
    ],
)
def test_a_place_the_scene_names_is_asked_about_when_the_question_points_back_at_it(
    bundled: Pipeline, question: str, declined: bool
) -> None:
    query = bundled.query(question)
    assert bundled.extractive.abstention_evidence(query, bundled.pool(query)).unknown_name is declined
    assert bundled.ask(question).abstained is declined


def test_a_budget_in_a_question_of_what_to_do_asks_for_no_sum(bundled: Pipeline) -> None:
    question = "How do I share power with our partners without feeling like I'm giving away my whole budget?"
    query = bundled.query(question)
    assert query.intent.intent == "how_to"
    assert not bundled.extractive.abstention_evidence(query, bundled.pool(query)).money_missing
    assert not bundled.ask(question).abstained


@pytest.mark.parametrize(
    ("question", "declined"),
    [
        (
            "How should I set up an out-of-hours rota that covers both the council's reablement workers and our NHS "
            "community nurses?",
            True,
        ),
        ("Which publications raise power as an issue for integrated care leadership, and what does each say?", False),
    ],
)
def test_a_comparison_of_sides_the_index_does_not_hold_may_ask_about_what_no_passage_mentions(
    bundled: Pipeline, question: str, declined: bool
) -> None:
    """ "both X and Y" compares, but names no publication or country: "rota" asks about what the evidence lacks."""
    query = bundled.query(question)
    assert query.intent.intent == "comparison" and not query.intent.sides
    evidence = bundled.extractive.abstention_evidence(query, bundled.pool(query))
    assert (evidence.uncovered_gain >= bundled.settings.uncovered_gain) is declined
    assert bundled.ask(question).abstained is declined


@pytest.mark.parametrize(
    "question",
    [
        "For the Cabinet Secretary's speech: what does the Scottish reform reflection say matters most?",
        "How much weight can a cabinet paper put on the claim that good leadership drives successful integration?",
    ],
)
def test_an_office_of_government_names_who_asks_not_what_the_evidence_lacks(bundled: Pipeline, question: str) -> None:
    query = bundled.query(question)
    evidence = bundled.extractive.abstention_evidence(query, bundled.pool(query))
    assert not evidence.unknown_name
    assert not {"Cabinet", "cabinet", "Secretary"} & set(bundled.extractive.rules.uncovered_words(query.text))
    assert not bundled.ask(question).abstained

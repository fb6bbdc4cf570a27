"""rag.abstention and the direct form on a count a named publication does not give.

A small index of its own: three studies of handovers, one stating its number of interviews, and a
compiled overview whose note names a study whose number it lacks.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import build_index

from index.embedding import Embedder
from rag.pipeline import Pipeline

SUMMARIES_MD = """# Handover studies

## alpha2020 — Handovers on the ward

### Results
Alpha and colleagues interviewed ward managers about handovers between hospital and home care. Managers said shared handover notes reduced repeated assessments. [alpha2020 §Results]

### Not covered by this evidence base
The names of the wards are not summarised here. [alpha2020 §Scope-note]

## beta2021 — Handovers at home

### Results
Beta and colleagues held 30 interviews with home care staff about handovers. Staff said handover calls helped them plan visits. Staff said the Care Act 2014 set out their duties. [beta2021 §Results]

## delta2019 — Handovers in the community

### Results
Delta and colleagues interviewed district nurses about handovers between hospital and home care. Nurses said handover calls made discharge safer. [delta2019 §Results]

### Not covered by this evidence base
How the district nurses were recruited is not covered by this evidence base. [delta2019 §Scope-note]

## Compiled overview

### Size of the evidence
- **Interview studies:** beta2021 held 30 interviews with home care staff.
- **Not stated in the summarised text:** the number of interviews in delta2019.
[beta2021 §Overview] [delta2019 §Overview]
"""  # noqa: E501

SOURCES_CSV = (
    "source_id,authors,year,title,venue,doi,url,licence\n"
    'alpha2020,"Alpha A; Ward W",2020,"Handovers on the ward",Journal of Care,,,\n'
    'beta2021,"Beta B; Home H",2021,"Handovers at home",Journal of Care,,,\n'
    'delta2019,"Delta D; Nurse N",2019,"Handovers in the community",Journal of Care,,,\n'
)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path, embedder: Embedder) -> Pipeline:
    """A pipeline over the handover studies."""
    files: dict[str, str | bytes] = {"summaries.md": SUMMARIES_MD, "sources.csv": SOURCES_CSV}
    return build_index(tmp_path_factory.mktemp("notes"), files, cache_dir, embedder).pipeline


def test_a_count_a_named_study_lacks_is_not_another_studys_count(pipeline: Pipeline) -> None:
    """Beta's "30 interviews" does not answer how many interviews Alpha held: the answer opens with Alpha."""
    answer = pipeline.ask("How many interviews did Alpha et al. hold about handovers?")
    assert not answer.abstained
    assert answer.citations[0].source_id == "alpha2020"
    assert "30" not in answer.sentences[0].text


def test_a_note_elsewhere_naming_the_study_declines_its_count(pipeline: Pipeline) -> None:
    """The overview's note says Delta's number of interviews is not stated; none of Delta's findings gives one."""
    assert pipeline.ask("How many interviews did Delta et al. hold about handovers?").abstained
    assert not pipeline.ask("How many interviews did Beta et al. hold about handovers?").abstained


@pytest.mark.parametrize(
    ("question", "money"),
    [
        ("What did the council pay for the handover studies?", True),
        ("How much money did the handover studies cost?", True),
        ("Which programme paid for the handover studies?", False),  # asks who, not how much
        ("Alpha and Beta spent years on handovers. Did they agree on what helps?", False),  # time, not money
        ("The wards spent years on handovers. How much money did the studies cost?", True),
    ],
)
def test_a_question_asking_what_was_paid_asks_for_money(pipeline: Pipeline, question: str, money: bool) -> None:
    query = pipeline.query(question)
    evidence = pipeline.extractive.abstention_evidence(query, pipeline.pool(query))
    assert evidence.money_missing is money


def test_a_which_question_is_declined_when_a_note_says_the_names_are_not_given(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Which wards ...?" asks for the wards' names, which the note says are not given."""
    question = "Which wards did Alpha et al. visit to interview managers about hospital and home care handovers?"
    assert pipeline.ask(question).abstained
    monkeypatch.setattr("rag.abstention._WHICH", re.compile(r"(?!)"))
    assert not pipeline.ask(question).abstained  # the note on the names declined it


def test_the_wording_of_a_note_is_not_what_it_says_is_missing(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "... not covered by this evidence base" says that something is missing; its "evidence" is not the
    evidence a question asks about."""
    rules = pipeline.extractive.rules
    query = pipeline.query("How strong is the evidence base from Delta et al. on district nurses?")
    candidates, eligible = pipeline.extractive.candidates(query, pipeline.pool(query))
    note = next(c for c in candidates if c.is_scope_note and c.source_id == "delta2019")
    assert {"evid", "base", "cover"} <= rules.tokens(note.quote.text)
    assert not {"evid", "base", "cover"} & rules.note_tokens(note)
    margin = rules.evidence(query, candidates, eligible).note_margin
    monkeypatch.setattr(rules, "_note_words", set())
    assert margin < rules.evidence(query, candidates, eligible).note_margin


@pytest.mark.parametrize(
    ("question", "unknown"),
    [
        ("What did Ward et al. find about handovers between hospital and home care?", True),  # a second author
        ("What did Beta et al. find about handovers between hospital and home care?", False),
        ("What did Ward and colleagues find about handover calls?", True),
        ("How did handovers between hospital and home care change after the 2008 reforms?", True),
        ("How did handovers between hospital and home care change after 2021?", False),
        ("What did the Fuller Review find about handovers between hospital and home care?", True),
        # a word of a kind of body or office names no particular one, capitalised or not
        ("What did the Partnership Board and its Directors find about handovers to home care?", False),
        # what the scene names frames the question; what it asks about is in the sentence that asks
        ("Our Fuller Review team is new. What helps handovers between hospital and home care?", False),
        # a known word misspelt is a typo, not a name the index lacks: one letter wrong, swapped, missing or extra
        ("What did the Hospiral managers find about handovers?", False),
        ("What did the Hopsital managers find about handovers?", False),
        ("What did the Hospial managers find about handovers?", False),
        ("What did the Hosspital managers find about handovers?", False),
        ("What did the Hostipal managers find about handovers?", True),  # two letters apart: another word
        # a law is known by its whole name: "home", "care" and "act" are each the index's words
        ("What did the Care Act 2014 change about handovers?", False),
        ("What did the Home Care Act change about handovers?", True),
        ("Which Act changed handovers between hospital and home care?", False),  # "Which Act" names no law
        # "Hospital-style": the capitalised part is the name
        ("What did the Hospital-style wards find about handovers?", False),
    ],
)
def test_a_publication_or_year_the_index_never_mentions_is_unknown(
    pipeline: Pipeline, question: str, unknown: bool
) -> None:
    """ "Ward et al." names a first author no indexed publication has (Ward wrote one, second); 2008 is a year
    neither a passage nor a publication's date mentions."""
    query = pipeline.query(question)
    assert pipeline.extractive.abstention_evidence(query, pipeline.pool(query)).unknown_name is unknown


def test_a_question_about_pay_asks_for_money(pipeline: Pipeline) -> None:
    query = pipeline.query("What salary do the ward managers in the handover studies earn?")
    assert pipeline.extractive.abstention_evidence(query, pipeline.pool(query)).money_missing


_RESULTS_NOTE = (
    "The remaining results, the survey scores on the five leadership items, and the authors' conclusions are not "
    "summarised here."
)
_STP_NOTE = (
    "The names of the three STPs, the professions of the clinical leaders, and the practical recommendations are "
    "not summarised here."
)


@pytest.mark.parametrize(
    ("note", "question", "asks"),
    [
        (_RESULTS_NOTE, "What did the teams score on the five leadership items of the survey?", True),
        # what is missing is what an item's head names: professions, not clinical leaders
        (_STP_NOTE, "What do clinical leaders add to governance?", False),
        (_STP_NOTE, "What practical recommendations did they make?", True),
        (
            "The SCIE paper rests on interviews with systems leaders and a literature review; numbers and search "
            "methods are not given in the summarised text.",
            "What does the SCIE paper say systems leaders need?",  # what the note says is there is not missing
            False,
        ),
        (
            "The content of the chapter on leadership and governance is not summarised here.",
            "What does the chapter on leadership and governance conclude?",
            True,
        ),
        # a clause says how something is done is missing, not the leaders it names
        (
            "How leaders of integrated care teams are recruited and selected is not covered by this evidence base.",
            "How did leaders of integrated care teams keep partners talking?",
            False,
        ),
        # what a study did not report is no gap in the evidence base
        (
            "The home province was not reported for three of the ward managers.",
            "Which home province were the ward managers from?",
            False,
        ),
        (
            "The content of the programme and the lessons the authors draw are all in the body of the paper, which "
            "is not summarised here.",
            "What lessons do the authors draw?",
            True,
        ),
    ],
)
def test_a_question_asking_for_an_item_a_note_lists_as_missing_asks_for_what_is_missing(
    pipeline: Pipeline, note: str, question: str, asks: bool
) -> None:
    rules = pipeline.extractive.rules
    assert rules.asks_for_missing(set(pipeline.query(question).words), note) is asks

"""index.roles: the role of each sentence unit, from section headings, sentence cues and coded-record fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.chunking import split_document
from index.loaders import load_file
from index.models import Passage, Role
from index.roles import is_scope_note, passage_units, section_role, sentence_role
from index.settings import Settings

LABELS = ("Context:", "Mechanism:", "Outcome:", "Summary:")
NOT_REPORTED = "Not reported in the summarised text"
EVIDENCE_CSV = (
    "record_id,component,context,mechanism,outcome,evidence_summary,source_id,section,included_study\n"
    'R1,working with power,"Joint decisions between partners of unequal standing. Budgets were pooled.",'
    f'{NOT_REPORTED},Smaller partners speak up in joint decisions,"Naming power openly helped. It built trust.",'
    "sims2021,Findings,\n"
    f"R2,clarifying complexity,{NOT_REPORTED},Clinical leaders map which target each service answers to,"
    'Fewer duplicated reports,"Mapping targets cut duplicated reporting.",waring2023,Findings,\n'
)


@pytest.mark.parametrize(
    ("section", "role"),
    [
        ("Abstract-Methods", "method"),
        ("Methods", "method"),
        ("Study design and participants", "method"),
        ("Bibliographic details", "bibliographic"),
        ("Funding", "bibliographic"),
        ("Not covered by this evidence base", "scope_note"),
        ("Scope-note", "scope_note"),
        ("Results", "finding"),
        ("Abstract-Results", "finding"),
        ("Conclusions", "finding"),
        ("Key-messages", "finding"),
        ("KeyMessages", "finding"),
        ("Background", "background"),
        ("Aims", "aim"),
        ("Abstract-Purpose", "aim"),
        ("Purpose and audience", "aim"),
        ("Shared purpose", None),
        ("Nature of the evidence", "method"),
        ("Size and nature of the evidence base", "method"),
        ("Context and design", "background"),  # a heading naming two roles is taken by the first
        ("Design and setting", "method"),
        ("Background and aim", "background"),
        ("Links to other outputs and cited methodological works", "bibliographic"),
        ("Abstract", None),
        ("", None),
    ],
)
def test_section_role(section: str, role: Role | None) -> None:
    assert section_role(section) == role


@pytest.mark.parametrize("section", [None, "finding", "method", "bibliographic", "aim", "background", "context"])
def test_scope_note_cue_wins_over_any_section(section: Role | None) -> None:
    text = "How leaders of integrated care teams are recruited is not covered by this evidence base."
    assert sentence_role(text, section) == "scope_note"


@pytest.mark.parametrize("section", [None, "finding", "method", "background"])
def test_bibliographic_cue_wins_over_the_section(section: Role | None) -> None:
    text = "The review appeared in the International Journal of Integrated Care with DOI 10.5334/ijic.5936."
    assert sentence_role(text, section) == "bibliographic"


@pytest.mark.parametrize(
    "text",
    [
        "Project 18/01/06: contract start April 2019; editorial review from November 2020",
        "The contract began in April 2019 and the report was accepted for publication in August 2021.",
        "Funding and timeline: HSDR project 18/01/06.",
        "The report opens with an epigraph from Senge and colleagues (2015).",
        "The keywords include general practice, integrated care and skills training.",
    ],
)
def test_a_publications_history_and_furniture_are_publication_details(text: str) -> None:
    """When the work was contracted, reviewed and accepted, and the epigraph it opens with, say nothing of
    what it found, whatever section they sit in."""
    assert sentence_role(text, "finding") == "bibliographic"
    assert sentence_role("Leaders accepted accountability for population health.", "finding") == "finding"


def test_aim_and_method_cues_decide_under_a_section_that_does_not_say() -> None:
    aim = "This review aimed to identify what leaders of integrated care teams do differently."
    method = "We conducted semi-structured interviews with twenty managers of partnership boards."
    plain = "Leaders who shared budgets openly reported more trust between partners."
    assert sentence_role(aim, None) == "aim"
    assert sentence_role(method, None) == "method"
    assert sentence_role(plain, None) == "finding"


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("This case study followed efforts to improve an integrated care initiative in the Netherlands.", "aim"),
        ("Over the following year, the chief officers worked on three questions:", "aim"),
        ("The chief officers asked The King's Fund to help them develop their roles.", "aim"),
        ("The report gives an account of the chief officers' approach.", "aim"),
        ("It draws on research on system leadership and on policy guidance.", "method"),
        ("The paper is based on interviews with systems leaders.", "method"),
        ("Leaders asked staff to report problems early, which built trust.", "finding"),  # no name after "asked"
        ("The review reports evidence for it as a potentially important part of leadership.", "finding"),
        ("The Government's announcement of the report explains the background.", "background"),
        ("The announcement explained the background.", "background"),
        ("Success was based on trust between the partners.", "finding"),
        ("The study followed 200 patients and found that admissions fell.", "finding"),
        ("This qualitative study looks at integrative leadership through the eyes of middle managers.", "aim"),
        ("The mixed-methods case study examines how boards agree priorities.", "aim"),
        ("It asks how national ambitions are turned into everyday collaboration.", "aim"),
        ("It asked staff to report problems early, which built trust.", "finding"),  # asks someone, not how
        ("This qualitative study looks at leadership and finds that trust matters most.", "finding"),
        ("This analysis looks at how leaders judge progress towards working with communities.", "aim"),
        ("This study investigated the communes of Viet Nam on a wide suite of variables.", "aim"),
        ("Here we describe the epidemiology of the first cases in the region.", "aim"),
        ("In this study, we examined how managers shared budgets.", "aim"),
        ("Here we present a detailed analysis of the mutant and show that it alters behaviour.", "finding"),
        ("- The authors discuss the Swedish experience in an international context.", "aim"),
        ("The authors discuss the evidence that trust builds slowly.", "finding"),  # what they argue
        ("The King's Fund followed eight systems for a year, interviewing over 70 leaders.", "method"),
        ("Year-long tracking with interviews of 70+ people, including leaders from the NHS", "method"),
        ("The paper is part of a wider study of primary health care reform.", "method"),
        ("Leaders who interviewed staff regularly kept them engaged.", "finding"),  # no count of interviews
        ("Sims et al. searched English-language literature, and Knight et al. reviewed ICS leadership.", "method"),
        ("Sims et al. and Harris et al. look at both integrated teams and integrated systems.", "aim"),
        ("Sims et al., Harris et al. and Knight et al. all frame their work around England.", "aim"),
        ("Brewer et al. reviewed 114 articles; most were empirical and North American.", "finding"),  # its size
    ],
)
def test_sentences_about_a_study_rather_than_its_findings(text: str, role: Role) -> None:
    """What a study set out to do, was asked to do, or draws on is not what it found."""
    assert sentence_role(text, None) == role


def test_a_note_in_brackets_leaves_a_finding_a_finding() -> None:
    """A finding that notes in passing what is missing still states the finding."""
    aside = "- setting up governance structures that speed up change (the rest of this point is not given here)."
    assert not is_scope_note(aside)
    assert sentence_role(aside, "finding") == "finding"
    assert sentence_role("The rest of this point is not given here (see the full report).", "finding") == "scope_note"


def test_under_an_aim_heading_only_aims_are_aims() -> None:
    """A "Purpose" section also states the problem a study starts from: that framing is background."""
    assert sentence_role("The paper sets out to identify the skills that system leaders need.", "aim") == "aim"
    framing = "Leading across systems of care is described as a new and distinct role."
    assert sentence_role(framing, "aim") == "background"
    assert sentence_role("Its overall question was how leadership in ICSs works, and for whom.", "aim") == "aim"
    assert sentence_role("The paper reports a rapid realist review of how ICSs are led.", "aim") == "aim"
    assert sentence_role("The paper reports that leaders shared budgets.", None) == "finding"
    assert sentence_role("- to assess how effective leadership-support programmes are;", "aim") == "aim"
    assert sentence_role("They asked how well this form of collaboration works.", "aim") == "aim"
    assert sentence_role("The review starts from a gap in the evidence on leaders.", "aim") == "background"
    assert sentence_role("The authors note that systems face lasting challenges they must meet.", "aim") == "background"


def test_a_stated_section_is_not_overruled_by_sentence_cues() -> None:
    aim = "This review aimed to identify what leaders of integrated care teams do differently."
    assert sentence_role(aim, "method") == "method"  # a sentence under "Methods" is a method
    assert sentence_role("Leaders shared budgets openly.", "background") == "background"
    assert sentence_role("Leaders shared budgets openly.", "finding") == "finding"


def passages_of(root: Path, name: str, text: str) -> list[Passage]:
    """The passages of one file written under ``root``, loaded and split as the builder does."""
    path = root / name
    path.write_text(text, encoding="utf-8")
    settings = Settings(index_dir=root / "index", data_dir=root, cache_dir=root / "cache", show_progress=False)
    return split_document(load_file(path, settings), settings)


@pytest.fixture(scope="module")
def record_passages(tmp_path_factory: pytest.TempPathFactory) -> list[Passage]:
    """The two coded records of EVIDENCE_CSV as passages."""
    passages = passages_of(tmp_path_factory.mktemp("roles"), "evidence.csv", EVIDENCE_CSV)
    assert len(passages) == 2 and all(p.record is not None and p.fields for p in passages)
    return passages


def units_with_text(passage: Passage) -> list[tuple[str, Role]]:
    return [(passage.text[start:end], role) for start, end, role in passage_units(passage)]


def test_record_units_are_field_values_without_labels(record_passages: list[Passage]) -> None:
    for passage in record_passages:
        assert all(label in passage.text for label in ("Context:", "Outcome:", "Summary:"))  # rendered with labels
        units = passage_units(passage)
        assert units
        for start, end, _ in units:
            text = passage.text[start:end]
            assert 0 <= start < end <= len(passage.text)
            assert text and text in passage.text
            assert not any(label in text for label in LABELS), text
            assert "\n" not in text  # no unit runs one field into the next


def test_record_units_follow_their_fields(record_passages: list[Passage]) -> None:
    first = units_with_text(record_passages[0])
    assert first[0][1] == "bibliographic" and first[0][0].startswith("Coded evidence R1")
    assert ("Joint decisions between partners of unequal standing.", "context") in first
    assert ("Budgets were pooled.", "context") in first
    assert (NOT_REPORTED, "scope_note") in first  # the mechanism says the evidence lacks it
    assert ("Smaller partners speak up in joint decisions", "finding") in first
    assert ("Naming power openly helped.", "finding") in first
    assert ("It built trust.", "finding") in first
    context = next(f for f in record_passages[0].fields if f.name == "context")
    inside = [role for start, end, role in passage_units(record_passages[0]) if context.start <= start < context.end]
    assert inside == ["context", "context"]


def test_a_not_reported_context_is_a_scope_note(record_passages: list[Passage]) -> None:
    second = units_with_text(record_passages[1])
    assert (NOT_REPORTED, "scope_note") in second
    assert ("Clinical leaders map which target each service answers to", "finding") in second
    assert not any(role == "context" for _, role in second)


def test_prose_units_take_the_section_role(tmp_path: Path) -> None:
    text = (
        "# Review\n\n## Methods\nThe team searched five databases for studies of partnership boards. "
        "Leaders who shared budgets were compared with those who did not.\n\n"
        "## Abstract\nThis review aimed to find what leaders of integrated care do. "
        "Leaders who shared budgets openly reported more trust between partners.\n"
    )
    passages = {p.section: p for p in passages_of(tmp_path, "review.md", text)}
    assert units_with_text(passages["Methods"]) == [
        ("The team searched five databases for studies of partnership boards.", "method"),
        ("Leaders who shared budgets were compared with those who did not.", "method"),
    ]
    assert units_with_text(passages["Abstract"]) == [
        ("This review aimed to find what leaders of integrated care do.", "aim"),
        ("Leaders who shared budgets openly reported more trust between partners.", "finding"),
    ]


def test_the_files_heading_decides_over_a_tags_section(tmp_path: Path) -> None:
    """Under a tag naming the publication's section ("Overview"), the summary's own heading says what the text is."""
    text = (
        "## charles2018 — A year of integrated care systems\n\n"
        "### Context and design\nThe team interviewed people in eight systems over a year. [charles2018 §Overview]\n\n"
        "### Findings\nMost systems now pool their budgets across partners. [charles2018 §Overview]\n\n"
        "### Power\nPartners of unequal standing spoke up when power was named. [charles2018 §Abstract-Results]\n"
    )
    passages = passages_of(tmp_path, "summaries.md", text)
    assert [(p.section, p.heading) for p in passages] == [
        ("Overview", "Context and design"),
        ("Overview", "Findings"),
        ("Abstract-Results", "Power"),
    ]
    assert [units_with_text(p)[0][1] for p in passages] == ["method", "finding", "finding"]

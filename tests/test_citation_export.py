"""RIS, BibTeX and CSL-JSON references of an answer: exact output, organisations, special characters, order."""

from __future__ import annotations

import json

import pytest

from app.cli_answer import CiteChoice
from app.ui_render import reference_files
from index.errors import InputError
from index.models import SourceInfo, author_surnames, split_author
from rag.citation_export import (
    CITE_EXTENSIONS,
    CITE_FORMATS,
    CITE_MEDIA_TYPES,
    CiteFormat,
    cited_sources,
    export_references,
    venue_kind,
)
from rag.models import Answer, Citation

SIMS = SourceInfo(
    source_id="sims2021",
    title="What does success look like for leaders of integrated health and social care systems?",
    authors="Sims S; Fletcher S; Brearley S",
    year="2021",
    venue="International Journal of Integrated Care 21(4):26",
    doi="10.5334/ijic.5936",
    url="https://doi.org/10.5334/ijic.5936",
    licence="CC BY 4.0",
    design="realist review",
)
SCIE = SourceInfo(
    source_id="scie2018",
    title="Leadership in integrated care systems (ICSs)",
    authors="Social Care Institute for Excellence (SCIE)",
    year="2018",
    venue="SCIE Future of Care series, No 9",
)
ODD = SourceInfo(
    source_id="o'neil & co {2020}",
    title="Costs & benefits:\n 50% of {budgets} under $1m_#1 ~ ^ \\",
    authors="O'Neil J-P; Nieuwboer MS; van der Sande R; NHS England",
    year="n.d.",
    venue="The King's Fund, report",
    doi="10.1000/a_b{c}",
)
SOURCES = {s.source_id: s for s in (SIMS, SCIE, ODD)}


def citation(n: int, source_id: str, **fields: str) -> Citation:
    return Citation(n=n, passage_id=f"p{n}", source_id=source_id, quote="q", start=0, end=1, score=1.0, **fields)


def answer(*citations: Citation, abstained: bool = False) -> Answer:
    if abstained:
        return Answer(
            question="q", answer="The indexed evidence does not cover this.", abstained=True, related=[*citations]
        )
    return Answer(question="q", answer="a [1]", citations=list(citations))


def export(fmt: CiteFormat, *sources: SourceInfo) -> str:
    return export_references(answer(*(citation(n, s.source_id) for n, s in enumerate(sources, 1))), SOURCES, fmt)


def balanced(bibtex: str) -> bool:
    """Braces balance, an escaped brace (``\\{``) not counting, and never close more than opened."""
    depth, escaped = 0, False
    for char in bibtex:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "{}":
            depth += 1 if char == "{" else -1
            if depth < 0:
                return False
    return depth == 0


# --- a journal article ------------------------------------------------------------------


def test_journal_article_as_ris() -> None:
    assert export("ris", SIMS) == (
        "TY  - JOUR\n"
        "AU  - Sims, S.\n"
        "AU  - Fletcher, S.\n"
        "AU  - Brearley, S.\n"
        "TI  - What does success look like for leaders of integrated health and social care systems?\n"
        "PY  - 2021\n"
        "JO  - International Journal of Integrated Care 21(4):26\n"
        "DO  - 10.5334/ijic.5936\n"
        "UR  - https://doi.org/10.5334/ijic.5936\n"
        "ER  - \n"
    )


def test_journal_article_as_bibtex() -> None:
    text = export("bibtex", SIMS)
    assert text == (
        "@article{sims2021,\n"
        "  author = {Sims, S. and Fletcher, S. and Brearley, S.},\n"
        "  title = {What does success look like for leaders of integrated health and social care systems?},\n"
        "  journal = {International Journal of Integrated Care 21(4):26},\n"
        "  year = {2021},\n"
        "  doi = {10.5334/ijic.5936},\n"
        "  url = {https://doi.org/10.5334/ijic.5936}\n"
        "}\n"
    )
    assert balanced(text)


def test_journal_article_as_csl_json() -> None:
    assert json.loads(export("csl", SIMS)) == [
        {
            "id": "sims2021",
            "type": "article-journal",
            "title": "What does success look like for leaders of integrated health and social care systems?",
            "author": [
                {"family": "Sims", "given": "S."},
                {"family": "Fletcher", "given": "S."},
                {"family": "Brearley", "given": "S."},
            ],
            "issued": {"date-parts": [[2021]]},
            "container-title": "International Journal of Integrated Care 21(4):26",
            "DOI": "10.5334/ijic.5936",
            "URL": "https://doi.org/10.5334/ijic.5936",
        }
    ]


# --- an organisation as author -----------------------------------------------------------


def test_organisation_author_is_one_literal_name() -> None:
    assert export("ris", SCIE) == (
        "TY  - GEN\n"
        "AU  - Social Care Institute for Excellence (SCIE)\n"
        "TI  - Leadership in integrated care systems (ICSs)\n"
        "PY  - 2018\n"
        "T2  - SCIE Future of Care series, No 9\n"
        "ER  - \n"
    )
    assert export("bibtex", SCIE) == (
        "@misc{scie2018,\n"
        "  author = {{Social Care Institute for Excellence (SCIE)}},\n"
        "  title = {Leadership in integrated care systems (ICSs)},\n"
        "  howpublished = {SCIE Future of Care series, No 9},\n"
        "  year = {2018}\n"
        "}\n"
    )
    item = json.loads(export("csl", SCIE))[0]
    assert item["type"] == "document"
    assert item["author"] == [{"literal": "Social Care Institute for Excellence (SCIE)"}]


# --- special characters ------------------------------------------------------------------


def test_special_characters_are_escaped_for_bibtex_and_kept_verbatim_elsewhere() -> None:
    bibtex = export("bibtex", ODD)
    assert bibtex == (
        "@misc{o_neil_co_2020,\n"
        "  author = {O'Neil, J.-P. and Nieuwboer, M. S. and van der Sande, R. and {NHS England}},\n"
        "  title = {Costs \\& benefits: 50\\% of \\{budgets\\} under \\$1m\\_\\#1 \\textasciitilde{} "
        "\\textasciicircum{} \\textbackslash{}},\n"
        "  howpublished = {The King's Fund, report},\n"
        "  doi = {10.1000/a_b%7Bc%7D}\n"
        "}\n"
    )
    assert balanced(bibtex)
    assert export("ris", ODD) == (
        "TY  - RPRT\n"
        "AU  - O'Neil, J.-P.\n"
        "AU  - Nieuwboer, M. S.\n"
        "AU  - van der Sande, R.\n"
        "AU  - NHS England\n"
        "TI  - Costs & benefits: 50% of {budgets} under $1m_#1 ~ ^ \\\n"
        "T2  - The King's Fund, report\n"
        "DO  - 10.1000/a_b{c}\n"
        "ER  - \n"
    )
    item = json.loads(export("csl", ODD))[0]
    assert item["title"] == "Costs & benefits: 50% of {budgets} under $1m_#1 ~ ^ \\"
    assert item["type"] == "report" and "issued" not in item  # 'n.d.' is no year
    assert item["author"][0] == {"family": "O'Neil", "given": "J.-P."}


def test_balance_check_catches_an_unescaped_brace() -> None:
    assert not balanced("@misc{x,\n  title = {a } b}\n}\n}")
    assert balanced("@misc{x,\n  title = {a \\} b}\n}\n")


# --- order, de-duplication, fallbacks, abstention ------------------------------------------


def test_each_publication_once_in_first_cited_order() -> None:
    cited = [citation(3, "sims2021"), citation(1, "scie2018"), citation(2, "sims2021"), citation(4, ODD.source_id)]
    result = answer(*cited)
    assert [s.source_id for s in cited_sources(result, SOURCES)] == ["scie2018", "sims2021", ODD.source_id]
    bibtex = export_references(result, SOURCES, "bibtex")
    assert [line for line in bibtex.splitlines() if line.startswith("@")] == [
        "@misc{scie2018,",
        "@article{sims2021,",
        "@misc{o_neil_co_2020,",
    ]
    assert balanced(bibtex)
    ris = export_references(result, SOURCES, "ris")
    assert ris.count("TY  - ") == ris.count("ER  - ") == 3
    assert "\n\nTY  - JOUR\n" in ris  # records are separated by a blank line
    assert [item["id"] for item in json.loads(export_references(result, SOURCES, "csl"))] == [
        "scie2018",
        "sims2021",
        ODD.source_id,
    ]


def test_a_source_missing_from_the_index_is_rebuilt_from_its_citation() -> None:
    gone = citation(1, "gone2020", title="Old report", authors="Ham C; Walsh N", year="2020", doi="10.1/x")
    (source,) = cited_sources(answer(gone), SOURCES)
    assert source == SourceInfo(
        source_id="gone2020", title="Old report", authors="Ham C; Walsh N", year="2020", doi="10.1/x"
    )
    assert json.loads(export_references(answer(gone), {}, "csl"))[0]["author"] == [
        {"family": "Ham", "given": "C."},
        {"family": "Walsh", "given": "N."},
    ]


def test_two_ids_that_sanitise_alike_get_distinct_bibtex_keys() -> None:
    sources = {sid: SourceInfo(source_id=sid, title=sid) for sid in ("a b", "a_b")}
    text = export_references(answer(citation(1, "a b"), citation(2, "a_b")), sources, "bibtex")
    assert [line for line in text.splitlines() if line.startswith("@")] == ["@misc{a_b,", "@misc{a_b-2,"]


def test_an_abstention_exports_no_references() -> None:
    declined = answer(citation(1, "sims2021"), abstained=True)  # its related passages are not support
    assert cited_sources(declined, SOURCES) == []
    assert export_references(declined, SOURCES, "ris") == ""
    assert export_references(declined, SOURCES, "bibtex") == ""
    assert json.loads(export_references(declined, SOURCES, "csl")) == []


def test_an_unknown_format_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown citation format"):
        export_references(answer(citation(1, "sims2021")), SOURCES, "endnote")  # type: ignore[arg-type]


# --- the pieces ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("venue", "kind"),
    [
        ("International Journal of Integrated Care 21(4):26", "journal"),
        ("BMJ Open 10(7):e038591", "journal"),
        ("BMJ Leader (online first, March 2023)", "journal"),
        ("Leadership in Health Services, issue 3 (2024), pp. 327-341", "journal"),
        ("Health Policy, article 105320", "journal"),
        ("The King's Fund, report, September 2018", "report"),
        ("SCIE Future of Care series, No 9, November 2018", "other"),
        ("", "other"),
    ],
)
def test_venue_kind(venue: str, kind: str) -> None:
    assert venue_kind(venue) == kind


@pytest.mark.parametrize(
    ("author", "parts"),
    [
        ("Sims S", ("Sims", "S")),
        (" Neiva Ganga R ", ("Neiva Ganga", "R")),
        ("Olde Rikkert MGM", ("Olde Rikkert", "MGM")),
        ("Social Care Institute for Excellence (SCIE)", ("Social Care Institute for Excellence (SCIE)", "")),
        ("Sims", ("Sims", "")),
        ("", ("", "")),
    ],
)
def test_split_author(author: str, parts: tuple[str, str]) -> None:
    assert split_author(author) == parts


def test_author_surnames_still_cite_a_person_by_the_first_word_and_an_organisation_whole() -> None:
    assert author_surnames("Neiva Ganga R; Social Care Institute for Excellence; Sims") == [
        "Neiva",
        "Social Care Institute for Excellence",
        "Sims",
    ]


@pytest.mark.parametrize(
    ("authors", "first"),
    [
        ("Sims S; Fletcher S", "sims"),
        ("Li X; Smith J", "li"),
        ("Social Care Institute for Excellence", "social care institute for excellence"),
        ("", ""),
    ],
)
def test_first_author_is_the_first_surname_in_lower_case(authors: str, first: str) -> None:
    source = SourceInfo(source_id="s", title="T", authors=authors, year="2021")
    assert source.first_author == first


def test_every_format_has_a_media_type_extension_and_cli_choice() -> None:
    assert CITE_FORMATS == ("ris", "bibtex", "csl")
    assert CITE_MEDIA_TYPES == {
        "ris": "application/x-research-info-systems",
        "bibtex": "application/x-bibtex",
        "csl": "application/vnd.citationstyles.csl+json",
    }
    assert CITE_EXTENSIONS == {"ris": ".ris", "bibtex": ".bib", "csl": ".json"}
    assert tuple(choice.value for choice in CiteChoice) == CITE_FORMATS


def test_the_ask_page_offers_every_format_for_an_answer_with_citations() -> None:
    result = answer(citation(1, "sims2021"), citation(2, "scie2018"))
    files = reference_files(result, SOURCES)
    assert [(f.label, f.file_name, f.mime) for f in files] == [
        ("RIS", "icrag-references.ris", "application/x-research-info-systems"),
        ("BibTeX", "icrag-references.bib", "application/x-bibtex"),
        ("CSL-JSON", "icrag-references.json", "application/vnd.citationstyles.csl+json"),
    ]
    assert [f.data for f in files] == [export_references(result, SOURCES, fmt) for fmt in CITE_FORMATS]
    assert reference_files(answer(citation(1, "sims2021"), abstained=True), SOURCES) == []
    assert reference_files(answer(), SOURCES) == []

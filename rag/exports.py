"""Evidence tables and answers as files people take away: CSV, Excel, Markdown and Word.

A briefing note, a spreadsheet or a reference manager is where the evidence goes next. Every
text cell is made :func:`spreadsheet_safe` first, because text from documents (a coded-evidence
CSV may hold ``=HYPERLINK(...)``) must never become a formula once the file is opened.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from docx import Document
from docx.document import Document as DocxDocument
from docx.shared import Pt
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel, Field

from index.models import Passage, Record
from rag.citations import cited_sentence, reference
from rag.evidence_map import EvidenceMap
from rag.models import Answer, AnswerSentence

#: A cell starting with one of these is a formula to Excel and LibreOffice.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Characters XML 1.0 (and so .xlsx and .docx) cannot hold; tab, newline and carriage return can stay.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: Escaped in Markdown table cells: a pipe would end the cell, a ``<`` could open HTML.
_MARKDOWN_CELL = re.compile(r"([\\|<])")
_MARKDOWN_RECORDS = ["record", "component", "context", "mechanism", "outcome", "source_id", "year", "country", "design"]
_MARKDOWN_PUBLICATIONS = ["source_id", "authors", "year", "title", "doi", "design", "country", "records"]
_XLSX_WIDTH = {"context": 50, "mechanism": 50, "outcome": 50, "summary": 60, "title": 60, "authors": 40}


def spreadsheet_safe(value: object) -> object:
    """A table cell that stays text in a spreadsheet: a leading ``'`` defuses a formula (OWASP CSV injection).

    Every ``st.dataframe`` has a "Download as CSV" button that writes cells verbatim, and the
    exports here write files, so text from documents must not start like a formula.
    Numbers and other non-text values are returned unchanged.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def table_rows(rows: Iterable[Mapping[str, object]]) -> list[dict[str, object]]:
    """Rows for a table or file with every text cell made :func:`spreadsheet_safe`."""
    return [{key: spreadsheet_safe(value) for key, value in row.items()} for row in rows]


class EvidenceRow(Record):
    """One coded record as an exported row, with the publication details a reader filters on."""

    record: str = Field(description="Record id, e.g. 'S07'.")
    component: str = Field(description="Leadership component, or 'general'.")
    context: str = Field("", description="The C of the CMO configuration.")
    mechanism: str = Field("", description="The M.")
    outcome: str = Field("", description="The O.")
    summary: str = Field("", description="Plain-language summary of the finding.")
    source_id: str = Field(description="Publication the record was coded from.")
    year: str = Field("", description="Its year.")
    country: str = Field("", description="Where it is set.")
    design: str = Field("", description="Its study design.")
    section: str = Field("", description="Section of the publication.")
    included_study: str = Field("", description="Primary study the review drew it from, if named.")


class PublicationRow(Record):
    """One publication of the exported records: its bibliographic record and how many records it gave."""

    source_id: str = Field(description="Short stable identifier.")
    authors: str = Field("", description="Authors, separated by semicolons.")
    year: str = Field("", description="Year of publication.")
    title: str = Field("", description="Title.")
    venue: str = Field("", description="Journal, series or publisher.")
    doi: str = Field("", description="DOI without the resolver prefix.")
    url: str = Field("", description="Where it can be read.")
    design: str = Field("", description="Kind of study.")
    country: str = Field("", description="Where it is set.")
    records: int = Field(ge=0, description="Exported records coded from it.")


def evidence_rows(passages: Iterable[Passage]) -> list[EvidenceRow]:
    """The coded records among ``passages``, in their order, as export rows."""
    return [
        EvidenceRow(
            record=r.record_id,
            component=r.component,
            context=r.context,
            mechanism=r.mechanism,
            outcome=r.outcome,
            summary=r.evidence_summary,
            source_id=r.source_id,
            year=p.source.year,
            country=p.source.country,
            design=p.source.design,
            section=r.section,
            included_study=r.included_study,
        )
        for p in passages
        if (r := p.record) is not None
    ]


def publication_rows(passages: Iterable[Passage]) -> list[PublicationRow]:
    """The publications of the coded records among ``passages``, sorted by id, with their record counts."""
    coded = [p for p in passages if p.record is not None]
    counts = Counter(p.source_id for p in coded)
    sources = {p.source_id: p.source for p in coded}
    return [
        PublicationRow(**sources[sid].model_dump(exclude={"licence"}), records=counts[sid]) for sid in sorted(sources)
    ]


def evidence_csv(passages: Iterable[Passage]) -> str:
    """The coded records as CSV, one row each (the publication's year, country and design included)."""
    return _csv((row.model_dump() for row in evidence_rows(passages)), list(EvidenceRow.model_fields))


def evidence_xlsx(passages: Iterable[Passage]) -> bytes:
    """An Excel workbook of the coded records: a 'Records' sheet and a 'Publications' sheet."""
    passages = list(passages)
    book = Workbook()
    records = book.active
    assert records is not None  # a new workbook always has its first sheet
    records.title = "Records"
    _fill_sheet(records, evidence_rows(passages), list(EvidenceRow.model_fields))
    _fill_sheet(book.create_sheet("Publications"), publication_rows(passages), list(PublicationRow.model_fields))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def evidence_markdown(passages: Iterable[Passage], title: str = "Coded evidence") -> str:
    """The coded records and their publications as a Markdown document of two tables, under ``title``."""
    passages = list(passages)
    records = evidence_rows(passages)
    lines = [f"# {title}", "", f"{len(records)} coded records.", "", *_markdown_table(records, _MARKDOWN_RECORDS)]
    lines += ["", "## Publications", "", *_markdown_table(publication_rows(passages), _MARKDOWN_PUBLICATIONS)]
    return "\n".join(lines) + "\n"


def _markdown_table(rows: Sequence[BaseModel], columns: list[str]) -> list[str]:
    """A Markdown table: pipes and backslashes escaped, line breaks as spaces, formulas defused."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        values = row.model_dump()
        cells = (str(spreadsheet_safe(" ".join(str(values[c]).split()))) for c in columns)
        lines.append("| " + " | ".join(_MARKDOWN_CELL.sub(r"\\\1", cell) for cell in cells) + " |")
    return lines


def map_csv(grid: EvidenceMap) -> str:
    """The map as CSV, one row per cell (empty cells included): component, the column, records, publications."""
    rows = [
        {"component": c.component, grid.by: c.column, "records": c.records, "publications": c.publications}
        for c in grid.cells
    ]
    return _csv(rows, ["component", grid.by, "records", "publications"])


def answer_docx(answer: Answer) -> bytes:
    """A Word document of an answer for a briefing note: its text, each reference and the words it quotes."""
    doc = Document()
    doc.add_heading(_xml(answer.question), level=1)
    if answer.abstained:
        doc.add_paragraph(_xml(answer.answer))
    elif answer.sections:
        for section in answer.sections:
            doc.add_heading(_xml(section.heading), level=2)
            _add_sentences(doc, section.sentences)
    elif answer.sentences:
        _add_sentences(doc, answer.sentences)
    else:
        doc.add_paragraph(_xml(answer.answer))
    for gap in answer.gaps:
        doc.add_paragraph().add_run(_xml(gap.note)).italic = True
    if answer.evidence is not None and answer.evidence.line:
        doc.add_paragraph().add_run(_xml(answer.evidence.line)).italic = True
    cited = answer.related if answer.abstained else answer.citations
    if cited:
        doc.add_heading("Related evidence (not cited as support)" if answer.abstained else "References", level=2)
        for citation in cited:
            doc.add_paragraph(_xml(reference(citation)))
            doc.add_paragraph(_xml(f"“{' '.join(citation.quote.split())}”"), style="Quote")
    made_by = f"Answered by icrag ({answer.answerer}), settings {answer.settings_hash}."
    doc.add_paragraph().add_run(_xml(made_by)).font.size = Pt(8)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _add_sentences(doc: DocxDocument, sentences: Sequence[AnswerSentence]) -> None:
    for sentence in sentences:
        doc.add_paragraph(_xml(cited_sentence(sentence.text, sentence.citations)))


def _xml(text: str) -> str:
    """Text that .xlsx and .docx can hold: control characters other than tab and newlines dropped."""
    return _NOT_XML.sub("", text)


def _csv(rows: Iterable[Mapping[str, object]], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(table_rows(rows))
    return out.getvalue()


def _fill_sheet(sheet: Worksheet, rows: Iterable[BaseModel], columns: list[str]) -> None:
    """A bold, frozen header and the rows; text goes in as text cells (never formulas), long text wraps."""
    sheet.append(columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table_rows(row.model_dump() for row in rows):
        sheet.append([_xml(v) if isinstance(v, str) else v for v in (row[c] for c in columns)])
    sheet.freeze_panes = "A2"
    for cell in sheet[1]:
        width = _XLSX_WIDTH.get(cell.value, 14)
        sheet.column_dimensions[cell.column_letter].width = width
        if width > 14:
            for (body,) in sheet.iter_rows(min_row=2, min_col=cell.column, max_col=cell.column):
                body.alignment = Alignment(wrap_text=True, vertical="top")

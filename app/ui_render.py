"""Safe HTML and text renderings of answers, citations and passages for the app.

Passage and document text is untrusted: an indexed file may contain ``<script>`` or Markdown.
Every piece that reaches markup goes through :func:`html.escape` here, and the result is shown
with ``st.html`` (sanitised again by the browser-side DOMPurify, never run as script and never
parsed as Markdown), so documents always read as literal text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from app.cli_answer import reference, render_answer
from index.models import Passage, SourceInfo, cite_authors
from rag.citation_export import CITE_EXTENSIONS, CITE_FORMATS, CITE_MEDIA_TYPES, CiteFormat, export_references
from rag.models import Answer, AnswerSection, AnswerSentence, Citation

#: How each reference format is named on its download button.
CITE_LABELS: dict[CiteFormat, str] = {"ris": "RIS", "bibtex": "BibTeX", "csl": "CSL-JSON"}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:$<>&])")

_CARD_STYLE = (
    "border:1px solid rgba(128,128,128,.35);border-radius:.5rem;padding:.75rem 1rem;margin:0 0 .25rem 0;line-height:1.5"
)
_META_STYLE = "opacity:.75;font-size:.875em"
_TEXT_STYLE = "white-space:pre-wrap;margin-top:.5rem;overflow-wrap:anywhere"
_MARK_STYLE = "background:#ffe58a;color:#1a1a1a;padding:0 .1em;border-radius:.2em"


def label_text(text: str) -> str:
    """Text safe as a widget label: widget labels parse Markdown, so its syntax is escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def doi_url(doi: str) -> str:
    """The resolver URL of a DOI (empty for none), percent-encoded so it cannot break out of an href."""
    doi = doi.strip().removeprefix("https://doi.org/").removeprefix("doi:")
    return f"https://doi.org/{quote(doi, safe='/;()._-')}" if doi else ""


def short_authors(authors: str) -> str:
    """'Sims S; Fletcher S; ...' as 'Sims et al.', 'Fillingham D; Weir B' as 'Fillingham & Weir'."""
    return cite_authors(authors)


def citation_label(citation: Citation) -> str:
    """A one-line heading for a citation: number, short authors, year, title, section and page."""
    who = short_authors(citation.authors) or citation.source_id
    parts = [f"[{citation.n}] {who} ({citation.year or 'n.d.'})"]
    if citation.title:
        parts.append(citation.title)
    where = ", ".join(p for p in (f"§ {citation.section}" if citation.section else "", _page(citation.page)) if p)
    if where:
        parts.append(where)
    return " · ".join(parts)


def highlighted_passage(text: str, start: int, end: int) -> str:
    """Escaped passage text with ``<mark>`` around [start, end); out-of-range spans mark nothing."""
    if not 0 <= start < end <= len(text):
        return escape(text)
    return (
        escape(text[:start])
        + f'<mark style="{_MARK_STYLE}">'
        + escape(text[start:end])
        + "</mark>"
        + escape(text[end:])
    )


def evidence_card(citation: Citation, passage: Passage | None) -> str:
    """An evidence card: publication, authors, year, section, page, DOI and the quote marked in its passage.

    ``passage`` is the cited passage from the index; without it (the index changed since the
    answer) the quote is shown alone.
    """
    if passage is not None:
        body = highlighted_passage(passage.text, citation.start - passage.start, citation.end - passage.start)
        venue = passage.source.venue
    else:
        body = highlighted_passage(citation.quote, 0, len(citation.quote))
        venue = ""
    byline = f"{citation.authors or citation.source_id} ({citation.year or 'n.d.'})"
    where = [f"§ {citation.section}" if citation.section else "", _page(citation.page)]
    url = doi_url(citation.doi)
    link = (
        f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">doi:{escape(citation.doi)}</a>'
        if url
        else ""
    )
    meta = " · ".join(escape(part) for part in where if part)
    return (
        f'<div class="icrag-card" style="{_CARD_STYLE}">'
        f'<div style="font-weight:600">[{citation.n}] {escape(citation.title or citation.source_id)}</div>'
        f'<div style="{_META_STYLE}">{escape(byline)}{" · " + escape(venue) if venue else ""}</div>'
        f'<div style="{_META_STYLE}">{" · ".join(p for p in (meta, link) if p)}</div>'
        f'<div class="icrag-passage" style="{_TEXT_STYLE}">{body}</div>'
        "</div>"
    )


def passage_block(text: str) -> str:
    """A passage as escaped, line-preserving text in a bordered box."""
    return f'<div class="icrag-passage" style="{_CARD_STYLE};{_TEXT_STYLE}">{escape(text)}</div>'


def answer_block(answer: Answer) -> str:
    """The answer in its form, escaped: a realist table, comparison columns or a paragraph, then its
    gap notes and evidence line (computed text, set apart from the cited sentences)."""
    if not answer.sections:
        body = escape(answer.answer)
    elif answer.form == "comparison":
        columns = "".join(
            f'<div style="flex:1;min-width:14em"><h4>{escape(section.heading)}</h4><ul>{_items(section)}</ul></div>'
            for section in answer.sections
        )
        body = f'<div style="display:flex;gap:1.5em;flex-wrap:wrap">{columns}</div>'
    elif any(section.heading for section in answer.sections):
        rows = "".join(
            f'<tr><th style="text-align:left;vertical-align:top;padding-right:1em">{escape(section.heading)}</th>'
            f"<td><ul>{_items(section)}</ul></td></tr>"
            for section in answer.sections
        )
        body = f"<table>{rows}</table>"
    else:
        body = " ".join(escape(_marked(s)) for section in answer.sections for s in section.sentences)
    notes = "".join(f"<p><em>{escape(gap.note)}</em></p>" for gap in answer.gaps)
    line = f'<p style="color:#555">{escape(answer.evidence.line)}</p>' if answer.evidence else ""
    if answer.form == "evidence_strength":
        body, line = line + body, ""
    return f'<div class="icrag-answer" style="font-size:1.05em;line-height:1.6">{body}{notes}{line}</div>'


def _marked(sentence: AnswerSentence) -> str:
    return sentence.text + " " + "".join(f"[{n}]" for n in sentence.citations)


def _items(section: AnswerSection) -> str:
    return "".join(f"<li>{escape(_marked(s))}</li>" for s in section.sentences)


def answer_markdown(answer: Answer) -> str:
    """The answer and its reference list as a Markdown document, for download."""
    lines = [f"# {answer.question}", "", answer.answer, ""]
    cited = answer.related if answer.abstained else answer.citations
    if cited:
        lines += ["## Related evidence (not cited as support)" if answer.abstained else "## References", ""]
        for citation in cited:
            quote_text = " ".join(citation.quote.split())
            lines += [reference(citation), "", f"> {quote_text}", ""]
    return "\n".join(lines).rstrip() + "\n"


def answer_text(answer: Answer) -> str:
    """The answer and its references as plain text, exactly as ``icrag ask`` prints them."""
    return f"Q: {answer.question}\n\n{render_answer(answer)}\n"


@dataclass(frozen=True)
class ReferenceFile:
    """One download of an answer's references: its button label, file name, media type and content."""

    fmt: CiteFormat
    label: str
    file_name: str
    mime: str
    data: str


def reference_files(answer: Answer, sources: Mapping[str, SourceInfo]) -> list[ReferenceFile]:
    """The answer's references in every format a reference manager imports; none for an answer without citations."""
    if answer.abstained or not answer.citations:
        return []
    return [
        ReferenceFile(
            fmt=fmt,
            label=CITE_LABELS[fmt],
            file_name=f"icrag-references{CITE_EXTENSIONS[fmt]}",
            mime=CITE_MEDIA_TYPES[fmt],
            data=export_references(answer, sources, fmt),
        )
        for fmt in CITE_FORMATS
    ]


def _page(page: int | None) -> str:
    return f"p. {page}" if page else ""

"""The app's pure helpers: escaped evidence cards, quote highlighting, labels, exports and upload names."""

from __future__ import annotations

import re
from html import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.ui_render import (
    answer_block,
    answer_markdown,
    answer_text,
    citation_label,
    doi_url,
    evidence_card,
    highlighted_passage,
    label_text,
    short_authors,
)
from index.errors import InputError
from index.library import safe_filename
from index.loaders import SUPPORTED_SUFFIXES
from index.models import Passage, SourceInfo
from rag.models import Answer, AnswerSection, AnswerSentence, Citation, Gap

HOSTILE = '<script>window.__xss=1</script> <img src=x onerror="alert(1)"> **bold** [link](javascript:x) $x$'


def make_passage(text: str, start: int = 100) -> Passage:
    source = SourceInfo(source_id="s1", title="T <b>", authors="Smith J; Jones K; Patel R", year="2021", venue="J")
    return Passage(
        passage_id="p1",
        doc_id="d1",
        kind="markdown",
        text=text,
        start=start,
        end=start + len(text),
        source_id="s1",
        section="Results",
        page=3,
        source=source,
    )


def cite(passage: Passage, start: int, end: int, n: int = 1, doi: str = "10.1/abc") -> Citation:
    """A citation of passage.text[start:end], with document offsets as the pipeline makes them."""
    return Citation(
        n=n,
        passage_id=passage.passage_id,
        source_id=passage.source_id,
        title=passage.source.title,
        authors=passage.source.authors,
        year=passage.source.year,
        doi=doi,
        section=passage.section,
        page=passage.page,
        quote=passage.text[start:end],
        start=passage.start + start,
        end=passage.start + end,
        score=1.0,
    )


def marked(html: str) -> list[str]:
    return re.findall(r"<mark[^>]*>(.*?)</mark>", html, re.DOTALL)


def test_quote_is_marked_at_its_offsets_inside_the_passage() -> None:
    text = "First sentence here. The quoted one & more. Last one."
    passage = make_passage(text)
    start = text.index("The quoted")
    card = evidence_card(cite(passage, start, start + len("The quoted one & more.")), passage)
    assert marked(card) == [escape("The quoted one & more.")]
    assert escape("First sentence here. ") in card and escape(" Last one.") in card


def test_card_escapes_every_piece_of_untrusted_text() -> None:
    passage = make_passage(f"Before. {HOSTILE} After.")
    card = evidence_card(cite(passage, 0, len(passage.text), doi='10.1/"><script>x</script>'), passage)
    assert "<script" not in card and "<img" not in card and "<b>" not in card
    assert escape(HOSTILE) in card
    assert 'href="https://doi.org/10.1/%22%3E%3Cscript%3Ex%3C/script%3E"' in card
    assert "Smith J; Jones K; Patel R (2021)" in card and "§ Results · p. 3" in card


def test_card_without_its_passage_shows_the_quote_alone() -> None:
    passage = make_passage("Only this. And that.")
    card = evidence_card(cite(passage, 0, 10), None)
    assert marked(card) == ["Only this."]


@pytest.mark.parametrize(("start", "end"), [(-1, 3), (3, 3), (5, 999), (7, 2)])
def test_spans_outside_the_passage_mark_nothing(start: int, end: int) -> None:
    assert highlighted_passage("<p>text</p>", start, end) == escape("<p>text</p>")


def test_labels_escape_markdown_and_fold_lines() -> None:
    label = label_text("**x** [a](b)\n:red[y] $z$ <i>")
    assert label == r"\*\*x\*\* \[a\]\(b\) \:red\[y\] \$z\$ \<i\>"


def test_citation_label_reads_as_a_reference() -> None:
    passage = make_passage("Text.")
    assert citation_label(cite(passage, 0, 5)) == "[1] Smith et al. (2021) · T <b> · § Results, p. 3"


@pytest.mark.parametrize(
    ("authors", "surnames", "cited"),
    [
        ("Sims S; Fletcher S; Brearley S", ["Sims", "Fletcher", "Brearley"], "Sims et al."),
        ("Fillingham D; Weir B", ["Fillingham", "Weir"], "Fillingham & Weir"),
        ("Brewer", ["Brewer"], "Brewer"),
        ("Social Care Institute for Excellence (SCIE)", ["Social Care Institute for Excellence (SCIE)"],
         "Social Care Institute for Excellence (SCIE)"),  # an organisation keeps its whole name
        (" ; ", [], ""),
    ],
)  # fmt: skip
def test_authors_are_cited_by_surname(authors: str, surnames: list[str], cited: str) -> None:
    source = SourceInfo(source_id="s1", authors=authors, year="2021")
    assert source.surnames == surnames
    assert short_authors(authors) == cited
    assert source.short_cite == (f"{cited} (2021)" if cited else "s1")


def test_doi_urls() -> None:
    assert doi_url("10.5334/ijic.5936") == "https://doi.org/10.5334/ijic.5936"
    assert doi_url("https://doi.org/10.1/x") == "https://doi.org/10.1/x"
    assert doi_url("  ") == ""


def test_exports_carry_answer_references_and_quotes() -> None:
    passage = make_passage("Leaders build a shared purpose.")
    citation = cite(passage, 0, len(passage.text))
    answer = Answer(
        question="How?",
        answer="Leaders build a shared purpose. [1]",
        sentences=[AnswerSentence(text="Leaders build a shared purpose.", citations=[1])],
        citations=[citation],
    )
    markdown = answer_markdown(answer)
    assert markdown.startswith("# How?\n\nLeaders build a shared purpose. [1]\n\n## References")
    assert "[1] Smith J; Jones K; Patel R (2021). T <b>. §Results, p. 3. https://doi.org/10.1/abc" in markdown
    assert "> Leaders build a shared purpose." in markdown
    text = answer_text(answer)
    assert text.startswith("Q: How?") and "References:" in text and "https://doi.org/10.1/abc" in text


def test_abstention_exports_related_evidence() -> None:
    passage = make_passage("Nearby text.")
    answer = Answer(question="Q?", answer="Not covered.", abstained=True, related=[cite(passage, 0, 12)])
    assert "## Related evidence (not cited as support)" in answer_markdown(answer)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.md", "passwd.md"),
        ("C:\\Users\\me\\Report (final).PDF", "Report-final.pdf"),
        ("..md", "upload.md"),
        (".hidden.txt", "hidden.txt"),
        ("a..b....c.csv", "a.b.c.csv"),
        ("notes – été.html", "notes-ete.html"),
        ("x" * 300 + ".json", "x" * 100 + ".json"),
    ],
)
def test_upload_names_are_sanitised(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


@pytest.mark.parametrize("name", ["evil.exe", "README", "", "data.jsonl"])
def test_unsupported_upload_names_are_refused(name: str) -> None:
    with pytest.raises(InputError, match="unsupported file type"):
        safe_filename(name)


@given(st.text(max_size=60), st.sampled_from(SUPPORTED_SUFFIXES))
def test_any_sanitised_name_is_a_plain_file_name(stem: str, suffix: str) -> None:
    name = safe_filename(stem + suffix)
    assert re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\.[a-z]+", name), name
    assert ".." not in name and name.endswith(suffix)


def test_an_answer_by_parts_shows_each_part_as_a_row_and_the_part_not_covered_as_a_note() -> None:
    sections = [
        AnswerSection(heading="What is an ICS", sentences=[AnswerSentence(text="ICSs are complex.", citations=[1])]),
        AnswerSection(heading="Why is it hard", sentences=[AnswerSentence(text="Power is shared.", citations=[2])]),
    ]
    note = "How much are chairs paid? The indexed evidence does not cover this part of the question."
    answer = Answer(
        question="q",
        answer="…",
        form="parts",
        sections=sections,
        sentences=[s for section in sections for s in section.sentences],
        gaps=[Gap(part="How much are chairs paid", note=note)],
    )
    block = answer_block(answer)
    assert re.findall(r"<th[^>]*>([^<]*)</th>", block) == ["What is an ICS", "Why is it hard"]
    assert "<li>ICSs are complex. [1]</li>" in block and f"<em>{escape(note)}</em>" in block

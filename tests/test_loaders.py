"""Loaders: every format becomes a Document whose segments carry the right metadata.

Nothing here embeds, so the bundled corpus is read whole.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from helpers import BAD_INPUT_CASES, DATA_DIR, make_bad_input, write_files, write_pdf

from index.chunking import split_document
from index.errors import InputError
from index.loaders import discover, doc_id_for, load_file, read_sources, render_record
from index.models import Document, Passage
from index.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache", data_dir=tmp_path, show_progress=False)


def passages_of(path: Path, settings: Settings, sources: dict | None = None) -> tuple[Document, list[Passage]]:
    document = load_file(path, settings, sources)
    return document, split_document(document, settings, sources)


def assert_exact_offsets(document: Document, passages: list[Passage]) -> None:
    """Every passage is the very span of the document text it claims to be, inside one segment."""
    assert passages
    for passage in passages:
        assert document.text[passage.start : passage.end] == passage.text
        assert passage.text == passage.text.strip()
        assert any(s.start <= passage.start and passage.end <= s.end for s in document.segments)


# --- Markdown -------------------------------------------------------------------------------

TAGGED_MD = """# Evidence notes

This preamble paragraph has no tag and explains how the notes were compiled for readers.

## sims2021 — Sims et al. (2021)

### Methods
The team carried out a realist synthesis in 2020 with ongoing stakeholder consultation. [sims2021 §Abstract-Methods]

The review found three things:
- leaders inspire intent to work together across organisations;
- leaders create the conditions for joint working.

These components are described as potentially important for integrated care. [sims2021 §Abstract-Results]

### Comparison
Knight et al. tested six configurations against the literature. Both reviews used realist approaches to ask what works, for whom and why. [sims2021 §Methods] [knight2024 §Design]
"""  # noqa: E501


def test_markdown_headings_become_sections_and_tags_become_metadata(tmp_path: Path, settings: Settings) -> None:
    path = write_files(tmp_path, {"notes.md": TAGGED_MD})["notes.md"]
    document, passages = passages_of(path, settings)
    assert document.kind == "markdown"
    assert_exact_offsets(document, passages)
    by_start = {" ".join(p.text.split()[:2]): p for p in passages}

    preamble = by_start["This preamble"]
    assert (preamble.source_id, preamble.section, preamble.tags) == ("notes", "Evidence notes", [])

    methods = by_start["The team"]
    assert methods.source_id == "sims2021"
    assert methods.section == "Abstract-Methods"
    assert methods.tags == ["sims2021 §Abstract-Methods"]
    assert "[sims2021" not in methods.text  # the tag is metadata, not passage text

    # The untagged list paragraph joins the tagged paragraph that follows it.
    listed = next(p for p in passages if "create the conditions" in p.text)
    assert listed.text.startswith("The review found three things:")
    assert listed.text.endswith("potentially important for integrated care.")
    assert listed.tags == ["sims2021 §Abstract-Results"]

    both = by_start["Both reviews"]  # names neither: the tags of its paragraph, and the first one's publication
    assert both.tags == ["sims2021 §Methods", "knight2024 §Design"]
    assert both.source_id == "sims2021"
    assert both.section == "Methods"
    knight = by_start["Knight et"]  # names one: that publication's
    assert (knight.source_id, knight.section, knight.tags) == ("knight2024", "Design", ["knight2024 §Design"])


def test_markdown_heading_inside_code_fence_is_not_a_section(tmp_path: Path, settings: Settings) -> None:
    text = "# Real heading\n\n```\n# not a heading, a shell comment inside a fenced block of code\n```\n"
    path = write_files(tmp_path, {"fenced.md": text})["fenced.md"]
    document = load_file(path, settings)
    assert {s.section for s in document.segments} == {"Real heading"}


def _tagged_paragraphs(text: str) -> list[tuple[int, int, list[str]]]:
    """(start, end, tags) of every paragraph of a Markdown text that ends in tags, found independently."""
    found = []
    for match in re.finditer(r"[^\n](?:.|\n(?!\s*\n))*", text):
        tags = re.findall(r"\[([\w.\-]+ §[^\]\n]+)\]", match.group(0))
        if tags and re.search(r"\]\s*$", match.group(0)):
            found.append((match.start(), match.end(), tags))
    return found


def test_bundled_review_summaries_keep_every_paragraphs_tags(settings: Settings) -> None:
    document, passages = passages_of(DATA_DIR / "review_summaries.md", settings)
    assert_exact_offsets(document, passages)
    paragraphs = _tagged_paragraphs(document.text)
    assert len(paragraphs) > 100
    for start, end, tags in paragraphs:
        inside = [p for p in passages if p.start < end and p.end > start]
        assert inside, f"no passage for the paragraph at {start}: {document.text[start : start + 60]!r}"
        sources = [tag.split(" §")[0] for tag in tags]
        for passage in inside:
            if len(set(sources)) == 1 or passage.tags == tags:
                assert (passage.tags, passage.source_id) == (tags, sources[0])
            else:  # a sentence of a compiled comparison naming one of its publications is that publication's
                assert passage.tags and set(passage.tags) <= set(tags)
                assert {tag.split(" §")[0] for tag in passage.tags} == {passage.source_id}
    # A compiled comparison's sentences go to the publication each names.
    middleton = next(p for p in passages if p.text.startswith("Middleton et al. identify a willingness"))
    assert (middleton.source_id, middleton.tags) == ("middleton2024", ["middleton2024 §Abstract-Results"])
    # Ids sharing a name ("harris2020", "harris2022") are matched only in full.
    size = next(p for p in passages if "**harris2022:** 36 included papers" in p.text)
    assert size.source_id == "harris2022"
    hendry = next(p for p in passages if p.text.startswith("Several publications raise power"))
    assert hendry.source_id == "hendry2021"  # the opening sentence leads into the first it names
    assert hendry.text.endswith("takes time in Scotland's reform.")
    # Untagged paragraphs (list introductions) join the tagged paragraph that follows them.
    knight = next(p for p in passages if "a review of ICS strategy and guidance documents" in p.text)
    assert knight.tags == ["knight2024 §Abstract-Design"]
    assert knight.text.startswith("The initial programme theories")
    assert "Screening and testing left six CMOCs" in knight.text
    # Only the preamble lacks a tag: it keeps the file's own id as its source.
    untagged = [p for p in passages if not p.tags]
    assert untagged
    assert {(p.source_id, p.section) for p in untagged} == {
        ("review_summaries", "Evidence base: leadership of integrated health and social care teams and systems")
    }


# --- plain text and HTML ----------------------------------------------------------------------


def test_text_title_lines_become_sections(tmp_path: Path, settings: Settings) -> None:
    text = (
        "Background\n\nIntegrated care joins health and social care services around the people who use them.\n\n"
        "Findings\n\nTeams with a named leader reported clearer decisions and fewer duplicated assessments.\n"
    )
    path = write_files(tmp_path, {"notes.txt": text})["notes.txt"]
    document, passages = passages_of(path, settings)
    assert_exact_offsets(document, passages)
    assert [(p.section, p.text.split()[0]) for p in passages] == [("Background", "Integrated"), ("Findings", "Teams")]
    assert all(p.source_id == "notes" and p.page is None for p in passages)


def test_html_drops_scripts_and_styles_and_uses_headings(tmp_path: Path, settings: Settings) -> None:
    html = """<html><head><title>Page title</title><style>p { color: red; }</style></head>
    <body><script>var tracking = "should never be indexed";</script>
    <nav><ul><li>Home</li><li>About</li></ul></nav>
    <h1>Leadership review</h1>
    <p>Leaders of integrated teams <b>balance</b> several professional perspectives at once.</p>
    <h2>Methods</h2>
    <p>A realist synthesis of thirty six papers, with stakeholder consultation throughout.</p>
    <noscript>Enable JavaScript to read this page properly.</noscript>
    </body></html>"""
    path = write_files(tmp_path, {"page.html": html})["page.html"]
    document, passages = passages_of(path, settings)
    assert document.kind == "html"
    assert_exact_offsets(document, passages)
    for junk in ("tracking", "color: red", "Page title", "JavaScript"):
        assert junk not in document.text
    assert [(p.section, p.text) for p in passages] == [
        ("Leadership review", "Leaders of integrated teams balance several professional perspectives at once."),
        ("Methods", "A realist synthesis of thirty six papers, with stakeholder consultation throughout."),
    ]


# --- coded evidence -----------------------------------------------------------------------------

EVIDENCE_HEADER = ["record_id", "component", "context", "mechanism", "outcome", "evidence_summary", "source_id"]
EVIDENCE_ROWS = [
    [
        "E1",
        "working with power",
        "Joint boards",
        "Leaders share budgets openly",
        "More trust",
        "Trust grew.",
        "x1",
    ],
    ["E2", "general", "Community teams", "Shared records", "Fewer repeated visits", "", "x2"],
]


def _csv(rows: list[list[str]]) -> str:
    lines = [",".join(f'"{cell}"' for cell in row) for row in [EVIDENCE_HEADER, *rows]]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", ["evidence.csv", "evidence.json"])
def test_coded_evidence_gives_one_readable_passage_per_record(tmp_path: Path, settings: Settings, name: str) -> None:
    if name.endswith(".csv"):
        content = _csv(EVIDENCE_ROWS)
    else:
        content = json.dumps({"records": [dict(zip(EVIDENCE_HEADER, row, strict=True)) for row in EVIDENCE_ROWS]})
    path = write_files(tmp_path, {name: content})[name]
    document, passages = passages_of(path, settings)
    assert document.kind == "evidence"
    assert_exact_offsets(document, passages)
    assert [p.record.record_id for p in passages if p.record] == ["E1", "E2"]
    first, second = passages
    assert (first.source_id, second.source_id) == ("x1", "x2")
    assert first.record is not None and first.record.mechanism == "Leaders share budgets openly"
    assert first.text == render_record(first.record)[0]
    assert first.text.startswith("Coded evidence E1")
    assert "working with power" in first.text.split("\n")[0]
    assert first.text.split("\n")[1:] == [
        "Context: Joint boards",
        "Mechanism: Leaders share budgets openly",
        "Outcome: More trust",
        "Summary: Trust grew.",
    ]
    assert "Summary" not in second.text  # empty fields are left out, not printed blank


def test_long_coded_record_stays_one_passage(tmp_path: Path, settings: Settings) -> None:
    long_row = ["E9", "general", "Context " * 100, "Mechanism " * 100, "Outcome " * 100, "", "x9"]
    path = write_files(tmp_path, {"long.csv": _csv([long_row])})["long.csv"]
    passages = split_document(load_file(path, settings), settings.model_copy(update={"chunk_size": 200}))
    assert len(passages) == 1
    assert len(passages[0].text) > 200
    assert passages[0].text == render_record(passages[0].record)[0]  # type: ignore[arg-type]


# --- bibliographic metadata -------------------------------------------------------------------


def test_sources_csv_is_joined_onto_passages(settings: Settings) -> None:
    sources = read_sources(DATA_DIR / "sources.csv")
    _, passages = passages_of(DATA_DIR / "coded_evidence.csv", settings, sources)
    sims = next(p for p in passages if p.source_id == "sims2021")
    assert sims.source.title.startswith("What does success look like for leaders of integrated health")
    assert sims.source.authors.startswith("Sims S; Fletcher S")
    assert sims.source.year == "2021"
    assert sims.source.doi == "10.5334/ijic.5936"


def test_pdf_named_by_its_doi_gets_that_sources_record(tmp_path: Path, settings: Settings) -> None:
    sources = read_sources(DATA_DIR / "sources.csv")
    page = "Results\n\nSeven components of leadership were found, from inspiring intent to clarifying complexity."
    path = write_pdf(tmp_path / "10.5334%2Fijic.5936.pdf", [page])
    document, passages = passages_of(path, settings, sources)
    assert document.doc_id == "10.5334-ijic.5936"
    assert {p.source_id for p in passages} == {"sims2021"}
    assert passages[0].source.year == "2021"


def test_bundled_corpus_has_25_catalogued_sources_and_117_records(settings: Settings) -> None:
    sources = read_sources(DATA_DIR / "sources.csv")
    assert len(sources) == 25
    assert all(s.title and s.authors and s.year for s in sources.values())
    files = discover(DATA_DIR)
    assert [p.name for p in files] == ["coded_evidence.csv", "review_summaries.md"]  # questions are not evidence
    passages = [p for path in files for p in passages_of(path, settings, sources)[1]]
    records = [p for p in passages if p.record is not None]
    assert len(records) == 117
    assert len({p.record.record_id for p in records if p.record}) == 117
    with open(DATA_DIR / "coded_evidence.csv", encoding="utf-8") as handle:
        expected = Counter(row["source_id"] for row in csv.DictReader(handle))
    assert Counter(p.source_id for p in records) == expected
    catalogued = {p.source_id for p in passages if p.source_id in sources}
    assert catalogued == set(sources)
    assert {p.source_id for p in passages} - catalogued == {"review_summaries"}
    for passage in passages:
        if passage.source_id in sources:
            assert passage.source == sources[passage.source_id]


# --- PDF --------------------------------------------------------------------------------------

PAGES = [
    "Introduction\n\nThe first page explains why integrated care teams need shared leadership across organisations.",
    "Methods\n\nThe second page describes a realist synthesis of thirty six papers with stakeholder consultation.",
    "Results\n\nThe third page reports seven components of leadership, including clarifying complexity.",
]


def test_pdf_passages_know_their_page_and_section(tmp_path: Path, settings: Settings) -> None:
    path = write_pdf(tmp_path / "paper.pdf", PAGES)
    document, passages = passages_of(path, settings)
    assert document.kind == "pdf"
    assert_exact_offsets(document, passages)
    assert [(p.page, p.section, p.text.split()[1]) for p in passages] == [
        (1, "Introduction", "first"),
        (2, "Methods", "second"),
        (3, "Results", "third"),
    ]


def test_long_pdf_page_splits_into_passages_on_that_page(tmp_path: Path, settings: Settings) -> None:
    sentences = [f"Sentence {i} on page two reports a finding about joint leadership boards." for i in range(40)]
    path = write_pdf(tmp_path / "long.pdf", [PAGES[0], "Results\n\n" + " ".join(sentences), PAGES[2]])
    document, passages = passages_of(path, settings)
    assert_exact_offsets(document, passages)
    on_two = [p for p in passages if p.page == 2]
    assert len(on_two) >= 3
    assert all(len(p.text) <= settings.chunk_size for p in on_two)
    assert " ".join(p.text for p in on_two) == " ".join(sentences)  # nothing lost, nothing repeated


def test_pdf_hyphenation_running_headers_and_references(tmp_path: Path, settings: Settings) -> None:
    header = "Journal of Integrated Care Studies 2024"
    body = [
        "Integrated teams need leaders who can negotiate across organisational boundaries and profes-\n"
        "sional cultures. Leaders used protein-protein style metaphors and held joint-\nworking sessions.",
        "Joint-working sessions were the most cited mechanism in the interviews that the authors ran.",
        "References\n\nSmith J. Integrated care leadership. Journal of Care. 2020;1:1-10.",
    ]
    path = write_pdf(tmp_path / "paper.pdf", [f"{header}\n{text}\n{n + 1}" for n, text in enumerate(body)])
    document, passages = passages_of(path, settings)
    assert header not in document.text
    assert "professional cultures" in document.text  # a word split at a line end is rejoined
    assert "joint-working sessions" in document.text  # a compound the document writes hyphenated stays so
    assert [p.page for p in passages] == [1, 2]  # the reference list is not evidence
    assert not re.search(r"\b[123]$", passages[0].text)  # page numbers are gone


def test_pdf_margin_line_numbers_and_figure_labels_are_dropped(tmp_path: Path, settings: Settings) -> None:
    numbered = [
        "Results",
        "Leaders of integrated care teams were interviewed in",
        "2019 and again after the merger of the two trusts in",
        "2021, and most described the same shared purpose.",
        "",
        "0",
        "20",
        "40",
        "Time (h)",
        "a Wild-type",
        "Managers who planned rotas ahead kept more nurses.",
    ]
    page = "\n".join(f"{line} {n}" for n, line in enumerate(numbered, start=31))  # a preprint's margin numbers
    passages = split_document(load_file(write_pdf(tmp_path / "preprint.pdf", [page]), settings), settings)
    assert [(p.section, p.text) for p in passages] == [
        (
            "Results",
            "Leaders of integrated care teams were interviewed in 2019 and again after the merger of the two "
            "trusts in 2021, and most described the same shared purpose. Managers who planned rotas ahead kept "
            "more nurses.",
        )
    ]


@pytest.mark.parametrize("case", BAD_INPUT_CASES)
def test_bad_input_is_one_error_naming_file_and_problem(tmp_path: Path, settings: Settings, case: str) -> None:
    path, problem = make_bad_input(case, tmp_path)
    with pytest.raises(InputError) as caught:
        load_file(path, settings)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert problem in message
    assert "\n" not in message
    assert message.count(str(path)) == 1


def test_utf8_with_bom_and_utf16_are_read(tmp_path: Path, settings: Settings) -> None:
    text = "Leadership notes\n\nIntegrated teams in Malmö need leaders who are trusted by every partner organisation."
    files = write_files(tmp_path, {"bom.txt": "\ufeff" + text, "wide.txt": text.encode("utf-16")})
    for path in files.values():
        assert load_file(path, settings).text == text


def test_discover_skips_questions_readmes_and_unknown_files(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.md": "x", "sources.csv": "x", "README.md": "x", "q.jsonl": "{}", "b.docx": "x"})
    write_files(tmp_path / "sub", {"c.PDF": "x", ".hidden.md": "x"})
    assert [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path)] == ["a.md", "sub/c.PDF"]
    with pytest.raises(InputError, match="not a folder"):
        discover(tmp_path / "missing")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("10.1038%2Fs41467-022-30570-7.pdf", "10.1038-s41467-022-30570-7"),
        ("My Report (final).md", "My-Report-final"),
        ("Müller été ﬁnal.md", "Muller-ete-final"),
        ("报告.md", "document"),
    ],
)
def test_doc_ids_are_stable_and_safe(name: str, expected: str) -> None:
    assert doc_id_for(Path(name)) == expected


def test_a_compiled_paragraph_names_publications_sharing_a_name_by_their_ids(
    tmp_path: Path, settings: Settings
) -> None:
    """ "harris2020" and "harris2022" share the name Harris: a sentence goes to one only by its id."""
    text = (
        "## Comparison\n"
        "The protocol (harris2020) planned workshops with stakeholders in every region. "
        "The report (harris2022) included 36 papers on leading integrated care teams. "
        "Harris et al. used realist methods throughout both pieces of work. "
        "[harris2020 §Methods] [harris2022 §Results]\n"
    )
    path = write_files(tmp_path, {"compiled.md": text})["compiled.md"]
    _, passages = passages_of(path, settings)
    owners = {p.text.split(".")[0]: (p.source_id, p.tags) for p in passages}
    assert owners["The protocol (harris2020) planned workshops with stakeholders in every region"] == (
        "harris2020",
        ["harris2020 §Methods"],
    )
    assert owners["The report (harris2022) included 36 papers on leading integrated care teams"] == (
        "harris2022",
        ["harris2022 §Results"],
    )
    assert owners["Harris et al"] == ("harris2020", ["harris2020 §Methods", "harris2022 §Results"])

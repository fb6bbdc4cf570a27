"""Evidence selection and search, the Ask form across page switches, and Library uploads that share a name.

Each test runs the app in-process with AppTest against a copy of the tiny real index of
``fixtures_app`` (records R1, R2, R3 of smith2021).
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import pytest
from fixtures_app import ANSWERABLE, SOURCES_CSV, ask, errors, open_page, plain, upload
from helpers import tree_digest
from streamlit.testing.v1 import AppTest

from index.builder import IndexBuilder
from index.embedding import Embedder
from index.errors import IcragError
from index.library import Library, SourcesMerge, Upload
from index.settings import Settings
from index.store import IndexStore, read_manifest

pytest_plugins = ["fixtures_app"]  # one index per module, a copy per test
pytestmark = pytest.mark.slow  # AppTest reruns the whole app per interaction: seconds a test

# --- Evidence ---------------------------------------------------------------------------


def select_row(at: AppTest, row: int) -> AppTest:
    """Select a row of the records table, as a click on it does."""
    at.session_state["ev_table"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    return at.run()


def listed(at: AppTest) -> list[str]:
    """The records the table lists (a table of no rows has no columns)."""
    return list(at.dataframe(key="ev_table").value.get("record", []))


def shown_record(at: AppTest) -> str | None:
    """The record the detail pane shows, if any."""
    assert not at.exception, at.exception
    return at.subheader[0].value.split(" · ")[0] if at.subheader else None


def test_selected_record_stays_selected_when_the_rows_change(settings: Settings) -> None:
    at = select_row(open_page("evidence"), 1)
    assert shown_record(at) == "R2"
    at.multiselect(key="ev_components").set_value(["working with power", "general"]).run()
    assert listed(at) == ["R2", "R3"]
    assert shown_record(at) == "R2"  # not R3, which now sits in the selected row
    assert list(at.session_state["ev_table"]["selection"]["rows"]) == [0]
    at.text_input(key="ev_search").set_value("funding").run()
    assert listed(at) == ["R2"] and shown_record(at) == "R2"


def test_selection_is_cleared_when_its_record_is_no_longer_listed(settings: Settings) -> None:
    at = select_row(open_page("evidence"), 0)
    assert shown_record(at) == "R1"
    at.multiselect(key="ev_components").set_value(["general"]).run()
    assert listed(at) == ["R3"]
    assert shown_record(at) is None  # not R3, which now sits in the selected row
    at.multiselect(key="ev_components").set_value([]).run()
    assert shown_record(at) is None  # the cleared selection does not come back with R1
    assert any("Select a row" in c.value for c in at.caption)


@pytest.mark.parametrize(
    ("query", "records"),
    [
        ("Smith et al.", ["R1", "R2", "R3"]),  # the Source column
        ("smith2021", ["R1", "R2", "R3"]),  # the source id
        ("Jones", ["R1", "R2", "R3"]),  # an author the detail pane lists
        ("realist review", ["R1", "R2", "R3"]),  # the publication's title
        ("inspiring intent", ["R1"]),  # the Component column
    ],
)
def test_search_finds_what_the_table_and_detail_pane_show(settings: Settings, query: str, records: list[str]) -> None:
    at = open_page("evidence")
    at.text_input(key="ev_search").set_value(query).run()
    assert listed(at) == records


# --- Ask --------------------------------------------------------------------------------


def test_question_filters_and_answer_survive_a_visit_to_another_page(settings: Settings) -> None:
    at = open_page()
    at.selectbox(key="ask_component").set_value("inspiring intent to work together")
    at.selectbox(key="ask_kind").set_value("evidence")
    ask(at, ANSWERABLE)
    asked = f"**You asked:** {ANSWERABLE} · Leadership component: inspiring intent to work together"
    assert any(plain(m.value) == asked + " · Document type: Coded evidence table" for m in at.markdown)

    at.switch_page("views/evidence.py").run()
    at.switch_page("views/ask.py").run()
    assert not at.exception, at.exception
    assert at.text_input(key="ask_question").value == ANSWERABLE
    assert at.selectbox(key="ask_component").value == "inspiring intent to work together"
    assert at.selectbox(key="ask_kind").value == "evidence"
    assert at.selectbox(key="ask_source").value is None
    assert any(plain(m.value).startswith(asked) for m in at.markdown)  # the answer still names its question


# --- Library ----------------------------------------------------------------------------

REPORT_MD = b"# Report\n\nCommunity matrons coordinated discharge planning with social workers in three boroughs.\n"
REPORT_TXT = b"Report\n\nDistrict nurses shared one caseload list with the council's reablement team every week.\n"


def test_upload_whose_document_id_another_file_holds_is_refused(settings: Settings) -> None:
    at = upload(open_page("library"), "report.md", REPORT_MD)
    assert plain(at.success[0].value) == "Added report: 1 passage."
    before = tree_digest(settings.index_dir)

    at = upload(at, "report.txt", REPORT_TXT)
    assert errors(at) == [
        "report.txt: the index already holds document 'report' from report.md; "
        "rename the file or remove that document first"
    ]
    assert tree_digest(settings.index_dir) == before
    assert sorted(p.name for p in (settings.data_dir / "uploads").iterdir()) == ["report.md"]

    at = upload(at, "report.md", REPORT_MD.replace(b"three", b"four"))  # the same name replaces it
    assert plain(at.success[0].value) == "Added report: 1 passage."


def test_two_names_stored_alike_in_one_batch_are_not_stored_over_each_other(settings: Settings) -> None:
    at = open_page("library")
    at.file_uploader(key="lib_uploads").set_value(
        [("a b.md", REPORT_MD, "text/markdown"), ("a-b.md", REPORT_TXT, "text/markdown")]
    )
    at.button(key="lib_add").click().run()
    assert not at.exception, at.exception
    assert plain(at.success[0].value) == "Added a-b: 1 passage."
    assert errors(at) == [
        "a-b.md: the index already holds document 'a-b' from a b.md; rename the file or remove that document first"
    ]
    assert (settings.data_dir / "uploads" / "a-b.md").read_bytes() == REPORT_MD


SOURCES_UPLOAD = (
    b"source_id,authors,year,title,venue,doi,url,licence\n"
    b'smith2021,"Smith J; Jones K; Patel R",2021,"Leading integrated care: an updated realist review",'
    b"Journal of Integrated Care,10.1234/jic.2021.7,,CC BY 4.0\n"
    b'doe2024,"Doe J",2024,"Field notes on joint caseloads",Journal X,10.9999/xyz,,\n'
)


def test_uploaded_sources_csv_merges_publications_and_recites_the_index(settings: Settings) -> None:
    data_sources = settings.data_dir / "sources.csv"
    before = tree_digest(settings.index_dir)
    at = upload(open_page("library"), "sources.csv", b"title,year\nA title,2020\n")
    assert errors(at) == ["sources.csv: CSV is missing required column(s): source_id"]
    assert tree_digest(settings.index_dir) == before
    assert data_sources.read_text() == SOURCES_CSV

    at = upload(at, "sources.csv", SOURCES_UPLOAD)
    assert not errors(at), errors(at)
    assert plain(at.success[0].value) == "sources.csv: 1 publication added, 1 updated."
    assert not (settings.data_dir / "uploads").exists()
    merged = data_sources.read_text()
    assert "an updated realist review" in merged and "doe2024" in merged and "Patel R" in merged
    title = "Leading integrated care: an updated realist review"
    assert read_manifest(settings.index_dir).sources["smith2021"].title == title
    store = IndexStore.load(settings.index_dir, settings)
    assert {p.source.title for p in store.passages} == {title}  # what citations carry
    assert list(at.dataframe[1].value["title"]) == [title]

    at = upload(at, "sources.csv", SOURCES_UPLOAD)
    assert [plain(w.value) for w in at.warning] == [
        "sources.csv: nothing changed; its 2 publication(s) are already listed with these details."
    ]


def add_sources(library: Library, data: bytes) -> SourcesMerge:
    """Merge an uploaded sources.csv as the Library page does."""
    merge = library.add_uploads([Upload(name="sources.csv", data=data)], role="app").sources
    assert merge is not None
    return merge


def test_sources_csv_is_put_back_when_the_index_cannot_be_brought_up_to_date(
    settings: Settings, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(self: IndexBuilder) -> NoReturn:
        raise IcragError("index is busy")

    monkeypatch.setattr(IndexBuilder, "update_sources", fail)
    before = tree_digest(settings.data_dir), tree_digest(settings.index_dir)
    with pytest.raises(IcragError, match="index is busy"):
        add_sources(Library(settings, embedder), SOURCES_UPLOAD)
    assert (tree_digest(settings.data_dir), tree_digest(settings.index_dir)) == before


def test_sources_csv_uploaded_before_any_index_waits_for_the_first_one(
    settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    no_index = settings.model_copy(update={"index_dir": tmp_path / "no-index"})
    merge = add_sources(Library(no_index, embedder), SOURCES_UPLOAD)
    assert (merge.added, merge.updated, merge.unchanged) == (["doe2024"], ["smith2021"], [])
    assert "doe2024" in (settings.data_dir / "sources.csv").read_text()
    assert [p.name for p in no_index.index_dir.iterdir()] == ["audit.jsonl"]  # no index, only the change's record


def test_a_sources_upload_changes_citations_only_and_keeps_what_it_does_not_mention(
    settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    """Documents added from elsewhere or removed stay so; extra columns, id-less rows and unnamed cells survive."""
    builder = IndexBuilder(settings, embedder=embedder)
    memo = tmp_path / "elsewhere" / "memo.md"
    memo.parent.mkdir()
    memo.write_text("# Memo\n\nJoint caseload reviews ran every fortnight in both teams.\n", encoding="utf-8")
    builder.add([memo])
    builder.remove(["evidence"])
    data_sources = settings.data_dir / "sources.csv"
    with_notes = SOURCES_CSV.rstrip("\n").replace("licence", "licence,notes") + ',"keep me"\n'
    data_sources.write_text(with_notes + ',"Anon",,"A row without an id",,,,,\n', encoding="utf-8")

    merge = add_sources(Library(settings, embedder), b"source_id,title\nsmith2021,A new title\n")
    assert (merge.added, merge.updated) == ([], ["smith2021"])
    store = IndexStore.load(settings.index_dir, settings)
    assert sorted(store.documents) == ["memo", "smith2021"]
    assert {p.source.title for p in store.passages if p.source_id == "smith2021"} == {"A new title"}
    assert {p.source.authors for p in store.passages if p.source_id == "smith2021"} == {"Smith J; Jones K; Patel R"}
    merged = data_sources.read_text(encoding="utf-8")
    assert merged.splitlines()[0].endswith('"licence","notes"') and '"keep me"' in merged
    assert len(merged.splitlines()) == 3 and "A row without an id" in merged

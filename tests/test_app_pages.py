"""Every page of the Streamlit app, run in-process with AppTest against a tiny real index.

The app builds ``Settings()`` from the environment like the command line, so each test points
``ICRAG_*`` variables at its own copy of one index built per module; the session's model does
all the embedding.
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path

import pytest
from fixtures_app import ANSWERABLE, IMAGE, SCRIPT, UNANSWERABLE, ask, errors, open_page, plain, upload
from helpers import tree_digest
from streamlit.testing.v1 import AppTest

from app.ui_common import require_judge
from app.ui_eval import SCORE_MODE
from eval.judge import LLMJudge
from index.settings import Settings
from index.store import IndexStore, read_manifest
from rag.retrieval import filter_value

pytest_plugins = ["fixtures_app"]  # one index per module, a copy per test
pytestmark = pytest.mark.slow  # AppTest reruns the whole app per interaction: seconds a test


def bodies(at: AppTest) -> list[str]:
    """The HTML of every st.html element."""
    return [element.body for element in at.html]


def cards(at: AppTest) -> list[str]:
    return [body for body in bodies(at) if 'class="icrag-card"' in body]


# --- Ask --------------------------------------------------------------------------------


def test_ask_answers_with_numbered_citations_and_evidence_cards(settings: Settings) -> None:
    at = ask(open_page(), ANSWERABLE)
    answer = at.session_state["ask_answer"]
    assert not answer.abstained and "[1]" in answer.answer
    assert not at.error
    answer_html = next(b for b in bodies(at) if 'class="icrag-answer"' in b)
    assert all(escape(s.text) in answer_html for s in answer.sentences)
    assert answer.evidence is not None and escape(answer.evidence.line) in answer_html
    assert len(cards(at)) == len(answer.citations) >= 1
    assert at.expander[0].label.startswith(r"\[1\] Smith et al\. \(2021\)")
    first = answer.citations[0]
    card = cards(at)[0]
    assert re.findall(r"<mark[^>]*>(.*?)</mark>", card, re.DOTALL) == [escape(first.quote)]
    pieces = [
        "Leading integrated care: a realist review",
        "Smith J; Jones K; Patel R (2021)",
        "Journal of Integrated Care",
        f"§ {first.section}",
        'href="https://doi.org/10.1234/jic.2021.7"',
    ]
    assert all(piece in card for piece in pieces), card
    assert {b.key for b in at.get("download_button")} == {
        "ask_download_md",
        "ask_download_txt",
        "ask_download_docx",
        "ask_download_ris",
        "ask_download_bibtex",
        "ask_download_csl",
    }


def test_quote_is_highlighted_at_the_citation_offsets(settings: Settings) -> None:
    at = ask(open_page(), ANSWERABLE)
    store = IndexStore.load(settings.index_dir, settings)
    for citation, card in zip(at.session_state["ask_answer"].citations, cards(at), strict=True):
        passage = store.passages[store.position[citation.passage_id]]
        start, end = citation.start - passage.start, citation.end - passage.start
        assert passage.text[start:end] == citation.quote
        assert escape(passage.text[:start]) + "<mark" in card


def test_example_question_is_asked_on_click(settings: Settings) -> None:
    at = open_page()
    pills = at.button_group(key="ask_example")
    example = pills.options[0]
    pills.set_value(example).run()
    assert not at.exception, at.exception
    assert at.session_state["ask_question"] == example
    assert at.session_state["ask_answer"] is not None


@pytest.mark.parametrize(
    ("key", "filter_key", "value"),
    [
        ("ask_component", "component", "working with power"),
        ("ask_kind", "kind", "markdown"),
        ("ask_source", "source_id", "smith2021"),
    ],
)
def test_filters_restrict_the_cited_evidence(settings: Settings, key: str, filter_key: str, value: str) -> None:
    at = open_page()
    at.selectbox(key=key).set_value(value)
    answer = ask(at, ANSWERABLE).session_state["ask_answer"]
    store = IndexStore.load(settings.index_dir, settings)
    cited = [store.passages[store.position[c.passage_id]] for c in answer.citations]
    assert cited and all(filter_value(p, filter_key) == value for p in cited)


def test_uncovered_question_abstains_with_related_evidence(settings: Settings) -> None:
    at = ask(open_page(), UNANSWERABLE)
    answer = at.session_state["ask_answer"]
    assert answer.abstained and not answer.citations and answer.related
    assert "does not cover" in at.warning[0].value
    assert len(cards(at)) == len(answer.related)
    assert any("Related evidence" in m.value for m in at.markdown)
    assert {b.key for b in at.get("download_button")} == {"ask_download_md", "ask_download_txt", "ask_download_docx"}


def test_planted_markup_shows_as_literal_text(settings: Settings) -> None:
    at = ask(open_page(), "What does working with power mean for leaders?")
    shown = "".join(bodies(at))
    assert escape(SCRIPT) in shown and escape(IMAGE) in shown
    assert "<script" not in shown and "<img" not in shown


def test_empty_question_is_a_message_not_a_traceback(settings: Settings) -> None:
    at = ask(open_page(), "  ?! ")
    assert "no words" in errors(at)[0]
    assert at.session_state["ask_answer"] is None


def test_missing_index_is_a_message(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICRAG_INDEX_DIR", str(tmp_path / "nowhere"))
    at = open_page()
    assert "icrag index build" in errors(at)[0]


# --- Evidence ---------------------------------------------------------------------------


def test_evidence_table_filters_and_searches(settings: Settings) -> None:
    at = open_page("evidence")
    assert list(at.dataframe(key="ev_table").value["record"]) == ["R1", "R2", "R3"]
    at.multiselect(key="ev_components").set_value(["working with power"]).run()
    assert list(at.dataframe(key="ev_table").value["record"]) == ["R2"]
    at.multiselect(key="ev_components").set_value([]).run()
    at.text_input(key="ev_search").set_value("ROTAS ahead").run()
    assert list(at.dataframe(key="ev_table").value["record"]) == ["R3"]
    assert not at.exception and not at.error


def test_evidence_by_component_lists_each_component(settings: Settings) -> None:
    at = open_page("evidence")
    labels = [e.label for e in at.expander]
    assert labels == [r"inspiring intent to work together \(1\)", r"working with power \(1\)", r"general \(1\)"]


def test_selected_record_shows_its_passage_and_review_passages(settings: Settings) -> None:
    at = open_page("evidence")
    at.session_state["ev_table"] = {"selection": {"rows": [2], "columns": [], "cells": []}}
    at.run()
    assert not at.exception and not at.error
    assert at.subheader[0].value == "R3 · general"
    shown = "".join(bodies(at))
    assert "Managers plan rotas four weeks ahead" in shown  # the record's mechanism
    assert "Coded evidence R3" in shown  # its indexed passage
    assert "Managers who planned rotas four weeks ahead reduced short-notice shift changes" in shown  # the review
    assert any("same section as the record" in c.value for c in at.caption)


# --- Library ----------------------------------------------------------------------------


def test_library_lists_documents_publications_and_manifest(settings: Settings) -> None:
    at = open_page("library")
    documents, sources = (frame.value for frame in at.dataframe)
    assert dict(zip(documents["document"], documents["passages"], strict=True)) == {"evidence": 3, "smith2021": 4}
    assert list(sources["source"]) == ["smith2021"]
    assert [m.value for m in at.metric] == ["2", "7", "3", "1"]
    assert at.json[0].value  # the manifest


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("notes.txt", b"GIF89a\x00\x01\x02\x00\x00binary\x00", "binary content in a text file"),
        ("records.csv", b"record_id,component\nR9,general\n", "missing required column(s): context"),
        ("smith2021.md", b"# Other\n\nA different review with the same document id as an indexed one.\n", "rename"),
    ],
)
def test_bad_upload_is_one_error_line_and_changes_nothing(
    settings: Settings, name: str, data: bytes, problem: str
) -> None:
    before = tree_digest(settings.index_dir)
    at = upload(open_page("library"), name, data)
    assert len(errors(at)) == 1 and problem in errors(at)[0] and name in errors(at)[0]
    assert tree_digest(settings.index_dir) == before
    assert not (settings.data_dir / "uploads").exists()


def test_upload_over_the_size_limit_is_refused(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICRAG_MAX_FILE_MB", "0.001")
    before = tree_digest(settings.index_dir)
    at = upload(open_page("library"), "big.md", b"# Big\n\n" + b"Long text about care. " * 100)
    assert errors(at) == ["big.md: file is 0.0 MB, over the 0.001 MB limit"]
    assert tree_digest(settings.index_dir) == before


def test_upload_then_remove_a_document(settings: Settings) -> None:
    text = b"# Notes\n\nNurses on night shifts in community hospitals reported more fatigue than day staff.\n"
    at = upload(open_page("library"), "../../Team notes!.md", text)
    assert not errors(at), errors(at)
    assert plain(at.success[0].value) == "Added Team-notes: 1 passage."
    assert (settings.data_dir / "uploads" / "Team-notes.md").is_file()
    assert "Team-notes" in list(at.dataframe[0].value["document"])  # the changed index is shown

    at.selectbox(key="lib_remove_doc").set_value("Team-notes").run()
    at.button(key="lib_remove").click().run()
    assert plain(at.success[0].value).startswith("Removed Team-notes;")
    assert [d.doc_id for d in read_manifest(settings.index_dir).documents] == ["evidence", "smith2021"]
    assert not (settings.data_dir / "uploads" / "Team-notes.md").exists()


# --- Evaluate ---------------------------------------------------------------------------


def test_evaluate_runs_the_bundled_set_with_drill_down(settings: Settings) -> None:
    at = open_page("evaluate")
    at.button(key="eval_run_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    report = at.session_state["eval_run"].report
    assert report.n_questions == 2 and report.answers.abstention_recall == 1.0
    labels = [m.label for m in at.metric]
    assert {"Recall@5", "Key facts", "Citation support", "Abstention recall"} <= set(labels)
    assert len(at.image) == 2  # the metric bars and the latency boxes
    keys = {b.key for b in at.get("download_button")}
    assert keys == {"eval_run_download_report.json", "eval_run_download_report.md"}

    at.selectbox(key="eval_run_pick").set_value("q1").run()
    assert not at.exception
    headings = [m.value for m in at.markdown]
    assert "**Missed key facts**" in headings and "**Unsupported sentences**" in headings


def test_evaluate_scores_an_uploaded_answers_file(settings: Settings) -> None:
    line = {
        "question": ANSWERABLE,
        "answer": "Leaders build a shared purpose across organisations. [1] The moon is made of green cheese. [1]",
        "contexts": ["Leaders of integrated care teams build a shared purpose across health and social care."],
        "key_facts": ["shared purpose", "relationships before structures"],
    }
    at = open_page("evaluate")
    at.segmented_control(key="eval_mode").set_value(SCORE_MODE).run()
    at.file_uploader(key="eval_answers_file").set_value(("answers.jsonl", json.dumps(line).encode(), "text/plain"))
    at.run()
    at.button(key="eval_score_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["eval_score"].report.n_answers == 1

    at.selectbox(key="eval_score_pick").set_value(0).run()
    missed, unsupported = (b for b in bodies(at) if b.startswith("<ul"))
    assert "relationships before structures" in missed and "shared purpose" not in missed
    assert "The moon is made of green cheese." in unsupported and "Leaders build" not in unsupported


def test_evaluate_reports_a_bad_question_file(settings: Settings) -> None:
    at = open_page("evaluate")
    at.radio(key="eval_source").set_value("Upload a JSONL file").run()
    at.file_uploader(key="eval_questions_file").set_value(("mine.jsonl", b"not json\n", "text/plain"))
    at.run()
    at.button(key="eval_run_go").click().run()
    assert not at.exception
    assert errors(at)[0].startswith("mine.jsonl:1: invalid JSON")


def test_a_chat_judge_is_built_once_so_its_verdicts_outlive_a_rerun(settings: Settings) -> None:
    pytest.importorskip("langchain_openai")
    chat = settings.model_copy(update={"judge": "openai", "llm_model": "m", "llm_base_url": "http://localhost:9/v1"})
    judge = require_judge(chat)
    assert isinstance(judge, LLMJudge)
    assert require_judge(chat) is judge
    other = chat.model_copy(update={"llm_model": "other"})
    assert require_judge(other) is not judge

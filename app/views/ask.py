"""Ask: a question in plain language, answered with numbered citations to quoted evidence."""

from __future__ import annotations

from collections.abc import Collection, Mapping

import streamlit as st

from app.ui_common import init_state, require_pipeline, settings_from_env, shown_errors
from app.ui_render import (
    answer_block,
    answer_markdown,
    answer_text,
    citation_label,
    evidence_card,
    label_text,
    reference_files,
    short_authors,
)
from index.models import SourceInfo
from index.store import IndexStore
from rag.exports import answer_docx
from rag.models import Answer, Citation

#: A few questions from data/dev_questions.jsonl that the bundled evidence answers.
EXAMPLES = (
    "Which NHS policy documents do Sims et al. name as driving the move to integrated care in England?",
    "According to Knight et al. (2024), what part does vision play in making ICS leadership work?",
    "Which leadership skills did Nieuwboer et al. find important for integrating care?",
    "How many papers were included in the NIHR HSDR realist synthesis by Harris et al. (2022)?",
)
#: The form's widgets, whose values outlive a visit to another page through FORM_KEPT.
FORM_KEYS = ("ask_question", "ask_component", "ask_source", "ask_kind")
FORM_KEPT = "ask_form_kept"
FILTER_LABELS = {"component": "Leadership component", "source_id": "Publication", "kind": "Document type"}
KIND_LABELS = {
    "evidence": "Coded evidence table",
    "markdown": "Markdown summary",
    "text": "Plain text",
    "html": "Web page",
    "pdf": "PDF",
}


def use_example() -> None:
    """Put the picked example in the question box and ask it on this rerun."""
    picked = st.session_state.ask_example
    if picked:
        st.session_state.ask_question = picked
        st.session_state.ask_pending = True
        st.session_state.ask_example = None


def source_label(source: SourceInfo) -> str:
    """'Sims et al. (2021) — sims2021' for a filter option."""
    who = short_authors(source.authors)
    return f"{who} ({source.year or 'n.d.'}) — {source.source_id}" if who else source.source_id


def chosen_filters() -> dict[str, str]:
    """The filters picked in the form, under Pipeline.ask's keys."""
    picked = {
        "component": st.session_state.get("ask_component"),
        "source_id": st.session_state.get("ask_source"),
        "kind": st.session_state.get("ask_kind"),
    }
    return {key: value for key, value in picked.items() if value}


def restore_form(options: dict[str, Collection[str]]) -> None:
    """Give the form back the values it had before the user visited another page.

    Streamlit forgets the state of widgets a run does not draw, so the last values are kept
    under a plain key and restored; a filter value the index no longer offers is dropped.
    """
    for key, value in st.session_state.get(FORM_KEPT, {}).items():
        if key not in st.session_state and (key not in options or value in options[key]):
            st.session_state[key] = value


def keep_form() -> None:
    """Remember the form's values (as last submitted) for :func:`restore_form`."""
    st.session_state[FORM_KEPT] = {key: st.session_state.get(key) for key in FORM_KEYS}


def filter_text(key: str, value: str, sources: Mapping[str, SourceInfo]) -> str:
    """A filter as its selectbox shows it, e.g. 'Document type: PDF'."""
    if key == "source_id" and value in sources:
        value = source_label(sources[value])
    elif key == "kind":
        value = KIND_LABELS.get(value, value)
    return f"{FILTER_LABELS[key]}: {value}"


def asked_text(answer: Answer, filters: dict[str, str], sources: Mapping[str, SourceInfo]) -> str:
    """The question and filters the answer was given for, as escaped Markdown.

    The form may hold another question by now (edited, not asked), so the answer names its own.
    """
    parts = [answer.question, *(filter_text(key, value, sources) for key, value in filters.items())]
    return "**You asked:** " + " · ".join(label_text(part) for part in parts)


def show_citations(citations: list[Citation], store: IndexStore, prefix: str) -> None:
    """One collapsible evidence card per citation, the quote marked inside its passage."""
    for citation in citations:
        position = store.position.get(citation.passage_id)
        passage = store.passages[position] if position is not None else None
        with st.expander(label_text(citation_label(citation)), key=f"{prefix}_{citation.n}_{citation.passage_id}"):
            st.html(evidence_card(citation, passage))


def show_reference_downloads(answer: Answer, sources: Mapping[str, SourceInfo]) -> None:
    """Download buttons for the cited publications as RIS, BibTeX and CSL-JSON (none without citations)."""
    files = reference_files(answer, sources)
    if not files:
        return
    row = st.container(horizontal=True, vertical_alignment="center")
    row.caption("Cited publications for a reference manager:")
    for file in files:
        row.download_button(
            file.label,
            file.data,
            file_name=file.file_name,
            mime=file.mime,
            key=f"ask_download_{file.fmt}",
            on_click="ignore",
            icon=":material/format_quote:",
        )


def show_answer(answer: Answer, store: IndexStore) -> None:
    """The answer (or abstention), its evidence cards and the ways to take it away."""
    if answer.abstained:
        st.warning(label_text(answer.answer), icon=":material/search_off:")
        if answer.related:
            st.markdown("**Related evidence** — the closest passages, not cited as support:")
            show_citations(answer.related, store, "ask_related")
    else:
        st.subheader("Answer")
        st.html(answer_block(answer))
        st.caption(
            f"{len(answer.citations)} citations · answered in {answer.timings_ms.get('total', 0):.0f} ms · "
            f"settings {answer.settings_hash}"
        )
        st.subheader("Evidence")
        st.caption("Open a reference to read its passage; the quoted words are highlighted.")
        show_citations(answer.citations, store, "ask_card")
    row = st.container(horizontal=True)
    row.download_button(
        "Download Markdown",
        answer_markdown(answer),
        file_name="icrag-answer.md",
        mime="text/markdown",
        key="ask_download_md",
        on_click="ignore",
        icon=":material/download:",
    )
    row.download_button(
        "Download text",
        answer_text(answer),
        file_name="icrag-answer.txt",
        mime="text/plain",
        key="ask_download_txt",
        on_click="ignore",
        icon=":material/download:",
    )
    row.download_button(
        "Download .docx",
        answer_docx(answer),
        file_name="icrag-answer.docx",
        mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        key="ask_download_docx",
        on_click="ignore",
        icon=":material/download:",
    )
    show_reference_downloads(answer, store.manifest.sources)
    with st.expander("Copy the answer with its references", key="ask_copy"):
        st.code(answer_text(answer), language=None, wrap_lines=True)


def render() -> None:
    """The Ask page."""
    settings = settings_from_env()
    pipeline = require_pipeline(settings)
    store = pipeline.store
    components = sorted({p.record.component for p in store.passages if p.record and p.record.component})
    sources = store.manifest.sources
    kinds = sorted({p.kind for p in store.passages})
    restore_form({"ask_component": components, "ask_source": sources, "ask_kind": kinds})
    init_state(ask_question="", ask_answer=None, ask_filters={}, ask_pending=False)

    st.title("Ask the evidence")
    st.caption(
        f"Cited answers from {len(store.manifest.documents)} documents ({store.manifest.n_passages} passages) "
        "on leading integrated health and social care. Each sentence cites the passage it quotes; "
        "when the evidence does not cover a question, the answer says so."
    )
    with st.form("ask_form", border=False):
        st.text_input(
            "Your question",
            key="ask_question",
            placeholder="e.g. What helps leaders of integrated care build a shared purpose?",
        )
        first, second, third = st.columns(3)
        first.selectbox("Leadership component", components, index=None, placeholder="Any", key="ask_component")
        second.selectbox(
            "Publication",
            list(sources),
            index=None,
            placeholder="Any",
            format_func=lambda sid: source_label(sources[sid]),
            key="ask_source",
        )
        third.selectbox(
            "Document type",
            kinds,
            index=None,
            placeholder="Any",
            format_func=lambda kind: KIND_LABELS.get(kind, kind),
            key="ask_kind",
        )
        submitted = st.form_submit_button("Ask", type="primary", key="ask_submit", icon=":material/send:")
    st.pills("Or try an example", EXAMPLES, key="ask_example", on_change=use_example)
    keep_form()

    if submitted or st.session_state.ask_pending:
        st.session_state.ask_pending = False
        st.session_state.ask_answer = None
        st.session_state.ask_filters = chosen_filters()
        with shown_errors(), st.spinner("Searching the evidence…"):
            st.session_state.ask_answer = pipeline.ask(
                st.session_state.ask_question, filters=st.session_state.ask_filters
            )
    answer = st.session_state.ask_answer
    if answer is not None:
        st.divider()
        st.markdown(asked_text(answer, st.session_state.ask_filters, sources))
        show_answer(answer, store)


render()

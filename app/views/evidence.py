"""Evidence: the evidence map, and the coded context-mechanism-outcome records, searchable, by component.

The map counts coded records per leadership component and country, study design or year;
clicking a cell lists its records in the table, which downloads as CSV, Excel or Markdown.
"""

from __future__ import annotations

from functools import partial
from html import escape

import streamlit as st

from app.ui_common import init_state, require_pipeline, settings_from_env, shown_errors
from app.ui_map import MAP_AXES, clicked_cell, map_chart
from app.ui_render import label_text, passage_block
from index.models import EvidenceRecord, Passage
from rag.evidence_map import EvidenceMap, MapAxis, cell_of, evidence_map
from rag.exports import evidence_csv, evidence_markdown, evidence_xlsx, table_rows
from rag.pipeline import Pipeline
from rag.records import RecordRow, coded_records

#: Review passages shown for a selected record.
RELATED_PASSAGES = 3
_FIELD_STYLE = "margin:.25rem 0 .5rem 0;white-space:pre-wrap"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_row(row: RecordRow) -> dict[str, str]:
    """The table's columns of a listed record: id, component, C, M, O and the publication."""
    return {
        "record": row.record_id,
        "component": row.component,
        "context": row.context,
        "mechanism": row.mechanism,
        "outcome": row.outcome,
        "source": row.source,
    }


def selected_position(shown_ids: list[str]) -> int | None:
    """The table row of the record the user selected, kept by id across filter and search changes.

    The keyed table remembers its selection as a row number, which points at another record once
    the rows change; so the rows listed last run map it back to a passage id, the row is moved to
    where that record is listed now, and a record no longer listed is deselected.
    """
    listed_before: list[str] = st.session_state.get("ev_rows", [])
    state = st.session_state.get("ev_table")
    rows: list[int] = list(state["selection"]["rows"]) if state is not None else []
    picked = listed_before[rows[0]] if rows and rows[0] < len(listed_before) else None
    position = shown_ids.index(picked) if picked in shown_ids else None
    wanted = [] if position is None else [position]
    if rows != wanted:
        st.session_state["ev_table"] = {"selection": {"rows": wanted, "columns": [], "cells": []}}
    st.session_state["ev_rows"] = shown_ids
    return position


def record_fields(passage: Passage, record: EvidenceRecord) -> str:
    """A record's fields as escaped HTML: each label above its text."""
    source = passage.source
    reference = f"{source.authors or record.source_id} ({source.year or 'n.d.'}). {source.title}".strip()
    fields = [
        ("Context", record.context),
        ("Mechanism", record.mechanism),
        ("Outcome", record.outcome),
        ("Summary", record.evidence_summary),
        ("Publication", reference),
        ("Section", record.section),
        ("Included study", record.included_study),
    ]
    return "".join(
        f'<div style="font-weight:600">{escape(label)}</div><div style="{_FIELD_STYLE}">{escape(text)}</div>'
        for label, text in fields
        if text
    )


def review_passages(pipeline: Pipeline, record: EvidenceRecord) -> list[Passage]:
    """The review passages of the record's publication that best match its finding, best first.

    Retrieval is filtered by publication and by each document type that holds its review text,
    so the publication's other coded records never crowd the passages out.
    """
    query = record.evidence_summary or " ".join((record.context, record.mechanism, record.outcome))
    kinds = {p.kind for p in pipeline.store.passages if p.source_id == record.source_id and p.record is None}
    hits = [
        hit
        for kind in sorted(kinds)
        for hit in pipeline.retrieve(
            query, top_k=RELATED_PASSAGES, filters={"source_id": record.source_id, "kind": kind}
        )
        if hit.passage.record is None
    ]
    return [h.passage for h in sorted(hits, key=lambda h: -h.score)][:RELATED_PASSAGES]


def show_record(pipeline: Pipeline, passage: Passage, record: EvidenceRecord) -> None:
    """A selected record: its fields, its indexed passage, and the review passages about it."""
    st.subheader(label_text(f"{record.record_id} · {record.component}"))
    left, right = st.columns(2, gap="large")
    with left:
        st.html(record_fields(passage, record))
        with st.expander("Indexed passage of this record", key=f"ev_passage_{record.record_id}"):
            st.html(passage_block(passage.text))
    with right:
        st.markdown("**Review passages on this finding**")
        st.caption("Passages of the same publication retrieved for the record's summary.")
        with shown_errors():
            found = review_passages(pipeline, record)
            if not found:
                st.info("No review passages of this publication are indexed.")
            for hit in found:
                where = f"§ {hit.section}" if hit.section else hit.doc_id
                note = " · same section as the record" if record.section and hit.section == record.section else ""
                st.caption(label_text(where + note))
                st.html(passage_block(hit.text))


def keep_cell(chart_key: str, grid: EvidenceMap) -> None:
    """On a click in the map: the clicked cell becomes the records table's filter."""
    st.session_state.ev_cell = clicked_cell(grid, st.session_state[chart_key])


def clear_cell() -> None:
    """Show every record again; a fresh chart drops the highlighted cell too."""
    st.session_state.ev_cell = None
    st.session_state.ev_map_version += 1


def show_map(grid: EvidenceMap) -> None:
    """The evidence map and its column choice; a clicked cell is kept in ``ev_cell``."""
    st.header("Evidence map")
    st.segmented_control(
        "Columns",
        list(MAP_AXES),
        format_func=lambda axis: MAP_AXES[axis],
        required=True,
        key="ev_map_by",
        on_change=clear_cell,
    )
    st.caption(
        f"{grid.records} coded records from {grid.publications} publications. Each cell: coded records · "
        "publications; grey cells are gaps. A publication that does not say goes under 'unknown'. "
        "Click a cell to list its records below."
    )
    chart_key = f"ev_map_{grid.by}_{st.session_state.ev_map_version}"
    st.altair_chart(map_chart(grid), key=chart_key, on_select=partial(keep_cell, chart_key, grid), width="stretch")


def picked_cell(grid: EvidenceMap) -> tuple[str, str] | None:
    """The map cell the table is filtered to, if it is still a cell of the grid (else forgotten)."""
    picked = st.session_state.ev_cell
    if not picked:
        return None
    component, column = picked
    if component in grid.rows and column in grid.columns:
        return component, column
    st.session_state.ev_cell = None
    return None


def show_exports(shown: list[Passage]) -> None:
    """Download buttons for the records the table lists, with their publications."""
    row = st.container(horizontal=True)
    for label, data, name, mime, key in (
        ("CSV", evidence_csv(shown), "icrag-evidence.csv", "text/csv", "ev_download_csv"),
        ("Excel", evidence_xlsx(shown), "icrag-evidence.xlsx", _XLSX, "ev_download_xlsx"),
        ("Markdown", evidence_markdown(shown), "icrag-evidence.md", "text/markdown", "ev_download_md"),
    ):
        row.download_button(
            label, data, file_name=name, mime=mime, key=key, on_click="ignore", icon=":material/download:"
        )


def render() -> None:
    """The Evidence page."""
    settings = settings_from_env()
    pipeline = require_pipeline(settings)
    coded = [(p, p.record) for p in pipeline.store.passages if p.record is not None]

    st.title("Coded evidence")
    st.caption(
        f"{len(coded)} context–mechanism–outcome records coded from the reviews. "
        "See where the evidence lies on the map, filter or search the records, then select a row to read "
        "the passages behind it."
    )
    if not coded:
        st.info("The index holds no coded-evidence records; add a coded-evidence CSV or JSON on the Library page.")
        return
    init_state(ev_map_by="country", ev_cell=None, ev_map_version=0)
    by: MapAxis = st.session_state.ev_map_by
    grid = evidence_map(pipeline.store.passages, by)
    show_map(grid)
    cell = picked_cell(grid)

    st.header("Records")
    components = sorted({r.component for _, r in coded})
    sources = sorted({r.source_id for _, r in coded})
    first, second, third = st.columns([2, 2, 3])
    picked_components = first.multiselect("Components", components, key="ev_components", placeholder="All")
    picked_sources = second.multiselect("Publications", sources, key="ev_sources", placeholder="All")
    query = third.text_input("Search", key="ev_search", placeholder="words in any field, e.g. trust")
    candidates = {
        p.passage_id: (p, r)
        for p, r in coded
        if (not picked_components or r.component in picked_components)
        and (not picked_sources or r.source_id in picked_sources)
        and (cell is None or cell_of(p, by) == cell)
    }
    rows = coded_records([p for p, _ in candidates.values()], search=query)
    shown = [candidates[row.passage_id] for row in rows]
    if cell is not None:
        note, clear = st.columns([5, 1], vertical_alignment="center")
        note.info(label_text(f"Map cell: {cell[0]} × {cell[1]}"), icon=":material/filter_alt:")
        clear.button("Show all cells", key="ev_cell_clear", on_click=clear_cell, icon=":material/close:")
    position = selected_position([p.passage_id for p, _ in shown])

    table, by_component = st.tabs(["All records", "By component"], key="ev_tabs")
    with table:
        st.caption(f"{len(shown)} of {len(coded)} records")
        show_exports([p for p, _ in shown])
        st.dataframe(
            table_rows(table_row(row) for row in rows),
            key="ev_table",
            on_select="rerun",
            selection_mode="single-row",
            hide_index=True,
            column_config={
                "record": st.column_config.TextColumn("Record", width=70),
                "component": st.column_config.TextColumn("Component", width=190),
                "context": st.column_config.TextColumn("Context", width=260),
                "mechanism": st.column_config.TextColumn("Mechanism", width=260),
                "outcome": st.column_config.TextColumn("Outcome", width=260),
                "source": st.column_config.TextColumn("Source", width=140),
            },
        )
    with by_component:
        for component in sorted({row.component for row in rows}, key=lambda c: (c == "general", c)):
            listed = [table_row(row) for row in rows if row.component == component]
            with st.expander(label_text(f"{component} ({len(listed)})"), key=f"ev_component_{component}"):
                st.dataframe(
                    table_rows(listed),
                    key=f"ev_component_table_{component}",
                    hide_index=True,
                    column_order=["record", "context", "mechanism", "outcome", "source"],
                )
    st.divider()
    if position is not None:
        show_record(pipeline, *shown[position])
    else:
        st.caption("Select a row in the table to see the record's passage and the review passages about it.")


render()

"""The evidence map as an interactive Altair heatmap, and the cell a click on it selects.

Kept apart from the Evidence page so the chart and the reading of its selection are plain
functions of the grid that :func:`rag.evidence_map.evidence_map` computes.
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd

from rag.evidence_map import EvidenceMap, MapAxis
from rag.exports import spreadsheet_safe

#: The map's column choices, as the page names them.
MAP_AXES: dict[MapAxis, str] = {"country": "Country", "design": "Study design", "year": "Year"}
#: Name of the chart's selection parameter, under which Streamlit reports a click.
SELECTION = "cell"
#: Height of one row of the map, in pixels.
_ROW_PX = 34
_GAP_COLOUR = "#eef0f3"


def map_frame(grid: EvidenceMap) -> pd.DataFrame:
    """The map's cells as the chart's data: one row per cell, empty ones included, with its label.

    Names are :func:`spreadsheet_safe`: the chart's toolbar shows its data as a table with a CSV
    download, and a country or component from an uploaded file may start like a formula.
    """
    return pd.DataFrame(
        [
            {
                "component": _safe(cell.component),
                "column": _safe(cell.column),
                "records": cell.records,
                "publications": cell.publications,
                "label": f"{cell.records} · {cell.publications}" if cell.records else "",
            }
            for cell in grid.cells
        ],
        columns=["component", "column", "records", "publications", "label"],
    )


def map_chart(grid: EvidenceMap) -> alt.LayerChart:
    """A heatmap of the grid: shading follows the record count, gaps are grey, a click selects a cell."""
    picked = alt.selection_point(name=SELECTION, fields=["component", "column"], on="click")
    base = alt.Chart(map_frame(grid)).encode(
        x=alt.X(
            "column:N",
            sort=[_safe(column) for column in grid.columns],
            title=MAP_AXES[grid.by],
            axis=alt.Axis(orient="top", labelAngle=-40, labelLimit=200, labelOverlap=False),
        ),
        y=alt.Y(
            "component:N",
            sort=[_safe(row) for row in grid.rows],
            title=None,
            axis=alt.Axis(labelLimit=320, labelOverlap=False),
        ),
        tooltip=[
            alt.Tooltip("component:N", title="Component"),
            alt.Tooltip("column:N", title=MAP_AXES[grid.by]),
            alt.Tooltip("records:Q", title="Coded records"),
            alt.Tooltip("publications:Q", title="Publications"),
        ],
    )
    height = _ROW_PX * len(grid.rows)
    busiest = max((cell.records for cell in grid.cells), default=0)
    cells = base.mark_rect(stroke="white", strokeWidth=2, cursor="pointer").encode(
        color=alt.when(alt.datum.records == 0)
        .then(alt.value(_GAP_COLOUR))
        .otherwise(
            alt.Color(
                "records:Q",
                title="Coded records",
                scale=alt.Scale(scheme="blues", domainMin=0, type="sqrt"),
                legend=alt.Legend(gradientLength=height - 30),
            )
        ),
        opacity=alt.when(picked).then(alt.value(1.0)).otherwise(alt.value(0.35)),
    )
    labels = base.mark_text(fontSize=12, cursor="pointer").encode(
        text="label:N",
        color=alt.when(alt.datum.records > busiest / 3).then(alt.value("white")).otherwise(alt.value("#1a1a1a")),
    )
    # fit-x: the map fills the page's width, and each row keeps its height below the column labels.
    return (cells.add_params(picked) + labels).properties(
        height=height, autosize=alt.AutoSizeParams(type="fit-x", contains="padding")
    )


def clicked_cell(grid: EvidenceMap, state: Mapping[str, object]) -> tuple[str, str] | None:
    """The (component, column) of the grid that a chart selection state names, or None when a click cleared it."""
    selection = state.get("selection")
    points = selection.get(SELECTION) if isinstance(selection, Mapping) else None
    if not isinstance(points, list) or not points:
        return None
    shown = {(_safe(c.component), _safe(c.column)): (c.component, c.column) for c in grid.cells}
    return shown.get((points[0].get("component"), points[0].get("column")))


def _safe(name: str) -> str:
    return str(spreadsheet_safe(name))

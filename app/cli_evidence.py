"""``icrag evidence map`` and ``records``: the app's Evidence page in the terminal, or as JSON or CSV."""

from __future__ import annotations

import json
import textwrap
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli_common import FilterOption, IndexOption, JsonOption, make_settings, parse_filters, user_errors
from index.errors import InputError
from rag.evidence_map import EvidenceMap, evidence_map
from rag.exports import map_csv

if TYPE_CHECKING:
    from rag.records import RecordRow

evidence_app = typer.Typer(help="Look at the coded evidence as a whole.", no_args_is_help=True)


class MapBy(StrEnum):
    """What the map's columns are."""

    country = "country"
    design = "design"
    year = "year"


@evidence_app.command("map")
@user_errors
def evidence_map_command(
    by: Annotated[MapBy, typer.Option("--by", help="Columns: country, study design or publication year.")] = (
        MapBy.country
    ),
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV, one row per cell.")] = False,
    index: IndexOption = None,
) -> None:
    """Count the coded records and publications per leadership component and country, design or year."""
    from index.store import IndexStore

    if as_json and as_csv:
        raise InputError("--csv", "cannot be combined with --json; choose one format")
    settings = make_settings(index)
    grid = evidence_map(IndexStore.load(settings.index_dir, settings).passages, by.value)
    if as_json:
        typer.echo(grid.model_dump_json(indent=2))
    elif as_csv:
        typer.echo(map_csv(grid), nl=False)
    else:
        typer.echo(render_map(grid))


def render_map(grid: EvidenceMap) -> str:
    """The grid as a terminal table: 'records/publications' per cell, '·' for a gap."""
    cells = {(c.component, c.column): f"{c.records}/{c.publications}" if c.records else "·" for c in grid.cells}
    first = max(len(row) for row in grid.rows)
    widths = [max(len(column), 3) for column in grid.columns]
    lines = [
        f"{grid.records} coded records from {grid.publications} publications, by {grid.by} (records/publications)",
        "",
        " ".join([" " * first, *(column.rjust(w) for column, w in zip(grid.columns, widths, strict=True))]),
    ]
    for row in grid.rows:
        values = (cells[row, column].rjust(w) for column, w in zip(grid.columns, widths, strict=True))
        lines.append(" ".join([row.ljust(first), *values]))
    return "\n".join(lines)


@evidence_app.command("records")
@user_errors
def evidence_records_command(
    filters: FilterOption = None,
    search: Annotated[
        str, typer.Option("--search", help="Words every listed record contains, in any field or its publication.")
    ] = "",
    as_json: JsonOption = False,
    index: IndexOption = None,
) -> None:
    """List the coded context-mechanism-outcome records, filtered like ``icrag ask`` and searched by words."""
    from index.store import IndexStore
    from rag.records import coded_records

    wanted = parse_filters(filters)
    settings = make_settings(index)
    rows = coded_records(IndexStore.load(settings.index_dir, settings).passages, wanted, search)
    if as_json:
        typer.echo(json.dumps([row.model_dump(mode="json") for row in rows], indent=2))
    else:
        typer.echo(render_records(rows))


def render_records(rows: list[RecordRow], width: int = 100) -> str:
    """The records as a terminal table: id, component and publication aligned, then C, M and O wrapped below."""
    if not rows:
        return "No coded records match."
    id_width = max(len(row.record_id) for row in rows)
    component_width = max(len(row.component) for row in rows)
    lines = [f"{len(rows)} coded record{'s' if len(rows) != 1 else ''}", ""]
    for row in rows:
        lines.append(f"{row.record_id:<{id_width}}  {row.component:<{component_width}}  {row.source} [{row.source_id}]")
        for label, text in (("C", row.context), ("M", row.mechanism), ("O", row.outcome)):
            if text:
                indent = " " * (id_width + 2)
                lines.append(textwrap.fill(" ".join(text.split()), width, initial_indent=f"{indent}{label}: ",
                                           subsequent_indent=indent + "   "))  # fmt: skip
    return "\n".join(lines)

"""``icrag evidence map``: the evidence map of the app's Evidence page, in the terminal or as JSON or CSV."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from app.cli_common import IndexOption, JsonOption, make_settings, user_errors
from index.errors import InputError
from rag.evidence_map import EvidenceMap, evidence_map
from rag.exports import map_csv

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

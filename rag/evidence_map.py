"""The evidence map: coded records counted by leadership component against country, study design or year.

An evidence gap map in the manner of the Campbell Collaboration and 3ie: a reader sees at a
glance where the coded evidence is thick and where it is missing. The command line
(``icrag evidence map``) and the app's Evidence page both draw the grid this module computes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Literal

from pydantic import Field

from index.models import Passage, Record, SourceInfo

#: What the columns of the map are.
MapAxis = Literal["country", "design", "year"]
#: The rows: the seven leadership components of Sims et al. (2021), then records on leadership in general.
COMPONENTS = (
    "inspiring intent to work together",
    "creating the conditions",
    "balancing multiple perspectives",
    "working with power",
    "taking a wider view",
    "a commitment to learning and development",
    "clarifying complexity",
    "general",
)
_CANONICAL = {component.lower(): component for component in COMPONENTS}
#: The column of a publication that does not say where, how or when it was made.
UNKNOWN = "unknown"
#: Columns that group several places, shown after the single countries.
_LAST = {"international": 1, UNKNOWN: 2}


class MapCell(Record):
    """One cell of the map: the coded records of a component in one column, and their publications."""

    component: str = Field(description="Row: leadership component, or 'general'.")
    column: str = Field(description="Column: a country, study design or year, or 'unknown'.")
    records: int = Field(ge=0, description="Coded records in the cell.")
    publications: int = Field(ge=0, description="Distinct publications those records were coded from.")
    record_ids: list[str] = Field(default_factory=list, description="The records, in index order.")
    source_ids: list[str] = Field(default_factory=list, description="Their publications, sorted.")


class EvidenceMap(Record):
    """The whole grid, empty cells included, row by row in the order of ``rows`` and ``columns``."""

    by: MapAxis = Field(description="What the columns are.")
    rows: list[str] = Field(description="Components: the seven of Sims et al., 'general', then any other coded.")
    columns: list[str] = Field(description="Column values; 'international' and 'unknown' come last.")
    cells: list[MapCell] = Field(description="len(rows) x len(columns) cells, row-major.")
    records: int = Field(ge=0, description="Coded records mapped.")
    publications: int = Field(ge=0, description="Distinct publications they were coded from.")


def column_of(source: SourceInfo, by: MapAxis) -> str:
    """The column a publication falls in; one that leaves the field blank (or 'n.d.') is 'unknown', not dropped."""
    value = {"country": source.country, "design": source.design, "year": source.year}[by].strip()
    return value if value and value.lower() != "n.d." else UNKNOWN


def cell_of(passage: Passage, by: MapAxis) -> tuple[str, str] | None:
    """The (row, column) a coded-evidence passage is counted in; None for a passage that is not a record.

    A component written in other case or spacing ('Working with power') joins its row of the eight.
    """
    if passage.record is None:
        return None
    component = " ".join(passage.record.component.split()) or "general"
    return _CANONICAL.get(component.lower(), component), column_of(passage.source, by)


def _column_order(value: str) -> tuple[int, str]:
    return _LAST.get(value, 0), value.lower()


def evidence_map(passages: Iterable[Passage], by: MapAxis = "country") -> EvidenceMap:
    """Count the coded records among ``passages`` per component and column.

    Every component of Sims et al. and every column that holds a record is listed, so an empty
    cell is a visible gap; a component outside the eight gets a row of its own rather than vanishing.
    """
    found: dict[tuple[str, str], list[Passage]] = defaultdict(list)
    for passage in passages:
        cell = cell_of(passage, by)
        if cell is not None:
            found[cell].append(passage)
    others = sorted({component for component, _ in found} - set(COMPONENTS))
    rows = [*COMPONENTS, *others]
    columns = sorted({column for _, column in found}, key=_column_order)
    cells = []
    for component in rows:
        for column in columns:
            held = found.get((component, column), [])
            sources = sorted({p.source_id for p in held})
            cells.append(
                MapCell(
                    component=component,
                    column=column,
                    records=len(held),
                    publications=len(sources),
                    record_ids=[p.record.record_id for p in held if p.record is not None],
                    source_ids=sources,
                )
            )
    mapped = [p for held in found.values() for p in held]
    return EvidenceMap(
        by=by,
        rows=rows,
        columns=columns,
        cells=cells,
        records=len(mapped),
        publications=len({p.source_id for p in mapped}),
    )

"""``sources.csv``: bibliographic metadata for the publications the evidence files come from."""

from __future__ import annotations

from pathlib import Path

from index.models import SourceInfo
from index.readers.tables import read_csv_table

SOURCES_FILE = "sources.csv"
SOURCE_COLUMNS = ("source_id", "authors", "year", "title", "venue", "doi", "url", "licence", "design", "country")


def read_sources(path: Path) -> dict[str, SourceInfo]:
    """Bibliographic metadata by source_id from a ``sources.csv`` file (empty if absent)."""
    return parse_sources(path, path.read_bytes()) if path.exists() else {}


def parse_sources(path: Path, data: bytes) -> dict[str, SourceInfo]:
    """Bibliographic metadata by source_id from the bytes of a ``sources.csv`` (``path`` names it in errors)."""
    _, rows = read_csv_table(path, data, required=("source_id",))
    sources = {}
    for row in rows:
        fields = {name: (row.get(name) or "").strip() for name in SOURCE_COLUMNS}
        if fields["source_id"]:
            sources[fields["source_id"]] = SourceInfo(**fields)
    return sources

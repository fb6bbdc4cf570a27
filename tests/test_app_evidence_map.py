"""The Evidence page's map on the bundled coded evidence, its cell filter, exports, and ``icrag evidence map``.

The index holds the bundled ``sources.csv`` and, to keep embedding to seconds, the rows of the
bundled ``coded_evidence.csv`` on the component under test plus the last row of every other
component; the expected counts are read from the two CSV files in full, independently of icrag.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pyarrow as pa
import pytest
from fixtures_app import ANSWERABLE, ask, open_page, upload
from helpers import DATA_DIR
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from app.cli import app
from index.builder import IndexBuilder
from index.embedding import Embedder
from index.settings import Settings
from rag import exports
from rag.evidence_map import COMPONENTS, EvidenceMap

pytest_plugins = ["fixtures_app"]  # the tiny corpus, for the tests that change the data
pytestmark = pytest.mark.slow  # AppTest reruns the whole app per interaction: seconds a test

CELL = ("creating the conditions", "England")


def bundled_rows(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def expected_cell(component: str, country: str) -> tuple[int, int, list[str]]:
    """Records, publications and record ids of a cell, from the bundled CSV files alone."""
    countries = {row["source_id"]: row["country"] for row in bundled_rows("sources.csv")}
    rows = [
        r
        for r in bundled_rows("coded_evidence.csv")
        if r["component"] == component and countries[r["source_id"]] == country
    ]
    return len(rows), len({r["source_id"] for r in rows}), [r["record_id"] for r in rows]


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path, embedder: Embedder) -> Path:
    """An index of the bundled sources.csv and the coded records that decide CELL's row, built once."""
    root = tmp_path_factory.mktemp("bundled-map")
    data = root / "data"
    data.mkdir()
    shutil.copy(DATA_DIR / "sources.csv", data / "sources.csv")
    rows = bundled_rows("coded_evidence.csv")
    lasts = {r["component"]: r for r in rows}  # the last record of each component, from several countries
    kept = [r for r in rows if r["component"] == CELL[0] or r is lasts[r["component"]]]
    with open(data / "coded_evidence.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(kept)
    settings = Settings(index_dir=root / "index", data_dir=data, cache_dir=cache_dir, show_progress=False)
    IndexBuilder(settings, embedder=embedder).build()
    return root


@pytest.fixture
def bundled_app(
    bundled: Path, tmp_path: Path, cache_dir: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """This test's copy of the bundled-map index, named to the app; its index folder."""
    root = tmp_path / "bundled"
    shutil.copytree(bundled, root)
    monkeypatch.setenv("ICRAG_INDEX_DIR", str(root / "index"))
    monkeypatch.setenv("ICRAG_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("ICRAG_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("ICRAG_SHOW_PROGRESS", "false")
    monkeypatch.setattr("app.ui_common.Embedder", lambda _settings: embedder)
    return root / "index"


def chart_spec(at: AppTest) -> dict[str, object]:
    (chart,) = at.get("vega_lite_chart")
    spec: dict[str, object] = json.loads(chart.proto.spec)
    return spec


def chart_cells(at: AppTest) -> list[dict[str, Any]]:
    """The map's data as the page hands it to the chart: one row per cell."""
    (chart,) = at.get("vega_lite_chart")
    table = pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_all()
    return table.select(["component", "column", "records", "publications"]).to_pylist()


def recorded(monkeypatch: pytest.MonkeyPatch, name: str) -> list[bytes]:
    """What the page's calls of an export function return, in order: the files its download buttons serve."""
    made: list[bytes] = []
    original: Callable[..., bytes] = getattr(exports, name)

    def record(*args: object) -> bytes:
        made.append(original(*args))
        return made[-1]

    monkeypatch.setattr(exports, name, record)
    return made


def listed(at: AppTest) -> list[str]:
    return list(at.dataframe(key="ev_table").value.get("record", []))


def test_map_has_eight_rows_and_the_bundled_counts(bundled_app: Path) -> None:
    at = open_page("evidence")
    layers = chart_spec(at)["layer"]
    assert isinstance(layers, list)
    assert layers[0]["encoding"]["y"]["sort"] == list(COMPONENTS)
    cells = chart_cells(at)
    assert {c["component"] for c in cells} == set(COMPONENTS) and len(COMPONENTS) == 8
    records, publications, _ = expected_cell(*CELL)
    shown = [c for c in cells if (c["component"], c["column"]) == CELL]
    assert shown == [{"component": CELL[0], "column": CELL[1], "records": records, "publications": publications}]
    assert any(c["records"] == 0 for c in cells)  # the gaps are drawn, not left out


def test_a_picked_cell_filters_the_table_and_the_excel_export_holds_those_rows(
    bundled_app: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A click on the cell stores it in ``ev_cell`` (the chart's on_select callback); the test stores it directly."""
    workbooks = recorded(monkeypatch, "evidence_xlsx")
    at = open_page("evidence")
    everything = listed(at)
    at.session_state["ev_cell"] = list(CELL)
    at.run()
    assert not at.exception, at.exception
    _, _, record_ids = expected_cell(*CELL)
    assert listed(at) == record_ids
    assert "creating the conditions × England" in at.info[0].value

    sheet = openpyxl.load_workbook(io.BytesIO(workbooks[-1]))["Records"]
    rows = list(sheet.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == listed(at)

    at.button(key="ev_cell_clear").click().run()
    assert listed(at) == everything and at.session_state["ev_cell"] is None


def test_cli_map_json_equals_the_pages_grid(bundled_app: Path) -> None:
    at = open_page("evidence")
    for by in ("country", "design", "year"):
        at.button_group(key="ev_map_by").set_value(by).run()
        assert not at.exception, at.exception
        result = CliRunner().invoke(app, ["evidence", "map", "--by", by, "--json", "--index", str(bundled_app)])
        assert result.exit_code == 0, result.output
        grid = EvidenceMap.model_validate_json(result.stdout)
        printed = [c.model_dump(include={"component", "column", "records", "publications"}) for c in grid.cells]
        assert printed == chart_cells(at)
        layers = chart_spec(at)["layer"]
        assert isinstance(layers, list)
        assert layers[0]["encoding"]["x"]["sort"] == grid.columns and layers[0]["encoding"]["y"]["sort"] == grid.rows


def test_the_map_follows_an_uploaded_sources_csv(settings: Settings) -> None:
    """The tiny corpus's publication says nothing of where it was set, until a sources.csv says Wales."""
    at = open_page("evidence")
    assert {c["column"] for c in chart_cells(at)} == {"unknown"}
    at.switch_page("views/library.py").run()
    upload(at, "sources.csv", b"source_id,country,design\nsmith2021,Wales,realist review\n")
    at.switch_page("views/evidence.py").run()
    assert not at.exception, at.exception
    assert {c["column"] for c in chart_cells(at)} == {"Wales"}
    assert sum(int(c["records"]) for c in chart_cells(at)) == 3


def test_ask_downloads_the_answer_as_word_with_every_quote_and_reference(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = recorded(monkeypatch, "answer_docx")
    at = ask(open_page(), ANSWERABLE)
    answer = at.session_state["ask_answer"]
    assert "ask_download_docx" in {b.key for b in at.get("download_button")}
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(documents[-1])).paragraphs)
    assert answer.citations
    for citation in answer.citations:
        assert " ".join(citation.quote.split()) in text
        assert f"[{citation.n}] {citation.authors} ({citation.year})" in text

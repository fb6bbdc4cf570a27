"""The coded records listing: retrieval's filters, search words, and ``icrag evidence records``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner, Result

from app.cli import app
from index.errors import InputError
from rag.records import RecordRow, coded_records
from rag.retrieval import filter_mask

if TYPE_CHECKING:
    from fixtures_rag import RagIndex

pytest_plugins = ["fixtures_rag"]  # the twelve-passage index of the retrieval and ask tests: R1, R2, R3

Invoke = Callable[..., Result]


@pytest.fixture
def icrag(rag_index: RagIndex, cache_dir: Path) -> Invoke:
    """Run ``icrag`` in-process on the test index."""
    environment = {"ICRAG_CACHE_DIR": str(cache_dir)}

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, [*args, "--index", str(rag_index.index_dir)], env=environment)

    return run


def ids(rows: list[RecordRow]) -> list[str]:
    return [row.record_id for row in rows]


def test_every_coded_record_in_index_order_with_its_publication(rag_index: RagIndex) -> None:
    rows = coded_records(rag_index.store.passages)
    assert ids(rows) == ["R1", "R2", "R3"]
    passage = next(p for p in rag_index.store.passages if p.record and p.record.record_id == "R2")
    assert rows[1] == RecordRow(
        record_id="R2",
        component="clarifying complexity",
        context="Boards facing overlapping national targets",
        mechanism="Clinical leaders map which target each service answers to",
        outcome="Fewer duplicated reports to regulators",
        source_id="waring2023",
        source="Waring & Bishop (2023)",
        passage_id=passage.passage_id,
        evidence_summary="Mapping targets cut duplicated reporting.",
        section="Findings",
    )
    assert rows[0].source == rows[2].source == "Sims et al. (2021)"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"component": "Working With Power"}, ["R1"]),  # case-insensitive, like retrieval
        ({"source_id": "sims2021"}, ["R1", "R3"]),
        ({"year": "2023"}, ["R2"]),
        ({"section": "findings", "source_id": "SIMS2021"}, ["R1"]),  # every filter must match
        ({"kind": "markdown"}, []),  # the review's passages carry no records
        ({"source_id": "sims2019"}, []),  # a publication without coded records
    ],
)
def test_filters_select_records_as_retrieval_selects_passages(
    rag_index: RagIndex, filters: dict[str, str], expected: list[str]
) -> None:
    passages = rag_index.store.passages
    rows = coded_records(passages, filters)
    assert ids(rows) == expected
    mask = filter_mask(passages, filters)
    assert mask is not None
    allowed = {p.passage_id for p, keep in zip(passages, mask, strict=True) if keep and p.record}
    assert {row.passage_id for row in rows} == allowed


def test_an_unknown_filter_key_is_retrievals_input_error(rag_index: RagIndex) -> None:
    with pytest.raises(InputError, match=r"^--filter colour: unknown filter key"):
        coded_records(rag_index.store.passages, {"colour": "red"})
    with pytest.raises(InputError, match="unknown filter key"):
        coded_records([], {"colour": "red"})  # even with nothing to list


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("", ["R1", "R2", "R3"]),
        ("DUPLICATED", ["R2"]),  # outcome and summary, any case
        ("not covered", ["R3"]),  # the summary, word by word
        ("smaller funding", ["R1"]),  # every word must occur ...
        ("smaller waring", []),  # ... in the same record
        ("et al.", ["R1", "R3"]),  # the short citation
        ("bishop", ["R2"]),  # an author not in the short citation
        ("success look like", ["R1", "R3"]),  # the publication's title
        ("findings", ["R1", "R2"]),  # the section
        ("waring2023", ["R2"]),  # the source id
    ],
)
def test_search_words_find_what_a_reader_sees(rag_index: RagIndex, search: str, expected: list[str]) -> None:
    assert ids(coded_records(rag_index.store.passages, search=search)) == expected


def test_search_does_not_look_in_the_passage_id(rag_index: RagIndex) -> None:
    passage_id = coded_records(rag_index.store.passages)[0].passage_id
    assert coded_records(rag_index.store.passages, search=passage_id) == []


def test_filters_and_search_combine(rag_index: RagIndex) -> None:
    passages = rag_index.store.passages
    assert ids(coded_records(passages, {"source_id": "sims2021"}, "evidence")) == ["R3"]
    assert ids(coded_records(passages, {"source_id": "waring2023"}, "smaller")) == []


# --- icrag evidence records ---------------------------------------------------------------


def test_records_json_is_the_listing(icrag: Invoke, rag_index: RagIndex) -> None:
    result = icrag("evidence", "records", "--json", "--filter", "source_id=sims2021")
    assert result.exit_code == 0, result.output
    rows = [RecordRow.model_validate(item) for item in json.loads(result.stdout)]
    assert ids(rows) == ["R1", "R3"]
    assert rows == coded_records(rag_index.store.passages, {"source_id": "sims2021"})
    assert result.stderr == ""


def test_records_readable_table_with_search(icrag: Invoke) -> None:
    result = icrag("evidence", "records", "--search", "duplicated reports")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "1 coded record",
        "",
        "R2  clarifying complexity  Waring & Bishop (2023) [waring2023]",
        "    C: Boards facing overlapping national targets",
        "    M: Clinical leaders map which target each service answers to",
        "    O: Fewer duplicated reports to regulators",
    ]


def test_records_say_so_when_none_match(icrag: Invoke) -> None:
    result = icrag("evidence", "records", "--filter", "component=leading on lunch")
    assert result.exit_code == 0, result.output
    assert result.stdout == "No coded records match.\n"


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("--filter", "colour=red"), ("--filter colour", "unknown filter key")),
        (("--filter", "component"), ("--filter component", "expected KEY=VALUE")),
        (("--filter", "year=2021", "--filter", "year=2023"), ("--filter year", "given more than once")),
    ],
)
def test_records_bad_filter_is_one_line(icrag: Invoke, args: tuple[str, ...], fragments: tuple[str, ...]) -> None:
    result = icrag("evidence", "records", *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("icrag: error: ")
    assert all(fragment in line for fragment in fragments)

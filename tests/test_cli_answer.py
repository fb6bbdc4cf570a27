"""``icrag ask`` and ``icrag search``: readable and JSON answers, filters, one-line errors."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner, Result

from app.cli import app
from index.embedding import Embedder
from rag.citation_export import export_references
from rag.models import Answer, RetrievedPassage

if TYPE_CHECKING:
    from fixtures_rag import RagIndex

pytest_plugins = ["fixtures_rag"]  # one twelve-passage index shared with the retrieval and extractive tests

Invoke = Callable[..., Result]

NIGHT_SHIFTS = "How does night shift work affect nurses' fatigue?"
POWER = "How does working with power help smaller partners speak up in joint decisions?"
ANSWER_KEYS = {
    "intent",
    "form",
    "sections",
    "gaps",
    "evidence",
    "considered",
    "question",
    "answer",
    "sentences",
    "citations",
    "abstained",
    "related",
    "timings_ms",
    "settings_hash",
    "answerer",
}
CITATION_KEYS = {
    "role",
    "n",
    "passage_id",
    "source_id",
    "title",
    "authors",
    "year",
    "doi",
    "section",
    "page",
    "quote",
    "start",
    "end",
    "score",
}


@pytest.fixture
def icrag(monkeypatch: pytest.MonkeyPatch, embedder: Embedder, rag_index: RagIndex, cache_dir: Path) -> Invoke:
    """Run ``icrag`` in-process on the test index; the session's model encodes the questions."""
    monkeypatch.setattr("app.cli_common.Embedder", lambda settings: embedder)
    environment = {"ICRAG_CACHE_DIR": str(cache_dir)}

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, [*args, "--index", str(rag_index.index_dir)], env=environment)

    return run


def assert_one_line_error(result: Result, *fragments: str) -> None:
    """Exit code 2, nothing on stdout, and one ``icrag: error:`` line naming each fragment."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("icrag: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.output


def test_ask_prints_the_answer_and_its_references(icrag: Invoke, rag_index: RagIndex) -> None:
    result = icrag("ask", NIGHT_SHIFTS)
    assert result.exit_code == 0, result.output
    expected = rag_index.pipeline.ask(NIGHT_SHIFTS)
    assert not expected.abstained and len(expected.citations) >= 2
    answer_part, _, references = result.stdout.partition("\nReferences:\n")
    assert " ".join(answer_part.split()) == " ".join(expected.answer.split())
    assert answer_part.split()[:3] == ["Nurses", "working", "night"]
    lines = references.splitlines()
    assert lines[0] == (
        "[1] Sims S; Brearley S (2019). Night shifts and fatigue in community nursing. §Results. "
        "https://doi.org/10.1000/jnm.2019.1"
    )
    heads = [line for line in lines if re.match(r"\[\d+\] ", line)]
    assert [head.split("]")[0] + "]" for head in heads] == [f"[{c.n}]" for c in expected.citations]
    quotes = " ".join(line.strip() for line in lines if not re.match(r"\[\d+\] ", line))
    for citation in expected.citations:
        assert f"“{citation.quote}”" in quotes
    assert result.stderr == ""


def test_ask_json_is_an_answer_with_the_fixed_keys(icrag: Invoke, rag_index: RagIndex) -> None:
    result = icrag("ask", NIGHT_SHIFTS, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == ANSWER_KEYS
    assert payload["citations"] and all(set(c) == CITATION_KEYS for c in payload["citations"])
    assert all(set(s) == {"text", "citations", "supported", "support_score"} for s in payload["sentences"])
    assert set(payload["timings_ms"]) == {"embed", "retrieve", "answer", "total"}
    answer = Answer.model_validate_json(result.stdout)
    assert answer.question == NIGHT_SHIFTS and answer.abstained is False
    assert answer.settings_hash == rag_index.settings.settings_hash() and len(answer.settings_hash) == 12
    expected = rag_index.pipeline.ask(NIGHT_SHIFTS)
    assert answer.model_dump(exclude={"timings_ms"}) == expected.model_dump(exclude={"timings_ms"})
    first = answer.citations[0]
    assert (first.n, first.source_id, first.year, first.doi, first.section, first.page) == (
        1,
        "sims2019",
        "2019",
        "10.1000/jnm.2019.1",
        "Results",
        None,
    )
    assert rag_index.store.documents["review"].text[first.start : first.end] == first.quote


def test_ask_filter_restricts_citations_to_the_component(icrag: Invoke, rag_index: RagIndex) -> None:
    record = next(p for p in rag_index.store.passages if p.record and p.record.component == "working with power")
    unfiltered = Answer.model_validate_json(icrag("ask", POWER, "--json").stdout)
    assert {c.passage_id for c in unfiltered.citations} - {record.passage_id}  # other passages answer it too
    result = icrag("ask", POWER, "--json", "--filter", "component=Working with power")
    assert result.exit_code == 0, result.output
    answer = Answer.model_validate_json(result.stdout)
    assert not answer.abstained and answer.citations
    assert {c.passage_id for c in answer.citations} == {record.passage_id}
    assert {c.source_id for c in answer.citations} == {"sims2021"}


def test_ask_with_a_malformed_filter_exits_2_with_one_line(icrag: Invoke) -> None:
    result = icrag("ask", NIGHT_SHIFTS, "--filter", "foo")
    assert_one_line_error(result, "--filter foo", "expected KEY=VALUE")


def test_ask_with_an_unknown_filter_key_exits_2_naming_it(icrag: Invoke) -> None:
    result = icrag("ask", NIGHT_SHIFTS, "--filter", "colour=red")
    assert_one_line_error(result, "--filter colour", "unknown filter key")


def test_ask_abstains_plainly_and_lists_related_evidence(icrag: Invoke) -> None:
    result = icrag("ask", "How much money did the programme cost?")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("The indexed evidence does not cover this question.")
    assert "Related evidence (not cited as support):" in result.stdout
    assert "References:" not in result.stdout


def test_ask_cite_prints_the_cited_publications_as_ris(icrag: Invoke, rag_index: RagIndex) -> None:
    result = icrag("ask", NIGHT_SHIFTS, "--cite", "ris")
    assert result.exit_code == 0, result.output
    expected = rag_index.pipeline.ask(NIGHT_SHIFTS)
    assert result.stdout == export_references(expected, rag_index.store.manifest.sources, "ris")
    assert result.stdout.startswith(
        "TY  - JOUR\nAU  - Sims, S.\nAU  - Brearley, S.\nTI  - Night shifts and fatigue in community nursing\n"
        "PY  - 2019\nJO  - Journal of Nursing Management\nDO  - 10.1000/jnm.2019.1\nER  - \n"
    )
    cited = list(dict.fromkeys(c.source_id for c in expected.citations))
    assert result.stdout.count("TY  - ") == len(cited) and "References:" not in result.stdout
    assert result.stderr == ""


def test_ask_cite_csl_is_json_of_each_cited_publication_once(icrag: Invoke, rag_index: RagIndex) -> None:
    result = icrag("ask", NIGHT_SHIFTS, "--cite", "csl")
    assert result.exit_code == 0, result.output
    expected = rag_index.pipeline.ask(NIGHT_SHIFTS)
    items = json.loads(result.stdout)
    assert [item["id"] for item in items] == list(dict.fromkeys(c.source_id for c in expected.citations))
    assert items[0]["author"] == [{"family": "Sims", "given": "S."}, {"family": "Brearley", "given": "S."}]


def test_ask_cite_of_an_abstention_prints_nothing(icrag: Invoke) -> None:
    result = icrag("ask", "How much money did the programme cost?", "--cite", "bibtex")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_ask_cite_with_json_exits_2_with_one_line(icrag: Invoke) -> None:
    result = icrag("ask", NIGHT_SHIFTS, "--cite", "bibtex", "--json")
    assert_one_line_error(result, "--cite", "--json")


def test_search_json_returns_ranked_passages(icrag: Invoke, rag_index: RagIndex) -> None:
    result = icrag("search", "night shift fatigue", "--json", "--top-k", "3")
    assert result.exit_code == 0, result.output
    hits = [RetrievedPassage.model_validate(item) for item in json.loads(result.stdout)]
    assert [hit.rank for hit in hits] == [1, 2, 3]
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    expected = rag_index.pipeline.retrieve("night shift fatigue", top_k=3)
    assert [hit.passage.passage_id for hit in hits] == [hit.passage.passage_id for hit in expected]
    assert [hit.score for hit in hits] == pytest.approx([hit.score for hit in expected], abs=1e-6)
    assert (hits[0].passage.source_id, hits[0].passage.section) == ("sims2019", "Results")


def test_search_json_applies_filters(icrag: Invoke) -> None:
    result = icrag("search", "leaders", "--json", "--filter", "year=2023", "--filter", "kind=markdown")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert sorted(hit["passage"]["section"] for hit in hits) == ["Abstract-Conclusions", "Dedication", "Findings"]
    assert {hit["passage"]["source_id"] for hit in hits} == {"waring2023"}


def test_eval_score_reads_answers_as_icrag_ask_json_writes_them(
    icrag: Invoke, monkeypatch: pytest.MonkeyPatch, embedder: Embedder, tmp_path: Path
) -> None:
    """``icrag ask --json "..." >> answers.json`` twice, then ``icrag eval score --answers answers.json``."""
    answers = tmp_path / "answers.json"
    for question in (NIGHT_SHIFTS, "How much money did the programme cost?"):
        result = icrag("ask", question, "--json")
        assert result.exit_code == 0, result.output
        with answers.open("a", encoding="utf-8") as file:
            file.write(result.stdout)
    monkeypatch.setattr("app.cli_common.Embedder", lambda settings: embedder)
    out = tmp_path / "score"
    result = CliRunner().invoke(app, ["eval", "score", "--answers", str(answers), "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    answered, declined = report["per_answer"]
    assert report["n_answers"] == 2 and "ignored" not in result.output
    assert (answered["abstained"], answered["citation_support"], answered["citation_precision"]) == (False, 1.0, 1.0)
    assert declined["abstained"] and declined["citation_support"] is None

"""``icrag eval run`` over a tiny real index: the report.json contract and its companions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BuilderFactory, SettingsFactory
from eval_fixtures import QUESTIONS, icrag, use_session_model, write_evidence, write_jsonl

from eval.runner import cited_answer
from index.embedding import Embedder
from index.store import IndexStore
from rag.models import Answer, AnswerSentence, Citation

RETRIEVAL_KEYS = {"recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"}
ANSWER_KEYS = {
    "key_fact_recall",
    "citation_support",
    "citation_precision",
    "abstention_recall",
    "false_abstention_rate",
}


@pytest.fixture
def index_dir(tmp_path: Path, make_settings: SettingsFactory, make_builder: BuilderFactory) -> Path:
    settings = make_settings(data_dir=write_evidence(tmp_path / "data"))
    make_builder(settings).build()
    return settings.index_dir


def test_eval_run_writes_the_report_contract(
    tmp_path: Path, index_dir: Path, monkeypatch: pytest.MonkeyPatch, embedder: Embedder
) -> None:
    use_session_model(monkeypatch, embedder)
    questions = write_jsonl(tmp_path / "questions.jsonl", QUESTIONS)
    out = tmp_path / "report"
    result = icrag("eval", "run", "--questions", str(questions), "--index", str(index_dir), "--out", str(out))
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert {"n_questions", "settings_hash", "retrieval", "answers", "latency_ms", "per_question"} <= set(report)
    assert set(report["retrieval"]) == RETRIEVAL_KEYS
    assert set(report["answers"]) == ANSWER_KEYS
    assert set(report["latency_ms"]) == {"p50", "p95"}
    assert report["n_questions"] == len(report["per_question"]) == 3
    assert len(report["settings_hash"]) == 12
    by_id = {q["id"]: q for q in report["per_question"]}
    # Both answerable questions have gold evidence in the index: a tagged paragraph and a coded row.
    assert by_id["t1"]["gold"] and by_id["t2"]["gold"]
    assert report["missing_gold"] == []
    assert by_id["t3"]["retrieval"]["recall@5"] is None and by_id["t3"]["key_fact_recall"] is None
    assert report["retrieval"]["recall@10"] == 1.0  # three passages in all: every gold one is in the top 10
    assert report["latency_ms"]["p50"] > 0
    for name in ("report.md", "metrics.png", "latency.png"):
        assert (out / name).stat().st_size > 0
    assert "| t2 |" in (out / "report.md").read_text()


def test_eval_run_limit_and_user_errors(
    tmp_path: Path, index_dir: Path, monkeypatch: pytest.MonkeyPatch, embedder: Embedder
) -> None:
    use_session_model(monkeypatch, embedder)
    questions = write_jsonl(tmp_path / "questions.jsonl", QUESTIONS)
    out = tmp_path / "report"
    args = ["eval", "run", "--questions", str(questions), "--index", str(index_dir), "--out", str(out)]
    assert icrag(*args, "--limit", "1").exit_code == 0
    assert json.loads((out / "report.json").read_text())["n_questions"] == 1

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(QUESTIONS[0]) + "\n" + json.dumps({**QUESTIONS[1], "persona": "pilot"}) + "\n")
    result = icrag("eval", "run", "--questions", str(bad), "--index", str(index_dir))
    assert result.exit_code == 2 and "bad.jsonl:2: persona" in result.output
    result = icrag("eval", "run", "--questions", str(questions), "--index", str(tmp_path / "no-index"))
    assert result.exit_code == 2 and "no index" in result.output


def test_cited_answer_uses_the_whole_cited_passage(index_dir: Path, make_settings: SettingsFactory) -> None:
    store = IndexStore.load(index_dir, make_settings(index_dir=index_dir))
    passage = store.passages[0]
    citation = Citation(
        n=1,
        passage_id=passage.passage_id,
        source_id=passage.source_id,
        quote=passage.text[:20],
        start=passage.start,
        end=passage.start + 20,
        score=1.0,
    )
    answer = Answer(
        question="q",
        answer="Claim. [1] Other claim. [2]",
        sentences=[AnswerSentence(text="Claim.", citations=[1]), AnswerSentence(text="Other claim.", citations=[2])],
        citations=[citation],
    )
    cited = cited_answer(answer, store)
    assert cited is not None
    assert [s.evidence for s in cited.sentences] == [[passage.text], [""]]
    assert cited_answer(answer.model_copy(update={"abstained": True}), store) is None

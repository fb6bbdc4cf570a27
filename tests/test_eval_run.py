"""``icrag eval run`` over a tiny real index: the report.json contract and its companions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BuilderFactory, SettingsFactory
from eval_fixtures import QUESTIONS, icrag, use_session_model, write_evidence, write_jsonl

from eval.judge import make_judge
from eval.questions import Question
from eval.runner import answer_citations, considered_pool, run_questions
from index.embedding import Embedder
from index.store import IndexStore
from rag.models import Answer, AnswerSection, AnswerSentence, Citation, Considered, QueryIntent, Side
from rag.pipeline import Pipeline

RETRIEVAL_KEYS = {"recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"}
ANSWER_KEYS = {
    "key_fact_recall",
    "citation_support",
    "citation_precision",
    "abstention_recall",
    "false_abstention_rate",
    "source_coverage",
    "pool_source_coverage",
    "pool_fact_coverage",
    "comparison_sides",
    "noise",
}


@pytest.fixture
def index_dir(tmp_path: Path, make_settings: SettingsFactory, make_builder: BuilderFactory) -> Path:
    settings = make_settings(data_dir=write_evidence(tmp_path / "data"))
    make_builder(settings).build()
    return settings.index_dir


@pytest.mark.slow  # whole evaluation runs
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
    assert set(report["latency_ms"]) == {"p50", "p95", "p99"}
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
    markdown = (out / "report.md").read_text()
    assert "| t2 |" in markdown and "## Per question type" in markdown
    assert "Declined: " in markdown and "of 1 unanswerable" in markdown and "of 2 answerable" in markdown
    assert list(report["by_type"]) == ["methods", "component", "unanswerable"]
    assert report["by_type"]["unanswerable"]["n"] == 1
    assert report["declined"]["answerable"] == 2 and report["declined"]["unanswerable"] == 1
    # The tiny set names no publications: nothing to cover.
    assert all(q["source_coverage"] is None and q["pool_source_coverage"] is None for q in report["per_question"])


@pytest.mark.slow  # whole evaluation runs
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


def test_answer_citations_use_the_whole_cited_passage(index_dir: Path, make_settings: SettingsFactory) -> None:
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
    cited = answer_citations(answer, store)
    assert cited is not None
    assert [s.evidence for s in cited.sentences] == [[passage.text], [""]]
    assert answer_citations(answer.model_copy(update={"abstained": True}), store) is None


def test_considered_pool_holds_the_sentences_of_the_considered_passages(
    index_dir: Path, make_settings: SettingsFactory
) -> None:
    store = IndexStore.load(index_dir, make_settings(index_dir=index_dir))
    passage = next(p for p in store.passages if "64 managers" in p.text)
    considered = [Considered(passage_id=passage.passage_id, source_id=passage.source_id)]
    pool = considered_pool(Answer(question="q", answer="", considered=considered), store)
    assert pool.sources == [passage.source_id]
    assert any("64 managers" in s for s in pool.sentences) and all(s in passage.text for s in pool.sentences)
    assert considered_pool(Answer(question="q", answer=""), store).sentences == []


@pytest.mark.slow  # whole evaluation runs
def test_run_questions_measures_shaped_answers(
    index_dir: Path, make_settings: SettingsFactory, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answers shaped as a comparison, with roles and a pool, are measured overall and per type."""
    settings = make_settings(index_dir=index_dir)
    pipeline = Pipeline.load(settings, embedder)
    store = pipeline.store
    smith = next(p for p in store.passages if "64 managers" in p.text)
    record = next(p for p in store.passages if p.record is not None)

    pool = [Considered(passage_id=p.passage_id, source_id=p.source_id) for p in (smith, record)]
    declined = Answer(question="q", answer="Not covered.", abstained=True, considered=pool)

    def shaped() -> Answer:
        citations = [
            Citation(n=1, passage_id=smith.passage_id, source_id="smith2020", role="method", quote="q", start=0,
                     end=1, score=1.0),
            Citation(n=2, passage_id=record.passage_id, source_id="jones2021", role="finding", quote="q", start=0,
                     end=1, score=1.0),
        ]  # fmt: skip
        sentences = [AnswerSentence(text="The team interviewed 64 managers.", citations=[1]),
                     AnswerSentence(text="Funding and status shape whose voice counts.", citations=[2])]  # fmt: skip
        return declined.model_copy(
            update={
                "answer": "The team interviewed 64 managers. [1] Funding and status shape whose voice counts. [2]",
                "abstained": False,
                "intent": QueryIntent(intent="comparison", sides=[Side(label="Smith"), Side(label="Jones")]),
                "form": "comparison",
                "citations": citations,
                "sentences": sentences,
                "sections": [
                    AnswerSection(heading="Smith", sentences=sentences[:1]),
                    AnswerSection(heading="Jones", sentences=sentences[1:]),
                ],
                "considered": pool,
            }
        )

    answers = iter([shaped(), shaped(), declined])  # in question order: the unanswerable one is declined
    monkeypatch.setattr(pipeline, "ask", lambda *args, **kwargs: next(answers))
    rows = [
        # Worded without naming methods ("interview"), so the methods sentence is not asked for.
        {
            **QUESTIONS[0],
            "question": "How do Smith and Jones compare on leading joint boards?",
            "type": "comparison",
            "sources": ["smith2020", "jones2021", "lee2019"],
        },
        {**QUESTIONS[1], "sources": ["smith2020"]},
        QUESTIONS[2],
    ]
    questions = [Question.model_validate(row) for row in rows]
    report = run_questions(questions, pipeline, make_judge(settings, embedder))
    t1, t2, t3 = report.per_question
    assert (t1.intent, t1.form) == ("comparison", "comparison")
    assert t1.source_coverage == pytest.approx(2 / 3) and t2.source_coverage == 1.0
    assert t1.pool_source_coverage == pytest.approx(1 / 3)  # the pool's passages are all smith2020's
    assert t1.pool_fact_coverage == 1.0 and t1.facts_out_of_pool == []
    assert t1.comparison_sides == 1.0 and t2.comparison_sides is None
    assert t1.noise == 0.5  # a comparison asks for findings; the methods sentence is noise
    assert t2.noise == 0.5  # so does a component question (what works)
    assert t3.noise is None and t3.pool_fact_coverage is None
    assert report.answers.comparison_sides == 1.0 and report.answers.noise == 0.5
    assert report.by_type["comparison"].source_coverage == pytest.approx(2 / 3)
    assert report.by_type["component"].source_coverage == 1.0
    assert report.by_type["unanswerable"].declined == 1.0 and report.by_type["comparison"].declined == 0.0
    assert report.declined is not None and report.declined.unanswerable_declined == 1

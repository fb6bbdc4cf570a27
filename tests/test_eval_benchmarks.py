"""Benchmarks: data set readers and gold units on tiny files, and slices of the real data sets (slow)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eval_fixtures import QUESTIONS, icrag, use_session_model, write_evidence, write_jsonl
from helpers import SHARED_DIR, write_pdf

from eval.benchmarks import covidqa, litqa2, pubmedqa
from eval.benchmarks.common import OVERLAP_BASELINE, run_benchmark, text_document, write_bench_report
from index.embedding import Embedder
from index.errors import InputError
from index.models import Document, Segment
from index.sentences import split_sentences
from index.settings import Settings

EXTERNAL = SHARED_DIR / "external"
needs_shared = pytest.mark.skipif(not EXTERNAL.is_dir(), reason="shared data sets are not beside the repository")

PARAGRAPHS = [
    "Bats host many coronaviruses and shed them in saliva and faeces. " * 14,
    "Ferrets were infected intranasally and monitored for fever over fourteen days. " * 12,
    "The median incubation period of the novel virus was 5.2 days in Wuhan. " + "Cases rose quickly. " * 40,
]
ANSWER = "5.2 days"


def write_squad(folder: Path) -> Path:
    """A two-article COVID-QA file whose one question is answered in the first article's third paragraph."""
    first = "\n\n".join(PARAGRAPHS)
    second = "Masks reduce droplet spread among health workers in clinics. " * 20
    data = {
        "data": [
            {
                "paragraphs": [
                    {
                        "document_id": 7,
                        "context": first,
                        "qas": [
                            {
                                "id": 1,
                                "question": "What was the median incubation period in Wuhan?",
                                "answers": [{"text": ANSWER, "answer_start": first.index(ANSWER)}],
                                "is_impossible": False,
                            }
                        ],
                    }
                ]
            },
            {"paragraphs": [{"document_id": 9, "context": second, "qas": []}]},
        ]
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / covidqa.DATA_FILE).write_text(json.dumps(data), encoding="utf-8")
    return folder


def test_covidqa_gold_is_the_passage_holding_the_answer(tmp_path: Path) -> None:
    bench = covidqa.load(write_squad(tmp_path), Settings())
    assert len(bench.documents) == 2 and len(bench.questions) == 1
    gold = bench.questions[0].gold
    texts = {p.passage_id: p.text for p in bench.passages}
    assert len(gold) == 1 and ANSWER in texts[gold[0]]
    assert sum(p.doc_id == "covidqa-7" for p in bench.passages) > 1  # the answer had to be found among several
    assert len(covidqa.load(tmp_path, Settings(), docs=1).documents) == 1


def test_covidqa_reads_a_hard_wrapped_article_as_the_text_reader_does() -> None:
    wrapped = "In our opinion, the major role of chest CT is to understand the\nextent and evolution of lung lesions."
    document, _ = text_document("covidqa-1", wrapped)
    assert len(document.text) == len(wrapped)  # answer offsets into the article stay valid
    assert split_sentences(document.text) == [wrapped.replace("\n", " ")]


def test_covidqa_refuses_other_json(tmp_path: Path) -> None:
    (tmp_path / covidqa.DATA_FILE).write_text('{"data": [{"nope": 1}]}', encoding="utf-8")
    with pytest.raises(InputError, match="not a SQuAD-format"):
        covidqa.load(tmp_path, Settings())


@pytest.mark.parametrize(
    ("answer_start", "problem"), [("abc", "valid integer"), (1.5, "valid integer"), (-3, "greater than or equal")]
)
def test_covidqa_refuses_a_bad_answer_start_in_one_line(tmp_path: Path, answer_start: object, problem: str) -> None:
    file = write_squad(tmp_path) / covidqa.DATA_FILE
    data = json.loads(file.read_text(encoding="utf-8"))
    data["data"][0]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] = answer_start
    file.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match="not a SQuAD-format") as caught:
        covidqa.load(tmp_path, Settings())
    assert problem in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"data": []}, "no articles"),
        ({"data": [{"paragraphs": [{"document_id": 1, "context": "Text.", "qas": []}]}]}, "no questions"),
    ],
)
def test_covidqa_refuses_an_empty_data_set(tmp_path: Path, data: dict[str, object], problem: str) -> None:
    (tmp_path / covidqa.DATA_FILE).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match=problem):
        covidqa.load(tmp_path, Settings())


def test_litqa2_refuses_questions_that_cite_none_of_the_pdfs(tmp_path: Path) -> None:
    write_pdf(tmp_path / litqa2.PDF_FOLDER / "10.1000%2Fpaper.pdf", ["Bacteria evolved resistance to meropenem."])
    questions = tmp_path / litqa2.QUESTIONS_FILE
    questions.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="no questions"):
        litqa2.load(tmp_path, Settings())
    row = {"id": "q1", "question": "q?", "key-passage": "Bacteria evolved resistance.", "sources": ["10.1/other"]}
    write_jsonl(questions, [row])
    with pytest.raises(InputError, match="no question's sources"):
        litqa2.load(tmp_path, Settings())


def test_pubmedqa_indexes_one_passage_per_whole_abstract(tmp_path: Path) -> None:
    background = "Adults with chronic pain were randomised to the drug or a placebo for twelve weeks. "
    items = {
        str(pmid): {
            "QUESTION": f"Does treatment {pmid} work?",
            "CONTEXTS": [background * 20, f"Trial {pmid} helped."],
            "LONG_ANSWER": f"Treatment {pmid} works.",
        }
        for pmid in (101, 102, 103)
    }
    (tmp_path / pubmedqa.DATA_FILE).write_text(json.dumps(items), encoding="utf-8")
    bench = pubmedqa.load(tmp_path, Settings(), docs=2)
    assert bench.name == "pubmedqa" and bench.unit == "document"
    assert [q.gold for q in bench.questions] == [["pubmed-101"], ["pubmed-102"]]
    assert len(bench.passages) == 2  # each whole abstract is one passage: background, results, conclusion
    for passage, pmid in zip(bench.passages, (101, 102), strict=True):
        assert passage.text.startswith("Adults with chronic pain")
        assert passage.text.endswith(f"Trial {pmid} helped.\n\nTreatment {pmid} works.")

    contexts = pubmedqa.load(tmp_path, Settings(), docs=2, conclusions=False)
    assert contexts.name == "pubmedqa-contexts"
    assert [p.text.endswith("helped.") and "works" not in p.text for p in contexts.passages] == [True, True]


def paged(pages: list[str]) -> Document:
    text, segments, cursor = "", [], 0
    for number, page in enumerate(pages, start=1):
        segments.append(Segment(start=cursor, end=cursor + len(page), source_id="d", page=number))
        text += page + "\n\n"
        cursor = len(text)
    return Document(doc_id="d", path="d.pdf", kind="pdf", checksum="0", text=text, segments=segments)


def test_litqa2_key_pages_match_fuzzily_and_across_a_page_break() -> None:
    key = "A. baumannii readily evolved resistance to meropenem, ciprofloxacin, and gentamicin, but A. lwoffii did not"
    words = key.split()
    document = paged(
        [
            "Introduction to antibiotic resistance in soil bacteria and hospital strains of many kinds.",
            "Results: " + " ".join(words[:9]).upper().replace(",", " ,"),  # case, spacing and commas differ
            " ".join(words[9:]) + " in any of the twelve lineages we followed.",
        ]
    )
    assert litqa2.key_pages(document, key) == [2, 3]
    assert litqa2.key_pages(document, "Completely unrelated sentence about glucokinase conformations here.") == []


@pytest.mark.slow  # whole evaluation runs
def test_run_benchmark_compares_three_systems_on_the_same_passages(
    tmp_path: Path, embedder: Embedder, cache_dir: Path
) -> None:
    bench = covidqa.load(write_squad(tmp_path / "data"), Settings(cache_dir=cache_dir, show_progress=False))
    report = run_benchmark(bench, embedder, "synthetic")
    assert set(report.systems) == {"bm25", "dense", "icrag"}
    assert report.n_passages == len(bench.passages) and report.n_questions == 1
    for system in report.systems.values():
        assert system.recall_at_10 == 1.0  # a handful of passages: the gold one is in every top 10
        assert system.latency_ms.p50 is not None
    assert report.per_question[0].first_gold_rank["bm25"] == 1  # "5.2", "Wuhan", "incubation" occur only there
    written = write_bench_report(report, tmp_path / "out")
    assert {p.name for p in written} == {"report.json", "report.md", "metrics.png", "latency.png"}
    payload = json.loads((tmp_path / "out" / "report.json").read_text())
    assert {"benchmark", "n_questions", "n_passages", "systems"} <= set(payload)
    keys = {"recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "latency_ms"}
    assert set(payload["systems"]["icrag"]) == keys


@pytest.mark.slow  # whole evaluation runs
def test_covidqa_answers_are_scored_against_the_annotated_span_beside_the_overlap_baseline(
    tmp_path: Path, embedder: Embedder, cache_dir: Path
) -> None:
    bench = covidqa.load(write_squad(tmp_path / "data"), Settings(cache_dir=cache_dir, show_progress=False))
    assert bench.questions[0].answer == ANSWER
    report = run_benchmark(bench, embedder, "synthetic")
    assert set(report.answers) == {"icrag", OVERLAP_BASELINE}
    baseline = report.answers[OVERLAP_BASELINE]
    # The one sentence sharing most words with the question is the one holding the answer.
    assert baseline.contains == baseline.first_sentence_contains == 1.0
    assert baseline.median_words == 13  # "The median incubation period of the novel virus was 5.2 days in Wuhan."
    icrag_answer = report.per_question[0].answers["icrag"]
    assert report.answers["icrag"].contains == float(icrag_answer.contains)
    assert icrag_answer.first_sentence_contains <= icrag_answer.contains
    assert report.per_question[0].answer_span == ANSWER
    markdown = write_bench_report(report, tmp_path / "out")[1].read_text()
    assert "## Answers" in markdown and f"| {OVERLAP_BASELINE} | 1.000 | 1.000 | 13 |" in markdown
    # The answerer's best-scored sentences: the one holding the answer is among its five best.
    assert [r.k for r in report.sentence_reach] == [1, 2, 3, 4, 5]
    assert report.sentence_reach[-1].contains == 1.0
    contains = [r.contains or 0.0 for r in report.sentence_reach]
    assert contains == sorted(contains) and "## Sentence reach" in markdown
    # Data sets without annotated spans report no answers.
    pubmed = bench.model_copy(update={"questions": [q.model_copy(update={"answer": ""}) for q in bench.questions]})
    assert run_benchmark(pubmed, embedder, "synthetic").answers == {}


def test_eval_bench_user_errors(tmp_path: Path) -> None:
    result = icrag("eval", "bench", "covidqa")
    assert result.exit_code == 2 and "--data" in result.output
    result = icrag("eval", "bench", "pubmedqa", "--data", str(tmp_path))
    assert result.exit_code == 2 and "ori_pqal.json: no such file" in result.output
    (tmp_path / pubmedqa.DATA_FILE).write_text("{\n  oops", encoding="utf-8")
    result = icrag("eval", "bench", "pubmedqa", "--data", str(tmp_path))
    assert result.exit_code == 2 and "invalid JSON (line 2" in result.output
    (tmp_path / pubmedqa.DATA_FILE).write_text("{}", encoding="utf-8")
    result = icrag(
        "eval", "bench", "pubmedqa", "--data", str(tmp_path), "--out", str(tmp_path / "out"), "--cache", str(tmp_path)
    )
    assert result.exit_code == 2 and "ori_pqal.json: no abstracts" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_a_benchmark_without_questions_is_a_user_error(tmp_path: Path, embedder: Embedder) -> None:
    (tmp_path / pubmedqa.DATA_FILE).write_text(json.dumps({"1": {"QUESTION": "", "CONTEXTS": []}}), encoding="utf-8")
    bench = pubmedqa.load(tmp_path, Settings())  # the one abstract has no text, so its question is skipped
    assert (bench.questions, bench.skipped) == ([], ["1"])
    with pytest.raises(InputError, match="no questions to run"):
        run_benchmark(bench, embedder, str(tmp_path))


def bench(name: str, tmp_path: Path, cache_dir: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / name
    result = icrag("eval", "bench", name, "--out", str(out), "--cache", str(cache_dir), *args)
    assert result.exit_code == 0, result.output
    report: dict[str, object] = json.loads((out / "report.json").read_text())
    return report


@pytest.fixture
def quiet_session_model(monkeypatch: pytest.MonkeyPatch, embedder: Embedder) -> None:
    use_session_model(monkeypatch, embedder)
    monkeypatch.setenv("ICRAG_SHOW_PROGRESS", "false")


@pytest.mark.slow
@needs_shared
@pytest.mark.parametrize(
    ("name", "folder", "args", "unit"),
    [
        ("covidqa", "covid-qa", ["--docs", "2", "--limit", "5"], "passage"),
        ("pubmedqa", "pubmedqa", ["--docs", "25", "--limit", "5"], "document"),
        ("pubmedqa-contexts", "pubmedqa", ["--docs", "25", "--limit", "5"], "document"),
        ("litqa2", "litqa2", ["--docs", "1"], "page"),
    ],
)
def test_retrieval_benchmark_on_a_slice(
    name: str, folder: str, args: list[str], unit: str, tmp_path: Path, cache_dir: Path, quiet_session_model: None
) -> None:
    report = bench(name, tmp_path, cache_dir, "--data", str(EXTERNAL / folder), *args)
    assert report["benchmark"] == name and report["unit"] == unit
    assert 1 <= report["n_questions"] <= 5
    systems = report["systems"]
    assert isinstance(systems, dict) and set(systems) == {"bm25", "dense", "icrag"}
    for system in systems.values():
        assert 0.0 <= system["recall@10"] <= 1.0
        assert system["latency_ms"]["p95"] >= system["latency_ms"]["p50"] > 0
    assert (tmp_path / name / "metrics.png").exists()


@pytest.mark.slow
@needs_shared
def test_support_benchmark_on_a_slice(tmp_path: Path, cache_dir: Path, quiet_session_model: None) -> None:
    report = bench("support", tmp_path, cache_dir, "--data", str(EXTERNAL / "covid-qa"), "--docs", "3", "--limit", "8")
    assert report["n_questions"] == 8
    assert report["semantic"] is True
    assert report["auroc_other_paper"] > 0.9  # verbatim positives against another paper: easy by construction


@pytest.mark.slow
def test_speed_benchmark_on_a_tiny_corpus(
    tmp_path: Path, cache_dir: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_evidence(tmp_path / "data")
    index = tmp_path / "index"
    monkeypatch.setenv("ICRAG_CACHE_DIR", str(cache_dir))
    use_session_model(monkeypatch, embedder)
    assert icrag("index", "build", "--data", str(data), "--index", str(index)).exit_code == 0
    questions = write_jsonl(tmp_path / "questions.jsonl", QUESTIONS)
    options = ["--data", str(data), "--index", str(index), "--questions", str(questions), "--repeat", "1"]
    report = bench("speed", tmp_path, cache_dir, *options)
    import torch  # loaded by the benchmark already

    assert report["n_passages"] == 3 and report["n_texts"] >= 3
    assert report["ratio"] > 0 and report["n_asks"] == 3 and report["repeats"] == 1
    assert report["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    assert report["passage_rate"] == report["n_passages"] / report["build_seconds"]
    assert report["cold_first_answer_ms"] is not None or report["cold_error"]

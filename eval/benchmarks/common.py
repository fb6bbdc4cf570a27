"""What every retrieval benchmark shares: an in-memory index, the three systems, the scoring loop.

Each data set module turns its files into :class:`BenchData` (documents, passages and
questions whose gold is a set of *units*: passages, pages or documents); :func:`run_benchmark`
indexes the passages once and ranks them with every system in the same process.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from tqdm import tqdm

from eval.charts import latency_boxes, metric_bars
from eval.metrics import (
    BASELINE_PASSAGES,
    RANK_DEPTH,
    REACH_DEPTH,
    gold_ranks,
    latency_percentiles,
    retrieval_scores,
    sentence_reach,
    span_scores,
)
from eval.report import (
    AnswerSystemResult,
    BenchAnswer,
    BenchQuestionResult,
    BenchReport,
    SystemResult,
    bench_markdown,
    write_json,
)
from eval.text import content_terms
from index.builder import IndexBuilder
from index.chunking import split_document
from index.embedding import Embedder
from index.errors import InputError
from index.markers import strip_markers
from index.models import Document, Passage, Record, Segment, SourceInfo
from index.readers.textio import unwrap_lines
from index.settings import Settings
from index.store import IndexStore
from rag.pipeline import Pipeline
from rag.retrieval import DenseRetriever, LexicalRetriever

Unit = Literal["passage", "page", "document"]

#: A system under test: (question, k) -> passages, best first.
Search = Callable[[str, int], list[Passage]]
#: The answering system beside icrag: the sentence of icrag's top passages sharing most words with the question.
OVERLAP_BASELINE = "overlap baseline"


class BenchQuestion(Record):
    """A benchmark question and the units that answer it."""

    id: str = Field(description="Identifier from the data set.")
    question: str = Field(description="The question text.")
    gold: list[str] = Field(description="Gold unit ids, see unit_of().")
    answer: str = Field("", description="Annotated answer span ('' where the data set has none); answers need it.")


class BenchData(Record):
    """A benchmark ready to index: the passages every system ranks and the questions."""

    name: str = Field(description="Benchmark name.")
    settings: Settings = Field(description="Settings the passages were cut with (and the pipeline runs with).")
    unit: Unit = Field(description="What one gold unit is.")
    documents: list[Document]
    passages: list[Passage]
    sources: dict[str, SourceInfo] = Field(default_factory=dict)
    questions: list[BenchQuestion]
    skipped: list[str] = Field(default_factory=list, description="Questions without a findable gold unit.")


def unit_of(passage: Passage, unit: Unit) -> str:
    """The unit a passage belongs to (gold units are counted once however many passages hit them)."""
    if unit == "document":
        return passage.doc_id
    if unit == "page":
        return f"{passage.doc_id}#p{passage.page}"
    return passage.passage_id


def data_file(path: Path, name: str) -> Path:
    """A data set's file, given either the file itself or the folder holding it."""
    candidate = path / name if path.is_dir() else path
    if not candidate.is_file():
        raise InputError(candidate, f"no such file (expected the data set folder holding {name})")
    return candidate


def read_json(path: Path) -> Any:
    """A JSON file, with an InputError naming the line of a syntax error."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(path, f"invalid JSON (line {exc.lineno}: {exc.msg})") from exc
    except UnicodeDecodeError as exc:
        raise InputError(path, "not UTF-8 text") from exc


def text_document(doc_id: str, text: str, title: str = "") -> tuple[Document, SourceInfo]:
    """A plain-text document of one segment, its own source, as if read from ``doc_id.txt``: hard-wrapped
    lines are joined as the text reader joins them, keeping every offset."""
    text = unwrap_lines(text)
    document = Document(
        doc_id=doc_id,
        path=f"{doc_id}.txt",
        kind="text",
        checksum=hashlib.sha256(text.encode()).hexdigest(),
        text=text,
        segments=[Segment(start=0, end=len(text), source_id=doc_id)],
    )
    return document, SourceInfo(source_id=doc_id, title=title)


def passages_of(documents: list[Document], settings: Settings, sources: dict[str, SourceInfo]) -> list[Passage]:
    """The passages icrag's chunker cuts from the documents."""
    return [p for d in documents for p in split_document(d, settings, sources)]


def build_store(data: BenchData, embedder: Embedder) -> IndexStore:
    """An in-memory index of the benchmark's passages, embedded as `icrag index build` would (cached)."""
    return IndexBuilder(data.settings, embedder).in_memory(data.documents, data.passages, data.sources)


def systems(pipeline: Pipeline, embedder: Embedder) -> dict[str, Search]:
    """The systems compared: plain BM25, plain dense top-k (as LangChain's FAISS retriever), icrag."""
    store = pipeline.store
    lexical = LexicalRetriever(store, pipeline.bm25)
    dense = DenseRetriever(store, embedder)
    return {
        "bm25": lambda q, k: [hit.passage for hit in lexical.retrieve(q, k)],
        "dense": lambda q, k: [hit.passage for hit in dense.retrieve(q, k)],
        "icrag": lambda q, k: [hit.passage for hit in pipeline.retrieve(q, top_k=k)],
    }


def run_benchmark(data: BenchData, embedder: Embedder, data_path: str, progress: bool = False) -> BenchReport:
    """Index the passages once, rank them for every question with every system, and score."""
    if not data.questions:
        skipped = f" ({len(data.skipped)} skipped: no gold evidence found)" if data.skipped else ""
        raise InputError(data_path, f"no questions to run in the {data.name} data{skipped}")
    pipeline = open_pipeline(data, build_store(data, embedder), embedder)
    try:
        return _run(data, pipeline, embedder, data_path, progress)
    finally:
        pipeline.close()


def open_pipeline(data: BenchData, store: IndexStore, embedder: Embedder) -> Pipeline:
    """icrag over a benchmark's index: in memory, or with ``backend=pgvector`` written to PostgreSQL and read back.

    The PostgreSQL round trip is the whole path a deployment takes (rows, manifest check, HNSW and
    full-text candidates); the collection is named after the benchmark so an index beside it is untouched.
    """
    if data.settings.backend != "pgvector":
        return Pipeline.from_store(store, data.settings, embedder)
    from index.pgvector_store import PgVectorStore

    postgres = PgVectorStore.from_settings(data.settings, collection=f"bench-{data.name}")
    postgres.write(store)
    loaded, backend = postgres.open(data.settings)
    return Pipeline.from_store(loaded, data.settings, embedder, backend)


def _run(data: BenchData, pipeline: Pipeline, embedder: Embedder, data_path: str, progress: bool) -> BenchReport:
    """Rank every question with every system and answer it; the report."""
    golds = [set(q.gold) for q in data.questions]
    results: dict[str, SystemResult] = {}
    first_rank: dict[str, list[int | None]] = {}
    latencies: dict[str, list[float]] = {}
    ranked: dict[str, list[list[Passage]]] = {}
    for name, search in systems(pipeline, embedder).items():
        rankings: list[list[str]] = []
        latencies[name] = []
        ranked[name] = []
        for question in tqdm(data.questions, desc=f"{data.name} {name}", unit="q", disable=not progress):
            started = time.perf_counter()
            passages = search(question.question, RANK_DEPTH)
            latencies[name].append((time.perf_counter() - started) * 1000)
            rankings.append([unit_of(p, data.unit) for p in passages])
            ranked[name].append(passages)
        results[name] = SystemResult(
            **retrieval_scores(rankings, golds).overall().model_dump(), latency_ms=latency_percentiles(latencies[name])
        )
        first_rank[name] = [next(iter(gold_ranks(r, g)), None) for r, g in zip(rankings, golds, strict=True)]
    spans = [q.answer for q in data.questions]
    answers = answer_systems(data, pipeline, ranked["icrag"], progress) if any(spans) else {}
    scored = {
        name: span_scores(spans, [a.text for a in made], [a.first for a in made]) for name, made in answers.items()
    }
    return BenchReport(
        benchmark=data.name,
        n_questions=len(data.questions),
        n_passages=len(data.passages),
        n_documents=len(data.documents),
        unit=data.unit,
        skipped=data.skipped,
        systems=results,
        answers={
            name: AnswerSystemResult(
                contains=score.contains.overall,
                first_sentence_contains=score.first_contains.overall,
                median_words=score.median_words,
            )
            for name, score in scored.items()
        },
        sentence_reach=sentence_reach(spans, [a.ranked for a in answers["icrag"]]) if answers else [],
        settings_hash=data.settings.settings_hash(),
        backend=data.settings.backend,
        data=data_path,
        per_question=[
            BenchQuestionResult(
                id=q.id,
                gold=q.gold,
                first_gold_rank={name: first_rank[name][i] for name in results},
                latency_ms={name: latencies[name][i] for name in results},
                answer_span=q.answer,
                answers={
                    name: BenchAnswer(
                        contains=score.contains.per_question[i] == 1.0,
                        first_sentence_contains=score.first_contains.per_question[i] == 1.0,
                        words=score.words[i],
                    )
                    for name, score in scored.items()
                },
            )
            for i, q in enumerate(data.questions)
        ],
    )


class SpanAnswer(Record):
    """A system's answer as the span figures read it: its text and its first sentence (None: abstained)."""

    text: str | None = Field(description="Answer text without citation markers; None for an abstention.")
    first: str | None = Field(description="The answer's first sentence; None for an abstention.")
    ranked: list[str] = Field(
        default_factory=list,
        description="The system's best-scored sentences, best first, before the answer is shaped (icrag only).",
    )


def overlap_sentence(question: str, sentences: Sequence[str]) -> str | None:
    """The sentence sharing the most content words with the question (the earliest of equals), None if none.

    The baseline an answerer must beat: no meaning, no roles, just shared words, from the same passages.
    """
    wanted = content_terms(question)
    return max(sentences, key=lambda sentence: len(wanted & content_terms(sentence)), default=None)


def sentences_of(passages: Sequence[Passage], store: IndexStore) -> list[str]:
    """The texts of the passages' sentence units, in ranking and reading order."""
    texts: list[str] = []
    for passage in passages:
        texts += [passage.text[start:end] for start, end in store.sentences(passage).spans]
    return texts


def answer_systems(
    data: BenchData, pipeline: Pipeline, icrag_ranked: Sequence[Sequence[Passage]], progress: bool = False
) -> dict[str, list[SpanAnswer]]:
    """icrag's answers and the one-sentence overlap baseline's, from icrag's own ranking, per question."""
    icrag: list[SpanAnswer] = []
    baseline: list[SpanAnswer] = []
    questions = zip(data.questions, icrag_ranked, strict=True)
    for question, passages in tqdm(questions, desc=f"{data.name} answers", unit="q", disable=not progress):
        query = pipeline.query(question.question)
        answer = pipeline.ask(query)
        _, eligible = pipeline.extractive.candidates(query, pipeline.pool(query))
        ranked = [sentence.quote.text for sentence in eligible[:REACH_DEPTH]]
        if answer.abstained:
            icrag.append(SpanAnswer(text=None, first=None, ranked=ranked))
        else:
            first = answer.sentences[0].text if answer.sentences else None
            icrag.append(SpanAnswer(text=strip_markers(answer.answer), first=first, ranked=ranked))
        sentence = overlap_sentence(question.question, sentences_of(passages[:BASELINE_PASSAGES], pipeline.store))
        baseline.append(SpanAnswer(text=sentence, first=sentence))
    return {"icrag": icrag, OVERLAP_BASELINE: baseline}


def write_bench_report(report: BenchReport, out_dir: Path) -> list[Path]:
    """report.json, report.md and the charts of a benchmark."""
    json_path = write_json(report, out_dir)
    markdown = out_dir / "report.md"
    markdown.write_text(bench_markdown(report), encoding="utf-8")
    retrieval = {name: s.model_dump(exclude={"latency_ms"}) for name, s in report.systems.items()}
    latencies = {name: [q.latency_ms[name] for q in report.per_question] for name in report.systems}
    return [
        json_path,
        markdown,
        metric_bars(retrieval, out_dir / "metrics.png", f"retrieval on {report.benchmark}"),
        latency_boxes(latencies, out_dir / "latency.png", f"retrieval latency on {report.benchmark}"),
    ]

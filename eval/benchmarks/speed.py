"""Speed: index-build embedding throughput against raw sentence-transformers, and answer latency.

The build is timed end to end (reading, chunking, embedding, FAISS, atomic save) with a cold
embedding cache and a loaded model; the raw baseline encodes exactly the texts the build
embedded, with the same model, batch size and normalisation. Their throughput ratio says how
much icrag's machinery costs on top of the model (goal: at least 0.9). Builds and raw runs
alternate and the fastest of each counts, so a burst of load from other processes on a
small shared machine does not decide the ratio.

On a GPU (ICRAG_DEVICE=auto or cuda) the build embeds in bf16 with icrag's pipelined loop
(index.embedding.encode_sorted) and the raw baseline is sentence-transformers' own encode on
the same bf16 model; the report says which device ran.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydantic import Field

from eval.metrics import Latency, latency_percentiles
from eval.questions import Question
from eval.report import now
from index.builder import IndexBuilder
from index.embedding import Embedder, load_model, resolve_device
from index.models import Record
from index.settings import Settings
from rag.pipeline import Pipeline

GOAL_RATIO = 0.9


class SpeedReport(Record):
    """Result of ``icrag eval bench speed``."""

    benchmark: str = "speed"
    n_passages: int = Field(description="Passages of the index built.")
    n_texts: int = Field(description="Distinct texts the build's model encoded (passages and their units).")
    repeats: int = Field(description="Builds and raw runs timed (alternating); the fastest of each counts.")
    build_seconds: float = Field(description="Fastest wall time of the whole build, model already loaded.")
    raw_seconds: float = Field(description="Fastest wall time of SentenceTransformer.encode on the same texts.")
    build_rate: float = Field(description="Texts per second of the build.")
    passage_rate: float = Field(description="Passages per second of the build (each passage and its units).")
    device: str = Field(description="Where the model ran: cpu (fp32) or cuda (bf16).")
    raw_rate: float = Field(description="Texts per second of raw encoding.")
    ratio: float = Field(description="build_rate / raw_rate.")
    goal_ratio: float = GOAL_RATIO
    n_asks: int = Field(description="Questions timed after one warm-up question.")
    warm_ask_ms: Latency = Field(description="Pipeline.ask latency with index and model loaded.")
    cold_first_answer_ms: float | None = Field(description="Wall time of a fresh `icrag ask` process.")
    cold_error: str = Field("", description="Why the cold answer was not timed, if it was not.")
    data_dir: str
    index_dir: str
    settings_hash: str
    created_at: str = Field(default_factory=now)


class RecordingEmbedder(Embedder):
    """An Embedder that keeps the texts its model encodes (after the cache's deduplication), to replay them."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Encode as usual, remembering the texts."""
        self.texts.extend(texts)
        return super().encode(texts, progress)


def time_build(data_dir: Path, settings: Settings) -> tuple[int, list[str], float, str]:
    """(passages, texts embedded, seconds, device) of a fresh build into a temporary index and cache."""
    with tempfile.TemporaryDirectory(prefix="icrag-speed-") as tmp:
        fresh = settings.model_copy(update={"index_dir": Path(tmp) / "index", "cache_dir": Path(tmp) / "cache"})
        embedder = RecordingEmbedder(fresh)
        embedder.encode(["warm up"])
        embedder.texts.clear()
        started = time.perf_counter()
        report = IndexBuilder(fresh, embedder).build(data_dir, force=True)
        return report.n_passages, embedder.texts, time.perf_counter() - started, embedder.device


def time_raw_encode(texts: Sequence[str], settings: Settings) -> float:
    """Seconds SentenceTransformer.encode takes for the texts on the build's device, model loaded and warmed first."""
    model = load_model(settings.embedding_model, resolve_device(settings.device))
    model.encode(["warm up"])
    started = time.perf_counter()
    model.encode(
        list(texts),
        batch_size=settings.embedding_batch_size,
        normalize_embeddings=settings.normalize_embeddings,
        convert_to_numpy=True,
    )
    return time.perf_counter() - started


def time_warm_asks(questions: Sequence[Question], settings: Settings, embedder: Embedder) -> list[float]:
    """Milliseconds per Pipeline.ask, after loading the index and answering one question to warm up."""
    pipeline = Pipeline.load(settings, embedder)
    pipeline.ask(questions[0].question)
    latencies = []
    for question in questions:
        started = time.perf_counter()
        pipeline.ask(question.question)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def time_cold_answer(question: str, index_dir: Path) -> tuple[float | None, str]:
    """Wall time of a new `icrag ask` process (imports, model and index loading included)."""
    beside = Path(sys.executable).with_name("icrag")
    command = str(beside) if beside.exists() else shutil.which("icrag")
    if command is None:
        return None, "the icrag command is not installed"
    started = time.perf_counter()
    done = subprocess.run(
        [command, "ask", question, "--index", str(index_dir)],
        capture_output=True,
        text=True,
        env={**os.environ, "ICRAG_SHOW_PROGRESS": "false"},
        check=False,
    )
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        return None, (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
    return elapsed, ""


def run_speed_bench(
    data_dir: Path, settings: Settings, embedder: Embedder, questions: Sequence[Question], repeats: int = 2
) -> SpeedReport:
    """Every speed measurement, one after the other so they do not compete for the CPU."""
    builds, raws = [], []
    for _ in range(repeats):
        n_passages, texts, seconds, device = time_build(data_dir, settings)
        builds.append(seconds)
        raws.append(time_raw_encode(texts, settings))
    build_seconds, raw_seconds = min(builds), min(raws)
    latencies = time_warm_asks(questions, settings, embedder)
    cold_ms, cold_error = time_cold_answer(questions[0].question, settings.index_dir)
    build_rate = len(texts) / build_seconds
    raw_rate = len(texts) / raw_seconds
    return SpeedReport(
        n_passages=n_passages,
        n_texts=len(texts),
        repeats=repeats,
        build_seconds=build_seconds,
        raw_seconds=raw_seconds,
        build_rate=build_rate,
        passage_rate=n_passages / build_seconds,
        device=device,
        raw_rate=raw_rate,
        ratio=build_rate / raw_rate,
        n_asks=len(latencies),
        warm_ask_ms=latency_percentiles(latencies),
        cold_first_answer_ms=cold_ms,
        cold_error=cold_error,
        data_dir=str(data_dir),
        index_dir=str(settings.index_dir),
        settings_hash=settings.settings_hash(),
    )

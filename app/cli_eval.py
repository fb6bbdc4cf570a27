"""``icrag eval``: evaluation runs and their comparison, benchmarks and scoring of any system's answers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr

from app.cli_common import IndexOption, make_embedder, make_settings, user_errors
from index.errors import InputError
from index.settings import Settings

eval_app = typer.Typer(
    help="Evaluate answers, compare runs, benchmark retrieval and measure speed.", no_args_is_help=True
)

OutOption = Annotated[Path | None, typer.Option("--out", help="Folder for report.json, report.md and charts.")]
LimitOption = Annotated[int | None, typer.Option("--limit", min=1, help="Use only the first N questions.")]
BENCH_CACHE = Path(".icrag/bench-cache")


class Backend(StrEnum):
    """Storage backends of ``--backend`` (see index.backend)."""

    faiss = "faiss"
    pgvector = "pgvector"


class Benchmark(StrEnum):
    """Benchmarks of ``icrag eval bench``."""

    covidqa = "covidqa"
    pubmedqa = "pubmedqa"
    pubmedqa_contexts = "pubmedqa-contexts"
    litqa2 = "litqa2"
    support = "support"
    speed = "speed"
    load = "load"


@eval_app.command("run")
@user_errors
def eval_run(
    questions: Annotated[Path, typer.Option("--questions", help="Question set (JSONL, see the corpus README).")],
    out: OutOption = None,
    index: IndexOption = None,
    limit: LimitOption = None,
) -> None:
    """Answer every question of a set with the pipeline and report retrieval, answer and latency metrics."""
    from eval.judge import make_judge
    from eval.questions import load_questions
    from eval.report import declined_text
    from eval.runner import run_questions, write_eval_report
    from rag.pipeline import Pipeline

    settings = make_settings(index)
    items = load_questions(questions)[:limit]
    embedder = make_embedder(settings)
    pipeline = Pipeline.load(settings, embedder)
    judge = make_judge(settings, embedder)
    report = run_questions(items, pipeline, judge, str(questions), settings.show_progress)
    written = write_eval_report(report, out or Path("reports/eval"))
    r, a = report.retrieval, report.answers
    typer.echo(
        f"{report.n_questions} questions: recall@5 {_fmt(r.recall_at_5)}, mrr@10 {_fmt(r.mrr_at_10)}, "
        f"key facts {_fmt(a.key_fact_recall)}, citation support {_fmt(a.citation_support)}, "
        f"precision {_fmt(a.citation_precision)}, abstention recall {_fmt(a.abstention_recall)}, "
        f"false abstention {_fmt(a.false_abstention_rate)}, p50 {_fmt(report.latency_ms.p50, 0)} ms"
    )
    typer.echo(
        f"sources cited {_fmt(a.source_coverage)}, pool sources {_fmt(a.pool_source_coverage)}, "
        f"pool facts {_fmt(a.pool_fact_coverage)}, sides covered {_fmt(a.comparison_sides)}, "
        f"noise {_fmt(a.noise)}; declined {declined_text(report.declined) if report.declined else '–'}"
    )
    typer.echo(f"wrote {', '.join(str(p) for p in written)}")


@eval_app.command("calibrate")
@user_errors
def eval_calibrate(
    questions: Annotated[list[Path], typer.Option("--questions", help="Question set (JSONL); give it once per set.")],
    scope: Annotated[
        list[Path] | None,
        typer.Option(
            "--scope",
            help="Questions on subjects the corpus never discusses (JSONL): they fit only the uncovered-subject "
            "threshold.",
        ),
    ] = None,
    out: OutOption = None,
    index: IndexOption = None,
) -> None:
    """Fit the abstention thresholds on question sets; print them and how each set fares (JSON)."""
    from eval.calibrate import calibrate, read_evidence, write_calibration
    from eval.questions import load_questions
    from rag.pipeline import Pipeline

    settings = make_settings(index)
    sets = [(path.name, load_questions(path)) for path in questions]
    probes = [(path.name, load_questions(path)) for path in scope or []]
    pipeline = Pipeline.load(settings, make_embedder(settings))
    report = calibrate(
        read_evidence(sets, pipeline, settings.show_progress),
        settings,
        read_evidence(probes, pipeline, settings.show_progress),
    )
    summary = report.model_dump(mode="json", exclude={"questions"})
    typer.echo(json.dumps(summary, indent=2))
    if out is not None:
        typer.echo(f"wrote {write_calibration(report, out)}")


@eval_app.command("bench")
@user_errors
def eval_bench(
    name: Annotated[Benchmark, typer.Argument(help="Which benchmark to run.", case_sensitive=False)],
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Data set folder (e.g. ../shared/external/covid-qa); speed: evidence folder."),
    ] = None,
    out: OutOption = None,
    limit: LimitOption = None,
    docs: Annotated[
        int | None, typer.Option("--docs", min=1, help="Index only the first N documents (and their questions).")
    ] = None,
    cache: Annotated[
        Path | None, typer.Option("--cache", help=f"Embedding cache folder (default {BENCH_CACHE}).")
    ] = None,
    index: IndexOption = None,
    questions: Annotated[
        Path | None, typer.Option("--questions", help="speed: questions to time (default DATA/dev_questions.jsonl).")
    ] = None,
    repeat: Annotated[
        int, typer.Option("--repeat", min=1, help="speed: builds and raw encodings to time; the fastest counts.")
    ] = 2,
    url: Annotated[str, typer.Option("--url", help="load: the running icrag serve (loopback only).")] = (
        "http://127.0.0.1:8000"
    ),
    clients: Annotated[int, typer.Option("--clients", min=1, help="load: concurrent clients asking.")] = 8,
    seconds: Annotated[float, typer.Option("--seconds", help="load: how long the clients ask.")] = 30.0,
    churn: Annotated[
        float | None,
        typer.Option("--churn", help="load: a curator uploads or removes a document every this many seconds."),
    ] = None,
    backend: Annotated[
        Backend | None,
        typer.Option(
            "--backend",
            case_sensitive=False,
            help="covidqa, pubmedqa, litqa2: where icrag's candidates come from (default ICRAG_BACKEND, else faiss).",
        ),
    ] = None,
    pg_dsn: Annotated[
        str | None,
        typer.Option(
            "--pg-dsn",
            help="With --backend pgvector: the PostgreSQL to use (default ICRAG_PG_DSN, else a throwaway embedded "
            "server).",
        ),
    ] = None,
) -> None:
    """Run a benchmark: retrieval systems compared on covidqa, pubmedqa or litqa2; support; speed.

    pubmedqa indexes whole abstracts; pubmedqa-contexts leaves out each abstract's conclusion.
    """
    out_dir = out or Path(f"reports/bench-{name.value}")
    if name is Benchmark.load:
        _bench_load(url, questions, limit, clients, seconds, churn, out_dir)
        return
    if name is Benchmark.speed:
        _bench_speed(data, index, questions, limit, repeat, out_dir)
        return
    if data is None:
        raise InputError("--data", f"the {name.value} benchmark needs the data set folder, e.g. ../shared/external/...")

    settings = make_settings(
        index, cache_dir=cache or BENCH_CACHE, backend=backend.value if backend else None, pg_dsn=pg_dsn
    )
    embedder = make_embedder(settings)
    if name is Benchmark.support:
        from eval.benchmarks.support import run_support_bench
        from eval.report import write_json
        from rag.support import SupportScorer

        support = run_support_bench(data, settings, SupportScorer(embedder), limit, docs, settings.show_progress)
        write_json(support, out_dir)
        typer.echo(support.model_dump_json(indent=2))
        return
    from eval.benchmarks import covidqa, litqa2, pubmedqa
    from eval.benchmarks.common import BenchData, run_benchmark, write_bench_report
    from eval.report import bench_markdown

    loaders: dict[Benchmark, Callable[..., BenchData]] = {
        Benchmark.covidqa: covidqa.load,
        Benchmark.pubmedqa: pubmedqa.load,
        Benchmark.pubmedqa_contexts: partial(pubmedqa.load, conclusions=False),
        Benchmark.litqa2: litqa2.load,
    }
    bench = loaders[name](data, settings, docs)
    bench = bench.model_copy(update={"questions": bench.questions[:limit]})
    with _postgres_for(bench.settings) as bench_settings:
        bench = bench.model_copy(update={"settings": bench_settings})
        report = run_benchmark(bench, embedder, str(data), settings.show_progress)
    written = write_bench_report(report, out_dir)
    typer.echo(bench_markdown(report))
    typer.echo(f"wrote {', '.join(str(p) for p in written)}")


@contextmanager
def _postgres_for(settings: Settings) -> Iterator[Settings]:
    """The settings a benchmark runs with: with the pgvector backend and no DSN, a throwaway embedded server's."""
    if settings.backend != "pgvector" or settings.pg_dsn is not None:
        yield settings
        return
    from index.pg_server import EmbeddedPostgres

    with EmbeddedPostgres() as server:
        typer.echo(f"started an embedded PostgreSQL on 127.0.0.1:{server.port} for this run", err=True)
        yield settings.model_copy(update={"pg_dsn": SecretStr(server.dsn)})


def _bench_speed(
    data: Path | None, index: Path | None, questions: Path | None, limit: int | None, repeat: int, out: Path
) -> None:
    from eval.benchmarks.speed import run_speed_bench
    from eval.questions import load_questions
    from eval.report import write_json

    settings = make_settings(index, data)
    items = load_questions(questions or settings.data_dir / "dev_questions.jsonl")[:limit]
    report = run_speed_bench(settings.data_dir, settings, make_embedder(settings), items, repeat)
    write_json(report, out)
    typer.echo(report.model_dump_json(indent=2))


def _bench_load(
    url: str, questions: Path | None, limit: int | None, clients: int, seconds: float, churn: float | None, out: Path
) -> None:
    """Drive a running server with readers (and a curator); tokens come from ICRAG_API_TOKENS as the server's do."""
    from app.api_auth import tokens_by_role
    from eval.benchmarks.load import run_load
    from eval.questions import load_questions
    from eval.report import write_json

    settings = make_settings()
    asked = [q.question for q in load_questions(questions or settings.data_dir / "dev_questions.jsonl")[:limit]]
    tokens = tokens_by_role(settings.api_tokens)
    reader = tokens.get("reader") or tokens.get("curator") or tokens.get("admin")
    curator = tokens.get("curator") or tokens.get("admin")
    report = run_load(url, asked, clients, seconds, reader, curator, churn)
    write_json(report, out)
    typer.echo(report.model_dump_json(indent=2))


@eval_app.command("score")
@user_errors
def eval_score(
    answers: Annotated[
        Path,
        typer.Option(
            "--answers",
            help="JSONL of question, answer, contexts (or user_input, response, retrieved_contexts), "
            "optional key_facts or reference.",
        ),
    ],
    out: OutOption = None,
) -> None:
    """Score answers from any system: citation support and precision, key-fact recall."""
    from eval.judge import make_judge
    from eval.report import write_json
    from eval.scoring import load_answer_lines, score_answers

    settings = make_settings()
    lines = load_answer_lines(answers)
    report = score_answers(lines, make_judge(settings, make_embedder(settings)), str(answers))
    path = write_json(report, out or Path("reports/score"))
    typer.echo(json.dumps(report.answers.model_dump(), indent=2))
    typer.echo(f"wrote {path}")


@eval_app.command("compare")
@user_errors
def eval_compare(
    reports: Annotated[
        list[Path], typer.Argument(help="Folders written by `icrag eval run --out` (or their report.json files).")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for compare.json, compare.md and compare.png.")
    ] = None,
) -> None:
    """Compare evaluation runs side by side: their metrics, latency and the settings that differ."""
    from eval.compare import compare_reports, comparison_markdown, unique_labels, write_comparison
    from eval.report import read_eval_report

    if len(reports) < 2:
        raise InputError(reports[0], "only one report given; compare needs two or more")
    loaded = [read_eval_report(path) for path in reports]
    labels = unique_labels([_report_label(path) for path in reports])
    comparison = compare_reports(dict(zip(labels, loaded, strict=True)))
    typer.echo(comparison_markdown(comparison), nl=False)
    if out is not None:
        written = write_comparison(comparison, out)
        typer.echo(f"wrote {', '.join(str(p) for p in written)}")


def _report_label(path: Path) -> str:
    """A report's column name: its folder, or the file's own name when it is not a folder's report.json."""
    if path.is_dir() or path.name == "report.json":
        folder = path if path.is_dir() else path.parent
        return folder.resolve().name or str(path)
    return path.stem


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"

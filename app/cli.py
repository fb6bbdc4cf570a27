"""The ``icrag`` command line: index management, questions, evaluation and the app."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from typer.exceptions import TyperException

from app.cli_answer import ask, search
from app.cli_common import (
    IndexOption,
    JsonOption,
    make_embedder,
    make_settings,
    one_line,
    postgres_target,
    publish_to_postgres,
    user_errors,
)
from app.cli_eval import eval_app
from app.cli_evidence import evidence_app
from app.cli_serve import serve
from index.errors import InputError
from index.models import SourceInfo

if TYPE_CHECKING:
    from index.builder import BuildReport

app = typer.Typer(
    name="icrag",
    help="Cited answers from the evidence on leading integrated health and social care.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
index_app = typer.Typer(help="Build and change the evidence index.", no_args_is_help=True)
app.add_typer(index_app, name="index")


@app.callback()
def main_callback(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    """Cited answers from the evidence on leading integrated health and social care."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="icrag: %(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("bm25s", "sentence_transformers", "transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.INFO if verbose else logging.WARNING)
    # pypdf warns about every quirk it repairs ("EOF marker not found"); a file it cannot read
    # is reported once, as a one-line error naming the file.
    logging.getLogger("pypdf").setLevel(logging.INFO if verbose else logging.ERROR)


@index_app.command("build")
@user_errors
def index_build(
    data: Annotated[Path | None, typer.Option("--data", help="Folder of evidence files (default: data).")] = None,
    index: IndexOption = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if the index is up to date.")] = False,
    as_json: JsonOption = False,
    on_ray: Annotated[
        bool, typer.Option("--ray", help="Read, split and embed on a Ray cluster (needs the scale extra).")
    ] = False,
    address: Annotated[
        str | None,
        typer.Argument(
            help="With --ray: the cluster, 'auto' or HOST:PORT; without one a local Ray is started.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="With --ray: embedding actors (default: one per GPU, else per node)."),
    ] = None,
) -> None:
    """Index every evidence file in a folder (skipped when nothing changed); `--ray [ADDRESS]` builds on a cluster."""
    settings = make_settings(index, data)
    postgres = postgres_target(settings)  # with ICRAG_BACKEND=pgvector: a bad DSN fails before any embedding
    if not on_ray and (address is not None or workers is not None):
        raise InputError(address or "--workers", "a cluster address and --workers go with --ray")
    if on_ray:
        from index.ray_build import build_on_ray

        report = build_on_ray(settings, address, data_dir=settings.data_dir, force=force, workers=workers)
    else:
        from index.builder import IndexBuilder

        report = IndexBuilder(settings, make_embedder(settings)).build(settings.data_dir, force=force)
    _print_report(report, as_json, "up to date" if not report.written else "built")
    if postgres is not None:
        publish_to_postgres(postgres, settings, as_json)


@index_app.command("add")
@user_errors
def index_add(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Files to add (PDF, HTML, Markdown, text, CSV, JSON); a sources.csv is merged into the data folder's."
        ),
    ],
    index: IndexOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add or replace documents; unchanged files are skipped. A file whose document id another file holds is refused.

    With a sources.csv merged, --json prints {"report": ..., "sources": ...} instead of the report alone.
    """
    from index.library import Library, is_sources_file

    settings = make_settings(index)
    change = Library(settings, make_embedder(settings)).add_paths(paths, role="cli")
    if as_json and change.sources is not None:
        typer.echo(change.model_dump_json(indent=2))
        return
    if change.sources is not None:
        name = next(path.name for path in paths if is_sources_file(path.name))
        typer.echo(one_line(change.sources.summary(name)))
    if change.report is not None:
        _print_report(change.report, as_json, "updated" if change.report.written else "unchanged")


@index_app.command("remove")
@user_errors
def index_remove(
    doc_ids: Annotated[list[str], typer.Argument(help="Document ids, as `icrag index info` lists them.")],
    index: IndexOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remove documents from the index, and their files when they were uploaded in the app or through the API."""
    from index.library import Library

    settings = make_settings(index)
    change = Library(settings, make_embedder(settings)).remove(doc_ids, role="cli")
    if change.report is not None:
        _print_report(change.report, as_json, "updated")


@index_app.command("info")
@user_errors
def index_info(index: IndexOption = None, as_json: JsonOption = False) -> None:
    """Show the index's documents, sources and passage counts."""
    from index.store import IndexStore

    settings = make_settings(index)
    store = IndexStore.load(settings.index_dir, settings)
    manifest = store.manifest
    per_source = Counter(p.source_id for p in store.passages)
    records = Counter(p.source_id for p in store.passages if p.record is not None)
    query_encoder = make_embedder(settings).query_encoder()
    if as_json:
        payload = manifest.model_dump(mode="json")
        payload["passages_per_source"] = dict(sorted(per_source.items()))
        payload["records_per_source"] = dict(sorted(records.items()))
        payload["uncatalogued_sources"] = [sid for sid, source in manifest.sources.items() if not _has_record(source)]
        payload["query_encoder"] = query_encoder
        typer.echo(json.dumps(payload, indent=2))
        return
    typer.echo(f"index       {settings.index_dir}")
    typer.echo(f"model       {manifest.embedding_model} (dimension {manifest.dimension})")
    typer.echo(f"query encoder: {query_encoder}")
    typer.echo(f"built       {manifest.created_at} by icrag {manifest.icrag_version}")
    typer.echo(f"settings    {manifest.settings_hash}  {json.dumps(manifest.settings, default=str)}")
    typer.echo(f"passages    {manifest.n_passages}")
    typer.echo(f"coded records {sum(records.values())}")
    typer.echo(f"\ndocuments ({len(manifest.documents)})")
    for entry in manifest.documents:
        typer.echo(f"  {entry.doc_id:<40} {entry.kind:<9} {entry.n_passages:>5} passages  {entry.path}")
    catalogued = {sid: source for sid, source in manifest.sources.items() if _has_record(source)}
    typer.echo(f"\nsources ({len(catalogued)})")
    for source_id, source in catalogued.items():
        typer.echo(
            f"  {source_id:<18} {source.year:<5} {per_source[source_id]:>4} passages "
            f"{records[source_id]:>3} records  {source.title[:70]}"
        )
    others = [sid for sid in manifest.sources if sid not in catalogued]
    if others:
        typer.echo(f"\nother passages, without a bibliographic record ({sum(per_source[sid] for sid in others)})")
        for source_id in others:
            typer.echo(f"  {source_id:<40} {per_source[source_id]:>4} passages")


def _has_record(source: SourceInfo) -> bool:
    """Whether a source has bibliographic metadata, not just the id a file gave it."""
    return source != SourceInfo(source_id=source.source_id)


@app.command("app")
@user_errors
def run_app(
    port: Annotated[int | None, typer.Option("--port", help="Port to serve on (default 8501).")] = None,
    index: IndexOption = None,
) -> None:
    """Start the Streamlit interface on 127.0.0.1."""
    settings = make_settings(index, app_port=port)
    script = Path(__file__).with_name("streamlit_app.py")
    env = {**os.environ, "ICRAG_INDEX_DIR": str(settings.index_dir.resolve())}
    command = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.address", "127.0.0.1",
        "--server.port", str(settings.app_port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    typer.echo(f"icrag app on http://127.0.0.1:{settings.app_port}", err=True)
    raise typer.Exit(subprocess.call(command, env=env))


def _print_report(report: BuildReport, as_json: bool, verb: str) -> None:
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    for line in report.failed:
        typer.echo(f"icrag: warning: skipped {one_line(line)}", err=True)
    parts = [f"index {verb}: {report.n_documents} documents, {report.n_passages} passages"]
    if report.added:
        parts.append(f"added {len(report.added)} ({report.n_embedded} passages embedded)")
    if report.removed:
        parts.append(f"removed {', '.join(report.removed)}")
    if report.unchanged:
        parts.append(f"{len(report.unchanged)} unchanged")
    if report.failed:
        parts.append(f"{len(report.failed)} skipped")
    typer.echo("; ".join(parts) + f" in {report.seconds:.1f}s")


app.command("ask")(ask)
app.command("search")(search)
app.command("serve")(serve)
app.add_typer(eval_app, name="eval")
app.add_typer(evidence_app, name="evidence")


def main() -> None:
    """Entry point of the ``icrag`` console script.

    A usage mistake (unknown command or option, missing argument, out-of-range value) is a
    user error like any other: one line on stderr and exit code 2, not a boxed usage screen.
    """
    try:
        code = app(standalone_mode=False)
    except TyperException as exc:
        ctx = getattr(exc, "ctx", None)
        if exc.exit_code != 2 or ctx is None:
            raise
        message = exc.format_message()
        if type(exc).__name__ == "NoArgsIsHelpError":  # a group called without a command: its help is shown
            if message.strip():
                typer.echo(message, err=True)
        else:
            typer.echo(f"icrag: error: {message} (see '{ctx.command_path} --help')", err=True)
        raise SystemExit(2) from None
    except typer.Abort:
        typer.echo("icrag: error: interrupted", err=True)
        raise SystemExit(130) from None
    raise SystemExit(code if isinstance(code, int) else 0)

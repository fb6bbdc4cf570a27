"""Options and error handling shared by every ``icrag`` command."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer
from pydantic import ValidationError

from index.embedding import Embedder
from index.errors import IcragError, InputError, one_line, os_error_message
from index.settings import Settings

if TYPE_CHECKING:
    from index.pgvector_store import PgVectorStore

P = ParamSpec("P")
R = TypeVar("R")

IndexOption = Annotated[Path | None, typer.Option("--index", help="Index folder (default: .icrag/index).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a readable summary.")]
FilterOption = Annotated[
    list[str] | None,
    typer.Option("--filter", help="KEY=VALUE; keys: source_id, doc_id, component, kind, year, section."),
]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error to stderr and return the exit to raise."""
    typer.echo(f"icrag: error: {one_line(message)}", err=True)
    return typer.Exit(code)


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn icrag's user-facing errors into one line on stderr and exit code 2.

    Besides icrag's own errors and invalid settings, a filesystem error (an output folder that
    is a file, a folder that cannot be written) names its path, and a damaged SQLite file says so.
    """

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except IcragError as exc:
            raise fail(str(exc)) from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "settings"
            raise fail(f"invalid setting {where}: {first['msg']}") from None
        except OSError as exc:
            raise fail(os_error_message(exc)) from None
        except sqlite3.DatabaseError as exc:  # the embedding cache names its file; this is a last resort
            raise fail(f"embedding cache is damaged: {exc}; delete it to rebuild it") from None
        except KeyboardInterrupt:
            raise fail("interrupted; the index is unchanged", 130) from None

    return wrapper


def make_embedder(settings: Settings) -> Embedder:
    """The embedder of a command: the one place the command line makes one, handed to what needs it."""
    return Embedder(settings)


def make_settings(index: Path | None = None, data: Path | None = None, **overrides: object) -> Settings:
    """Settings from the environment, with command-line options taking precedence."""
    values = {k: v for k, v in overrides.items() if v is not None}
    if index is not None:
        values["index_dir"] = index
    if data is not None:
        values["data_dir"] = data
    return Settings(**values)  # type: ignore[arg-type]


def parse_filters(values: list[str] | None) -> dict[str, str]:
    """``KEY=VALUE`` strings as a dict, or InputError naming the malformed one or a key given twice."""
    filters: dict[str, str] = {}
    for value in values or []:
        key, sep, wanted = value.partition("=")
        if not sep or not key.strip() or not wanted.strip():
            raise InputError(f"--filter {value}", "expected KEY=VALUE, e.g. --filter component='working with power'")
        if key.strip() in filters:
            raise InputError(f"--filter {key.strip()}", "given more than once; a key takes one value")
        filters[key.strip()] = wanted.strip()
    return filters


def postgres_target(settings: Settings) -> PgVectorStore | None:
    """Where ``icrag index build`` also writes the index: PostgreSQL with ICRAG_BACKEND=pgvector, else nowhere."""
    if settings.backend != "pgvector":
        return None
    from index.pgvector_store import PgVectorStore

    return PgVectorStore.from_settings(settings)


def publish_to_postgres(postgres: PgVectorStore, settings: Settings, as_json: bool = False) -> None:
    """Write the index folder's version to PostgreSQL unless it is there already, and say so (stderr with --json)."""
    from index.store import IndexStore

    written = postgres.sync(IndexStore.load(settings.index_dir, settings))
    status = (
        f"wrote {written.n_passages} passages and {written.n_units} units in {written.seconds:.1f}s"
        if written.written
        else "up to date"
    )
    typer.echo(f"{written.where}: {status}", err=as_json)

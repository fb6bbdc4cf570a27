"""``icrag serve``: the HTTP API on uvicorn, with one or several worker processes sharing the index."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from typing import Annotated

import typer

from app.api_auth import parse_tokens
from app.cli_common import IndexOption, make_settings, user_errors
from index.errors import InputError
from index.network import is_loopback

#: Where ``icrag serve`` listens unless told otherwise.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _check_port_free(host: str, port: int) -> None:
    """Refuse a port already in use with one line, before any worker loads the model."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InputError(f"{host}:{port}", f"cannot listen there ({exc.strerror or exc})") from None


@user_errors
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to bind (default 127.0.0.1).")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = DEFAULT_PORT,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Worker processes sharing the index.")] = 1,
    index: IndexOption = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs); tokens and roles come from ICRAG_API_TOKENS."""
    import uvicorn

    settings = make_settings(index)
    tokens = parse_tokens(settings.api_tokens)
    if not tokens and not is_loopback(host):
        raise InputError(
            f"--host {host}",
            "refusing to serve beyond this machine with no tokens; set ICRAG_API_TOKENS (e.g. reader:...,curator:...)",
        )
    _check_port_free(host, port)
    metrics_dir = tempfile.mkdtemp(prefix="icrag-metrics-")
    os.environ["ICRAG_INDEX_DIR"] = str(settings.index_dir.resolve())
    # Read when a worker first imports the metrics (not imported here, so one in-process worker reads it too).
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    access = "open to every caller (no ICRAG_API_TOKENS)" if not tokens else f"{len(tokens)} token(s)"
    typer.echo(f"icrag API on http://{host}:{port} ({workers} worker(s), {access}); docs at /docs", err=True)
    try:
        uvicorn.run(
            "app.api:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            timeout_graceful_shutdown=10,
        )
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)

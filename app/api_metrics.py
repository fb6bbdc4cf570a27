"""Prometheus metrics of the HTTP API: requests by route and status, latency, errors, index size.

``icrag serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder before its workers start,
so ``/metrics`` adds up every worker's counts whichever worker answers the scrape.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

#: Set by ``icrag serve`` before the first import of this module: the workers' shared metrics folder.
_MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

REQUESTS = Counter("icrag_requests_total", "HTTP requests answered, by route and status.", ["route", "status"])
ERRORS = Counter("icrag_errors_total", "Requests that failed inside the server (status 500).", ["route"])
LATENCY = Histogram(
    "icrag_request_seconds",
    "Time to answer a request, by route.",
    ["route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
PASSAGES = Gauge("icrag_index_passages", "Passages in the loaded index.", multiprocess_mode="livemax")
DOCUMENTS = Gauge("icrag_index_documents", "Documents in the loaded index.", multiprocess_mode="livemax")

__all__ = ["CONTENT_TYPE_LATEST", "DOCUMENTS", "ERRORS", "LATENCY", "PASSAGES", "REQUESTS", "exposition"]


def exposition() -> bytes:
    """The metrics in Prometheus text format, summed over the server's workers when there are several."""
    if _MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()

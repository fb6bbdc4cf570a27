"""PNG charts of reports.

Figures are drawn on matplotlib's Agg canvas through ``matplotlib.figure.Figure`` directly,
so no display, no pyplot state and no global backend switch are involved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.figure import Figure


def metric_bars(values: Mapping[str, Mapping[str, float | None]], path: Path, title: str) -> Path:
    """Grouped bars: one group per metric, one bar per system (missing values left out)."""
    systems = list(values)
    metrics = list(next(iter(values.values())).keys()) if values else []
    width = 0.8 / max(1, len(systems))
    figure = Figure(figsize=(max(6.0, 1.1 * len(metrics) * max(1, len(systems)) ** 0.5), 4.0))
    axes = figure.subplots()
    for i, system in enumerate(systems):
        xs = [m + i * width for m in range(len(metrics))]
        ys = [values[system].get(metric) for metric in metrics]
        bars = axes.bar([x for x, y in zip(xs, ys, strict=True) if y is not None], [y for y in ys if y is not None],
                        width=width, label=system)  # fmt: skip
        axes.bar_label(bars, fmt="%.2f", fontsize=7)
    axes.set_xticks([m + width * (len(systems) - 1) / 2 for m in range(len(metrics))])
    axes.set_xticklabels(metrics, rotation=30, ha="right")
    axes.set_ylim(0, 1.05)
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    return path


def latency_boxes(latencies: Mapping[str, Sequence[float]], path: Path, title: str) -> Path:
    """Distribution of latencies (milliseconds) per system as box plots over the points."""
    figure = Figure(figsize=(max(5.0, 1.6 * len(latencies)), 4.0))
    axes = figure.subplots()
    names = list(latencies)
    axes.boxplot([list(latencies[n]) or [0.0] for n in names], showfliers=True)
    axes.set_xticks(range(1, len(names) + 1))
    axes.set_xticklabels(names)
    axes.set_yscale("log")
    axes.set_ylabel("milliseconds (log scale)")
    axes.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    return path

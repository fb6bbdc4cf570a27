"""Evaluation: question sets, metrics, benchmarks and reports."""

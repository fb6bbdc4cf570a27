"""Retrieval benchmarks on public data sets, and the support-scorer and speed benchmarks."""

"""GPU check: embedding throughput (bf16 sorted and pipelined vs fp32 vs tokenising in the loop) and exact search.

Run on a machine with a CUDA GPU, from the repository root::

    python -m eval.benchmarks.gpu_check --n 200000

It prints one JSON object: passages per second for each way of embedding the bundled corpus's
passages (cycled to N texts), how far bf16 vectors are from fp32 ones, and the time of an
exact top-10 search for 100 queries over 1M and 10M random fp16 vectors (torch matmul + topk).
docs/SCALING.md quotes these numbers. ``--n 200 --device cpu`` runs the same code on a CPU
in seconds (with small search sizes), to check the script itself.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.chunking import split_document
from index.embedding import encode_sorted, load_model
from index.loaders import SOURCES_FILE, discover, load_file, read_sources
from index.settings import Settings

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

GPU_SEARCH_SIZES = (1_000_000, 10_000_000)
DTYPE_NAMES = ("bf16", "fp32")
#: On a CPU the check only proves the script runs: small searches, fp32 (bf16 matmuls are slow there).
CPU_SEARCH_SIZES = (10_000, 100_000)
#: Ways of embedding compared: icrag's loop with the tokenizer a batch ahead or inline, and sentence-transformers'.
WAYS = ("icrag sorted, tokenised ahead", "icrag sorted, tokenised in the loop", "sentence-transformers encode")


def corpus_texts(data_dir: Path, n: int) -> list[str]:
    """N passage texts: the folder's passages, as an index build cuts them, cycled until there are N."""
    settings = Settings(data_dir=data_dir, show_progress=False)
    sources = read_sources(data_dir / SOURCES_FILE)
    passages = [
        p.text for path in discover(data_dir) for p in split_document(load_file(path, settings, sources), settings)
    ]
    if not passages:
        raise SystemExit(f"no passages in {data_dir}")
    return [passages[i % len(passages)] for i in range(n)]


def _dtypes() -> dict[str, torch.dtype]:
    import torch

    return {"bf16": torch.bfloat16, "fp32": torch.float32}


def _model(name: str, device: str, dtype: torch.dtype) -> SentenceTransformer:
    model = load_model(name, "cpu")
    model.to(device=device, dtype=dtype)
    return model


def _sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def _timed(run: Callable[[], np.ndarray], device: str) -> tuple[float, np.ndarray]:
    _sync(device)
    started = time.perf_counter()
    vectors = run()
    _sync(device)
    return time.perf_counter() - started, vectors


def embedding_runs(
    texts: Sequence[str], device: str, batch_sizes: Sequence[int], dtypes: Sequence[str], model_name: str
) -> dict[str, Any]:
    """Passages per second of each way of embedding, and bf16's distance from fp32 on the same texts."""
    import torch

    runs: list[dict[str, Any]] = []
    kept: dict[str, np.ndarray] = {}
    for dtype_name in dtypes:
        model = _model(model_name, device, _dtypes()[dtype_name])
        encode_sorted(model, list(texts[:64]), 32, True)  # warm up: kernels, allocator
        for batch_size in batch_sizes:
            for way in WAYS:
                seconds, vectors = _timed(partial(_embed, model, texts, batch_size, way), device)
                runs.append(
                    {
                        "dtype": dtype_name,
                        "way": way,
                        "batch_size": batch_size,
                        "seconds": round(seconds, 4),
                        "passages_per_s": round(len(texts) / seconds, 1),
                    }
                )
                kept.setdefault(dtype_name, vectors)
        del model
        if device == "cuda":
            torch.cuda.empty_cache()
    result: dict[str, Any] = {"runs": runs}
    if "bf16" in kept and "fp32" in kept:
        cosine = np.sum(kept["bf16"] * kept["fp32"], axis=1)
        result["bf16_vs_fp32"] = {
            "min_cosine": round(float(cosine.min()), 6),
            "mean_cosine": round(float(cosine.mean()), 6),
            "max_abs_diff": round(float(np.abs(kept["bf16"] - kept["fp32"]).max()), 6),
        }
    return result


def _embed(model: SentenceTransformer, texts: Sequence[str], batch_size: int, way: str) -> np.ndarray:
    if way == "sentence-transformers encode":
        vectors = model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)
    return encode_sorted(model, texts, batch_size, True, prefetch=way == "icrag sorted, tokenised ahead")


def search_runs(
    device: str, sizes: Sequence[int], dim: int, queries: int, k: int, repeats: int
) -> list[dict[str, Any]]:
    """Milliseconds of an exact top-k search for a batch of queries over N random unit fp16 vectors."""
    import torch

    out = []
    generator = torch.Generator(device=device).manual_seed(0)
    dtype = torch.float16
    for n in sizes:
        vectors = torch.randn(n, dim, device=device, dtype=dtype, generator=generator)
        vectors = torch.nn.functional.normalize(vectors, dim=1)
        batch = torch.nn.functional.normalize(
            torch.randn(queries, dim, device=device, dtype=dtype, generator=generator), dim=1
        )
        times = []
        with torch.inference_mode():
            for attempt in range(repeats + 2):  # two warm-ups
                _sync(device)
                started = time.perf_counter()
                scores = batch @ vectors.T
                top = torch.topk(scores, k, dim=1)
                _sync(device)
                if attempt >= 2:
                    times.append((time.perf_counter() - started) * 1000)
        assert top.indices.shape == (queries, k)
        out.append(
            {
                "n_vectors": n,
                "dim": dim,
                "dtype": "fp16",
                "queries": queries,
                "k": k,
                "ms_p50": round(statistics.median(times), 3),
                "ms_min": round(min(times), 3),
                "vectors_gib": round(n * dim * 2 / 2**30, 2),
            }
        )
        del vectors, scores, top
        if device == "cuda":
            torch.cuda.empty_cache()
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Parse options, run every check, print one JSON object (and return it)."""
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=100_000, help="Texts to embed per run.")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--data", type=Path, default=Path("data"), help="Evidence folder whose passages are embedded.")
    parser.add_argument("--batch-sizes", default="", help="Comma-separated batch sizes (default: 32,256; CPU 32).")
    parser.add_argument("--dtypes", default="", help="Comma-separated of bf16,fp32 (default: both; CPU fp32).")
    parser.add_argument("--search-sizes", default="", help="Comma-separated vector counts (default: 1M,10M on GPU).")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=10, help="Timed searches per size (median reported).")
    parser.add_argument("--skip-embedding", action="store_true")
    parser.add_argument("--skip-search", action="store_true")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gpu_check: no CUDA GPU visible to PyTorch; use --device cpu to check the script")
    settings = Settings(show_progress=False)
    if args.device == "cpu":
        torch.set_num_threads(max(1, torch.get_num_threads()))
    default_sizes = GPU_SEARCH_SIZES if args.device == "cuda" else CPU_SEARCH_SIZES
    sizes = [int(s) for s in args.search_sizes.split(",") if s.strip()] or list(default_sizes)
    report: dict[str, Any] = {
        "check": "gpu",
        "device": args.device,
        "device_name": torch.cuda.get_device_name(0) if args.device == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__,
        "model": settings.embedding_model,
    }
    if not args.skip_embedding:
        texts = corpus_texts(args.data, args.n)
        report["n_texts"] = len(texts)
        report["mean_chars"] = round(sum(map(len, texts)) / len(texts), 1)
        gpu = args.device == "cuda"
        batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()] or ([32, 256] if gpu else [32])
        dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()] or (["bf16", "fp32"] if gpu else ["fp32"])
        unknown = set(dtypes) - set(DTYPE_NAMES)
        if unknown:
            raise SystemExit(f"gpu_check: unknown dtype {sorted(unknown)[0]}; choose from {', '.join(DTYPE_NAMES)}")
        report["embedding"] = embedding_runs(texts, args.device, batch_sizes, dtypes, settings.embedding_model)
    if not args.skip_search:
        report["search"] = search_runs(args.device, sizes, 384, args.queries, 10, args.repeats)
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()

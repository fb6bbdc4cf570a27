"""Build, extend and shrink an index; every change ends equal to a full rebuild of its inputs."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydantic import Field

from index.chunking import split_document
from index.embedding import Embedder
from index.errors import IcragError, IndexMismatchError, IndexMissingError, InputError
from index.loaders import SOURCES_FILE, discover, load_file, read_sources
from index.models import Document, Passage, Record, SourceInfo
from index.settings import Settings
from index.store import IndexStore, check_compatible, read_manifest, write_lock

logger = logging.getLogger(__name__)


class BuildReport(Record):
    """What an index command did, for the command line and the app."""

    index_dir: str = Field(description="Folder of the index.")
    added: list[str] = Field(default_factory=list, description="Documents added or replaced.")
    unchanged: list[str] = Field(default_factory=list, description="Documents skipped by checksum.")
    removed: list[str] = Field(default_factory=list, description="Documents removed.")
    failed: list[str] = Field(default_factory=list, description="One line per file that could not be read.")
    n_documents: int = Field(0, description="Documents in the index afterwards.")
    n_passages: int = Field(0, description="Passages in the index afterwards.")
    n_embedded: int = Field(0, description="Passages embedded for this change.")
    seconds: float = Field(0.0, description="Wall time of the command.")
    written: bool = Field(False, description="Whether a new index version was written.")


class IndexBuilder:
    """Turns evidence files into an index on disk; one instance per settings object."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or Embedder(settings)

    @property
    def index_dir(self) -> Path:
        """Folder of the index this builder writes."""
        return self.settings.index_dir

    def build(self, data_dir: Path | None = None, force: bool = False) -> BuildReport:
        """Index every evidence file under a folder; skip the work when nothing changed."""
        data_dir = data_dir or self.settings.data_dir
        files = discover(data_dir)
        if not files:
            raise InputError(data_dir, "no evidence files found (supported: .pdf .html .md .txt .csv .json)")
        started = time.perf_counter()
        with write_lock(self.index_dir):
            sources = read_sources(data_dir / SOURCES_FILE)
            if not force and self._is_current(files, sources):
                n_docs, n_passages = self._counts()
                return BuildReport(
                    index_dir=str(self.index_dir),
                    unchanged=[p.name for p in files],
                    n_documents=n_docs,
                    n_passages=n_passages,
                    seconds=time.perf_counter() - started,
                )
            documents, failed = self._load_all(files, sources)
            if not documents:
                raise InputError(data_dir, "none of the evidence files could be read: " + "; ".join(failed))
            report = self._write([], documents, sources, failed)
        report.seconds = time.perf_counter() - started
        return report

    def add(self, paths: Sequence[Path]) -> BuildReport:
        """Add or replace documents; unchanged files (same checksum) are skipped."""
        started = time.perf_counter()
        with write_lock(self.index_dir):
            store = self._load_existing()
            sources = dict(store.manifest.sources) if store else {}
            sources.update(read_sources(self.settings.data_dir / SOURCES_FILE))
            for path in paths:
                if path.name == SOURCES_FILE:
                    sources.update(read_sources(path))
            evidence = [p for p in paths if p.name != SOURCES_FILE]
            documents, failed = self._load_all(evidence, sources)
            existing = {entry.doc_id: entry.checksum for entry in store.manifest.documents} if store else {}
            changed = [d for d in documents if existing.get(d.doc_id) != d.checksum]
            unchanged = [d.doc_id for d in documents if existing.get(d.doc_id) == d.checksum]
            if not changed:
                if failed and not unchanged:
                    raise InputError(evidence[0] if len(evidence) == 1 else "add", "; ".join(failed))
                n_docs, n_passages = self._counts()
                return BuildReport(
                    index_dir=str(self.index_dir),
                    unchanged=unchanged,
                    failed=failed,
                    n_documents=n_docs,
                    n_passages=n_passages,
                    seconds=time.perf_counter() - started,
                )
            report = self._write(self._kept(store, {d.doc_id for d in changed}), changed, sources, failed, store)
        report.unchanged = unchanged
        report.seconds = time.perf_counter() - started
        return report

    def remove(self, doc_ids: Sequence[str]) -> BuildReport:
        """Remove documents by id (as listed by ``icrag index info``)."""
        started = time.perf_counter()
        with write_lock(self.index_dir):
            store = self._load_existing()
            if store is None:
                raise IndexMissingError(f"no index at {self.index_dir}; build one with `icrag index build`")
            known = {entry.doc_id for entry in store.manifest.documents}
            unknown = [d for d in doc_ids if d not in known]
            if unknown:
                raise InputError(
                    unknown[0], f"no such document in the index (known: {', '.join(sorted(known)) or 'none'})"
                )
            kept = self._kept(store, set(doc_ids))
            report = self._write(kept, [], dict(store.manifest.sources), [], store)
        report.removed = list(doc_ids)
        report.seconds = time.perf_counter() - started
        return report

    # --- internals ----------------------------------------------------------------------

    def _load_existing(self) -> IndexStore | None:
        try:
            return IndexStore.load(self.index_dir, self.settings)
        except IndexMissingError:
            return None

    def _is_current(self, files: list[Path], sources: dict[str, SourceInfo]) -> bool:
        """Whether the index on disk already holds exactly these files under these settings."""
        try:
            manifest = read_manifest(self.index_dir)
            check_compatible(manifest, self.settings, self.index_dir)
        except IcragError:
            return False
        indexed = {entry.path: entry.checksum for entry in manifest.documents}
        on_disk = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
        stored_sources = {k: v for k, v in manifest.sources.items() if k in sources}
        current_sources = {k: v for k, v in sources.items() if k in manifest.sources}
        return indexed == on_disk and stored_sources == current_sources

    def _counts(self) -> tuple[int, int]:
        manifest = read_manifest(self.index_dir)
        return len(manifest.documents), manifest.n_passages

    def _load_all(self, paths: Sequence[Path], sources: dict[str, SourceInfo]) -> tuple[list[Document], list[str]]:
        documents: dict[str, Document] = {}
        failed: list[str] = []
        for path in paths:
            try:
                document = load_file(path, self.settings, sources)
            except InputError as exc:
                logger.warning("skipped %s", exc)
                failed.append(str(exc))
                continue
            if document.doc_id in documents:
                failed.append(f"{path}: another file has the same document id '{document.doc_id}'")
                continue
            documents[document.doc_id] = document
        return list(documents.values()), failed

    @staticmethod
    def _kept(store: IndexStore | None, dropped: set[str]) -> list[tuple[Document, list[Passage], np.ndarray]]:
        if store is None:
            return []
        kept = []
        for doc_id, document in store.documents.items():
            if doc_id in dropped:
                continue
            rows = [i for i, p in enumerate(store.passages) if p.doc_id == doc_id]
            kept.append((document, [store.passages[i] for i in rows], store.vectors[rows]))
        return kept

    def _write(
        self,
        kept: list[tuple[Document, list[Passage], np.ndarray]],
        new_documents: list[Document],
        sources: dict[str, SourceInfo],
        failed: list[str],
        previous: IndexStore | None = None,
    ) -> BuildReport:
        new_passages = [p for d in new_documents for p in split_document(d, self.settings, sources)]
        if new_documents and not new_passages:
            raise InputError(new_documents[0].path, "no passages of readable text")
        vectors = self.embedder.embed([p.text for p in new_passages])
        dimension = self.embedder.dimension if not kept else kept[0][2].shape[1]
        documents = [d for d, _, _ in kept] + new_documents
        passages = [p for _, ps, _ in kept for p in ps] + new_passages
        matrix = np.concatenate([v for _, _, v in kept] + [vectors.reshape(-1, dimension)], axis=0)
        if previous is not None and previous.manifest.dimension != dimension:
            raise IndexMismatchError("embedding dimension changed; rebuild the index with `icrag index build`")
        store = IndexStore.create(
            self.settings, self.settings.embedding_model, dimension, documents, passages, matrix, sources
        )
        store.save(self.index_dir)
        return BuildReport(
            index_dir=str(self.index_dir),
            added=[d.doc_id for d in new_documents],
            failed=failed,
            n_documents=len(documents),
            n_passages=len(passages),
            n_embedded=len(new_passages),
            written=True,
        )

"""Build, extend and shrink an index; every change ends equal to a full rebuild of its inputs."""

from __future__ import annotations

import hashlib
import logging
import stat
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import numpy as np
from pydantic import Field

from index.chunking import split_document
from index.embedding import Embedder
from index.errors import IcragError, IndexMismatchError, IndexMissingError, InputError
from index.loaders import SOURCES_FILE, discover, load_file, read_sources
from index.models import Document, Manifest, Passage, Record, SkippedFile, SourceInfo
from index.roles import ROLE_CODE, passage_units
from index.sentences import word_window_spans
from index.settings import Settings
from index.store import IndexStore, check_compatible, read_manifest, write_lock
from index.units import NO_ROLE, SENTENCE, WINDOW, Unit

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


@dataclass
class _Indexed:
    """One document's share of an index."""

    document: Document
    passages: list[Passage]
    vectors: np.ndarray
    unit_vectors: list[np.ndarray]
    units: list[list[Unit]]


@dataclass(frozen=True)
class _Change:
    """One new version of an index: what stays, what is (re)embedded, and what it cites and skipped."""

    kept: list[_Indexed]
    sources: dict[str, SourceInfo]
    added: list[Document] = field(default_factory=list)
    failed: list[SkippedFile] = field(default_factory=list)
    previous: IndexStore | None = None
    earlier_skipped: Sequence[SkippedFile] = ()


class IndexBuilder:
    """Turns evidence files into an index on disk; one instance per settings object."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder

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
            current = None if force else self._current_manifest(files, sources)
            if current is not None:
                return BuildReport(
                    index_dir=str(self.index_dir),
                    unchanged=[entry.path for entry in current.documents],
                    failed=[f.problem for f in current.skipped],
                    n_documents=len(current.documents),
                    n_passages=current.n_passages,
                    seconds=time.perf_counter() - started,
                )
            documents, failed = self._load_all(files, sources)
            if not documents:
                problems = "; ".join(f.problem for f in failed)
                raise InputError(data_dir, "none of the evidence files could be read: " + problems)
            report = self._write(_Change(kept=[], added=documents, sources=sources, failed=failed))
        report.seconds = time.perf_counter() - started
        return report

    def add(
        self, paths: Sequence[Path], *, strict: bool = False, names: Mapping[Path, str] | None = None
    ) -> BuildReport:
        """Add or replace documents; unchanged files (same checksum) are skipped.

        A file that cannot be read is skipped and reported, unless ``strict``: then the first such
        file raises InputError before anything is written, so a batch goes in whole or not at all.
        ``names`` says what to call files in problems when their paths mean nothing to the user
        (an upload staged in a temporary folder); a file not in it is called by its path.
        """
        started = time.perf_counter()
        with write_lock(self.index_dir):
            store = self._load_existing()
            sources = dict(store.manifest.sources) if store else {}
            sources.update(read_sources(self.settings.data_dir / SOURCES_FILE))
            for path in paths:
                if path.name == SOURCES_FILE:
                    sources.update(read_sources(path))
            evidence = [p for p in paths if p.name != SOURCES_FILE]
            documents, failed = self._load_all(evidence, sources, strict=strict, names=names or {})
            existing = {entry.doc_id: entry.checksum for entry in store.manifest.documents} if store else {}
            changed = [d for d in documents if existing.get(d.doc_id) != d.checksum]
            unchanged = [d.doc_id for d in documents if existing.get(d.doc_id) == d.checksum]
            if not changed:
                if failed and not unchanged:
                    # Each line already names its file; a prefix would repeat it.
                    raise IcragError("; ".join(f.problem for f in failed))
                n_docs, n_passages = self._counts()
                return BuildReport(
                    index_dir=str(self.index_dir),
                    unchanged=unchanged,
                    failed=[f.problem for f in failed],
                    n_documents=n_docs,
                    n_passages=n_passages,
                    seconds=time.perf_counter() - started,
                )
            tried = {p.name for p in evidence}
            earlier = [f for f in store.manifest.skipped if f.path not in tried] if store else []
            kept = self._kept(store, {d.doc_id for d in changed})
            report = self._write(
                _Change(
                    kept=kept, added=changed, sources=sources, failed=failed, previous=store, earlier_skipped=earlier
                ),
                strict=strict,
            )
        report.unchanged = unchanged
        report.seconds = time.perf_counter() - started
        return report

    def update_sources(self) -> BuildReport:
        """Give the indexed passages the publication details ``data_dir/sources.csv`` holds now.

        The documents stay as they are, wherever they were added from, and nothing is embedded
        again; only what citations carry (title, authors, year, DOI, ...) changes.
        """
        started = time.perf_counter()
        with write_lock(self.index_dir):
            store = self._load_existing()
            if store is None:
                raise IndexMissingError(f"no index at {self.index_dir}; build one with `icrag index build`")
            sources = dict(store.manifest.sources)
            sources.update(read_sources(self.settings.data_dir / SOURCES_FILE))
            kept = self._kept(store, set())
            report = self._write(
                _Change(kept=kept, sources=sources, previous=store, earlier_skipped=store.manifest.skipped)
            )
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
            sources = dict(store.manifest.sources)
            report = self._write(
                _Change(kept=kept, sources=sources, previous=store, earlier_skipped=store.manifest.skipped)
            )
        report.removed = list(doc_ids)
        report.seconds = time.perf_counter() - started
        return report

    # --- internals ----------------------------------------------------------------------

    def _load_existing(self) -> IndexStore | None:
        try:
            return IndexStore.load(self.index_dir, self.settings)
        except IndexMissingError:
            return None

    def _current_manifest(self, files: list[Path], sources: dict[str, SourceInfo]) -> Manifest | None:
        """The manifest of the index on disk when it already reflects exactly these files and settings.

        Files that could not be indexed count as reflected while their bytes are unchanged, so a
        folder with one bad file is not re-indexed on every build.
        """
        try:
            manifest = read_manifest(self.index_dir)
            check_compatible(manifest, self.settings, self.index_dir)
        except IcragError:
            return None
        seen = {entry.path: entry.checksum for entry in manifest.documents}
        skipped = {f.path: f.checksum for f in manifest.skipped}
        if seen.keys() & skipped.keys():
            return None  # one name both indexed and skipped (two folders, or a file that broke): look again
        seen.update(skipped)
        on_disk = {p.name: self._fingerprint(p) for p in files}
        if "" in on_disk.values():
            return None
        return manifest if seen == on_disk and not _sources_changed(manifest, sources) else None

    def _fingerprint(self, path: Path) -> str:
        return _fingerprint(path, self.settings.max_file_mb * 1024 * 1024)

    def _counts(self) -> tuple[int, int]:
        manifest = read_manifest(self.index_dir)
        return len(manifest.documents), manifest.n_passages

    def _load_all(
        self,
        paths: Sequence[Path],
        sources: dict[str, SourceInfo],
        *,
        strict: bool = False,
        names: Mapping[Path, str] | None = None,
    ) -> tuple[list[Document], list[SkippedFile]]:
        """Read files into documents; the files that fail, with one-line problems naming them as ``names`` says."""
        documents: dict[str, Document] = {}
        failed: list[SkippedFile] = []
        for path, document in zip(paths, self._read(paths, sources), strict=True):
            label = (names or {}).get(path)
            if isinstance(document, InputError):
                exc = document
                error = InputError(label, exc.problem) if label is not None and exc.path == str(path) else exc
                if strict:
                    raise error from None
                logger.info("skipped %s", error)  # reported through BuildReport.failed, not twice
                failed.append(SkippedFile(path=path.name, checksum=self._fingerprint(path), problem=str(error)))
                continue
            if document.doc_id in documents:
                problem = f"another file has the same document id '{document.doc_id}'"
                if strict:
                    raise InputError(label or path, problem)
                failed.append(
                    SkippedFile(path=path.name, checksum=document.checksum, problem=f"{label or path}: {problem}")
                )
                continue
            documents[document.doc_id] = document
        return list(documents.values()), failed

    def _read(self, paths: Sequence[Path], sources: dict[str, SourceInfo]) -> Iterator[Document | InputError]:
        """Each file as a Document, or the InputError it gave, in order and one at a time (a strict batch stops early).

        A hook: the Ray build (index.ray_build) reads its files on a cluster instead.
        """
        for path in paths:
            try:
                yield load_file(path, self.settings, sources)
            except InputError as exc:
                yield exc

    def _split(self, document: Document, sources: dict[str, SourceInfo]) -> list[Passage]:
        """A document's passages (a hook, like ``_read``)."""
        return split_document(document, self.settings, sources)

    def _units(self, passages: Sequence[Passage]) -> list[list[Unit]]:
        """Each passage's units: its sentences with their roles, then its word windows (a hook, like ``_read``)."""
        return [passage_unit_list(p) for p in passages]

    @staticmethod
    def _kept(store: IndexStore | None, dropped: set[str]) -> list[_Indexed]:
        """Documents of an index that stay, with their passages and vectors (nothing re-embedded)."""
        if store is None:
            return []
        kept = []
        for doc_id, document in store.documents.items():
            if doc_id in dropped:
                continue
            rows = [i for i, p in enumerate(store.passages) if p.doc_id == doc_id]
            units = [store.units_of(i) for i in rows]
            kept.append(
                _Indexed(
                    document,
                    [store.passages[i] for i in rows],
                    store.vectors[rows],
                    [vectors for vectors, _ in units],
                    [described for _, described in units],
                )
            )
        return kept

    def _embed(self, passages: list[Passage]) -> tuple[np.ndarray, list[np.ndarray], list[list[Unit]]]:
        """Vectors of passages and of their units, with the units themselves, in one pass.

        Units are the passage's sentences, each with its role, and, for passages longer than a
        window, its 64-word windows: retrieval scores a passage by its best sentence and its best window.
        """
        described = self._units(passages)
        unit_texts = [[p.text[u.start : u.end] for u in units] for p, units in zip(passages, described, strict=True)]
        flat = [p.text for p in passages] + [t for texts in unit_texts for t in texts]
        matrix = self.embedder.embed(flat)
        vectors, rest = matrix[: len(passages)], matrix[len(passages) :]
        units, offset = [], 0
        for texts in unit_texts:
            units.append(rest[offset : offset + len(texts)])
            offset += len(texts)
        return vectors, units, described

    def in_memory(
        self, documents: list[Document], passages: list[Passage], sources: dict[str, SourceInfo]
    ) -> IndexStore:
        """An index of given passages held in memory only, embedded exactly as on disk (benchmarks)."""
        vectors, unit_vectors, units = self._embed(passages)
        return IndexStore.create(
            self.settings,
            model_name=self.settings.embedding_model,
            dimension=self.embedder.dimension,
            documents=documents,
            passages=passages,
            vectors=vectors,
            unit_vectors=unit_vectors,
            units=units,
            sources=sources,
        )

    def _write(self, change: _Change, strict: bool = False) -> BuildReport:
        """Embed the added documents, merge them with the kept ones and save the new version.

        With ``strict``, an added document without a passage raises InputError before anything is written.
        """
        sources, failed = change.sources, change.failed
        readable: list[Document] = []
        new_passages: list[Passage] = []
        for document in change.added:
            passages = self._split(document, sources)
            if passages:
                readable.append(document)
                new_passages.extend(passages)
            elif strict:
                raise InputError(document.path, "no passages of readable text")
            else:
                problem = f"{document.path}: no passages of readable text"
                failed = [*failed, SkippedFile(path=document.path, checksum=document.checksum, problem=problem)]
        if change.added and not readable:
            raise IcragError("; ".join(f.problem for f in failed))
        kept = change.kept
        vectors, unit_vectors, units = self._embed(new_passages)
        dimension = self.embedder.dimension if not kept else kept[0].vectors.shape[1]
        if change.previous is not None and change.previous.manifest.dimension != dimension:
            raise IndexMismatchError("embedding dimension changed; rebuild the index with `icrag index build`")
        documents = [k.document for k in kept] + readable
        # Kept passages take the current bibliographic records, as a rebuild would give them.
        passages = [
            p.model_copy(update={"source": sources.get(p.source_id, p.source)}) for k in kept for p in k.passages
        ] + new_passages
        store = IndexStore.create(
            self.settings,
            model_name=self.settings.embedding_model,
            dimension=dimension,
            documents=documents,
            passages=passages,
            vectors=np.concatenate([k.vectors for k in kept] + [vectors.reshape(-1, dimension)], axis=0),
            unit_vectors=[u for k in kept for u in k.unit_vectors] + unit_vectors,
            units=[u for k in kept for u in k.units] + units,
            sources=sources,
            skipped=[*change.earlier_skipped, *failed],
        )
        store.save(self.index_dir)
        return BuildReport(
            index_dir=str(self.index_dir),
            added=[d.doc_id for d in readable],
            failed=[f.problem for f in failed],
            n_documents=len(documents),
            n_passages=len(passages),
            n_embedded=len(new_passages),
            written=True,
        )


def passage_unit_list(passage: Passage) -> list[Unit]:
    """The units of one passage, in the order their vectors are stored."""
    return [Unit(s, e, SENTENCE, ROLE_CODE[role]) for s, e, role in passage_units(passage)] + [
        Unit(s, e, WINDOW, NO_ROLE) for s, e in word_window_spans(passage.text)
    ]


def _sources_changed(manifest: Manifest, sources: dict[str, SourceInfo]) -> bool:
    """Whether the publications the index cites are described differently by ``sources.csv`` now.

    A row edited, added or removed for a cited publication changes its passages' citations; so
    does a new row whose DOI is an indexed file's name, which makes that file part of the
    publication. (A file that was skipped cites nothing, whatever its name.)
    """
    now = {sid: sources.get(sid) or SourceInfo(source_id=sid) for sid in manifest.sources}
    stems = {unquote(Path(entry.path).stem).lower() for entry in manifest.documents}
    claimed = any(s.doi.lower() in stems for s in sources.values() if s.doi and s.source_id not in manifest.sources)
    return now != manifest.sources or claimed


def _fingerprint(path: Path, max_bytes: float) -> str:
    """What identifies a file's content: SHA-256 of its bytes, as documents record.

    Files the loader refuses without reading are never read here either: a file over the size
    limit is identified by its size and modification time, and anything that is not a regular
    file (a FIFO would block, a device never ends) by '', which never counts as unchanged.
    """
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            return ""
        if status.st_size > max_bytes:
            return f"size={status.st_size};mtime={status.st_mtime_ns}"
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""

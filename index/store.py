"""The on-disk index: FAISS vectors, passages, documents and a manifest, written atomically.

Layout of an index folder::

    manifest.json     how the index was made (model, dimension, settings, documents)
    vectors.npy       passage vectors, row i belongs to passages.jsonl line i
    units.npy         vectors of the units of every passage (sentences, then word windows), in passage order
    unit_spans.npy    (passage position, start, end, kind, role) of each unit, offsets into the passage text
                      (read by column name through index.units.Units)
    faiss.index       the FAISS index over those vectors
    passages.jsonl    one Passage per line, sorted by (doc_id, start)
    documents.jsonl   one Document per line (full text, for showing quotes in context)
    audit.jsonl       the library's log of changes (index.library), carried from version to version

A new version is written to a sibling temporary folder and swapped in by renames under a
lock file, so a crash at any moment leaves either the old or the new index, never a mix.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import faiss
import numpy as np
from filelock import FileLock, Timeout
from pydantic import ValidationError

from index.errors import IndexBusyError, IndexCorruptError, IndexMismatchError, IndexMissingError, InputError
from index.models import Document, DocumentEntry, Manifest, Passage, Role, SkippedFile, SourceInfo
from index.settings import Settings
from index.units import SENTENCE, Sentences, Unit, Units, role_of

logger = logging.getLogger(__name__)

#: The library's append-only change log inside an index folder; not part of any one version.
AUDIT_FILE = "audit.jsonl"

#: Layout and content version; bump it whenever ingestion or chunking changes what an index holds.
FORMAT_VERSION = 13

#: Reads of an index that a writer swapped mid-read are retried this often.
_LOAD_ATTEMPTS = 5
#: How long a reader that finds a swap half done waits for the write lock to finish it.
_RECOVERY_TIMEOUT_S = 120.0
#: numpy parses .npy headers with ast.literal_eval, which CPython 3.11 cannot run in two threads
#: at once (a spurious "SystemError: AST constructor recursion depth mismatch", python/cpython#106905).
_NPY_LOCK = threading.Lock()
#: Index folders whose write lock the current thread holds (see write_lock).
_HELD = threading.local()


def icrag_version() -> str:
    """Installed icrag version, or 'unknown' when running from a source tree."""
    try:
        return version("icrag")
    except PackageNotFoundError:
        return "unknown"


class IndexStore:
    """An index held in memory: passages, their vectors, documents and a FAISS index."""

    def __init__(
        self,
        manifest: Manifest,
        passages: list[Passage],
        vectors: np.ndarray,
        documents: dict[str, Document],
        unit_vectors: np.ndarray,
        units: Units,
        faiss_index: faiss.Index | None = None,
    ) -> None:
        if len(passages) != vectors.shape[0]:
            raise IndexCorruptError(f"{len(passages)} passages but {vectors.shape[0]} vectors")
        self.manifest = manifest
        self.passages = passages
        self.vectors = vectors
        self.documents = documents
        self.faiss_index = faiss_index if faiss_index is not None else build_faiss(vectors, manifest.settings)
        self.position = {p.passage_id: i for i, p in enumerate(passages)}
        if len(units) != unit_vectors.shape[0]:
            raise IndexCorruptError(f"{len(units)} units but {unit_vectors.shape[0]} unit vectors")
        self.unit_vectors = unit_vectors
        #: What each unit vector is: its passage position, offsets in the passage text, kind and role.
        self.units = units
        self._rows: list[list[int]] = [[] for _ in passages]
        self._spans: list[list[tuple[int, int]]] = [[] for _ in passages]
        self._roles: list[list[Role]] = [[] for _ in passages]
        self._sentence_rows: list[list[int]] = [[] for _ in passages]
        columns = (units.owner, units.start, units.end, units.kind, units.role)
        for row, (owner, start, end, kind, role) in enumerate(zip(*(c.tolist() for c in columns), strict=True)):
            self._rows[owner].append(row)
            if kind == SENTENCE:
                self._sentence_rows[owner].append(row)
                self._spans[owner].append((start, end))
                self._roles[owner].append(role_of(role))

    @classmethod
    def create(
        cls,
        settings: Settings,
        *,
        model_name: str,
        dimension: int,
        documents: list[Document],
        passages: list[Passage],
        vectors: np.ndarray,
        unit_vectors: list[np.ndarray],
        units: list[list[Unit]],
        sources: dict[str, SourceInfo],
        skipped: list[SkippedFile] | None = None,
    ) -> IndexStore:
        """Assemble a store in canonical order, so equal inputs give equal indexes.

        ``unit_vectors[i]`` and ``units[i]`` describe the units of ``passages[i]``.
        """
        order = sorted(range(len(passages)), key=lambda i: (passages[i].doc_id, passages[i].start))
        passages = [passages[i] for i in order]
        vectors = np.ascontiguousarray(vectors[order], dtype=np.float32).reshape(len(passages), dimension)
        matrices = [unit_vectors[i].reshape(-1, dimension) for i in order]
        unit_matrix = np.concatenate(matrices, axis=0) if matrices else np.zeros((0, dimension), dtype=np.float32)
        counts: dict[str, int] = {}
        for passage in passages:
            counts[passage.doc_id] = counts.get(passage.doc_id, 0) + 1
        documents = sorted(documents, key=lambda d: d.doc_id)
        used = {p.source_id for p in passages}
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            icrag_version=icrag_version(),
            embedding_model=model_name,
            dimension=dimension,
            settings=settings.index_signature(),
            settings_hash=settings.index_hash(),
            documents=[
                DocumentEntry(
                    doc_id=d.doc_id, path=d.path, kind=d.kind, checksum=d.checksum, n_passages=counts.get(d.doc_id, 0)
                )
                for d in documents
            ],
            sources={sid: sources.get(sid) or SourceInfo(source_id=sid) for sid in sorted(used)},
            n_passages=len(passages),
            skipped=sorted(skipped or [], key=lambda f: f.path),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        return cls(
            manifest,
            passages,
            vectors,
            {d.doc_id: d for d in documents},
            np.ascontiguousarray(unit_matrix, dtype=np.float32),
            Units.of_passages([units[i] for i in order]),
        )

    def sentences(self, passage: Passage | int) -> Sentences:
        """The sentence units of a passage (or of the passage at a position): what an answer may quote."""
        position = passage if isinstance(passage, int) else self.position[passage.passage_id]
        rows = self._sentence_rows[position]
        return Sentences(self._spans[position], self._roles[position], self.unit_vectors[rows])

    def units_of(self, position: int) -> tuple[np.ndarray, list[Unit]]:
        """Vectors and descriptions of every unit of the passage at a position, to carry into a new index."""
        rows = self._rows[position]
        return self.unit_vectors[rows], self.units.select(rows)

    def search(self, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, passage positions) per query row; positions are -1 when fewer exist."""
        queries = np.ascontiguousarray(np.atleast_2d(query_vectors), dtype=np.float32)
        k = max(1, min(k, len(self.passages)))
        if not self.passages:
            empty = np.zeros((queries.shape[0], 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        scores, ids = self.faiss_index.search(queries, k)
        return scores, ids

    def save(self, index_dir: Path) -> None:
        """Write the index atomically: a temporary sibling folder swapped in by renames."""
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.tmp-", dir=index_dir.parent))
        tmp.chmod(0o755)
        try:
            _write_jsonl(tmp / "passages.jsonl", (p.model_dump_json() for p in self.passages))
            _write_jsonl(
                tmp / "documents.jsonl", (self.documents[d.doc_id].model_dump_json() for d in self.manifest.documents)
            )
            arrays = (
                ("vectors.npy", self.vectors),
                ("units.npy", self.unit_vectors),
                ("unit_spans.npy", self.units.table()),
            )
            for name, array in arrays:
                with open(tmp / name, "wb") as handle:
                    np.save(handle, array)
                    _sync(handle)
            faiss.write_index(self.faiss_index, str(tmp / "faiss.index"))
            # The manifest is written last: a folder without one is never a complete index.
            with open(tmp / "manifest.json", "w", encoding="utf-8") as handle:
                handle.write(self.manifest.model_dump_json(indent=2))
                _sync(handle)
            _carry_audit_log(index_dir, tmp)
            _swap_in(tmp, index_dir)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, index_dir: Path, settings: Settings) -> IndexStore:
        """Load an index, refusing one built with other settings or damaged on disk.

        Readers take no lock, so a writer may swap a new version in while this reads. Each
        attempt checks that the folder it read from is still the index afterwards, and reads
        again if not, so a store never mixes two versions. An interrupted swap is finished
        under the write lock, never beside a live writer. A reader that a writer outpaces on
        every attempt (version after version swapped in) waits for the write lock and reads
        holding it, so no swap can come between.
        """
        for _ in range(_LOAD_ATTEMPTS):
            if _interrupted(index_dir):
                with write_lock(index_dir, timeout=_RECOVERY_TIMEOUT_S):
                    pass  # write_lock recovers once it holds the lock (or after the writer finished)
            before = index_version(index_dir)
            try:
                store = cls._read(index_dir, settings)
            except (IndexMissingError, IndexCorruptError):
                if index_version(index_dir) != before or _interrupted(index_dir):
                    continue  # swapped while reading: the error describes no version on disk
                raise
            if index_version(index_dir) == before:
                return store
        with write_lock(index_dir, timeout=_RECOVERY_TIMEOUT_S):
            return cls._read(index_dir, settings)

    @classmethod
    def _read(cls, index_dir: Path, settings: Settings) -> IndexStore:
        """One attempt at reading every file of an index folder."""
        manifest = read_manifest(index_dir)
        check_compatible(manifest, settings, index_dir)
        try:
            passages = [Passage.model_validate_json(line) for line in _read_lines(index_dir / "passages.jsonl")]
            documents = [Document.model_validate_json(line) for line in _read_lines(index_dir / "documents.jsonl")]
            with _NPY_LOCK:
                vectors = np.load(index_dir / "vectors.npy", allow_pickle=False)
                unit_vectors = np.load(index_dir / "units.npy", allow_pickle=False)
                unit_table = np.load(index_dir / "unit_spans.npy", allow_pickle=False)
            faiss_index = faiss.read_index(str(index_dir / "faiss.index"))
        except (OSError, ValueError, RuntimeError, ValidationError) as exc:
            raise IndexCorruptError(
                f"index at {index_dir} is damaged ({type(exc).__name__}); rebuild it with `icrag index build`"
            ) from exc
        if not _consistent(manifest, passages, vectors, unit_vectors, unit_table, faiss_index):
            raise IndexCorruptError(f"index at {index_dir} is inconsistent; rebuild it with `icrag index build`")
        units = Units.from_table(unit_table)
        return cls(manifest, passages, vectors, {d.doc_id: d for d in documents}, unit_vectors, units, faiss_index)


def _consistent(
    manifest: Manifest,
    passages: list[Passage],
    vectors: np.ndarray,
    unit_vectors: np.ndarray,
    unit_table: np.ndarray,
    faiss_index: faiss.Index,
) -> bool:
    """Whether the files of an index agree: counts, vector widths, and units owned by passages in order."""
    n, width = len(passages), manifest.dimension
    if n != manifest.n_passages or faiss_index.ntotal != n or faiss_index.d != width:
        return False
    if vectors.shape != (n, width) or unit_vectors.ndim != 2 or not Units.fits(unit_table):
        return False
    if len(unit_vectors) and unit_vectors.shape[1] != width:
        return False
    owners = Units.from_table(unit_table).owner
    return not len(owners) or bool(owners.min() >= 0 and owners.max() < n and np.all(np.diff(owners) >= 0))


def build_faiss(vectors: np.ndarray, index_settings: dict[str, object]) -> faiss.Index:
    """A FAISS index of the configured type over inner products of the vectors."""
    dimension = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else 1
    factory = str(index_settings.get("faiss_factory", "Flat"))
    try:
        index = faiss.index_factory(dimension, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as exc:
        raise IndexMismatchError(f"faiss_factory '{factory}' is not a valid FAISS index description") from exc
    if len(vectors):
        if not index.is_trained:
            index.train(vectors)
        index.add(vectors)
    return index


def read_manifest(index_dir: Path) -> Manifest:
    """The manifest of an index folder, with a clear error when there is none."""
    path = index_dir / "manifest.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:  # also when a writer swaps the folder between a check and the read
        raise IndexMissingError(f"no index at {index_dir}; build one with `icrag index build`") from None
    except OSError as exc:
        raise IndexCorruptError(f"{path}: cannot read the manifest ({type(exc).__name__})") from exc
    try:
        return Manifest.model_validate_json(text)
    except (ValidationError, ValueError) as exc:
        raise IndexCorruptError(f"{path}: unreadable manifest; rebuild with `icrag index build`") from exc


def check_compatible(manifest: Manifest, settings: Settings, index_dir: Path | str) -> None:
    """Raise IndexMismatchError naming the first setting on which index and settings differ.

    ``index_dir`` names the index in messages: its folder, or where in PostgreSQL it is stored.
    """
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index at {index_dir} has format {manifest.format_version}, this icrag reads {FORMAT_VERSION}; "
            "rebuild it with `icrag index build`"
        )
    current = json.loads(json.dumps(settings.index_signature(), default=str))
    stored = json.loads(json.dumps(manifest.settings, default=str))
    for name, value in current.items():
        if stored.get(name) != value:
            raise IndexMismatchError(
                f"index at {index_dir} was built with {name}={stored.get(name)!r} but settings say {value!r}; "
                f"rebuild it with `icrag index build` or set ICRAG_{name.upper()}={stored.get(name)}"
            )


@contextmanager
def write_lock(index_dir: Path, timeout: float = 600.0) -> Iterator[None]:
    """Serialise writers of one index across processes with a lock file beside it.

    A thread that already holds the lock enters again at once (the library holds it around a
    whole change, its builder takes it again): a second lock file handle would wait for itself.

    Raises:
        InputError: when ``index_dir`` is a folder that holds something other than an index,
            which a write would replace.
    """
    if index_dir.name in ("", ".", ".."):
        raise InputError(index_dir, "an index needs a folder of its own, e.g. .icrag/index")
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    key = str(index_dir.resolve())
    held: set[str] = _HELD.__dict__.setdefault("dirs", set())
    if key in held:
        yield
        return
    lock = FileLock(str(index_dir.parent / f".{index_dir.name}.lock"))
    try:
        with lock.acquire(timeout=timeout):
            held.add(key)
            try:
                recover(index_dir)
                _refuse_foreign_folder(index_dir)
                _remove_stale_temporaries(index_dir)
                yield
            finally:
                held.discard(key)
    except Timeout as exc:
        raise IndexBusyError(f"index at {index_dir} is being written by another process; try again") from exc


def _refuse_foreign_folder(index_dir: Path) -> None:
    """Refuse to write over a file, or a folder with content (besides an audit log) but no manifest: not an index."""
    if index_dir.exists() and not index_dir.is_dir():
        raise InputError(index_dir, "is a file, not an index folder")
    if (
        index_dir.is_dir()
        and not (index_dir / "manifest.json").exists()
        and any(path.name != AUDIT_FILE for path in index_dir.iterdir())
    ):
        raise InputError(
            index_dir, "this folder holds files but no icrag index; choose an empty or new folder for the index"
        )


def recover(index_dir: Path) -> None:
    """Finish a swap that a crash interrupted: restore the previous version if needed."""
    backup = _backup_path(index_dir)
    if backup.exists():
        if (index_dir / "manifest.json").exists():
            shutil.rmtree(backup, ignore_errors=True)
        else:
            shutil.rmtree(index_dir, ignore_errors=True)
            backup.replace(index_dir)


def _backup_path(index_dir: Path) -> Path:
    return index_dir.parent / f".{index_dir.name}.old"


def _interrupted(index_dir: Path) -> bool:
    """Whether a swap stopped half way: the previous version set aside, no complete index in place."""
    return _backup_path(index_dir).exists() and not (index_dir / "manifest.json").exists()


def index_version(index_dir: Path) -> tuple[int, int, int] | None:
    """What identifies one version of an index folder: a swap brings a new folder and a new manifest."""
    try:
        folder = index_dir.stat()
        manifest = (index_dir / "manifest.json").stat()
    except OSError:
        return None
    return folder.st_ino, manifest.st_ino, manifest.st_mtime_ns


def _remove_stale_temporaries(index_dir: Path) -> None:
    """Delete temporary folders a killed writer left beside the index; call only under the write lock."""
    prefix = f".{index_dir.name}.tmp-"
    for stale in index_dir.parent.iterdir():
        if stale.name.startswith(prefix) and stale.is_dir():
            logger.info("removing %s, left by an interrupted write", stale)
            shutil.rmtree(stale, ignore_errors=True)


def _carry_audit_log(index_dir: Path, tmp: Path) -> None:
    """Give a new version the audit log of the one it replaces.

    A hard link, so the two names are one file and nothing appended before the swap is lost;
    a copy where the filesystem has no links (appends happen under the write lock, not beside it).
    """
    log = index_dir / AUDIT_FILE
    if not log.is_file():
        return
    try:
        os.link(log, tmp / AUDIT_FILE)
    except OSError:
        shutil.copy2(log, tmp / AUDIT_FILE)


def _swap_in(tmp: Path, index_dir: Path) -> None:
    backup = _backup_path(index_dir)
    if index_dir.exists():
        shutil.rmtree(backup, ignore_errors=True)
        index_dir.replace(backup)
    tmp.replace(index_dir)
    _sync_dir(index_dir.parent)
    shutil.rmtree(backup, ignore_errors=True)


def _write_jsonl(path: Path, lines: Iterator[str]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line)
            handle.write("\n")
        _sync(handle)


def _read_lines(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return [line for line in handle.read().split("\n") if line]


def _sync(handle: object) -> None:
    handle.flush()  # type: ignore[attr-defined]
    os.fsync(handle.fileno())  # type: ignore[attr-defined]


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

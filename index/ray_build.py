"""Index builds on a Ray cluster: Ray Data reads, splits and embeds; the driver writes the usual index.

The driver lists the evidence files and ships their bytes (workers need no shared folder);
one Ray Data task per file reads it and cuts its passages and their units; the driver then
embeds the texts the embedding cache lacks on a pool of actors (one per GPU, or one per CPU
node), all texts sorted by length so batches pad little. Everything else is the local build:
:class:`RayIndexBuilder` only replaces :class:`IndexBuilder`'s reading, splitting and model,
so results come back in file and passage order, are checked and written by the same code,
and equal a local build's (vectors within float error on the CPU; in bf16 on GPUs).

Ray is imported only here, and only when a Ray build runs: ``icrag`` itself never needs it.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import TypeAdapter

from index import errors
from index.builder import BuildReport, IndexBuilder
from index.embedding import Embedder, encode_texts, load_model
from index.errors import IcragError, InputError
from index.loaders import load_file
from index.models import Document, Passage, SourceInfo
from index.settings import Settings
from index.units import Unit

logger = logging.getLogger(__name__)

_PASSAGES = TypeAdapter(list[Passage])
_BYTES_PER_MB = 1024 * 1024
#: Texts per call of an embedding actor; the model batches them by ``embedding_batch_size`` inside.
_TEXTS_PER_CALL = 1024
_CONNECT_TIMEOUT_S = 5.0
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: Names of icrag's own errors: raised on a worker, their message is already the one line to show.
_ICRAG_ERRORS = {
    name for name, value in vars(errors).items() if isinstance(value, type) and issubclass(value, IcragError)
}


@dataclass(frozen=True)
class Cluster:
    """What the build needs to know of the Ray cluster it runs on."""

    address: str
    nodes: int
    cpus_per_node: int
    gpus: int

    def embedding_plan(self, device: str, workers: int | None) -> tuple[str, int, float, float]:
        """(device, actors, CPUs and GPUs per actor) of the embedding pool for a device setting.

        GPUs when the setting allows and the cluster has them, one actor per GPU; otherwise one
        actor per node holding that node's CPUs (one model per node, its threads on every core).
        """
        if device != "cpu" and self.gpus:
            return "cuda", workers or self.gpus, 1.0, 1.0
        if device == "cuda":
            raise IcragError(
                f"ICRAG_DEVICE=cuda but the Ray cluster at {self.address} has no GPU; set ICRAG_DEVICE=auto"
            )
        return "cpu", workers or self.nodes, float(self.cpus_per_node), 0.0


def build_on_ray(
    settings: Settings,
    address: str | None,
    *,
    data_dir: Path | None = None,
    force: bool = False,
    workers: int | None = None,
) -> BuildReport:
    """Build the index of a folder on a Ray cluster ('auto', HOST:PORT, or None to start a local Ray).

    The cluster is reached before anything else happens, so a wrong address is one line of
    error and leaves the index as it was.
    """
    with connect(address) as cluster:
        device, actors, _, _ = cluster.embedding_plan(settings.device, workers)
        logger.info(
            "building on Ray at %s: %d node(s), %d %s embedding actor(s)", address, cluster.nodes, actors, device
        )
        builder = RayIndexBuilder(settings, RayEmbedder(settings, cluster, workers))
        return builder.build(data_dir, force=force)


@contextmanager
def connect(address: str | None) -> Iterator[Cluster]:
    """Join a running Ray cluster, or start a local one when ``address`` is None; disconnect afterwards."""
    ray = _import_ray()
    if address is not None and address != "auto" and not address.startswith("ray://"):
        _probe(address)
    options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR}
    try:
        if address is None:
            ray.init(include_dashboard=False, **options)
        else:
            ray.init(address=address, **options)
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError or ValueError here
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise IcragError(f"cannot join the Ray cluster at {address}: {detail}") from exc
    try:
        yield _describe(ray, address or "a local Ray")
    finally:
        ray.shutdown()


def _import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise IcragError("index builds on Ray need the scale extra: pip install 'icrag[scale]'") from exc
    # Ray's notes (progress bars off, execution plans) are not the user's business, and Ray Data's
    # stack traces of a failed run reach the user as the one-line error the build raises.
    logging.getLogger("ray").setLevel(logging.ERROR)
    logging.getLogger("ray.data").setLevel(logging.CRITICAL)
    return ray


def _probe(address: str) -> None:
    """Fail in seconds, in one line, on an address nothing listens at (Ray itself retries for a minute)."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise InputError("--ray", f"'{address}' is not a Ray address; expected 'auto' or HOST:PORT, e.g. 10.0.0.5:6379")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=_CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise IcragError(
            f"no Ray cluster reachable at {address} ({reason}); start one with `ray start --head` or check the address"
        ) from None


def _describe(ray: Any, address: str) -> Cluster:
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    cpus = [int(n["Resources"].get("CPU", 0)) for n in nodes]
    return Cluster(
        address=address,
        nodes=max(1, sum(c > 0 for c in cpus)),
        cpus_per_node=max(1, min((c for c in cpus if c > 0), default=1)),
        gpus=int(ray.cluster_resources().get("GPU", 0)),
    )


# --- the driver's side ------------------------------------------------------------------------


class RayEmbedder(Embedder):
    """An Embedder whose model runs on the cluster's actors; the cache and queries stay on the driver."""

    def __init__(self, settings: Settings, cluster: Cluster, workers: int | None = None) -> None:
        super().__init__(settings)
        self.cluster = cluster
        self.device, self.actors, self.actor_cpus, self.actor_gpus = cluster.embedding_plan(settings.device, workers)
        self._dimension: int | None = None

    @property
    def dimension(self) -> int:
        """Vector dimension, as the cluster's vectors show it (one probe text when none was embedded yet)."""
        if self._dimension is None:
            self._dimension = int(self.encode(["dimension"]).shape[1])
        return self._dimension

    def embed(self, texts: Sequence[str], progress: bool | None = None) -> np.ndarray:
        """Vectors from the cache, the missing ones embedded on the cluster (see Embedder.embed)."""
        matrix = super().embed(texts, progress)
        if matrix.ndim == 2 and matrix.shape[0]:
            self._dimension = int(matrix.shape[1])
        return matrix

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Embed texts on the actor pool, longest first so batches pad little; vectors in the order of ``texts``."""
        import ray.data

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        _quiet_data(self.settings.show_progress and progress)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        items = [{"row": i, "text": texts[i]} for i in order]
        blocks = max(1, min(len(items), max(self.actors * 4, len(items) // 4096)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # max_restarts, see _actor_options
            dataset = ray.data.from_items(items, override_num_blocks=blocks).map_batches(
                EmbeddingActor,
                batch_size=_TEXTS_PER_CALL,
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=self.actors),
                fn_constructor_kwargs={
                    "settings": self.settings,
                    "device": self.device,
                    "threads": int(self.actor_cpus),
                },
                num_cpus=self.actor_cpus,
                num_gpus=self.actor_gpus,
                **_actor_options(),
            )
        vectors: np.ndarray | None = None
        with _cluster_errors():
            for batch in dataset.iter_batches(batch_format="numpy", batch_size=None):
                if vectors is None:
                    vectors = np.zeros((len(texts), batch["vector"].shape[1]), dtype=np.float32)
                vectors[batch["row"]] = batch["vector"]
        if vectors is None:
            raise IcragError("the Ray cluster returned no vectors")
        self._dimension = int(vectors.shape[1])
        return vectors


class RayIndexBuilder(IndexBuilder):
    """The local IndexBuilder with files read and split on the cluster; checks, order and writing unchanged."""

    def __init__(self, settings: Settings, embedder: RayEmbedder) -> None:
        super().__init__(settings, embedder)
        #: The passages the cluster cut, by file: two files may hold the same bytes under one document id.
        self._prepared: dict[tuple[str, str], list[Passage]] = {}
        self._unit_lists: dict[str, list[Unit]] = {}

    def _read(self, paths: Sequence[Path], sources: dict[str, SourceInfo]) -> Iterator[Document | InputError]:
        """Documents of the files, read and split by one Ray task per file, in the order of ``paths``.

        Files the loader refuses without reading them (missing, not regular, over the size limit)
        are refused here as a local build would; the others travel to the cluster as bytes.
        """
        import ray.data

        outcomes: dict[int, Document | InputError] = {}
        shipped = []
        limit = self.settings.max_file_mb * _BYTES_PER_MB
        for i, path in enumerate(paths):
            if not path.is_file() or path.stat().st_size > limit:
                outcomes[i] = next(super()._read([path], sources))
            else:
                shipped.append({"index": i, "name": path.name, "data": path.read_bytes()})
        if shipped:
            _quiet_data(self.settings.show_progress)
            work = partial(read_and_split, settings=self.settings, sources=sources)
            dataset = ray.data.from_items(shipped, override_num_blocks=len(shipped)).map(work, num_cpus=1)
            with _cluster_errors():
                rows = dataset.take_all()
            for row in rows:
                outcomes[int(row["index"])] = self._accept(row, paths[int(row["index"])])
        for i in range(len(paths)):
            yield outcomes[i]

    def _accept(self, row: dict[str, Any], path: Path) -> Document | InputError:
        """A worker's row as the Document it read (its passages and units kept for later), or its InputError."""
        if row["problem"]:
            return InputError(path, str(row["problem"]))
        document = Document.model_validate_json(row["document"])
        passages = _PASSAGES.validate_json(row["passages"])
        units = json.loads(row["units"])
        self._prepared[(document.path, document.checksum)] = passages
        for passage, described in zip(passages, units, strict=True):
            self._unit_lists[passage.passage_id] = [Unit(*unit) for unit in described]
        return document

    def _split(self, document: Document, sources: dict[str, SourceInfo]) -> list[Passage]:
        """The passages the cluster cut, or a local split for a document it did not read."""
        prepared = self._prepared.get((document.path, document.checksum))
        return prepared if prepared is not None else super()._split(document, sources)

    def _units(self, passages: Sequence[Passage]) -> list[list[Unit]]:
        """The units the cluster found, or the local ones for passages it did not cut."""
        if all(p.passage_id in self._unit_lists for p in passages):
            return [self._unit_lists[p.passage_id] for p in passages]
        return super()._units(passages)


#: The last "module.Error: message" line of a remote traceback.
_ERROR_LINE = re.compile(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception)): (.+)$", re.MULTILINE)


@contextmanager
def _cluster_errors() -> Iterator[None]:
    """A failure on the cluster as one line: the worker's own error (e.g. a model it cannot load), not Ray's trace."""
    from ray.exceptions import RayError

    try:
        yield
    except RayError as exc:
        found = _ERROR_LINE.findall(_ANSI.sub("", str(exc)))
        if found and found[-1][0] in _ICRAG_ERRORS:
            raise IcragError(found[-1][1]) from exc
        detail = f"{found[-1][0]}: {found[-1][1]}" if found else type(exc).__name__
        raise IcragError(f"the Ray build failed on the cluster: {detail}") from exc


def _actor_options() -> dict[str, Any]:
    """No restarts for embedding actors where Ray still takes the option (deprecated in 2.60, gone in 2.64).

    A lost actor then fails the build, reported by the driver, instead of being retried without
    end; and Ray does not log that restarts could lose the actor's constructor arguments.
    """
    import ray

    major, minor = (int(part) for part in ray.__version__.split(".")[:2])
    return {"max_restarts": 0} if (major, minor) < (2, 64) else {}


def _quiet_data(progress: bool) -> None:
    """Ray Data's progress bars only when icrag shows progress; its per-run log lines never."""
    from ray.data import DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = progress
    context.print_on_execution_start = False


# --- the cluster's side -----------------------------------------------------------------------


def read_and_split(row: dict[str, Any], settings: Settings, sources: dict[str, SourceInfo]) -> dict[str, Any]:
    """On a worker: one file's Document, passages and units as JSON, or the problem it gave.

    The file is written under its own name to a private folder and read by the local loader,
    so its document id, checksum and problems are those of a local build.
    """
    from index.builder import passage_unit_list
    from index.chunking import split_document

    out: dict[str, Any] = {"index": row["index"], "problem": "", "document": "", "passages": "[]", "units": "[]"}
    with tempfile.TemporaryDirectory(prefix="icrag-ray-") as folder:
        path = Path(folder) / str(row["name"])
        path.write_bytes(bytes(row["data"]))
        try:
            document = load_file(path, settings, sources)
        except InputError as exc:
            out["problem"] = exc.problem
            return out
    passages = split_document(document, settings, sources)
    out["document"] = document.model_dump_json()
    out["passages"] = _PASSAGES.dump_json(passages).decode()
    out["units"] = json.dumps([[list(unit) for unit in passage_unit_list(p)] for p in passages])
    return out


class EmbeddingActor:
    """On a worker: the model, loaded once from the installed package, encoding batches of texts."""

    def __init__(self, settings: Settings, device: str, threads: int) -> None:
        import torch

        if device == "cpu" and threads > 0:
            torch.set_num_threads(threads)
        self.settings = settings
        self.model = load_model(settings.embedding_model, device)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Vectors of a batch's texts, beside their row numbers."""
        texts = [str(t) for t in batch["text"]]
        vectors = encode_texts(
            self.model, texts, self.settings.embedding_batch_size, self.settings.normalize_embeddings
        )
        return {"row": batch["row"], "vector": vectors}

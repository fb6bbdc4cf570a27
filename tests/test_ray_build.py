"""Index builds on Ray: a two-node cluster on loopback writes what a local build writes.

The cluster is started from the command line, as an operator would, on 127.0.0.2 (Ray moves
127.0.0.1 to the host's address; another loopback address stays put). Each node has one CPU
and a 100 MB object store. It is stopped by the PIDs of its processes, found by its own temp
folder, never by name, so no other Ray on the machine is touched; the fixture fails when any
of its processes outlives it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from helpers import DATA_DIR, DOC_A, DOC_B, DOC_C, ICRAG, BuilderFactory, SettingsFactory, tree_digest, write_files

from index.embedding import Embedder
from index.errors import IcragError, InputError
from index.models import Document
from index.network import free_port
from index.ray_build import Cluster, RayEmbedder, RayIndexBuilder, _probe, build_on_ray, connect, read_and_split

HOST = "127.0.0.2"
RAY = Path(sys.executable).with_name("ray")
#: Ray refuses to let a second node join a cluster started from the command line unless auth is off.
RAY_ENV = {"RAY_AUTH_MODE": "disabled"}
cluster_test = [pytest.mark.ray, pytest.mark.slow]


def processes_of(folder: Path) -> set[int]:
    """PIDs of the processes whose command line names a folder, and of all their descendants."""
    parents: dict[int, int] = {}
    roots = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # exited meanwhile
        parents[int(entry.name)] = parent
        if str(folder) in command:
            roots.add(int(entry.name))
    found, grew = set(roots), True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in found} - found
        found |= children
        grew = bool(children)
    return found - {os.getpid()}


def stop(pids: set[int]) -> None:
    """SIGKILL, as `ray stop --force` does (gcs_server and raylet sit on SIGTERM), but only these processes."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.1)


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie waiting for its parent does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def ray_start(*args: str) -> None:
    done = subprocess.run(
        [str(RAY), "start", *args], env={**os.environ, **RAY_ENV}, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """The address of a two-node Ray cluster on loopback, one CPU per node."""
    folder = Path(tempfile.mkdtemp(prefix="icrag-ray-", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    port = free_port(HOST)
    node = ["--node-ip-address", HOST, "--num-cpus", "1", "--object-store-memory", "100000000"]
    node += ["--disable-usage-stats", "--dashboard-agent-listen-port", str(free_port(HOST))]
    recorded: set[int] = set()
    try:
        ray_start(
            "--head",
            "--port",
            str(port),
            "--temp-dir",
            str(folder),
            "--include-dashboard",
            "false",
            "--dashboard-port",
            str(free_port(HOST)),
            *node,
        )
        recorded = processes_of(folder)
        node[-1] = str(free_port(HOST))
        ray_start("--address", f"{HOST}:{port}", *node)
        recorded |= processes_of(folder)
        yield f"{HOST}:{port}"
    finally:
        recorded |= processes_of(folder)
        stop(recorded)
        left = processes_of(folder)
        stop(left)
        shutil.rmtree(folder, ignore_errors=True)
        assert not left, f"Ray processes outlived the test cluster: {sorted(left)}"


def assert_same_index(local: Path, other: Path) -> None:
    """Same documents, passages and units byte for byte; vectors within 1e-5; same manifest but its time."""
    for name in ("documents.jsonl", "passages.jsonl", "unit_spans.npy"):
        assert (local / name).read_bytes() == (other / name).read_bytes(), name
    for name in ("vectors.npy", "units.npy"):
        expected, got = np.load(local / name), np.load(other / name)
        assert expected.shape == got.shape and expected.shape[0] > 0, name
        np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0, err_msg=name)
    manifests = [json.loads((folder / "manifest.json").read_text()) for folder in (local, other)]
    for manifest in manifests:
        manifest.pop("created_at", None)
    assert manifests[0] == manifests[1]


def cached_texts(cache: Path) -> int:
    with sqlite3.connect(cache / "embeddings.sqlite") as conn:
        return int(conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])


def distinct_texts(index: Path) -> int:
    """Texts a build of this index embeds: passages and their units, each distinct text once."""
    passages = [json.loads(line)["text"] for line in (index / "passages.jsonl").read_text().splitlines()]
    spans = np.load(index / "unit_spans.npy")
    units = [passages[owner][start:end] for owner, start, end, *_ in spans.tolist()]
    return len(set(passages) | set(units))


def run_icrag(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ICRAG_")}
    environment.update({"ICRAG_SHOW_PROGRESS": "false", **RAY_ENV, **env})
    return subprocess.run(
        [str(ICRAG), *args], capture_output=True, text=True, env=environment, cwd=cwd, timeout=600, check=False
    )


@pytest.mark.parametrize(
    ("device", "gpus", "workers", "plan"),
    [
        ("auto", 0, None, ("cpu", 2, 4.0, 0.0)),
        ("auto", 3, None, ("cuda", 3, 1.0, 1.0)),
        ("cpu", 3, None, ("cpu", 2, 4.0, 0.0)),
        ("cuda", 3, 1, ("cuda", 1, 1.0, 1.0)),
        ("auto", 0, 5, ("cpu", 5, 4.0, 0.0)),
    ],
)
def test_the_embedding_pool_takes_gpus_when_allowed(
    device: str, gpus: int, workers: int | None, plan: tuple[str, int, float, float]
) -> None:
    cluster = Cluster(address="test", nodes=2, cpus_per_node=4, gpus=gpus)
    assert cluster.embedding_plan(device, workers) == plan


def test_cuda_on_a_cluster_without_gpus_is_a_user_error() -> None:
    with pytest.raises(IcragError, match="no GPU; set ICRAG_DEVICE=auto"):
        Cluster(address="10.0.0.5:6379", nodes=2, cpus_per_node=4, gpus=0).embedding_plan("cuda", None)


@pytest.mark.parametrize("address", ["nonsense", "10.0.0.5", ":6379", "host:port"])
def test_a_malformed_address_names_the_expected_form(address: str) -> None:
    with pytest.raises(InputError, match="expected 'auto' or HOST:PORT"):
        _probe(address)


def test_files_of_the_same_bytes_and_document_id_keep_their_own_passages(
    make_settings: SettingsFactory, embedder: Embedder, tmp_path: Path
) -> None:
    """b.md and b.txt hold the same bytes under the id 'b': whichever the build keeps is split as its own
    kind, whatever order the cluster returns the two files in."""
    settings = make_settings(index_dir=tmp_path / "index", data_dir=tmp_path / "data")
    rows = {
        name: read_and_split({"index": i, "name": name, "data": DOC_B.encode()}, settings, {})
        for i, name in enumerate(("b.md", "b.txt"))
    }
    for order in (["b.md", "b.txt"], ["b.txt", "b.md"]):
        builder = RayIndexBuilder(settings, cast("RayEmbedder", embedder))  # reads and splits without a cluster
        documents = {name: builder._accept(rows[name], tmp_path / name) for name in order}
        for name, document in documents.items():
            assert isinstance(document, Document)
            assert {p.kind for p in builder._split(document, {})} == {document.kind}, (order, name)
    assert {d.kind for d in documents.values()} == {"markdown", "text"}


@pytest.mark.ray
@pytest.mark.slow
def test_the_bundled_corpus_built_on_two_nodes_equals_the_local_build(
    ray_cluster: str,
    make_settings: SettingsFactory,
    make_builder: BuilderFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The issue's acceptance test; the driver may not load a model, so the cluster's actors embed every text."""
    local = make_settings(index_dir=tmp_path / "local", data_dir=DATA_DIR)
    make_builder(local).build(DATA_DIR, force=True)
    for name, value in RAY_ENV.items():
        monkeypatch.setenv(name, value)

    def refuse(self: Embedder) -> None:
        raise AssertionError("the driver loaded the embedding model")

    monkeypatch.setattr(Embedder, "_load", refuse)
    with connect(ray_cluster) as cluster:
        assert cluster.nodes == 2 and cluster.embedding_plan("auto", None) == ("cpu", 2, 1.0, 0.0)
    on_ray = make_settings(index_dir=tmp_path / "ray", data_dir=DATA_DIR, cache_dir=tmp_path / "ray-cache")
    report = build_on_ray(on_ray, ray_cluster, force=True)
    assert report.written and report.n_documents == 2 and report.n_passages > 250
    assert_same_index(tmp_path / "local", tmp_path / "ray")
    assert cached_texts(tmp_path / "ray-cache") == distinct_texts(tmp_path / "ray")


@pytest.mark.ray
@pytest.mark.slow
def test_the_command_builds_on_a_cluster_what_it_builds_locally(
    ray_cluster: str, make_settings: SettingsFactory, make_builder: BuilderFactory, tmp_path: Path
) -> None:
    """Through `icrag index build --ray ADDRESS`: files refused on the cluster and on the driver, then rebuilds.

    broken.pdf fails on a worker, big.md (over the size limit) on the driver without being read,
    b.txt as a second document 'b'. A second build is up to date; a forced one, every vector
    cached, writes the same index again.
    """
    data = tmp_path / "data"
    files: dict[str, str | bytes] = {"a.md": DOC_A, "b.txt": DOC_B, "c.md": DOC_C, "b.md": DOC_B}
    write_files(data, {**files, "broken.pdf": b"not a pdf", "big.md": DOC_C * 12})
    make_builder(make_settings(index_dir=tmp_path / "local", data_dir=data, max_file_mb=0.002)).build(data)
    env = {"ICRAG_CACHE_DIR": str(tmp_path / "ray-cache"), "ICRAG_MAX_FILE_MB": "0.002"}
    args = ["index", "build", "--data", str(data), "--index", str(tmp_path / "ray"), "--json", "--ray", ray_cluster]
    built = run_icrag(*args, cwd=tmp_path, env=env)
    assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    assert report["written"] and report["n_documents"] == 3 and len(report["failed"]) == 3
    assert all(line.startswith("icrag: warning: skipped ") for line in built.stderr.splitlines()), built.stderr
    assert_same_index(tmp_path / "local", tmp_path / "ray")
    again = run_icrag(*args, cwd=tmp_path, env=env)
    assert again.returncode == 0 and json.loads(again.stdout)["written"] is False, again.stderr
    forced = run_icrag(*args, "--force", cwd=tmp_path, env=env)
    assert forced.returncode == 0 and json.loads(forced.stdout)["written"] is True, forced.stderr
    assert_same_index(tmp_path / "local", tmp_path / "ray")


@pytest.mark.ray
@pytest.mark.slow
def test_an_unreachable_cluster_is_one_line_and_leaves_the_index_intact(
    make_settings: SettingsFactory, make_builder: BuilderFactory, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    write_files(data, {"a.md": DOC_A})
    index = tmp_path / "index"
    make_builder(make_settings(index_dir=index, data_dir=data)).build(data)
    before = tree_digest(index)
    address = f"{HOST}:{free_port(HOST)}"  # nothing listens there
    args = ["index", "build", "--data", str(data), "--index", str(index), "--force", "--ray", address]
    started = time.monotonic()
    done = run_icrag(*args, cwd=tmp_path, env={"ICRAG_CACHE_DIR": str(tmp_path / "cache")})
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"icrag: error: no Ray cluster reachable at {address} (Connection refused); "
        "start one with `ray start --head` or check the address"
    ]
    assert time.monotonic() - started < 60  # not Ray's minute of retries
    assert tree_digest(index) == before


@pytest.mark.ray
@pytest.mark.slow
def test_without_an_address_a_local_ray_is_started_and_stopped(tmp_path: Path) -> None:
    """`--ray` alone starts a private Ray for the build and leaves none of its processes behind."""
    data = tmp_path / "data"
    write_files(data, {"a.md": DOC_A})
    ray_tmp = Path(tempfile.mkdtemp(prefix="icrag-ray-", dir="/tmp"))
    try:
        env = {"ICRAG_CACHE_DIR": str(tmp_path / "cache"), "RAY_TMPDIR": str(ray_tmp)}
        args = ["index", "build", "--data", str(data), "--index", str(tmp_path / "index"), "--json", "--ray"]
        done = run_icrag(*args, cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["n_passages"] >= 1
        assert done.stderr == ""  # nothing from Ray: no token notice, no progress bars, no execution plans
        assert any(ray_tmp.iterdir()), "the local Ray did not use RAY_TMPDIR"
        time.sleep(2)
        left = processes_of(ray_tmp)
    finally:
        stop(processes_of(ray_tmp))
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert not left, f"Ray processes outlived the build: {sorted(left)}"

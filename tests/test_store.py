"""The on-disk index: exact search, faithful save and load, a manifest that says how it was made."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from helpers import DOC_A, DOC_B, QUERIES, BuilderFactory, SettingsFactory, write_files

from index.embedding import Embedder
from index.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from index.settings import BUNDLED_MODEL, INDEX_FIELDS
from index.store import FORMAT_VERSION, IndexStore, read_manifest, recover
from index.units import NO_ROLE, SENTENCE, WINDOW, Unit, Units


@pytest.fixture
def built(tmp_path: Path, make_settings: SettingsFactory, make_builder: BuilderFactory) -> IndexStore:
    """A real index of two tiny documents, built and saved in this test's folder."""
    settings = make_settings()
    write_files(settings.data_dir, {"a.md": DOC_A, "b.txt": DOC_B})
    report = make_builder(settings).build()
    assert report.written
    return IndexStore.load(settings.index_dir, settings)


@pytest.fixture
def queries(embedder: Embedder) -> np.ndarray:
    return np.stack([embedder.embed_query(q) for q in QUERIES])


def test_faiss_search_equals_brute_force_inner_product(built: IndexStore, queries: np.ndarray) -> None:
    k = len(built.passages)
    scores, positions = built.search(queries, k)
    brute = queries @ built.vectors.T
    expected = np.argsort(-brute, axis=1, kind="stable")
    np.testing.assert_array_equal(positions, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(brute, expected, axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(built.vectors, axis=1), 1.0, rtol=1e-5)  # cosine == inner product
    best = [built.passages[row[0]].text for row in positions]
    assert "shared purpose" in best[0]
    assert "night shifts" in best[1]


def test_units_name_the_columns_of_the_matrix_on_disk() -> None:
    units = Units.of_passages([[Unit(0, 5, SENTENCE, 2)], [], [Unit(1, 9, WINDOW, NO_ROLE), Unit(0, 4, SENTENCE, 0)]])
    assert units.table().tolist() == [[0, 0, 5, SENTENCE, 2], [2, 1, 9, WINDOW, NO_ROLE], [2, 0, 4, SENTENCE, 0]]
    assert (units.owner.tolist(), units.kind.tolist()) == ([0, 2, 2], [SENTENCE, WINDOW, SENTENCE])
    assert units.select([1, 2]) == [Unit(1, 9, WINDOW, NO_ROLE), Unit(0, 4, SENTENCE, 0)]
    np.testing.assert_array_equal(Units.from_table(units.table()).table(), units.table())


def test_sentences_of_a_passage_are_its_sentence_units(built: IndexStore) -> None:
    for position, passage in enumerate(built.passages):
        spans, roles, vectors = built.sentences(passage)
        assert spans == built.sentences(position).spans
        assert len(spans) == len(roles) == len(vectors) > 0
        rows = np.flatnonzero((built.units.owner == position) & (built.units.kind == SENTENCE))
        assert spans == list(zip(built.units.start[rows].tolist(), built.units.end[rows].tolist(), strict=True))
        np.testing.assert_array_equal(vectors, built.unit_vectors[rows])


def test_search_clamps_k_to_the_index_size(built: IndexStore, queries: np.ndarray) -> None:
    scores, positions = built.search(queries[0], 1000)
    assert positions.shape == scores.shape == (1, len(built.passages))
    assert sorted(positions[0].tolist()) == list(range(len(built.passages)))


def test_save_and_load_round_trip(
    built: IndexStore, queries: np.ndarray, tmp_path: Path, make_settings: SettingsFactory
) -> None:
    settings = make_settings()
    copy_dir = tmp_path / "copy"
    built.save(copy_dir)
    loaded = IndexStore.load(copy_dir, settings)
    assert loaded.passages == built.passages
    assert loaded.documents == built.documents
    assert loaded.manifest == built.manifest
    np.testing.assert_array_equal(loaded.vectors, built.vectors)
    np.testing.assert_array_equal(loaded.unit_vectors, built.unit_vectors)
    np.testing.assert_array_equal(loaded.units.table(), built.units.table())
    for got, expected in zip(loaded.search(queries, 4), built.search(queries, 4), strict=True):
        np.testing.assert_array_equal(got, expected)
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name or p.name.endswith(".old")]  # no leftovers


def test_manifest_says_how_the_index_was_made(built: IndexStore, make_settings: SettingsFactory) -> None:
    settings = make_settings()
    manifest = json.loads((settings.index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["icrag_version"]
    assert manifest["embedding_model"] == BUNDLED_MODEL
    assert manifest["dimension"] == 384
    assert manifest["settings"] == {name: getattr(settings, name) for name in INDEX_FIELDS}
    assert manifest["settings"]["normalize_embeddings"] is True
    assert (manifest["settings"]["chunk_size"], manifest["settings"]["chunk_overlap"]) == (900, 0)
    assert manifest["settings_hash"] == settings.index_hash()
    checksums = {
        d["path"]: hashlib.sha256((settings.data_dir / d["path"]).read_bytes()).hexdigest()
        for d in manifest["documents"]
    }
    assert checksums == {d["path"]: d["checksum"] for d in manifest["documents"]}
    assert [(d["doc_id"], d["kind"]) for d in manifest["documents"]] == [("a", "markdown"), ("b", "text")]
    assert sum(d["n_passages"] for d in manifest["documents"]) == manifest["n_passages"] == len(built.passages)


def test_settings_hash_ignores_locations_but_not_chunking(make_settings: SettingsFactory, tmp_path: Path) -> None:
    base = make_settings()
    assert make_settings(index_dir=tmp_path / "elsewhere", show_progress=True).index_hash() == base.index_hash()
    assert make_settings(chunk_size=500).index_hash() != base.index_hash()


def test_missing_index_is_reported(tmp_path: Path, make_settings: SettingsFactory) -> None:
    settings = make_settings()
    with pytest.raises(IndexMissingError, match=r"no index at .*icrag index build"):
        IndexStore.load(settings.index_dir, settings)
    settings.index_dir.mkdir()
    with pytest.raises(IndexMissingError):
        read_manifest(settings.index_dir)


@pytest.mark.parametrize(
    ("override", "value"),
    [("embedding_model", "sentence-transformers/all-mpnet-base-v2"), ("chunk_size", 500), ("chunk_overlap", 50)],
)
def test_loading_with_other_settings_names_the_setting(
    built: IndexStore, make_settings: SettingsFactory, override: str, value: object
) -> None:
    settings = make_settings(**{override: value})
    with pytest.raises(IndexMismatchError) as caught:
        IndexStore.load(settings.index_dir, settings)
    message = str(caught.value)
    assert f"{override}=" in message
    assert repr(value) in message
    assert f"ICRAG_{override.upper()}" in message


def test_damaged_index_is_reported_not_crashed(built: IndexStore, make_settings: SettingsFactory) -> None:
    settings = make_settings()
    (settings.index_dir / "vectors.npy").write_bytes(b"not an array")
    with pytest.raises(IndexCorruptError, match="damaged"):
        IndexStore.load(settings.index_dir, settings)
    (settings.index_dir / "manifest.json").write_text("{", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="unreadable manifest"):
        IndexStore.load(settings.index_dir, settings)


@pytest.mark.parametrize(
    ("file", "damage"),
    [
        ("vectors.npy", lambda a: a[:, :100]),  # narrower than the manifest's dimension
        ("units.npy", lambda a: a[:, :100]),
        (
            "unit_spans.npy",
            lambda a: np.where(np.arange(len(a))[:, None] == 0, [99999, 0, 1, 0, 0], a),
        ),  # no such passage
        ("unit_spans.npy", lambda a: a[::-1]),  # units out of passage order
    ],
)
def test_inconsistent_index_files_are_reported_not_crashed(
    built: IndexStore, make_settings: SettingsFactory, file: str, damage: Callable[[np.ndarray], np.ndarray]
) -> None:
    settings = make_settings()
    path = settings.index_dir / file
    np.save(path, damage(np.load(path)))
    with pytest.raises(IndexCorruptError, match="inconsistent"):
        IndexStore.load(settings.index_dir, settings)


def test_interrupted_swap_is_recovered(built: IndexStore, make_settings: SettingsFactory) -> None:
    """A crash between moving the old index aside and moving the new one in leaves only the backup."""
    settings = make_settings()
    backup = settings.index_dir.parent / f".{settings.index_dir.name}.old"
    settings.index_dir.replace(backup)
    settings.index_dir.mkdir()  # a half-written folder without a manifest
    recover(settings.index_dir)
    assert not backup.exists()
    assert IndexStore.load(settings.index_dir, settings).passages == built.passages
    shutil.copytree(settings.index_dir, backup)  # a stale backup beside a complete index is dropped
    recover(settings.index_dir)
    assert not backup.exists()

"""Building and changing an index: every change ends equal to a fresh build of the same files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from helpers import DOC_A, DOC_B, DOC_C, QUERIES, BuilderFactory, SettingsFactory, tree_digest, write_files, write_pdf

from index.builder import IndexBuilder
from index.embedding import Embedder
from index.errors import IcragError, IndexMismatchError, IndexMissingError, InputError
from index.settings import Settings
from index.store import IndexStore

SOURCES_CSV = (
    '"source_id","authors","year","title","venue","doi","url","licence"\n'
    '"a","Smith J; Jones K","2021","Leading integrated care","Journal of Care","10.1/abc","",""\n'
)


def assert_same_index(got: IndexStore, expected: IndexStore, queries: np.ndarray) -> None:
    """Equal passages, vectors, documents and search results: the indexes cannot be told apart."""
    assert [p.passage_id for p in got.passages] == [p.passage_id for p in expected.passages]
    assert got.passages == expected.passages
    np.testing.assert_array_equal(got.vectors, expected.vectors)
    np.testing.assert_array_equal(got.unit_vectors, expected.unit_vectors)
    np.testing.assert_array_equal(got.units.table(), expected.units.table())
    assert got.documents == expected.documents
    assert got.manifest.documents == expected.manifest.documents
    assert got.manifest.sources == expected.manifest.sources
    for a, b in zip(got.search(queries, 5), expected.search(queries, 5), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.fixture
def queries(embedder: Embedder) -> np.ndarray:
    return np.stack([embedder.embed_query(q) for q in QUERIES])


def test_incremental_changes_equal_a_fresh_build(
    tmp_path: Path, make_settings: SettingsFactory, make_builder: BuilderFactory, queries: np.ndarray
) -> None:
    settings = make_settings(index_dir=tmp_path / "incremental")
    write_files(settings.data_dir, {"a.md": DOC_A, "b.txt": DOC_B, "sources.csv": SOURCES_CSV})
    extra = write_files(tmp_path / "later", {"c.md": DOC_C})["c.md"]
    builder = make_builder(settings)
    builder.build()
    added = builder.add([extra])
    assert (added.added, added.n_documents) == (["c"], 3)
    removed = builder.remove(["b"])
    assert (removed.removed, removed.n_documents) == (["b"], 2)

    fresh = make_settings(index_dir=tmp_path / "fresh", data_dir=tmp_path / "fresh-data")
    write_files(fresh.data_dir, {"a.md": DOC_A, "c.md": DOC_C, "sources.csv": SOURCES_CSV})
    make_builder(fresh).build()

    incremental = IndexStore.load(settings.index_dir, settings)
    assert [d.doc_id for d in incremental.manifest.documents] == ["a", "c"]
    assert incremental.manifest.sources["a"].title == "Leading integrated care"
    assert_same_index(incremental, IndexStore.load(fresh.index_dir, fresh), queries)


def test_unchanged_files_are_skipped_and_nothing_is_written(
    make_settings: SettingsFactory, make_builder: BuilderFactory
) -> None:
    settings = make_settings()
    files = write_files(settings.data_dir, {"a.md": DOC_A, "b.txt": DOC_B})
    builder = make_builder(settings)
    builder.build()
    before = tree_digest(settings.index_dir)

    report = builder.add([files["a.md"]])
    assert (report.written, report.added, report.unchanged, report.n_embedded) == (False, [], ["a"], 0)
    rebuild = builder.build()
    assert (rebuild.written, rebuild.unchanged) == (False, ["a.md", "b.txt"])
    assert tree_digest(settings.index_dir) == before


def test_passage_ids_are_stable_across_rebuilds(make_settings: SettingsFactory, make_builder: BuilderFactory) -> None:
    settings = make_settings()
    files = write_files(settings.data_dir, {"a.md": DOC_A, "b.txt": DOC_B})
    builder = make_builder(settings)
    builder.build()
    first = IndexStore.load(settings.index_dir, settings)
    assert builder.build(force=True).written
    again = IndexStore.load(settings.index_dir, settings)
    assert [p.passage_id for p in again.passages] == [p.passage_id for p in first.passages]

    files["b.txt"].write_text(DOC_B.replace("four weeks", "six weeks"), encoding="utf-8")
    report = builder.build()
    assert report.written
    changed = IndexStore.load(settings.index_dir, settings)

    def ids(store: IndexStore, doc_id: str) -> list[str]:
        return [p.passage_id for p in store.passages if p.doc_id == doc_id]

    assert ids(changed, "a") == ids(first, "a")
    assert ids(changed, "b") != ids(first, "b")


def test_adding_a_changed_file_replaces_only_that_document(
    make_settings: SettingsFactory, make_builder: BuilderFactory
) -> None:
    settings = make_settings()
    files = write_files(settings.data_dir, {"a.md": DOC_A, "b.txt": DOC_B})
    builder = make_builder(settings)
    builder.build()
    before = IndexStore.load(settings.index_dir, settings)
    files["b.txt"].write_text(DOC_B.replace("night shifts", "weekend shifts"), encoding="utf-8")

    report = builder.add([files["b.txt"]])
    assert (report.added, report.n_documents) == (["b"], 2)
    after = IndexStore.load(settings.index_dir, settings)
    texts = " ".join(p.text for p in after.passages)
    assert "weekend shifts" in texts
    assert "night shifts" not in texts
    rows = [i for i, p in enumerate(before.passages) if p.doc_id == "a"]
    kept = [i for i, p in enumerate(after.passages) if p.doc_id == "a"]
    np.testing.assert_array_equal(after.vectors[kept], before.vectors[rows])


def test_batch_skips_bad_files_with_one_line_each(make_settings: SettingsFactory, make_builder: BuilderFactory) -> None:
    settings = make_settings()
    write_files(settings.data_dir, {"a.md": DOC_A, "b.txt": DOC_B, "broken.pdf": b"%PDF-1.4\n1 0 obj\n<<"})
    write_files(settings.data_dir, {"numbers.txt": "\n".join(f"{i} {i * 2} {i * 3}" for i in range(30))})
    report = make_builder(settings).build()
    assert report.written
    assert sorted(report.added) == ["a", "b"]
    assert len(report.failed) == 2
    broken, numbers = report.failed
    assert broken.startswith(f"{settings.data_dir / 'broken.pdf'}: corrupt PDF")
    assert numbers == "numbers.txt: no passages of readable text"
    store = IndexStore.load(settings.index_dir, settings)
    assert [d.doc_id for d in store.manifest.documents] == ["a", "b"]
    assert [f.path for f in store.manifest.skipped] == ["broken.pdf", "numbers.txt"]


def test_unchanged_bad_files_do_not_make_the_index_stale(
    make_settings: SettingsFactory, make_builder: BuilderFactory
) -> None:
    """A folder with a bad file is indexed once; the file is reported again, and retried once changed."""
    settings = make_settings()
    files = write_files(settings.data_dir, {"a.md": DOC_A, "broken.pdf": b"%PDF-1.4\n1 0 obj\n<<"})
    builder = make_builder(settings)
    first = builder.build()
    before = tree_digest(settings.index_dir)
    again = builder.build()
    assert (first.written, again.written, again.unchanged) == (True, False, ["a.md"])
    assert again.failed == first.failed and "corrupt PDF" in again.failed[0]
    assert tree_digest(settings.index_dir) == before
    files["broken.pdf"].unlink()
    write_files(settings.data_dir, {"broken.txt": DOC_B})
    fixed = builder.build()
    assert (fixed.written, sorted(fixed.added), fixed.failed) == (True, ["a", "broken"], [])
    assert IndexStore.load(settings.index_dir, settings).manifest.skipped == []


def test_a_name_both_indexed_and_skipped_is_looked_at_again(
    make_settings: SettingsFactory, make_builder: BuilderFactory
) -> None:
    """Two folders holding notes.md: one is indexed, the other skipped as a duplicate; an edit still counts."""
    settings = make_settings()
    first = write_files(settings.data_dir / "a", {"notes.md": DOC_A})["notes.md"]
    write_files(settings.data_dir / "b", {"notes.md": DOC_B})
    builder = make_builder(settings)
    assert "same document id" in builder.build().failed[0]
    first.write_text(DOC_C, encoding="utf-8")
    assert builder.build().written


def test_nothing_readable_is_an_error_and_writes_nothing(
    make_settings: SettingsFactory, make_builder: BuilderFactory
) -> None:
    settings = make_settings()
    files = write_files(settings.data_dir, {"broken.pdf": b"%PDF-1.4 truncated", "notes.md": b"\x00\x01binary"})
    builder = make_builder(settings)
    with pytest.raises(InputError, match="none of the evidence files could be read") as caught:
        builder.build()
    assert "broken.pdf: corrupt PDF" in str(caught.value)
    assert "notes.md: binary content" in str(caught.value)
    with pytest.raises(IcragError) as single:
        builder.add([files["broken.pdf"]])
    assert str(single.value).startswith(f"{files['broken.pdf']}: corrupt PDF")
    assert str(single.value).count("broken.pdf") == 1
    assert not settings.index_dir.exists()


def test_remove_errors(make_settings: SettingsFactory, make_builder: BuilderFactory) -> None:
    settings = make_settings()
    builder = make_builder(settings)
    with pytest.raises(IndexMissingError):
        builder.remove(["a"])
    write_files(settings.data_dir, {"a.md": DOC_A})
    builder.build()
    with pytest.raises(InputError, match=r"^zzz: no such document in the index \(known: a\)$"):
        builder.remove(["zzz"])


def test_adding_to_an_index_built_with_other_settings_is_refused(
    make_settings: SettingsFactory, make_builder: BuilderFactory
) -> None:
    settings = make_settings()
    files = write_files(settings.data_dir, {"a.md": DOC_A, "b.txt": DOC_B})
    make_builder(settings).build()
    before = tree_digest(settings.index_dir)
    with pytest.raises(IndexMismatchError, match="chunk_size=900"):
        make_builder(make_settings(chunk_size=300)).add([files["b.txt"]])
    assert tree_digest(settings.index_dir) == before


@dataclass
class Cited:
    """An index of one document whose publication sources.csv describes, and its builder."""

    settings: Settings
    sources_csv: Path
    builder: IndexBuilder

    def store(self) -> IndexStore:
        """The index as it is on disk now."""
        return IndexStore.load(self.settings.index_dir, self.settings)


@pytest.fixture
def cited(make_settings: SettingsFactory, make_builder: BuilderFactory) -> Cited:
    """One document, a sources.csv row for it, built."""
    settings = make_settings()
    files = write_files(settings.data_dir, {"a.md": DOC_A, "sources.csv": SOURCES_CSV})
    builder = make_builder(settings)
    builder.build()
    return Cited(settings, files["sources.csv"], builder)


def test_changed_sources_csv_rebuilds_and_reaches_passages(cited: Cited) -> None:
    cited.sources_csv.write_text(SOURCES_CSV.replace("2021", "2022"), encoding="utf-8")
    assert cited.builder.build().written
    store = cited.store()
    assert {p.source.year for p in store.passages} == {"2022"}
    assert store.manifest.sources["a"].authors == "Smith J; Jones K"


def test_a_removed_sources_row_or_a_row_naming_a_file_by_doi_rebuilds(cited: Cited) -> None:
    header = SOURCES_CSV.splitlines()[0] + "\n"
    cited.sources_csv.write_text(header, encoding="utf-8")
    assert cited.builder.build().written
    assert {p.source.title for p in cited.store().passages} == {""}

    cited.sources_csv.write_text(header + '"smith2021","Smith J","2021","A title","","A","",""\n', encoding="utf-8")
    assert cited.builder.build().written  # the new row's DOI is the file's name: a.md belongs to smith2021 now
    assert {p.source_id for p in cited.store().passages} == {"smith2021"}
    assert not cited.builder.build().written

    # A row whose DOI names a file that cannot be indexed changes nothing the index holds.
    write_files(cited.settings.data_dir, {"10.5555%2Fbroken.txt": ""})
    row = '"doe2024","Doe J","2024","Broken","","10.5555/broken","",""\n'
    cited.sources_csv.write_text(cited.sources_csv.read_text(encoding="utf-8") + row, encoding="utf-8")
    cited.builder.build()
    assert not cited.builder.build().written


def test_adding_a_file_updates_the_records_of_kept_passages_as_a_rebuild_would(
    cited: Cited, tmp_path: Path, make_settings: SettingsFactory, make_builder: BuilderFactory, queries: np.ndarray
) -> None:
    cited.sources_csv.write_text(SOURCES_CSV.replace("Leading integrated care", "Leading care"), encoding="utf-8")
    extra = write_files(cited.settings.data_dir, {"b.txt": DOC_B})["b.txt"]
    cited.builder.add([extra])
    incremental = cited.store()
    assert {p.source.title for p in incremental.passages if p.doc_id == "a"} == {"Leading care"}
    assert not cited.builder.build().written

    fresh = make_settings(index_dir=tmp_path / "fresh")
    make_builder(fresh).build()
    assert_same_index(incremental, IndexStore.load(fresh.index_dir, fresh), queries)


def test_pdf_pages_survive_indexing(make_settings: SettingsFactory, make_builder: BuilderFactory) -> None:
    settings = make_settings()
    pages = [
        "Introduction\n\nLeaders of integrated care teams build a shared purpose across organisations.",
        "Results\n\nNurses working night shifts reported more fatigue than colleagues on day rotas.",
    ]
    write_pdf(settings.data_dir / "paper.pdf", pages)
    make_builder(settings).build()
    store = IndexStore.load(settings.index_dir, settings)
    assert [(p.page, p.section) for p in store.passages] == [(1, "Introduction"), (2, "Results")]
    document = store.documents["paper"]
    assert all(document.text[p.start : p.end] == p.text for p in store.passages)

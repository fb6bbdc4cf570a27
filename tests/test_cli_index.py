"""The ``icrag index`` commands: readable summaries, one-line errors, exit code 2, untouched indexes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import BAD_INPUT_CASES, DATA_DIR, DOC_A, DOC_B, ICRAG, make_bad_input, tree_digest, write_files
from typer.testing import CliRunner, Result

from app.cli import app
from index.builder import IndexBuilder
from index.embedding import Embedder, resolve_model_path
from index.settings import BUNDLED_MODEL, Settings

Invoke = Callable[..., Result]

SOURCES_CSV = (
    '"source_id","authors","year","title","venue","doi","url","licence"\n'
    '"a","Smith J","2021","Leading integrated care","Journal of Care","10.1/abc","",""\n'
)
EVIDENCE_CSV = (
    '"record_id","component","context","mechanism","outcome","source_id"\n'
    '"R1","general","Joint boards","Leaders share budgets openly","More trust between partners","a"\n'
)


@pytest.fixture(scope="module")
def base_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, cache_dir: Path) -> Path:
    """An index of Markdown, text and coded evidence, built once; tests work on copies."""
    root = tmp_path_factory.mktemp("cli-base")
    data = root / "data"
    write_files(data, {"a.md": DOC_A, "b.txt": DOC_B, "evidence.csv": EVIDENCE_CSV, "sources.csv": SOURCES_CSV})
    settings = Settings(index_dir=root / "index", data_dir=data, cache_dir=cache_dir, show_progress=False)
    IndexBuilder(settings, embedder=embedder).build()
    return settings.index_dir


@pytest.fixture
def index_dir(base_index: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "index"
    shutil.copytree(base_index, copy)
    return copy


@pytest.fixture
def icrag(shared_model: None, tmp_path: Path, cache_dir: Path) -> Invoke:
    """Run ``icrag`` in-process with this test's folders; the session's model does the embedding."""
    environment = {"ICRAG_CACHE_DIR": str(cache_dir), "ICRAG_DATA_DIR": str(tmp_path / "data")}

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, list(args), env=environment)

    return run


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("icrag: error: ")
    for fragment in fragments:
        assert lines[0].count(fragment) == 1  # named once, not repeated by each layer
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_info_lists_documents_sources_and_counts(icrag: Invoke, index_dir: Path) -> None:
    result = icrag("index", "info", "--index", str(index_dir))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "passages    5" in lines
    assert "coded records 1" in lines
    documents = lines[lines.index("documents (3)") + 1 : lines.index("documents (3)") + 4]
    assert [line.split()[:3] for line in documents] == [
        ["a", "markdown", "2"],
        ["b", "text", "2"],
        ["evidence", "evidence", "1"],
    ]
    sources = lines[lines.index("sources (1)") + 1]
    assert sources.split()[:7] == ["a", "2021", "3", "passages", "1", "records", "Leading"]
    others = lines.index("other passages, without a bibliographic record (2)")
    assert lines[others + 1].split() == ["b", "2", "passages"]


def test_info_says_which_encoder_reads_queries_and_why_it_fell_back(
    icrag: Invoke, index_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = icrag("index", "info", "--index", str(index_dir))
    assert "query encoder: numpy" in result.stdout.splitlines()
    # Weights the NumPy encoder cannot read: queries go to sentence-transformers, and info says why.
    model = tmp_path / "model"
    bundled = Path(resolve_model_path(BUNDLED_MODEL))
    shutil.copytree(bundled, model, ignore=shutil.ignore_patterns("model.safetensors", "*.bin", "onnx", "openvino"))
    (model / "model.safetensors").write_bytes(b"not safetensors")
    broken = Embedder(Settings(cache_dir=tmp_path / "cache", embedding_model=str(model)))
    monkeypatch.setattr("app.cli_common.Embedder", lambda settings: broken)
    result = icrag("index", "info", "--index", str(index_dir), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["query_encoder"] == f"sentence-transformers (fallback: {broken.fallback_reason})"
    assert broken.fallback_reason


def test_info_json(icrag: Invoke, index_dir: Path) -> None:
    result = icrag("index", "info", "--index", str(index_dir), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["passages_per_source"] == {"a": 3, "b": 2}
    assert payload["records_per_source"] == {"a": 1}
    assert payload["uncatalogued_sources"] == ["b"]
    assert [d["doc_id"] for d in payload["documents"]] == ["a", "b", "evidence"]


def test_build_add_remove_round_trip(icrag: Invoke, tmp_path: Path) -> None:
    index = str(tmp_path / "index")
    write_files(tmp_path / "data", {"a.md": DOC_A})
    built = icrag("index", "build", "--data", str(tmp_path / "data"), "--index", index)
    assert built.exit_code == 0, built.output
    assert built.stdout.startswith("index built: 1 documents, 2 passages; added 1 (2 passages embedded)")
    again = icrag("index", "build", "--data", str(tmp_path / "data"), "--index", index)
    assert again.stdout.startswith("index up to date: 1 documents, 2 passages; 1 unchanged")

    extra = write_files(tmp_path / "more", {"b.txt": DOC_B})["b.txt"]
    added = icrag("index", "add", str(extra), "--index", index)
    assert added.stdout.startswith("index updated: 2 documents, 4 passages; added 1 (2 passages embedded)")
    unchanged = icrag("index", "add", str(extra), "--index", index, "--json")
    assert json.loads(unchanged.stdout)["unchanged"] == ["b"]
    removed = icrag("index", "remove", "a", "--index", index)
    assert removed.stdout.startswith("index updated: 1 documents, 2 passages; removed a")


@pytest.mark.parametrize("case", BAD_INPUT_CASES)
def test_bad_input_fails_cleanly_and_leaves_the_index_alone(
    icrag: Invoke, index_dir: Path, tmp_path: Path, case: str
) -> None:
    path, problem = make_bad_input(case, tmp_path / "incoming")
    before = tree_digest(index_dir)
    result = icrag("index", "add", str(path), "--index", str(index_dir))
    assert_one_line_error(result, f"icrag: error: {path}: ", problem)
    assert tree_digest(index_dir) == before


def test_batch_skips_the_bad_file_with_a_warning(icrag: Invoke, tmp_path: Path) -> None:
    data = tmp_path / "batch"
    write_files(data, {"a.md": DOC_A, "b.txt": DOC_B})
    bad, problem = make_bad_input("latin1_txt", data)
    result = icrag("index", "build", "--data", str(data), "--index", str(tmp_path / "index"))
    assert result.exit_code == 0, result.output
    warning = f"icrag: warning: skipped {bad}: {problem} text (invalid byte at offset 3); re-save it as UTF-8"
    assert result.stderr.splitlines() == [warning]
    assert result.stdout.startswith("index built: 2 documents, 4 passages; added 2 (4 passages embedded); 1 skipped")


def test_build_of_unreadable_folder_is_an_error(icrag: Invoke, index_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "bad"
    bad, problem = make_bad_input("corrupt_pdf", data)
    before = tree_digest(index_dir)
    result = icrag("index", "build", "--data", str(data), "--index", str(index_dir))
    assert_one_line_error(result, "none of the evidence files could be read", f"{bad}: {problem}")
    nowhere = tmp_path / "nowhere"
    missing = icrag("index", "build", "--data", str(nowhere), "--index", str(index_dir))
    assert_one_line_error(missing, f"{nowhere}: not a folder")
    assert tree_digest(index_dir) == before


def test_an_index_is_never_written_over_a_folder_of_other_files(icrag: Invoke, tmp_path: Path) -> None:
    write_files(tmp_path / "data", {"a.md": DOC_A})
    mine = write_files(tmp_path / "mine", {"thesis.md": DOC_B})["thesis.md"]
    before = tree_digest(tmp_path / "mine")
    for command in (["build", "--data", str(tmp_path / "data")], ["add", str(tmp_path / "data" / "a.md")]):
        result = icrag("index", *command, "--index", str(mine.parent))
        assert_one_line_error(result, f"{mine.parent}: this folder holds files but no icrag index")
    assert tree_digest(tmp_path / "mine") == before
    assert_one_line_error(icrag("index", "build", "--index", str(mine)), f"{mine}: is a file, not an index folder")
    assert mine.read_text(encoding="utf-8") == DOC_B
    here = icrag("index", "build", "--data", str(tmp_path / "data"), "--index", ".")
    assert_one_line_error(here, ".: an index needs a folder of its own")


def test_missing_index_and_mismatched_settings(icrag: Invoke, index_dir: Path, tmp_path: Path) -> None:
    missing = icrag("index", "info", "--index", str(tmp_path / "none"))
    assert_one_line_error(missing, "no index at", "icrag index build")
    runner = CliRunner()
    mismatch = runner.invoke(app, ["index", "info", "--index", str(index_dir)], env={"ICRAG_CHUNK_SIZE": "400"})
    assert_one_line_error(mismatch, "chunk_size=900", "ICRAG_CHUNK_SIZE=900")
    invalid = runner.invoke(app, ["index", "info", "--index", str(index_dir)], env={"ICRAG_CHUNK_SIZE": "lots"})
    assert_one_line_error(invalid, "invalid setting chunk_size")


@pytest.mark.slow  # starts the installed script in a subprocess
@pytest.mark.parametrize("case", ["corrupt_pdf", "missing_path"])
def test_installed_command_prints_one_line_and_exits_2(index_dir: Path, tmp_path: Path, case: str) -> None:
    """The real console script, so logging and warnings reach stderr as a user would see them."""
    path, problem = make_bad_input(case, tmp_path / "incoming")
    before = tree_digest(index_dir)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ICRAG_")}
    environment.update(ICRAG_CACHE_DIR=str(tmp_path / "cache"), ICRAG_DATA_DIR=str(tmp_path / "data"))
    completed = subprocess.run(
        [str(ICRAG), "index", "add", str(path), "--index", str(index_dir)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    lines = completed.stderr.splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith(f"icrag: error: {path}: {problem}")
    assert tree_digest(index_dir) == before


@pytest.mark.slow
def test_info_of_the_bundled_corpus(icrag: Invoke, tmp_path: Path) -> None:
    """Builds the real corpus (minutes on a small machine): 25 catalogued sources and 117 coded records."""
    index = str(tmp_path / "index")
    built = icrag("index", "build", "--data", str(DATA_DIR), "--index", index)
    assert built.exit_code == 0, built.output
    result = icrag("index", "info", "--index", index)
    lines = result.stdout.splitlines()
    assert "coded records 117" in lines
    assert "sources (25)" in lines
    start = lines.index("sources (25)") + 1
    listed = {line.split()[0] for line in lines[start : start + 25]}
    with open(DATA_DIR / "sources.csv", encoding="utf-8") as handle:
        expected = {line.split(",")[0].strip('"') for line in handle.read().splitlines()[1:]}
    assert listed == expected
    other = next(line for line in lines if line.startswith("other passages, without a bibliographic record"))
    assert lines[lines.index(other) + 1].split()[0] == "review_summaries"

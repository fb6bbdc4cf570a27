"""Where passages are embedded: the device setting resolves as documented, and the CPU path is unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import DOC_A, SettingsFactory, write_files
from pydantic import ValidationError
from sentence_transformers import SentenceTransformer
from typer.testing import CliRunner

from app.cli import app
from index.embedding import Embedder, encode_sorted, resolve_device, resolve_model_path
from index.errors import IcragError
from index.settings import BUNDLED_MODEL, Settings

#: Texts of very different lengths, so sorting and padding matter.
TEXTS = [
    "x",
    "Leaders of integrated care teams build a shared purpose across health and social care organisations. " * 6,
    "Night shifts and fatigue.",
    "Shared electronic care records let social workers and general practitioners see the same medication list.",
    "",
    "Working with power means leaders notice how funding and status shape which partners are heard. " * 3,
    "Rota design",
]


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)


def test_auto_means_cpu_without_a_gpu(no_gpu: None) -> None:
    assert resolve_device("auto") == "cpu"
    assert resolve_device("cpu") == "cpu"


def test_auto_means_cuda_with_a_gpu(a_gpu: None) -> None:
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cuda") == "cuda"
    assert resolve_device("cpu") == "cpu"  # an explicit CPU stays on the CPU


def test_explicit_cuda_without_a_gpu_is_one_line(no_gpu: None, make_settings: SettingsFactory) -> None:
    embedder = Embedder(make_settings(device="cuda"))
    with pytest.raises(IcragError) as raised:
        embedder.encode(["a passage"])
    assert str(raised.value) == "ICRAG_DEVICE=cuda but PyTorch sees no CUDA GPU; set ICRAG_DEVICE=auto or cpu"
    assert embedder._model is None


def test_the_command_line_says_so_in_one_line(no_gpu: None, tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_files(data, {"a.md": DOC_A})
    env = {"ICRAG_DEVICE": "cuda", "ICRAG_CACHE_DIR": str(tmp_path / "cache"), "ICRAG_SHOW_PROGRESS": "false"}
    result = CliRunner().invoke(
        app, ["index", "build", "--data", str(data), "--index", str(tmp_path / "index")], env=env
    )
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "icrag: error: ICRAG_DEVICE=cuda but PyTorch sees no CUDA GPU; set ICRAG_DEVICE=auto or cpu"
    ]
    assert not (tmp_path / "index").exists()


def test_the_device_setting_is_read_checked_and_hashed_only_when_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICRAG_DEVICE", "cpu")
    assert Settings().device == "cpu"
    monkeypatch.setenv("ICRAG_DEVICE", "gpu")
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.delenv("ICRAG_DEVICE")
    default = Settings()
    assert default.device == "auto" and "device" not in default.result_settings()
    assert Settings(device="cuda").settings_hash() != default.settings_hash() != Settings(device="cpu").settings_hash()
    assert Settings(device="cuda").index_hash() == default.index_hash()  # a GPU-built index loads anywhere


def test_the_cpu_path_is_sentence_transformers_unchanged(no_gpu: None, embedder: Embedder) -> None:
    """On the CPU the embedder still calls SentenceTransformer.encode in fp32: bit-identical vectors."""
    reference = SentenceTransformer(resolve_model_path(BUNDLED_MODEL), device="cpu", local_files_only=True)
    expected = reference.encode(TEXTS, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    got = embedder.encode(TEXTS)
    assert embedder.device == "cpu"
    assert got.dtype == np.float32 and next(embedder.model.parameters()).dtype == torch.float32
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("prefetch", [True, False])
def test_the_gpu_loop_agrees_with_sentence_transformers(embedder: Embedder, prefetch: bool) -> None:
    """The loop CUDA runs (length-sorted batches, tokenised a batch ahead), here in fp32 on the CPU."""
    expected = embedder.model.encode(TEXTS, batch_size=3, normalize_embeddings=True, convert_to_numpy=True)
    got = encode_sorted(embedder.model, TEXTS, batch_size=3, normalize=True, prefetch=prefetch)
    assert got.shape == (len(TEXTS), 384) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert encode_sorted(embedder.model, [], batch_size=3, normalize=True).shape == (0, 384)

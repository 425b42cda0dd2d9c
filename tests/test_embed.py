"""Both embedding backends on the bundled model: fp32 torch (a setting) agrees with the default
int8 ONNX export, counting word pieces of long texts is silent, and the int8 export is prepared
once per machine."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from index.embed.encoder import Embedder
from index.embed.onnx import model_cache
from tests.helpers import ROOT, SAMPLES, run_assistant

TEXTS = [
    "Japan attended the NATO summit in Madrid because of Russia's invasion of Ukraine.",
    "The bridge will cost 42 million dollars and open in 2025.",
    "Squid Game is officially coming back for a second season on Netflix.",
]


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    emb = Embedder(backend="torch")
    emb.embed(["warm up"])
    return emb


@pytest.mark.slow
def test_torch_and_int8_vectors_agree(torch_embedder, embedder):
    fp32, int8 = torch_embedder.embed(TEXTS), embedder.embed(TEXTS)
    assert fp32.shape == int8.shape == (3, 384)
    assert np.allclose(np.linalg.norm(fp32, axis=1), 1.0, atol=1e-5)
    same = (fp32 * int8).sum(axis=1)
    assert same.min() > 0.97  # the same text, quantised or not
    across = fp32 @ int8.T
    assert (across.argmax(axis=1) == np.arange(3)).all()  # and closer to itself than to others


@pytest.mark.slow
def test_counting_long_text_prints_no_model_warning(torch_embedder, embedder, capfd):
    long_text = " ".join(["The summit ended on Thursday after three days of talks."] * 80)
    counts = torch_embedder.count_tokens([long_text])
    assert counts == embedder.count_tokens([long_text])
    assert counts[0] > 256
    assert "sequence length" not in capfd.readouterr().err


@pytest.mark.slow
def test_counting_while_the_model_embeds_in_another_thread(torch_embedder):
    """A sync chunks (counts) in one thread while the model embeds in another; with one shared
    Hugging Face tokenizer, the counting call failed with "Already borrowed"."""
    import threading

    texts = [" ".join(TEXTS * 12)] * 48
    failures: list[BaseException] = []
    embedding = threading.Event()

    def count() -> None:
        embedding.wait()
        try:
            for _ in range(60):
                assert torch_embedder.count_tokens(texts)[0] > 256
        except BaseException as exc:  # reported below, in the test's own thread
            failures.append(exc)

    counter = threading.Thread(target=count)
    counter.start()
    embedding.set()
    for _ in range(3):
        assert torch_embedder.embed(texts).shape == (48, 384)
    counter.join()
    assert failures == []


@pytest.mark.slow
def test_the_int8_model_is_prepared_once_per_machine_not_per_store(tmp_path):
    """Two stores on one machine: the first `assistant index` prepares the int8 export in the
    user's cache folder, the second store's uses it as it is."""
    env = {k: v for k, v in os.environ.items() if k != "ASSISTANT_INDEX__MODEL_CACHE"}
    env |= {"XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    runs = [
        run_assistant("index", str(SAMPLES), "--store", str(tmp_path / store), env=env)
        for store in ("first", "second")
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
    assert "Preparing the int8 embedding model" in runs[0].stderr
    assert "Preparing" not in runs[1].stderr
    exports = list((tmp_path / "cache" / "news-assistant" / "models").glob("*-onnx/onnx/*.onnx"))
    assert exports and not list(tmp_path.glob("*/models"))  # nothing in the stores' folders


def test_an_unwritable_cache_folder_falls_back_to_the_store(tmp_path, monkeypatch):
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert model_cache("", tmp_path / "store" / "models") == tmp_path / "store" / "models"
    assert model_cache("~/elsewhere", tmp_path) == Path.home() / "elsewhere"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    assert model_cache("", tmp_path) == tmp_path / "home-cache" / "news-assistant" / "models"


def test_a_damaged_model_file_says_which_file_and_what_to_do(tmp_path, embedder):
    """A model folder that ships its int8 file (as index/embed/models/ do) is used as it is; a
    damaged file there is a SettingsError naming it, not a crash of the runtime."""
    import shutil

    from index.embed.encoder import resolve_model
    from index.embed.onnx import SHIPPED_FILE, export_int8
    from index.errors import SettingsError

    assert embedder.cache_dir is not None
    export, int8 = export_int8(resolve_model(embedder.model_name), embedder.cache_dir)
    folder = tmp_path / "shipped"
    folder.mkdir()
    for name in ("tokenizer.json", "sentence_bert_config.json", "config.json"):
        shutil.copy(export / name, folder / name)
    shutil.copy(export / int8, folder / SHIPPED_FILE)
    assert export_int8(str(folder), tmp_path / "cache") == (folder, SHIPPED_FILE)
    shipped = Embedder(str(folder))
    shipped.cache_dir = tmp_path / "cache"
    assert np.allclose(shipped.embed(TEXTS), embedder.embed(TEXTS), atol=1e-6)
    assert not (tmp_path / "cache").exists()  # nothing exported for a shipped model

    data = (folder / SHIPPED_FILE).read_bytes()
    (folder / SHIPPED_FILE).write_bytes(data[: len(data) // 3])  # cut short, as by a full disk
    damaged = Embedder(str(folder))
    damaged.cache_dir = tmp_path / "cache"
    with pytest.raises(SettingsError, match="damaged") as caught:
        damaged.embed(TEXTS)
    assert str(folder / SHIPPED_FILE) in str(caught.value)

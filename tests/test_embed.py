"""Both embedding backends on the bundled model: fp32 torch (a setting) agrees with the default
int8 ONNX export, and counting word pieces of long texts is silent."""

from __future__ import annotations

import numpy as np
import pytest

from index.embed import Embedder

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

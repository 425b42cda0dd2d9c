"""One tokenisation per article: span counts and chunk inputs equal the tokenizer's own, with the
real bundled model's tokenizer (int8 backend), on texts chosen to cut words and mix scripts."""

from __future__ import annotations

import numpy as np
import pytest

from index.chunk import chunk_spans
from index.types import Article, ArticleInfo
from index.writer import make_chunks

TEXTS = [
    "Café naïve résumé — “quotes” and 東京都 in Tokyo. Next.Sentence here! " * 6,
    "Emoji 😀😀 test.\u200b Zero width.\tTabs\x07bell. Ünïcödé ÀÉÎ. " * 8,
    "The U.S. said 3.5% of Mr. Smith's ¥1,000,000 (roughly) went... elsewhere? Yes. " * 10,
    "Antidisestablishmentarianism " * 3 + "pneumonoultramicroscopicsilicovolcanoconiosis. " * 4,
    "https://example.com/" + "a/b" * 90 + " end. " + "qzxwvjkqmnbv" * 7 + " done.",
]


def _direct(embedder, texts: list[str]) -> list[np.ndarray]:
    return embedder.onnx.input_ids(texts)


@pytest.mark.parametrize("max_tokens,overlap", [(254, 40), (24, 6), (5, 0)])
def test_chunks_and_inputs_are_the_tokenizers_own(embedder, max_tokens: int, overlap: int):
    if embedder.backend != "onnx-int8":
        pytest.skip("the one-pass tokens are the int8 backend's")
    sliced = fallback = 0
    for n, text in enumerate(TEXTS):
        article = Article(ArticleInfo(f"a{n}"), text)
        chunks, inputs = make_chunks(article, embedder, max_tokens, overlap)
        # the very chunks that counting each text alone gives
        assert [(c.start, c.end) for c in chunks] == chunk_spans(
            text, embedder.count_tokens, max_tokens, overlap
        )
        own_ids = _direct(embedder, [c.text for c in chunks])
        for chunk, known, own in zip(chunks, inputs, own_ids, strict=True):
            if known is None:
                fallback += 1  # a span that cuts a word: the embedder tokenises it alone
            else:
                sliced += 1
                assert known.tolist() == own.tolist(), chunk.text
    assert sliced > 0
    if max_tokens == 5:  # words longer than the limit are cut: those spans are tokenised alone
        assert fallback > 0


def test_span_counts_match_counting_each_text(embedder):
    if embedder.backend != "onnx-int8":
        pytest.skip("the one-pass tokens are the int8 backend's")
    text = TEXTS[0] + TEXTS[2]
    tokens = embedder.tokens(text)
    spans = [(0, 4), (0, 12), (5, 20), (2, 9), (40, 140), (0, len(text)), (13, 14)]
    assert tokens.count(spans) == embedder.count_tokens([text[s:e] for s, e in spans])
    assert tokens.model_ids(2, 9) is None  # starts inside a word: tokenised alone
    assert tokens.pieces(0, 4) is not None  # "Café" is a whole word


def test_vectors_of_sliced_inputs_equal_embedding_the_texts(embedder):
    if embedder.backend != "onnx-int8":
        pytest.skip("the one-pass tokens are the int8 backend's")
    article = Article(ArticleInfo("a"), TEXTS[2] + TEXTS[0])
    chunks, inputs = make_chunks(article, embedder, 64, 16)
    texts = [c.text for c in chunks]
    assert all(i is not None for i in inputs)
    assert np.array_equal(embedder.embed(texts, ids=inputs), embedder.embed(texts))

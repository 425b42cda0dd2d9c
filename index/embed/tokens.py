"""An article's word pieces, tokenised once: the count of any span, and a chunk's model input.

Chunking counts the word pieces of many spans of one article (its sentences, then each planned
chunk), and embedding then tokenises every chunk once more. The model's tokenizer (BERT: text
split at whitespace and punctuation into words, each word into word pieces) gives a span that
starts and ends on word boundaries exactly the pieces of the whole text that lie inside it, so
one tokenisation of the article, with character offsets, answers all of them: a span's count is
a difference of two positions, and a chunk's model input is a slice of the article's ids between
the model's special tokens. A span that cuts a word (a hard cut of a very long word, a boundary
inside a piece) is tokenised on its own instead, so every answer is the tokenizer's own.

Not here: choosing spans (`index.chunk`) or running the model (`index.embed.onnx`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

Span = tuple[int, int]


class ArticleTokens:
    """The word pieces of one text, with the character span and word of each."""

    def __init__(self, text: str, counter: Tokenizer, special: Sequence[int], limit: int) -> None:
        """`counter`: the model's tokenizer without truncation, padding or special tokens;
        `special`: the model's two special tokens around one text ([CLS], [SEP]); `limit`: the
        model's input length, special tokens included (longer inputs are cut as it cuts them)."""
        encoded = counter.encode(text, add_special_tokens=False)
        self.text = text
        self._counter = counter
        self._special = tuple(special)
        self._limit = limit
        self.ids = np.asarray(encoded.ids, dtype=np.int64)
        self._starts = [s for s, _ in encoded.offsets]
        self._ends = [e for _, e in encoded.offsets]
        words = encoded.word_ids
        self._word_start = [i == 0 or words[i] != words[i - 1] for i in range(len(words))]

    def pieces(self, start: int, end: int) -> tuple[int, int] | None:
        """The positions [i, j) of the pieces of text[start:end] if the span starts and ends on
        word boundaries (its tokenisation is then exactly these pieces); None if it cuts a word."""
        i = bisect_left(self._starts, start)
        j = bisect_left(self._starts, end)
        n = len(self._starts)
        if i > 0 and self._ends[i - 1] > start:
            return None  # a piece that begins before the span reaches into it
        if j > i and self._ends[j - 1] > end:
            return None  # the span ends inside a piece
        if (i < n and i < j and not self._word_start[i]) or (j < n and not self._word_start[j]):
            return None  # the span begins or ends between two pieces of one word
        return i, j

    def count(self, spans: Sequence[Span]) -> list[int]:
        """Word pieces of each text[start:end], as the tokenizer counts that text alone."""
        found = [self.pieces(s, e) for s, e in spans]
        alone = [k for k, p in enumerate(found) if p is None]
        counts = [0 if p is None else p[1] - p[0] for p in found]
        if alone:
            texts = [self.text[spans[k][0] : spans[k][1]] for k in alone]
            encoded = self._counter.encode_batch(texts, add_special_tokens=False)
            for k, e in zip(alone, encoded, strict=True):
                counts[k] = len(e.ids)
        return counts

    def model_ids(self, start: int, end: int) -> np.ndarray | None:
        """The model's input ids for text[start:end] (special tokens included, cut to the
        model's length), or None when the span cuts a word and must be tokenised alone."""
        found = self.pieces(start, end)
        if found is None or len(self._special) != 2:
            return None
        i, j = found
        j = min(j, i + self._limit - 2)
        return np.concatenate(([self._special[0]], self.ids[i:j], [self._special[1]]))

"""Chunk boundaries: runs of whole sentences that fit the embedding model's word-piece limit.

Sentences are packed greedily up to `max_tokens` word pieces (counted by the model's own
tokenizer, so nothing is silently cut off at embedding time); consecutive chunks share whole
trailing sentences worth up to `overlap` word pieces. A sentence longer than the limit is cut at
word boundaries. Spans are character offsets into the article text.

Not here: sentence rules (`index.sentences`) or embedding (`index.embed`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from index.sentences import split_sentences

CountTokens = Callable[[list[str]], list[int]]
_WORD = re.compile(r"\S+")


def chunk_spans(
    text: str, count_tokens: CountTokens, max_tokens: int, overlap: int
) -> list[tuple[int, int]]:
    """Character spans of the chunks of `text`, in order, each within `max_tokens`."""
    units = _units(text, count_tokens, max_tokens)
    if not units:
        return []
    chunks: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or total + units[j][2] <= max_tokens):
            total += units[j][2]
            j += 1
        # the sum of sentence counts is an estimate: verify the joined text and shrink to fit
        while j - i > 1 and count_tokens([text[units[i][0] : units[j - 1][1]]])[0] > max_tokens:
            j -= 1
        chunks.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        back, shared = j, 0
        while back - 1 > i and shared + units[back - 1][2] <= overlap:
            back -= 1
            shared += units[back][2]
        i = back
    return chunks


def _units(text: str, count_tokens: CountTokens, max_tokens: int) -> list[tuple[int, int, int]]:
    """Sentences as (start, end, tokens), long ones cut into word runs that fit."""
    spans = split_sentences(text)
    counts = count_tokens([text[s:e] for s, e in spans])
    units: list[tuple[int, int, int]] = []
    for (s, e), n in zip(spans, counts, strict=True):
        if n <= max_tokens:
            units.append((s, e, n))
        else:
            units.extend(_cut_long(text, s, e, count_tokens, max_tokens))
    return units


def _cut_long(
    text: str, start: int, end: int, count_tokens: CountTokens, max_tokens: int
) -> list[tuple[int, int, int]]:
    words = [(m.start(), m.end()) for m in _WORD.finditer(text, start, end)]
    counts = count_tokens([text[s:e] for s, e in words])
    pieces: list[tuple[int, int, int]] = []
    i = 0
    while i < len(words):
        if counts[i] > max_tokens:  # one "word" longer than the limit: cut it by characters
            pieces.extend(_cut_chars(text, *words[i], count_tokens, max_tokens))
            i += 1
            continue
        j, total = i, 0
        while j < len(words) and counts[j] <= max_tokens and total + counts[j] <= max_tokens:
            total += counts[j]
            j += 1
        while j - i > 1 and count_tokens([text[words[i][0] : words[j - 1][1]]])[0] > max_tokens:
            j -= 1
        real = count_tokens([text[words[i][0] : words[j - 1][1]]])[0]
        pieces.append((words[i][0], words[j - 1][1], real))
        i = j
    return pieces


def _cut_chars(
    text: str, start: int, end: int, count_tokens: CountTokens, max_tokens: int
) -> list[tuple[int, int, int]]:
    pieces = []
    pos = start
    while pos < end:
        size = min(end - pos, max_tokens)
        while size > 1 and count_tokens([text[pos : pos + size]])[0] > max_tokens:
            size //= 2
        pieces.append((pos, pos + size, count_tokens([text[pos : pos + size]])[0]))
        pos += size
    return pieces

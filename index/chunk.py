"""Chunk boundaries: runs of whole sentences that fit the embedding model's word-piece limit.

Sentences (from `index.sentences`) are packed greedily up to `max_tokens`, counted by the
model's own tokenizer so nothing is cut off silently at embedding time. Sentence counts only
estimate a chunk's count (word pieces are not exactly additive), so every planned chunk is
counted again as its real text, all in one batch, and one that overflows is shrunk: first by
dropping the sentences it shares with the previous chunk, then its own trailing sentences.
Consecutive chunks share whole trailing sentences worth up to `overlap` tokens, never so many
that the next chunk would hold nothing new. A sentence longer than the limit is cut at
whitespace into pieces that fit, and a single word longer than that is cut hard.
Counting goes through a span counter (`chunk_spans_counted`): one tokenisation of the whole
article answers every span on word boundaries (`index.embed.tokens`); `chunk_spans` takes a counter of
texts instead, and typically costs two calls per article: one for its sentences, one for its
chunks.

Not here: sentence rules (`index.sentences`), the tokenizer itself or embedding (`index.embed.encoder`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from index.text import split_sentences

CountTokens = Callable[[list[str]], list[int]]
CountSpans = Callable[[list[tuple[int, int]]], list[int]]  # word pieces of text[s:e], each
Unit = tuple[int, int, int]  # start, end, tokens: a sentence, or a piece of a long one
_WORD = re.compile(r"\S+")


def chunk_spans(
    text: str, count_tokens: CountTokens, max_tokens: int, overlap: int
) -> list[tuple[int, int]]:
    """Character spans of the chunks of an article text, in order.
    Chunks are runs of whole sentences (from split_sentences) whose token count — as measured by
    count_tokens on the chunk text text[s:e] — is at most max_tokens; consecutive chunks share
    whole trailing sentences worth up to `overlap` tokens; a sentence longer than max_tokens is cut
    at word boundaries (whitespace) into pieces of at most max_tokens (a single word longer than
    that is cut hard). Every character of non-whitespace text is covered by at least one chunk.
    Spans start and end on non-whitespace, so text[s:e] has no surrounding whitespace."""
    return chunk_spans_counted(
        text, lambda spans: count_tokens([text[s:e] for s, e in spans]), max_tokens, overlap
    )


def chunk_spans_counted(
    text: str, count: CountSpans, max_tokens: int, overlap: int
) -> list[tuple[int, int]]:
    """`chunk_spans`, counting word pieces by span: `count([(s, e), ...])` gives the count of
    each text[s:e] (for example `ArticleTokens.count`, one tokenisation of the whole text)."""
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    units = _sentence_units(text, count, max_tokens)
    return [(s, e) for s, e, _ in _pack(units, count, max_tokens, max(overlap, 0))]


def _sentence_units(text: str, count: CountSpans, max_tokens: int) -> list[Unit]:
    """Sentences with their token counts; those over the limit replaced by pieces that fit."""
    spans = split_sentences(text)
    if not spans:
        return []
    counts = count(list(spans))
    units: list[Unit] = []
    for (s, e), n in zip(spans, counts, strict=True):
        units.extend(
            [(s, e, n)] if n <= max_tokens else _cut_sentence(text, s, e, count, max_tokens)
        )
    return units


def _cut_sentence(
    text: str, start: int, end: int, count: CountSpans, max_tokens: int
) -> list[Unit]:
    """Pieces of one long sentence: runs of whole words, words too long cut by characters."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(text, start, end)]
    counts = count(words)
    units: list[Unit] = []
    for (s, e), n in zip(words, counts, strict=True):
        units.extend([(s, e, n)] if n <= max_tokens else _cut_word(s, e, count, max_tokens))
    return _pack(units, count, max_tokens, 0)


def _cut_word(start: int, end: int, count: CountSpans, max_tokens: int) -> list[Unit]:
    """Hard cuts of one word: the longest prefix that fits, by binary search (rare: URLs, blobs)."""
    pieces: list[Unit] = []
    while start < end:
        fits, fits_count, over = 1, count([(start, start + 1)])[0], end - start + 1
        while over - fits > 1:  # text[start:start+fits] fits, text[start:start+over] does not
            mid = (fits + over) // 2
            n = count([(start, start + mid)])[0]
            fits, fits_count, over = (mid, n, over) if n <= max_tokens else (fits, fits_count, mid)
        pieces.append((start, start + fits, fits_count))
        start += fits
    return pieces


def _pack(units: list[Unit], count: CountSpans, max_tokens: int, overlap: int) -> list[Unit]:
    """Greedy chunks of `units` as (start, end, real tokens), planned by estimate, then verified."""
    chunks: list[Unit] = []
    first, fresh = 0, 0  # the next chunk's first unit, and its first unit not in any chunk yet
    while fresh < len(units):
        plan = _plan(units, first, fresh, max_tokens, overlap)
        counts = count([(units[a][0], units[b - 1][1]) for a, _, b in plan])
        for (a, new, b), n in zip(plan, counts, strict=True):
            overflows = n > max_tokens
            if overflows:
                a, b, n = _shrink(units, a, new, b, count, max_tokens)
            chunks.append((units[a][0], units[b - 1][1], n))
            first, fresh = _next_start(units, a, b, max_tokens, overlap), b
            if overflows:  # the rest of the plan started from the unshrunk chunk: plan again
                break
    return chunks


def _plan(
    units: list[Unit], first: int, fresh: int, max_tokens: int, overlap: int
) -> list[tuple[int, int, int]]:
    """Chunks (first, first new, end) from here to the last unit, packed by estimated counts."""
    plan = []
    while fresh < len(units):
        total = sum(n for _, _, n in units[first:fresh])
        end = fresh + 1  # at least one new unit, even if the estimate says it overflows
        total += units[fresh][2]
        while end < len(units) and total + units[end][2] <= max_tokens:
            total += units[end][2]
            end += 1
        plan.append((first, fresh, end))
        first, fresh = _next_start(units, first, end, max_tokens, overlap), end
    return plan


def _next_start(units: list[Unit], first: int, end: int, max_tokens: int, overlap: int) -> int:
    """Where the chunk after units[first:end] starts: after `end` less its shared trailing units.

    The shared units leave room for the next unit, so the next chunk always holds something new,
    and never include `first`, so it never starts where this one did.
    """
    if end >= len(units) or overlap <= 0:
        return end
    budget = min(overlap, max_tokens - units[end][2])
    start, shared = end, 0
    while start - 1 > first and shared + units[start - 1][2] <= budget:
        start -= 1
        shared += units[start][2]
    return start


def _shrink(
    units: list[Unit], first: int, new: int, end: int, count: CountSpans, max_tokens: int
) -> tuple[int, int, int]:
    """Drop shared leading units, then trailing ones, until the chunk's real count fits."""
    n = max_tokens + 1
    while n > max_tokens and end - first > 1:
        if first < new:
            first += 1
        else:
            end -= 1
        n = count([(units[first][0], units[end - 1][1])])[0]
    if end - first == 1:
        n = units[first][2]
    return first, end, n

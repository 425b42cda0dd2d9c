"""Sentence boundaries in news text, as character spans.

A fast regular-expression splitter tuned for English news: it splits after . ! ? (and any
closing quotes or brackets) before a capital, digit or opening quote, never inside common
abbreviations, initials or decimals, and always at line breaks that end a paragraph, a heading
or a dateline. Offsets are absolute, so `text[s:e]` is the sentence exactly.

Not here: other languages' rules, or any notion of tokens (see `index.chunk`).
"""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sen rep gov gen col lt sgt st jr sr inc corp ltd co vs etc e.g i.e no
    u.s u.k u.n e.u a.m p.m jan feb mar apr aug sept sep oct nov dec capt cmdr adm maj rev fig
    approx dept est mt ft av ave blvd univ assn bros""".split()
)
_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_LINE = re.compile(r"\n+")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans (s, e) of text[start:end] as absolute offsets, in order, trimmed."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for line in _LINE.finditer(text, start, end):
        _split_block(text, pos, line.start(), spans)
        pos = line.end()
    _split_block(text, pos, end, spans)
    return spans


def _split_block(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    """Split one line or paragraph (no newlines inside) into sentences."""
    pos = start
    for match in _END.finditer(text, start, end):
        cut = match.end()
        if _is_abbreviation(text, pos, match.start()):
            continue
        _emit(text, pos, cut, spans)
        pos = cut
    _emit(text, pos, end, spans)


def _is_abbreviation(text: str, block_start: int, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word_start = dot
    while word_start > block_start and not text[word_start - 1].isspace() and text[word_start - 1] not in "(\"“":
        word_start -= 1
    word = text[word_start:dot].lower()
    if word in _ABBREVIATIONS or word.rstrip(".") in _ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isalpha():  # an initial: "J. Smith"
        return True
    return bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", word))  # "U.S", "e.g"


def _emit(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))

"""Text as the whole product reads it: sentence spans, and the words a search matches on.

`split_sentences` finds sentence boundaries in English news text, as absolute character spans.
It is built on `re` alone (it runs on every article at index time and on every answer). A
sentence ends after . ! ? and any closing quotes or brackets, when whitespace and a capital, a
digit or an opening quote follow; never after a title ("Mr.", "Gen."), an initial ("J. Smith"),
"No."/a month before a number ("No. 1", "Jan. 6"), a decimal point or a mid-sentence ellipsis.
Abbreviations that may also end a sentence ("U.S.", "Inc.", "p.m.") end one only before a word
that usually starts a sentence ("... in the U.S. The"). A blank line always ends a sentence; a
single line break does too unless the line plainly runs on (the next line starts in lower case,
or the line ends with a comma, an abbreviation or a word like "the"), so one-paragraph-per-line
text, headings and datelines ("New York CNN —") split as they should. Offsets are absolute, so
`text[s:e]` is the sentence exactly.

`Tokenizer` turns text into the lower-cased, stemmed words without stop words that BM25,
citation checks, extractive answers and multiple choice all compare: one definition, so that
changing it changes all of them together.

Not here: other languages, or word pieces of the embedding model (see `index.chunk`).
"""

from __future__ import annotations

import re
import threading
from typing import Any

import Stemmer  # type: ignore[import-untyped]  # PyStemmer: Snowball in C

# A candidate end: terminal punctuation, closing quotes, then whitespace and a likely start.
_TERMINAL = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+(?:[\"'“‘(\[]|[A-Z0-9À-ÖØ-Þ]))")
_LINE_BREAK = re.compile(r"[^\S\n]*\n\s*")
_NEXT_WORD = re.compile(r"\s*([\"'“‘(\[]?)(\w*)")
_DOTTED = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")  # "U.S", "a.m", "D.C", "J.R.R"
_WORD_OPENERS = ' \t\r\n"“‘(['


def _words(listing: str) -> frozenset[str]:
    return frozenset(listing.split())


# Precede a name or a word and never end a sentence.
_NEVER_FINAL = _words(
    """mr mrs ms mx dr prof sen rep gov gen col lt sgt st capt cmdr adm maj rev pres supt det
    insp vs v e.g i.e cf approx fig mt ft"""
)
# Precede a number: "No. 1", "Jan. 6", "Vol. 2"; before anything else they end a sentence.
_BEFORE_NUMBER = _words("no nos jan feb mar apr jun jul aug sep sept oct nov dec vol")
# Often end a sentence as well; together with dotted acronyms they end one only before a starter.
_MAYBE_FINAL = _words("jr sr inc corp ltd co etc bros llc")
_STARTERS = _words(
    """a an the he she it its they we i you his her their our my your this that these those
    there here but and or so yet if when while after before as at in on of for from by with
    without to what who why how where which some many most more one all both each not only then
    now however meanwhile still also officials police according"""
)
# A line that ends with one of these runs on into the next line.
_RUN_ON_WORDS = _words(
    """a an the and or but nor of to in on at by for with from into onto that than as his her
    their its our your my is are was were be been has have had will would can could should may
    might who whom whose which said says"""
)
_RUN_ON_CHARS = ",;([“‘&"


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans (s, e) of text[start:end], in order, as absolute offsets into text; each
    text[s:e] is one sentence with no leading/trailing whitespace; spans never overlap."""
    end = len(text) if end is None else min(end, len(text))
    if start >= end:
        return []
    cuts = [m.end() for m in _TERMINAL.finditer(text, start, end) if _ends(text, start, m, end)]
    cuts += [
        m.start() for m in _LINE_BREAK.finditer(text, start, end) if _breaks(text, start, m, end)
    ]
    cuts.sort()
    spans: list[tuple[int, int]] = []
    pos = start
    for cut in [*cuts, end]:
        s, e = pos, cut
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            spans.append((s, e))
        pos = cut
    return spans


def _ends(text: str, lo: int, match: re.Match[str], hi: int) -> bool:
    """Whether a `_TERMINAL` match really ends a sentence."""
    dot = match.start()
    if text[dot] != "." or text.startswith("..", dot):  # ! ? and an ellipsis before a capital
        return True
    return _dot_ends(text, lo, dot, match.end(), hi)


def _dot_ends(text: str, lo: int, dot: int, after: int, hi: int) -> bool:
    """Whether the single '.' at `dot` ends a sentence, judging the word before and after it."""
    word_start = dot
    while word_start > lo and text[word_start - 1] not in _WORD_OPENERS:
        word_start -= 1
    word = text[word_start:dot]
    if not word:
        return True
    low = word.lower().rsplit("-", 1)[-1]  # "ex-Gov." is "Gov."
    nxt = _NEXT_WORD.match(text, after, hi)
    quote, next_word = (nxt.group(1), nxt.group(2)) if nxt else ("", "")
    if low in _NEVER_FINAL or (len(word) == 1 and word.isupper()):  # a title or an initial
        return False
    if low in _BEFORE_NUMBER:
        return not next_word[:1].isdigit()
    if low in _MAYBE_FINAL or _DOTTED.fullmatch(word):
        return bool(quote) or next_word.lower() in _STARTERS
    # "1." opening a numbered line is a list marker, not a sentence
    return not (
        word.isdigit() and len(word) <= 3 and (word_start == lo or text[word_start - 1] == "\n")
    )


def _breaks(text: str, lo: int, match: re.Match[str], hi: int) -> bool:
    """Whether a run of whitespace holding line breaks ends a sentence."""
    if match.group().count("\n") > 1 or match.start() == lo or match.end() >= hi:
        return True  # a blank line, or nothing on one side
    if text[match.end()].islower():
        return False
    line_end = match.start()
    last = text[line_end - 1]
    if last in _RUN_ON_CHARS:
        return False
    if last == "." and text[line_end - 2 : line_end] != "..":
        return _dot_ends(text, lo, line_end - 1, line_end, hi)
    if last.isalpha():
        word_start = line_end - 1
        while word_start > lo and text[word_start - 1].isalpha():
            word_start -= 1
        return text[word_start:line_end].lower() not in _RUN_ON_WORDS
    return True


# -- words ------------------------------------------------------------------------------------
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_STOPWORDS = _words(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is
    it its itself just me more most my myself no nor not now of off on once only or other our
    ours ourselves out over own s same she should so some such t than that the their theirs
    them themselves then there these they this those through to too under until up very was we
    were what when where which while who whom why will with would you your yours yourself
    yourselves"""
)


class Tokenizer:
    """Lower-cased words without stop words, Snowball-stemmed (English, PyStemmer's C build of
    the algorithm), with a stem cache; safe to share between threads."""

    def __init__(self) -> None:
        self._local = threading.local()  # a Snowball stemmer keeps state: one per thread
        self._cache: dict[str, str] = {}

    @property
    def _stemmer(self) -> Any:
        stemmer = getattr(self._local, "stemmer", None)
        if stemmer is None:
            stemmer = self._local.stemmer = Stemmer.Stemmer("english")
        return stemmer

    def __call__(self, text: str) -> list[str]:
        cache = self._cache
        out = []
        for word in _WORD.findall(text.lower()):
            if word in _STOPWORDS:
                continue
            stem = cache.get(word)
            if stem is None:
                stem = self._stemmer.stemWord(word.replace("’", "'"))
                if len(cache) < 500_000:
                    cache[word] = stem
            out.append(stem)
        return out

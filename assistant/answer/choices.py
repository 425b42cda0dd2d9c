"""Multiple choice: which of a question's choices the evidence supports best.

`pick_choice` scores each choice against the sentences of the evidence (the whole articles
behind an answer's passages, `whole_articles`): how many of the choice's distinctive words a
sentence holds, times how close the sentence is in meaning to the question answered by that
choice. `normalise_answer` and `contains_answer` compare answers as SQuAD does (case,
punctuation and articles ignored). Not here: scoring a run (`assistant.evaluate`).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from assistant.answer import extractive
from assistant.answer.passage import Passage
from assistant.answer.reader import Reader
from index import ArticleIndex, Tokenizer

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = frozenset(string.punctuation)
_tokenize = Tokenizer()


def normalise_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation (typographic too), no a/an/the, one space."""
    text = "".join(
        " " if ch.isspace() else ch
        for ch in text.lower()
        if ch not in _PUNCTUATION and not unicodedata.category(ch).startswith("P")
    )
    return " ".join(_ARTICLES.sub(" ", text).split())


def contains_answer(text: str, answers: Sequence[str]) -> bool:
    """Whether a normalised gold answer occurs in the normalised text, on word boundaries."""
    haystack = f" {normalise_answer(text)} "
    return any((needle := normalise_answer(a)) and f" {needle} " in haystack for a in answers)


def pick_choice(
    question: str,
    choices: Sequence[str],
    passages: Sequence[Passage],
    embed: Callable[[list[str]], np.ndarray],
    reader: Reader | None = None,
    reader_share: float = 0.5,
) -> int | None:
    """The index of the choice best supported by the passages' sentences, None to abstain.

    A choice's support by a sentence is containment x fit: the share of the choice's
    distinctive words (stemmed, stop words and words of the question left out, unless nothing
    else remains) found in the sentence, times the cosine similarity of the sentence to the
    question answered by that choice (the question followed by the choice; negative counts as
    0). With a `reader`, `reader_share` of the fit is instead the reader's probability that
    the sentence holds the answer to the question. A choice scores its best sentence; ties are
    broken by the sum over all sentences. No support at all, or a tie on both, abstains.
    """
    sentences = [c.text for c in extractive.candidates(passages, quotable=False)]
    if not sentences or not choices:
        return None
    q_terms = set(_tokenize(question))
    cover = np.array([[_containment(c, q_terms, s) for s in sentences] for c in choices])
    used = np.flatnonzero(cover.max(axis=0) > 0)
    if len(used) == 0:
        return None
    vectors = embed([f"{question} {c}" for c in choices] + [sentences[i] for i in used])
    answered, found = vectors[: len(choices)], vectors[len(choices) :]
    fit = np.clip(answered @ found.T, 0.0, None)
    if reader is not None and reader_share > 0:
        reads = reader.probabilities(question, [sentences[i] for i in used])
        fit = (1 - reader_share) * fit + reader_share * reads[None, :]
    support = cover[:, used] * fit
    keys = [(float(row.max()), round(float(row.sum()), 9)) for row in support]
    best = max(range(len(choices)), key=lambda i: keys[i])
    if keys[best][0] <= 0 or sum(1 for k in keys if k == keys[best]) > 1:
        return None
    return best


def whole_articles(index: ArticleIndex, passages: Sequence[Passage]) -> list[Passage]:
    """The stored articles the passages come from, each whole and once, in passage order.

    An answer quotes passages, but the sentence that settles a choice is often elsewhere in the
    same article; an article no longer stored keeps its passage.
    """
    out: dict[str, Passage] = {}
    for p in passages:
        if p.article_id in out:
            continue
        article = index.article(p.article_id)
        out[p.article_id] = (
            replace(p, start=0, end=len(article.text), text=article.text)
            if article is not None
            else p
        )
    return list(out.values())


def _containment(choice: str, q_terms: set[str], sentence: str) -> float:
    terms = set(_tokenize(choice))
    distinctive = terms - q_terms or terms
    if not distinctive:  # a choice of stop words only: match it as a phrase
        return 1.0 if contains_answer(sentence, [choice]) else 0.0
    return len(distinctive & set(_tokenize(sentence))) / len(distinctive)

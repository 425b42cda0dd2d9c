"""Extractive answers: the few retrieved sentences that best answer the question, cited.

No LLM, so nothing is invented: every answer sentence is a verbatim sentence of a stored article,
and its citation points at exactly that sentence. Sentences are scored by meaning (cosine of the
question and sentence embeddings) and by wording (share of the question's keywords present),
with a bonus for holding the kind of thing the question asks for (a cause for "why", a number
for "how many" or "what percentage", a date for "when", a name for "who", a proper noun the
question lacks for "which ..." and "what ...") and, optionally, for coming from a better-ranked
passage; then picked greedily so that no two say the same thing (maximal marginal relevance),
a further sentence only when its relevance is near the best one's (`keep_share`). Lines that
only point to another article (related-link teasers) are never quoted.
Embedding is the costly step, so only a shortlist of sentences (`max_candidates`, the best by
wording, kind and passage rank) is compared with the question by meaning.
When no sentence is close enough to the question, the answer says plainly that the articles
don't say.

Not here: retrieval (`assistant.answer.retrieve`) and LLM answers (`assistant.answer.llm`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.answer.furniture import dateline_end, is_furniture
from assistant.answer.passage import Passage
from assistant.answer.reader import Reader
from assistant.settings import AnswerSettings
from assistant.types import AnswerSentence, Citation
from index import Tokenizer, split_sentences

_MIN_WORDS = 4
_REDUNDANT = 0.85  # cosine above which two sentences are taken to say the same thing
_MEANING, _WORDING = 0.75, 0.25
_tokenize = Tokenizer()
_MARKER = re.compile(r"\[\s*((?:source\s*)?\d+(?:\s*[,–-]\s*\d+)*)\s*\]", re.IGNORECASE)
_NAME = re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)+\b")
_DATE = re.compile(
    r"\b(?:1[89]\d\d|20\d\d|January|February|March|April|May|June|July|August|September|"
    r"October|November|December|Jan\.|Feb\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.|Monday|Tuesday|"
    r"Wednesday|Thursday|Friday|Saturday|Sunday|yesterday|today|last (?:week|month|year))\b"
)
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|dozen|hundred|"
    r"thousand|million|billion|percent)\b",
    re.IGNORECASE,
)
_PROPER = re.compile(r"(?<=\S )[“\"‘']?[A-Z][\w’'-]*")  # a capitalised word, not the first
_CAUSE = re.compile(
    r"\b(?:because|since|due to|as a result|reason|so that|in order to|aims? to|"
    r"in response to|to (?:counter|deter|show|protect|help|support))\b",
    re.IGNORECASE,
)


def answer_kind(question: str) -> str | None:
    """The kind of answer the question word asks for: "cause", "number", "date", "name",
    "proper" (a name or other capitalised word), or None."""
    q = question.lower()
    if re.search(r"\bwhy\b|\bwhat (?:was|is) the reason\b", q):
        return "cause"
    if re.search(
        r"\bhow (?:many|much|long|old|far|big|high|hot|cold|fast)\b|\bpercent(?:age)?\b|"
        r"\bwhat (?:\w+ )?(?:number|share|proportion|rate|magnitude|temperature|age|amount|"
        r"price|cost|score|figure|total)\b",
        q,
    ):
        return "number"
    if re.search(r"\bwhen\b|\bwhat (?:year|day|date|month)\b", q):
        return "date"
    if re.search(r"\bwho\b|\bwhose\b|\bwhom\b", q):
        return "name"
    if re.search(r"\bwhich\b|\bwhat\b|\bwhere\b", q):
        return "proper"
    return None


_KINDS = {"cause": _CAUSE, "number": _NUMBER, "date": _DATE, "name": _NAME, "proper": _PROPER}


def expected_answer(question: str) -> re.Pattern[str] | None:
    """What a sentence holding the specific answer contains, judged from the question word."""
    kind = answer_kind(question)
    return None if kind is None else _KINDS[kind]


@dataclass(frozen=True)
class Candidate:
    """A sentence of a passage, with absolute offsets into its article."""

    passage: Passage
    start: int
    end: int
    text: str
    rank: int = 1
    meaning: float = 0.0
    wording: float = 0.0

    answer_type: float = 0.0
    position: float = 0.0
    answers: float = 0.0  # the reader's probability that the sentence holds the answer
    reading: float = 0.0  # its bonus: `reader_weight` x `answers`

    @property
    def similarity(self) -> float:
        """Closeness to the question by meaning and wording alone, without the bonuses."""
        return _MEANING * self.meaning + _WORDING * self.wording

    @property
    def relevance(self) -> float:
        return self.similarity + self.answer_type + self.position + self.reading


@dataclass(frozen=True)
class Extract:
    """The chosen sentences, or (when `answered` is False) the best one of each passage."""

    answered: bool
    sentences: tuple[Candidate, ...]


def candidates(passages: Sequence[Passage], quotable: bool = True) -> list[Candidate]:
    """Every sentence of at least `_MIN_WORDS` words, in passage order; `rank` is 1-based.
    `quotable`: only those an answer may quote, not page furniture or a question
    (`assistant.answer.furniture`), with an opening dateline left out."""
    out = []
    for rank, p in enumerate(passages, start=1):
        for s, e in split_sentences(p.text):
            s += dateline_end(p.text[s:e]) if quotable else 0
            text = p.text[s:e]
            if len(text.split()) >= _MIN_WORDS and not (quotable and is_furniture(text)):
                out.append(Candidate(p, p.start + s, p.start + e, text, rank=rank))
    return out


def choose(
    question: str,
    passages: Sequence[Passage],
    embed: Callable[[list[str]], np.ndarray],
    settings: AnswerSettings,
    reader: Reader | None = None,
) -> Extract:
    """Pick up to `max_sentences` relevant, non-repeating sentences from the passages.

    With a `reader`, the most relevant sentences are read: the probability that one holds the
    answer adds to its relevance, and when no sentence reaches `reader_floor` the articles are
    taken not to answer.
    """
    q_terms = set(_tokenize(question))
    wanted = expected_answer(question)
    pool = [
        replace(
            c,
            wording=_overlap(q_terms, c.text),
            answer_type=settings.type_weight if wanted and _holds(wanted, c.text, question) else 0,
            position=settings.passage_weight / c.rank,
        )
        for c in candidates(passages)
    ]
    if not pool:
        return Extract(False, ())
    if 0 < settings.max_candidates < len(pool):
        pool = _shortlist(pool, settings.max_candidates)
    vectors = embed([question] + [c.text for c in pool])
    q, sv = vectors[0], vectors[1:]
    meaning = sv @ q
    scored = [replace(c, meaning=float(meaning[i])) for i, c in enumerate(pool)]
    if reader is not None:
        scored = _read(question, scored, reader, settings)
    best = max(range(len(scored)), key=lambda i: scored[i].relevance)
    unread = reader is not None and max(c.answers for c in scored) < settings.reader_floor
    # the reader's bonus picks the best sentence, but never makes a remote passage an answer
    if max(c.similarity for c in scored) < settings.min_relevance or unread:
        return Extract(False, tuple(_best_per_passage(scored, passages)))
    floor = max(settings.min_relevance, settings.keep_share * scored[best].relevance)
    chosen = [best]
    while len(chosen) < settings.max_sentences:
        pick, pick_value = -1, -1.0
        for i, c in enumerate(scored):
            if i in chosen or c.relevance < floor:
                continue
            similarity = max(float(sv[i] @ sv[j]) for j in chosen)
            if similarity > _REDUNDANT:
                continue
            value = c.relevance - 0.3 * similarity
            if value > pick_value:
                pick, pick_value = i, value
        if pick < 0:
            break
        chosen.append(pick)
    return Extract(True, tuple(scored[i] for i in chosen))


def compose(
    extract: Extract, question: str
) -> tuple[str, tuple[AnswerSentence, ...], tuple[Citation, ...]]:
    """Answer text with `[n]` markers, its sentences, and one citation per quoted sentence."""
    citations = tuple(
        c.passage.cite(n, c.start, c.end, round(c.relevance, 4))
        for n, c in enumerate(extract.sentences, start=1)
    )
    if not extract.answered:
        text = f"The indexed articles don't say: {question.strip()}" + (
            " The closest passages found are listed below." if citations else ""
        )
        return text, (AnswerSentence(text, (), False, 0.0),), citations
    sentences = tuple(
        AnswerSentence(unmark(c.text), (n,), True, round(max(c.meaning, 0.0), 4))
        for n, c in enumerate(extract.sentences, start=1)
    )
    text = " ".join(f"{s.text} [{s.citations[0]}]" for s in sentences)
    return text, sentences, citations


def unmark(text: str) -> str:
    """Article text with marker look-alikes ("[7]") turned into "(7)", so a quoted sentence
    cannot fake a citation in the answer; the citation's quote keeps the exact text."""
    return _MARKER.sub(lambda m: f"({m.group(1)})", text)


def _read(
    question: str, scored: list[Candidate], reader: Reader, settings: AnswerSettings
) -> list[Candidate]:
    """The `reader_depth` most relevant sentences read by the reader (reading is the costly
    step of an answer with it); its probability that a sentence holds the answer, times
    `reader_weight`, adds to that sentence's relevance. Sentences not read get no bonus."""
    depth = settings.reader_depth or len(scored)
    top = sorted(range(len(scored)), key=lambda i: scored[i].relevance, reverse=True)[:depth]
    probabilities = reader.probabilities(question, [scored[i].text for i in top])
    out = list(scored)
    for i, p in zip(top, probabilities.tolist(), strict=True):
        out[i] = replace(out[i], answers=p, reading=settings.reader_weight * p)
    return out


def _shortlist(pool: list[Candidate], n: int) -> list[Candidate]:
    """The `n` sentences most relevant without meaning (embedding is the costly part of an
    answer), in passage order."""
    keep = sorted(range(len(pool)), key=lambda i: pool[i].relevance, reverse=True)[:n]
    return [pool[i] for i in sorted(keep)]


def _holds(pattern: re.Pattern[str], text: str, question: str) -> bool:
    """Whether the text has a match of the expected kind that the question itself lacks."""
    if pattern is _PROPER:
        asked = question.lower()
        return any(m.group(0).strip("“\"‘'").lower() not in asked for m in pattern.finditer(text))
    return any(m.group(0) not in question for m in pattern.finditer(text))


def _overlap(q_terms: set[str], text: str) -> float:
    if not q_terms:
        return 0.0
    return len(q_terms & set(_tokenize(text))) / len(q_terms)


def _best_per_passage(scored: list[Candidate], passages: Sequence[Passage]) -> list[Candidate]:
    """The most relevant sentence of each passage, in passage order: the closest evidence."""
    out = []
    for p in passages[:3]:
        own = [c for c in scored if c.passage is p]
        if own:
            out.append(max(own, key=lambda c: c.relevance))
    return out

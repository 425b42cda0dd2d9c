"""Who reported what: a story's coverage across outlets.

For the articles of one story (`ArticleIndex.story_articles`, folded copies once), grouped by
outlet, reading each outlet's `ARTICLES_READ` articles closest to the story's centroid and their
first `SENTENCES_READ` news sentences (`assistant.brief.news_sentences`: no bylines, captions,
credits, prompts or questions):
- **only one outlet**: sentences about the story (naming a word that two of its titles share)
  whose words (stemmed, no stop words) the other outlets never use, `ONLY_SHARE` of them and at
  least `ONLY_WORDS`: the details one outlet alone reports, its best `PER_OUTLET`;
- **numbers that differ**: a count, amount or date ("52 people", "$2.5 billion", "40 percent",
  "May 6") that two outlets give for the same thing (a count: the same word after the number;
  more than `SAME_CONTEXT` words around it in common, and sentences that say the same, cosine
  `SAME_SENTENCE` or more with the store's embedder, `SAME_DATE_SENTENCE` for a date) with different values, shown side by side
  with their citations; years and times are not counts; a hedged figure ("about 50", "more than
  50") differs from another only by more than `HEDGED_GAP`; two sentences that both give a
  figure agree on it ("$799, and the Plus $899" does not differ from "$799").

Every sentence is quoted verbatim with its offsets (a `Lead`), as the brief quotes them.

Not here: assigning stories (`index.stories`), the brief and the timeline.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from assistant.brief import (
    Lead,
    StoryArticle,
    articles_about,
    bare_topic,
    first_of_copies,
    lead_citation,
    news_sentences,
    quoted_answer,
    story_article,
)
from assistant.errors import QuestionError
from assistant.types import Answer, Citation
from index import ArticleIndex, ArticleRecord, Tokenizer

ONLY_SHARE = 0.5  # of a sentence's words no other outlet used
ONLY_WORDS = 3  # such words, at least
PER_OUTLET = 2  # sentences only one outlet reports, shown per outlet
SAME_CONTEXT = 1  # words around two numbers in common (beyond the word after them), more than
SAME_SENTENCE = 0.6  # cosine of two sentences (the store's embedder) saying the same thing
SAME_DATE_SENTENCE = 0.75  # the same for two dates: a date names no counted word to match
HEDGED_GAP = 0.2  # a hedged figure differs only beyond this share of the larger one
ARTICLES_READ = 3  # the articles read per outlet: the closest to the story's centroid
SENTENCES_READ = 15  # the first news sentences read per article

_TOKENS = Tokenizer()
_MONTHS = re.compile(
    r"^(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)$",
    re.IGNORECASE,
)
_MONTH_NUMBER = {
    m: n
    for n, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_NUMBER = re.compile(
    r"(?<![\w.,:/-])(?P<cur>[$€£¥])?\s?(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
    r"(?!\.\d|,\d{3}|[:/-]\d)(?:\s?(?P<scale>thousand|million|billion|trillion|bn|m)\b)?"
    r"(?P<pct>\s?%|\s+percent\b|\s+per\s+cent\b)?"
)
_WORD = re.compile(r"[A-Za-z][\w'’-]*")
_HEDGES = re.compile(
    r"\b(?:about|around|nearly|almost|roughly|approximately|some|over|more than|less than|"
    r"fewer than|at least|at most|up to|as many as|as much as|an estimated|estimated|"
    r"upwards of|close to)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class OutletArticles:
    """The articles one outlet published about the story (oldest first)."""

    outlet: str
    articles: tuple[StoryArticle, ...]


@dataclass(frozen=True)
class Exclusive:
    """A sentence only `outlet` reports, quoted from `article`."""

    outlet: str
    article: StoryArticle
    quote: Lead


@dataclass(frozen=True)
class Claim:
    """A number as one outlet states it: `value` as written, `amount` as a number."""

    outlet: str
    article: StoryArticle
    value: str
    amount: float
    hedged: bool
    quote: Lead


@dataclass(frozen=True)
class Difference:
    """Outlets giving different numbers for the same thing (`about`: what they count, or
    "percent", "amount" (money, nothing named after it) or "the date")."""

    about: str
    claims: tuple[Claim, ...]


@dataclass(frozen=True)
class Coverage:
    """Who reported what about one story."""

    story_id: str
    headline: str
    outlets: tuple[OutletArticles, ...]
    only: tuple[Exclusive, ...]
    differing: tuple[Difference, ...]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def lines(self) -> list[str]:
        """The coverage as text: outlets, what one alone reports, numbers that differ."""
        if not self.outlets:
            return [f"No stored article belongs to story {self.story_id!r}."]
        out = [f"Coverage: {self.headline}", ""]
        for o in self.outlets:
            count = len(o.articles)
            out.append(f"{o.outlet or 'no outlet named'}: {count} article{'s' * (count != 1)}")
        if self.differing:
            out += ["", "Numbers that differ:"]
            for d in self.differing:
                out.append(f"  {d.about}:")
                for c in d.claims:
                    said = f"{c.value} ({c.outlet}, {c.article.published or 'undated'})"
                    out.append(f"    {said} “{c.quote.quote}” [{c.article.id}]")
        if self.only:
            out += ["", "Reported by one outlet only:"]
            for e in self.only:
                out.append(f"  {e.outlet}: “{e.quote.quote}” [{e.article.id}]")
        if len(self.outlets) < 2:
            out += ["", "Only one outlet reported this story: nothing to compare."]
        return out


_COMPARE = re.compile(
    r"^\W*(?:who\s+reported\s+(?:what\s+)?(?:about|on)\s+(?P<a>.+?)|"
    r"how\s+(?:did|do|have|has)\s+(?:the\s+|different\s+)?(?:news\s+)?(?:outlets|media|papers|"
    r"newspapers|sources)\s+(?:covered|cover|reported\s+on|report\s+on|reported|report)\s+"
    r"(?P<b>.+?)|(?:what|where)\s+do\s+(?:the\s+)?(?:outlets|sources|reports|papers)\s+"
    r"(?:disagree|differ)\s+(?:on|about)\s+(?:in\s+)?(?P<c>.+?)|"
    r"compare\s+(?:the\s+)?(?:coverage|reporting)\s+(?:of|on)\s+(?P<d>.+?))\W*$",
    re.IGNORECASE,
)


def coverage_topic(question: str) -> str | None:
    """The topic of a question asking who reported what ("Who reported what about the bus
    crash?", "How did the outlets cover the election?", "What do the outlets disagree on about
    X?", "Compare the coverage of X"), or None for any other question."""
    match = _COMPARE.match(question.strip())
    if match is None:
        return None
    return bare_topic(next(g for g in match.groups() if g))


def coverage_answer(question: str, topic: str, coverage: Coverage | None, seconds: float) -> Answer:
    """Who reported what as the chat's answer: each differing figure's claims, then what one
    outlet alone reports, each a cited sentence ("Kandor Times, 2024-05-07: ..."); the outlets
    named plainly when there is nothing to set side by side."""
    lines: list[tuple[str, Citation]] = []

    def cite(outlet: str, article: StoryArticle, quote: Lead) -> None:
        said = f"{outlet or 'No outlet named'}, {article.published or 'undated'}: {quote.quote}"
        lines.append((said, lead_citation(len(lines) + 1, quote, article, 1.0)))

    if coverage is None:
        nothing = f"No stored story is about {topic!r}."
    else:
        for d in coverage.differing:
            for c in d.claims:
                cite(c.outlet, c.article, c.quote)
        for e in coverage.only:
            cite(e.outlet, e.article, e.quote)
        named = ", ".join(
            f"{o.outlet or 'no outlet named'} ({len(o.articles)})" for o in coverage.outlets
        )
        nothing = (
            f"Only {named} reported “{coverage.headline}”: nothing to compare."
            if len(coverage.outlets) < 2
            else f"{named} reported “{coverage.headline}”: no figure differs between them and "
            "none reports something the others do not."
        )
    return quoted_answer(question, lines, nothing, f"coverage: {topic}", seconds)


def find_story(index: ArticleIndex, story_or_topic: str) -> str | None:
    """The story `story_or_topic` names: a story id, else the story of the stored article most
    about it (as the brief's `--about`: cosine `ABOUT_COSINE` or more); None when none is."""
    wanted = story_or_topic.strip()
    if not wanted:
        return None
    if index.story_articles(wanted):
        return wanted
    about = articles_about(index, wanted, 20)
    if not about:
        return None
    best = max(about, key=about.__getitem__)
    return index.stories_of([best]).get(best)


def coverage_of(index: ArticleIndex, story_or_topic: str) -> Coverage:
    """Who reported what about the story `story_or_topic` names (`find_story`); QuestionError
    when no stored story matches."""
    found = find_story(index, story_or_topic)
    if found is None:
        raise QuestionError(
            f"no story matches {story_or_topic.strip()[:80]!r}: give a story id from a brief "
            "(`assistant brief --json`) or other words about it"
        )
    return make_coverage(index, found)


def make_coverage(index: ArticleIndex, story_id: str, headline: str = "") -> Coverage:
    """Who reported what about the story `story_id` (its stored articles; copies once)."""
    records = index.records()
    kept = first_of_copies(index, records, index.story_articles(story_id))
    by_outlet: dict[str, list[str]] = {}
    for a in kept:
        by_outlet.setdefault(records[a].source, []).append(a)
    outlets = tuple(
        OutletArticles(o, tuple(story_article(a, records[a]) for a in articles))
        for o, articles in sorted(by_outlet.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    )
    vectors = index.article_vectors(ids=kept)
    if not headline and kept:
        headline = records[kept[0]].title or kept[0]
    if len(by_outlet) < 2 or not vectors:
        return Coverage(story_id, headline, outlets, (), ())
    centroid = np.mean([vectors[a] for a in kept if a in vectors], axis=0)
    said = {}
    for outlet, articles in by_outlet.items():
        central = sorted(
            (a for a in articles if a in vectors), key=lambda a: -float(vectors[a] @ centroid)
        )[:ARTICLES_READ]
        said[outlet] = [(a, s) for a in central for s in news_sentences(index, a, SENTENCES_READ)]
    titles = [set(_TOKENS(records[a].title)) for a in kept]
    core = {w for w in set().union(*titles) if sum(w in t for t in titles) >= 2} or titles[0]
    return Coverage(
        story_id,
        headline,
        outlets,
        _only(said, records, core),
        _differing(index, said, records),
    )


Said = Mapping[str, Sequence[tuple[str, Lead]]]  # outlet -> (article id, sentence)


def _only(
    said: Said, records: Mapping[str, ArticleRecord], core: set[str]
) -> tuple[Exclusive, ...]:
    words = {o: [set(_TOKENS(s.quote)) for _, s in sentences] for o, sentences in said.items()}
    used = {o: set().union(*w) if w else set() for o, w in words.items()}
    out: list[Exclusive] = []
    for outlet, sentences in said.items():
        others = set().union(*(u for o, u in used.items() if o != outlet))
        found = []
        for n, ((article, sentence), stems) in enumerate(
            zip(sentences, words[outlet], strict=True)
        ):
            fresh = stems - others
            share = len(fresh) / max(len(stems), 1)
            if len(fresh) >= ONLY_WORDS and share >= ONLY_SHARE and stems & core:
                found.append((-share, n, article, sentence))
        for _, _, article, sentence in sorted(found, key=lambda f: (f[0], f[1]))[:PER_OUTLET]:
            out.append(Exclusive(outlet, story_article(article, records[article]), sentence))
    return tuple(out)


@dataclass(frozen=True)
class _Number:
    outlet: str
    article: str
    value: str
    amount: float
    hedged: bool
    key: str  # the stemmed word after the number: what it counts
    about: str  # the word after it, as written: what it counts
    context: frozenset[str]
    sentence: Lead


def _numbers(outlet: str, article: str, sentence: Lead) -> list[_Number]:
    text = sentence.quote
    out = []
    for m in _NUMBER.finditer(text):
        before = text[: m.start()]
        window = _TOKENS(text[max(0, m.start() - 80) : m.end() + 80])
        month = re.search(r"([A-Za-z]+)\.?\s*$", before[-12:])
        if month and _MONTHS.match(month.group(1)):  # a day of a month: a date, not a count
            day = m.group("num")
            if not m.group("cur") and day.isdigit() and 1 <= int(day) <= 31:
                number = _MONTH_NUMBER[month.group(1)[:3].lower()]
                value = f"{month.group(1)} {day}"
                out.append(
                    _Number(
                        outlet,
                        article,
                        value,
                        number * 100.0 + int(day),
                        False,
                        "date",
                        "the date",
                        frozenset(window),
                        sentence,
                    )
                )
            continue
        num = m.group("num").replace(",", "")
        scale = (m.group("scale") or "").lower()
        bare = not m.group("cur") and not scale and not m.group("pct") and "." not in num
        if bare and len(num) == 4 and 1800 <= int(num) <= 2100:
            continue  # a year
        amount = float(num) * _SCALE.get({"bn": "billion", "m": "million"}.get(scale, scale), 1)
        clause = re.split(r"[,.;:!?()\[\]—–]", text[m.end() : m.end() + 60])[0]
        content = [w for w in _WORD.findall(clause) if _TOKENS(w)][:1]
        if m.group("pct"):
            key, about = "percent", "percent"
        elif not content and m.group("cur"):
            key, about = "amount", "amount"
        elif not content:
            continue  # a number that counts nothing named in its clause
        else:
            key, about = _TOKENS(content[0])[0], content[0]
        out.append(
            _Number(
                outlet,
                article,
                m.group(0).strip(),
                amount,
                bool(_HEDGES.search(before)),
                key,
                about,
                frozenset(window) - {key},
                sentence,
            )
        )
    return out


def _differing(
    index: ArticleIndex, said: Said, records: Mapping[str, ArticleRecord]
) -> tuple[Difference, ...]:
    numbers = [n for o, sentences in said.items() for a, s in sentences for n in _numbers(o, a, s)]
    by_key: dict[str, list[_Number]] = {}
    stated: dict[tuple[str, str], set[float]] = {}  # (sentence, key) -> the amounts it gives
    for n in numbers:
        by_key.setdefault(n.key, []).append(n)
        stated.setdefault((n.sentence.quote, n.key), set()).add(n.amount)

    def disagree(x: _Number, y: _Number) -> bool:
        """Different figures, neither sentence also giving the other's (then they agree on
        it and the other figure is of something else: "$799, and the Plus $899")."""
        return (
            _differ(x, y)
            and x.amount not in stated[(y.sentence.quote, y.key)]
            and y.amount not in stated[(x.sentence.quote, x.key)]
        )

    pairs = {  # numbers of two outlets counting the same word, with words around in common
        key: [
            (x, y)
            for i, x in enumerate(found)
            for y in found[i + 1 :]
            if x.outlet != y.outlet and len(x.context & y.context) > SAME_CONTEXT
        ]
        for key, found in by_key.items()
    }
    quotes = list(dict.fromkeys(n.sentence.quote for p in pairs.values() for x in p for n in x))
    if not quotes:
        return ()
    meaning = dict(zip(quotes, index.embed(quotes), strict=True))

    def same(x: _Number, y: _Number) -> bool:
        bar = SAME_DATE_SENTENCE if x.key == "date" else SAME_SENTENCE
        return float(meaning[x.sentence.quote] @ meaning[y.sentence.quote]) >= bar

    out: list[Difference] = []
    for key, found in pairs.items():
        differ = [(x, y) for x, y in found if disagree(x, y) and same(x, y)]
        if not differ:
            continue
        x, y = max(differ, key=lambda p: len(p[0].context & p[1].context))
        claims = [x, y]  # then each other outlet's figure for the same thing, one each
        for n in by_key[key]:
            paired = (n, x) in found or (x, n) in found
            if n.outlet not in {c.outlet for c in claims} and paired and same(n, x):
                claims.append(n)
        out.append(
            Difference(
                x.about,
                tuple(
                    Claim(
                        c.outlet,
                        story_article(c.article, records[c.article]),
                        c.value,
                        c.amount,
                        c.hedged,
                        c.sentence,
                    )
                    for c in claims
                ),
            )
        )
    return tuple(out)


def _differ(x: _Number, y: _Number) -> bool:
    if x.amount == y.amount:
        return False
    if x.hedged or y.hedged:
        return abs(x.amount - y.amount) > HEDGED_GAP * max(x.amount, y.amount)
    return True

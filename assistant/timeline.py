"""The timeline of a topic: its developments in date order, one sentence each, quoted from the
articles with their offsets; near-repeats merged ("also reported by ...").

The articles about the topic are found as a question's passages are (the dense and keyword
searches of the index), kept when their whole-article vector is close to the topic
(`ABOUT_COSINE`, as the brief's `--about`), folded copies once. Each gives its lead (the first
sentence that is news, `assistant.brief.lead`); a lead that says what an earlier one of the
timeline said (cosine of the two sentences at `REPEAT_COSINE` or more) joins that development
as "also reported by" its outlet. Dates are the articles' own; an undated article is left out
(a timeline never invents a date).

A question asking how something unfolded ("How did the Sri Lanka crisis unfold?", "What's the
latest on the ferry strike?", "Timeline of the Webb telescope") is answered with its timeline
(`timeline_topic` reads the topic from the question's own words; `timeline_answer` makes the
timeline an `Answer`, each development a cited sentence, its repeats as "also in").

Not here: the brief (`assistant.brief`), grouping stories.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from assistant.brief import (
    Lead,
    StoryArticle,
    articles_about,
    bare_topic,
    first_of_copies,
    lead,
    lead_citation,
    quoted_answer,
    story_article,
)
from assistant.types import Answer, Copy
from index import ArticleIndex, Filters

_UNFOLD = re.compile(
    r"^\W*(?:how\s+(?:did|has|have)\s+(?P<a>.+?)\s+(?:unfold(?:ed)?|develop(?:ed)?|evolve[d]?|"
    r"play(?:ed)?\s+out)|what(?:'s|’s|\s+is)\s+the\s+latest\s+(?:on|about|in|with)\s+(?P<b>.+?)|"
    r"(?:give\s+me\s+|show\s+me\s+)?(?:a\s+|the\s+)?timeline\s+(?:of|for)\s+(?P<c>.+?))\W*$",
    re.IGNORECASE,
)
CANDIDATES = 60  # chunks each search brings back
REPEAT_COSINE = 0.8  # two leads this close say the same thing


@dataclass(frozen=True)
class Development:
    """One step of a timeline: its date, the sentence that tells it (with its article), and
    the other articles that reported the same."""

    date: str
    lead: Lead
    article: StoryArticle
    also: tuple[StoryArticle, ...] = ()


@dataclass(frozen=True)
class Timeline:
    topic: str
    developments: tuple[Development, ...]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def lines(self) -> list[str]:
        if not self.developments:
            return [f"No dated article is about {self.topic!r}."]
        out = [f"Timeline: {self.topic}", ""]
        for d in self.developments:
            outlet = d.article.source or "no outlet named"
            out.append(f"{d.date}  “{d.lead.quote}” ({outlet}) [{d.article.id}]")
            if d.also:
                names = ", ".join(dict.fromkeys(a.source or a.title for a in d.also))
                out.append(f"            also reported by {names}")
        return out


def make_timeline(
    index: ArticleIndex,
    topic: str,
    since: dt.date | None = None,
    until: dt.date | None = None,
    sources: Sequence[str] = (),
) -> Timeline:
    """The developments of `topic` from `since` to `until` (all dates when None)."""
    filters = Filters(sources=tuple(sources), since=since, until=until)
    return timeline_of(index, topic, list(articles_about(index, topic, CANDIDATES, filters)))


def timeline_of(index: ArticleIndex, topic: str, article_ids: Sequence[str]) -> Timeline:
    """The timeline told by these articles (a story's): dated ones, copies once, by date."""
    records = index.records()
    dated = [a for a in article_ids if a in records and records[a].published]
    leads = [(a, lead(index, a)) for a in first_of_copies(index, records, dated)]
    told = [(a, found_lead) for a, found_lead in leads if found_lead is not None]
    if not told:
        return Timeline(topic, ())
    said = index.embed([found_lead.quote for _, found_lead in told])
    developments: list[Development] = []
    vectors_of: list[np.ndarray] = []
    for (a, found_lead), vector in zip(told, said, strict=True):
        article = story_article(a, records[a])
        same = next(
            (i for i, v in enumerate(vectors_of) if float(v @ vector) >= REPEAT_COSINE), None
        )
        if same is not None:
            earlier = developments[same]
            developments[same] = Development(
                earlier.date, earlier.lead, earlier.article, (*earlier.also, article)
            )
            continue
        developments.append(Development(article.published, found_lead, article))
        vectors_of.append(vector)
    return Timeline(topic, tuple(developments))


def timeline_topic(question: str) -> str | None:
    """The topic of a question asking how something unfolded, or None for any other."""
    match = _UNFOLD.match(question.strip())
    if match is None:
        return None
    return bare_topic(next(g for g in match.groups() if g))


def timeline_answer(
    index: ArticleIndex, question: str, timeline: Timeline, seconds: float
) -> Answer:
    """The timeline as the chat's answer: each development's sentence, cited, in date order;
    the articles that reported the same are its citation's "also in"."""
    lines = []
    for n, d in enumerate(timeline.developments, 1):
        also = tuple(Copy(a.id, a.title, a.source, a.url, a.published) for a in d.also)
        lines.append((f"{d.date}: {d.lead.quote}", lead_citation(n, d.lead, d.article, 1.0, also)))
    nothing = f"No dated article is about {timeline.topic!r}."
    return quoted_answer(question, lines, nothing, f"timeline: {timeline.topic}", seconds)

"""The brief: the top stories of a period, each with a headline and a lead sentence quoted from
its articles, cited like an answer.

Stories are grouped on demand from the store's own vectors: each article is the mean of its
chunk vectors, and the articles of the period, taken in date order, each join the story whose
centroid is closest at a cosine of at least `STORY_COSINE`, or start one (the way
`bench/stories.py` measured best; docs/stories.md). A story's id is its first article's id, so it
stays the same while that article is stored; folded copies of an article are one article. The
stories are ranked by how widely they were covered (articles, then outlets) and how recently
(their newest date). A story's headline is the title of its most central article (the closest to
its centroid); its lead is that article's first sentence that is news (not a dateline, byline,
caption or question), quoted verbatim with its offsets.

Not here: grouping inside a sync (stories are not stored yet), timelines and coverage by outlet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from assistant.answer.furniture import dateline_end, is_furniture
from index import ArticleIndex, Filters, split_sentences

STORY_COSINE = 0.34  # docs/stories.md: coverage 0.718 at 10 with 0.969 of different questions apart
ABOUT_COSINE = 0.3  # an article is about --about TEXT at this cosine or more


@dataclass(frozen=True)
class StoryArticle:
    """One article of a story (no text)."""

    id: str
    title: str
    source: str
    published: str
    url: str


@dataclass(frozen=True)
class Lead:
    """A sentence quoted verbatim from `article_id`: `quote == text[quote_start:quote_end]`."""

    article_id: str
    quote: str
    quote_start: int
    quote_end: int


@dataclass(frozen=True)
class Story:
    """One story of a brief: its id (its first article's), headline, lead, outlets, articles
    (oldest first) and first and last dates."""

    id: str
    headline: str
    lead: Lead | None
    outlets: tuple[str, ...]
    articles: tuple[StoryArticle, ...]
    first: str
    last: str


@dataclass(frozen=True)
class Brief:
    """The top stories of the period `since`..`until` (ISO dates), best first; `articles` is
    how many articles the period holds."""

    since: str
    until: str
    stories: tuple[Story, ...]
    articles: int

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def lines(self) -> list[str]:
        """The brief as text: a numbered story per paragraph, its lead quoted and cited."""
        if not self.stories:
            return [f"Nothing new between {self.since} and {self.until}."]
        out = [f"Top stories, {self.since} to {self.until} ({self.articles} articles):", ""]
        for n, story in enumerate(self.stories, 1):
            count = len(story.articles)
            span = story.first if story.first == story.last else f"{story.first} to {story.last}"
            outlets = ", ".join(story.outlets) or "no outlet named"
            out.append(f"{n}. {story.headline}")
            out.append(f"   {count} article{'s' if count != 1 else ''} · {outlets} · {span}")
            if story.lead is not None:
                out.append(f"   “{story.lead.quote}” [{story.lead.article_id}]")
            out.append("")
        return out[:-1]


def group(ids: Sequence[str], vectors: np.ndarray, threshold: float = STORY_COSINE) -> list[int]:
    """The story of each article (`ids` in date order, `vectors` unit rows): each joins the
    story whose centroid is closest at `threshold` or more, or starts one."""
    labels: list[int] = []
    sums: list[np.ndarray] = []
    for row in vectors[: len(ids)]:
        best, score = -1, threshold
        for s, total in enumerate(sums):
            cos = float(row @ total) / (float(np.linalg.norm(total)) or 1.0)
            if cos >= score:
                best, score = s, cos
        if best < 0:
            sums.append(row.astype(np.float32).copy())
            best = len(sums) - 1
        else:
            sums[best] = sums[best] + row
        labels.append(best)
    return labels


def make_brief(
    index: ArticleIndex,
    since: dt.date,
    until: dt.date,
    sources: Sequence[str] = (),
    about: str = "",
    top: int = 10,
) -> Brief:
    """The `top` stories of the articles published from `since` to `until` (from `sources`,
    about `about` when given)."""
    filters = Filters(sources=tuple(sources), since=since, until=until)
    vectors = index.article_vectors(filters)
    records = index.records()
    # folded copies count once: the first of each set in the period stands for it
    groups = index.groups_of(vectors)
    kept: dict[str, np.ndarray] = {}
    seen: set[str] = set()
    for a in sorted((a for a in vectors if a in records), key=lambda a: (records[a].published, a)):
        if groups.get(a, a) not in seen:
            seen.add(groups.get(a, a))
            kept[a] = vectors[a]
    if about.strip() and kept:
        wanted = index.embed([about])[0]
        kept = {a: v for a, v in kept.items() if float(v @ wanted) >= ABOUT_COSINE}
    ids = sorted(kept, key=lambda a: (records[a].published, a))
    if not ids:
        return Brief(since.isoformat(), until.isoformat(), (), 0)
    matrix = np.stack([kept[a] for a in ids])
    labels = group(ids, matrix)
    members: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        members.setdefault(label, []).append(i)

    def weight(label: int) -> tuple[int, int, str]:
        rows = members[label]
        outlets = {records[ids[i]].source for i in rows if records[ids[i]].source}
        return len(rows), len(outlets), max(records[ids[i]].published for i in rows)

    chosen = sorted(members, key=weight, reverse=True)[:top]
    stories = tuple(_story(index, ids, matrix, members[label]) for label in chosen)
    return Brief(since.isoformat(), until.isoformat(), stories, len(ids))


def _story(index: ArticleIndex, ids: list[str], matrix: np.ndarray, rows: list[int]) -> Story:
    records = index.records()
    centroid = matrix[rows].mean(axis=0)
    central = ids[max(rows, key=lambda i: float(matrix[i] @ centroid))]
    record = records[central]
    articles = tuple(
        StoryArticle(
            ids[i],
            records[ids[i]].title,
            records[ids[i]].source,
            records[ids[i]].published[:10],
            records[ids[i]].url,
        )
        for i in rows
    )
    outlets = tuple(dict.fromkeys(a.source for a in articles if a.source))
    days = [a.published for a in articles if a.published]
    return Story(
        id=ids[rows[0]],
        headline=record.title or central,
        lead=lead(index, central),
        outlets=outlets,
        articles=articles,
        first=min(days) if days else "",
        last=max(days) if days else "",
    )


def lead(index: ArticleIndex, article_id: str) -> Lead | None:
    """The article's first sentence that is news (not furniture, not its title repeated, six
    words or more), without a dateline that opens it."""
    article = index.article(article_id)
    if article is None:
        return None
    text, title = article.text, " ".join(article.title.split()).casefold()
    for start, end in split_sentences(text):
        sentence = text[start:end]
        if is_furniture(sentence) or len(sentence.split()) < 6:
            continue
        if title and " ".join(sentence.split()).casefold().startswith(title):
            continue
        start += dateline_end(sentence)
        return Lead(article_id, text[start:end], start, end)
    return None

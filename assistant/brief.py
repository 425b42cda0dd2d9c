"""The brief: the top stories of a period, each with a headline and a lead sentence quoted from
its articles, cited like an answer.

Stories are the index's (`index.stories`: each article joined the closest story as it was
synced). A brief takes the period's articles (folded copies once), groups them by their story,
and ranks the stories by how long and how widely they were covered in the period (the days with
an article about it, then articles, then outlets) and how recently (their newest date): on the
weekly news quiz, days first covered more of the editors' top stories than articles first
(docs/stories.md). A story's headline is the title of its most central
article of the period (the closest to their centroid); its lead is that article's first
sentence that is news (not a dateline, byline, caption or question), quoted verbatim with its
offsets. A story that grew (articles on more than one day, before the period or in it) also
quotes the sentence of its newest day that says most that its earlier articles did not
(`newest_news`).

A question for the news in general ("What's in the news this week?", "What happened today?",
"What's new?") is answered with a brief (`news_period` reads its period from its own words;
`brief_answer` makes the brief an `Answer`, each story's lead a cited sentence).

Not here: assigning stories (`index.stories`), timelines (`assistant.timeline`), who reported
what (`assistant.coverage`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from assistant.answer.furniture import dateline_end, is_furniture
from assistant.errors import QuestionError
from assistant.types import Answer, AnswerSentence, Citation, Copy
from index import ArticleIndex, ArticleRecord, Filters, Tokenizer, split_sentences

ABOUT_COSINE = 0.3  # an article is about --about TEXT at this cosine or more


# A question for the news in general, no topic of its own: its period from its own words.
_GENERAL = re.compile(
    r"^\W*(?:so\W+|and\W+)?(?:(?:what(?:'s|’s| is| are)?|any|tell me)\s+(?:in\s+)?(?:the\s+)?"
    r"(?:news|headlines|top stories|latest|new|happening)|what\s+happened|"
    r"(?:the\s+)?(?:top\s+stories|headlines|news)\s+(?:of|for)\s+(?:the|this)\s+(?:week|day))"
    r"\s*(?P<when>today|this\s+week|yesterday|lately|recently|of\s+the\s+(?:day|week))?\W*$",
    re.IGNORECASE,
)


_TOKENS = Tokenizer()
_SPAN = re.compile(r"(\d+)\s*([hdw])")


def period(since: str, until: str | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of a brief: `since` is 24h, 7d, 2w (back from `until`) or a date;
    `until` a date (default `today`). QuestionError naming a bad one."""
    from assistant.assistant import make_filters

    end = (make_filters(until=until).until if until else None) or today
    span = _SPAN.fullmatch((since or "").strip().lower())
    if span:
        n, unit = int(span.group(1)), span.group(2)
        days = {"h": -(-n // 24), "d": n, "w": 7 * n}[unit]
        return end - dt.timedelta(days=max(days, 1) - 1), end
    start = make_filters(since=since).since
    if start is None:
        raise QuestionError("a brief needs its first day: since=24h, 7d, 2w or YYYY-MM-DD")
    if start > end:
        raise QuestionError(f"since {start} is after until {end}: swap them or widen the range")
    return start, end


_SINCE = re.compile(
    r"^\W*what(?:'s|’s)?\s+(?:happened|(?:has\s+)?changed|is\s+new|new)\s+since\s+"
    r"(?:last\s+)?(?P<day>monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"\d{4}-\d{2}-\d{2})\W*$",
    re.IGNORECASE,
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def news_period(question: str, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The period a question for the news in general asks about (today; yesterday; since a
    weekday or a date; else the last 7 days), or None for any other question."""
    since = _SINCE.match(question.strip())
    if since is not None:
        day = since.group("day").lower()
        if day in _WEEKDAYS:  # the last such day before today
            back = (today.weekday() - _WEEKDAYS.index(day)) % 7 or 7
            return today - dt.timedelta(days=back), today
        try:
            start = dt.date.fromisoformat(day)
        except ValueError:
            return None
        return (start, today) if start <= today else None
    match = _GENERAL.match(question.strip())
    if match is None:
        return None
    when = " ".join((match.group("when") or "").lower().split())
    if when in ("today", "of the day") or re.search(r"\b(?:of|for) the day\b", question, re.I):
        return today, today
    if when == "yesterday":
        day = today - dt.timedelta(days=1)
        return day, day
    return today - dt.timedelta(days=6), today


def bare_topic(words: str) -> str | None:
    """A topic read from a question, without the article that opens it; None when empty."""
    return re.sub(r"^(?:the|a|an)\s+", "", words.strip(), flags=re.IGNORECASE) or None


def first_of_copies(
    index: ArticleIndex, records: Mapping[str, ArticleRecord], article_ids: Iterable[str]
) -> list[str]:
    """The stored articles among `article_ids` in date order, folded copies once: the first of
    each set of copies stands for it."""
    ids = [a for a in dict.fromkeys(article_ids) if a in records]
    groups = index.groups_of(ids)
    seen: set[str] = set()
    out = []
    for a in sorted(ids, key=lambda a: (records[a].published, a)):
        if groups.get(a, a) not in seen:
            seen.add(groups.get(a, a))
            out.append(a)
    return out


def articles_about(
    index: ArticleIndex, topic: str, k: int, filters: Filters | None = None
) -> dict[str, float]:
    """The articles about `topic`: those the dense and keyword searches find among their `k`
    best chunks whose whole-article vector is at a cosine of `ABOUT_COSINE` or more to it (the
    cosine of each)."""
    hits = index.dense_search(topic, k, filters) + index.keyword_search(topic, k, filters)
    found = list(dict.fromkeys(h.chunk.article_id for h in hits))
    vectors = index.article_vectors(filters, ids=found)
    if not vectors:
        return {}
    wanted = index.embed([topic])[0]
    cosines = {a: float(v @ wanted) for a, v in vectors.items()}
    return {a: c for a, c in cosines.items() if c >= ABOUT_COSINE}


def nothing_new(since: str, until: str) -> str:
    """What a brief of a period without articles says."""
    if since == until:
        return f"Nothing new on {since}."
    return f"Nothing new since {since} (up to {until})."


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
    """One story of a brief: its id (the index's, `ArticleIndex.stories_of`), headline, lead,
    outlets, articles of the period (oldest first) and their first and last dates; `began` is
    the story's first date (before the period when it began earlier) and `new` the sentence of
    its newest day that says what its earlier articles did not (None when it did not grow)."""

    id: str
    headline: str
    lead: Lead | None
    outlets: tuple[str, ...]
    articles: tuple[StoryArticle, ...]
    first: str
    last: str
    began: str = ""
    new: Lead | None = None


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
            return [nothing_new(self.since, self.until)]
        out = [f"Top stories, {self.since} to {self.until} ({self.articles} articles):", ""]
        for n, story in enumerate(self.stories, 1):
            count = len(story.articles)
            span = story.first if story.first == story.last else f"{story.first} to {story.last}"
            outlets = ", ".join(story.outlets) or "no outlet named"
            out.append(f"{n}. {story.headline}")
            out.append(f"   {count} article{'s' if count != 1 else ''} · {outlets} · {span}")
            if story.began and story.began < story.first:
                out.append(f"   (the story began {story.began})")
            if story.lead is not None:
                out.append(f"   “{story.lead.quote}” [{story.lead.article_id}]")
            if story.new is not None:
                out.append(f"   New: “{story.new.quote}” [{story.new.article_id}]")
            out.append("")
        return out[:-1]


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
    kept = {a: vectors[a] for a in first_of_copies(index, records, vectors)}
    if about.strip() and kept:
        wanted = index.embed([about])[0]
        kept = {a: v for a, v in kept.items() if float(v @ wanted) >= ABOUT_COSINE}
    ids = list(kept)  # in date order
    if not ids:
        return Brief(since.isoformat(), until.isoformat(), (), 0)
    story_of = index.stories_of(ids)
    members: dict[str, list[str]] = {}
    for a in ids:
        members.setdefault(story_of.get(a, a), []).append(a)

    def weight(story: str) -> tuple[int, int, int, str]:
        rows = members[story]
        days = {records[a].published[:10] for a in rows}
        outlets = {records[a].source for a in rows if records[a].source}
        return len(days), len(rows), len(outlets), max(records[a].published for a in rows)

    chosen = sorted(members, key=weight, reverse=True)[:top]
    stories = tuple(_story(index, records, kept, s, members[s], until, sources) for s in chosen)
    return Brief(since.isoformat(), until.isoformat(), stories, len(ids))


def _story(
    index: ArticleIndex,
    records: Mapping[str, ArticleRecord],
    vectors: Mapping[str, np.ndarray],
    story_id: str,
    ids: list[str],
    until: dt.date,
    sources: Sequence[str],
) -> Story:
    matrix = np.stack([vectors[a] for a in ids])
    centroid = matrix.mean(axis=0)
    central = ids[int(np.argmax(matrix @ centroid))]
    articles = tuple(story_article(a, records[a]) for a in ids)
    outlets = tuple(dict.fromkeys(a.source for a in articles if a.source))
    days = [a.published for a in articles if a.published]
    end = until.isoformat()  # the story as it stood at the period's end, from those outlets
    whole = [
        a
        for a in index.story_articles(story_id)
        if a in records
        and records[a].published[:10] <= end
        and (not sources or records[a].source in sources)
    ]
    dated = sorted(records[a].published[:10] for a in whole if records[a].published)
    headline_lead = lead(index, central)
    return Story(
        id=story_id,
        headline=records[central].title or central,
        lead=headline_lead,
        outlets=outlets,
        articles=articles,
        first=min(days) if days else "",
        last=max(days) if days else "",
        began=dated[0] if dated else "",
        new=newest_news(index, records, whole, headline_lead),
    )


def story_article(article_id: str, record: ArticleRecord) -> StoryArticle:
    return StoryArticle(article_id, record.title, record.source, record.published[:10], record.url)


NEW_SHARE = 0.4  # of a sentence's words the earlier articles of its story never used
EARLIER_READ = 20  # earlier articles read to tell what is new (the latest ones)


def newest_news(
    index: ArticleIndex,
    records: Mapping[str, ArticleRecord],
    story: Sequence[str],
    not_this: Lead | None = None,
) -> Lead | None:
    """For a story that grew (articles on more than one day), the sentence of its newest day's
    articles that says most that its earlier articles did not: the largest share of words
    (stemmed, no stop words) none of them used, at least `NEW_SHARE` and two words; None when
    the story did not grow or nothing is new. `not_this` (the story's lead) is never repeated."""
    dated = sorted((a for a in story if records[a].published), key=lambda a: records[a].published)
    if not dated:
        return None
    newest = records[dated[-1]].published[:10]
    latest = [a for a in dated if records[a].published[:10] == newest]
    earlier = [a for a in dated if records[a].published[:10] < newest][-EARLIER_READ:]
    if not earlier:
        return None
    words = _TOKENS
    used: set[str] = set()
    for a in earlier:
        article = index.article(a)
        if article is not None:
            used.update(words(article.title))
            used.update(words(article.text))
    best: tuple[float, int, Lead] | None = None
    for a in latest[:3]:
        for n, sentence in enumerate(news_sentences(index, a)):
            if not_this is not None and sentence.quote == not_this.quote:
                continue
            said = set(words(sentence.quote))
            fresh = said - used
            share = len(fresh) / max(len(said), 1)
            if len(fresh) >= 2 and share >= NEW_SHARE and (best is None or share > best[0]):
                best = (share, n, sentence)
    return best[2] if best else None


def news_sentences(index: ArticleIndex, article_id: str, most: int = 15) -> list[Lead]:
    """The article's first `most` sentences that are news (not furniture, not its title
    repeated, six words or more), each without a dateline that opens it."""
    article = index.article(article_id)
    if article is None:
        return []
    text, title = article.text, " ".join(article.title.split()).casefold()
    out: list[Lead] = []
    for start, end in split_sentences(text):
        sentence = text[start:end]
        if is_furniture(sentence) or len(sentence.split()) < 6:
            continue
        if title and " ".join(sentence.split()).casefold().startswith(title):
            continue
        start += dateline_end(sentence)
        out.append(Lead(article_id, text[start:end], start, end))
        if len(out) >= most:
            break
    return out


def lead(index: ArticleIndex, article_id: str) -> Lead | None:
    """The article's first sentence that is news (`news_sentences`)."""
    found = news_sentences(index, article_id, most=1)
    return found[0] if found else None


def lead_citation(
    n: int, lead: Lead, article: StoryArticle, score: float, also: tuple[Copy, ...] = ()
) -> Citation:
    """Citation `n` of a lead sentence: the sentence is its own passage."""
    return Citation(
        n=n,
        article_id=lead.article_id,
        title=article.title,
        source=article.source,
        url=article.url,
        published=article.published,
        passage=lead.quote,
        start=lead.quote_start,
        end=lead.quote_end,
        quote=lead.quote,
        quote_start=lead.quote_start,
        quote_end=lead.quote_end,
        score=score,
        also_in=also,
    )


def quoted_answer(
    question: str,
    lines: Sequence[tuple[str, Citation]],
    nothing: str,
    read_as: str,
    seconds: float,
) -> Answer:
    """An answer made of quoted sentences (`lines`: each sentence's text and its citation), or
    `nothing` said plainly when there are none; `read_as` is how the question was read."""
    sentences = tuple(AnswerSentence(text, (c.n,), True, 1.0) for text, c in lines)
    return Answer(
        question=question,
        text=" ".join(s.text for s in sentences) if sentences else nothing,
        citations=tuple(c for _, c in lines),
        sentences=sentences,
        mode="extractive",
        answered=bool(sentences),
        standalone_question=read_as,
        seconds=round(seconds, 4),
    )


def brief_answer(index: ArticleIndex, question: str, brief: Brief, seconds: float) -> Answer:
    """The brief as the chat's answer: each story's lead one sentence, cited by a citation of
    its article (the sources panel shows the stories' articles); nothing new, said plainly."""
    lines: list[tuple[str, Citation]] = []
    for story in brief.stories:
        lead = story.lead
        article = next((a for a in story.articles if lead and a.id == lead.article_id), None)
        if lead is None or article is None:
            continue
        cited = lead_citation(len(lines) + 1, lead, article, float(len(story.articles)))
        lines.append((lead.quote, cited))
    nothing = f"{nothing_new(brief.since, brief.until)} No article was published then."
    return quoted_answer(question, lines, nothing, question, seconds)

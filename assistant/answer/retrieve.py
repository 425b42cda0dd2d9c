"""Hybrid retrieval: dense (Chroma) and BM25 rankings fused, then merged into passages.

Fusion is weighted reciprocal rank fusion: a chunk scores sum(w / (k + rank)) over the rankings
that found it. Optional priors, each in units of a first place in one ranking (1 / (k + 1)), are
then added: the share of the question's words in the article title, the support of the article's
other candidate chunks, and, when a latest date is set, the article's recency. Chunks of one
article that overlap are merged into one passage, so a passage is never shown twice. Filters
(source, date range, `as_of`) apply to both rankings. Near-duplicate articles (one story
syndicated by several outlets, `index.fold_copies`) count once: only the best-ranked article of a
group stays, and its passages name the others (`Passage.also_in`).

Not here: choosing sentences or writing answers (`assistant.answer.extractive`, `assistant.answer.llm`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from assistant.answer.passage import Passage
from assistant.answer.reader import Reader, sentence_texts
from assistant.answer.time_words import time_focus
from assistant.settings import RetrievalSettings
from assistant.types import Copy
from index import ArticleIndex, Chunk, Filters, Tokenizer

_TOKENIZE = Tokenizer()


@dataclass(frozen=True)
class Ranked:
    """A chunk with its fused score and, for inspection, its rank in each ranking (0: absent)."""

    chunk: Chunk
    score: float
    dense_rank: int = 0
    keyword_rank: int = 0


class Retriever:
    """Finds the passages most likely to answer a question."""

    def __init__(
        self, index: ArticleIndex, settings: RetrievalSettings, reader: Reader | None = None
    ) -> None:
        self.index = index
        self.settings = settings
        self.reader = reader

    def rank_chunks(self, query: str, filters: Filters | None = None) -> list[Ranked]:
        """Candidate chunks, best first, by the configured mode (hybrid, dense or keyword)."""
        s = self.settings
        dense = self.index.dense_search(query, s.candidates, filters) if s.mode != "keyword" else []
        keyword = (
            self.index.keyword_search(query, s.candidates, filters) if s.mode != "dense" else []
        )
        chunks: dict[str, Chunk] = {}
        scores: dict[str, float] = {}
        ranks: dict[str, list[int]] = {}
        for which, (hits, weight) in enumerate(
            ((dense, s.dense_weight), (keyword, s.keyword_weight))
        ):
            for rank, hit in enumerate(hits, start=1):
                cid = hit.chunk.id
                chunks[cid] = hit.chunk
                scores[cid] = scores.get(cid, 0.0) + weight / (s.rrf_k + rank)
                ranks.setdefault(cid, [0, 0])[which] = rank
        scores = self._with_priors(query, chunks, scores, filters)
        if self.reader is not None and s.rerank_depth > 0 and s.rerank_weight > 0:
            scores = self._reread(query, chunks, scores)
        order = sorted(scores, key=lambda c: -scores[c])
        if self.index.settings.fold_copies:
            order = self._one_per_story(order, chunks)
        return [Ranked(chunks[c], scores[c], ranks[c][0], ranks[c][1]) for c in order]

    def _one_per_story(self, order: list[str], chunks: dict[str, Chunk]) -> list[str]:
        """The chunks of the best-ranked article of each group of copies (a story syndicated by
        several outlets is one result; the others are named in its citation)."""
        group = self.index.groups_of(c.article_id for c in chunks.values())
        taken: dict[str, str] = {}  # group -> the article that stands for it
        kept = []
        for cid in order:
            article = chunks[cid].article_id
            if taken.setdefault(group[article], article) == article:
                kept.append(cid)
        return kept

    def also_in(self, article_id: str) -> tuple[Copy, ...]:
        """The other stored copies of the article's story, for its citation."""
        records = self.index.records()
        return tuple(
            Copy(r.id, r.title, r.source, r.url, r.published)
            for r in (records.get(a) for a in self.index.copies_of(article_id))
            if r is not None
        )

    def _with_priors(
        self,
        query: str,
        chunks: dict[str, Chunk],
        scores: dict[str, float],
        filters: Filters | None,
    ) -> dict[str, float]:
        s = self.settings
        unit = 1.0 / (s.rrf_k + 1)
        out = dict(scores)
        if s.article_weight > 0:
            totals: dict[str, float] = {}
            for cid, score in scores.items():
                aid = chunks[cid].article_id
                totals[aid] = totals.get(aid, 0.0) + score
            for cid, score in scores.items():
                out[cid] += s.article_weight * (totals[chunks[cid].article_id] - score)
        if s.title_weight > 0:
            words = set(_TOKENIZE(query))
            if words:
                for cid in out:
                    shared = words & set(_TOKENIZE(chunks[cid].title))
                    out[cid] += s.title_weight * unit * len(shared) / len(words)
        latest = filters.latest if filters is not None else None
        if s.recency_weight > 0 and latest is not None:
            focus = time_focus(query, latest)
            factor = {"now": s.recency_now_factor, "past": s.recency_past_factor}.get(focus, 1.0)
            weight = s.recency_weight * factor * unit
            for cid in out:
                age = _age_days(chunks[cid].published, latest)
                if age is not None:
                    out[cid] += weight * 0.5 ** (age / s.recency_half_life_days)
        return out

    def _reread(
        self, query: str, chunks: dict[str, Chunk], scores: dict[str, float]
    ) -> dict[str, float]:
        """The best `rerank_depth` chunks lifted by the reader's best sentence in each."""
        assert self.reader is not None
        s = self.settings
        top = sorted(scores, key=lambda c: -scores[c])[: s.rerank_depth]
        texts = {cid: sentence_texts(chunks[cid].text) for cid in top}
        flat = [t for cid in top for t in texts[cid]]
        probabilities = iter(self.reader.probabilities(query, flat).tolist() if flat else [])
        out = dict(scores)
        unit = 1.0 / (s.rrf_k + 1)
        for cid in top:
            best = max((next(probabilities) for _ in texts[cid]), default=0.0)
            out[cid] += s.rerank_weight * unit * best
        return out

    def passages(
        self, query: str, filters: Filters | None = None, top_k: int | None = None
    ) -> list[Passage]:
        """The best `top_k` passages, overlapping chunks of an article merged."""
        passages = merge_passages(self.rank_chunks(query, filters), top_k or self.settings.top_k)
        return [replace(p, also_in=self.also_in(p.article_id)) for p in passages]


def _age_days(published: str, latest: dt.date) -> float | None:
    """Days from `published` (ISO date or datetime) to `latest`; None when unknown."""
    try:
        day = dt.date.fromisoformat(published[:10])
    except ValueError:
        return None
    return max(0.0, float((latest - day).days))


def merge_passages(ranked: list[Ranked], top_k: int) -> list[Passage]:
    """Group ranked chunks into at most `top_k` passages; a passage keeps its best score."""
    passages: list[Passage] = []
    for item in ranked:
        c = item.chunk
        for i, p in enumerate(passages):
            if p.article_id == c.article_id and c.start < p.end and p.start < c.end:
                passages[i] = _merge(p, c)
                break
        else:
            if len(passages) < top_k:
                passages.append(
                    Passage(
                        info=c.info,
                        start=c.start,
                        end=c.end,
                        text=c.text,
                        score=item.score,
                        chunk_ids=(c.id,),
                    )
                )
    return [replace(p, rank=i) for i, p in enumerate(passages, start=1)]


def _merge(p: Passage, c: Chunk) -> Passage:
    """Join two overlapping exact slices of one article into one exact slice."""
    start, end = min(p.start, c.start), max(p.end, c.end)
    if c.start < p.start:
        text = c.text + p.text[c.end - p.start :] if c.end < p.end else c.text
    else:
        text = p.text + c.text[p.end - c.start :] if c.end > p.end else p.text
    return replace(p, start=start, end=end, text=text, chunk_ids=(*p.chunk_ids, c.id))

"""Retrieval priors on a real index: recency (relative to the latest date asked for), title
words, and the support of an article's other chunks. Each is off by its zero weight, and moves
the ranking the way it says when on."""

from __future__ import annotations

import json

import pytest

from assistant.answer.retrieve import Retriever
from assistant.settings import RetrievalSettings
from index import Filters

WEEKS = [
    ("old", "2022-05-01", "Harbour council report"),
    ("new", "2022-06-28", "Harbour council report"),
    ("titled", "2022-05-01", "Lighthouse repairs approved by harbour council"),
]


@pytest.fixture(scope="module")
def index(tmp_path_factory, embedder):
    from index import ArticleIndex

    folder = tmp_path_factory.mktemp("priors")
    body = (
        "The harbour council met on Tuesday and discussed the lighthouse repairs, the ferry "
        "timetable and the fishing quotas for the coming season."
    )
    with (folder / "a.jsonl").open("w") as fh:
        for aid, day, title in WEEKS:
            fh.write(json.dumps({"id": aid, "title": title, "text": body, "published": day}) + "\n")
        long_text = " ".join(
            f"Paragraph {i}: the lighthouse keeper logged storms, repairs and ferry delays."
            for i in range(60)
        )
        fh.write(json.dumps({"id": "long", "title": "Keeper's log", "text": long_text}) + "\n")
    store = ArticleIndex.open(folder / "store", embedder=embedder)
    store.sync([folder / "a.jsonl"])
    return store


def order(index, query: str, filters: Filters | None = None, **weights: float) -> list[str]:
    ranked = Retriever(index, RetrievalSettings(**weights)).rank_chunks(query, filters)
    seen: list[str] = []
    for r in ranked:
        if r.chunk.article_id not in seen:
            seen.append(r.chunk.article_id)
    return seen


def test_recency_prior_favours_the_latest_news_only_when_a_date_is_set(index):
    import datetime as dt

    q = "What did the harbour council discuss?"
    as_of = Filters(as_of=dt.date(2022, 6, 30))
    with_prior = order(index, q, as_of, recency_weight=2.0)
    assert with_prior.index("new") < with_prior.index("old")
    # Identical texts tie without the prior; with it, the newer one leads by a clear margin.
    ranked = Retriever(index, RetrievalSettings(recency_weight=2.0)).rank_chunks(q, as_of)
    score = {r.chunk.article_id: r.score for r in ranked}
    assert score["new"] - score["old"] > 1.5 / 61
    undated = Retriever(index, RetrievalSettings(recency_weight=2.0)).rank_chunks(q)
    plain = Retriever(index, RetrievalSettings()).rank_chunks(q)
    assert [r.score for r in undated] == [r.score for r in plain]


def test_title_words_lift_the_article_they_name(index):
    q = "lighthouse repairs approved"
    assert order(index, q, title_weight=3.0)[0] == "titled"


def test_article_support_adds_the_scores_of_its_other_chunks(index):
    q = "lighthouse storms repairs ferry"
    plain = Retriever(index, RetrievalSettings()).rank_chunks(q)
    pooled = Retriever(index, RetrievalSettings(article_weight=0.5)).rank_chunks(q)
    base = {r.chunk.id: r.score for r in plain}
    long_chunks = [r for r in pooled if r.chunk.article_id == "long"]
    assert len(long_chunks) > 1
    total = sum(base[r.chunk.id] for r in long_chunks)
    for r in long_chunks:
        assert r.score == pytest.approx(base[r.chunk.id] + 0.5 * (total - base[r.chunk.id]))


@pytest.mark.parametrize(
    "filters",
    [
        {"as_of": "2022-06-30"},  # keeps most articles: over-fetched, then filtered here
        {"until": "2022-05-31"},  # keeps the two older ones
        {"since": "2022-06-01", "sources": ("nowhere",)},  # keeps none: Chroma filters
    ],
)
def test_dense_search_with_filters_returns_the_nearest_chunks_that_pass(index, filters):
    import datetime as dt

    import numpy as np

    from index.store.records import allowed_ids

    typed = Filters(
        **{k: dt.date.fromisoformat(v) if k != "sources" else v for k, v in filters.items()}
    )
    q = "lighthouse repairs"
    vector = index.embed([q])[0]
    got = [(h.chunk.id, round(h.score, 4)) for h in index.dense_search(vector, 3, typed)]
    passing = allowed_ids(index.records().values(), typed)
    stored = index.raw_collections()["chunks"].get(include=["embeddings", "metadatas"])
    scored = sorted(
        (-float(np.dot(vector, e) / np.linalg.norm(e)), cid)
        for cid, e, m in zip(stored["ids"], stored["embeddings"], stored["metadatas"], strict=True)
        if m["article_id"] in passing
    )
    best = [(cid, round(-minus, 4)) for minus, cid in scored]
    assert [score for _, score in got] == [score for _, score in best[:3]]
    assert set(got) <= set(best)  # identical texts tie: either may come first
    assert all(h.chunk.published <= "2022-06-30" for h in index.dense_search(vector, 3, typed))


def test_time_words_scale_the_recency_prior(index):
    import datetime as dt

    as_of = Filters(as_of=dt.date(2022, 6, 30))

    def prior(question: str, **factors: float) -> float:
        """How far the recency prior puts the newer of two identical texts ahead."""
        leads = []
        for weight in (0.0, 1.0):
            settings = RetrievalSettings(recency_weight=weight, **factors)
            ranked = Retriever(index, settings).rank_chunks(question, as_of)
            score = {r.chunk.article_id: r.score for r in ranked}
            leads.append(score["new"] - score["old"])
        return leads[1] - leads[0]

    now, past = "What did the harbour council discuss this week?", "What did it ever discuss?"
    plain = "What did the harbour council discuss?"
    assert prior(now) > 0
    assert prior(now, recency_now_factor=3.0) == pytest.approx(3 * prior(now))
    assert prior(past, recency_past_factor=0.0) == pytest.approx(0.0)
    assert prior(plain, recency_now_factor=3.0, recency_past_factor=0.0) == pytest.approx(
        prior(plain)
    )

"""Reading a whole store back to check it: every live chunk once, every article whole.

Used by `ArticleIndex.check` (and so by `assistant status --check`, the tests and the crash
benchmark). It reads every chunk's metadata, so it is a tool for after the fact, not for a
hot path. Not here: repairing anything (the next sync does that).
"""

from __future__ import annotations

from collections import Counter

from index.store.chroma import ChromaStore
from index.store.keyword import KeywordIndex
from index.types import StoreCheck


def check_store(store: ChromaStore, keyword: KeywordIndex) -> StoreCheck:
    """The facts of `store` and of the BM25 index that mirrors it."""
    if store.articles is None:
        return StoreCheck(articles=0, chunks=0, keyword_matches_vectors=len(keyword) == 0)
    chunks = store.chunks.get(include=["metadatas"])
    articles = store.articles.get(include=["metadatas"])
    live = {m["article_id"]: m for m in articles["metadatas"]}
    per_article: Counter[str] = Counter()
    positions: Counter[tuple[str, int]] = Counter()
    orphans, live_chunks = [], set()
    for cid, meta in zip(chunks["ids"], chunks["metadatas"], strict=True):
        article = live.get(str(meta["article_id"]))
        if article is None or article["content_hash"] != meta["content_hash"]:
            orphans.append(cid)
            continue
        live_chunks.add(cid)
        per_article[str(meta["article_id"])] += 1
        positions[(str(meta["article_id"]), int(meta["ordinal"]))] += 1  # type: ignore[arg-type]
    return StoreCheck(
        articles=len(live),
        chunks=len(live_chunks),
        orphans=tuple(orphans),
        pending=tuple(store.journal()),
        missing=tuple(a for a, m in live.items() if per_article[a] != m["chunks"]),
        duplicates=tuple(f"{a}#{n}" for (a, n), count in positions.items() if count > 1),
        keyword_matches_vectors=keyword.chunk_ids() == live_chunks,
    )

"""The read side of `ArticleIndex`: statistics, stored articles and chunks, dense and BM25 search.

Every read sees only chunks whose article record carries the same content hash, so a write in
progress (or cut short by a crash) never shows a stale, half-written or duplicated passage; a
failure of the store under a read becomes a `StoreError` that says what to check. Not here:
opening the store or writing (`index.article_index`, `index.writer`).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from index.embed.encoder import Embedder
from index.errors import NewsAssistantError, StoreError
from index.settings import IndexSettings
from index.store.check import check_store
from index.store.chroma import ChromaStore
from index.store.keyword import KeywordIndex
from index.store.records import (
    ArticleRecord,
    allowed_ids,
    article_key,
    chroma_where,
    chunk_from_metadata,
    record_from_metadata,
)
from index.stories import unit
from index.types import Article, Chunk, Filters, Hit, IndexStats, StoreCheck

if TYPE_CHECKING:
    from index.writer import Writer

_PAGE = 10_000  # records per read: fewer, larger reads are faster in Chroma
_PREFILTER_SHARE = 0.25  # filters keeping at least this share of articles: over-fetch
_MAX_OVERFETCH = 1000
T = TypeVar("T")


def reads(method: Callable[..., T]) -> Callable[..., T]:
    """Turn a failure of the store under a read into a StoreError that says what to check."""

    @functools.wraps(method)
    def wrapper(self: ArticleReads, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except NewsAssistantError:
            raise
        except Exception as exc:
            raise StoreError(
                f"reading the store at {self._store.location} failed ({reason(exc)}); if its "
                "disk is full, free some space; if it is damaged, index again with --rebuild "
                "into a new --store folder"
            ) from exc

    return wrapper


class ArticleReads:
    """The read side of an `ArticleIndex`: the state it reads (article records, the BM25 index)
    kept in step with the store by `refresh`, and the queries over it."""

    def __init__(
        self, store: ChromaStore, folder: Path, settings: IndexSettings, embedder: Embedder
    ) -> None:
        self._store = store
        self.folder = folder
        self.settings = settings
        self.embedder = embedder
        self._records_loaded: dict[str, ArticleRecord] = {}
        self._live: Writer | None = None  # the writer of a write in progress, with the records
        self._busy = False  # this process is writing: what it reads is kept live, not reloaded
        self._keyword = KeywordIndex()
        self._generation = -2
        self._allowed_last: tuple[Any, set[str]] | None = None
        self._article_cache: Callable[[str], Article | None] = lru_cache(maxsize=256)(
            self._load_article
        )

    @property
    def _records(self) -> dict[str, ArticleRecord]:
        """The stored articles' records by id: the live writer's table while one writes."""
        return self._live.records if self._live is not None else self._records_loaded

    # -- keeping caches in step -------------------------------------------------------------
    @reads
    def refresh(self) -> bool:
        """Reload article records and the keyword index if the store changed; True if it did."""
        if self._busy:
            return False  # this process is writing: its records and keyword index are live
        generation = self._store.generation()
        if generation == self._generation:
            return False
        self._store.refresh()
        self._records_loaded = self._load_records()
        self._keyword = self._load_keyword(generation)
        self._article_cache.cache_clear()  # type: ignore[attr-defined]
        self._generation = generation
        return True

    def _load_records(self) -> dict[str, ArticleRecord]:
        if self._store.articles is None:
            return {}
        records: dict[str, ArticleRecord] = {}
        offset = 0
        while True:
            got = self._store.articles.get(include=["metadatas"], limit=_PAGE, offset=offset)
            for meta in got["metadatas"]:
                record = record_from_metadata(meta)
                records[record.id] = record
            if len(got["ids"]) < _PAGE:
                return records
            offset += _PAGE

    def _keyword_path(self) -> Path:
        return self.folder / f"keyword-{self.settings.collection}.pkl"

    def _load_keyword(self, generation: int) -> KeywordIndex:
        """The saved BM25 index, brought up to date with the article records."""
        keyword = KeywordIndex.load(self._keyword_path()) or KeywordIndex()
        gone = [a for a in keyword.hashes if a not in self._records]
        # hash by hash: a writer killed after switching records leaves the generation as it was
        stale = [r.id for r in self._records.values() if keyword.hashes.get(r.id) != r.content_hash]
        if keyword.generation == generation and not gone and not stale:
            return keyword
        for article_id in gone:
            keyword.remove_article(article_id)
        for start in range(0, len(stale), 200):
            part = stale[start : start + 200]
            got = self._store.chunks.get(
                where={"article_id": {"$in": part}}, include=["documents", "metadatas"]
            )
            by_article: dict[str, list[tuple[int, str, str]]] = {a: [] for a in part}
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                record = self._records[meta["article_id"]]
                if meta.get("content_hash") == record.content_hash:
                    by_article[record.id].append((int(meta["ordinal"]), cid, doc))
            for article_id, rows in by_article.items():
                rows.sort()
                keyword.set_article(
                    article_id,
                    self._records[article_id].content_hash,
                    [(cid, doc) for _, cid, doc in rows],
                )
        keyword.generation = generation
        self._save_keyword(keyword)
        return keyword

    def _save_keyword(self, keyword: KeywordIndex) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            keyword.save(self._keyword_path())
        except OSError:
            pass  # a cache: a read-only folder only costs a rebuild on the next start

    def stats(self) -> IndexStats:
        self.refresh()
        manifest = self._store.manifest
        return IndexStats(
            articles=len(self._records),
            chunks=sum(r.chunks for r in list(self._records.values())),
            embedding_model=self.settings.embedding_model,
            store=self._store.location,
            last_sync=manifest.last_sync if manifest else "",
            chunk_tokens=self.settings.chunk_tokens,
            chunk_overlap=self.settings.chunk_overlap,
            sources=self.sources(),
        )

    def sources(self) -> tuple[str, ...]:
        return tuple(sorted({r.source for r in list(self._records.values()) if r.source}))

    def records(self) -> dict[str, ArticleRecord]:
        """Every stored article's record (no text), by id."""
        return dict(self._records)

    def article(self, article_id: str) -> Article | None:
        """The stored article, with the exact text that chunk and citation offsets refer to."""
        return self._article_cache(article_id)

    @reads
    def _load_article(self, article_id: str) -> Article | None:
        record = self._records.get(article_id)
        if record is None or self._store.articles is None:
            return None
        got = self._store.articles.get(ids=[article_id], include=["documents"])
        if not got["ids"]:
            return None
        return article_from(record, got["documents"][0])

    @reads
    def chunks(self, article_id: str) -> list[Chunk]:
        """The live chunks of one article, in order."""
        record = self._records.get(article_id)
        if record is None:
            return []
        got = self._store.chunks.get(
            where={"article_id": article_id}, include=["documents", "metadatas"]
        )
        out = [
            chunk_from_metadata(i, d, m)
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
            if m.get("content_hash") == record.content_hash
        ]
        return sorted(out, key=lambda c: c.ordinal)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.embed(texts)

    @reads
    def _chunk_means(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Each article's mean live chunk vector, unit length, read from the store (what
        stories are grouped by; `ArticleIndex.article_vectors` keeps them)."""
        self.refresh()
        sums: dict[str, np.ndarray] = {}
        for start in range(0, len(ids), 500):
            among = {"article_id": {"$in": list(ids[start : start + 500])}}
            got = self._store.chunks.get(where=among, include=["embeddings", "metadatas"])
            for vector, meta in zip(got["embeddings"], got["metadatas"], strict=True):
                record = self._records.get(str(meta.get("article_id")))
                if record is None or meta.get("content_hash") != record.content_hash:
                    continue  # a chunk of no committed version
                v = np.asarray(vector, dtype=np.float32)
                sums[record.id] = sums[record.id] + v if record.id in sums else v
        return {a: unit(total) for a, total in sums.items()}

    @reads
    def dense_search(
        self, query: str | np.ndarray, k: int, filters: Filters | None = None
    ) -> list[Hit]:
        """Chunks nearest to the query by cosine similarity (score: the cosine).

        Chunks are written through llama-index's ChromaVectorStore; reads query the same
        collection directly, which keeps llama-index out of a cold `assistant ask`.
        """
        self.refresh()
        if not self._records:
            return []
        vector = self.embed([query])[0] if isinstance(query, str) else query
        if filters is None or filters.empty:
            return self._nearest(vector, k)
        # Chroma's filtered search scans the metadata and is ~10x slower than its plain nearest
        # neighbours; when the filters keep most articles, over-fetch unfiltered and filter here.
        allowed = self._allowed(filters)
        share = len(allowed) / len(self._records)
        if share >= _PREFILTER_SHARE:
            depth = min(_MAX_OVERFETCH, int(2 * k / share) + 1)
            hits = self._nearest(vector, k, depth=depth, keys={article_key(a) for a in allowed})
            if len(hits) >= k:
                return hits
        return self._nearest(vector, k, where=chroma_where(filters))

    def _allowed(self, filters: Filters) -> set[str]:
        """Ids of the articles passing the filters; the last answer is reused while the store
        is unchanged (a hybrid search asks twice)."""
        key = (filters, self._generation, len(self._records))
        if self._busy or self._allowed_last is None or self._allowed_last[0] != key:
            self._allowed_last = (key, allowed_ids(list(self._records.values()), filters))
        return self._allowed_last[1]

    def _nearest(
        self,
        vector: np.ndarray,
        k: int,
        where: dict[str, Any] | None = None,
        depth: int = 0,
        keys: set[str] | None = None,
    ) -> list[Hit]:
        """The `k` nearest live chunks, of articles whose `article_key` is in `keys` if given.

        Neighbours are found with distances only (`depth` of them), then the text and metadata
        of the `k` kept are read by id: reading them for every neighbour costs ten times more.
        """
        result = self._store.chunks.query(
            query_embeddings=[vector.tolist()],
            n_results=max(k, depth),
            where=where,
            include=["distances"],
        )
        found = zip(result["ids"][0], result["distances"][0], strict=True)
        if keys is not None:
            found = (f for f in found if f[0].partition("-")[0] in keys)  # type: ignore[assignment]
        return self._hits([(cid, 1.0 - float(d)) for cid, d in itertools.islice(found, k)])

    def _hits(self, scored: list[tuple[str, float]]) -> list[Hit]:
        """Hits for `(chunk id, score)` pairs, in order, read by id; chunks of articles not
        (or no longer) committed with that content are left out."""
        if not scored:
            return []
        got = self._store.chunks.get(
            ids=[cid for cid, _ in scored], include=["documents", "metadatas"]
        )
        by_id = dict(
            zip(got["ids"], zip(got["documents"], got["metadatas"], strict=True), strict=True)
        )
        hits = []
        for cid, score in scored:
            if cid not in by_id:
                continue
            doc, meta = by_id[cid]
            record = self._records.get(str(meta.get("article_id")))
            if record is None or record.content_hash != meta.get("content_hash"):
                continue  # written by a sync not yet committed, or replaced since
            hits.append(Hit(chunk_from_metadata(cid, doc, meta), score))
        return hits

    @reads
    def keyword_search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        """Chunks ranked by BM25 over their text."""
        self.refresh()
        allowed = None
        if filters is not None and not filters.empty:
            allowed = self._allowed(filters)
        rows = self._keyword.search(query, k, allowed)
        return self._hits([(cid, score) for cid, _, score in rows])

    @reads
    def check(self) -> StoreCheck:
        """Read the whole store back and report what holds for readers (see `StoreCheck`)."""
        self.refresh()
        return check_store(self._store, self._keyword)

    def raw_collections(self) -> dict[str, Any]:
        """The live Chroma collections (for consistency checks in tests and tools)."""
        return {
            "chunks": self._store.chunks,
            "articles": self._store.articles,
            "meta": self._store.meta,
        }


def article_from(record: ArticleRecord, text: str) -> Article:
    return Article(record.info, text)


def reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]

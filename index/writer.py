"""`Writer`: writes articles into one set of collections, crash-safely, and owns their records.

Write order per batch of articles, chosen so that a process killed at any instant leaves a store
that readers see as consistent and the next writer completes:

    1. journal the article ids as pending           (meta collection)
    2. upsert the new chunks (ids carry the hash)    (readers ignore them: hash not yet recorded)
    3. upsert the article records with the new hash  (the switch: readers now see the new chunks)
    4. delete the article's chunks of other hashes   (readers already ignore them)
    5. clear the journal entries, advance the generation

`recover` undoes whatever a killed writer left between 1 and 5. A writer is handed the table of
article records when it is made and is the only one to change it until its owner takes it back
(`ArticleIndex` reads the live writer's table while a write runs).

Not here: what to write (the sync driver, `index.sync`), chunk boundaries (`index.chunk`),
reading (`index.store.reads`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index.chunk import chunk_spans, chunk_spans_counted
from index.embed.encoder import Embedder
from index.store.chroma import ChromaStore
from index.store.keyword import KeywordIndex
from index.store.records import (
    ArticleRecord,
    article_metadata,
    chunk_id,
    chunk_record,
    record_from_metadata,
)
from index.stories import unit
from index.types import Article, Chunk, SyncProgress

Progress = Callable[[SyncProgress], None]
EMBED_STEP = 32  # chunks embedded between two progress reports, about


Inputs = list[Any]  # each chunk's model input ids when its article's tokens give them, else None


@dataclass
class _Batch:
    articles: list[Article] = field(default_factory=list)
    chunks: list[list[Chunk]] = field(default_factory=list)
    inputs: list[Inputs] = field(default_factory=list)
    updated: set[str] = field(default_factory=set)

    @property
    def size(self) -> int:
        return sum(len(c) for c in self.chunks)


def make_chunks(
    article: Article, embedder: Embedder, max_tokens: int, overlap: int
) -> tuple[list[Chunk], Inputs]:
    """The article's chunks, and each one's model input ids where the article's own tokens give
    them (tokenised once for counting and embedding alike, see `index.embed.tokens`)."""
    tokens = embedder.tokens(article.text)
    if tokens is None:
        spans = chunk_spans(article.text, embedder.count_tokens, max_tokens, overlap)
        inputs: Inputs = [None] * len(spans)
    else:
        spans = chunk_spans_counted(article.text, tokens.count, max_tokens, overlap)
        inputs = [tokens.model_ids(s, e) for s, e in spans]
    chunks = [
        Chunk(
            id=chunk_id(article.id, article.content_hash, i),
            ordinal=i,
            start=s,
            end=e,
            text=article.text[s:e],
            info=article.info,
        )
        for i, (s, e) in enumerate(spans)
    ]
    return chunks, inputs


class Writer:
    """Writes batches of articles into one set of collections, crash-safely; `records` (the
    table of the stored articles, by id) is the writer's to change while it writes."""

    def __init__(
        self,
        store: ChromaStore,
        embedder: Embedder,
        keyword: KeywordIndex,
        records: dict[str, ArticleRecord],
        max_tokens: int,
        overlap: int,
        batch_chunks: int = 256,
        space_check: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.keyword = keyword
        self.records = records
        self.max_tokens = max_tokens
        self.overlap = overlap
        self.batch_chunks = batch_chunks
        self.batch = _Batch()
        self.chunks_written = 0
        self.embed_seconds = 0.0
        self.space_check = space_check
        self.progress: Progress | None = None
        self.expected = 0  # chunks this sync will write, for progress reports
        self.embedded = self.written_before = 0
        self.means: dict[str, np.ndarray] = {}  # each written article's mean chunk vector, unit
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None

    def expect(self, chunks: int, progress: Progress | None) -> None:
        """Report embedding and writing to `progress`, out of `chunks` chunks in all (0: not
        known yet, nothing reported until `total` gives it)."""
        self.progress, self.expected = progress, chunks
        self.embedded, self.written_before = 0, self.chunks_written

    def total(self, chunks: int) -> None:
        """The chunks this sync writes in all, known once every article is chunked."""
        self.expected = chunks
        self._report("embedding", self.embedded)

    def _report(self, phase: str, done: int) -> None:
        if self.progress is not None and self.expected:
            self.progress(SyncProgress(phase, done, self.expected, "chunks"))  # type: ignore[arg-type]

    def add(self, article: Article, planned: tuple[list[Chunk], Inputs] | None = None) -> None:
        """Queue an article with its chunks and their inputs (`make_chunks`; made if not given)."""
        chunks, inputs = planned or make_chunks(
            article, self.embedder, self.max_tokens, self.overlap
        )
        if article.id in self.records:
            self.batch.updated.add(article.id)
        self.batch.articles.append(article)
        self.batch.chunks.append(chunks)
        self.batch.inputs.append(inputs)
        if self.batch.size >= self.batch_chunks:
            self.flush(wait=False)

    def flush(self, wait: bool = True) -> None:
        """Embed the batch, then write it in the writer's thread while the next batch embeds.

        Batches are written one at a time, in order; `wait` (the default) returns only once
        every batch is written, raising what a write raised.
        """
        batch, self.batch = self.batch, _Batch()
        if batch.articles:
            flat = [c for chunks in batch.chunks for c in chunks]
            vectors = self._embed([c.text for c in flat], [i for ids in batch.inputs for i in ids])
            self.drain()  # the batch before: written, or its error raised, before this one
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="index-writer")
            self._pending = self._pool.submit(self._write, batch, flat, vectors)
        if wait:
            self.drain()

    def drain(self) -> None:
        """Wait for the batch being written; raise what its write raised."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Finish writing and end the writer's thread."""
        try:
            self.drain()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def remove(self, ids: Iterable[str]) -> int:
        """Delete articles and all their chunks; returns how many were stored."""
        present = [i for i in ids if i in self.records]
        store = self.store
        for start in range(0, len(present), 500):
            part = present[start : start + 500]
            store.journal_add(part)
            store.articles.delete(ids=part)
            store.chunks.delete(where={"article_id": {"$in": part}})
            store.journal_clear(part)
            for article_id in part:
                self.records.pop(article_id, None)
                self.keyword.remove_article(article_id)
        if present:
            store.bump()
            self.keyword.generation = store.manifest.generation if store.manifest else -1
        return len(present)

    def _write(self, batch: _Batch, flat: list[Chunk], vectors: Any) -> None:
        ids = [a.id for a in batch.articles]
        if self.space_check is not None:
            self.space_check()
        self._report("writing", self.chunks_written - self.written_before)
        self.store.journal_add(ids)
        _add_chunks(self.store.chunks, flat, vectors)
        self.store.articles.upsert(
            ids=ids,
            embeddings=[[1.0]] * len(ids),
            documents=[a.text for a in batch.articles],
            metadatas=[
                article_metadata(a, len(c))
                for a, c in zip(batch.articles, batch.chunks, strict=True)
            ],
        )
        if batch.updated:
            keep = {c.id for c in flat}
            old = self.store.chunks.get(
                where={"article_id": {"$in": sorted(batch.updated)}}, include=[]
            )
            stale = [i for i in old["ids"] if i not in keep]
            if stale:
                self.store.chunks.delete(ids=stale)
        self.store.journal_clear(ids)
        self._keep_means(batch, vectors)
        for article, chunks in zip(batch.articles, batch.chunks, strict=True):
            meta = article_metadata(article, len(chunks))
            self.records[article.id] = record_from_metadata(meta)
            self.keyword.set_article(
                article.id, article.content_hash, [(c.id, c.text) for c in chunks]
            )
        self.chunks_written += len(flat)
        self.store.bump()
        self.keyword.generation = self.store.manifest.generation if self.store.manifest else -1
        self._report("writing", self.chunks_written - self.written_before)

    def _keep_means(self, batch: _Batch, vectors: Any) -> None:
        """Each article's mean chunk vector, unit length (what stories are grouped by)."""
        matrix, at = np.asarray(vectors, dtype=np.float32), 0
        for article, chunks in zip(batch.articles, batch.chunks, strict=True):
            if chunks:
                self.means[article.id] = unit(matrix[at : at + len(chunks)].mean(axis=0))
            at += len(chunks)

    def _embed(self, texts: list[str], inputs: Inputs) -> Any:
        """The texts' vectors, in one call for the whole batch whether progress is shown or not
        (the int8 model quantises per model batch, and the batches are made within a call, so
        splitting the call for a progress bar changed the vectors); progress is reported every
        `EMBED_STEP` chunks or so as the model's batches finish."""
        began = time.perf_counter()
        base = self.embedded

        def done(n: int) -> None:
            if base + n - self.embedded >= EMBED_STEP:
                self.embedded = base + n
                self._report("embedding", self.embedded)

        self._report("embedding", base)
        vectors = self.embedder.embed(texts, done if self.progress else None, inputs)
        self.embedded = base + len(texts)
        self._report("embedding", self.embedded)
        self.embed_seconds += time.perf_counter() - began
        return vectors


def _add_chunks(collection: Any, chunks: list[Chunk], vectors: Any) -> None:
    """Add chunk records, laid out as llama-index's `ChromaVectorStore.add` lays out TextNodes
    (`chunk_record`), without building the nodes or loading llama-index."""
    collection.add(
        ids=[c.id for c in chunks],
        embeddings=np.asarray(vectors, dtype=np.float32),
        documents=[c.text for c in chunks],
        metadatas=[chunk_record(c) for c in chunks],
    )


def recover(store: ChromaStore) -> int:
    """Finish what a killed writer left: drop chunks whose hash is not their article's record."""
    pending = store.journal()
    for article_id in pending:
        got = store.articles.get(ids=[article_id], include=["metadatas"])
        live = got["metadatas"][0]["content_hash"] if got["ids"] else None
        chunks = store.chunks.get(where={"article_id": article_id}, include=["metadatas"])
        stale = [
            i
            for i, m in zip(chunks["ids"], chunks["metadatas"], strict=True)
            if m.get("content_hash") != live
        ]
        if stale:
            store.chunks.delete(ids=stale)
    store.journal_clear(pending)
    return len(pending)

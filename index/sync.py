"""Bring the store in line with folders of articles: add new, replace changed, skip unchanged.

Write order per batch of articles, chosen so that a process killed at any instant leaves a store
that readers see as consistent and the next writer completes:

    1. journal the article ids as pending           (meta collection)
    2. upsert the new chunks (ids carry the hash)    (readers ignore them: hash not yet recorded)
    3. upsert the article records with the new hash  (the switch: readers now see the new chunks)
    4. delete the article's chunks of other hashes   (readers already ignore them)
    5. clear the journal entries, advance the generation

`recover` undoes whatever a killed writer left between 1 and 5.

Not here: parsing (`index.sources.files`), chunk boundaries (`index.chunk`), reading (`index.article_index`).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.chunk import chunk_spans, chunk_spans_counted
from index.copies.exact import split_copies
from index.embed.encoder import Embedder
from index.sources.filecache import FileCache, signature
from index.sources.files import discover, parse_file
from index.store.chroma import ChromaStore
from index.store.keyword import KeywordIndex
from index.store.records import (
    ArticleRecord,
    article_metadata,
    chunk_id,
    chunk_record,
    record_from_metadata,
)
from index.types import Article, Chunk, Duplicate, FileError, SyncProgress, SyncReport

if TYPE_CHECKING:
    from index.settings import FetchSettings
    from index.sources.fetch_cache import FetchCache

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
    """Writes batches of articles into one set of collections, crash-safely."""

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


def remove_articles(
    store: ChromaStore, keyword: KeywordIndex, records: dict[str, ArticleRecord], ids: Iterable[str]
) -> int:
    """Delete articles and all their chunks; returns how many were stored."""
    present = [i for i in ids if i in records]
    for start in range(0, len(present), 500):
        part = present[start : start + 500]
        store.journal_add(part)
        store.articles.delete(ids=part)
        store.chunks.delete(where={"article_id": {"$in": part}})
        store.journal_clear(part)
        for article_id in part:
            records.pop(article_id, None)
            keyword.remove_article(article_id)
    if present:
        store.bump()
        keyword.generation = store.manifest.generation if store.manifest else -1
    return len(present)


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


def sync_paths(
    writer: Writer,
    paths: list[Path],
    max_bytes: int,
    prune: bool,
    progress: Progress | None = None,
    cache: FileCache | None = None,
    stop: threading.Event | None = None,
    urls: Sequence[str] = (),
    fetching: tuple[FetchSettings, FetchCache] | None = None,
) -> SyncReport:
    """Index the files under `paths` through `writer`; the heart of `ArticleIndex.sync`.

    Files are parsed first (fast), so the embedding phase knows its total for the progress bar;
    only new and changed articles are held in memory. With a `cache`, files unchanged since the
    last sync (by `stat`, see `index.sources.filecache`) are not read again. A set `stop` event ends
    the sync between two batches: what is written stays, nothing is pruned, and the file cache
    is left as it was, so the next sync reads and completes the rest. `urls` (feeds and article
    pages) are read after the files with `fetching`'s settings and conditional-request cache,
    which is saved once their articles are stored.
    """
    began = time.perf_counter()
    files, errors = discover(paths)
    report = progress or (lambda update: None)
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    seen: dict[str, str] = {}
    failed_paths: set[str] = set()
    todo: list[Article] = []
    clean_files: list[tuple[Path, Path, Any, dict[str, str]]] = []
    for n, (root, path) in enumerate(files):
        report(SyncProgress("reading", n, len(files), "files"))
        sig = signature(path)
        known = None if cache is None else cache.unchanged(root, path, sig, writer.records)
        if known is not None and not seen.keys() & known.keys():
            seen.update(dict.fromkeys(known, str(path)))
            counts["unchanged"] += len(known)
            continue
        clean: dict[str, str] | None = {}  # the file's articles, None once it had an error
        for item in parse_file(path, root, max_bytes):
            if isinstance(item, FileError):
                errors.append(item)
                failed_paths.add(str(path.resolve()))
                clean = None
                continue
            if item.id in seen:
                errors.append(
                    FileError(
                        str(path),
                        f"duplicate article id {item.id!r}, first seen in {seen[item.id]}; "
                        "give each article its own id",
                    )
                )
                clean = None
                continue
            seen[item.id] = str(path)
            if clean is not None:
                clean[item.id] = item.content_hash
            record = writer.records.get(item.id)
            if record is not None and record.content_hash == item.content_hash:
                counts["unchanged"] += 1
                continue
            todo.append(item)
        if cache is not None and clean and sig is not None:
            clean_files.append((root, path, sig, clean))
    report(SyncProgress("reading", len(files), len(files), "files"))
    if urls and fetching is not None:
        todo += _read_urls(urls, fetching, writer, seen, counts, errors, report)
    gone = _gone(writer, paths, set(seen), failed_paths) if prune else []
    todo, duplicates = _without_copies(writer, todo, set(gone))
    if cache is not None:  # a file that gave a copy is read again: the report names it each time
        copied = {d.where for d in duplicates}
        for root, path, sig, clean in clean_files:
            if str(path.resolve()) not in copied:
                cache.remember(root, path, sig, clean)
    writer.expect(0, progress)  # the total follows once every article is chunked
    planned = _Planner(writer, todo)
    stopped = False
    try:  # batches are written in the writer's thread while the next one embeds
        for article, chunks_and_inputs in planned:
            if stop is not None and stop.is_set() and writer.batch.size == 0:
                stopped = True  # between two batches
                break
            counts["updated" if article.id in writer.records else "added"] += 1
            writer.add(article, chunks_and_inputs)
        writer.flush()
    finally:
        planned.close()
        writer.close()  # never return (and release the lock) with a batch half-written
    writer.expect(0, None)  # a rebuild's writer is used again: no stale reports
    if stopped:
        gone = []
    if gone:
        report(SyncProgress("removing", 0, len(gone), "articles"))
    removed = remove_articles(writer.store, writer.keyword, writer.records, gone)
    if cache is not None and not stopped:
        synced = [root for root, _ in files] + [p for p in paths if p.is_dir()]
        cache.save(synced)  # only now: every article it lists is stored
    if fetching is not None and urls and not stopped:
        fetching[1].save()
    return SyncReport(
        added=counts["added"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        removed=removed,
        failed=len(errors),
        chunks_added=writer.chunks_written,
        seconds=time.perf_counter() - began,
        embed_seconds=writer.embed_seconds,
        errors=tuple(errors),
        duplicates=tuple(duplicates),
        stopped=stopped,
    )


class _Planner:
    """Chunks the articles to write in a thread of its own, ahead of the embedding: the first
    batch embeds as soon as it is chunked, instead of after the last article is, and the
    writer hears the total for its progress reports once the last article is chunked.

    Iterating gives (article, (chunks, inputs)) in order; `close` stops the chunking early
    (the taker stopped: a stopped sync, an error).
    """

    def __init__(self, writer: Writer, todo: list[Article]) -> None:
        self._writer, self._todo = writer, todo
        self._queue: queue.Queue[Any] = queue.Queue()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._plan, name="index-chunker", daemon=True)
        self._thread.start()

    def _plan(self) -> None:
        writer, total = self._writer, 0
        try:
            for article in self._todo:
                if self._done.is_set():
                    break
                planned = make_chunks(article, writer.embedder, writer.max_tokens, writer.overlap)
                total += len(planned[0])
                self._queue.put((article, planned))
            else:
                writer.total(total)
            self._queue.put(None)
        except BaseException as exc:  # raised again where the articles are taken
            self._queue.put(exc)

    def __iter__(self) -> Iterator[tuple[Article, tuple[list[Chunk], Inputs]]]:
        while (item := self._queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self._done.set()
        self._thread.join()


def _read_urls(
    urls: Sequence[str],
    fetching: tuple[FetchSettings, FetchCache],
    writer: Writer,
    seen: dict[str, str],
    counts: dict[str, int],
    errors: list[FileError],
    report: Progress,
) -> list[Article]:
    """The new and changed articles of feed and page URLs; unchanged ones are counted and
    failures become per-URL errors. A URL answered 304 whose articles the store lacks (a store
    rebuilt or emptied since) is read again in full."""
    from index.sources.web_sources import (  # the HTTP stack, only when reading URLs
        Unchanged,
        read_urls,
    )

    settings, cache = fetching
    todo: list[Article] = []
    again: list[str] = []
    read = 0
    for pass_urls, conditional in ((urls, True), (again, False)):
        for item in read_urls(pass_urls, settings, cache, conditional=conditional):
            read += 1
            report(SyncProgress("reading", read, 0, "pages"))
            if isinstance(item, FileError):
                errors.append(item)
            elif isinstance(item, Unchanged):
                stored = [(i, h) for i, h in item.articles if i not in seen]
                if any(writer.records.get(i) is None for i, _ in stored) and conditional:
                    again.append(item.url)
                    continue
                for article_id, content in stored:
                    seen[article_id] = item.url
                    record = writer.records.get(article_id)
                    counts["unchanged"] += record is not None and record.content_hash == content
            elif item.id not in seen:  # one article reached twice (a file, a feed, a link)
                seen[item.id] = item.url
                record = writer.records.get(item.id)
                if record is not None and record.content_hash == item.content_hash:
                    counts["unchanged"] += 1
                else:
                    todo.append(item)
    return todo


def _without_copies(
    writer: Writer, todo: list[Article], gone: set[str]
) -> tuple[list[Article], list[Duplicate]]:
    """The articles to write, and those whose text another article that stays already has."""
    changing = {a.id for a in todo}
    stays = {
        r.fingerprint: r.id
        for r in writer.records.values()
        if r.fingerprint and r.id not in gone and r.id not in changing
    }
    kept: list[Article] = []
    duplicates: list[Duplicate] = []
    for item in split_copies(todo, stays):
        if isinstance(item, Duplicate):
            duplicates.append(item)
        else:
            kept.append(item)
    return kept, duplicates


def _gone(writer: Writer, paths: list[Path], seen: set[str], failed_paths: set[str]) -> list[str]:
    """The articles that came from under `paths` and are no longer there (for pruning).

    Articles of a file that failed to parse this time are kept: nothing stored is lost to a
    file that is temporarily broken.
    """
    roots = [p.resolve() for p in paths]
    gone = []
    for record in writer.records.values():
        if record.id in seen or not record.path or record.path in failed_paths:
            continue
        src = Path(record.path)
        if any(src == r or r in src.parents for r in roots):
            gone.append(record.id)
    return gone

"""Bring the store in line with folders of articles: add new, replace changed, skip unchanged.

The sync driver: reads what the sources hold, tells new and changed articles from unchanged ones
and copies, chunks them ahead of the embedding, and hands them to the `Writer`; prunes what is
gone. Not here: parsing (`index.sources`), writing crash-safely (`index.writer`), reading
(`index.store.reads`).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from index.copies.exact import split_copies
from index.sources.source import Reading, Source, Unchanged
from index.types import Article, Chunk, Duplicate, FileError, SyncProgress, SyncReport
from index.writer import Inputs, Writer, make_chunks

Progress = Callable[[SyncProgress], None]


def sync_sources(
    writer: Writer,
    sources: Sequence[Source],
    prune: bool,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> SyncReport:
    """Write what is new and changed in `sources` through `writer`; the heart of
    `ArticleIndex.sync`.

    Sources are read first (fast), so the embedding phase knows its total for the progress bar;
    only new and changed articles are held in memory. A set `stop` event ends the sync between
    two batches: what is written stays, nothing is pruned, and the sources keep their caches as
    they were, so the next sync reads and completes the rest.
    """
    began = time.perf_counter()
    reading = Reading(writer.records, progress or (lambda update: None))
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    errors: list[FileError] = []
    todo: list[Article] = []
    for source in sources:
        for item in source.read(reading):
            if isinstance(item, FileError):
                errors.append(item)
            elif isinstance(item, Unchanged):
                counts["unchanged"] += sum(reading.stored(i, h) for i, h in item.articles)
            elif reading.stored(item.id, item.content_hash):
                counts["unchanged"] += 1
            else:
                todo.append(item)
    gone = [a for source in sources for a in source.gone(reading)] if prune else []
    todo, duplicates = _without_copies(writer, todo, set(gone))
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
        reading.progress(SyncProgress("removing", 0, len(gone), "articles"))
    removed = writer.remove(gone)
    if not stopped:  # only now: every article the sources' caches list is stored
        copied = {d.where for d in duplicates}
        for source in sources:
            source.commit(copied)
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

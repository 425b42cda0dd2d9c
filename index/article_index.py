"""`ArticleIndex`: open a store and keep it in sync with folders, files, feeds and pages.

The one entry point of the `index` package. It owns the Chroma store, the embedding model, the
BM25 keyword index and the in-memory table of article records. Writes hold the store's write
lock and commit article by article. Not here: the queries and keeping what they read in step
(`index.store.reads`, which this class extends), where articles come from (`index.sources`),
what a sync writes (`index.sync`) and how (`index.writer`).
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np

from index.copies.folding import StoreCopies
from index.embed.encoder import Embedder
from index.errors import NewsAssistantError, SettingsError, StoreError
from index.settings import IndexSettings
from index.sources.folders import Folders
from index.sources.source import open_sources
from index.store.chroma import ChromaStore, make_client
from index.store.keyword import KeywordIndex
from index.store.lock import WriteLock
from index.store.reads import ArticleReads, article_from, reads, reason
from index.stories import StoreStories
from index.sync import Progress, sync_sources
from index.types import Filters, SyncProgress, SyncReport
from index.writer import Writer, recover


class ArticleIndex(ArticleReads):
    """A searchable, always-consistent store of articles and their chunks."""

    def __init__(
        self,
        store: ChromaStore,
        folder: Path,
        settings: IndexSettings,
        embedder: Embedder,
    ) -> None:
        super().__init__(store, folder, settings, embedder)
        self._copies = StoreCopies(folder, settings.collection, settings.copy_threshold)
        self._stories = StoreStories(
            folder, settings.collection, settings.story_cosine, settings.story_days
        )

    # -- opening ----------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        store: Path | str = ".assistant",
        settings: IndexSettings | None = None,
        *,
        chroma_url: str = "",
        embedder: Embedder | None = None,
        create: bool = True,
        rebuild: bool = False,
    ) -> ArticleIndex:
        """Open (or, with `create`, start) the store in folder `store`, or on a Chroma server.

        `settings` default to `IndexSettings()` (environment variables are read by
        `assistant.Settings`, whose `index` section is passed here). Raises `StoreMismatchError`
        when the store was built with other embedding or chunk settings (unless it is opened to
        `rebuild` it), and `StoreError` when it cannot be opened.
        """
        settings = settings or IndexSettings()
        folder = Path(store).expanduser()
        if not create and not chroma_url and not (folder / "chroma").exists():
            raise StoreError(
                f"no store at {folder}: index some articles first with `assistant index PATH`"
            )
        cache_folder = folder if not chroma_url else folder / _server_cache_name(chroma_url)
        chroma = ChromaStore(
            make_client(folder, chroma_url, read_only=not create),
            settings.collection,
            chroma_url or str(folder),
        )
        if not rebuild:
            chroma.check(settings.fingerprint())
        if embedder is None:
            embedder = Embedder(
                settings.embedding_model, settings.embedding_backend, settings.embed_batch_size
            )
        elif (embedder.model_name, embedder.backend) != (
            settings.embedding_model,
            settings.embedding_backend,
        ):
            raise SettingsError(
                f"the embedder runs {embedder.model_name} on {embedder.backend}, the settings say "
                f"{settings.embedding_model} on {settings.embedding_backend}"
            )
        if embedder.cache_dir is None:
            from index.embed.onnx import model_cache

            embedder.cache_dir = model_cache(settings.model_cache, cache_folder / "models")
        index = cls(chroma, cache_folder, settings, embedder)
        index.refresh()
        return index

    @property
    def max_tokens(self) -> int:
        return min(self.settings.chunk_tokens, self.embedder.max_tokens)

    # -- syndicated copies -------------------------------------------------------------------
    @reads
    def copies_of(self, article_id: str) -> tuple[str, ...]:
        """The other stored articles of the article's near-duplicate group (syndicated copies
        of one story), sorted; () when it has none or folding is off (`index.fold_copies`)."""
        if not self.settings.fold_copies:
            return ()
        self._fresh_copies()
        return self._copies.copies(article_id)

    @reads
    def group_of(self, article_id: str) -> str:
        """The id that stands for the article's group of copies (itself when it has none or
        folding is off): results with the same group are one story."""
        if not self.settings.fold_copies:
            return article_id
        self._fresh_copies()
        return self._copies.group(article_id)

    @reads
    def groups_of(self, article_ids: Iterable[str]) -> dict[str, str]:
        """`group_of` for many articles at once (one look at the store, not one each)."""
        ids = set(article_ids)
        if not self.settings.fold_copies:
            return {a: a for a in ids}
        self._fresh_copies()
        return {a: self._copies.group(a) for a in ids}

    def _fresh_copies(self, save: bool = True) -> None:
        self.refresh()
        self._copies.update(self._records, self._texts, self._generation, save=save)

    def _texts(self, ids: Sequence[str]) -> dict[str, str]:
        got = self._store.articles.get(ids=list(ids), include=["documents"])
        return dict(zip(got["ids"], got["documents"], strict=True))

    # -- stories ----------------------------------------------------------------------------
    @reads
    def stories_of(self, article_ids: Iterable[str]) -> dict[str, str]:
        """The story id of each stored article among `article_ids` (`index.stories`)."""
        self._fresh_stories()
        return self._stories.story_of(article_ids)

    @reads
    def story_articles(self, story_id: str) -> tuple[str, ...]:
        """The stored articles of a story, in the order they joined it; () for an unknown id."""
        self._fresh_stories()
        return self._stories.members(story_id)

    @reads
    def article_vectors(
        self, filters: Filters | None = None, ids: Sequence[str] | None = None
    ) -> dict[str, np.ndarray]:
        """Each article's mean live chunk vector, unit length, for the articles that pass
        `filters` (and are among `ids`, when given), as the stories table keeps them."""
        self._fresh_stories()
        wanted: Iterable[str] = self._records if ids is None else ids
        if filters is not None and not filters.empty:
            allowed = self._allowed(filters)
            wanted = [a for a in wanted if a in allowed]
        return self._stories.vectors(wanted)

    def regroup(self) -> tuple[int, int]:
        """Assign every stored article to a story again, oldest first (`index.stories`);
        returns the number of stories before and after."""
        with self._writing():
            self.refresh()
            return self._stories.regroup(
                self._records, self._chunk_means, self.groups_of, self._generation
            )

    def _fresh_stories(self, given: Mapping[str, np.ndarray] | None = None) -> None:
        self.refresh()
        self._stories.update(
            self._records, self._chunk_means, self.groups_of, self._generation, True, given
        )

    # -- writing ----------------------------------------------------------------------------
    def sync(
        self,
        paths: Sequence[Path | str],
        *,
        prune: bool = False,
        rebuild: bool = False,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
    ) -> SyncReport:
        """Index new and changed articles under `paths` (files, folders, and http(s) URLs of
        feeds and article pages); skip unchanged ones without embedding.

        `prune` removes articles whose files under `paths` are gone. `rebuild` re-embeds every
        stored article and the files under `paths` into fresh collections with the current
        settings, switching over only once all is written. A set `stop` event (a watcher asked
        to end) stops a sync between two batches; its report says `stopped`.
        """
        sources = open_sources(paths, self.settings, self.folder)
        roots = [r for s in sources if isinstance(s, Folders) for r in s.roots]
        report = progress or (lambda update: None)
        with self._writing(report):
            if rebuild:
                done = self._rebuild(roots, report)
                report(SyncProgress("done"))
                return done
            if self._store.manifest is None:
                self._store.create(self.settings.fingerprint())
            recovered = recover(self._store)
            self._store.drop_stale_versions()
            with self._handed(self._writer()) as writer:
                synced = sync_sources(writer, sources, prune=prune, progress=report, stop=stop)
            resolved = [str(r.resolve()) for r in roots]
            if recovered or synced.added or synced.updated or synced.removed:
                report(SyncProgress("keyword index"))
                self._finish(writer.keyword, resolved, writer.means)
            else:  # nothing to refresh: skip re-saving the keyword index (a second, whole corpus)
                self._store.bump(sync_done=True, roots=resolved, advance=False)
            report(SyncProgress("done"))
            return synced

    def remove(self, ids: Sequence[str]) -> int:
        """Delete articles (and all their chunks) by id; returns how many were stored."""
        with self._writing():
            self.refresh()
            if self._store.manifest is None:
                return 0
            recover(self._store)
            with self._handed(self._writer()) as writer:
                removed = writer.remove(ids)
            self._finish(self._keyword, [])
            return removed

    @contextmanager
    def _writing(self, progress: Progress | None = None) -> Iterator[None]:
        """Hold the write lock; turn a failed write (disk full, read-only) into a StoreError.

        While another writer holds the store, `progress` hears a "waiting" update naming it.
        Batches already written stay complete and visible; the rest is left for the next run.
        """

        def waiting(holder: str) -> None:
            if progress is not None:
                progress(SyncProgress("waiting", holder=holder))

        try:
            with WriteLock(self.folder, self.settings.lock_timeout, on_wait=waiting):
                self.refresh()
                self._busy = True
                try:
                    yield
                finally:
                    self._busy = False
        except NewsAssistantError:
            raise
        except Exception as exc:
            self._generation = -2  # re-read everything on the next access
            hint = (
                "check free disk space and that the folder is writable"
                if isinstance(exc, OSError) or "disk" in str(exc).lower() or "readonly" in str(exc)
                else "this is unexpected: please report it"
            )
            raise StoreError(
                f"writing to the store at {self._store.location} failed ({reason(exc)}); "
                f"{hint}. Articles indexed before are intact; run the same command again to finish"
            ) from exc

    @contextmanager
    def _handed(self, writer: Writer) -> Iterator[Writer]:
        """Hand the table of records to `writer` while it writes into the live store (reads
        see its table meanwhile: each batch as it is committed), and take it back after."""
        self._live = writer
        try:
            yield writer
        finally:
            self._records_loaded, self._live = writer.records, None

    def _writer(
        self, store: ChromaStore | None = None, keyword: KeywordIndex | None = None
    ) -> Writer:
        """The one place a `Writer` is built: into the live store and its keyword index with a
        copy of the records by default (see `_handed`), or into a staged store with a keyword
        index and records of its own (a rebuild)."""
        return Writer(
            self._store if store is None else store,
            self.embedder,
            self._keyword if keyword is None else keyword,
            dict(self._records) if store is None else {},
            self.max_tokens,
            self.settings.chunk_overlap,
            batch_chunks=max(self.settings.embed_batch_size * 4, 128),
            space_check=self._check_space,
        )

    def _check_space(self) -> None:
        """Refuse to write into the last `min_free_mb` of the disk of an embedded store."""
        if self._store.location != str(self.folder):
            return  # a Chroma server looks after its own disk
        try:
            free = shutil.disk_usage(self.folder).free
        except OSError:
            return
        reserve = self.settings.min_free_mb * 1024 * 1024
        if free < reserve:
            raise StoreError(
                f"the disk holding the store at {self.folder} has only {free / 1048576:.0f} MB "
                f"free, below the reserve of {self.settings.min_free_mb:g} MB kept so the store "
                "can still answer; free some disk space and run the same command again "
                "(setting ASSISTANT_INDEX__MIN_FREE_MB)"
            )

    @property
    def _max_bytes(self) -> int:
        return int(self.settings.max_file_mb * 1024 * 1024)

    def _finish(
        self,
        keyword: KeywordIndex,
        roots: list[str],
        means: Mapping[str, np.ndarray] | None = None,
        regroup: bool = False,
    ) -> None:
        """Publish a write: the manifest, the keyword index, the copies and the stories (brought
        in line with `means`, the vectors the writer made; all grouped again with `regroup`)."""
        self._store.bump(sync_done=True, roots=roots)
        self._generation = self._store.manifest.generation if self._store.manifest else -1
        keyword.generation = self._generation
        self._keyword = keyword
        self._article_cache.cache_clear()  # type: ignore[attr-defined]
        self._save_keyword(keyword)
        if self.settings.fold_copies:  # paid while indexing, not by the next question
            self._copies.update(self._records, self._texts, self._generation, save=True)
        if regroup:
            self._stories.regroup(
                self._records, self._chunk_means, self.groups_of, self._generation, means
            )
        else:
            self._fresh_stories(means)

    def _rebuild(self, roots: list[Path], progress: Progress) -> SyncReport:
        began = time.perf_counter()
        staged = self._store.staged(self.settings.fingerprint())
        old = self._store.articles
        keyword = KeywordIndex()
        writer = self._writer(staged, keyword)
        ids = list(self._records)
        try:
            for start in range(0, len(ids), 200):
                got = old.get(ids=ids[start : start + 200], include=["documents"])
                for aid, text in zip(got["ids"], got["documents"], strict=True):
                    writer.add(article_from(self._records[aid], text))
            writer.flush()
        finally:
            writer.close()  # no batch left half-written
        files = Folders(roots, self._max_bytes, None, self.settings.collection)
        report = sync_sources(writer, [files], prune=False, progress=progress)
        self._store.publish(staged)
        self._records_loaded = writer.records
        progress(SyncProgress("keyword index"))
        self._finish(keyword, [str(r.resolve()) for r in roots], writer.means, regroup=True)
        return replace(
            report,
            updated=len(self._records) - report.added,
            unchanged=0,
            seconds=time.perf_counter() - began,
        )


def _server_cache_name(url: str) -> str:
    return "server-" + hashlib.sha1(url.encode()).hexdigest()[:12]

"""Value objects that cross the index's boundary: articles, chunks, search hits, reports.

All are frozen dataclasses of plain fields (an article's own fields grouped in one `ArticleInfo`),
so they serialise to JSON with `dataclasses.asdict`.
Nothing here knows about Chroma or llama-index.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class ArticleInfo:
    """What is known of an article besides its text, carried unchanged from parsing to citation:
    articles, their stored records, chunks and retrieved passages all hold one.

    `id` is stable across runs: the record's own id, else its url, else its path relative to the
    indexed root (with `#line` for records of a jsonl/json list that have neither).
    `published` is an ISO date (YYYY-MM-DD) or "" when unknown.
    """

    id: str
    title: str = ""
    source: str = ""
    url: str = ""
    published: str = ""
    author: str = ""
    path: str = ""  # the file it came from, absolute
    content_hash: str = ""  # sha256 of the fields that shape chunks and citations


class InfoFields:
    """Read access to the fields of the `ArticleInfo` a value object carries as `info`."""

    info: ArticleInfo

    @property
    def title(self) -> str:
        return self.info.title

    @property
    def source(self) -> str:
        return self.info.source

    @property
    def url(self) -> str:
        return self.info.url

    @property
    def published(self) -> str:
        return self.info.published

    @property
    def content_hash(self) -> str:
        return self.info.content_hash


class ArticleFields(InfoFields):
    """`InfoFields`, and the id, author and path of the article: for whole articles and their
    records (a chunk's own `id` is the chunk's)."""

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def author(self) -> str:
        return self.info.author

    @property
    def path(self) -> str:
        return self.info.path


@dataclass(frozen=True)
class Article(ArticleFields):
    """One news article as parsed from a file, a record or a web page: its info and its text."""

    info: ArticleInfo
    text: str


@dataclass(frozen=True)
class Chunk(InfoFields):
    """A passage of an article; `text == article.text[start:end]` always holds. Its `info`
    is the article's (as stored with the chunk: no author or path)."""

    id: str
    ordinal: int
    start: int
    end: int
    text: str
    info: ArticleInfo

    @property
    def article_id(self) -> str:
        return self.info.id


@dataclass(frozen=True)
class Hit:
    """A chunk found by a search, with the score of the search that found it (higher is better)."""

    chunk: Chunk
    score: float


@dataclass(frozen=True)
class Filters:
    """Restrictions on which articles a search may return.

    `sources`: only these outlets (empty: all). `since`/`until`: published date range, inclusive.
    `as_of`: only articles published on or before this date (the news available on that day).
    Articles without a known date are excluded as soon as any date bound is set.
    """

    sources: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    as_of: dt.date | None = None

    @property
    def latest(self) -> dt.date | None:
        """The effective upper date bound: the earlier of `until` and `as_of`."""
        bounds = [d for d in (self.until, self.as_of) if d is not None]
        return min(bounds) if bounds else None

    @property
    def empty(self) -> bool:
        return not self.sources and self.since is None and self.latest is None


@dataclass(frozen=True)
class FileError:
    """Why one file (or one line of it) was not indexed."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class Duplicate:
    """An article not stored because its text is that of article `of`."""

    article_id: str
    where: str  # the file, URL or upload it came from
    of: str

    def __str__(self) -> str:
        return f"{self.where}: duplicate of {self.of} (the same text); not stored again"


Phase = Literal["waiting", "reading", "embedding", "writing", "removing", "keyword index", "done"]
PHASES: tuple[Phase, ...] = (
    "waiting",
    "reading",
    "embedding",
    "writing",
    "removing",
    "keyword index",
    "done",
)


@dataclass(frozen=True)
class SyncProgress:
    """Where a running sync is: its phase and, within it, `done` of `total` `unit`s.

    The phases come in the order of `PHASES`; embedding and writing alternate batch by batch
    (each counts chunks of the whole sync), and a phase with nothing to do is skipped.
    "waiting" comes only when another writer holds the store; `holder` then names it.
    """

    phase: Phase
    done: int = 0
    total: int = 0
    unit: str = ""
    holder: str = ""

    def describe(self) -> str:
        """One line for a progress bar: 'Embedding chunks 64/210'."""
        if self.phase == "done":
            return "Done"
        if self.phase == "waiting":
            return f"Waiting for {self.holder or 'another writer'} to finish writing the store"
        if self.phase == "keyword index":
            return "Updating the keyword index"
        label = {"reading": "Reading", "embedding": "Embedding", "writing": "Writing"}.get(
            self.phase, "Removing"
        )
        count = f" {self.done}/{self.total}" if self.total else ""
        return f"{label} {self.unit}{count}".rstrip()


@dataclass(frozen=True)
class SyncReport:
    """What one `ArticleIndex.sync` did. `failed` counts files and records that were skipped."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    chunks_added: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0  # the part of `seconds` spent running the embedding model
    errors: tuple[FileError, ...] = field(default_factory=tuple)
    duplicates: tuple[Duplicate, ...] = field(default_factory=tuple)  # not stored: copies
    stopped: bool = False  # asked to stop: some articles were left for the next sync

    def summary(self) -> str:
        copies = f", duplicates {len(self.duplicates)}" if self.duplicates else ""
        return (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"removed {self.removed}, failed {self.failed}{copies}"
        )


@dataclass(frozen=True)
class IndexStats:
    """What `assistant status` shows."""

    articles: int
    chunks: int
    embedding_model: str
    store: str
    last_sync: str  # ISO timestamp, "" if never
    chunk_tokens: int
    chunk_overlap: int
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoreCheck:
    """What `ArticleIndex.check` found: the facts that must hold for readers after any sync.

    `orphans` (chunks of no committed article version) and `pending` (articles a sync was
    writing when it stopped) are what a cut-short sync leaves; readers never see them and the
    next sync clears them. `missing` (an article with fewer or more live chunks than its record
    says), `duplicates` (two live chunks at one position) and a BM25 index out of step with the
    vectors are damage.
    """

    articles: int
    chunks: int
    orphans: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()
    keyword_matches_vectors: bool = True

    @property
    def consistent(self) -> bool:
        """Readers see every committed article whole and once."""
        return not self.missing and not self.duplicates and self.keyword_matches_vectors

    @property
    def clean(self) -> bool:
        """Consistent, and nothing left behind by a sync that stopped part-way."""
        return self.consistent and not self.orphans and not self.pending

    def problems(self) -> list[str]:
        """One line per kind of fault found, each saying what it means and what to do."""
        out = []
        if self.missing:
            out.append(
                f"{len(self.missing)} articles lack chunks (first: {self.missing[0]}); index them "
                "again with --rebuild"
            )
        if self.duplicates:
            out.append(
                f"{len(self.duplicates)} chunk positions are stored twice (first: "
                f"{self.duplicates[0]}); index again with --rebuild"
            )
        if not self.keyword_matches_vectors:
            out.append("the keyword index is out of step with the vectors; run `assistant index`")
        if self.orphans or self.pending:
            out.append(
                f"a sync stopped part-way ({len(self.pending)} articles pending, "
                f"{len(self.orphans)} unused chunks); the next `assistant index` finishes it"
            )
        return out

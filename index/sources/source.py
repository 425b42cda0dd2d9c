"""The `Source` protocol: a place articles come from, as the sync driver (`index.sync`) sees it.

A source is one kind of place (files and folders, feed and page URLs) with what it needs to tell
what changed since the last sync (a cache of file signatures, HTTP validators). Adding a kind of
source is one new module with a class that follows `Source`, and a line in `open_sources`.

Not here: the sync driver that reads sources and writes what changed (`index.sync`), parsing
(`index.sources.files`, `index.sources.web_documents`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from index.types import Article, FileError, SyncProgress

if TYPE_CHECKING:
    from index.settings import IndexSettings
    from index.store.records import ArticleRecord


@dataclass(frozen=True)
class Unchanged:
    """`where` (a file or URL) is known unchanged without reading it: it still gives the
    articles (id, content hash) it gave at its last clean read."""

    where: str
    articles: tuple[tuple[str, str], ...]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(article_id for article_id, _ in self.articles)


Item = Article | Unchanged | FileError


@dataclass
class Reading:
    """What one sync has read so far, shared by its sources in turn.

    `records`: the store's articles. `seen`: each article id a source gave (or knew unchanged)
    in this sync, with the file or URL it came from: a source gives no id twice.
    """

    records: Mapping[str, ArticleRecord]
    progress: Callable[[SyncProgress], None] = lambda update: None
    seen: dict[str, str] = field(default_factory=dict)

    def stored(self, article_id: str, content_hash: str) -> bool:
        """Whether the store holds the article with this very content."""
        record = self.records.get(article_id)
        return record is not None and record.content_hash == content_hash


class Source(Protocol):
    """A place articles come from."""

    def read(self, reading: Reading) -> Iterator[Item]:
        """Each article not yet seen in `reading` (marked seen as it is given), an `Unchanged`
        for what is known unchanged without reading it, a `FileError` per failure; reports its
        progress to `reading.progress`. Never raises for bad input."""
        ...

    def gone(self, reading: Reading) -> list[str]:
        """The stored articles that came from this source and are no longer there (pruning);
        what failed to read this time is not gone."""
        ...

    def commit(self, copies: set[str]) -> None:
        """Every article read is stored: keep what makes the next read cheap. `copies`: the
        files and URLs that gave a copy of another article (read again next time, so that the
        report names them again)."""
        ...


def open_sources(
    paths: Sequence[Path | str], settings: IndexSettings, folder: Path
) -> list[Source]:
    """The sources of `paths` (files and folders, then http(s) URLs of feeds and pages), with
    their caches kept in `folder`."""
    from index.sources.folders import Folders
    from index.sources.urls import is_url  # a pattern; the HTTP stack loads only to read

    urls = [str(p).strip() for p in paths if isinstance(p, str) and is_url(p)]
    roots = [Path(p).expanduser() for p in paths if str(p).strip() not in urls]
    max_bytes = int(settings.max_file_mb * 1024 * 1024)
    sources: list[Source] = [Folders(roots, max_bytes, folder, settings.collection)]
    if urls:
        from index.sources.pages import WebPages

        sources.append(WebPages(urls, settings.fetch, folder, settings.collection))
    return sources

"""`WebPages`: the articles of RSS/Atom feed and article page URLs, as a `Source` of the sync.

URLs are asked for conditionally with what the fetch cache (`index.sources.fetch_cache`) kept
from their last clean read; a URL answered 304 whose articles the store lacks (a store rebuilt
or emptied since) is read again in full. The cache is saved only once the articles are stored.
Articles of URLs are never pruned: a page that is gone from its site stays readable here.

Not here: fetching and parsing (`index.sources.web_sources`), the sync (`index.sync`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from index.settings import FetchSettings
from index.sources.fetch_cache import FetchCache
from index.sources.source import Item, Reading, Unchanged
from index.sources.web_sources import read_urls
from index.types import FileError, SyncProgress


class WebPages:
    """Feed and page `urls`; their fetch cache kept in `folder`."""

    def __init__(
        self, urls: Sequence[str], settings: FetchSettings, folder: Path, name: str
    ) -> None:
        self.urls = list(urls)
        self.settings = settings
        self.cache = FetchCache.load(folder / f"fetch-{name}.json")

    def read(self, reading: Reading) -> Iterator[Item]:
        seen, read = reading.seen, 0
        again: list[str] = []  # answered 304 for articles the store lacks: read whole
        for urls, conditional in ((self.urls, True), (again, False)):
            for item in read_urls(urls, self.settings, self.cache, conditional=conditional):
                read += 1
                reading.progress(SyncProgress("reading", read, 0, "pages"))
                if isinstance(item, FileError):
                    yield item
                elif isinstance(item, Unchanged):
                    fresh = tuple((i, h) for i, h in item.articles if i not in seen)
                    if conditional and any(reading.records.get(i) is None for i, _ in fresh):
                        again.append(item.where)
                        continue
                    seen.update(dict.fromkeys((i for i, _ in fresh), item.where))
                    yield Unchanged(item.where, fresh)
                elif item.id not in seen:  # one article reached twice (a file, a feed, a link)
                    seen[item.id] = item.url
                    yield item

    def gone(self, reading: Reading) -> list[str]:
        return []

    def commit(self, copies: set[str]) -> None:
        self.cache.save()

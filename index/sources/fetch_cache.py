"""What each URL gave at its last clean read: its validators and its articles' ids and hashes.

A feed or page read without error, whose answer carried an ETag or Last-Modified, is asked
for conditionally next time; when the site answers 304 its articles are known from here
without reading anything (for a feed: without requesting any of its entries' pages). A URL that
gave an error, or a feed one of whose entries did, is not remembered, so it is read whole again.

The file is a cache, never the truth: the caller checks that the articles it lists are still
stored (`index.sources.folders` does the same for files) and saves it only after they are. Deleting it
costs one full read of every URL. Entries not seen for `KEEP_DAYS` are dropped on save.

Not here: HTTP (`index.sources.fetch`), feeds and pages (`index.sources.web_sources`).
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from index.atomic import write_atomically

__all__ = ["KEEP_DAYS", "CacheEntry", "FetchCache"]

KEEP_DAYS = 60
_FORMAT = 1
_DAY = 86400.0


@dataclass(frozen=True)
class CacheEntry:
    """One URL's validators and the articles (id, content hash) it gave."""

    etag: str
    last_modified: str
    articles: tuple[tuple[str, str], ...]
    seen: float = 0.0  # unix time of the last read or 304


class FetchCache:
    """URL -> `CacheEntry`, loaded from and saved to one JSON file."""

    def __init__(self, location: Path, entries: dict[str, CacheEntry]) -> None:
        self.location = location
        self._entries = entries

    @classmethod
    def load(cls, location: Path) -> FetchCache:
        """The saved cache, or an empty one when absent, unreadable or of another format."""
        entries: dict[str, CacheEntry] = {}
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            state = json.loads(location.read_text(encoding="utf-8"))
            if state.get("format") == _FORMAT:
                for url, raw in state["urls"].items():
                    articles = tuple((str(i), str(h)) for i, h in raw["articles"].items())
                    etag, modified = str(raw.get("etag", "")), str(raw.get("last_modified", ""))
                    entries[url] = CacheEntry(etag, modified, articles, float(raw.get("seen", 0)))
        return cls(location, entries)

    def get(self, url: str) -> CacheEntry | None:
        return self._entries.get(url)

    def remember(
        self, url: str, etag: str, last_modified: str, articles: dict[str, str] | None
    ) -> None:
        """Record a clean read of `url`; without validators (or articles) there is nothing to
        ask conditionally, so any older entry is dropped."""
        if articles is None or not (etag or last_modified):
            self.forget(url)
        else:
            self._entries[url] = CacheEntry(
                etag, last_modified, tuple(articles.items()), time.time()
            )

    def touch(self, url: str) -> None:
        """`url` answered 304: keep its entry as it is, seen now."""
        entry = self._entries.get(url)
        if entry is not None:
            self._entries[url] = CacheEntry(
                entry.etag, entry.last_modified, entry.articles, time.time()
            )

    def forget(self, url: str) -> None:
        self._entries.pop(url, None)

    def save(self) -> None:
        """Write the cache (atomically), without entries unseen for KEEP_DAYS; a failure to
        write (OSError) is raised, and only costs full reads later."""
        oldest = time.time() - KEEP_DAYS * _DAY
        urls = {
            url: {
                "etag": e.etag,
                "last_modified": e.last_modified,
                "articles": dict(e.articles),
                "seen": e.seen,
            }
            for url, e in sorted(self._entries.items())
            if e.seen >= oldest
        }
        data = json.dumps({"format": _FORMAT, "urls": urls}, ensure_ascii=False, indent=1)
        self.location.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.location, data.encode("utf-8"))

"""Articles by URL: RSS/Atom feeds and article pages, fetched politely, read into `Article`s.

    cache = FetchCache.load(store / "fetch-cache.json")
    for item in read_urls(["https://example.org/feed.xml"], settings.index.fetch, cache):
        ...  # an Article, a FileError (its path is the URL) or Unchanged (a 304)
    cache.save()  # only once the articles are stored

Each URL is read once per call and each article given once (by id: its canonical URL, so one
article reached through a feed, a pasted link and a redirect is one). A feed gives its first
`max_feed_entries` entries, each entry's link read as a page. A URL the cache knows is asked for
conditionally; a 304 gives `Unchanged` with what it gave last time, and for a feed no entry page
is requested at all. Nothing here raises for a bad URL, site or document: each is a `FileError`
naming the URL, and the next URL is read.

Not here: HTTP politeness (`index.sources.fetch`), the cache file (`index.sources.fetch_cache`), what a feed or
page holds (`index.sources.web_documents`), storing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from index.settings import FetchSettings
from index.sources.fetch import Fetched, Fetcher, FetchError
from index.sources.fetch_cache import FetchCache
from index.sources.source import Unchanged
from index.sources.urls import canonical_url, is_url
from index.sources.web_documents import (
    Hints,
    entry_article,
    entry_hints,
    is_feed,
    page_article,
    parse_feed,
)
from index.types import Article, FileError

__all__ = ["FetchCache", "Unchanged", "canonical_url", "is_url", "read_urls"]


Item = Article | FileError | Unchanged


def read_urls(
    urls: Iterable[str],
    settings: FetchSettings,
    cache: FetchCache,
    *,
    fetcher: Fetcher | None = None,
    conditional: bool = True,
) -> Iterator[Item]:
    """The articles of each feed or page URL, in order; a `FileError` per URL that failed.

    `cache` is updated in memory (validators and articles of each clean read); save it after
    the articles are stored. `fetcher`: one to share (a long-running watcher keeps its robots.txt
    rules and per-host timing); by default one is made for this call and closed after it.
    `conditional=False` reads everything whole, e.g. when the store lacks what the cache lists.
    """
    own = fetcher is None
    client = Fetcher(settings) if fetcher is None else fetcher
    try:
        yield from _Reader(client, settings, cache, conditional).read(urls)
    finally:
        if own:
            client.close()


class _Reader:
    """One `read_urls` call: each URL read once, each article yielded once."""

    def __init__(
        self, fetcher: Fetcher, settings: FetchSettings, cache: FetchCache, conditional: bool
    ) -> None:
        self.fetcher = fetcher
        self.settings = settings
        self.cache = cache
        self.conditional = conditional
        self.done: dict[str, dict[str, str] | None] = {}  # URL -> its articles; None: failed
        self.yielded: set[str] = set()

    def read(self, urls: Iterable[str]) -> Iterator[Item]:
        for url in urls:
            url = url.strip()
            if url in self.done:  # named twice
                continue
            got = self._get(url)
            if not isinstance(got, Fetched):
                yield from self._emit(got)
            elif is_feed(got):
                yield from self._feed(url, got)
            else:
                yield from self._page(url, got, Hints())

    def _get(self, url: str) -> Fetched | FileError | Unchanged:
        """The answer for `url`, conditional when the cache knows it; errors and 304s done."""
        entry = self.cache.get(url) if self.conditional else None
        got = self.fetcher.get(
            url,
            etag=entry.etag if entry else "",
            last_modified=entry.last_modified if entry else "",
        )
        if isinstance(got, FetchError):
            self.done[url] = None
            return FileError(url, got.reason)
        if got.not_modified and entry is not None:
            self.cache.touch(url)
            self.done[url] = dict(entry.articles)
            return Unchanged(url, entry.articles)
        if got.not_modified:
            self.done[url] = None
            return FileError(url, "the site answered 304 Not Modified to a plain request")
        return got

    def _emit(self, item: Item) -> Iterator[Item]:
        """`item`, unless it is an article already given by this call (same canonical URL)."""
        if isinstance(item, Article):
            if item.id in self.yielded:
                return
            self.yielded.add(item.id)
        yield item

    def _page(self, url: str, got: Fetched, hints: Hints) -> Iterator[Item]:
        article = page_article(got, hints)
        if isinstance(article, Article):
            articles = {article.id: article.content_hash}
            self.cache.remember(url, _etag(got), _last_modified(got), articles)
            self.done[url] = articles
        else:
            self.cache.forget(url)
            self.done[url] = None
        yield from self._emit(article)

    def _feed(self, url: str, got: Fetched) -> Iterator[Item]:
        parsed = parse_feed(got)
        if isinstance(parsed, FileError):
            self.cache.forget(url)
            self.done[url] = None
            yield parsed
            return
        feed_title = str(parsed.feed.get("title") or "")
        articles: dict[str, str] | None = {}
        for entry in parsed.entries[: self.settings.max_feed_entries]:
            link = str(entry.get("link") or "").strip()
            if link and link not in self.done:
                page = self._get(link)
                if not isinstance(page, Fetched):
                    yield from self._emit(page)
                elif is_feed(page):
                    self.done[link] = None
                    yield FileError(link, f"an entry of the feed {url} links to another feed")
                else:
                    yield from self._page(link, page, entry_hints(entry))
            gave = self.done.get(link) if link else None
            if not link:
                item = entry_article(url, feed_title, entry)
                gave = {item.id: item.content_hash} if isinstance(item, Article) else None
                yield from self._emit(item)
            if gave is None or articles is None:
                articles = None  # an entry failed: the feed is read whole next time
            else:
                articles.update(gave)
        self.cache.remember(url, _etag(got), _last_modified(got), articles)
        self.done[url] = articles


def _etag(got: Fetched) -> str:
    return got.headers.get("etag", "")


def _last_modified(got: Fetched) -> str:
    return got.headers.get("last-modified", "")

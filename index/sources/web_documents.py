"""What one fetched answer holds: a feed's entries, or a page's article.

A feed is told by the answer's content type, else (xml, text, none given) by its first bytes;
never by the URL's name. feedparser reads it from a stream (given bytes, it would first try them
as a local file name); a feed whose XML breaks off gives the entries found before the break, and
with none it is an error naming feedparser's reason. JSON Feed is not read (feedparser 6 has no
reader for it).

A page is read like a saved .html file (`index.sources.formats.read_html`): trafilatura's main text and
metadata, then `index.sources.fields.to_article`. Its id and url are its canonical URL: the page's own
(link rel=canonical, og:url), else the URL it was finally served from, either normalised by
`index.sources.urls.canonical_url`. The date is trafilatura's (htmldate on the page and its URL), else the feed
entry's; title and author likewise fall back to the entry's. An entry without a link is an
article of its own content; its id is the entry's id (guid), else the feed's URL and a hash.

Not here: fetching (`index.sources.fetch`), which URLs to read and caching (`index.sources.web_sources`).
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from index.sources.fetch import Fetched
from index.sources.fields import Record, RecordError, iso_date, to_article
from index.sources.formats import MIN_HTML_WORDS, html_fields
from index.sources.urls import canonical_url
from index.types import Article, FileError

__all__ = [
    "Hints",
    "entry_article",
    "entry_hints",
    "is_feed",
    "page_article",
    "parse_feed",
]

_FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})
_SNIFFED_TYPES = frozenset({"text/xml", "application/xml", "text/plain", ""})  # feed or not
_PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", ""})
_BLOCK_END = re.compile(r"<br\s*/?>|</(?:p|div|li|h[1-6]|blockquote|tr)\s*>", re.IGNORECASE)


@dataclass(frozen=True)
class Hints:
    """What a feed entry says about the page it links to, used where the page says nothing."""

    title: str = ""
    author: str = ""
    published: str = ""


def page_article(got: Fetched, hints: Hints | None = None) -> Article | FileError:
    """The article of one fetched page, read as `index.sources.formats.read_html` reads a file."""
    if got.content_type not in _PAGE_TYPES:
        return FileError(
            got.url,
            f"is neither a web page nor a feed (content type {got.content_type}); "
            "give the address of an article page or an RSS/Atom feed",
        )
    hints = hints or Hints()
    meta = html_fields(_html(got), got.final_url)
    if isinstance(meta, str):
        return FileError(got.url, meta + "; give the address of the article itself")
    body = meta["text"]
    url = canonical_url(str(meta.get("url") or got.final_url))
    record = Record(
        {
            "title": meta.get("title") or hints.title,
            "text": body,
            "url": url,
            "source": meta.get("sitename") or urlsplit(url).netloc,
            "published": meta.get("date") or hints.published,
            "author": meta.get("author") or hints.author,
        }
    )
    try:
        return to_article(record, url, "")
    except RecordError as err:
        return FileError(got.url, str(err))


def entry_article(feed_url: str, feed_title: str, entry: Any) -> Article | FileError:
    """The article of a feed entry without a link: its own content (or summary) as text."""
    title = str(entry.get("title") or "")
    contents = entry.get("content") or []
    value, kind = (
        (contents[0].get("value", ""), contents[0].get("type", "")) if contents else ("", "")
    )
    if not value:
        value, kind = entry.get("summary", ""), entry.get("summary_detail", {}).get("type", "")
    text = _html_to_text(value) if "html" in kind else str(value)
    if len(text.split()) < MIN_HTML_WORDS:
        return FileError(
            feed_url,
            f"the entry '{title or '(untitled)'}' has neither a link nor an article's text",
        )
    digest = hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()[:16]
    record = Record(
        {
            "id": str(entry.get("id") or f"{feed_url}#{digest}"),
            "title": title,
            "text": text,
            "source": feed_title,
            "published": entry.get("published") or entry.get("updated"),
            "author": entry.get("author"),
        }
    )
    try:
        return to_article(record, f"{feed_url}#{digest}", "")
    except RecordError as err:
        return FileError(feed_url, f"the entry '{title}': {err}")


def is_feed(got: Fetched) -> bool:
    """By content type, else (xml, text, none given) by the first bytes: <rss, <feed, <rdf:RDF."""
    if got.content_type in _FEED_TYPES:
        return True
    if got.content_type not in _SNIFFED_TYPES:
        return False
    head = got.body[:2048].lower()
    return any(tag in head for tag in (b"<rss", b"<feed", b"<rdf:rdf")) and b"<html" not in head


def parse_feed(got: Fetched) -> Any:
    """feedparser's result, or a FileError for a document that holds no feed entries."""
    import feedparser  # imported here: only feeds need it

    headers = {
        "content-type": got.headers.get("content-type", ""),
        "content-location": got.final_url,
    }
    try:
        # A stream, never bytes: feedparser would try bytes as a local file name first.
        parsed = feedparser.parse(io.BytesIO(got.body), response_headers=headers)
    except Exception as err:  # a third-party parser on arbitrary input: report, never crash
        return FileError(got.url, f"the feed could not be parsed ({type(err).__name__}: {err})")
    if parsed.entries:
        return parsed
    if parsed.get("bozo"):
        reason = parsed.get("bozo_exception")
        return FileError(
            got.url, f"malformed feed, no entries could be read (feedparser: {reason})"
        )
    if not parsed.get("version"):
        return FileError(got.url, "is XML but not an RSS or Atom feed; give a feed's address")
    return parsed


def entry_hints(entry: Any) -> Hints:
    """Title, author and date of a feed entry (feedparser's), for the page it links to."""
    return Hints(
        title=str(entry.get("title") or ""),
        author=str(entry.get("author") or ""),
        published=iso_date(entry.get("published") or entry.get("updated")),
    )


def _html(got: Fetched) -> str | bytes:
    """The page as text when its encoding is known (header, else valid UTF-8); otherwise the
    bytes, for trafilatura to read the encoding the page declares."""
    for charset in (got.charset, "utf-8"):
        if charset:
            try:
                return got.body.decode(charset)
            except (LookupError, UnicodeDecodeError):
                continue
    return got.body


def _html_to_text(value: str) -> str:
    """Feed content (HTML that feedparser has sanitised) as text, one line per block."""
    from lxml import html as lxml_html

    marked = _BLOCK_END.sub(lambda m: m.group(0) + "\n\n", value)
    try:
        text = lxml_html.fromstring(f"<div>{marked}</div>").text_content()
    except Exception:  # lxml on arbitrary input
        return ""
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()

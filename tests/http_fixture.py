"""A small news site on 127.0.0.1 for tests of reading by URL: feeds, pages and broken cases.

    with serve() as site:
        site.url("/feed.rss")               # http://127.0.0.1:PORT/feed.rss
        site.add_article("new-slug", ...)   # appears in both feeds at once
        site.edit_article("harbour-bridge", paragraphs=[...])
        site.requests("/feed.rss")          # what was asked, when, with which headers
        site.most_in_flight                 # the most requests ever answered at once

Routes:
    /robots.txt                     disallows /private/ to every user agent (or answers
                                    `robots_status` when a test sets it, e.g. 503)
    /feed.rss, /feed.atom           the articles as RSS 2.0 and Atom (+ one RSS entry without a
                                    link, full text only); /atom is the Atom feed served as
                                    application/xml (a feed told by its content, not its name)
    /news/SLUG                      an article page: title, author and date meta, absolute
                                    canonical link, navigation and footer around the text
    /syndicated/SLUG                another outlet's copy of a page's text, its own canonical
    /old/SLUG                       301 to /news/SLUG
    /loop/a, /loop/b                redirect to each other
    /2024/02/12/council-budget.html a page without date metadata: the date is in its text and URL
    /private/memo                   a page robots.txt disallows
    /slow                           answers after `slow_seconds` (keep a client timeout below it)
    /huge                           ~300 KB of text without Content-Length (a streamed size cap)
    /broken.rss                     an RSS feed whose XML stops before its first entry
    /partial.rss                    an RSS feed whose XML stops after its first entry
    anything else                   404, as do the pages of the slugs in `Site.gone`

Feeds and pages carry an ETag (a hash of the body) and a Last-Modified, and answer 304 to a
matching If-None-Match (else If-Modified-Since). Every request is logged, before its answer is
sent, with a monotonic timestamp. Content is built from `Site.articles` on each request, so
edits show at once. Only the standard library; one thread per request.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import hashlib
import html
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROBOTS = "User-agent: *\nDisallow: /private/\n"


@dataclass
class Story:
    """One article of the site; `modified` moves on at every edit (Last-Modified)."""

    slug: str
    title: str
    author: str
    published: dt.date
    paragraphs: list[str]
    modified: dt.datetime = field(default_factory=lambda: dt.datetime(2024, 3, 6, 9, tzinfo=dt.UTC))


@dataclass(frozen=True)
class Request:
    at: float  # time.monotonic() when the request arrived
    path: str
    headers: dict[str, str]  # lower-case names


STORIES = [
    Story(
        "harbour-bridge",
        "Harbour bridge reopens after eight months of repairs",
        "Ana Lopez",
        dt.date(2024, 3, 5),
        [
            "The harbour bridge reopened to traffic on Tuesday morning after eight months of "
            "repairs to its steel deck, the city council said.",
            "Engineers replaced more than two hundred corroded plates and repainted the main "
            "span, work that cost the city 14 million euros.",
            "Commuters had faced detours of up to forty minutes while the bridge was closed, and "
            "shops near the waterfront reported a sharp drop in trade.",
        ],
    ),
    Story(
        "library-hours",
        "Central library extends its opening hours",
        "Ben Okafor",
        dt.date(2024, 3, 4),
        [
            "The central library will stay open until ten in the evening on weekdays from April, "
            "the culture department announced on Monday.",
            "Students had collected more than three thousand signatures asking for longer hours "
            "during the examination season.",
            "The extra evenings will be staffed by six new librarians hired on one-year contracts.",
        ],
    ),
    Story(
        "rail-strike",
        "Regional rail strike called off after pay deal",
        "Chloe Martin",
        dt.date(2024, 3, 1),
        [
            "A two-day strike planned by regional train drivers was called off late on Thursday "
            "after the operator agreed to a pay rise of 6.5 percent.",
            "The union said the deal also limits night shifts to three a week and guarantees "
            "rest days after late services.",
            "Trains will run to the normal timetable over the weekend, the operator said.",
        ],
    ),
]
FULL_TEXT_ENTRY = (
    "Residents can comment on the new cycle lane plan until the end of the month. The council "
    "will publish the answers with its final decision in May, a spokesperson said on Friday."
)
BUDGET_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Council approves next year's budget</title></head><body>
<nav><a href="/">Home</a> <a href="/politics">Politics</a></nav>
<article><h1>Council approves next year's budget</h1>
<p>Published on 12 February 2024.</p>
<p>The council voted on Monday to approve next year's budget after a long debate about the cost
of road repairs and of new school buildings in the northern district.</p>
<p>The budget sets aside 40 million euros for schools, the largest share in a decade.</p>
</article><footer>Riverside Gazette</footer></body></html>"""


class Site:
    """The content served, the request log, and the knobs tests turn while it runs."""

    def __init__(self) -> None:
        self.base = ""  # set once the server is bound
        self.articles: dict[str, Story] = {s.slug: _copy(s) for s in STORIES}
        self.slow_seconds = 5.0
        self.robots_status = 200
        self.gone: set[str] = set()
        self.log: list[Request] = []
        self.in_flight = 0  # requests being answered now, and the most there ever were
        self.most_in_flight = 0
        self.slow_arrived = threading.Event()
        self.lock = threading.Lock()
        self.stopped = threading.Event()

    def url(self, path: str) -> str:
        return self.base + path

    def requests(self, path: str | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.log if path is None or r.path == path]

    def add_article(self, slug: str, title: str, author: str, paragraphs: list[str]) -> None:
        with self.lock:
            stamp = dt.datetime(2024, 3, 7, 9, tzinfo=dt.UTC)
            story = Story(slug, title, author, dt.date(2024, 3, 7), paragraphs, stamp)
            self.articles = {slug: story, **self.articles}  # newest first in the feeds

    def edit_article(self, slug: str, paragraphs: list[str]) -> None:
        with self.lock:
            story = self.articles[slug]
            story.paragraphs = paragraphs
            story.modified += dt.timedelta(hours=1)

    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for `path`; logs the request first."""
        with self.lock:
            self.log.append(Request(time.monotonic(), path, headers))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            route = path.split("?")[0]
            if route == "/robots.txt":
                return self.robots_status, {"Content-Type": "text/plain"}, ROBOTS.encode()
            if route.startswith("/old/"):
                return 301, {"Location": "/news/" + route.removeprefix("/old/")}, b""
            if route in ("/loop/a", "/loop/b"):
                return 302, {"Location": "/loop/b" if route == "/loop/a" else "/loop/a"}, b""
            if route in ("/broken.rss", "/partial.rss"):
                rss = self._rss()
                first = rss.index(b"<item>")
                cut = first if route == "/broken.rss" else rss.index(b"<item>", first + 1)
                return 200, {"Content-Type": "application/rss+xml"}, rss[:cut]
            if route == "/huge":
                return 200, {"Content-Type": "text/html"}, b"<p>" + b"news " * 60_000 + b"</p>"
            found = self._document(route)
        if route == "/slow":  # outside the lock: other requests go on meanwhile
            self.slow_arrived.set()
            self.stopped.wait(self.slow_seconds)
        if found is None:
            return 404, {"Content-Type": "text/html"}, b"<h1>Not found</h1>"
        kind, body, modified = found
        return _conditional(headers, kind, body, modified)

    def _document(self, route: str) -> tuple[str, bytes, dt.datetime] | None:
        newest = max(s.modified for s in self.articles.values())
        slug = route.rsplit("/", 1)[-1]
        story = self.articles.get(slug) if slug not in self.gone else None
        if route == "/feed.rss":
            return "application/rss+xml; charset=utf-8", self._rss(), newest
        if route in ("/feed.atom", "/atom"):
            kind = "application/atom+xml" if route == "/feed.atom" else "application/xml"
            return kind, self._atom(), newest
        if route.startswith("/news/") and story:
            return "text/html; charset=utf-8", self._page(story, "/news/"), story.modified
        if route.startswith("/syndicated/") and story:
            return "text/html; charset=utf-8", self._page(story, "/syndicated/"), story.modified
        if route == "/2024/02/12/council-budget.html":
            return "text/html; charset=utf-8", BUDGET_PAGE.encode(), newest
        if route == "/private/memo":
            memo = _copy(STORIES[0], slug="memo", title="Internal memo")
            return "text/html; charset=utf-8", self._page(memo, "/private/"), newest
        if route == "/slow":
            return "text/html; charset=utf-8", self._page(STORIES[1], "/slow/"), newest
        return None

    def _page(self, story: Story, under: str) -> bytes:
        site = "Riverside Gazette" if under != "/syndicated/" else "Valley Courier"
        canonical = self.url(under + story.slug) if under != "/slow/" else self.url("/slow")
        paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in story.paragraphs)
        return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(story.title)} | {site}</title>
<link rel="canonical" href="{canonical}">
<meta name="author" content="{story.author}">
<meta property="article:published_time" content="{story.published.isoformat()}T08:00:00Z">
<meta property="og:site_name" content="{site}">
</head><body><nav><a href="/">Home</a> <a href="/city">City</a> <a href="/sport">Sport</a></nav>
<article><h1>{html.escape(story.title)}</h1>
{paragraphs}
</article><footer>Copyright {site}. All rights reserved.</footer></body></html>""".encode()

    def _rss(self) -> bytes:
        items = "".join(
            f"""<item><title>{html.escape(s.title)}</title>
<link>{self.url("/news/" + s.slug)}?utm_source=rss&amp;utm_medium=feed</link>
<guid>{self.url("/news/" + s.slug)}</guid><author>desk@example.org ({s.author})</author>
<pubDate>{email.utils.format_datetime(dt.datetime.combine(s.published, dt.time(8), dt.UTC))}</pubDate>
<description>{html.escape(s.paragraphs[0])}</description></item>
"""
            for s in self.articles.values()
        )
        full = f"""<item><title>Cycle lane plan open for comment</title>
<guid isPermaLink="false">cycle-lane-2024</guid><pubDate>Fri, 01 Mar 2024 10:00:00 GMT</pubDate>
<description>&lt;p&gt;{FULL_TEXT_ENTRY}&lt;/p&gt;</description></item>
"""
        return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Riverside Gazette</title><link>{self.url("/")}</link>
<description>City news</description>
{items}{full}</channel></rss>""".encode()

    def _atom(self) -> bytes:
        entries = "".join(
            f"""<entry><title>{html.escape(s.title)}</title>
<link href="{self.url("/news/" + s.slug)}"/><id>{self.url("/news/" + s.slug)}</id>
<author><name>{s.author}</name></author><updated>{s.published.isoformat()}T08:00:00Z</updated>
<summary>{html.escape(s.paragraphs[0])}</summary></entry>
"""
            for s in self.articles.values()
        )
        return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Riverside Gazette</title>
<id>{self.url("/")}</id><updated>2024-03-06T09:00:00Z</updated>
{entries}</feed>""".encode()


def _copy(story: Story, **changes: object) -> Story:
    fields = {**story.__dict__, "paragraphs": list(story.paragraphs), **changes}
    return Story(**fields)  # type: ignore[arg-type]


def _conditional(
    headers: dict[str, str], kind: str, body: bytes, modified: dt.datetime
) -> tuple[int, dict[str, str], bytes]:
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
    out = {"ETag": etag, "Last-Modified": email.utils.format_datetime(modified, usegmt=True)}
    if "if-none-match" in headers:
        fresh = etag in [t.strip() for t in headers["if-none-match"].split(",")]
    elif "if-modified-since" in headers:
        since = email.utils.parsedate_to_datetime(headers["if-modified-since"])
        fresh = modified.replace(microsecond=0) <= since
    else:
        fresh = False
    if fresh:
        return 304, out, b""
    return 200, {**out, "Content-Type": kind, "Content-Length": str(len(body))}, body


class _Handler(BaseHTTPRequestHandler):
    site: Site  # set on the class made for each server

    def do_GET(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, out, body = self.site.answer(self.path, headers)
        self.send_response(status)
        for name, value in out.items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a client gave up
            for start in range(0, len(body), 16384):
                self.wfile.write(body[start : start + 16384])
        with self.site.lock:
            self.site.in_flight -= 1

    def log_message(self, format: str, *args: object) -> None:  # the site keeps its own log
        pass


@contextlib.contextmanager
def serve() -> Iterator[Site]:
    """Run the site on 127.0.0.1 at a free port until the block ends."""
    site = Site()
    handler = type("Handler", (_Handler,), {"site": site})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.stopped.set()  # the slow page stops waiting
        server.shutdown()
        server.server_close()

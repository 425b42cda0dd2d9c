"""Reading articles by URL against a real HTTP server on 127.0.0.1 (tests/http_fixture.py).

Feeds and pages become articles whose id is the canonical URL; conditional requests spare
unchanged feeds and pages; every broken case is one error naming its URL while the other URLs of
the call are still read; the fetcher is polite (user agent, per-host delay, robots.txt). Name
lookups of anything but 127.0.0.1 fail here (the guard below), and a test fails if a connection
goes anywhere else. No embedding model, no store.
"""

from __future__ import annotations

import itertools
import socket
import threading
import urllib.request
from pathlib import Path

import pytest

from index.settings import FetchSettings, IndexSettings
from index.sources.fetch import Fetcher, default_user_agent
from index.sources.fetch_cache import FetchCache
from index.sources.files import parse_file
from index.sources.web_sources import Unchanged, canonical_url, is_url, read_urls
from index.types import Article, FileError
from tests.helpers import free_port
from tests.http_fixture import STORIES, Site, serve

FAST = FetchSettings(delay=0, timeout=30)  # local pages: a timeout here is a loaded machine
SLUGS = [s.slug for s in STORIES]


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Resolve only 127.0.0.1 (others: a DNS failure) and record every connection made."""
    contacted: list[object] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        contacted.append(address)
        return real_connect(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host not in ("127.0.0.1", b"127.0.0.1"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield contacted
    assert [a for a in contacted if not (isinstance(a, tuple) and a[0] == "127.0.0.1")] == []


@pytest.fixture
def site():
    with serve() as running:
        yield running


@pytest.fixture
def cache(tmp_path: Path) -> FetchCache:
    return FetchCache.load(tmp_path / "fetch-cache.json")


def read(urls: list[str], cache: FetchCache, settings: FetchSettings = FAST) -> list[object]:
    return list(read_urls(urls, settings, cache))


def articles(items: list[object]) -> dict[str, Article]:
    return {a.id: a for a in items if isinstance(a, Article)}


def page_requests(site: Site, since: int = 0) -> list[str]:
    return [r.path for r in site.requests()[since:] if r.path.startswith("/news/")]


# ---- feeds and pages become articles --------------------------------------------------------


def test_feed_entries_become_articles_with_canonical_url_ids(site, cache):
    items = read([site.url("/feed.rss")], cache)
    assert [i for i in items if not isinstance(i, Article)] == []
    found = articles(items)
    assert set(found) == {site.url(f"/news/{slug}") for slug in SLUGS} | {"cycle-lane-2024"}
    bridge = found[site.url("/news/harbour-bridge")]
    assert bridge.title == "Harbour bridge reopens after eight months of repairs"
    assert bridge.author == "Ana Lopez"
    assert bridge.published == "2024-03-05"
    assert bridge.source == "Riverside Gazette"
    assert bridge.url == bridge.id  # the feed's link carried utm_* parameters; the id has none
    assert "The harbour bridge reopened to traffic" in bridge.text
    assert "Copyright" not in bridge.text and "Sport" not in bridge.text
    assert bridge.path == "" and bridge.content_hash


def test_feed_entry_without_link_is_read_from_its_own_content(site, cache):
    entry = articles(read([site.url("/feed.rss")], cache))["cycle-lane-2024"]
    assert entry.text.startswith("Residents can comment on the new cycle lane plan")
    assert entry.title == "Cycle lane plan open for comment"
    assert (entry.published, entry.source, entry.url) == ("2024-03-01", "Riverside Gazette", "")


def test_atom_feed_is_told_by_its_content_not_its_name(site, cache):
    atom = articles(read([site.url("/atom")], cache))  # served as application/xml
    assert set(atom) == {site.url(f"/news/{slug}") for slug in SLUGS}


def test_pasted_link_feed_entry_and_redirect_give_one_article(site, tmp_path):
    pasted = articles(read([site.url("/news/rail-strike?utm_source=mail#top")], _cache(tmp_path)))
    moved = articles(read([site.url("/old/rail-strike")], _cache(tmp_path)))
    fed = articles(read([site.url("/feed.rss")], _cache(tmp_path)))
    key = site.url("/news/rail-strike")
    assert pasted[key].content_hash == moved[key].content_hash == fed[key].content_hash
    # and in one call, the article is given once
    once = read([site.url("/news/rail-strike"), site.url("/feed.rss")], _cache(tmp_path))
    assert [i.id for i in once if isinstance(i, Article)].count(key) == 1


def test_saved_copy_of_a_page_is_the_same_article(site, cache, tmp_path):
    url = site.url("/news/library-hours")
    fetched = articles(read([url], cache))[url]
    saved = tmp_path / "library.html"
    with urllib.request.urlopen(url, timeout=5) as answer:  # the page as a browser saves it
        saved.write_bytes(answer.read())
    [from_file] = list(parse_file(saved, tmp_path, 10_000_000))
    assert isinstance(from_file, Article)
    assert from_file.id == fetched.id == url
    assert from_file.content_hash == fetched.content_hash


def test_copy_under_another_url_keeps_its_own_id(site, cache):
    found = articles(
        read([site.url("/news/harbour-bridge"), site.url("/syndicated/harbour-bridge")], cache)
    )
    original = found[site.url("/news/harbour-bridge")]
    copy = found[site.url("/syndicated/harbour-bridge")]
    assert copy.text == original.text
    assert (copy.source, original.source) == ("Valley Courier", "Riverside Gazette")


def test_date_missing_from_metadata_is_found_in_the_page(site, cache):
    url = site.url("/2024/02/12/council-budget.html")
    budget = articles(read([url], cache))[url]
    assert budget.published == "2024-02-12"
    assert budget.title == "Council approves next year's budget"


def test_partly_broken_feed_gives_the_entries_it_holds(site, cache):
    found = articles(read([site.url("/partial.rss")], cache))
    assert set(found) == {site.url(f"/news/{SLUGS[0]}")}


def test_feed_entries_beyond_the_limit_are_not_read(site, cache):
    settings = FetchSettings(delay=0, timeout=30, max_feed_entries=2)
    found = articles(read([site.url("/feed.atom")], cache, settings))
    assert set(found) == {site.url(f"/news/{slug}") for slug in SLUGS[:2]}
    assert len(page_requests(site)) == 2


# ---- conditional requests -----------------------------------------------------------------------


def test_unchanged_feed_is_answered_304_and_no_page_is_requested(site, tmp_path):
    first = FetchCache.load(tmp_path / "cache.json")
    given = articles(read([site.url("/feed.rss")], first))
    first.save()
    before = len(site.requests())
    again = read([site.url("/feed.rss")], FetchCache.load(tmp_path / "cache.json"))
    assert again == [
        Unchanged(site.url("/feed.rss"), tuple((a.id, a.content_hash) for a in given.values()))
    ]
    asked = site.requests()[before:]
    assert [r.path for r in asked] == ["/robots.txt", "/feed.rss"]
    assert asked[1].headers["if-none-match"].startswith('"')


def test_changed_feed_reads_new_entries_and_asks_known_pages_conditionally(site, cache):
    read([site.url("/feed.rss")], cache)
    site.add_article("ferry-timetable", "New ferry timetable", "Dan Reyes", ["The ferry " * 20])
    before = len(site.requests())
    items = read([site.url("/feed.rss")], cache)
    assert set(articles(items)) == {site.url("/news/ferry-timetable"), "cycle-lane-2024"}
    unchanged = {i.where: i.ids for i in items if isinstance(i, Unchanged)}
    assert set(unchanged) == {
        f"{site.url('/news/' + s)}?utm_source=rss&utm_medium=feed" for s in SLUGS
    }
    asked = [r for r in site.requests()[before:] if r.path.startswith("/news/")]
    assert all("if-none-match" in r.headers for r in asked if "ferry" not in r.path)


def test_edited_page_is_read_again(site, cache):
    url = site.url("/news/harbour-bridge")
    first = articles(read([url], cache))[url]
    site.edit_article(
        "harbour-bridge",
        [
            "The bridge will close again in June for a final coat of paint, the council said on Wednesday."
        ],
    )
    second = articles(read([url], cache))[url]
    assert "The bridge will close again" in second.text
    assert second.content_hash != first.content_hash


def test_feed_with_a_failed_entry_is_read_whole_next_time(site, cache):
    site.gone.add("library-hours")
    first = read([site.url("/feed.rss")], cache)
    assert [str(e) for e in first if isinstance(e, FileError)] == [
        f"{site.url('/news/library-hours')}?utm_source=rss&utm_medium=feed: "
        "HTTP 404 Not Found: no page at this address; check the URL"
    ]
    site.gone.clear()
    before = len(site.requests())
    second = read([site.url("/feed.rss")], cache)
    feed_request = site.requests("/feed.rss")[-1]
    assert "if-none-match" not in feed_request.headers  # the feed was not remembered
    assert set(articles(second)) == {site.url("/news/library-hours"), "cycle-lane-2024"}
    assert sum(isinstance(i, Unchanged) for i in second) == 2  # the pages read cleanly before
    assert len(site.requests()) > before


def test_damaged_cache_file_means_full_reads(site, tmp_path):
    location = tmp_path / "cache.json"
    location.write_text('{"format": 1, "urls": {"x": {"etag": 3}}')
    items = read([site.url("/news/rail-strike")], FetchCache.load(location))
    assert [type(i) for i in items] == [Article]


# ---- errors: one per URL, never a stop ---------------------------------------------------------


def test_each_bad_url_is_one_error_naming_it_and_the_others_are_read(site, cache):
    settings = FetchSettings(delay=0, timeout=2, max_page_mb=0.1)  # /slow takes 5 s
    closed = f"http://127.0.0.1:{free_port()}/news"
    bad = {
        site.url("/missing"): "HTTP 404 Not Found",
        site.url("/slow"): "more than 2 s to answer (timeout)",
        site.url("/huge"): "larger than 0.1 MB",
        site.url("/loop/a"): "redirect loop",
        site.url("/broken.rss"): "malformed feed, no entries could be read (feedparser:",
        site.url("/private/memo"): "robots.txt disallows this URL",
        "ftp://127.0.0.1/news.rss": "only http and https URLs",
        "file:///etc/passwd": "only http and https URLs",
        closed: "connection refused",
        "http://news.invalid/feed.rss": "host not found (DNS lookup failed)",
    }
    good = site.url("/news/harbour-bridge")
    urls = [*list(bad)[:5], good, *list(bad)[5:]]
    items = read(urls, cache, settings)
    errors = {e.path: e.reason for e in items if isinstance(e, FileError)}
    assert set(errors) == set(bad)
    for url, words in bad.items():
        assert words in errors[url], (url, errors[url])
    assert set(articles(items)) == {good}


def test_too_many_redirects_is_an_error_naming_the_setting(site, cache):
    settings = FetchSettings(delay=0, timeout=30, max_redirects=0)
    [error] = read([site.url("/old/rail-strike")], cache, settings)
    assert isinstance(error, FileError) and error.path == site.url("/old/rail-strike")
    assert "more than 0 redirects" in error.reason
    assert "ASSISTANT_INDEX__FETCH__MAX_REDIRECTS" in error.reason


def test_unreadable_robots_txt_closes_the_site_for_the_run(site, cache):
    site.robots_status = 503
    [error] = read([site.url("/news/rail-strike")], cache)
    assert isinstance(error, FileError) and "robots.txt answered HTTP 503" in error.reason
    assert page_requests(site) == []


def test_missing_robots_txt_allows_everything(site, cache):
    site.robots_status = 404
    found = articles(read([site.url("/private/memo")], cache))
    assert set(found) == {site.url("/private/memo")}


# ---- politeness ------------------------------------------------------------------------------


def test_requests_to_one_host_are_at_least_the_delay_apart(site, cache):
    settings = FetchSettings(delay=0.3, timeout=30)
    read([site.url(f"/news/{slug}") for slug in SLUGS], cache, settings)
    times = [r.at for r in site.requests()]
    assert len(times) == 1 + len(SLUGS)  # robots.txt, then each page
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.3


def test_one_request_at_a_time_per_host_even_from_two_threads(site, cache):
    site.slow_seconds = 0.5
    settings = FetchSettings(delay=0, timeout=5)
    with Fetcher(settings) as shared:
        slow = threading.Thread(
            target=lambda: list(read_urls([site.url("/slow")], settings, cache, fetcher=shared))
        )
        slow.start()
        assert site.slow_arrived.wait(10)
        quick = list(read_urls([site.url("/news/rail-strike")], settings, cache, fetcher=shared))
        slow.join()
    assert set(articles(quick)) == {site.url("/news/rail-strike")}
    assert [r.path for r in site.requests()] == ["/robots.txt", "/slow", "/news/rail-strike"]
    assert site.most_in_flight == 1


def test_robots_txt_is_read_once_per_run(site, cache):
    read([site.url("/feed.rss"), site.url("/feed.atom")], cache)
    assert len(site.requests("/robots.txt")) == 1


def test_user_agent_names_the_project(site, cache):
    read([site.url("/feed.rss")], cache)
    agents = {r.headers.get("user-agent") for r in site.requests()}
    assert agents == {default_user_agent()}
    assert default_user_agent().startswith("news-assistant/")


def test_only_127_0_0_1_is_contacted(site, cache, loopback_only):
    read([site.url("/feed.rss"), "http://news.invalid/"], cache)
    assert loopback_only and {a[0] for a in loopback_only} == {"127.0.0.1"}


# ---- small parts ------------------------------------------------------------------------------


def test_is_url_tells_urls_from_paths():
    assert is_url("https://example.org/feed.xml") and is_url(" http://x/y ")
    assert is_url("ftp://example.org/a") and is_url("file:///tmp/a.html")  # refused when read
    assert not any(is_url(p) for p in ("articles/", "news.html", "C:\\news\\a.md", "http:x"))


def test_canonical_url_drops_tracking_fragment_and_case():
    assert (
        canonical_url("HTTPS://News.Example.ORG:443/a/B?utm_source=x&id=3#top")
        == "https://news.example.org/a/B?id=3"
    )


def test_fetch_settings_come_from_the_environment_and_do_not_shape_the_store(monkeypatch):
    from assistant import Settings

    monkeypatch.setenv("ASSISTANT_INDEX__FETCH__DELAY", "2.5")
    settings = Settings()
    assert settings.index.fetch.delay == 2.5
    assert settings.index.fingerprint() == IndexSettings().fingerprint()


def _cache(tmp_path: Path) -> FetchCache:
    """A fresh, empty cache (a new file name each time)."""
    n = len(list(tmp_path.glob("cache-*.json")))
    location = tmp_path / f"cache-{n}.json"
    location.write_text("{}")
    return FetchCache.load(location)


def test_a_feed_body_naming_a_local_file_is_never_opened(tmp_path):
    from index.sources.fetch import Fetched
    from index.sources.web_documents import parse_feed

    local = tmp_path / "local-feed.rss"
    local.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title>'
        "<item><title>Secret</title><link>http://127.0.0.1/secret</link></item>"
        "</channel></rss>",
        encoding="utf-8",
    )
    got = Fetched(
        "http://127.0.0.1/feed.rss",
        "http://127.0.0.1/feed.rss",
        200,
        {"content-type": "application/rss+xml"},
        str(local).encode(),
    )
    parsed = parse_feed(got)
    assert isinstance(parsed, FileError), parsed  # the path is not a feed; the file is not read
    assert "Secret" not in parsed.reason

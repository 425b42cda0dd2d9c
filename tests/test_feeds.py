"""Feeds and pages by URL through the whole product: `ArticleIndex.sync`, `assistant index`,
`assistant watch` and the page's links box, against the local news site of
`tests/http_fixture.py` on 127.0.0.1 (real HTTP, the real model, a real embedded Chroma).
The reading layer alone is tested in `tests/test_web_sources.py`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from assistant import Assistant, Settings
from index import IndexSettings
from index.settings import FetchSettings
from index.sources.watch import Watcher
from tests.helpers import ROOT, wait_until
from tests.http_fixture import STORIES, serve

FAST = IndexSettings(fetch=FetchSettings(delay=0, timeout=30))  # local pages


@pytest.fixture
def site():
    with serve() as running:
        yield running


def page_requests(site, since: int = 0) -> list[str]:
    return [r.path for r in site.requests()[since:] if r.path.startswith("/news/")]


def test_a_feed_is_indexed_and_an_unchanged_feed_costs_one_request(open_index, site):
    index = open_index(FAST)
    feed = site.url("/feed.rss")
    first = index.sync([feed])
    assert first.failed == 0 and first.added == len(STORIES) + 1, first  # + a full-text entry
    bridge = site.url("/news/harbour-bridge")
    record = index.records()[bridge]
    assert record.title.startswith("Harbour bridge reopens") and record.published == "2024-03-05"
    assert record.path == "" and record.url == bridge
    before = len(site.requests())
    again = index.sync([feed])
    assert (again.added, again.updated, again.unchanged) == (0, 0, len(STORIES) + 1), again
    asked = [r.path for r in site.requests()[before:]]
    assert asked.count("/feed.rss") == 1 and not page_requests(site, before), asked
    # a pasted link (with tracking) and a redirect are the same article, stored once
    pasted = index.sync([bridge + "?utm_source=mail#top", site.url("/old/harbour-bridge")])
    assert (pasted.added, pasted.unchanged, pasted.failed) == (0, 1, 0), pasted
    answer = Assistant(index, Settings()).ask("How much did the bridge repairs cost?")
    assert any("14 million euros" in c.quote and c.url == bridge for c in answer.citations)


def test_new_entries_are_added_and_a_copy_under_another_url_is_not_stored(open_index, site):
    index = open_index(FAST)
    index.sync([site.url("/feed.rss")])
    stored = index.stats().articles
    site.add_article(
        "ferry-route",
        "New ferry route to the islands",
        "Dana Berg",
        ["A new ferry route to the outer islands opens in June with four sailings a day."] * 3,
    )
    report = index.sync([site.url("/feed.rss"), site.url("/syndicated/library-hours")])
    assert report.added == 1 and index.stats().articles == stored + 1, report
    assert [d.of for d in report.duplicates] == [site.url("/news/library-hours")], report


def test_bad_urls_are_errors_naming_them_and_nothing_stored_is_lost(open_index, site):
    index = open_index(FAST)
    index.sync([site.url("/feed.rss")])
    stored = index.stats().articles
    bad = ["/missing", "/slow", "/huge", "/loop/a", "/broken.rss", "/private/memo"]
    settings = IndexSettings(fetch=FetchSettings(delay=0, timeout=2, max_page_mb=0.1))  # /slow: 5 s
    index = open_index(settings, store=index.folder)
    report = index.sync([site.url(p) for p in bad] + ["ftp://127.0.0.1/x", site.url("/feed.atom")])
    named = {e.path: e.reason for e in report.errors}
    assert set(named) == {site.url(p) for p in bad} | {"ftp://127.0.0.1/x"}, named
    assert "404" in named[site.url("/missing")] and "robots.txt" in named[site.url("/private/memo")]
    assert report.failed == len(bad) + 1 and index.stats().articles == stored


@pytest.mark.slow
def test_assistant_index_takes_urls_and_exits_1_when_one_fails(site, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_INDEX__MODEL_CACHE"] = os.environ["ASSISTANT_INDEX__MODEL_CACHE"]
    env["ASSISTANT_INDEX__FETCH__DELAY"] = "0"
    run = subprocess.run(
        [
            *(sys.executable, "-m", "assistant", "index"),
            *(site.url("/feed.atom"), site.url("/missing"), "--store", str(tmp_path / "store")),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 1, run.stderr
    assert run.stdout.strip().splitlines()[-1].startswith(f"added {len(STORIES)},")
    assert f"failed: {site.url('/missing')}: " in run.stderr and "Traceback" not in run.stderr


def test_a_watched_feed_picks_up_a_new_entry_while_questions_are_answered(
    open_index, site, tmp_path
):
    index = open_index(FAST)
    lines: list[str] = []
    watcher = Watcher(
        index, [site.url("/feed.rss")], 5, on_report=lambda r, line: lines.append(line)
    )
    watcher.start()
    try:
        wait_until(lambda: watcher.status.syncs >= 1, "the first sync")
        assistant = Assistant(index, Settings(store=tmp_path / "store"))
        site.add_article(
            "tram-line",
            "Tram line to the airport approved",
            "Eva Holm",
            [
                "The council approved a tram line to the airport, to open in 2027 at a cost of "
                "310 million euros."
            ]
            * 3,
        )
        # A sync may be running as the entry appears: the one after it surely reads the feed anew.
        seen = watcher.status.syncs
        while True:  # questions keep being answered meanwhile
            assert assistant.ask("How much did the bridge repairs cost?").answered
            if watcher.status.syncs >= seen + 2:
                break
        answer = assistant.ask("When will the tram line to the airport open?")
        assert any("2027" in c.quote for c in answer.citations), answer
        assert lines[0].startswith(f"added {len(STORIES) + 1},"), lines
        added = [line for line in lines[1:] if not line.startswith("added 0,")]
        assert len(added) == 1 and added[0].startswith("added 1, updated 0,"), lines
    finally:
        watcher.stop(wait=300)


def test_a_saved_page_with_a_tracking_canonical_link_is_the_fetched_article(
    open_index, site, tmp_path
):
    import httpx

    page = httpx.get(site.url("/news/rail-strike"), timeout=10).text
    canonical = site.url("/news/rail-strike")
    saved = page.replace(f'href="{canonical}"', f'href="{canonical}?utm_source=feed#comments"')
    assert saved != page
    (tmp_path / "saved").mkdir()
    (tmp_path / "saved" / "rail.html").write_text(saved, encoding="utf-8")
    index = open_index(FAST)
    report = index.sync([tmp_path / "saved", canonical])
    assert report.added == 1 and report.failed == 0, report
    assert list(index.records()) == [canonical]


@pytest.mark.slow
def test_links_pasted_on_the_page_are_indexed_with_a_line_per_link(site, tmp_path):
    from gradio_client import Client

    from tests.web_server import app_env, serving

    env = app_env(ASSISTANT_INDEX__FETCH__DELAY="0", ASSISTANT_INDEX__FETCH__TIMEOUT="2")
    with serving(tmp_path, env=env) as app:
        client = Client(app.url, verbose=False)
        pasted = "\n".join(
            [site.url("/feed.atom"), "", "not a link", site.url("/missing"), site.url("/feed.atom")]
        )
        job = client.submit(pasted, api_name="/add_links")
        report = job.result(timeout=300)
        phases = [step["phase"] for step in job.outputs()]
        assert "reading" in phases and phases[-1] == "done", phases
        assert report["added"] == len(STORIES), report
        lines = {f["name"]: f for f in report["files"]}
        assert list(lines) == [site.url("/feed.atom"), site.url("/missing")]
        assert lines[site.url("/feed.atom")]["status"] == "indexed"
        assert lines[site.url("/missing")]["status"] == "failed"
        assert "404" in lines[site.url("/missing")]["reason"]
        assert report["errors"] == ["line 3: 'not a link' is not an http(s) link; not read"]
        answer = client.predict("How much did the bridge repairs cost?", api_name="/ask")
        assert any(c["url"] == site.url("/news/harbour-bridge") for c in answer["citations"])
        empty = client.predict("  \nftp://127.0.0.1/x", api_name="/add_links")
        assert empty["summary"].startswith("Nothing was indexed") and empty["errors"]

"""The page's links and library in a real browser (Debian's Chromium, headless, through
Playwright), at desktop (1366x900) and phone (390x844) sizes: a citation marker scrolls to its
passage and flashes it; "Read the whole article" opens the article in the Library tab with the
cited sentences marked; the library is searched and a row opens its article; an article is
deleted after the reader confirms (and kept when they do not), the store checked; the same
through the HTTP API (`/articles`, `/remove_articles`); the conversation exported as Markdown
and kept across a reload (follow-ups go on from it) until "New chat"; a file over the upload
limit refused before it is sent; the date filters' calendar; an uploaded article's outlet and
date set; the Briefing tab's stories, opening their articles.

Its own server on its own copy of the samples: the tests delete articles. Each test deletes a
different one and asserts counts relative to what it found, so the order they run in does not
matter; the Madrid article, which the citation tests ask about, is never deleted.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client

from tests.helpers import MADRID
from tests.web_server import NEEDS_CHROMIUM, SIZES, App, chromium, page_at, serving_samples

TIMEOUT_MS = 90_000
MADRID_TITLE = "Asia-Pacific leaders join NATO summit in Madrid for the first time"
DELETED_BY = {"desktop": "ECB raises rates", "phone": "Webb telescope"}  # title starts

pytestmark = [pytest.mark.slow, NEEDS_CHROMIUM]


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[App]:
    with serving_samples(tmp_path_factory.mktemp("library")) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


@pytest.fixture(params=sorted(SIZES))
def page(request, app, browser):
    with page_at(browser, app.url, request.param) as shown:
        yield shown


def ask(page, question: str) -> None:
    """Send a question and wait for its final answer (its sources panel carries the answer's
    key; the searching placeholder does not)."""
    page.fill("#na-question textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function(
        """(q) => {
            const head = document.querySelector("#na-sources .na-sources[data-key] .na-for");
            return head && head.innerText === q && document.querySelector("#na-chat a.na-cite");
        }""",
        arg=question,
        timeout=TIMEOUT_MS,
    )


def in_view(page, selector: str) -> bool:
    return page.eval_on_selector(
        selector,
        """e => { const r = e.getBoundingClientRect();
                  return r.top >= 0 && r.bottom <= window.innerHeight; }""",
    )


def open_library(page) -> None:
    page.get_by_role("tab", name="Library").click()
    page.wait_for_selector("[data-testid='cell-0-0']", timeout=TIMEOUT_MS)


def count_line(page) -> tuple[int, int]:
    """(articles shown, articles stored) from the line above the table."""
    text = page.inner_text("#na-lib-count")
    numbers = [int(n.replace(",", "")) for n in re.findall(r"[\d,]+", text)]
    return (numbers[0], numbers[1]) if " of " in text else (numbers[0], numbers[0])


def test_a_citation_marker_scrolls_to_its_passage_and_flashes_it(page):
    ask(page, MADRID)
    markers = page.locator("#na-chat a.na-cite")
    last = markers.count()
    assert last >= 2
    page.evaluate("window.scrollTo(0, 0)")  # the sources of the last marker: out of sight
    markers.last.click()
    passage = f"#na-sources #na-source-{last}"
    page.wait_for_selector(f"{passage}.na-flash", timeout=TIMEOUT_MS)
    page.wait_for_function(
        """(s) => { const r = document.querySelector(s).getBoundingClientRect();
                    return r.top >= 0 && r.bottom <= window.innerHeight; }""",
        arg=passage,
        timeout=TIMEOUT_MS,
    )
    assert in_view(page, passage)
    assert "#" not in page.url  # the marker scrolled the page; it did not navigate


def test_read_the_whole_article_opens_it_with_the_cited_sentences_marked(page):
    ask(page, MADRID)
    cited = page.locator("#na-sources .na-card").first
    numbers = [int(n) for n in cited.locator(".na-n").all_inner_texts()]
    quotes = [" ".join(q.split()) for q in cited.locator(".na-passage mark").all_inner_texts()]
    cited.locator("a.na-read").click()
    page.wait_for_selector("#na-reader .na-article-text", timeout=TIMEOUT_MS)
    assert page.get_by_role("tab", name="Library").get_attribute("aria-selected") == "true"
    assert page.inner_text("#na-reader .na-title") == MADRID_TITLE
    marks = page.locator("#na-reader mark")
    assert marks.count() == len(numbers)
    for n, quote in zip(numbers, quotes, strict=True):
        shown = " ".join(page.inner_text(f"#na-reader #na-read-{n}").split())
        assert quote.strip("… ") in shown
    listed = ", ".join(f"[{n}]" for n in sorted(numbers))
    assert f"Cited in the latest answer as {listed}." in page.inner_text("#na-reader")
    assert page.locator("#na-delete").is_enabled()


def test_the_library_is_searched_and_a_row_opens_its_article(page):
    open_library(page)
    shown, stored = count_line(page)
    assert shown == stored >= 3
    page.fill("#na-lib-search textarea, #na-lib-search input", "madrid")
    page.wait_for_function(
        "document.querySelector('#na-lib-count')?.innerText.includes('match')",
        timeout=TIMEOUT_MS,
    )
    assert count_line(page) == (1, stored)
    assert page.inner_text("[data-testid='cell-0-0']") == MADRID_TITLE
    assert page.inner_text("[data-testid='cell-0-1']") == "Sample Wire"
    assert page.inner_text("[data-testid='cell-0-2']") == "2022-06-30"
    page.click("[data-testid='cell-0-0']")
    page.wait_for_selector("#na-reader .na-article-text", timeout=TIMEOUT_MS)
    assert page.inner_text("#na-reader .na-title") == MADRID_TITLE
    assert "Sample Wire" in page.inner_text("#na-reader .na-meta")
    assert "chunks" in page.inner_text("#na-reader .na-meta")
    assert page.get_attribute("#na-reader .na-title a", "href") == (
        "https://example.org/news/2022/06/30/nato-madrid-summit-asia-pacific"
    )


def test_an_article_is_deleted_only_once_the_reader_confirms(page):
    title = DELETED_BY[page.size]
    open_library(page)
    stored = count_line(page)[1]
    page.fill("#na-lib-search textarea, #na-lib-search input", title.split()[0])
    page.wait_for_function(
        "document.querySelector('#na-lib-count')?.innerText.includes('match')",
        timeout=TIMEOUT_MS,
    )
    page.click("[data-testid='cell-0-0']")
    page.wait_for_selector("#na-reader .na-article-text", timeout=TIMEOUT_MS)
    assert page.inner_text("#na-reader .na-title").startswith(title)
    said: list[str] = []

    def no(dialog) -> None:
        said.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", no)
    page.click("#na-delete")
    assert said and title in said[0]  # the click returns once the dialog was answered
    assert page.inner_text("#na-reader .na-title").startswith(title)  # still there
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#na-delete")
    page.wait_for_selector("#na-removed .na-removed", timeout=TIMEOUT_MS)
    removed = page.inner_text("#na-removed")
    assert removed.startswith("removed ") and title in removed
    assert "store checked: consistent" in removed
    assert "/" not in removed.split("its file")[-1].split(" is still")[0]  # a name, no path
    assert count_line(page)[1] == stored - 1
    assert "Choose an article" in page.inner_text("#na-reader")
    assert not page.locator("#na-delete").is_enabled()


def test_the_api_lists_and_removes_articles(app):
    client = Client(app.url, verbose=False)
    listed = client.predict(api_name="/articles")
    fields = {"id", "title", "source", "published", "url", "chunks"}
    assert listed and all(set(e) == fields for e in listed)  # no server paths
    heat = client.predict("heatwave", api_name="/articles")
    assert len(heat) == 1  # no other test deletes it
    done = client.predict([heat[0]["id"]], api_name="/remove_articles")
    assert [e["id"] for e in done["removed"]] == [heat[0]["id"]]
    assert done["consistent"] and done["summary"][-1] == "store checked: consistent"
    assert done["kept_files"] == ["heatwave-europe.txt"]  # a folder's file: named, kept
    assert client.predict("heatwave", api_name="/articles") == []
    again = client.predict(f"{heat[0]['id']}, no-such-id", api_name="/remove_articles")
    assert again["removed"] == [] and again["unknown"] == [heat[0]["id"], "no-such-id"]
    dated = client.predict("", "Sample Wire", "2022-06-01", "2022-06-30", api_name="/articles")
    assert dated and all(e["source"] == "Sample Wire" for e in dated)
    assert all("2022-06-01" <= e["published"] <= "2022-06-30" for e in dated)


def test_the_conversation_is_exported_as_markdown_with_its_sources(page, tmp_path):
    ask(page, MADRID)
    ask(page, "What did the alliance say about China?")
    with page.expect_download(timeout=TIMEOUT_MS) as waiting:
        page.click("#na-export")
    download = waiting.value
    assert re.fullmatch(r"news-assistant-\d{4}-\d{2}-\d{2}\.md", download.suggested_filename)
    saved = tmp_path / "chat.md"
    download.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("# News assistant: conversation of ")
    assert f"## {MADRID}" in text and "## What did the alliance say about China?" in text
    first = text.split("## ")[1]
    assert "[1]" in first and "Sources:" in first
    assert f"1. **{MADRID_TITLE}** — Sample Wire, 30 Jun 2022. <https://example.org/" in first
    assert "\n   > " in first  # each source with the sentence it quotes
    assert "<" not in first.split("Sources:")[0]  # the answer as text: no page markup
    # one answer alone: its footer's "export" link
    shown = page.inner_text("#na-sources .na-for")
    with page.expect_download(timeout=TIMEOUT_MS) as waiting:
        page.locator("#na-chat a.na-export-one").first.click()
    alone = tmp_path / "one.md"
    waiting.value.save_as(alone)
    one = alone.read_text(encoding="utf-8")
    assert one.count("## ") == 1 and f"## {MADRID}" in one and "Sources:" in one
    assert page.inner_text("#na-sources .na-for") == shown  # the sources panel stayed


def stored_after(page, action) -> None:
    """Run `action`, then wait until the browser's storage changed (the conversation kept)."""
    before = page.evaluate("JSON.stringify(localStorage)")
    action()
    page.wait_for_function(
        "(before) => JSON.stringify(localStorage) !== before", arg=before, timeout=TIMEOUT_MS
    )


def test_a_conversation_outlives_a_reload_and_new_chat_ends_it(page):
    stored_after(page, lambda: ask(page, MADRID))
    page.reload()
    page.wait_for_selector("#na-sources .na-sources[data-key]", timeout=TIMEOUT_MS)
    assert page.locator("#na-chat [data-testid='bot']").count() == 1
    assert page.inner_text("#na-chat [data-testid='user']") == MADRID
    assert page.inner_text("#na-sources .na-for") == MADRID
    assert page.locator("#na-chat a.na-cite").count() >= 1
    stored_after(page, lambda: ask(page, "Who else attended it?"))  # a follow-up of the kept one
    read_as = page.locator("#na-chat .na-read-as").last.text_content() or ""
    assert "Madrid" in read_as
    stored_after(page, lambda: page.click("button:has-text('New chat')"))
    page.reload()
    page.wait_for_selector("#na-sources .na-empty", timeout=TIMEOUT_MS)
    assert page.locator("#na-chat [data-testid='bot']").count() == 0


def test_a_file_over_the_upload_limit_is_refused_before_it_is_sent(page, tmp_path):
    big = tmp_path / "whole-archive.txt"
    with big.open("wb") as fh:  # 21 MB: the page's limit is 20 MB (web.max_upload_mb)
        fh.truncate(21 * 1024 * 1024)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/upload" in r.url else None)
    page.get_by_role("tab", name="Add articles").click()
    page.locator("#na-upload input[type=file]").set_input_files(str(big))
    note = page.wait_for_selector("#na-upload-note .na-upload-note:not(:empty)", timeout=TIMEOUT_MS)
    assert note.inner_text() == (
        "“whole-archive.txt” is 21.0 MB, more than the 20 MB an upload may be: not sent."
    )
    assert sent == []  # not a byte of it left the browser
    folders = page.inner_text(".na-folders")
    assert "articles/" in folders and "the uploaded files" in folders
    assert str(Path(tempfile.gettempdir())) not in folders  # names, not the server's paths


def test_an_uploaded_articles_outlet_and_date_are_set_in_the_library(page, app, tmp_path):
    from gradio_client import handle_file

    name = f"ferry-{page.size}.txt"  # each size its own article
    path = tmp_path / name
    path.write_text(
        f"Night ferry resumes ({page.size})\n\nThe night ferry between Bergen and Stavanger "
        "resumed on Monday after a winter pause, the operator said.\n",
        encoding="utf-8",
    )
    report = Client(app.url, verbose=False).predict(
        [handle_file(str(path))], "Uploaded", "", api_name="/upload_articles"
    )
    assert report["added"] == 1, report
    open_library(page)
    page.fill("#na-lib-search textarea, #na-lib-search input", f"ferry {page.size}")
    page.wait_for_function(
        "document.querySelector('#na-lib-count')?.innerText.startsWith('1 of')",
        timeout=TIMEOUT_MS,
    )
    page.click("[data-testid='cell-0-0']")
    page.wait_for_selector("#na-edit input, #na-edit textarea", timeout=TIMEOUT_MS)
    assert "Uploaded" in page.inner_text("#na-reader .na-meta")
    page.locator("#na-edit textarea, #na-edit input").nth(0).fill("Coastal Courier")
    page.locator("#na-edit textarea, #na-edit input").nth(1).fill("2022-03-14")
    page.click("#na-save-fields")
    page.wait_for_function(
        "document.querySelector('#na-reader .na-meta')?.innerText.includes('Coastal Courier')",
        timeout=TIMEOUT_MS,
    )
    assert "14 Mar 2022" in page.inner_text("#na-reader .na-meta")
    assert "Saved." in page.inner_text("#na-removed")
    found = Client(app.url, verbose=False).predict(f"ferry {page.size}", api_name="/articles")
    assert [(a["source"], a["published"]) for a in found] == [("Coastal Courier", "2022-03-14")]
    # a folder's article (not uploaded) has no such fields: its file is the reader's own
    page.fill("#na-lib-search textarea, #na-lib-search input", "madrid")
    page.wait_for_function(
        "document.querySelector('#na-lib-count')?.innerText.includes('match “madrid”')",
        timeout=TIMEOUT_MS,
    )
    page.click("[data-testid='cell-0-0']")
    page.wait_for_function(
        "document.querySelector('#na-reader .na-title')?.innerText.includes('Madrid')",
        timeout=TIMEOUT_MS,
    )
    assert not page.locator("#na-edit").is_visible()


def test_the_date_filters_are_picked_on_a_calendar(page):
    if page.size == "phone":  # folded away on a phone: opened on demand
        page.locator("#na-filters .label-wrap").click()
    page.locator("#na-since .na-calendar-button").wait_for(timeout=TIMEOUT_MS)
    assert page.locator("#na-until .na-calendar-button").is_visible()
    since = page.locator("#na-since input.na-calendar")
    since.fill("2022-07-01")  # as the browser's date picker sets it
    assert page.input_value("#na-since textarea") == "2022-07-01"
    page.locator("#na-until input.na-calendar").fill("2022-06-01")
    assert page.input_value("#na-until textarea") == "2022-06-01"
    page.fill("#na-until textarea", "")  # typing still works
    since.fill("2022-06-30")  # the Madrid article's day (no test deletes it)
    assert page.input_value("#na-since textarea") == "2022-06-30"
    ask(page, MADRID)  # the question reads the picked date
    dates = page.locator("#na-sources .na-meta").all_inner_texts()
    assert dates and all("30 Jun 2022" in d or "Jul 2022" in d for d in dates), dates


def test_the_briefing_shows_the_latest_weeks_stories_and_opens_their_articles(page, app):
    newest = max(
        a["published"] for a in Client(app.url, verbose=False).predict(api_name="/articles")
    )
    page.get_by_role("tab", name="Briefing").click()
    card = page.locator("#na-briefing .na-story").first
    card.wait_for(timeout=TIMEOUT_MS)
    head = page.inner_text("#na-briefing .na-head")
    last_day = dt.date.fromisoformat(newest).strftime("%-d %b %Y")  # other tests change the store
    assert head.startswith("Top stories") and f"– {last_day} ·" in head  # its latest week
    assert card.locator(".na-lead mark").inner_text().strip()
    assert "Who reported it:" in card.inner_text()
    card.locator("a.na-read").click()  # its lead's article, whole, in the Library
    page.wait_for_selector("#na-reader .na-article-text", timeout=TIMEOUT_MS)
    assert page.get_by_role("tab", name="Library").get_attribute("aria-selected") == "true"
    page.get_by_role("tab", name="Briefing").click()
    page.locator("#na-brief-period input").click()
    page.get_by_role("option", name="The last 7 days").click()
    page.wait_for_function(  # the samples are of 2022: nothing this week
        "document.querySelector('#na-briefing')?.innerText.startsWith('Nothing new since')",
        timeout=TIMEOUT_MS,
    )

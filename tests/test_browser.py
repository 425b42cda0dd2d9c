"""The web page in a real browser (Debian's Chromium, headless, through Playwright): a streamed,
cited answer with its sentence highlighted, follow-ups, filters, uploads, and article markup shown
as text, never run. Screenshots the answered Madrid question (into docs/screenshot.png when
NEWS_ASSISTANT_SCREENSHOT=docs/screenshot.png is set)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import MADRID, SAMPLES
from tests.web_server import App, serving

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOSTILE_TITLE = (
    'Harbour gala <script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2">'
)
HOSTILE_TEXT = (
    f"{HOSTILE_TITLE}\n\n"
    "BERGEN, May 9 - The harbour gala in Bergen ended with fireworks over the fjord on Saturday. "
    'Organisers printed <script>window.__pwned=1</script> and <img src=x onerror="window.__pwned=2"> '
    "on the gala banner as a joke about web security.\n"
)
TIMEOUT_MS = 90_000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[App]:
    root = tmp_path_factory.mktemp("browser")
    shutil.copytree(SAMPLES, root / "articles")
    with serving(root, "--articles", str(root / "articles")) as running:
        yield running


@pytest.fixture(scope="module")
def page(app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        outside: list[str] = []
        page.on(
            "request",
            lambda r: outside.append(r.url) if not r.url.startswith(app.url) else None,
        )
        page.goto(app.url)
        page.wait_for_selector("#na-question textarea", timeout=TIMEOUT_MS)
        page.outside_requests = outside  # type: ignore[attr-defined]
        yield page
        browser.close()


def ask(page, question: str) -> None:
    """Type a question, send it, and wait until its answer is final (its sources shown, not
    the search placeholder: the chat and the panel may be drawn in different frames)."""
    answers = page.locator("#na-chat [data-testid='bot']")
    before = answers.count()
    page.fill("#na-question textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function(
        """([n, q]) => {
            const bots = document.querySelectorAll("#na-chat [data-testid='bot']");
            const head = document.querySelector("#na-sources .na-for");
            return bots.length > n && !bots[bots.length - 1].innerText.includes("▍")
                && head && head.innerText === q
                && !document.querySelector("#na-sources .na-searching");
        }""",
        arg=[before, question],
        timeout=TIMEOUT_MS,
    )


def new_chat(page) -> None:
    """An empty conversation on the chat tab, whatever an earlier test left on the page."""
    page.get_by_role("tab", name="Chat").click()
    page.get_by_role("button", name="New chat").click()
    page.wait_for_function(
        "document.querySelectorAll(\"#na-chat [data-testid='bot']\").length === 0",
        timeout=TIMEOUT_MS,
    )


def test_answer_streams_in_with_its_cited_sentence_highlighted(page, tmp_path):
    new_chat(page)
    ask(page, MADRID)
    answer = page.locator("#na-chat [data-testid='bot']").last.inner_text()
    assert "[1]" in answer and "Kishida" in answer
    marks = page.locator("#na-sources .na-passage mark")
    assert marks.count() >= 1
    assert any("Kishida" in t for t in marks.all_inner_texts())
    card = page.locator("#na-sources .na-card").first
    assert "Sample Wire" in card.inner_text() and "30 Jun 2022" in card.inner_text()
    link = card.locator(".na-title a")
    assert link.get_attribute("href").startswith("https://example.org/")
    assert link.get_attribute("rel") == "noopener noreferrer nofollow"
    # The README's picture is refreshed on request only: CI never writes into the checkout.
    shot = Path(os.environ.get("NEWS_ASSISTANT_SCREENSHOT", tmp_path / "screenshot.png"))
    page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.outside_requests == []


def test_follow_up_uses_the_conversation_and_new_chat_clears_it(page):
    new_chat(page)
    ask(page, MADRID)
    ask(page, "Who else attended it?")
    bots = page.locator("#na-chat [data-testid='bot']")
    assert bots.count() == 2
    assert "Albanese" in bots.last.inner_text() or "Yoon" in bots.last.inner_text()
    new_chat(page)  # waits until the conversation is gone


def test_bad_date_gets_an_inline_message(page):
    since = page.locator("#na-since textarea")
    since.fill("2022-13-45")
    since.blur()
    note = page.locator(".na-inline-note")
    note.wait_for(timeout=TIMEOUT_MS)
    assert "YYYY-MM-DD" in note.inner_text()
    since.fill("")
    since.blur()
    note.wait_for(state="detached", timeout=TIMEOUT_MS)


def test_uploaded_markup_is_shown_as_text_and_never_runs(page, tmp_path):
    hostile = tmp_path / "harbour-gala.txt"
    hostile.write_text(HOSTILE_TEXT, encoding="utf-8")
    page.get_by_role("tab", name="Articles").click()
    page.locator("#na-upload input[type=file]").set_input_files(str(hostile))
    page.locator("#na-report .na-ok").wait_for(timeout=TIMEOUT_MS)
    assert "harbour-gala.txt" in page.locator("#na-report").inner_text()
    assert "6 articles" in page.locator("#na-header").inner_text()
    new_chat(page)
    ask(page, "What did the organisers print on the gala banner in Bergen?")
    sources = page.locator("#na-sources").inner_text()
    chat = page.locator("#na-chat [data-testid='bot']").last.inner_text()
    assert "<script>window.__pwned=1</script>" in sources
    assert "<script>window.__pwned=1</script>" in chat
    assert '<img src=x onerror="window.__pwned=2">' in sources
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#na-sources script, #na-sources img, #na-chat img[src=x]").count() == 0

"""The web page in a real browser (Debian's Chromium, headless, through Playwright): a streamed,
cited answer with its sentence highlighted, sources grouped by article, refused questions,
follow-ups, filters, uploads with moving progress, article markup shown as text and never run,
and the phone layout (390x844). Screenshots the answered Madrid question at desktop and phone
size (into the files NEWS_ASSISTANT_SCREENSHOT and NEWS_ASSISTANT_SCREENSHOT_PHONE name, when
set: `make screenshot`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.helpers import MADRID
from tests.web_server import NEEDS_CHROMIUM, App, chromium, serving_samples

HOSTILE_TITLE = (
    'Harbour gala <script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2">'
)
HOSTILE_TEXT = (
    f"{HOSTILE_TITLE}\n\n"
    "BERGEN, May 9 - The harbour gala in Bergen ended with fireworks over the fjord on Saturday. "
    'Organisers printed <script>window.__pwned=1</script> and <img src=x onerror="window.__pwned=2"> '
    "on the gala banner as a joke about web security.\n"
)
MARKDOWN_TEXT = (
    "---\ntitle: Kite makers of Trondheim\nsource: Fjord Post\n"
    "url: https://example.org/news/kites\n---\n\n"
    "# Kite season opens\n\n"
    "The **kite makers** of Trondheim sold _four hundred_ kites on Sunday, "
    "according to [the guild](https://evil.example/guild) and `www.evil.example`.\n"
)
TIMEOUT_MS = 90_000
PHONE = {"width": 390, "height": 844}

pytestmark = [pytest.mark.slow, NEEDS_CHROMIUM]


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[App]:
    with serving_samples(tmp_path_factory.mktemp("browser")) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def desktop(app, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(app.url) else None)
    said: list[str] = []  # what the page reported, should it never show its question box
    page.on("console", lambda m: said.append(f"console {m.type}: {m.text}"))
    page.on("pageerror", lambda e: said.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: said.append(f"failed request: {r.url} {r.failure}"))
    page.goto(app.url)
    try:
        page.wait_for_selector("#na-question textarea", timeout=TIMEOUT_MS)
    except PlaywrightTimeout:
        shown = page.inner_text("body")[:500]
        pytest.fail(f"the page never showed its question box; it showed {shown!r}; {said[-20:]}")
    page.outside_requests = outside  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.fixture
def page(desktop):
    """The desktop page as every test expects it, whatever test ran before (they run in a
    random order): the chat tab, an empty conversation, no date filter, the header loaded."""
    new_chat(desktop)
    desktop.wait_for_function(
        "/^[0-9]/.test(document.querySelector('#na-header .na-line')?.innerText || '')",
        timeout=TIMEOUT_MS,
    )
    return desktop


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


def refused(page, question: str) -> str:
    """Send a question the page must refuse; the refusal's chat text once it is shown."""
    answers = page.locator("#na-chat [data-testid='bot']")
    before = answers.count()
    page.fill("#na-question textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function(
        """(n) => {
            const bots = document.querySelectorAll("#na-chat [data-testid='bot']");
            return bots.length > n && bots[bots.length - 1].innerText.includes("Not asked")
                && document.querySelector("#na-sources .na-none");
        }""",
        arg=before,
        timeout=TIMEOUT_MS,
    )
    return answers.last.inner_text()


def bubbles(page) -> list[str]:
    return page.locator(
        "#na-chat [data-testid='bot'], #na-chat [data-testid='user']"
    ).all_inner_texts()


def upload(page, path: Path) -> None:
    page.get_by_role("tab", name="Add articles").click()
    page.locator("#na-upload input[type=file]").set_input_files(str(path))
    page.wait_for_function(
        """(name) => {
            const report = document.querySelector("#na-report .na-report");
            return report && report.innerText.includes(name) && report.querySelector(".na-ok");
        }""",
        arg=path.name,
        timeout=TIMEOUT_MS,
    )


def new_chat(page) -> None:
    """An empty conversation on the chat tab and no date filter, whatever an earlier test left
    on the page."""
    page.get_by_role("tab", name="Chat").click()
    for box in ("#na-since textarea", "#na-until textarea"):
        page.fill(box, "")
    page.get_by_role("button", name="New chat").click()
    page.wait_for_function(
        "document.querySelectorAll(\"#na-chat [data-testid='bot']\").length === 0",
        timeout=TIMEOUT_MS,
    )


def test_answer_streams_in_with_its_cited_sentence_highlighted(page, tmp_path):
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
    ask(page, MADRID)
    ask(page, "Who else attended it?")
    bots = page.locator("#na-chat [data-testid='bot']")
    assert bots.count() == 2
    assert "Albanese" in bots.last.inner_text() or "Yoon" in bots.last.inner_text()
    read_as = bots.last.locator("details.na-read-as")  # the rewrite, on demand only
    assert read_as.count() == 1 and not read_as.evaluate("el => el.open")
    read_as.locator("summary").click()
    assert "Madrid" in read_as.inner_text() or "Japan" in read_as.inner_text()
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
    before = int(page.locator("#na-header .na-line").inner_text().split()[0])
    upload(page, hostile)
    assert "harbour-gala.txt" in page.locator("#na-report").inner_text()
    assert f"{before + 1} articles" in page.locator("#na-header").inner_text()
    new_chat(page)
    ask(page, "What did the organisers print on the gala banner in Bergen?")
    sources = page.locator("#na-sources").inner_text()
    chat = page.locator("#na-chat [data-testid='bot']").last.inner_text()
    assert "<script>window.__pwned=1</script>" in sources
    assert "<script>window.__pwned=1</script>" in chat
    assert '<img src=x onerror="window.__pwned=2">' in sources
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#na-sources script, #na-sources img, #na-chat img[src=x]").count() == 0


def test_refused_questions_get_a_message_and_clear_the_sources(page):
    ask(page, MADRID)  # the sources panel holds an answer's sources
    assert "Type a question" in refused(page, "") or "empty" in refused(page, "   ")
    # the refusal is a bubble of its own, not appended inside the answer's
    separate = page.evaluate(
        """() => {
            const bots = [...document.querySelectorAll("#na-chat [data-testid='bot']")];
            const row = (el) => el.closest(".message-row") || el.parentElement;
            return row(bots[bots.length - 1]) !== row(bots[bots.length - 2]);
        }"""
    )
    assert separate
    assert "No sources" in page.locator("#na-sources").inner_text()
    assert "empty" in refused(page, "\x01\x02\x03\x7f")
    assert "empty" in refused(page, "\u200b\ufeff \u200b")  # invisible only: nothing asked
    too_long = "Why " * 600
    message = refused(page, too_long)
    assert "characters long" in message and "ASSISTANT_" not in message  # no setting to a reader
    assert page.locator("#na-question textarea").input_value() == too_long  # kept to be fixed
    page.fill("#na-since textarea", "2022-07-01")
    page.fill("#na-until textarea", "2022-06-01")
    assert "is after the until date" in refused(page, MADRID)
    assert page.locator(".na-inline-note").count() == 1
    page.fill("#na-since textarea", "")
    page.fill("#na-until textarea", "")
    assert page.locator("#na-sources .na-searching").count() == 0
    assert all(text.strip() for text in bubbles(page)), bubbles(page)  # no empty bubble
    ask(page, MADRID)  # and the chat goes on
    assert "Kishida" in page.locator("#na-chat [data-testid='bot']").last.inner_text()


def test_sources_are_one_card_per_article_with_plain_text_passages(page, tmp_path):
    kites = tmp_path / "kites.md"
    kites.write_text(MARKDOWN_TEXT, encoding="utf-8")
    upload(page, kites)
    new_chat(page)
    ask(page, "How many kites did the kite makers of Trondheim sell on Sunday?")
    cards = page.locator("#na-sources .na-card")
    titles = [c.locator(".na-title").inner_text() for c in cards.all()]
    assert len(titles) == len(set(titles)), titles  # one card per article
    cited = page.locator("#na-sources .na-cited").count()
    assert cited >= cards.count()
    count = page.locator("#na-sources .na-count").inner_text()
    assert count.startswith(f"{cards.count()} article") and f"{cited} passage" in count
    footer = page.locator("#na-chat [data-testid='bot']").last.inner_text()
    assert count in footer
    kite_card = cards.filter(has_text="Kite makers of Trondheim")
    text = kite_card.inner_text()
    assert "kite makers of Trondheim sold four hundred kites" in text
    assert "**" not in text and "# Kite" not in text and "](" not in text
    links = page.locator("#na-sources a")
    hrefs = [a.get_attribute("href") for a in links.all()]
    assert "https://example.org/news/kites" in hrefs
    # out of the page: only the articles' own links ("Read the whole article" stays on it)
    outside = [h for h in hrefs if not h.startswith("#")]
    assert all(h.startswith("https://example.org/") for h in outside), hrefs
    assert page.locator("#na-chat a[href*='evil']").count() == 0


def test_upload_progress_moves_through_its_phases(page, tmp_path):
    big = tmp_path / "lighthouse-log.txt"
    big.write_text(
        "Lighthouse log\n\n"
        + " ".join(
            f"On day {i} the keepers of the Utsira lighthouse logged {i * 3} passing ships "
            f"and {i % 5 + 1} storms, and repainted section {i} of the tower."
            for i in range(400)
        ),
        encoding="utf-8",
    )
    page.get_by_role("tab", name="Add articles").click()
    page.evaluate(
        """() => {
            window.__steps = [];  // the step being done, each time it changes
            window.__blank = 0;  // times the panel was empty once the run had started
            const seen = () => {
                const panel = document.querySelector("#na-report .prose");
                const now = panel?.querySelector(".na-step-now")?.innerText || "";
                const step = now.replace(/[0-9,]+\\/[0-9,]+/, "").trim();
                if (step && window.__steps[window.__steps.length - 1] !== step) {
                    window.__steps.push(step);
                }
                if (window.__steps.length && !(panel?.innerText || "").trim()) window.__blank++;
            };
            window.__watch = new MutationObserver(seen);
            window.__watch.observe(document.body, {subtree: true, childList: true,
                                                   characterData: true});
        }"""
    )
    upload(page, big)
    steps = page.evaluate("window.__watch.disconnect(), window.__steps")
    names = ["Reading", "Embedding and writing chunks", "Updating the keyword index"]
    found = [next(i for i, n in enumerate(names) if n in step) for step in steps]
    assert found == sorted(found) and 1 in found, steps  # in order, as they were done
    assert page.evaluate("window.__blank") == 0  # never blank while it moved
    report = page.locator("#na-report").inner_text()
    assert "added 1" in report
    ticked = page.locator("#na-report .na-step-done").all_inner_texts()
    assert [t.strip("✓ ") for t in ticked] == names  # every step named, the keyword index too


@pytest.fixture
def phone(app, browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(app.url)
    page.wait_for_selector("#na-question textarea", timeout=TIMEOUT_MS)
    yield page
    context.close()


def test_phone_layout_puts_the_question_first_and_sources_after_the_answer(phone, tmp_path):
    box = phone.locator("#na-question textarea").bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"]  # on the first screen
    phone.wait_for_function(
        "!document.querySelector('#na-filters .label-wrap').classList.contains('open')",
        timeout=TIMEOUT_MS,
    )
    assert not phone.locator("#na-since textarea").is_visible()  # filters folded away
    ask(phone, MADRID)
    answer = phone.locator("#na-chat").bounding_box()
    sources = phone.locator("#na-sources").bounding_box()
    filters = phone.locator("#na-filters").bounding_box()
    assert answer["y"] < sources["y"] < filters["y"]
    assert sources["x"] >= 0 and sources["x"] + sources["width"] <= PHONE["width"]
    assert phone.locator("#na-sources mark").first.is_visible()
    boxed = phone.evaluate(  # the sources scroll with the page, not in a box of their own
        """() => [...document.querySelectorAll('#na-sources, #na-sources *')].filter(
              e => e.scrollHeight > e.clientHeight + 1
                   && ['auto', 'scroll'].includes(getComputedStyle(e).overflowY)).length"""
    )
    assert boxed == 0
    shot = Path(os.environ.get("NEWS_ASSISTANT_SCREENSHOT_PHONE", tmp_path / "phone.png"))
    phone.screenshot(path=str(shot), full_page=True)  # the answer, then its sources
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    phone.locator("#na-filters .label-wrap").click()  # and they open on demand
    phone.locator("#na-since textarea").wait_for(timeout=TIMEOUT_MS)

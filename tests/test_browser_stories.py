"""The Briefing tab over a story told by three outlets, in a real browser at desktop and phone
sizes: the story's card opens to how it unfolded and to who reported what (the outlets' death
tolls side by side, what one outlet alone reports); `/coverage` gives the same as JSON."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client

from tests.web_server import NEEDS_CHROMIUM, SIZES, App, chromium, page_at, serving

TIMEOUT_MS = 90_000
STORIES = Path(__file__).parent / "data" / "stories"

pytestmark = [pytest.mark.slow, NEEDS_CHROMIUM]


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[App]:
    root = tmp_path_factory.mktemp("stories")
    shutil.copytree(STORIES, root / "articles")
    with serving(root, "--articles", str(root / "articles")) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


@pytest.fixture(params=sorted(SIZES))
def page(request, app, browser):
    with page_at(browser, app.url, request.param) as shown:
        yield shown


def test_a_story_card_opens_to_its_timeline_and_who_reported_what(page):
    page.get_by_role("tab", name="Briefing").click()
    card = page.locator("#na-briefing .na-story").first
    card.wait_for(timeout=TIMEOUT_MS)
    assert "4 articles · 3 outlets" in card.locator(".na-meta").inner_text()
    card.locator(".na-unfold summary").click()
    steps = card.locator(".na-unfold li")
    assert [steps.nth(i).locator(".na-when").inner_text() for i in range(steps.count())] == [
        "6 May 2024",
        "8 May 2024",
    ]
    assert "also Valley Wire, Kandor Times" in steps.nth(0).inner_text()  # the same, retold
    coverage = card.locator(".na-coverage")
    assert coverage.locator("summary").inner_text().startswith("Who reported what")
    coverage.locator("summary").click()
    differ = coverage.locator(".na-differ").first
    differ.wait_for(state="visible", timeout=TIMEOUT_MS)
    told = differ.inner_text()
    assert "52" in told and "61" in told and "(Kandor Times, 7 May 2024)" in told
    assert "double shift" in coverage.locator(".na-only").all_inner_texts().__str__()
    box = differ.bounding_box()
    assert (
        box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]
    )


def test_coverage_over_http_names_the_diverging_toll(app):
    client = Client(app.url, verbose=False)
    brief = client.predict(since="2024-05-01", until="2024-05-31", api_name="/brief")
    story = brief["stories"][0]
    found = client.predict(story=story["id"], api_name="/coverage")
    assert found["story_id"] == story["id"]
    toll = next(d for d in found["differing"] if d["about"].startswith("people"))
    assert sorted(c["value"] for c in toll["claims"]) == ["52", "52", "61"]
    by_words = client.predict(story="pilgrim bus crash in the Kandor gorge", api_name="/coverage")
    assert by_words["story_id"] == story["id"]

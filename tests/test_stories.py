"""Stories in the index and who reported what, with the real model and store: an article joins
the closest story as it is synced, ids stay across syncs, a story grows over days, a copy joins
its original's story, a removed article leaves its story, the table survives damage and a change
of settings, `assistant regroup`; a story's coverage flags an outlet's diverging number and
what one outlet alone reports."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant, Settings
from assistant.brief import make_brief
from assistant.coverage import make_coverage
from index import ArticleIndex, ArticleInfo, IndexSettings
from index.store.records import ArticleRecord
from index.stories import StoreStories
from tests.helpers import run_assistant

STORIES = Path(__file__).parent / "data" / "stories"  # a bus crash told over three days by
# three outlets (two give its toll as 52, one as 61), and an unrelated chess story


def published(path: Path) -> str:
    return next(
        line.split(":", 1)[1].strip()
        for line in path.read_text().splitlines()
        if line.startswith("published:")
    )


@pytest.fixture
def news(tmp_path: Path) -> Path:
    shutil.copytree(STORIES, tmp_path / "news")
    return tmp_path / "news"


def stories(index: ArticleIndex) -> dict[str, str]:
    index.refresh()  # the store as it is now, another index's syncs included
    return index.stories_of(index.records())


def test_a_story_grows_over_days_and_keeps_its_id_across_syncs(tmp_path, embedder, news):
    days = tmp_path / "by-day"
    days.mkdir()
    index = ArticleIndex.open(tmp_path / "store", embedder=embedder)
    seen: dict[str, str] = {}
    for day in ("2024-05-06", "2024-05-07", "2024-05-08"):  # one sync a day, as news arrives
        for article in sorted(news.glob("*.md")):
            if published(article) == day:
                shutil.copy(article, days / article.name)
        assert index.sync([days]).failed == 0
        now = stories(index)
        assert {a: now[a] for a in seen} == seen  # what was assigned stays
        seen = now
    crash = {seen[a] for a in seen if "crash" in a}
    assert len(crash) == 1 and seen[next(a for a in seen if "chess" in a)] not in crash
    story = crash.pop()
    assert story == "crash-1-herald.md"  # the id of its first article (by date, then id)
    assert len(index.story_articles(story)) == 4
    # a reader opening the store later sees the same stories
    again = ArticleIndex.open(tmp_path / "store", embedder=embedder)
    assert stories(again) == seen
    # regrouping everything again, in date order, keeps the ids of stories started the same way
    assert again.regroup() == (2, 2) and stories(again) == seen


def test_a_grown_story_quotes_what_its_newest_day_adds(tmp_path, embedder, news):
    index = ArticleIndex.open(tmp_path / "store", embedder=embedder)
    index.sync([news])
    brief = make_brief(index, dt.date(2024, 5, 8), dt.date(2024, 5, 8))
    (story,) = brief.stories
    assert story.began == "2024-05-06" and story.first == story.last == "2024-05-08"
    assert story.new is not None and "Guard rails" in story.new.quote
    text = index.article(story.new.article_id).text
    assert text[story.new.quote_start : story.new.quote_end] == story.new.quote
    assert "(the story began 2024-05-06)" in "\n".join(brief.lines())
    first_day = make_brief(index, dt.date(2024, 5, 6), dt.date(2024, 5, 6))
    assert first_day.stories[0].new is None  # nothing earlier: it did not grow


def test_a_copy_joins_its_original_story_and_a_removed_article_leaves_it(tmp_path, embedder, news):
    index = ArticleIndex.open(tmp_path / "store", embedder=embedder)
    index.sync([news])
    before = stories(index)
    crash = before[next(a for a in before if "crash-1-wire" in a)]
    chess = before[next(a for a in before if "chess" in a)]
    copy = news / "chess-copy.md"
    copy.write_text(  # a syndicated copy: another outlet, a line of its own
        (news / "chess.md").read_text().replace("Board Weekly", "Board Daily")
        + "\nThe open was played over two days.\n"
    )
    index.sync([news])
    after = stories(index)
    copy_id = next(a for a in after if "chess-copy" in a)
    assert index.copies_of(copy_id)  # folded
    assert after[copy_id] == chess  # the copy is part of its original's story
    founder = next(a for a in index.story_articles(crash))
    assert index.remove([founder]) == 1
    left = stories(index)
    assert founder not in left and left[next(a for a in left if "crash-3" in a)] == crash
    assert len(index.story_articles(crash)) == 3  # the story keeps its id without its first


def test_the_stories_table_survives_damage_and_follows_its_settings(tmp_path, embedder, news):
    store = tmp_path / "store"
    index = ArticleIndex.open(store, embedder=embedder)
    index.sync([news])
    before = stories(index)
    table = store / "stories-news.npz"
    assert table.exists()
    table.write_bytes(b"not a table")  # damaged: assigned again from the stored vectors
    assert stories(ArticleIndex.open(store, embedder=embedder)) == before
    apart = IndexSettings(story_cosine=0.99)  # nothing is that close: every article alone
    alone = stories(ArticleIndex.open(store, apart, embedder=embedder))
    assert len(set(alone.values())) == len(alone) == len(before)
    assert stories(ArticleIndex.open(store, embedder=embedder)) == before


def test_the_days_a_story_spans_are_bounded():
    def record(a: str, day: str) -> ArticleRecord:
        return ArticleRecord(ArticleInfo(a, published=day, content_hash="h"), chunks=1)

    vectors = {"a": np.array([1.0, 0.0]), "b": np.array([1.0, 0.0]), "c": np.array([1.0, 0.0])}
    records = {"a": record("a", "2024-01-01"), "b": record("b", "2024-01-09")}
    records["c"] = record("c", "2024-01-12")
    table = StoreStories(Path("/nonexistent"), "news", cosine=0.5, days=10)
    table.update(records, lambda ids: {}, lambda ids: {}, 1, False, vectors)
    assert table.story_of("abc") == {"a": "a", "b": "a", "c": "c"}  # c would span 11 days


@pytest.mark.slow
def test_coverage_flags_a_diverging_number_and_what_one_outlet_alone_reports(
    tmp_path, embedder, news
):
    index = ArticleIndex.open(tmp_path / "store", embedder=embedder)
    index.sync([news])
    story = stories(index)[next(a for a in stories(index) if "crash-1-wire" in a)]
    coverage = make_coverage(index, story)
    assert [o.outlet for o in coverage.outlets] == ["Valley Wire", "Hill Herald", "Kandor Times"]
    differing = {d.about.split()[0]: d for d in coverage.differing}
    assert set(differing) == {"people", "the"}  # the toll, and "the date" the bus left
    toll = differing["people"]
    assert sorted((c.outlet, c.value) for c in toll.claims) == [
        ("Hill Herald", "52"),
        ("Kandor Times", "61"),
        ("Valley Wire", "52"),
    ]
    assert sorted((c.outlet, c.value) for c in differing["the"].claims) == [
        ("Kandor Times", "May 5"),
        ("Valley Wire", "May 6"),
    ]
    for claim in toll.claims:
        text = index.article(claim.quote.article_id).text
        assert text[claim.quote.quote_start : claim.quote.quote_end] == claim.quote.quote
    only = {(e.outlet, e.quote.quote) for e in coverage.only}
    assert any(o == "Kandor Times" and "double shift" in q for o, q in only)
    assert not any("killing 52 people" in q for _, q in only)  # two outlets said it
    shown = "\n".join(coverage.lines())
    assert "Numbers that differ:" in shown and "61 (Kandor Times, 2024-05-07)" in shown
    assert "May 5 (Kandor Times, 2024-05-07)" in shown
    chess = stories(index)[next(a for a in stories(index) if "chess" in a)]
    alone = make_coverage(index, chess)
    assert alone.differing == () and "nothing to compare" in "\n".join(alone.lines())
    # the same through the Python API, the command line and its JSON
    assistant = Assistant(index, Settings(store=tmp_path / "store"))
    assert assistant.coverage(story).differing == coverage.differing
    assert assistant.coverage("Kandor bus crash pilgrims").story_id == story
    store, env = str(tmp_path / "store"), dict(os.environ)
    cli = run_assistant("coverage", story, "--json", "--store", store, env=env)
    assert cli.returncode == 0, cli.stderr
    data = json.loads(cli.stdout)
    assert data["story_id"] == story and data["differing"][0]["claims"]
    nothing = run_assistant("coverage", "volcanic eruption in Iceland", "--store", store, env=env)
    assert nothing.returncode == 1 and nothing.stderr.startswith("error: no story matches")
    regroup = run_assistant("regroup", "--store", store, env=env)
    assert regroup.returncode == 0, regroup.stderr
    assert regroup.stdout.strip() == "5 articles in 2 stories (before: 2 stories)"


def test_who_reported_what_is_answered_in_the_chat(tmp_path, embedder, news):
    index = ArticleIndex.open(tmp_path / "store", embedder=embedder)
    index.sync([news])
    assistant = Assistant(index, Settings(store=tmp_path / "store"))
    answer = assistant.ask("Who reported what about the Kandor bus crash?")
    assert answer.answered and answer.standalone_question == "coverage: Kandor bus crash"
    texts = [s.text for s in answer.sentences]
    assert any(t.startswith("Kandor Times, 2024-05-07: ") and "61 people" in t for t in texts)
    assert any(t.startswith("Hill Herald, 2024-05-06: ") and "52 people" in t for t in texts)
    for c in answer.citations:
        assert index.article(c.article_id).text[c.quote_start : c.quote_end] == c.quote
    alone = assistant.ask("How did the outlets cover the Oslo chess open?")
    assert not alone.answered and alone.text.startswith("Only Board Weekly (1) reported")
    unknown = assistant.ask("Who reported what about the volcanic eruption in Iceland?")
    assert not unknown.answered and unknown.text.startswith("No stored story is about")
    plain = assistant.ask("How many people died in the Kandor bus crash?")  # a question
    assert plain.standalone_question.startswith("How many")


def test_a_reader_takes_the_stories_a_sync_wrote(tmp_path, embedder, news):
    store = tmp_path / "store"
    writer = ArticleIndex.open(store, embedder=embedder)
    (news / "chess.md").rename(tmp_path / "chess.md")
    writer.sync([news])
    reader = ArticleIndex.open(store, embedder=embedder)  # the page, in another process
    assert stories(reader) == stories(writer)
    shutil.copy(tmp_path / "chess.md", news / "chess.md")
    writer.sync([news])

    def never(ids):  # the reader must not need to assign anything itself
        raise AssertionError(f"the reader read vectors of {ids}")

    reader._chunk_means = never  # type: ignore[method-assign]
    assert stories(reader) == stories(writer) and len(set(stories(reader).values())) == 2

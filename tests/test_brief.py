"""The brief on the sample articles, with the real model and store: the index's stories,
ranked, each with a headline and a lead quoted verbatim with its offsets; ids
that stay the same across syncs; folded copies counted once; a period with no news; the command
line (`assistant brief`) and the Python API."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from assistant import Assistant, Brief, QuestionError, Settings
from assistant.brief import make_brief
from index import ArticleIndex
from tests.helpers import run_assistant

JUNE, AUGUST = dt.date(2022, 6, 1), dt.date(2022, 8, 1)


def test_the_brief_ranks_stories_and_quotes_each_lead_verbatim(index):
    brief = make_brief(index, JUNE, AUGUST)
    dated = [r for r in index.records().values() if r.published[:10] >= "2022-06-01"]
    assert brief.articles == len(dated) and brief.stories
    sizes = [len(s.articles) for s in brief.stories]
    assert sizes == sorted(sizes, reverse=True)  # the most widely covered first
    for story in brief.stories:
        assert story.headline in {a.title for a in story.articles}
        assert story.first <= story.last
        assert {index.stories_of([a.id])[a.id] for a in story.articles} == {story.id}
        lead = story.lead
        assert lead is not None and lead.article_id in {a.id for a in story.articles}
        text = index.article(lead.article_id).text
        assert text[lead.quote_start : lead.quote_end] == lead.quote
        assert not lead.quote.startswith(("MADRID", "By ", story.headline))
    madrid = next(s for s in brief.stories if "Madrid" in s.headline)
    assert madrid.outlets == ("Sample Wire",) and madrid.first == "2022-06-30"
    assert madrid.lead.quote.startswith("NATO's summit in Madrid ended on Thursday")
    data = json.loads(json.dumps(brief.to_dict()))
    assert {"id", "title", "source", "published", "url"} == set(data["stories"][0]["articles"][0])


def test_story_ids_stay_across_syncs_and_copies_count_once(index, folder):
    before = make_brief(index, JUNE, AUGUST)
    (folder / "copy-of-madrid.md").write_text(  # the same story under another name
        (folder / "madrid-nato-summit.md")
        .read_text()
        .replace(
            "url: https://example.org/news/2022/06/30/nato-madrid-summit-asia-pacific",
            "url: https://example.org/copies/madrid",
        )
    )
    index.sync([folder])
    after = make_brief(index, JUNE, AUGUST)
    assert {s.id for s in after.stories} == {s.id for s in before.stories}
    assert after.articles == before.articles  # the folded copy is one article
    assert [len(s.articles) for s in after.stories] == [len(s.articles) for s in before.stories]


def test_a_period_without_news_says_so(index):
    empty = make_brief(index, dt.date(2023, 1, 1), dt.date(2023, 1, 7))
    assert empty.stories == () and empty.articles == 0
    assert empty.lines() == ["Nothing new since 2023-01-01 (up to 2023-01-07)."]


def test_the_python_api_briefs_a_period_and_refuses_a_bad_one(index, tmp_path):
    assistant = Assistant(index, Settings(store=tmp_path / "store"))
    brief = assistant.brief("2022-06-01", "2022-08-01", top=1)
    assert isinstance(brief, Brief) and len(brief.stories) == 1
    about = assistant.brief("2022-06-01", "2022-08-01", about="telescope galaxies images")
    assert [s.headline for s in about.stories] == [
        "Webb telescope's first full-colour images reveal distant galaxies and a watery exoplanet"
    ]
    with pytest.raises(QuestionError, match="not a date"):
        assistant.brief("last week")
    with pytest.raises(QuestionError, match="between 1 and 50"):
        assistant.brief("2022-06-01", top=0)


def test_a_question_for_the_news_in_general_is_answered_with_a_brief(index, tmp_path):
    assistant = Assistant(index, Settings(store=tmp_path / "store"))
    answer = assistant.ask("What's in the news this week?", as_of="2022-07-21")
    assert answer.answered and answer.citations  # the week up to 2022-07-21: the ECB story
    for c in answer.citations:
        text = index.article(c.article_id).text
        assert text[c.quote_start : c.quote_end] == c.quote  # each lead quoted verbatim
        assert "2022-07-15" <= c.published[:10] <= "2022-07-21"
    assert [s.citations for s in answer.sentences] == [
        (n,) for n in range(1, len(answer.citations) + 1)
    ]
    quiet = assistant.ask("What happened today?", as_of="2023-01-01")
    assert not quiet.answered and quiet.citations == ()
    assert quiet.text.startswith("Nothing new on 2023-01-01.")
    topical = assistant.ask("What happened at the Madrid summit?")  # a topic: not a brief
    assert any("Madrid" in c.title for c in topical.citations)


@pytest.mark.slow
def test_cli_brief_prints_stories_or_json_and_refuses_bad_periods(index, tmp_path):
    env = {**os.environ}
    store = str(tmp_path / "store")
    shown = run_assistant(
        "brief", "--since", "2022-06-01", "--until", "2022-08-01", "--store", store, env=env
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("Top stories, 2022-06-01 to 2022-08-01 (")
    assert "1. " in shown.stdout and "“" in shown.stdout
    as_json = run_assistant(
        "brief",
        "--since",
        "2022-06-01",
        "--until",
        "2022-08-01",
        "--json",
        "--top",
        "2",
        "--store",
        store,
        env=env,
    )
    data = json.loads(as_json.stdout)
    assert len(data["stories"]) <= 2 and data["stories"][0]["articles"]
    week = run_assistant(
        "brief", "--since", "7d", "--until", "2023-03-07", "--store", store, env=env
    )
    assert week.stdout.strip() == "Nothing new since 2023-03-01 (up to 2023-03-07)."
    for args in (
        ("--top", "0"),
        ("--since", "soon"),
        ("--since", "2022-08-01", "--until", "2022-06-01"),
    ):
        bad = run_assistant("brief", *args, "--store", store, env=env)
        assert bad.returncode == 2 and bad.stderr.startswith("error: "), (args, bad.stderr)
        assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


FERRY = [  # one story over three days, told twice on the second day by two outlets
    (
        "ferry-1.md",
        "Coast Post",
        "2022-03-01",
        "Ferry strike begins",
        "Ferry crews on the Hardanger routes began a strike on Tuesday over pay and rest hours.",
    ),
    (
        "ferry-2.md",
        "Coast Post",
        "2022-03-02",
        "Ferry strike strands travellers",
        "Hundreds of travellers were stranded on Wednesday as the Hardanger ferry strike halted every crossing.",
    ),
    (
        "ferry-2b.md",
        "Fjord Times",
        "2022-03-02",
        "Travellers stranded by ferry strike",
        "Hundreds of travellers were stranded on Wednesday because the Hardanger ferry strike stopped all crossings.",
    ),
    (
        "ferry-3.md",
        "Fjord Times",
        "2022-03-04",
        "Ferry strike ends with deal",
        "The Hardanger ferry strike ended on Friday after crews and operators agreed a new pay deal.",
    ),
    (
        "ferry-undated.md",
        "",
        "",
        "Ferry strike explained",
        "The Hardanger ferry strike is about pay and rest hours for the crews of the routes.",
    ),
]


@pytest.fixture
def ferry(tmp_path: Path, embedder) -> ArticleIndex:
    folder = tmp_path / "ferry"
    folder.mkdir()
    for name, source, day, title, text in FERRY:
        front = (
            f"title: {title}\n"
            + (f"source: {source}\n" if source else "")
            + (f"published: {day}\n" if day else "")
        )
        (folder / name).write_text(f"---\n{front}---\n\n{text}\n", encoding="utf-8")
    index = ArticleIndex.open(tmp_path / "ferry-store", embedder=embedder)
    assert index.sync([folder]).added == len(FERRY)
    return index


def test_a_timeline_tells_a_story_in_date_order_merging_repeats(ferry, tmp_path):
    from assistant.timeline import make_timeline

    timeline = make_timeline(ferry, "Hardanger ferry strike")
    dates = [d.date for d in timeline.developments]
    assert dates == ["2022-03-01", "2022-03-02", "2022-03-04"]  # by date; the undated left out
    second = timeline.developments[1]
    assert second.article.source == "Coast Post" and [a.source for a in second.also] == [
        "Fjord Times"
    ]
    for d in timeline.developments:
        text = ferry.article(d.lead.article_id).text
        assert text[d.lead.quote_start : d.lead.quote_end] == d.lead.quote
    shown = "\n".join(timeline.lines())
    assert "also reported by Fjord Times" in shown
    assert (
        Assistant(ferry, Settings(store=tmp_path / "ferry-store"))
        .timeline("Hardanger ferry strike", since="2022-03-03")
        .developments[0]
        .date
        == "2022-03-04"
    )
    assert make_timeline(ferry, "volcanic eruption in Iceland").developments == ()


def test_how_a_story_unfolded_is_answered_with_its_timeline(ferry, tmp_path):
    assistant = Assistant(ferry, Settings(store=tmp_path / "ferry-store"))
    answer = assistant.ask("How did the Hardanger ferry strike unfold?")
    assert answer.answered and answer.standalone_question == "timeline: Hardanger ferry strike"
    assert [s.text[:10] for s in answer.sentences] == ["2022-03-01", "2022-03-02", "2022-03-04"]
    repeat = answer.citations[1]
    assert [c.source for c in repeat.also_in] == ["Fjord Times"]  # "also reported by"
    for c in answer.citations:
        assert ferry.article(c.article_id).text[c.quote_start : c.quote_end] == c.quote
    latest = assistant.ask("What's the latest on the ferry strike?")
    assert latest.sentences[-1].text.startswith("2022-03-04")


def test_what_happened_since_a_weekday_is_a_brief_of_those_days(ferry, tmp_path):
    assistant = Assistant(ferry, Settings(store=tmp_path / "ferry-store"))
    # as of Friday 2022-03-04: since Wednesday is 2022-03-02 .. 2022-03-04
    answer = assistant.ask("What happened since Wednesday?", as_of="2022-03-04")
    assert answer.answered
    assert all("2022-03-02" <= c.published[:10] <= "2022-03-04" for c in answer.citations)

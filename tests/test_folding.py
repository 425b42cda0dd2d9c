"""Syndicated copies folded at query time on a real store (the real model, embedded Chroma):
retrieval returns one article per story, and its citation says where else the story ran, in the
Python API, the command line and the sources panel. `index.copies.near_dup` alone is tested in
`tests/test_near_dup.py`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from assistant import Assistant, Settings
from assistant.web.render import sources_html
from index import IndexSettings
from tests.helpers import COPIES, ROOT, UNRELATED, WIRE

QUESTION = "How much rain fell on the hills above Porthaven?"
STORIES = [
    {"id": "wire", "title": "Storm floods harbour town", "source": "Wire", "text": WIRE},
    {
        "id": "echo",
        "title": "Harbour town under water",
        "source": "Northern Echo",
        "url": "https://echo.example/porthaven-floods",
        "published": "2022-10-04",
        "text": COPIES["dateline and byline"],
    },
    {
        "id": "gazette",
        "title": "Porthaven floods",
        "source": "Coast Gazette",
        "text": COPIES["dropped paragraph"],
    },
    {"id": "bank", "title": "Rates rise again", "source": "Money Desk", "text": UNRELATED},
]


@pytest.fixture
def articles(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "wire.jsonl").write_text("".join(json.dumps(s) + "\n" for s in STORIES))
    return folder


def test_one_article_per_story_and_its_citation_names_the_copies(open_index, articles):
    index = open_index()
    index.sync([articles])
    assert index.copies_of("wire") == ("echo", "gazette") and index.copies_of("bank") == ()
    assistant = Assistant(index, Settings())
    passages = assistant.retrieve(QUESTION, top_k=4)
    stories = [p.article_id for p in passages]
    assert len({a for a in stories if a in ("wire", "echo", "gazette")}) == 1, stories
    answer = assistant.ask(QUESTION)
    cited = answer.citations[0]
    assert "120 millimetres" in cited.quote
    copies = {c.article_id: c for c in cited.also_in}
    assert set(copies) | {cited.article_id} == {"wire", "echo", "gazette"}
    if "echo" in copies:
        assert copies["echo"].source == "Northern Echo" and copies["echo"].url.startswith("https")
    assert answer.to_dict()["citations"][0]["also_in"][0]["article_id"] in copies
    html = sources_html(answer)
    also = html[html.index('class="na-also"') :]
    assert all(c.source in also for c in cited.also_in) and cited.source not in also
    # a copy removed: the rest of the group still folds, the citation names one fewer
    (articles / "wire.jsonl").write_text(
        "".join(json.dumps(s) + "\n" for s in STORIES if s["id"] != "gazette")
    )
    index.sync([articles], prune=True)
    assert index.copies_of("wire") == ("echo",)


def test_folding_off_returns_each_copy_and_names_none(open_index, articles):
    index = open_index(IndexSettings(fold_copies=False))
    index.sync([articles])
    passages = Assistant(index, Settings()).retrieve(QUESTION, top_k=4)
    assert {"wire", "echo", "gazette"} <= {p.article_id for p in passages}
    assert all(p.also_in == () for p in passages) and index.copies_of("wire") == ()


def test_a_new_process_reads_the_saved_groups(open_index, articles, store_dir):
    open_index().sync([articles])
    assert sorted(p.name for p in store_dir.glob("copies-*")) == [
        "copies-news.json",
        "copies-news.npz",
    ]
    again = open_index(store=store_dir)
    assert again.group_of("gazette") == again.group_of("wire") == "echo"  # smallest id
    assert again.copies_of("echo") == ("gazette", "wire")


@pytest.mark.slow
def test_assistant_ask_prints_where_else_the_story_ran(articles, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_INDEX__MODEL_CACHE"] = os.environ["ASSISTANT_INDEX__MODEL_CACHE"]
    store = ["--store", str(tmp_path / "store")]
    for command in (["index", str(articles)], ["ask", QUESTION]):
        run = subprocess.run(
            [sys.executable, "-m", "assistant", *command, *store],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr
    also = next(line for line in run.stdout.splitlines() if "also in: " in line)
    named = [s["source"] for s in STORIES[:3] if s["source"] in also]
    assert len(named) == 2, also
    assert "Northern Echo" not in named or "Northern Echo (2022-10-04)" in also

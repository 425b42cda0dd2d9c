"""The article library on the sample articles, with the real model and store: listing, searching
and filtering what the store holds; removing articles (store checked after, unknown ids named,
an uploaded file deleted with its last article, a folder's file left and named); the same
through the command line (`assistant articles`, `assistant remove`) and the Python API."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from assistant import Assistant, LibraryEntry, QuestionError, Settings, library
from index import ArticleIndex
from tests.helpers import MADRID, SAMPLES, run_assistant

MADRID_ID = "https://example.org/news/2022/06/30/nato-madrid-summit-asia-pacific"


def test_entries_are_listed_newest_first_with_outlet_date_link_and_chunks(index):
    found = library.entries(index)
    assert len(found) == len(index.records()) == 5
    dated = [e.published for e in found if e.published]
    assert dated == sorted(dated, reverse=True)
    assert not found[-1].published  # the undated article comes last
    madrid = next(e for e in found if e.id == MADRID_ID)
    assert madrid.source == "Sample Wire" and madrid.published == "2022-06-30"
    assert madrid.url == MADRID_ID and madrid.chunks == index.records()[MADRID_ID].chunks > 0
    assert madrid.to_dict()["title"].startswith("Asia-Pacific leaders join NATO summit")


def test_search_takes_every_word_in_any_case_and_filters_narrow(index):
    import datetime as dt

    assert [e.id for e in library.entries(index, "nato MADRID")] == [MADRID_ID]
    assert library.entries(index, "nato telescope") == []
    rates = library.entries(index, "rates")
    assert len(rates) == 2 and all("rates" in e.title for e in rates)
    science = library.entries(index, sources=["Sample Science Desk"])
    assert [e.source for e in science] == ["Sample Science Desk"]
    july = library.entries(index, since=dt.date(2022, 7, 1), until=dt.date(2022, 7, 31))
    assert {e.published[:7] for e in july} == {"2022-07"} and len(july) == 2


def test_remove_takes_the_article_and_its_chunks_and_checks_the_store(index, folder):
    before = index.stats().chunks
    chunks = index.records()[MADRID_ID].chunks
    removal = library.remove(index, [MADRID_ID, "no-such-article"])
    assert [e.id for e in removal.removed] == [MADRID_ID]
    assert removal.unknown == ("no-such-article",)
    assert removal.consistent and index.check().consistent
    assert MADRID_ID not in index.records() and index.article(MADRID_ID) is None
    assert index.stats().chunks == before - chunks
    assert all(p.article_id != MADRID_ID for p in index.keyword_search("NATO Madrid Kishida", 20))
    # the file is the user's: it stays, and the summary says a re-index brings it back
    assert removal.kept_files == (str((folder / "madrid-nato-summit.md").resolve()),)
    assert (folder / "madrid-nato-summit.md").exists()
    lines = removal.summary(names=True)
    assert any("madrid-nato-summit.md" in line and "re-index" in line for line in lines)
    assert all(str(folder) not in line for line in lines)  # names only: no server paths
    assert lines[-1] == "store checked: consistent"
    assert index.sync([folder]).added == 1  # as said


def test_an_uploaded_file_goes_with_its_last_article(tmp_path, embedder):
    store = tmp_path / "uploaded"
    uploads = store / "uploads"
    uploads.mkdir(parents=True)
    for name in ("heatwave-europe.txt", "interest-rates.json"):
        shutil.copy(SAMPLES / name, uploads / name)
    index = ArticleIndex.open(store, embedder=embedder)
    assert index.sync([uploads]).added == 3
    by_file: dict[str, list[str]] = {}
    for record in index.records().values():
        by_file.setdefault(Path(record.path).name, []).append(record.id)
    heat, rates = by_file["heatwave-europe.txt"], sorted(by_file["interest-rates.json"])
    assert len(heat) == 1 and len(rates) == 2
    removal = library.remove(index, [heat[0], rates[0]], uploads)
    assert removal.deleted_files == (str(uploads / "heatwave-europe.txt"),)
    assert not (uploads / "heatwave-europe.txt").exists()
    # one article of the rates file is left: the file stays, and the removal says so
    assert (uploads / "interest-rates.json").exists()
    assert removal.kept_files == (str(uploads / "interest-rates.json"),)
    assert removal.consistent
    assert index.sync([uploads], prune=True).added == 1  # only the rates file's article returns
    assert heat[0] not in index.records() and set(rates) <= set(index.records())


def test_nothing_known_removes_nothing(index):
    before = index.stats()
    removal = library.remove(index, ["nope", "  "])
    assert removal.removed == () and removal.unknown == ("nope",)
    assert index.stats() == before


def test_the_python_api_lists_and_removes(index, tmp_path):
    assistant = Assistant(index, Settings(store=tmp_path / "store"))
    found = assistant.articles("summit", source="Sample Wire")
    assert [e.id for e in found] == [MADRID_ID] and isinstance(found[0], LibraryEntry)
    with pytest.raises(QuestionError, match="not a date"):
        assistant.articles(since="last week")
    removal = assistant.remove([MADRID_ID])
    assert removal.removed[0].id == MADRID_ID
    assert MADRID_ID not in {c.article_id for c in assistant.ask(MADRID).citations}


@pytest.mark.slow
def test_cli_lists_and_removes(index, tmp_path):
    env = {**os.environ}
    store = str(tmp_path / "store")
    listed = run_assistant("articles", "--store", store, env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[-1] == "5 articles"
    assert f"{MADRID_ID}\tAsia-Pacific leaders join NATO summit" in listed.stdout
    found = run_assistant("articles", "madrid", "--json", "--store", store, env=env)
    assert [e["id"] for e in json.loads(found.stdout)] == [MADRID_ID]
    gone = run_assistant("remove", MADRID_ID, "--store", store, env=env)
    assert gone.returncode == 0, gone.stderr
    assert gone.stdout.startswith(f"removed {MADRID_ID} (Asia-Pacific leaders")
    assert "store checked: consistent" in gone.stdout
    again = run_assistant("remove", MADRID_ID, "--json", "--store", store, env=env)
    assert again.returncode == 1
    assert json.loads(again.stdout)["unknown"] == [MADRID_ID]
    bad = run_assistant("articles", "--since", "soon", "--store", store, env=env)
    assert bad.returncode == 1 and bad.stderr.startswith("error: ") and "since" in bad.stderr
    assert "Traceback" not in bad.stderr
    listed = run_assistant("articles", "--store", store, env=env)
    assert listed.stdout.splitlines()[-1] == "4 articles"

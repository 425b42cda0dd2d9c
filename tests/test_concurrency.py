"""Readers during writes: four threads keep asking while a large sync runs in the same process
(as on the web page during an upload). Every question is answered, none fails, every cited
passage is an exact slice of a committed article, and questions really are answered while the
writer holds the store's write lock: the writer waits, lock held, until one has been."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from index.types import StoreCheck, SyncProgress
from tests.helpers import SAMPLES, write_lock_held

QUESTIONS = [
    "Why did Japan attend the Madrid summit?",
    "How much does the harbour bridge cost?",
    "What did the council decide about the festival?",
    "How hot did it get in Britain?",
]


def _bulk(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True)
    with (folder / "bulk.jsonl").open("w") as fh:
        for i in range(count):
            text = " ".join(
                f"The harbour council discussed the bridge and the festival, item {i}.{j}; "
                f"the bridge costs {100 + i + j} thousand pounds."
                for j in range(12)
            )
            fh.write(
                json.dumps(
                    {
                        "id": f"bulk-{i}",
                        "title": f"Council item {i}",
                        "text": text,
                        "source": "Gazette",
                        "published": "2022-06-02",
                    }
                )
                + "\n"
            )
    return folder


@pytest.mark.slow
def test_four_readers_during_a_large_sync(tmp_path, open_index):
    index = open_index()
    index.sync([SAMPLES])
    assistant = Assistant(index, Settings(store=tmp_path))
    bulk = _bulk(tmp_path / "bulk", 60)
    writing = threading.Event()  # the sync reported progress: it holds the write lock
    overlapped = threading.Event()  # a question was answered wholly while the lock was held
    synced = threading.Event()
    asked_after = [threading.Event() for _ in QUESTIONS]
    answered = [0] * len(QUESTIONS)
    failures: list[str] = []
    writer_waited: list[bool] = []

    def reader(n: int) -> None:
        while not asked_after[n].is_set():
            after = synced.is_set()
            inside = writing.is_set() and not after
            try:
                answer = assistant.ask(QUESTIONS[n])
                for c in answer.citations:
                    record = index.records().get(c.article_id)
                    article = index.article(c.article_id)
                    assert record is not None and article is not None, c.article_id
                    assert article.text[c.start : c.end] == c.passage
                    assert article.text[c.quote_start : c.quote_end] == c.quote
                answered[n] += 1
                # one sync holds the lock from its first progress report to its return
                if inside and write_lock_held(index.folder):
                    overlapped.set()
            except Exception as exc:  # any failure is a finding
                failures.append(f"{QUESTIONS[n]}: {exc!r}")
            if after:
                asked_after[n].set()

    def progress(update: SyncProgress) -> None:
        if not writing.is_set():
            writing.set()
            writer_waited.append(overlapped.wait(timeout=300))

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(len(QUESTIONS))]
    for t in threads:
        t.start()
    report = index.sync([bulk], progress=progress)
    synced.set()  # each reader asks once more, after the sync
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    assert writer_waited == [True], "no question was answered while the writer held the lock"
    assert report.added == 60 and report.failed == 0
    assert failures == []
    assert all(n > 0 for n in answered), answered
    check = index.check()
    assert check == StoreCheck(articles=65, chunks=index.stats().chunks), check.problems()

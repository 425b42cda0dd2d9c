"""Readers during writes: four threads keep asking while a large sync runs in the same process
(as on the web page during an upload). Every question is answered, none fails, and every cited
passage is an exact slice of a committed article."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from tests.conftest import SAMPLES
from tests.helpers import consistency

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
    done = threading.Event()
    answered: list[int] = [0] * 4
    failures: list[str] = []

    def reader(n: int) -> None:
        while not done.is_set():
            try:
                answer = assistant.ask(QUESTIONS[n])
                for c in answer.citations:
                    record = index.records().get(c.article_id)
                    article = index.article(c.article_id)
                    assert record is not None and article is not None, c.article_id
                    assert article.text[c.start : c.end] == c.passage
                    assert article.text[c.quote_start : c.quote_end] == c.quote
                answered[n] += 1
                time.sleep(0.1)
            except Exception as exc:  # any failure is a finding
                failures.append(f"{QUESTIONS[n]}: {exc!r}")

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    began = time.perf_counter()
    report = index.sync([bulk])
    while time.perf_counter() - began < 5:  # keep asking a little after the sync as well
        time.sleep(0.2)
    done.set()
    for t in threads:
        t.join(timeout=120)
    assert report.added == 60 and report.failed == 0
    assert failures == []
    assert all(n > 0 for n in answered), answered
    facts = consistency(index)
    assert facts["orphans"] == [] and facts["duplicates"] == [] and facts["missing"] == []
    assert facts["keyword_matches_vectors"]

"""Nothing lost: an indexer killed with SIGKILL in the middle of a write leaves a store that
readers see whole, and the next run completes it; a real `chroma run` server holds the whole
index.

The indexer is killed on an event, never after a delay: it runs as SYNC (below), which prints
each write step of each batch as it reaches it and, at the step a trial names, waits there to be
killed (one trial lets it run on, so the kill lands wherever that write has got to). So every
trial is a crash in the middle of a write; `assistant status --check` then proves the store
consistent and cut short, and the next `assistant index` must leave it clean and complete."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, SAMPLES, chroma_server, run_assistant

# ArticleIndex.sync with the steps of its batch writes reported (the write order is in
# index/writer.py): "journalled N" once batch N is pending and nothing of it is written, "chunked N"
# once its new chunks are written and no record points to them yet, "switched N" once its
# records point to them and the old chunks are gone, the journal not yet cleared. Given argv[3]
# "STEP:N", it stops at that step and waits on stdin, for the test to kill it there.
SYNC = """
import sys
import index.writer
from assistant import Settings
from index import ArticleIndex
from index.store.chroma import ChromaStore

store, folder, stop = sys.argv[1], sys.argv[2], sys.argv[3]
add, clear = ChromaStore.journal_add, ChromaStore.journal_clear
add_chunks = index.writer._add_chunks
batches = 0

def reached(step):
    print(step, batches, flush=True)
    if f"{step}:{batches}" == stop:
        sys.stdin.readline()

def journalled(self, ids):
    global batches
    add(self, ids)
    if ids:
        batches += 1
        reached("journalled")

def chunked(collection, chunks, vectors):
    add_chunks(collection, chunks, vectors)
    reached("chunked")

def switched(self, ids):
    if ids and batches:  # not the clearing of what a killed run left, done before any batch
        reached("switched")
    clear(self, ids)

ChromaStore.journal_add, ChromaStore.journal_clear = journalled, switched
index.writer._add_chunks = chunked
ArticleIndex.open(store, Settings().index).sync([folder], prune="--prune" in sys.argv)
print("done", flush=True)
"""


def _articles(folder: Path, count: int, seed: int = 7) -> Path:
    """`count` short council reports (one chunk each, so 128 articles make one write batch)."""
    rng = random.Random(seed)
    towns = ["Harbourton", "Millbrook", "Eastfield", "Kingsport", "Ashby", "Westmere"]
    topics = ["budget", "school", "bridge", "election", "festival", "flood defences"]
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "local.jsonl").open("w") as fh:
        for i in range(count):
            town, topic = rng.choice(towns), rng.choice(topics)
            record = {
                "id": f"local-{i}",
                "title": f"{town} {topic} {i}",
                "text": f"The {town} harbour council debated the {topic} on day {i}. "
                f"Councillor {rng.randint(1, 99)} said the {topic} costs "
                f"{rng.randint(1, 900)} thousand pounds.",
                "source": "Local Gazette",
                "published": f"2022-06-{1 + i % 28:02d}",
            }
            fh.write(json.dumps(record) + "\n")
    return folder


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ASSISTANT_STORE"}
    env["PYTHONPATH"] = str(ROOT)
    return env


def _assistant(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return run_assistant(*args, env=_env(), timeout=timeout)


def _index(folder: Path, store: Path, *extra: str) -> None:
    run = _assistant("index", str(folder), "--store", str(store), "--quiet", *extra)
    assert run.returncode == 0, run.stderr


def _kill_at(store: Path, folder: Path, line: str, wait: bool = True, *extra: str) -> None:
    """Run SYNC and SIGKILL it as soon as it prints `line` (where it waits, if `wait`)."""
    stop = line.replace(" ", ":") if wait else "none"
    log = store.parent / "sync.log"
    with log.open("ab") as errors:
        proc = subprocess.Popen(
            [sys.executable, "-c", SYNC, str(store), str(folder), stop, *extra],
            cwd=ROOT,
            env=_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    printed: list[str] = []
    try:
        for out in proc.stdout or ():
            printed.append(out.strip())
            if printed[-1] == line:
                break
    finally:
        proc.kill()
        proc.wait()
    assert printed[-1:] == [line], (
        f"the sync never reached {line!r}: {printed[-3:]}\n{log.read_text()[-2000:]}"
    )


def _check(store: Path) -> dict:
    """`assistant status --check`; its exit code 0 says readers see no damage."""
    run = _assistant("status", "--check", "--json", "--store", str(store))
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout)["check"]


@pytest.mark.slow
def test_indexer_killed_mid_write_is_completed_by_next_run(tmp_path):
    total = 900  # 8 batches: the four killed runs below commit at most 5
    folder = _articles(tmp_path / "articles", total)
    store = tmp_path / "store"
    committed = 0
    for n, (line, wait) in enumerate(
        [
            ("journalled 1", True),  # first batch pending, nothing of it written
            ("switched 1", True),  # its chunks and records written, the journal not cleared
            ("journalled 2", True),  # one batch committed, the next pending
            ("journalled 2", False),  # wherever the second batch's write has got to
        ]
    ):
        _kill_at(store, folder, line, wait)
        check = _check(store)
        assert check["articles"] < total, (line, check)  # cut short, really
        assert check["articles"] >= committed, (line, check)  # nothing committed is lost
        assert check["articles"] > committed or n == 0, (line, check)
        assert check["pending"] or not wait, (line, check)  # killed with a batch half-done
        committed = check["articles"]
    _index(folder, store)
    check = _check(store)
    assert check["clean"] and check["articles"] == total, check
    ask = _assistant(
        "ask", "What did the Harbourton council debate?", "--json", "--store", str(store)
    )
    assert ask.returncode == 0, ask.stderr
    assert any("Harbourton" in c["quote"] for c in json.loads(ask.stdout)["citations"])


@pytest.mark.slow
def test_killed_update_and_prune_is_completed_by_next_run(tmp_path):
    folder = _articles(tmp_path / "articles", 400)
    store = tmp_path / "store"
    _index(folder, store)
    _articles(folder, 300, seed=8)  # every article changes, 100 disappear: 3 batches, then prune
    _kill_at(store, folder, "chunked 2", True, "--prune")
    check = _check(store)
    # a batch of new versions committed; the next one's chunks written, unused; none pruned
    assert check["articles"] == 400 and check["pending"] and check["orphans"], check
    _index(folder, store, "--prune")
    check = _check(store)
    assert check["clean"] and check["articles"] == 300, check


@pytest.mark.slow
def test_chroma_server_holds_the_whole_index(tmp_path, embedder):
    with chroma_server(tmp_path / "server", _env()) as url:
        _index(SAMPLES, tmp_path / "machine-a", "--chroma-url", url)
        assert not (tmp_path / "machine-a" / "chroma").exists()  # nothing durable kept locally
        from index import ArticleIndex

        other = ArticleIndex.open(tmp_path / "machine-b", chroma_url=url, embedder=embedder)
        assert other.stats().articles == 5
        hits = other.keyword_search("Kishida Indo-Pacific", 3)
        assert hits and "nato" in hits[0].chunk.url
        assert other.dense_search("why did Japan attend the Madrid summit", 3)
        assert other.sync([SAMPLES]).unchanged == 5

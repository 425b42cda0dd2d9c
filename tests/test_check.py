"""`ArticleIndex.check` and `assistant status --check` on a real store: clean after a sync, the
leftovers of a cut-short sync (which the next sync clears), and damage (which it tells to
rebuild, exit code 1). The other tests trust `check()` to judge a store, so here each kind of
fault is made by hand and must be found."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from index.types import StoreCheck
from tests.helpers import ROOT, SAMPLES


def _status_check(store: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "ASSISTANT_STORE"}
    return subprocess.run(
        [sys.executable, "-m", "assistant", "status", "--check", "--store", str(store), *args],
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def _copy_chunk(chunks, article_id: str, new_id: str, **changes: str) -> tuple[str, int]:
    """Store a copy of the article's first chunk under `new_id`; returns (id, ordinal)."""
    got = chunks.get(
        where={"article_id": article_id}, include=["documents", "metadatas", "embeddings"]
    )
    meta = {**got["metadatas"][0], **changes}
    chunks.add(
        ids=[new_id],
        embeddings=[got["embeddings"][0]],
        documents=[got["documents"][0]],
        metadatas=[meta],
    )
    return new_id, int(meta["ordinal"])


def test_check_finds_what_a_cut_short_sync_leaves_and_the_next_sync_clears_it(
    open_index, store_dir
):
    index = open_index()
    index.sync([SAMPLES])
    whole = index.check()
    assert whole == StoreCheck(articles=5, chunks=index.stats().chunks)
    assert whole.clean and whole.problems() == []
    victim = sorted(index.records())[0]
    # a writer killed mid-batch: the article journalled, a chunk of its next version written
    journal = index.raw_collections()["meta"]  # the entry a writer makes first (index.writer)
    journal.upsert(ids=[f"pending:{victim}"], embeddings=[[1.0]], documents=[victim])
    orphan, _ = _copy_chunk(
        index.raw_collections()["chunks"], victim, "next-version", content_hash="f" * 64
    )
    left = index.check()
    assert (left.pending, left.orphans) == ((victim,), (orphan,))
    assert left.consistent and not left.clean  # readers see the committed version, whole
    assert (left.articles, left.chunks) == (whole.articles, whole.chunks)
    (problem,) = left.problems()
    assert "1 articles pending" in problem and "assistant index" in problem
    run = _status_check(store_dir, "--json")
    assert run.returncode == 0, run.stderr  # nothing a reader could see is wrong
    shown = json.loads(run.stdout)["check"]
    assert (shown["pending"], shown["orphans"], shown["clean"]) == ([victim], [orphan], False)
    assert index.sync([SAMPLES]).unchanged == 5
    assert index.check() == whole


def test_check_finds_damage_and_says_to_rebuild(open_index, store_dir):
    index = open_index()
    index.sync([SAMPLES])
    chunks = index.raw_collections()["chunks"]
    first, second = sorted(index.records())[:2]
    chunks.delete(ids=chunks.get(where={"article_id": first}, include=[])["ids"][:1])
    _, ordinal = _copy_chunk(chunks, second, "copied")  # a second chunk at one position
    damaged = index.check()
    assert set(damaged.missing) == {first, second}  # one chunk short, one too many
    assert damaged.duplicates == (f"{second}#{ordinal}",)
    assert not damaged.keyword_matches_vectors  # BM25 still has the lost chunk, not the copy
    assert damaged.orphans == () and damaged.pending == ()
    assert not damaged.consistent
    problems = damaged.problems()
    assert len(problems) == 3 and sum("--rebuild" in p for p in problems) == 2
    assert any("keyword index" in p for p in problems)
    run = _status_check(store_dir)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "check:           DAMAGED" in run.stdout
    assert all(f"  - {p}" in run.stdout for p in problems)

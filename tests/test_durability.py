"""Nothing lost: an indexer killed with SIGKILL at any moment leaves a store that opens, answers
and is completed by the next run; and a real `chroma run` server holds the whole index."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES
from tests.helpers import free_port, wait_http

CHECK = """
import json, sys
from index import ArticleIndex
from tests.helpers import consistency
index = ArticleIndex.open(sys.argv[1], create=False)
facts = consistency(index)
hits = index.keyword_search("harbour council budget", 3) + index.dense_search("harbour budget", 3)
facts["orphans"] = len(facts["orphans"])
facts["journal"] = len(facts["journal"])
facts["answers"] = len(hits)
print(json.dumps(facts))
"""


def _articles(folder: Path, count: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    towns = ["Harbourton", "Millbrook", "Eastfield", "Kingsport", "Ashby", "Westmere"]
    topics = ["budget", "school", "bridge", "election", "festival", "flood defences"]
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "local.jsonl").open("w") as fh:
        for i in range(count):
            town, topic = rng.choice(towns), rng.choice(topics)
            text = " ".join(
                f"The {town} harbour council debated the {topic} on day {i}, item {j}. "
                f"Councillor {rng.randint(1, 99)} said the {topic} costs {rng.randint(1, 900)} "
                f"thousand pounds."
                for j in range(rng.randint(4, 14))
            )
            record = {
                "id": f"local-{i}",
                "title": f"{town} {topic} {i}",
                "text": text,
                "source": "Local Gazette",
                "published": f"2022-06-{1 + i % 28:02d}",
            }
            fh.write(json.dumps(record) + "\n")
    return folder


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    return env


def _index_cmd(folder: Path, store: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "assistant",
        "index",
        str(folder),
        "--store",
        str(store),
        "--quiet",
        *extra,
    ]


def _facts(store: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHECK, str(store)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(),
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_indexer_killed_at_any_moment_is_completed_by_next_run(tmp_path):
    folder = _articles(tmp_path / "articles", 120)
    store = tmp_path / "store"
    rng = random.Random(11)
    delays = sorted(rng.uniform(4.0, 14.0) for _ in range(4))
    for delay in delays:
        proc = subprocess.Popen(
            _index_cmd(folder, store),
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(delay)
        proc.kill()
        proc.wait()
        if (store / "chroma").exists():
            facts = _facts(store)
            # readers see only committed articles, each with all its chunks, none twice
            assert facts["missing"] == [] and facts["duplicates"] == []
    done = subprocess.run(
        _index_cmd(folder, store), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    facts = _facts(store)
    assert facts["articles"] == 120
    assert facts["orphans"] == 0 and facts["journal"] == 0
    assert facts["missing"] == [] and facts["duplicates"] == []
    assert facts["keyword_matches_vectors"] and facts["answers"] > 0


@pytest.mark.slow
def test_killed_update_and_prune_is_completed_by_next_run(tmp_path):
    folder = _articles(tmp_path / "articles", 60)
    store = tmp_path / "store"
    first = subprocess.run(
        _index_cmd(folder, store), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600
    )
    assert first.returncode == 0, first.stderr
    _articles(folder, 40, seed=8)  # every article changes, 20 disappear
    proc = subprocess.Popen(
        _index_cmd(folder, store, "--prune"),
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(7.0)
    proc.kill()
    proc.wait()
    facts = _facts(store)
    assert facts["missing"] == [] and facts["duplicates"] == []
    done = subprocess.run(
        _index_cmd(folder, store, "--prune"),
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    facts = _facts(store)
    assert facts["articles"] == 40 and facts["orphans"] == 0 and facts["journal"] == 0
    assert facts["keyword_matches_vectors"]


@pytest.mark.slow
def test_chroma_server_holds_the_whole_index(tmp_path, embedder):
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "the chromadb package installs the `chroma` command"
    port = free_port()
    server = subprocess.Popen(
        [
            chroma,
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**_env(), "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", 60, server)
        url = f"http://127.0.0.1:{port}"
        run = subprocess.run(
            _index_cmd(SAMPLES, tmp_path / "machine-a", "--chroma-url", url),
            cwd=ROOT,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stderr
        assert not (tmp_path / "machine-a" / "chroma").exists()  # nothing durable kept locally
        from index import ArticleIndex

        other = ArticleIndex.open(tmp_path / "machine-b", chroma_url=url, embedder=embedder)
        assert other.stats().articles == 5
        hits = other.keyword_search("Kishida Indo-Pacific", 3)
        assert hits and "nato" in hits[0].chunk.url
        assert other.dense_search("why did Japan attend the Madrid summit", 3)
        assert other.sync([SAMPLES]).unchanged == 5
    finally:
        server.kill()
        server.wait()

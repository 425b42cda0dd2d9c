"""Crash trials: SIGKILL a real `assistant index` at random moments, then check the store.

Trial 1 indexes a folder of articles from an empty store; later trials switch the folder between
two versions (one changes a third of the articles and drops a fifth), so each run adds, replaces
and prunes. Every run is killed at a random moment of its expected duration; the next run must
then complete, and the store must hold exactly what a clean build of that version holds: the same
articles and chunk count, no orphan or duplicate chunks, nothing pending in the journal, and a
BM25 index that agrees with the vectors (`ArticleIndex.check`). Results go to
bench/results/crash.json and docs/reliability.md.

    .venv/bin/python bench/crash.py --trials 20 --articles 300
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.processes import ROOT, assistant_cmd

# `ArticleIndex.check` in a process of its own, as a JSON object: the lists as their lengths
CHECK = """
import dataclasses, json, sys
from assistant import Settings
from index import ArticleIndex
found = ArticleIndex.open(sys.argv[1], Settings().index, create=False).check()
facts = dataclasses.asdict(found)
print(json.dumps({k: (len(v) if isinstance(v, tuple) else v) for k, v in facts.items()}))
"""


def write_version(folder: Path, count: int, version: int, seed: int = 5) -> None:
    """Version 0: `count` articles; version 1: a third changed, a fifth removed."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    towns = ["Harbourton", "Millbrook", "Eastfield", "Kingsport", "Ashby", "Westmere"]
    topics = ["budget", "school", "bridge", "election", "festival", "flood defences"]
    with (folder / "local.jsonl").open("w") as fh:
        for i in range(count):
            town, topic, size = rng.choice(towns), rng.choice(topics), rng.randint(4, 30)
            if version == 1 and i % 5 == 0:
                continue
            edit = " Updated figures followed." if version == 1 and i % 3 == 0 else ""
            text = " ".join(
                f"The {town} council debated the {topic} on day {i}, item {j}. Councillor "
                f"{rng.randint(1, 99)} said it costs {rng.randint(1, 900)} thousand pounds."
                for j in range(size)
            )
            fh.write(
                json.dumps(
                    {
                        "id": f"a{i}",
                        "title": f"{town} {topic} {i}",
                        "text": text + edit,
                        "published": "2022-06-01",
                    }
                )
                + "\n"
            )


def facts(store: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", CHECK, str(store)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def index_run(folder: Path, store: Path) -> tuple[int, float]:
    began = time.perf_counter()
    run = subprocess.run(
        assistant_cmd("index", str(folder), "--store", str(store), "--prune", "--quiet"),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return run.returncode, time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    p = common.new_parser(__doc__)
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--articles", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="bench-crash-"))
    try:
        expected = {}
        durations = {}
        for version in (0, 1):
            folder = work / f"v{version}"
            write_version(folder, args.articles, version)
            ref = work / f"ref{version}"
            code, seconds = index_run(folder, ref)
            assert code == 0, f"reference build of version {version} failed"
            expected[version] = facts(ref)
            durations[version] = seconds
        store = work / "store"
        live = work / "live"
        trials = []
        for trial in range(args.trials):
            version = trial % 2
            if live.exists():
                shutil.rmtree(live)
            shutil.copytree(work / f"v{version}", live)
            at = rng.uniform(0.05, 0.95) * durations[version]
            proc = subprocess.Popen(
                assistant_cmd("index", str(live), "--store", str(store), "--prune", "--quiet"),
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(at)
            killed = proc.poll() is None
            proc.kill()
            proc.wait()
            after_kill = facts(store) if (store / "chroma").exists() else {}
            code, _ = index_run(live, store)
            final = facts(store)
            want = expected[version]
            ok = (
                code == 0
                and final.get("articles") == want["articles"]
                and final.get("chunks") == want["chunks"]
                and final.get("orphans") == 0
                and final.get("duplicates") == 0
                and final.get("missing") == 0
                and final.get("pending") == 0
                and final.get("keyword_matches_vectors") is True
                and after_kill.get("missing", 0) == 0
                and after_kill.get("duplicates", 0) == 0
            )
            trials.append(
                {
                    "trial": trial + 1,
                    "version": version,
                    "kill_at_s": round(at, 2),
                    "killed_mid_run": killed,
                    "after_kill": after_kill,
                    "final": final,
                    "ok": ok,
                }
            )
            print(
                f"trial {trial + 1}: kill at {at:.1f}s, {'ok' if ok else 'FAILED'} {final}",
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    failures = sum(not t["ok"] for t in trials)
    rows = [
        [
            t["trial"],
            "index" if t["version"] == 0 else "update + prune",
            t["kill_at_s"],
            t["after_kill"].get("articles", 0),
            t["final"].get("articles"),
            t["final"].get("chunks"),
            "ok" if t["ok"] else "FAILED",
        ]
        for t in trials
    ]
    markdown = (
        "## Crash during indexing, update and prune\n\n"
        f"{len(trials)} trials, {failures} failures. A real `assistant index --prune` over "
        f"{args.articles} articles was killed with SIGKILL at a random moment of its run "
        f"(median {common.median([t['kill_at_s'] for t in trials]):.1f} s); the next run then had to "
        "complete and leave exactly the articles and chunks of a clean build, with no orphan or "
        "duplicate chunks, an empty journal and BM25 agreeing with the vectors. Clean builds: "
        f"{expected[0]['articles']} articles / {expected[0]['chunks']} chunks (version 0), "
        f"{expected[1]['articles']} / {expected[1]['chunks']} (version 1).\n\n"
        + common.markdown_table(
            [
                "trial",
                "run",
                "killed at (s)",
                "articles after kill",
                "articles after next run",
                "chunks",
                "result",
            ],
            rows,
        )
    )
    data = {"trials": trials, "failures": failures, "expected": expected}
    common.finish(args, "crash", data, markdown, doc="reliability.md")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

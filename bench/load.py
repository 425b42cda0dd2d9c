"""Load on the web page: many `gradio_client` sessions asking at once against a local `app.py`.

Starts `python app.py` on a free port over a store (default: the sample articles, indexed into a
temporary store first), measures one lone session's answer time (the service time), then runs
`--sessions` sessions, each its own `gradio_client.Client`, asking `/ask` back to back for
`--seconds`. Optionally one more session uploads `--upload FILE...` through `/upload_articles`
meanwhile, so readers are measured while a write runs. Every request must be answered: failures
are counted and listed. Reports p50/p95/max latency, answers per second, and the queue wait
(latency beyond the lone service time), which shows Gradio's queue at work: the page answers
`web.concurrency_limit` questions at once and the rest wait their turn. Results go to
bench/results/load.json and docs/reliability.md.

    .venv/bin/python bench/load.py --sessions 50 --seconds 60
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import Settings
from bench import common
from bench.processes import serve_app, tree_rss

NAME = "load"
SAMPLE_QUESTIONS = [
    "Why did Japan attend the Madrid summit?",
    "How hot did it get in Britain during the heatwave?",
    "By how much did the Fed raise interest rates?",
    "What did the Webb telescope's first images show?",
    "Who is Australia's prime minister?",
]


def main(argv: list[str] | None = None) -> int:
    p = common.new_parser(__doc__)
    common.add_store_option(p)
    p.add_argument("--sessions", type=int, default=50, help="concurrent client sessions")
    p.add_argument("--seconds", type=float, default=60, help="how long the sessions keep asking")
    common.add_questions_option(p, None, "JSONL of questions (default: by the store)")
    p.add_argument("--upload", type=Path, nargs="*", default=[], help="files uploaded meanwhile")
    p.add_argument("--timeout", type=float, default=600, help="seconds one request may take")
    args = p.parse_args(argv)

    with common.sample_store(args.store, NAME) as (store, scratch):
        questions = load_questions(args.questions, corpus=args.store is not None)
        with (
            (scratch / "app.log").open("wb") as log,
            serve_app(store, stdout=log, stderr=subprocess.STDOUT) as (url, proc),
        ):
            data = measure(args, url, proc, questions)
        data["store"] = common.portable(store, "STORE")
    chart = args.docs_dir / "bench-load.png"
    lat = data["latency_s"]
    common.bar_chart(
        chart,
        ["p50", "p95", "max"],
        {"latency s": [lat["p50"], lat["p95"], lat["max"]]},
        title=f"{data['sessions']} sessions asking for {data['seconds']:.0f} s (lower is better)",
        ylabel="seconds",
        lines={"lone answer": data["service_s"]},
    )
    common.finish(args, NAME, data, render(data, chart.name), doc="reliability.md")
    return 1 if data["failed"] else 0


def load_questions(path: Path | None, *, corpus: bool) -> list[str]:
    if path is None and corpus and common.QUESTIONS.exists():
        path = common.QUESTIONS
    if path is None:
        return SAMPLE_QUESTIONS
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append(json.loads(line)["question"])
    return out


def measure(
    args: argparse.Namespace, url: str, proc: subprocess.Popen[bytes], questions: list[str]
) -> dict[str, Any]:
    from gradio_client import Client, handle_file

    lone = Client(url, verbose=False)
    lone.predict(questions[0], api_name="/ask")  # warm-up: first BM25 load, model caches
    service = []
    for q in questions[:10]:
        began = time.perf_counter()
        lone.predict(q, api_name="/ask")
        service.append(time.perf_counter() - began)

    clients = [Client(url, verbose=False) for _ in range(args.sessions)]
    latencies: list[tuple[float, float]] = []  # (finished at, seconds)
    failures: list[str] = []
    uploads: dict[str, Any] = {}
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + args.seconds
    peak_rss = [0]

    def session(i: int) -> None:
        client, k = clients[i], i
        while time.perf_counter() < deadline:
            q = questions[k % len(questions)]
            k += args.sessions
            began = time.perf_counter()
            try:
                answer = client.predict(q, api_name="/ask")
                if "citations" not in answer:
                    raise ValueError(f"no citations field in {str(answer)[:80]}")
            except Exception as e:  # every failure is counted and shown, none stops the run
                with lock:
                    failures.append(f"session {i}: {type(e).__name__}: {str(e)[:120]}")
                continue
            done = time.perf_counter()
            with lock:
                latencies.append((done - start, done - began))

    def upload() -> None:
        client = Client(url, verbose=False)
        began = time.perf_counter()
        try:
            report = client.predict(
                [handle_file(str(f)) for f in args.upload], api_name="/upload_articles"
            )
            uploads.update(
                seconds=round(time.perf_counter() - began, 2),
                added=report.get("added"),
                failed=report.get("failed"),
            )
        except Exception as e:
            failures.append(f"upload: {type(e).__name__}: {str(e)[:120]}")

    def watch_memory() -> None:
        while time.perf_counter() < deadline:
            peak_rss[0] = max(peak_rss[0], tree_rss(proc.pid))
            time.sleep(0.5)

    threads = [threading.Thread(target=session, args=(i,)) for i in range(args.sessions)]
    threads.append(threading.Thread(target=watch_memory))
    if args.upload:
        threads.append(threading.Thread(target=upload))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=args.seconds + args.timeout)
    elapsed = time.perf_counter() - start
    seconds = [s for _, s in latencies]
    lone_s = common.median(service)
    waits = [max(0.0, s - lone_s) for s in seconds]
    return {
        "sessions": args.sessions,
        "seconds": args.seconds,
        "elapsed_s": round(elapsed, 1),
        "answered": len(seconds),
        "failed": len(failures),
        "failures": failures[:20],
        "answers_per_s": round(len(seconds) / elapsed, 2) if elapsed else 0.0,
        "service_s": round(lone_s, 3),
        "latency_s": {
            "p50": round(common.percentile(seconds, 50), 3),
            "p95": round(common.percentile(seconds, 95), 3),
            "max": round(max(seconds, default=0.0), 3),
        },
        "queue_wait_s": {
            "p50": round(common.percentile(waits, 50), 3),
            "p95": round(common.percentile(waits, 95), 3),
        },
        "peak_rss_mb": round(peak_rss[0] / 2**20, 1),
        "upload": uploads or None,
        "questions": len(questions),
        "concurrency_limit": Settings().web.concurrency_limit,
    }


def render(data: dict[str, Any], chart: str) -> str:
    lat, wait = data["latency_s"], data["queue_wait_s"]
    rows = [
        ["sessions", data["sessions"]],
        ["asking for (s)", data["seconds"]],
        ["questions answered", data["answered"]],
        ["failed", data["failed"]],
        ["answers per second", data["answers_per_s"]],
        ["one lone answer (s, median of 10)", data["service_s"]],
        ["latency p50 / p95 / max (s)", f"{lat['p50']} / {lat['p95']} / {lat['max']}"],
        ["queue wait p50 / p95 (s)", f"{wait['p50']} / {wait['p95']}"],
        ["answered at once (web.concurrency_limit)", data["concurrency_limit"]],
        ["peak resident memory of the page (MB)", data["peak_rss_mb"]],
    ]
    if data.get("upload"):
        up = data["upload"]
        rows.append(["upload indexed meanwhile", f"{up['added']} added in {up['seconds']} s"])
    table = common.markdown_table(["", ""], rows)
    failures = "".join(f"\n- {f}" for f in data["failures"])
    return (
        f"## Load on the web page\n\n{data['sessions']} `gradio_client` sessions, each asking "
        f"`/ask` back to back (questions from a list of {data['questions']}), against one "
        f"`python app.py`. The queue answers `web.concurrency_limit` questions at once; the rest "
        f"wait, so latency is the lone answer time plus the queue wait.\n\n{table}"
        f"{failures}\n\n![load]({chart})"
    )


if __name__ == "__main__":
    raise SystemExit(main())

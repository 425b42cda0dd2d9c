"""Load on the web page: many `gradio_client` sessions asking at once against a local `app.py`.

Starts `python app.py` on a free port over a store (default: the sample articles, indexed into a
temporary store first), times `--lone` answers of one lone session (the service time: first asks
of a question, whose sentences the reader has not scored yet, apart from repeated ones), then
runs `--sessions` sessions, each its own `gradio_client.Client`, asking `/ask` back to back for
`--seconds`. Optionally one more session uploads `--upload FILE...` through `/upload_articles`
meanwhile, so readers are measured while a write runs. Every request must be answered: failures
are counted and listed. Reports p50/p95/max latency, answers per second, the queue wait
(latency beyond the lone service time: the page answers `web.concurrency_limit` questions at once
and the rest wait their turn), and where the CPU went: seconds of CPU per answer in the page and
in the sessions (this script, on the same cores), and how busy other programs kept the machine.

Each `--variant LABEL=SECTION.FIELD:VALUE,...` starts its own page with those settings (as
`ASSISTANT_<SECTION>__<FIELD>` variables) and repeats the measurement, side by side in one run
after the page as configured. Results go to bench/results/load.json and docs/reliability.md.

    .venv/bin/python bench/load.py --sessions 50 --seconds 60
    .venv/bin/python bench/load.py --variant limit-2=web.concurrency_limit:2
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import Settings
from bench import common
from bench.processes import serve_app, tree_rss
from bench.quality import parse_variant

NAME = "load"
SAMPLE_QUESTIONS = [
    "Why did Japan attend the Madrid summit?",
    "How hot did it get in Britain during the heatwave?",
    "By how much did the Fed raise interest rates?",
    "What did the Webb telescope's first images show?",
    "Who is Australia's prime minister?",
]
Changes = dict[str, dict[str, str]]


def main(argv: list[str] | None = None) -> int:
    p = common.new_parser(__doc__)
    common.add_store_option(p)
    p.add_argument("--sessions", type=int, default=50, help="concurrent client sessions")
    p.add_argument("--seconds", type=float, default=60, help="how long the sessions keep asking")
    p.add_argument("--lone", type=int, default=20, help="answers timed in one lone session first")
    common.add_questions_option(p, None, "JSONL of questions (default: by the store)")
    p.add_argument("--upload", type=Path, nargs="*", default=[], help="files uploaded meanwhile")
    p.add_argument("--timeout", type=float, default=600, help="seconds one request may take")
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL=SECTION.FIELD:VALUE,...",
        help="one more page with these settings, measured after the page as configured, "
        "e.g. 'limit-2=web.concurrency_limit:2'",
    )
    args = p.parse_args(argv)
    variants: list[tuple[str, Changes]] = [("as configured", {})]
    variants += [parse_variant(v) for v in args.variant]

    runs = []
    with common.sample_store(args.store, NAME) as (store, scratch):
        questions = load_questions(args.questions, corpus=args.store is not None)
        for number, (label, changes) in enumerate(variants):
            with (
                (scratch / f"app-{number}.log").open("wb") as log,
                environment(changes),
                serve_app(store, stdout=log, stderr=subprocess.STDOUT) as (url, proc),
            ):
                run = measure(args, url, proc, questions)
                run["concurrency_limit"] = Settings().web.concurrency_limit
            run.update(label=label, changes=_flat(changes))
            runs.append(run)
    # the page as configured at the top level, every variant (that one first) under "variants"
    data = {**runs[0], "variants": runs, "store": common.portable(store, "STORE")}
    chart = args.docs_dir / "bench-load.png"
    common.bar_chart(
        chart,
        [r["label"] for r in runs],
        {
            "answers per second": [r["answers_per_s"] for r in runs],
            "lone answer p95 (s)": [r["lone_s"]["p95"] for r in runs],
        },
        title=f"{args.sessions} sessions asking for {args.seconds:.0f} s",
        ylabel="answers per second; seconds",
        lines={"4 answers/s": 4.0, "0.5 s": 0.5},
    )
    common.finish(args, NAME, data, render(data, chart.name), doc="reliability.md")
    return 1 if any(r["failed"] for r in runs) else 0


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


@contextlib.contextmanager
def environment(changes: Changes) -> Iterator[None]:
    """The variant's settings as `ASSISTANT_<SECTION>__<FIELD>` variables, which the page
    (started inside) inherits; the variables are as before on leaving."""
    names = {
        f"ASSISTANT_{section}__{field}".upper(): value
        for section, fields in changes.items()
        for field, value in fields.items()
    }
    before = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _flat(changes: Changes) -> dict[str, str]:
    return {f"{s}.{f}": v for s, fields in changes.items() for f, v in fields.items()}


def client(url: str) -> Any:
    """A `gradio_client.Client` of the page.

    The page is plain http on loopback: nothing to verify. With verification on, gradio_client
    builds a TLS context (reading the CA bundle) for every request, about 0.06 s of CPU each,
    taken from the cores the page runs on.
    """
    from gradio_client import Client

    return Client(url, verbose=False, ssl_verify=False)


def time_lone(url: str, questions: list[str], n: int) -> tuple[list[float], list[float]]:
    """Seconds of `n` answers asked one at a time, after a warm-up on the first question: those
    of first asks of a question, and those of questions asked before (cycling through the list),
    whose sentences' reader scores are cached."""
    lone = client(url)
    lone.predict(questions[0], api_name="/ask")  # warm-up: first BM25 load, model caches
    others = questions[1:] or questions
    asked = {questions[0]}
    first: list[float] = []
    again: list[float] = []
    for i in range(n):
        q = others[i % len(others)]
        began = time.perf_counter()
        lone.predict(q, api_name="/ask")
        (again if q in asked else first).append(time.perf_counter() - began)
        asked.add(q)
    return first, again


def measure(
    args: argparse.Namespace, url: str, proc: subprocess.Popen[bytes], questions: list[str]
) -> dict[str, Any]:
    from gradio_client import handle_file

    first, again = time_lone(url, questions, args.lone)
    start_at = 1 + len(first)  # the sessions start with questions not asked yet

    clients = [client(url) for _ in range(args.sessions)]
    latencies: list[tuple[float, float]] = []  # (finished at, seconds)
    failures: list[str] = []
    uploads: dict[str, Any] = {}
    lock = threading.Lock()
    peak_rss = [0]

    def session(i: int) -> None:
        asker, k = clients[i], start_at + i
        while time.perf_counter() < deadline:
            q = questions[k % len(questions)]
            k += args.sessions
            began = time.perf_counter()
            try:
                answer = asker.predict(q, api_name="/ask")
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
        began = time.perf_counter()
        try:
            report = client(url).predict(
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
    cpu_before = _cpu(proc.pid)
    start = time.perf_counter()
    deadline = start + args.seconds
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=args.seconds + args.timeout)
    elapsed = time.perf_counter() - start
    cpu = {k: v - cpu_before[k] for k, v in _cpu(proc.pid).items()}
    seconds = [s for _, s in latencies]
    lone_s = common.median(first + again)
    waits = [max(0.0, s - lone_s) for s in seconds]
    answered = max(len(seconds), 1)
    return {
        "sessions": args.sessions,
        "seconds": args.seconds,
        "elapsed_s": round(elapsed, 1),
        "answered": len(seconds),
        "failed": len(failures),
        "failures": failures[:20],
        "answers_per_s": round(len(seconds) / elapsed, 2) if elapsed else 0.0,
        "service_s": round(lone_s, 3),
        "lone_s": {
            "first_asks": len(first),
            "p50": round(common.percentile(first, 50), 3),
            "p95": round(common.percentile(first, 95), 3),
            "asked_again": len(again),
            "again_p50": round(common.percentile(again, 50), 3),
        },
        "latency_s": {
            "p50": round(common.percentile(seconds, 50), 3),
            "p95": round(common.percentile(seconds, 95), 3),
            "max": round(max(seconds, default=0.0), 3),
        },
        "queue_wait_s": {
            "p50": round(common.percentile(waits, 50), 3),
            "p95": round(common.percentile(waits, 95), 3),
        },
        "cpu_s_per_answer": {
            "page": round(cpu["page"] / answered, 3),
            "sessions": round(cpu["sessions"] / answered, 3),
        },
        "other_programs_cores": round(
            max(0.0, cpu["machine"] - cpu["page"] - cpu["sessions"]) / elapsed, 2
        )
        if elapsed
        else 0.0,
        "peak_rss_mb": round(peak_rss[0] / 2**20, 1),
        "upload": uploads or None,
        "questions": len(questions),
    }


def _cpu(pid: int) -> dict[str, float]:
    """CPU seconds so far: the page (its process tree), this script (the sessions), and the
    whole machine (every core busy, whoever ran)."""
    import psutil

    page = 0.0
    root = psutil.Process(pid)
    for p in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):  # a child may end meanwhile
            times = p.cpu_times()
            page += times.user + times.system
    own = psutil.Process().cpu_times()
    machine = psutil.cpu_times()
    busy = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
    return {"page": page, "sessions": own.user + own.system, "machine": busy}


def render(data: dict[str, Any], chart: str) -> str:
    runs = data["variants"]

    def row(name: str, cell: Any) -> list[Any]:
        return [name, *(cell(r) for r in runs)]

    rows = [
        row("changes", lambda r: ", ".join(f"{k}={v}" for k, v in r["changes"].items()) or "-"),
        row("questions answered", lambda r: r["answered"]),
        row("failed", lambda r: r["failed"]),
        row("answers per second", lambda r: r["answers_per_s"]),
        row(
            "lone answer, first ask of a question: p50 / p95 (s)",
            lambda r: f"{r['lone_s']['p50']} / {r['lone_s']['p95']} ({r['lone_s']['first_asks']})",
        ),
        row("lone answer, asked again: p50 (s)", lambda r: r["lone_s"]["again_p50"] or None),
        row(
            "latency p50 / p95 / max (s)",
            lambda r: " / ".join(str(r["latency_s"][k]) for k in ("p50", "p95", "max")),
        ),
        row(
            "queue wait p50 / p95 (s)",
            lambda r: f"{r['queue_wait_s']['p50']} / {r['queue_wait_s']['p95']}",
        ),
        row("answered at once (web.concurrency_limit)", lambda r: r["concurrency_limit"]),
        row("CPU s per answer: the page", lambda r: r["cpu_s_per_answer"]["page"]),
        row(
            "CPU s per answer: the sessions (this script)",
            lambda r: r["cpu_s_per_answer"]["sessions"],
        ),
        row("other programs meanwhile (cores busy)", lambda r: r["other_programs_cores"]),
        row("peak resident memory of the page (MB)", lambda r: r["peak_rss_mb"]),
    ]
    if any(r.get("upload") for r in runs):
        rows.append(
            row(
                "upload indexed meanwhile",
                lambda r: (
                    f"{r['upload']['added']} added in {r['upload']['seconds']} s"
                    if r.get("upload")
                    else None
                ),
            )
        )
    table = common.markdown_table(["", *(r["label"] for r in runs)], rows)
    failures = "".join(f"\n- {r['label']}: {f}" for r in runs for f in r["failures"])
    return (
        f"## Load on the web page\n\n{data['sessions']} `gradio_client` sessions, each asking "
        f"`/ask` back to back (questions from a list of {data['questions']}), against one "
        f"`python app.py` per column, one column after another in one run. The queue answers "
        "`web.concurrency_limit` questions at once; the rest wait, so latency is the lone "
        "answer time plus the queue wait. A lone answer to a question asked before is quicker: "
        "the reader's scores of its sentences are cached. The sessions run on the same cores "
        f"as the page, and so did whatever else the machine was running.\n\n{table}"
        f"{failures}\n\n![load]({chart})"
    )


if __name__ == "__main__":
    raise SystemExit(main())

"""Start-up time: a cold `assistant ask` (a new process, to the printed answer) and the web page
(`python app.py`, to its first HTTP answer), each the median of a few runs.

Without `--store`, the five sample articles are indexed into a temporary store first (untimed).
The web page is started as `python app.py --store STORE --port PORT` (PORT a free one, also in
ASSISTANT_WEB__PORT); `--app-arg` adds arguments. A missing app.py is reported, not fatal.

    .venv/bin/python bench/startup.py --store .bench-store --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    ROOT,
    add_output_options,
    assistant_cmd,
    bar_chart,
    check,
    finish,
    markdown_table,
    median,
    run_measured,
)

NAME = "startup"
QUESTION = "Why did Japan attend the Madrid summit?"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--store", type=Path, help="an existing index (default: the samples, indexed)")
    p.add_argument("--runs", type=int, default=3, help="runs of each, reported as the median")
    p.add_argument("--question", default=QUESTION, help="what `assistant ask` is asked")
    p.add_argument("--app", type=Path, default=ROOT / "app.py", help="the web page script")
    p.add_argument("--app-arg", action="append", default=[], help="extra argument for app.py")
    p.add_argument("--timeout", type=float, default=180, help="seconds to wait for the page")
    add_output_options(p)
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        store = args.store
        if store is None:
            store = Path(tmp) / "store"
            index = assistant_cmd("index", str(ROOT / "samples"), "--store", str(store), "-q")
            check(run_measured(index, cwd=ROOT), "indexing the samples")
        data = measure(args, store)
    chart = args.docs_dir / "bench-startup.png"
    labels = {"ask": "assistant ask (cold)", "app": "app.py until HTTP"}
    measured = {k: v for k, v in data.items() if k in labels and v.get("median_s") is not None}
    bar_chart(
        chart,
        [labels[k] for k in measured],
        {"median s": [v["median_s"] for v in measured.values()]},
        title="Start-up (lower is better)",
        ylabel="seconds",
    )
    finish(
        name=NAME,
        script="startup.py",
        data=data,
        results_dir=args.results_dir,
        doc=args.docs_dir / "benchmarks.md",
        markdown=render(data, chart.name),
    )
    return 0


def measure(args: argparse.Namespace, store: Path) -> dict[str, Any]:
    ask = assistant_cmd("ask", args.question, "--store", str(store))
    runs = [check(run_measured(ask, cwd=ROOT), "assistant ask") for _ in range(args.runs)]
    status_cmd = assistant_cmd("status", "--store", str(store), "--json")
    status = check(run_measured(status_cmd, cwd=ROOT), "assistant status")
    data: dict[str, Any] = {
        "store": str(store),
        "articles": json.loads(status.stdout)["articles"],
        "runs": args.runs,
        "ask": _summary([r.seconds for r in runs], [r.peak_mb for r in runs]),
    }
    if not args.app.exists():
        note = f"{args.app} does not exist yet; the web page start-up was not measured"
        print(note, file=sys.stderr)
        data["app"] = {"median_s": None, "note": note}
        return data
    times = [time_app(args, store) for _ in range(args.runs)]
    data["app"] = _summary(times, [])
    return data


def _summary(seconds: list[float], peaks: list[float]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "median_s": round(median(seconds), 3),
        "min_s": round(min(seconds), 3),
        "max_s": round(max(seconds), 3),
        "seconds": [round(s, 3) for s in seconds],
    }
    if peaks:
        out["peak_mb"] = round(median(peaks), 1)
    return out


def time_app(args: argparse.Namespace, store: Path) -> float:
    """Seconds from `python app.py` to the page's first HTTP answer (any status)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    extra = list(args.app_arg)
    env = {**os.environ, "ASSISTANT_WEB__PORT": str(port)}
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(args.app), "--store", str(store), "--port", str(port), *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        while time.perf_counter() - began < args.timeout:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                tail = " | ".join(err.strip().splitlines()[-3:])
                raise SystemExit(f"error: {args.app} exited ({proc.returncode}): {tail}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                    pass
                return time.perf_counter() - began
            except urllib.error.HTTPError:
                return time.perf_counter() - began
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"error: {args.app} did not answer on port {port} in {args.timeout} s")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def render(data: dict[str, Any], chart: str) -> str:
    ask, app = data["ask"], data["app"]
    rows = [["`assistant ask` to the printed answer", ask["median_s"], ask["min_s"], ask["max_s"]]]
    if app.get("median_s") is not None:
        rows.append(
            [
                "`python app.py` to the first HTTP answer",
                app["median_s"],
                app["min_s"],
                app["max_s"],
            ]
        )
    table = markdown_table(["", "median s", "min s", "max s"], rows)
    note = f"\n\nNot measured: {app['note']}." if app.get("note") else ""
    return (
        f"## Start-up\n\nA new process each run ({data['runs']} runs) on a store of "
        f"{data['articles']} articles; the operating system's file cache is warm after the "
        f"first.\n\n{table}{note}\n\n"
        f"Peak memory of `assistant ask`: {ask.get('peak_mb')} MB.\n\n![start-up]({chart})"
    )


if __name__ == "__main__":
    raise SystemExit(main())

"""Start-up time: a cold `assistant ask` (a new process, to the printed answer) and the web page
(`python app.py`, to its first HTTP answer), each the median of a few runs.

Without `--store`, the five sample articles are indexed into a temporary store first (untimed).
The web page is started as `python app.py --store STORE --port PORT` (PORT a free one, also in
ASSISTANT_WEB__PORT); `--app-arg` adds arguments.

    .venv/bin/python bench/startup.py --store .bench-store --runs 3
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.processes import assistant_cmd, check, run_measured, serve_app

NAME = "startup"
QUESTION = "Why did Japan attend the Madrid summit?"


def main(argv: list[str] | None = None) -> int:
    p = common.new_parser(__doc__)
    common.add_store_option(p)
    p.add_argument("--runs", type=int, default=3, help="runs of each, reported as the median")
    p.add_argument("--question", default=QUESTION, help="what `assistant ask` is asked")
    p.add_argument("--app", type=Path, default=common.ROOT / "app.py", help="the web page script")
    p.add_argument("--app-arg", action="append", default=[], help="extra argument for app.py")
    p.add_argument("--timeout", type=float, default=180, help="seconds to wait for the page")
    args = p.parse_args(argv)

    with common.sample_store(args.store, NAME) as (store, _):
        data = measure(args, store)
    chart = args.docs_dir / "bench-startup.png"
    labels = {"ask": "assistant ask (cold)", "app": "app.py until HTTP"}
    common.bar_chart(
        chart,
        list(labels.values()),
        {"median s": [data[k]["median_s"] for k in labels]},
        title="Start-up (lower is better)",
        ylabel="seconds",
    )
    common.finish(args, NAME, data, render(data, chart.name))
    return 0


def measure(args: argparse.Namespace, store: Path) -> dict[str, Any]:
    ask = assistant_cmd("ask", args.question, "--store", str(store))
    runs = [check(run_measured(ask, cwd=common.ROOT), "assistant ask") for _ in range(args.runs)]
    status_cmd = assistant_cmd("status", "--store", str(store), "--json")
    status = check(run_measured(status_cmd, cwd=common.ROOT), "assistant status")
    return {
        "store": common.portable(store, "STORE"),
        "articles": json.loads(status.stdout)["articles"],
        "runs": args.runs,
        "ask": _summary([r.seconds for r in runs], [r.peak_mb for r in runs]),
        "app": _summary([time_app(args, store) for _ in range(args.runs)], []),
    }


def _summary(seconds: list[float], peaks: list[float]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "median_s": round(common.median(seconds), 3),
        "min_s": round(min(seconds), 3),
        "max_s": round(max(seconds), 3),
        "seconds": [round(s, 3) for s in seconds],
    }
    if peaks:
        out["peak_mb"] = round(common.median(peaks), 1)
    return out


def time_app(args: argparse.Namespace, store: Path) -> float:
    """Seconds from `python app.py` to the page's first HTTP answer (any status)."""
    began = time.perf_counter()
    with serve_app(
        store,
        app=args.app,
        extra=args.app_arg,
        timeout=args.timeout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ):
        return time.perf_counter() - began


def render(data: dict[str, Any], chart: str) -> str:
    ask, app = data["ask"], data["app"]
    rows = [
        ["`assistant ask` to the printed answer", ask["median_s"], ask["min_s"], ask["max_s"]],
        ["`python app.py` to the first HTTP answer", app["median_s"], app["min_s"], app["max_s"]],
    ]
    table = common.markdown_table(["", "median s", "min s", "max s"], rows)
    return (
        f"## Start-up\n\nA new process each run ({data['runs']} runs) on a store of "
        f"{data['articles']} articles; the operating system's file cache is warm after the "
        f"first.\n\n{table}\n\n"
        f"Peak memory of `assistant ask`: {ask.get('peak_mb')} MB.\n\n![start-up]({chart})"
    )


if __name__ == "__main__":
    raise SystemExit(main())

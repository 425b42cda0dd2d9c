"""What every benchmark shares: paths, timing, peak memory, machine facts, and the outputs.

A benchmark writes its numbers to `bench/results/<name>.json`, a section of `docs/benchmarks.md`
(or `docs/evaluation.md`) between `<!-- bench:<name> -->` markers, and a PNG chart beside it,
then prints the command that reproduces it. Benchmarks run by hand, never in CI.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "realtimeqa"
ARTICLES = SHARED / "articles.jsonl"
QUESTIONS = SHARED / "questions-dev.jsonl"
QUIET_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
}
os.environ.update({k: v for k, v in QUIET_ENV.items() if k not in os.environ})


def add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--results-dir", type=Path, default=ROOT / "bench" / "results", help="JSON results folder"
    )
    parser.add_argument(
        "--docs-dir", type=Path, default=ROOT / "docs", help="folder of the Markdown and charts"
    )


# -- measuring --------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


@dataclass(frozen=True)
class Run:
    """A finished subprocess: its output, wall time and peak resident memory (whole tree)."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float


def run_measured(args: Sequence[str], *, timeout: float | None = None, **kw: Any) -> Run:
    """Run a command to completion, sampling the RSS of it and its children every 50 ms."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw
    )
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(proc.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        done.set()
        sampler.join()
    return Run(list(args), proc.returncode, out, err, time.perf_counter() - began, peak[0] / 2**20)


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants: psutil if installed, else /proc."""
    try:
        import psutil
    except ImportError:
        return _proc_tree_rss(pid)
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):  # a child may end meanwhile
            total += p.memory_info().rss
    return total


def _proc_tree_rss(pid: int) -> int:
    page = os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError, ValueError, IndexError):  # gone meanwhile
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * page
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
    return total


def assistant_cmd(*args: str) -> list[str]:
    """The `assistant` command line of this checkout, run by this Python."""
    return [sys.executable, "-m", "assistant", *args]


def check(run: Run, what: str) -> Run:
    if run.returncode != 0:
        tail = (run.stderr or run.stdout).strip().splitlines()[-5:]
        raise SystemExit(f"error: {what} failed ({run.returncode}): " + " | ".join(tail))
    return run


# -- machine facts ----------------------------------------------------------------------------
def machine_info() -> dict[str, Any]:
    """CPU model, cores, RAM and the versions that matter for these numbers."""
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": _ram_gb(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    for package in ("torch", "sentence-transformers", "chromadb", "llama-index-core"):
        info[package] = _version(package)
    return info


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else platform.processor() or "unknown"


def _ram_gb() -> float | None:
    try:
        match = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    except OSError:
        return None
    return round(int(match.group(1)) / 2**20, 1) if match else None


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return ""


def machine_line(info: dict[str, Any]) -> str:
    return (
        f"{info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM; Python "
        f"{info['python']}, torch {info['torch']}, sentence-transformers "
        f"{info['sentence-transformers']}, chromadb {info['chromadb']}"
    )


# -- outputs ----------------------------------------------------------------------------------
def reproduce_command(script: str, argv: Sequence[str] | None = None) -> str:
    """The command line that reproduces this run, from the project root."""
    args = list(sys.argv[1:] if argv is None else argv)
    return shlex.join([".venv/bin/python", f"bench/{script}", *args])


def write_results(results_dir: Path, name: str, data: dict[str, Any], command: str) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{name}.json"
    payload = {
        "name": name,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command,
        "machine": machine_info(),
        **data,
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


DOC_TITLES = {
    "benchmarks.md": "# Benchmarks\n\nSpeed and memory, measured by the scripts in `bench/` "
    "(run by hand, not in CI). Each section is rewritten by its script; the command under it "
    "reproduces it.\n",
    "reliability.md": "# Reliability\n\nFault injection, load and hostile input. Each section is "
    "rewritten by its script in `bench/`; the command under it reproduces it. The items that fit "
    "in CI are tests in `tests/`, listed at the end.\n",
    "evaluation.md": "# Evaluation\n\nAnswer quality on the RealTime QA dev questions, measured "
    "by `bench/quality.py` through `assistant eval`. The section below is rewritten by the "
    "script; the command under it reproduces it.\n",
}


def write_section(doc: Path, name: str, markdown: str) -> None:
    """Put `markdown` between this benchmark's markers in `doc`, replacing what was there."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = doc.read_text(encoding="utf-8") if doc.exists() else DOC_TITLES.get(doc.name, "")
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def bar_chart(
    path: Path,
    groups: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    ylabel: str,
    lines: dict[str, float] | None = None,
) -> Path:
    """A grouped bar chart (one bar per series in each group), with optional reference lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(groups) + 2), 4.0), dpi=100)
    width = 0.8 / max(len(series), 1)
    for i, (label, values) in enumerate(series.items()):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        bars = ax.bar(xs, values, width, label=label)
        ax.bar_label(bars, fmt="%.3g", fontsize=7)
    for label, value in (lines or {}).items():
        ax.axhline(value, linestyle="--", linewidth=1, color="grey")
        ax.annotate(f"{label} {value:.3g}", (-0.5, value), fontsize=7, va="bottom", color="dimgrey")
    ax.set_xticks(range(len(groups)), groups, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.margins(y=0.12)
    if len(series) > 1:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"
        return str(v)

    for row in rows:
        if len(row) != len(header):
            raise ValueError(
                f"table row {list(row)!r} has {len(row)} cells for {len(header)} columns"
            )
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(out)


def finish(
    *,
    name: str,
    script: str,
    data: dict[str, Any],
    results_dir: Path,
    doc: Path,
    markdown: str,
) -> None:
    """Write the JSON and the doc section, then print where they went and how to reproduce."""
    command = reproduce_command(script)
    info = machine_info()
    section = (
        f"{markdown.strip()}\n\nMachine: {machine_line(info)}. "
        f"Measured {dt.date.today().isoformat()}.\n\nReproduce: `{command}`\n"
    )
    write_section(doc, name, section)
    path = write_results(results_dir, name, data, command)
    print(f"results: {path}\nsection {name!r} of {doc}\nreproduce: {command}")

"""What every benchmark shares: paths, options, a sample store, statistics, machine facts, and
the outputs.

A benchmark writes its numbers to `bench/results/<name>.json`, a section of `docs/benchmarks.md`
(or `docs/reliability.md`, `docs/evaluation.md`) between `<!-- bench:<name> -->` markers, and a
PNG chart beside it, then prints the command that reproduces it. Paths in what it writes are the
repository's, never this machine's (see `portable`). Benchmarks run by hand, never in CI. Not
here: running and measuring child processes (`bench.processes`).
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
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.processes import ROOT, assistant_cmd, check, run_measured
from index.environment import apply_defaults

SHARED_ROOT = ROOT.parent / "shared"  # the data beside the repository, `../shared` in the docs
SHARED = SHARED_ROOT / "data" / "realtimeqa"
ARTICLES = SHARED / "articles.jsonl"
QUESTIONS = SHARED / "questions-dev.jsonl"
apply_defaults()  # the product's quiet, offline environment, inherited by every child process


# -- options ----------------------------------------------------------------------------------
def new_parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser showing the script's docstring, with the output folders every benchmark takes."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    outputs = parser.add_argument_group("outputs")
    outputs.add_argument(
        "--results-dir", type=Path, default=ROOT / "bench" / "results", help="JSON results folder"
    )
    outputs.add_argument(
        "--docs-dir", type=Path, default=ROOT / "docs", help="folder of the Markdown and charts"
    )
    return parser


def add_store_option(parser: argparse.ArgumentParser, help: str = "") -> None:
    """`--store`: required if `help` says what it must hold, else the samples (`sample_store`)."""
    default = "an existing index (default: the samples, indexed)"
    parser.add_argument("--store", type=Path, required=bool(help), help=help or default)


def add_questions_option(
    parser: argparse.ArgumentParser,
    default: Path | None = QUESTIONS,
    help: str = "questions file (jsonl)",
) -> None:
    parser.add_argument("--questions", type=Path, default=default, help=help)


@contextlib.contextmanager
def sample_store(store: Path | None, name: str) -> Iterator[tuple[Path, Path]]:
    """A scratch folder, and `store` or, without one, the sample articles indexed (untimed) into
    a store in that folder; the folder goes when the block ends."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        scratch = Path(tmp)
        if store is None:
            store = scratch / "store"
            index = assistant_cmd("index", str(ROOT / "samples"), "--store", str(store), "-q")
            check(run_measured(index, cwd=ROOT), "indexing the samples")
        yield store, scratch


# -- statistics ------------------------------------------------------------------------------
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
def portable(path: Path | str, outside: str = "") -> str:
    """`path` as the docs write it: relative to the repository when inside it, `../shared/...`
    in the shared data beside it, else `outside` (e.g. `STORE`) or `WORK/<its name>`."""
    given = Path(path).expanduser()
    for candidate in (Path(os.path.abspath(given)), given.resolve()):
        for base, shown in (
            (ROOT, ""),
            (SHARED_ROOT, "../shared"),
            (SHARED_ROOT.resolve(), "../shared"),
        ):
            if candidate.is_relative_to(base):
                relative = candidate.relative_to(base).as_posix()
                return "/".join(p for p in (shown, relative) if p and p != ".") or "."
    return outside or f"WORK/{given.name}"


def reproduce_command(script: str, argv: Sequence[str] | None = None) -> str:
    """The command line that reproduces this run, from the project root, with `portable` paths:
    a store outside the repository is `STORE`."""
    shown, option = [], ""
    for arg in sys.argv[1:] if argv is None else argv:
        if arg.startswith("-"):
            option, equals, value = arg.partition("=")
            shown.append(f"{option}={_portable_arg(option, value)}" if equals else arg)
        else:
            shown.append(_portable_arg(option, arg))
    return shlex.join([".venv/bin/python", f"bench/{script}", *shown])


def _portable_arg(option: str, value: str) -> str:
    if "store" in option:
        return portable(value, "STORE")
    if value.startswith(("/", "~")) or (value and Path(value).exists()):
        return portable(value)
    return value


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
    args: argparse.Namespace,
    name: str,
    data: dict[str, Any],
    markdown: str,
    *,
    doc: str = "benchmarks.md",
    script: str = "",
) -> None:
    """Write the JSON and the section of `doc` (in `--docs-dir`), then print where they went and
    how to reproduce them; `script` defaults to `<name>.py`."""
    command = reproduce_command(script or f"{name}.py")
    info = machine_info()
    section = (
        f"{markdown.strip()}\n\nMachine: {machine_line(info)}. "
        f"Measured {dt.date.today().isoformat()}.\n\nReproduce: `{command}`\n"
    )
    write_section(args.docs_dir / doc, name, section)
    path = write_results(args.results_dir, name, data, command)
    print(f"results: {path}\nsection {name!r} of {args.docs_dir / doc}\nreproduce: {command}")

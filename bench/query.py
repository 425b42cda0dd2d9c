"""Query latency on an existing index: retrieval alone, a full extractive answer, and (given a
local llama.cpp model or server) the time to the first streamed word in LLM mode.

Per question, side by side: `Retriever.rank_chunks`, `Assistant.retrieve` (ranking merged into
passages) and `Assistant.ask` (extractive, with the reader as configured and with it off). After
a warm-up, so model loading and the first BM25 matrix build are not counted. With
`--llm-gguf PATH` a `llama_cpp.server` is started on a free port for the run; with `--llm-url`
an existing OpenAI-compatible server is used.

    .venv/bin/python bench/query.py --store .bench-store --n 100
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.processes import free_port, running, wait_http

NAME = "query"


def main(argv: list[str] | None = None) -> int:
    p = common.new_parser(__doc__)
    common.add_store_option(p, "an existing index")
    common.add_questions_option(p)
    p.add_argument("--n", type=int, default=100, help="questions to time")
    p.add_argument("--as-of-field", help="filter each question by the date in this field")
    p.add_argument("--warmup", type=int, default=2, help="untimed questions first")
    p.add_argument("--llm-gguf", type=Path, help="start a llama.cpp server on this .gguf")
    p.add_argument("--llm-url", help="an OpenAI-compatible server already running")
    p.add_argument("--llm-n", type=int, default=10, help="questions to time in LLM mode")
    args = p.parse_args(argv)

    from assistant import evaluate
    from assistant.assistant import Assistant, make_filters

    questions = evaluate.load_questions(args.questions, args.as_of_field, args.n + args.warmup)
    assistant = Assistant.open(args.store)
    for q in questions[: args.warmup]:
        assistant.ask(q.question, as_of=q.as_of or None)
    # the same index without the reader, side by side (answer.reader = false)
    plain = Assistant(
        assistant.index,
        assistant.settings.model_copy(
            update={"answer": assistant.settings.answer.model_copy(update={"reader": False})}
        ),
    )
    for q in questions[: args.warmup]:
        plain.ask(q.question, as_of=q.as_of or None)
    timed = questions[args.warmup :] or questions
    stages: dict[str, list[float]] = {
        "rank_chunks": [],
        "retrieve": [],
        "ask (extractive)": [],
        "ask (reader off)": [],
    }
    for q in timed:
        as_of = q.as_of or None
        steps: dict[str, Callable[[], object]] = {
            "rank_chunks": partial(
                assistant.retriever.rank_chunks, q.question, make_filters(as_of=as_of)
            ),
            "retrieve": partial(assistant.retrieve, q.question, as_of=as_of),
            "ask (extractive)": partial(assistant.ask, q.question, as_of=as_of),
            "ask (reader off)": partial(plain.ask, q.question, as_of=as_of),
        }
        for name, step in steps.items():
            stages[name].append(_time(step))
    llm = time_llm(args, timed[: args.llm_n]) if args.llm_gguf or args.llm_url else None
    data: dict[str, Any] = {
        "store": common.portable(args.store, "STORE"),
        "articles": len(assistant.index.records()),
        "questions": len(timed),
        "stages": {name: _stats(values) for name, values in stages.items()},
        "llm": llm,
    }
    chart = args.docs_dir / "bench-query.png"
    rows = dict(data["stages"])
    if llm and "first_text" in llm:
        rows["LLM first text"] = llm["first_text"]
    common.bar_chart(
        chart,
        list(rows),
        {"p50": [r["p50"] for r in rows.values()], "p95": [r["p95"] for r in rows.values()]},
        title=f"Query latency, {data['articles']} articles (lower is better)",
        ylabel="seconds",
    )
    common.finish(args, NAME, data, render(data, chart.name))
    return 0


def _time(fn: Callable[[], object]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(common.percentile(values, 50), 4),
        "p95": round(common.percentile(values, 95), 4),
    }


def time_llm(args: argparse.Namespace, questions: list[Any]) -> dict[str, Any]:
    """Time to first streamed text and to the checked answer, through `Assistant.stream`,
    after one untimed question (the server loads the model and caches the system prompt)."""
    from assistant.assistant import Assistant
    from assistant.types import Answer
    from index import NewsAssistantError

    with contextlib.ExitStack() as stack:
        url = args.llm_url
        if args.llm_gguf:
            url = stack.enter_context(llama_server(args.llm_gguf))
        try:
            assistant = Assistant.open(args.store, llm=url)
        except (ImportError, NewsAssistantError) as exc:
            print(f"LLM mode skipped: {exc}", file=sys.stderr)
            return {"url": url, "error": str(exc)}
        assistant.ask(questions[0].question)  # warm-up: the server loads the model
        first, total = [], []
        for q in questions:
            began = time.perf_counter()
            seen = False
            for part in assistant.stream(q.question, as_of=q.as_of or None):
                if not seen and isinstance(part, str) and part.strip():
                    first.append(time.perf_counter() - began)
                    seen = True
                if isinstance(part, Answer):
                    total.append(time.perf_counter() - began)
        return {
            "url": url,
            "model": args.llm_gguf.name if args.llm_gguf else assistant.model_label,
            "first_text": _stats(first),
            "answer": _stats(total),
        }


@contextlib.contextmanager
def llama_server(gguf: Path) -> Iterator[str]:
    """`python -m llama_cpp.server` on a free loopback port; yields its URL once it answers."""
    if not gguf.exists():
        raise SystemExit(f"error: no model file at {gguf}")
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"]
    url = f"http://127.0.0.1:{port}/v1"
    with running(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as server:
        wait_http(f"{url}/models", server, "llama_cpp.server", 120, any_status=False)
        yield url


def render(data: dict[str, Any], chart: str) -> str:
    rows = [[name, s["n"], s["p50"], s["p95"]] for name, s in data["stages"].items()]
    llm = data.get("llm")
    if llm and "first_text" in llm:
        rows.append([f"LLM first text ({llm['model']})", *llm["first_text"].values()])
        rows.append([f"LLM checked answer ({llm['model']})", *llm["answer"].values()])
    note = f"\n\nLLM mode not measured: {llm['error']}" if llm and "error" in llm else ""
    table = common.markdown_table(["stage", "n", "p50 s", "p95 s"], rows)
    return (
        f"## Query latency\n\n{data['questions']} questions on an index of {data['articles']} "
        f"articles, each stage timed for every question in turn, after a warm-up.\n\n"
        f"{table}{note}\n\n![query latency]({chart})"
    )


if __name__ == "__main__":
    raise SystemExit(main())

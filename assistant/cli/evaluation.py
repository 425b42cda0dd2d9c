"""`assistant eval`: retrieval, evidence, answer and multiple-choice scores on a questions file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from assistant.assistant import Assistant
from assistant.cli.common import add_store_options, settings_from
from assistant.evaluate import (
    RANK_DEPTH,
    EvalReport,
    describe_settings,
    load_questions,
    run,
    summarise,
)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "eval", help="score retrieval and answers on questions with known answers (JSON lines)"
    )
    p.add_argument("questions", type=Path, metavar="QUESTIONS.jsonl", help="questions file")
    p.add_argument("--top-k", type=int, help="passages to draw each answer from")
    p.add_argument(
        "--mode", choices=["hybrid", "dense", "keyword"], help="retrieval mode (default: setting)"
    )
    p.add_argument("--candidates", type=int, help="chunks each retriever returns before fusion")
    p.add_argument(
        "--as-of-field",
        metavar="FIELD",
        help="answer each question from the news available on the date in this field "
        "(e.g. asked_on)",
    )
    p.add_argument("--limit", type=_positive, help="only the first N questions")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--llm", help="OpenAI-compatible server URL or a .gguf file (default: none)")
    p.add_argument("--model", help="model name on the LLM server")
    add_store_options(p)
    p.set_defaults(run=run_eval)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def run_eval(args: argparse.Namespace) -> int:
    questions = load_questions(args.questions, args.as_of_field, args.limit)
    retrieval = {"mode": args.mode, "top_k": args.top_k, "candidates": args.candidates}
    settings = settings_from(args, retrieval={k: v for k, v in retrieval.items() if v is not None})
    assistant = Assistant.open(settings=settings, llm=args.llm, model=args.model)
    results = []
    from tqdm import tqdm

    with tqdm(
        total=len(questions), unit="question", file=sys.stderr, disable=not sys.stderr.isatty()
    ) as bar:
        for result in run(assistant, questions):
            results.append(result)
            bar.update(1)
    described = describe_settings(assistant)
    described.update(questions_file=str(args.questions), as_of_field=args.as_of_field or "")
    report = summarise(results, described)
    print(json.dumps(report.to_dict(), indent=2) if args.json else format_report(report))
    return 0


def _gold_stored_rows(report: EvalReport) -> list[tuple[str, str, int]]:
    """The answer metrics over the questions whose gold article is stored, when some are."""
    if not report.gold_in_store:
        return []
    stored = [r for r in report.results if r.gold_in_store]
    answers = sum(1 for r in stored if r.correct is not None)
    choices = sum(1 for r in stored if r.choice_correct is not None)
    g = report.gold_stored
    return [
        ("where the gold article is stored:", "", report.gold_in_store),
        ("  gold answer in top-k passages", _fmt(g.get("evidence_in_passages")), answers),
        ("  answer text contains a gold answer", _fmt(g.get("accuracy")), answers),
        ("  multiple-choice accuracy", _fmt(g.get("choice_accuracy")), choices),
    ]


def format_report(report: EvalReport) -> str:
    """A plain-text table of the metrics, with the settings that produced them."""
    s = report.settings
    as_of = f", as of each question's {s['as_of_field']}" if s.get("as_of_field") else ""
    answers = f"LLM {s['llm_model']}" if s["answers"] == "llm" else "extractive"
    lines = [
        f"questions: {report.questions} ({report.with_gold} with gold articles, "
        f"{report.gold_in_store} of them in the store; {report.with_answers} with answers; "
        f"{report.with_choices} with choices)",
        f"settings:  {s['retrieval_mode']} retrieval, top_k {s['top_k']}, candidates "
        f"{s['candidates']}, {s['embedding_model']} ({s['embedding_backend']}), chunks "
        f"{s['chunk_tokens']}/{s['chunk_overlap']} tokens, {answers} answers{as_of}",
        "",
        f"{'metric':<44}{'value':>8}{'n':>6}",
    ]
    rows: list[tuple[str, str, int]] = [
        *((f"gold article Hit@{k}", _fmt(v), report.with_gold) for k, v in report.hit.items()),
        (f"gold article MRR@{RANK_DEPTH}", _fmt(report.mrr_at_10), report.with_gold),
        ("gold answer in top-k passages", _fmt(report.evidence_in_passages), report.with_answers),
        ("gold answer in cited passages", _fmt(report.evidence_in_citations), report.with_answers),
        ("answered (not 'the articles don't say')", _fmt(report.answered), report.questions),
        ("answer text contains a gold answer", _fmt(report.accuracy), report.with_answers),
        (
            "  of those answered (precision)",
            _fmt(report.answered_accuracy),
            sum(1 for r in report.results if r.answered and r.correct is not None),
        ),
        ("multiple-choice accuracy", _fmt(report.choice_accuracy), report.with_choices),
        *_gold_stored_rows(report),
        ("latency of ask, p50 (s)", f"{report.latency_p50:.2f}", report.questions),
        ("latency of ask, p95 (s)", f"{report.latency_p95:.2f}", report.questions),
    ]
    lines += [f"{name:<44}{value:>8}{n:>6}" for name, value, n in rows]
    if report.choice_abstained:
        lines.append(
            f"\nmultiple choice: no choice found support in the passages for "
            f"{report.choice_abstained} questions (counted as wrong)"
        )
    if report.short_rankings:
        lines.append(
            f"note: for {report.short_rankings} questions rank_chunks found fewer than "
            f"{RANK_DEPTH} distinct articles (candidates {s['candidates']}); a gold article "
            "beyond them counts as a miss. Raise --candidates to rank deeper."
        )
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"

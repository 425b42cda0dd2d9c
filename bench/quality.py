"""Answer quality on the RealTime QA dev questions: `assistant eval` with each retrieval mode
(dense, BM25, hybrid), with and without answering as of the day each question was asked, in one
table beside the RealTime QA paper's baselines, into docs/evaluation.md.

Each row is exactly `assistant eval QUESTIONS --store STORE --mode MODE [--as-of-field
asked_on]`; they run in one process so the model and the store are loaded once.

    .venv/bin/python bench/quality.py --store .bench-store
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

NAME = "quality"
# Kasai et al., "RealTime QA: What's the Answer Right Now?" (2022), on their questions
PAPER = {
    "google_search_gold_top1": 0.439,
    "google_search_gold_top5": 0.561,
    "google_search_gold_top10": 0.587,
    "gpt3_google_search_mc_accuracy": 0.725,
}


def main(argv: list[str] | None = None) -> int:
    p = common.new_parser(__doc__)
    common.add_store_option(p, "an index of the whole corpus")
    common.add_questions_option(p)
    p.add_argument("--modes", default="dense,keyword,hybrid", help="comma-separated modes")
    p.add_argument(
        "--as-of", choices=["both", "on", "off"], default="both", help="as-of filter runs"
    )
    p.add_argument("--as-of-field", default="asked_on", help="the field with the question date")
    p.add_argument("--top-k", type=int, help="passages per answer (default: setting)")
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL=SECTION.FIELD:VALUE,...",
        help="instead of the mode table: the hybrid, as-of baseline and one row per variant, "
        "e.g. 'recency=retrieval.recency_weight:1' (into the 'levers' section)",
    )
    args = p.parse_args(argv)
    if args.variant:
        return levers(args)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    as_of = {"both": [False, True], "on": [True], "off": [False]}[args.as_of]

    rows = [evaluate_one(args, mode, dated) for dated in as_of for mode in modes]
    data = {"questions_file": common.portable(args.questions), "paper": PAPER, "rows": rows}
    chart = args.docs_dir / "eval-quality.png"
    common.bar_chart(
        chart,
        [r["label"] for r in rows],
        {
            "Hit@1": [r["hit"]["1"] or 0.0 for r in rows],
            "Hit@5": [r["hit"]["5"] or 0.0 for r in rows],
            "Hit@10": [r["hit"]["10"] or 0.0 for r in rows],
            "MC accuracy": [r["choice_accuracy"] or 0.0 for r in rows],
        },
        title="RealTime QA dev: gold article Hit@k and multiple-choice accuracy",
        ylabel="share of questions",
        lines={
            "paper: Google search top-5": PAPER["google_search_gold_top5"],
            "paper: GPT-3 + Google MC": PAPER["gpt3_google_search_mc_accuracy"],
        },
    )
    common.finish(args, NAME, data, render(data, args, chart.name), doc="evaluation.md")
    return 0


_opened: dict[str, Any] = {}


def parse_variant(spec: str) -> tuple[str, dict[str, dict[str, str]]]:
    """'LABEL=section.field:value,...' -> (LABEL, {section: {field: value}})."""
    label, _, body = spec.partition("=")
    changes: dict[str, dict[str, str]] = {}
    for part in filter(None, (x.strip() for x in body.split(","))):
        key, _, value = part.partition(":")
        section, _, name = key.partition(".")
        if not (section and name and value):
            raise SystemExit(f"error: --variant {spec!r}: write SECTION.FIELD:VALUE, got {part!r}")
        changes.setdefault(section, {})[name] = value
    if not label or not changes:
        raise SystemExit(f"error: --variant {spec!r}: write LABEL=SECTION.FIELD:VALUE,...")
    return label, changes


def levers(args: argparse.Namespace) -> int:
    """The hybrid, as-of baseline and each variant, side by side in one run."""
    variants: list[tuple[str, dict[str, dict[str, str]]]] = [("baseline", {})]
    variants += [parse_variant(v) for v in args.variant]
    rows = [evaluate_one(args, "hybrid", True, label, changes) for label, changes in variants]
    base = rows[0]
    table = common.markdown_table(
        [
            "variant",
            "changes",
            "Hit@1",
            "Hit@5",
            "Hit@10",
            "MRR@10",
            "answer in passages",
            "answered",
            "answer text",
            "precision",
            "MC",
            "p50 s",
        ],
        [
            [
                r["label"],
                ", ".join(f"{k}={v}" for k, v in r["changes"].items()) or "defaults",
                *_ranking(r),
                r["evidence_in_passages"],
                r["answered"],
                r["accuracy"],
                r["answered_accuracy"],
                r["choice_accuracy"],
                r["latency_p50"],
            ]
            for r in rows
        ],
    )
    markdown = (
        "## Retrieval and answer levers\n\n"
        f"Hybrid retrieval, as of `{args.as_of_field}`, {base['questions']} questions; each "
        "variant changes only the settings listed (as `ASSISTANT_<SECTION>__<FIELD>` variables "
        "would), everything else as in the baseline row, all in one run.\n\n" + table
    )
    data = {"questions_file": common.portable(args.questions), "rows": rows}
    common.finish(args, "levers", data, markdown, doc="evaluation.md", script="quality.py")
    return 0


def evaluate_one(
    args: argparse.Namespace,
    mode: str,
    dated: bool,
    label: str = "",
    changes: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """One `assistant eval` run, in-process, sharing the opened index between runs."""
    from tqdm import tqdm

    from assistant import evaluate
    from assistant.assistant import Assistant
    from assistant.settings import Settings

    field = args.as_of_field if dated else None
    questions = evaluate.load_questions(args.questions, field, args.limit)
    base = Settings(store=args.store)
    update = {"mode": mode, **({"top_k": args.top_k} if args.top_k else {})}
    settings = base.model_copy(update={"retrieval": base.retrieval.model_copy(update=update)})
    flat: dict[str, str] = {}
    for section, fields in (changes or {}).items():
        part = getattr(settings, section)
        typed = type(part).model_validate({**part.model_dump(), **fields})
        settings = settings.model_copy(update={section: typed})
        flat.update({f"{section}.{k}": v for k, v in fields.items()})
    assistant = Assistant.open(settings=settings, index=_opened.get("index"))
    _opened["index"] = assistant.index
    label = label or (f"{mode}, as of {field}" if field else mode)
    results = list(
        tqdm(
            evaluate.run(assistant, questions),
            total=len(questions),
            desc=label,
            file=sys.stderr,
            disable=not sys.stderr.isatty(),
        )
    )
    described = evaluate.describe_settings(assistant)
    questions_file, store = common.portable(args.questions), common.portable(args.store, "STORE")
    described.update(store=store, questions_file=questions_file, as_of_field=field or "")
    report = evaluate.summarise(results, described).to_dict()
    report.pop("results")
    command = f"assistant eval {questions_file} --store {store} --mode {mode}"
    command += f" --as-of-field {field}" if field else ""
    command += f" --top-k {args.top_k}" if args.top_k else ""
    command += f" --limit {args.limit}" if args.limit else ""
    env = " ".join(f"ASSISTANT_{k.replace('.', '__').upper()}={v}" for k, v in flat.items())
    command = f"{env} {command}" if env else command
    return {
        "label": label,
        "mode": mode,
        "as_of": bool(dated),
        "changes": flat,
        "command": command,
        **report,
    }


def _ranking(row: dict[str, Any]) -> list[float | None]:
    """Hit@1, Hit@5, Hit@10 and MRR@10 of one row, as the tables show them."""
    return [row["hit"]["1"], row["hit"]["5"], row["hit"]["10"], row["mrr_at_10"]]


def render(data: dict[str, Any], args: argparse.Namespace, chart: str) -> str:
    rows = data["rows"]
    first = rows[0]
    table = common.markdown_table(
        [
            "retrieval",
            "Hit@1",
            "Hit@5",
            "Hit@10",
            "MRR@10",
            "answer in passages",
            "answer in citations",
            "answer text",
            "MC accuracy",
            "answer text, gold stored",
            "MC, gold stored",
            "p50 s",
            "p95 s",
        ],
        [
            [
                r["label"],
                *_ranking(r),
                r["evidence_in_passages"],
                r["evidence_in_citations"],
                r["accuracy"],
                r["choice_accuracy"],
                r["gold_stored"]["accuracy"],
                r["gold_stored"]["choice_accuracy"],
                r["latency_p50"],
                r["latency_p95"],
            ]
            for r in rows
        ]
        + [
            [
                "paper: Google custom search",
                PAPER["google_search_gold_top1"],
                PAPER["google_search_gold_top5"],
                PAPER["google_search_gold_top10"],
                *[None] * 9,
            ],
            ["paper: GPT-3 with Google search", *[None] * 7, 0.725, *[None] * 4],
        ],
    )
    s = first["settings"]
    short = max(r["short_rankings"] for r in rows)
    short_note = (
        f" For up to {short} questions rank_chunks gave fewer than 10 distinct articles "
        "(a gold article beyond them counts as a miss)."
        if short
        else ""
    )
    commands = "\n".join(f"    {r['command']}" for r in rows)
    paragraphs = [
        "## RealTime QA dev questions",
        f"{first['questions']} questions from `{Path(data['questions_file']).name}`; "
        f"{first['with_gold']} carry gold article ids, and {first['gold_in_store']} of those "
        "articles are in the store (ids compared without their `#fragment`). Hit@k and MRR@10 "
        "are over the questions with gold ids, an article counting at the rank of its best "
        "chunk; the answer columns are over all questions with answers; MC accuracy over the "
        f"{first['with_choices']} questions with choices, abstentions counted as wrong; the "
        '"gold stored" columns repeat answer text and MC over the questions whose gold article '
        "is in the store (the other questions' stories may not be in the collection at all). "
        '"As of asked_on" answers from the articles published on or before the day the '
        "question was asked, the paper's setting." + short_note,
        table,
        f"Settings: top_k {s['top_k']}, candidates {s['candidates']}, {s['embedding_model']} "
        f"({s['embedding_backend']}), chunks of {s['chunk_tokens']} tokens with "
        f"{s['chunk_overlap']} overlap, extractive answers. Paper baselines: Kasai et al., "
        "*RealTime QA: What's the Answer Right Now?* (2022), measured on their own question "
        "set against the live web, not on this corpus.",
        "Multiple choice (`assistant.answer.choices.pick_choice`): each choice scores its best "
        "supporting sentence in the whole articles the top-k passages come from, support = "
        "(share of the choice's distinctive words in the sentence) x (the sentence's cosine "
        "similarity to the question followed by that choice); ties go to the summed support, "
        "and a choice with no support at all is no answer.",
        f"Each row is one run of:\n\n{commands}",
        f"![quality]({chart})",
    ]
    return "\n\n".join(paragraphs)


if __name__ == "__main__":
    raise SystemExit(main())

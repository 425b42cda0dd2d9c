"""Ingest speed: `assistant index` against the model's ceiling and against plain llama-index.

On one fixed slice (the first N articles of the corpus), side by side in one run, each in its
own process (so each peak memory is its own):

- ours: `assistant index SLICE --store FRESH` for each embedding backend asked for (default:
  the configured one and torch fp32), then the first again, unchanged (the re-sync);
- ceiling: the bare encoder of that backend (for torch, sentence-transformers `encode`) on the
  very chunk texts our index stored, same batch size, after loading: no parsing, chunking,
  keyword index or writing;
- the sync's own work: the same sync in-process with the model replaced by random unit vectors
  (reading, chunking, the Chroma and BM25 writes: what one coordinator can write at most, and
  what a local sync adds to the model's work on the same cores);
- llama-index: `VectorStoreIndex.from_documents` with the same model (HuggingFaceEmbedding, torch
  fp32, on the bundled path, its default batch size), a SentenceSplitter of the same size in the
  model's word pieces, and a fresh ChromaVectorStore;
- with `--ray 1,2`: `assistant index SLICE --ray ADDRESS` with 1, then 2 actors of one thread
  each (first backend), on a two-node Ray cluster (`ray start`, one CPU per node) started on
  this machine for the run and ended after it.

"work s" is the time each reports for its own work (ours: the sync as `assistant index` prints
it, which includes loading the model; the others: after loading); "wall s" is the whole process.
The int8 export of the model is made once beforehand (untimed) in a shared cache folder.

    .venv/bin/python bench/ingest.py --limit 300 --ray 1,2
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.processes import ROOT, Run, assistant_cmd, check, free_port, run_measured

NAME = "ingest"


def main(argv: list[str] | None = None) -> int:
    p = common.new_parser(__doc__)
    p.add_argument("--articles", type=Path, default=common.ARTICLES, help="JSON-lines corpus")
    p.add_argument("--limit", type=int, default=300, help="first N articles; 0: all")
    p.add_argument(
        "--store-dir", type=Path, help="where our index (first backend) goes, kept; default: temp"
    )
    p.add_argument(
        "--backends", help="comma-separated embedding backends (default: the configured one,torch)"
    )
    p.add_argument("--repeat", type=int, default=1, help="rounds, reported as medians")
    p.add_argument(
        "--ray",
        help="comma-separated Ray actor counts (one thread each), each a row, on a local "
        "two-node cluster started for the run (needs the cluster extra)",
    )
    p.add_argument(
        "--worker", choices=["prepare", "ceiling", "writes", "llamaindex"], help=argparse.SUPPRESS
    )
    p.add_argument("--slice", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker == "prepare":
        return _write(args.out, prepare_model())
    if args.worker == "ceiling":
        return _write(args.out, encode_ceiling(args.store_dir))
    if args.worker == "writes":
        return _write(args.out, sync_without_model(args.slice, args.store_dir))
    if args.worker == "llamaindex":
        return _write(args.out, llamaindex_ingest(args.slice, args.store_dir))
    if args.store_dir and args.store_dir.exists() and any(args.store_dir.iterdir()):
        raise SystemExit(f"error: {args.store_dir} is not empty; give a new folder")
    backends = _backends(args.backends)
    actors = [int(n) for n in args.ray.split(",") if n.strip()] if args.ray else []

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp, _cluster(actors) as ray:
        work = Path(tmp)
        os.environ.setdefault("ASSISTANT_INDEX__MODEL_CACHE", str(work / "models"))
        articles = write_slice(args.articles, args.limit, work / "slice.jsonl")
        prepared = {  # the one-time int8 export, kept out of the timings
            b: _worker("prepare", work, {"ASSISTANT_INDEX__EMBEDDING_BACKEND": b})
            for b in backends
            if b != "torch"
        }
        rounds = [
            one_round(
                work / f"round{i}",
                work / "slice.jsonl",
                backends,
                args.store_dir if i == 0 else None,
                (ray, actors),
            )
            for i in range(max(args.repeat, 1))
        ]
    data = {**summarise(rounds, articles, backends, args, actors), "prepare": prepared}
    chart = args.docs_dir / "bench-ingest.png"
    shown = [k for k in data["variants"] if k not in ("resync", "writes")]
    common.bar_chart(
        chart,
        [data["variants"][k]["label"].replace(", ", "\n") for k in shown],
        {"chunks/s": [data["variants"][k]["chunks_per_s"] for k in shown]},
        title=f"Embedding throughput, {articles} articles (higher is better)",
        ylabel="chunks per second",
    )
    common.finish(args, NAME, data, render(data, chart.name))
    return 0


def _backends(given: str | None) -> list[str]:
    names = given.split(",") if given else [_index_settings().embedding_backend, "torch"]
    out = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    unknown = [n for n in out if n not in ("torch", "onnx-int8")]
    if unknown:
        raise SystemExit(f"error: unknown backend {unknown[0]!r}; use torch or onnx-int8")
    return out


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


def one_round(
    work: Path,
    slice_path: Path,
    backends: list[str],
    keep: Path | None,
    ray: tuple[str, list[int]] = ("", []),
) -> dict[str, Any]:
    """Each backend's index of the slice, its bare encoder, the re-sync, llama-index, and the
    first backend's index on the Ray cluster at `ray[0]` with each of `ray[1]` actors."""
    out: dict[str, Any] = {}
    for i, backend in enumerate(backends):
        env = {**os.environ, "ASSISTANT_INDEX__EMBEDDING_BACKEND": backend}
        store = keep if i == 0 and keep else work / f"store-{backend}"
        index = assistant_cmd("index", str(slice_path), "--store", str(store), "-q")
        run = check(run_measured(index, cwd=ROOT, env=env), f"assistant index ({backend})")
        out[f"ours:{backend}"] = {**parse_index_output(run), **_proc(run)}
        if i == 0:
            again = check(run_measured(index, cwd=ROOT, env=env), "assistant index (re-sync)")
            out["resync"] = {**parse_index_output(again), **_proc(again)}
        out[f"ceiling:{backend}"] = _worker(
            "ceiling",
            work,
            {"ASSISTANT_INDEX__EMBEDDING_BACKEND": backend},
            "--store-dir",
            str(store),
        )
        if i == 0:
            out["writes"] = _worker(
                "writes",
                work,
                {"ASSISTANT_INDEX__EMBEDDING_BACKEND": backend},
                "--slice",
                str(slice_path),
                "--store-dir",
                str(work / "store-writes"),
            )
    address, actors = ray
    for n in actors:
        env = {
            **os.environ,
            "ASSISTANT_INDEX__EMBEDDING_BACKEND": backends[0],
            "ASSISTANT_INDEX__RAY_ACTORS": str(n),
            "ASSISTANT_INDEX__RAY_THREADS_PER_ACTOR": "1",
        }
        store = work / f"store-ray{n}"
        index = assistant_cmd("index", str(slice_path), "--store", str(store), "-q")
        run = check(
            run_measured([*index, "--ray", address], cwd=ROOT, env=env), f"--ray, {n} actors"
        )
        out[f"ray:{n}"] = {**parse_index_output(run), **_proc(run)}
    out["llamaindex"] = _worker(
        "llamaindex", work, {}, "--slice", str(slice_path), "--store-dir", str(work / "llama")
    )
    return out


@contextlib.contextmanager
def _cluster(actors: list[int]) -> Iterator[str]:
    """A Ray cluster of two one-CPU nodes on this machine, for `actors` (none: no cluster); its
    address. Ended by the ids of its two sessions, never `ray stop` (it ends every cluster)."""
    if not actors:
        yield ""
        return
    ray = str(Path(sys.executable).parent / "ray")
    if not Path(ray).exists():
        raise SystemExit("error: --ray needs Ray: install it with pip install -e '.[cluster]'")
    folder = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: unix socket paths
    address = f"127.0.0.1:{free_port()}"
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    head = ["--head", f"--port={address.rpartition(':')[2]}", "--include-dashboard=false"]
    head += [f"--ray-client-server-port={free_port()}", f"--dashboard-port={free_port()}"]
    sessions: list[int] = []
    try:
        for n, where in enumerate([head, [f"--address={address}"]]):
            where += [
                f"--temp-dir={folder / str(n)}",
                f"--dashboard-agent-listen-port={free_port()}",
            ]
            proc = subprocess.Popen(
                [ray, "start", "--num-cpus=1", "--disable-usage-stats", *where],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
            sessions.append(proc.pid)
            out, _ = proc.communicate(timeout=300)
            if proc.returncode:
                raise SystemExit(f"error: ray start failed: {out[-2000:]}")
        yield address
    finally:
        for pid in (p for p in _pids() if _session(p) in sessions):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)


def _pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _session(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[3])
    except (OSError, IndexError, ValueError):
        return 0


def _worker(kind: str, work: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    """Run one of this script's workers in its own process; its JSON plus wall time and memory."""
    work.mkdir(parents=True, exist_ok=True)
    result = work / f"{kind}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--out", str(result)]
    run = check(run_measured([*cmd, *args], env={**os.environ, **env}), f"the {kind} worker")
    return {**json.loads(result.read_text()), **_proc(run)}


def parse_index_output(run: Run) -> dict[str, Any]:
    """Chunks, seconds and article counts from what `assistant index` prints."""
    timing = re.search(r"(\d+) chunks embedded in ([\d.]+)s", run.stdout)
    counts = re.search(r"added (\d+), updated (\d+), unchanged (\d+)", run.stdout)
    if not timing or not counts:
        raise SystemExit(f"error: cannot read the output of assistant index: {run.stdout!r}")
    added, updated, unchanged = (int(x) for x in counts.groups())
    model = re.search(r"\(([\d.]+)s of it running the model\)", run.stdout)
    return {
        "chunks": int(timing.group(1)),
        "work_s": float(timing.group(2)),
        "embed_s": float(model.group(1)) if model else None,  # with --ray: waiting for actors
        "articles": added + updated,
        "unchanged": unchanged,
    }


def _proc(run: Run) -> dict[str, float]:
    return {"wall_s": round(run.seconds, 3), "peak_mb": round(run.peak_mb, 1)}


def _write(out: Path, data: dict[str, Any]) -> int:
    out.write_text(json.dumps(data))
    return 0


# -- the workers (each in its own process) ----------------------------------------------------
def _index_settings() -> Any:
    """The index settings as the CLI sees them (environment variables included)."""
    from assistant.settings import Settings

    return Settings().index


def prepare_model() -> dict[str, Any]:
    """Load (for onnx-int8: export once into the shared cache) the configured embedder."""
    from index.embed.encoder import Embedder

    settings = _index_settings()
    embedder = Embedder(settings.embedding_model, settings.embedding_backend)
    if not settings.model_cache:
        raise SystemExit("error: the prepare worker needs ASSISTANT_INDEX__MODEL_CACHE")
    embedder.cache_dir = Path(settings.model_cache)
    began = time.perf_counter()
    embedder.embed(["warm up"])
    return {"backend": settings.embedding_backend, "seconds": round(time.perf_counter() - began, 3)}


def encode_ceiling(store: Path) -> dict[str, Any]:
    """Encode the chunk texts our index stored with the bare encoder of its backend."""
    from index import ArticleIndex

    settings = _index_settings()
    index = ArticleIndex.open(store, settings, create=False)
    collection = index.raw_collections()["chunks"]
    texts: list[str] = []
    while True:
        batch = collection.get(include=["documents"], limit=5000, offset=len(texts))
        if not batch["ids"]:
            break
        texts += batch["documents"]
    began = time.perf_counter()
    index.embedder.embed(["warm up"])  # loads the model (torch: sentence-transformers)
    loaded = time.perf_counter()
    index.embedder.embed(texts)  # torch: SentenceTransformer.encode, normalised, same batch
    done = time.perf_counter()
    return {
        "chunks": len(texts),
        "articles": len(index.records()),
        "work_s": round(done - loaded, 3),
        "load_s": round(loaded - began, 3),
    }


def sync_without_model(slice_path: Path, store: Path) -> dict[str, Any]:
    """The sync of the slice into a fresh store with the model replaced by random unit vectors
    (seeded; the same dimension): everything a sync does but run the model."""
    import numpy as np

    from index import ArticleIndex

    index = ArticleIndex.open(store, _index_settings(), create=True)
    width = len(index.embedder.embed(["warm up"])[0])  # loads the tokenizer the chunker counts with
    rng = np.random.default_rng(0)

    def random_vectors(texts: Any, progress: Any = None, ids: Any = None) -> np.ndarray:
        vectors = rng.standard_normal((len(texts), width)).astype(np.float32)
        if progress is not None:
            progress(len(texts))
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    index.embedder.embed = random_vectors  # type: ignore[method-assign]
    cpu = time.process_time()
    report = index.sync([slice_path])
    return {
        "chunks": report.chunks_added,
        "articles": report.added + report.updated,
        "work_s": round(report.seconds, 3),
        "cpu_s": round(time.process_time() - cpu, 3),
    }


def llamaindex_ingest(slice_path: Path, store: Path) -> dict[str, Any]:
    """Plain llama-index: documents -> SentenceSplitter -> HuggingFaceEmbedding -> Chroma."""
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore
    from transformers import AutoTokenizer

    from index.embed.encoder import bundled_model_path

    settings = _index_settings()
    documents = []
    with slice_path.open(encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            documents.append(Document(text=item.get("text", ""), id_=str(item.get("id", ""))))
    began = time.perf_counter()
    path = str(bundled_model_path())
    embed = HuggingFaceEmbedding(model_name=path, device="cpu")  # its default batch size
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
def _label(key: str) -> str:
    kind, _, backend = key.partition(":")
    if kind == "ray":
        return f"assistant index --ray, {backend} actor{'s' if backend != '1' else ''} x 1 thread"
    precision = {"torch": "torch fp32", "onnx-int8": "ONNX int8"}.get(backend, backend)
    return {
        "ours": f"assistant index, {precision}",
        "ceiling": f"bare encoder, {precision}"
        + (" (sentence-transformers encode)" if backend == "torch" else ""),
        "writes": "assistant index, model replaced by random vectors (its own work)",
        "llamaindex": "llama-index VectorStoreIndex, torch fp32",
        "resync": "assistant index, unchanged re-sync",
    }[kind]


def summarise(
    rounds: list[dict[str, Any]],
    articles: int,
    backends: list[str],
    args: Any,
    actors: Sequence[int] = (),
) -> dict[str, Any]:
    variants: dict[str, dict[str, Any]] = {}
    keys = [k for b in backends for k in (f"ceiling:{b}", f"ours:{b}")]
    keys += [f"ray:{n}" for n in actors] + ["writes", "llamaindex", "resync"]
    for key in keys:
        if not all(key in r for r in rounds):
            continue
        runs = [r[key] for r in rounds]
        row: dict[str, Any] = {"label": _label(key)}
        for field in (
            "chunks",
            "articles",
            "work_s",
            "embed_s",
            "wall_s",
            "peak_mb",
            "load_s",
            "cpu_s",
        ):
            values = [r[field] for r in runs if r.get(field) is not None]
            if values:
                row[field] = common.median(values)
        work = row["work_s"] or 1e-9
        row["chunks_per_s"] = round(row["chunks"] / work, 2)
        row["articles_per_s"] = round(row["articles"] / work, 2) if row["articles"] else None
        variants[key] = row
    ratios: dict[str, float | None] = {}
    llama = variants["llamaindex"]
    for b in backends:
        ours, ceiling = variants[f"ours:{b}"], variants[f"ceiling:{b}"]
        ratios[f"ours_vs_ceiling_chunks_per_s:{b}"] = _ratio(
            ours["chunks_per_s"], ceiling["chunks_per_s"]
        )
        ratios[f"ours_vs_llamaindex_articles_per_s:{b}"] = _ratio(
            ours["articles_per_s"], llama["articles_per_s"]
        )
    first = variants[f"ours:{backends[0]}"]
    for n in actors:
        ratios[f"ray{n}_vs_ours_chunks_per_s"] = _ratio(
            variants[f"ray:{n}"]["chunks_per_s"], first["chunks_per_s"]
        )
    ratios["resync_vs_index_wall"] = _ratio(variants["resync"]["wall_s"], first["wall_s"])
    return {
        "articles": articles,
        "limit": args.limit,
        "corpus": common.portable(args.articles),
        "backends": backends,
        "ray_actors": list(actors),
        "rounds": len(rounds),
        "variants": variants,
        "ratios": ratios,
        "raw_rounds": rounds,
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def render(data: dict[str, Any], chart: str) -> str:
    v, r = data["variants"], data["ratios"]
    columns = ("chunks", "work_s", "chunks_per_s", "articles_per_s", "wall_s", "peak_mb")
    rows = [[row["label"], *(row.get(c) for c in columns)] for row in v.values()]
    table = common.markdown_table(
        ["", "chunks", "work s", "chunks/s", "articles/s", "wall s", "peak MB"], rows
    )
    notes = []
    for b in data["backends"]:
        notes.append(
            f"- {b}: our chunks/s are {r[f'ours_vs_ceiling_chunks_per_s:{b}']} of its bare "
            f"encoder's on the same chunk texts; our articles/s are "
            f"{r[f'ours_vs_llamaindex_articles_per_s:{b}']} x plain llama-index's;"
        )
    for b, prep in data.get("prepare", {}).items():
        notes.append(
            f"- {b}: preparing the model (its one-time int8 export, unless already cached) "
            f"took {prep['wall_s']:.1f} s, not counted above; a store without a shared model "
            "cache pays it on its first index;"
        )
    for n in data.get("ray_actors", []):
        row = v[f"ray:{n}"]
        per = row["chunks_per_s"] / n
        notes.append(
            f"- Ray, {n} actor{'s' if n > 1 else ''} of one thread: "
            f"{r[f'ray{n}_vs_ours_chunks_per_s']} x the local index's chunks/s "
            f"({per:.1f} chunks/s per actor core); the actors load the model "
            "before the sync starts (in wall s, not work s), and peak MB is the coordinator's "
            "alone (the actors are the raylets' children); the coordinator chunks and writes "
            "while the actors embed, so its own pace is the random-vectors row's;"
        )
    if "writes" in v:
        own, ours = v["writes"], v[f"ours:{data['backends'][0]}"]
        notes.append(
            f"- the sync's own work (model replaced by random vectors): {own['chunks_per_s']} "
            f"chunks/s, {own.get('cpu_s', 0):.1f} s of CPU for {own['chunks']:.0f} chunks. A "
            "local sync does it on the cores the model runs on, so its CPU comes out of the "
            f"model's time ({ours['work_s']:.1f} s above, against the bare encoder's); a Ray "
            "coordinator does it beside the actors, and writes at most this many chunks/s;"
        )
    notes.append(
        f"- an unchanged re-sync takes {r['resync_vs_index_wall']} of the first index's wall "
        "time (process start-up included)."
    )
    return (
        f"## Ingest\n\nThe first {data['articles']} articles of the corpus into a fresh store, "
        f"median of {data['rounds']} round(s), each variant in its own process.\n\n{table}\n\n"
        + "\n".join(notes)
        + "\n\nWork s: ours is the sync as `assistant index` reports it (model load included); "
        "the others start after the model is loaded. llama-index's own SentenceSplitter makes "
        "a different number of chunks, so compare articles/s with it. Wall s and peak MB: the "
        f"whole process.\n\n![ingest throughput]({chart})"
    )


if __name__ == "__main__":
    raise SystemExit(main())

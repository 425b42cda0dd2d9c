"""`assistant index` and `assistant status`: fill the store, show what it holds, check it."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from assistant.cli.common import add_store_options, settings_from
from assistant.settings import Settings
from index import ArticleIndex, SyncProgress

if TYPE_CHECKING:
    from index import RayEmbedder


def add_parser(sub: Any) -> None:
    p = sub.add_parser("index", help="index articles from files and folders (incrementally)")
    p.add_argument(
        "paths",
        nargs="+",
        metavar="SOURCE",
        help="files, folders, or http(s) URLs of RSS/Atom feeds and article pages",
    )
    p.add_argument("--prune", action="store_true", help="remove articles whose files are gone")
    p.add_argument(
        "--rebuild", action="store_true", help="re-embed everything with the current settings"
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no per-file errors")
    add_ray_option(p)
    add_store_options(p)
    p.set_defaults(run=run_index)

    s = sub.add_parser("status", help="what the store holds")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.add_argument(
        "--check",
        action="store_true",
        help="read the whole store back and check it (exit 1 if readers could see damage)",
    )
    add_store_options(s)
    s.set_defaults(run=run_status)


def add_ray_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ray",
        nargs="?",
        const="auto",
        metavar="ADDRESS",
        help="embed on a Ray cluster: HOST:PORT of its head, ray://HOST:10001 from outside it, "
        "or no value for the one RAY_ADDRESS or this machine names (docs/scaling.md)",
    )


def embedder_from(args: argparse.Namespace, settings: Settings) -> RayEmbedder | None:
    """A started `RayEmbedder` when `--ray` or `index.ray_address` asks for one, else None."""
    address = getattr(args, "ray", None) or settings.index.ray_address
    if not address:
        return None
    from index import ray_embedder

    return ray_embedder(settings.index, address).start()


def run_index(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    embedder = embedder_from(args, settings)
    try:
        index = ArticleIndex.open(
            settings.store,
            settings.index,
            chroma_url=settings.chroma_url,
            rebuild=args.rebuild,
            embedder=embedder,
        )
        bar = _Progress(enabled=not args.quiet and sys.stderr.isatty(), talk=not args.quiet)
        try:
            report = index.sync(args.paths, prune=args.prune, rebuild=args.rebuild, progress=bar)
        finally:
            bar.close()
    finally:
        if embedder is not None:
            embedder.close()
    if not args.quiet:
        for error in report.errors:
            print(f"failed: {error}", file=sys.stderr)
        for copy in report.duplicates:
            print(f"skipped: {copy}", file=sys.stderr)
    print(
        f"{report.chunks_added} chunks embedded in {report.seconds:.1f}s "
        f"({report.embed_seconds:.1f}s of it running the model)"
    )
    print(report.summary())
    return 1 if report.failed else 0


def run_status(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    index = ArticleIndex.open(
        settings.store, settings.index, chroma_url=settings.chroma_url, create=False
    )
    stats = index.stats()
    check = index.check() if args.check else None
    if args.json:
        data = asdict(stats)
        if check is not None:
            data["check"] = {
                **asdict(check),
                "consistent": check.consistent,
                "clean": check.clean,
                "problems": check.problems(),
            }
        print(json.dumps(data, indent=2))
        return 0 if check is None or check.consistent else 1
    print(f"store:           {stats.store}")
    print(f"articles:        {stats.articles}")
    print(f"chunks:          {stats.chunks}")
    print(f"embedding model: {stats.embedding_model}")
    print(f"chunking:        {stats.chunk_tokens} tokens, {stats.chunk_overlap} overlap")
    print(f"sources:         {', '.join(stats.sources) or '-'}")
    print(f"last sync:       {stats.last_sync or 'never'}")
    if check is None:
        return 0
    verdict = "clean" if check.clean else "consistent" if check.consistent else "DAMAGED"
    print(f"check:           {verdict} ({check.articles} articles, {check.chunks} live chunks)")
    for problem in check.problems():
        print(f"  - {problem}")
    return 0 if check.consistent else 1


class _Progress:
    """A tqdm bar on stderr per phase of the sync (files read, chunks embedded and written).

    Silent when disabled; a line on stderr when the sync waits for another writer, unless `talk`
    is off (--quiet).
    """

    def __init__(self, enabled: bool, talk: bool = True) -> None:
        self.enabled = enabled
        self.talk = talk
        self.bar: Any = None
        self.unit = ""

    def __call__(self, update: SyncProgress) -> None:
        if update.phase == "waiting":
            if self.talk:
                print(f"{update.describe()}...", file=sys.stderr, flush=True)
            return
        if not self.enabled or not update.total:
            return
        if self.bar is None or update.unit != self.unit:
            from tqdm import tqdm

            self.close()
            self.unit = update.unit
            self.bar = tqdm(
                total=update.total,
                unit=update.unit.rstrip("s"),
                file=sys.stderr,
                dynamic_ncols=True,
            )
        self.bar.set_description(update.phase.capitalize(), refresh=False)
        if update.phase != "writing":  # written trails embedded: the bar counts embedding
            self.bar.n = update.done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

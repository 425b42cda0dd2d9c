"""`assistant watch SOURCE... [--every 15m] [--prune]`: keep folders, files and feeds synced.

Syncs the sources now and then on the interval, one line per sync (time, what it did, when the
next one runs), each failed file or URL on its own `failed:` line. Ctrl-C or SIGTERM ends it
cleanly: a sync in progress finishes the batch it is writing and stops; the next run completes
the rest. Not here: the loop itself (`index.sources.watch`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
from typing import TYPE_CHECKING, Any

from assistant.cli.common import add_store_options, settings_from
from assistant.cli.indexing import add_ray_option, embedder_from
from assistant.errors import UsageError
from assistant.settings import Settings
from index import (
    ArticleIndex,
    NewsAssistantError,
    SyncReport,
    Watcher,
    nice_interval,
    parse_interval,
)

if TYPE_CHECKING:
    from index import RayEmbedder


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "watch", help="keep folders, files and feed URLs synced on an interval (until Ctrl-C)"
    )
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="files, folders or feed/page URLs")
    p.add_argument("--every", default="15m", help="interval: 30s, 15m, 2h, 1d (default 15m)")
    p.add_argument("--prune", action="store_true", help="remove articles whose files are gone")
    add_ray_option(p)
    add_store_options(p)
    p.set_defaults(run=run_watch)


def run_watch(args: argparse.Namespace) -> int:
    try:
        every = parse_interval(args.every)
    except NewsAssistantError as exc:
        raise UsageError(str(exc)) from None
    settings = settings_from(args)
    embedder = embedder_from(args, settings)
    try:
        return _watch(args, settings, every, embedder)
    finally:
        if embedder is not None:
            embedder.close()


def _watch(
    args: argparse.Namespace, settings: Settings, every: float, embedder: RayEmbedder | None
) -> int:
    index = ArticleIndex.open(
        settings.store, settings.index, chroma_url=settings.chroma_url, embedder=embedder
    )
    watcher = Watcher(
        index,
        args.sources,
        every,
        prune=args.prune,
        on_report=lambda r, line: _print(r, line, every),
    )
    names = ", ".join(args.sources)
    print(f"Watching {names} every {nice_interval(every)}; Ctrl-C stops.", flush=True)

    def stop(signum: int, frame: Any) -> None:
        if watcher.stopping:  # a second Ctrl-C: the user insists
            raise KeyboardInterrupt
        print("stopping after the current batch …", file=sys.stderr, flush=True)
        watcher.stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    thread = watcher.start()
    while thread.is_alive():
        thread.join(0.5)  # short joins: the main thread must stay free for signals
    print("stopped", flush=True)
    return 0


def _print(report: SyncReport | None, line: str, every: float) -> None:
    now = dt.datetime.now()
    then = (now + dt.timedelta(seconds=every)).strftime("%H:%M:%S")
    print(f"{now:%Y-%m-%d %H:%M:%S} {line}; next sync at {then}", flush=True)
    if report is not None:
        for error in report.errors:
            print(f"failed: {error}", file=sys.stderr, flush=True)
        for copy in report.duplicates:
            print(f"skipped: {copy}", file=sys.stderr, flush=True)

"""`assistant articles` and `assistant remove`: list what the store holds, and remove articles."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from assistant import library
from assistant.assistant import make_filters
from assistant.cli.common import add_store_options, settings_from
from index import ArticleIndex


def add_parser(sub: Any) -> None:
    a = sub.add_parser("articles", help="list the stored articles (newest first)")
    a.add_argument("search", nargs="?", default="", help="words of the title, outlet, URL or id")
    a.add_argument("--source", action="append", help="only this outlet (repeat for more)")
    a.add_argument("--since", help="published on or after YYYY-MM-DD")
    a.add_argument("--until", help="published on or before YYYY-MM-DD")
    a.add_argument("--json", action="store_true", help="print JSON")
    add_store_options(a)
    a.set_defaults(run=run_articles)

    r = sub.add_parser("remove", help="remove articles by id, then check the store")
    r.add_argument("ids", nargs="+", metavar="ID", help="article ids (`assistant articles`)")
    r.add_argument("--json", action="store_true", help="print JSON")
    add_store_options(r)
    r.set_defaults(run=run_remove)


def _index(args: argparse.Namespace) -> tuple[ArticleIndex, Path]:
    settings = settings_from(args)
    index = ArticleIndex.open(
        settings.store, settings.index, chroma_url=settings.chroma_url, create=False
    )
    return index, Path(settings.store).expanduser() / "uploads"


def run_articles(args: argparse.Namespace) -> int:
    filters = make_filters(sources=args.source, since=args.since, until=args.until)
    index, _ = _index(args)
    found = library.entries(index, args.search, filters.sources, filters.since, filters.until)
    if args.json:
        print(json.dumps([e.to_dict() for e in found], indent=2, ensure_ascii=False))
        return 0
    for e in found:
        meta = " · ".join(x for x in (e.source, e.published, f"{e.chunks} chunks") if x)
        print(f"{e.id}\t{e.title or '(untitled)'}\t{meta}")
    total = len(index.records())
    shown = (
        f"{len(found):,} of {total:,} articles" if len(found) != total else f"{total:,} articles"
    )
    print(shown)
    return 0


def run_remove(args: argparse.Namespace) -> int:
    index, uploads = _index(args)
    removal = library.remove(index, args.ids, uploads)
    if args.json:
        print(json.dumps(removal.to_dict(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(removal.summary()))
    return 0 if removal.removed and not removal.unknown and removal.consistent else 1

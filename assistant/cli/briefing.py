"""`assistant brief` (the top stories of a period, each with a headline and a cited lead),
`assistant timeline` (how a story unfolded, one cited sentence per development), `assistant
coverage` (who reported what about a story) and `assistant regroup` (stories assigned again)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from assistant.brief import make_brief, period
from assistant.cli.common import add_store_options, settings_from
from assistant.errors import QuestionError, UsageError
from index import ArticleIndex


def add_parser(sub: Any) -> None:
    b = sub.add_parser("brief", help="the top stories of a period, each with a cited lead")
    b.add_argument(
        "--since",
        default="7d",
        help="24h, 7d, 2w (back from --until) or YYYY-MM-DD (default 7d)",
    )
    b.add_argument("--until", help="the period's last day, YYYY-MM-DD (default today)")
    b.add_argument("--source", action="append", help="only this outlet (repeat for more)")
    b.add_argument("--about", default="", help="only stories about this")
    b.add_argument("--top", type=int, default=10, help="how many stories (1-50, default 10)")
    b.add_argument("--json", action="store_true", help="print JSON, each story's articles too")
    add_store_options(b)
    b.set_defaults(run=run_brief)
    add_timeline_parser(sub)
    c = sub.add_parser("coverage", help="who reported what about a story, by outlet")
    c.add_argument("story", help="a story id (from `assistant brief --json`) or words about it")
    c.add_argument("--json", action="store_true", help="print JSON")
    add_store_options(c)
    c.set_defaults(run=run_coverage)
    r = sub.add_parser(
        "regroup", help="group every stored article into stories again, oldest first"
    )
    add_store_options(r)
    r.set_defaults(run=run_regroup)


def run_brief(args: argparse.Namespace) -> int:
    if not 1 <= args.top <= 50:
        raise UsageError(f"--top must be between 1 and 50 stories, not {args.top}")
    try:
        start, end = period(args.since, args.until, dt.date.today())
    except QuestionError as exc:  # a date the filters refused: one line naming it
        raise UsageError(f"--{str(exc).removeprefix('the ')}") from None
    settings = settings_from(args)
    index = ArticleIndex.open(
        settings.store, settings.index, chroma_url=settings.chroma_url, create=False
    )
    brief = make_brief(index, start, end, args.source or (), args.about, args.top)
    if args.json:
        print(json.dumps(brief.to_dict(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(brief.lines()))
    return 0


def add_timeline_parser(sub: Any) -> None:
    t = sub.add_parser("timeline", help="how a story unfolded: its developments by date, cited")
    t.add_argument("topic", help="what the story is about")
    t.add_argument("--since", help="from this day, YYYY-MM-DD (default: all)")
    t.add_argument("--until", help="up to this day, YYYY-MM-DD (default: all)")
    t.add_argument("--source", action="append", help="only this outlet (repeat for more)")
    t.add_argument("--json", action="store_true", help="print JSON")
    add_store_options(t)
    t.set_defaults(run=run_timeline)


def run_timeline(args: argparse.Namespace) -> int:
    from assistant.assistant import make_filters
    from assistant.timeline import make_timeline

    if not args.topic.strip():
        raise UsageError('give the timeline a topic: assistant timeline "what it is about"')
    try:
        chosen = make_filters(sources=args.source, since=args.since, until=args.until)
    except QuestionError as exc:
        raise UsageError(str(exc)) from None
    settings = settings_from(args)
    index = ArticleIndex.open(
        settings.store, settings.index, chroma_url=settings.chroma_url, create=False
    )
    timeline = make_timeline(index, args.topic, chosen.since, chosen.until, chosen.sources)
    if args.json:
        print(json.dumps(timeline.to_dict(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(timeline.lines()))
    return 0


def run_coverage(args: argparse.Namespace) -> int:
    from assistant.coverage import coverage_of

    settings = settings_from(args)
    index = ArticleIndex.open(
        settings.store, settings.index, chroma_url=settings.chroma_url, create=False
    )
    coverage = coverage_of(index, args.story)
    if args.json:
        print(json.dumps(coverage.to_dict(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(coverage.lines()))
    return 0


def run_regroup(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    index = ArticleIndex.open(
        settings.store, settings.index, chroma_url=settings.chroma_url, create=False
    )
    before, after = index.regroup()
    articles = len(index.records())
    print(f"{articles:,} articles in {after:,} stories (before: {before:,} stories)")
    return 0

"""The `assistant` command line: one module per sub-command in this folder, dispatched here.

Every user mistake ends as a one-line `error: ...` on stderr with exit code 1, or 2 for usage
errors (an option out of range or contradicting another, an unsafe bind), never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from assistant.cli import ask, briefing, evaluation, indexing, library, serve, watching
from assistant.errors import NewsAssistantError, UsageError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Ask questions about your news articles; answers cite their sentences.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (indexing, library, watching, ask, briefing, evaluation, serve):
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except NewsAssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0

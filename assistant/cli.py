"""The `assistant` command line: one sub-command per module, dispatched here.

Every user mistake ends as a one-line `error: ...` on stderr with exit code 1 (2 for usage
errors), never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from index.errors import NewsAssistantError

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _command_modules() -> list[ModuleType]:
    from assistant import cli_index

    modules = [cli_index]
    for name in ("cli_ask", "cli_eval", "cli_serve"):
        try:
            modules.append(__import__(f"assistant.{name}", fromlist=["add_parser"]))
        except ModuleNotFoundError as exc:
            if exc.name != f"assistant.{name}":
                raise
    return modules


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Ask questions about your news articles; answers cite their sentences.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _command_modules():
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except NewsAssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0

"""The News assistant web page: `python app.py [--store DIR] [--articles DIR ...] ...`.

Thin on purpose: the options are those of `assistant serve` (`assistant.cli_serve`), the page and
its handlers live in `assistant.web`. Errors end as one `error: ...` line, never a traceback.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import sys
from collections.abc import Sequence

from assistant.cli_serve import add_options, run_serve
from index.errors import NewsAssistantError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="app.py", description="Serve the News assistant chat page."
    )
    add_options(parser)
    args = parser.parse_args(argv)
    try:
        return run_serve(args)
    except NewsAssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

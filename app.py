"""The News assistant web page: `python app.py [--store DIR] [--articles DIR ...] ...`.

Thin on purpose: the same program as `assistant serve` (options and start-up in
`assistant.cli.serve`, the page and its handlers in `assistant.web.app`). Errors end as one
`error: ...` line, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from assistant import cli


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(["serve", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())

"""Options shared by every sub-command, and how they become one `Settings` object."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from assistant.errors import SettingsError
from assistant.settings import Settings


def add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        type=Path,
        help="store folder (env ASSISTANT_STORE, default .assistant/ in the working folder)",
    )
    parser.add_argument(
        "--chroma-url",
        help="use a `chroma run` server at http://HOST:PORT instead of the embedded store",
    )


def settings_from(args: argparse.Namespace, **overrides: Any) -> Settings:
    """Settings from the environment, with the command-line options on top."""
    values: dict[str, Any] = {}
    if getattr(args, "store", None) is not None:
        values["store"] = args.store
    if getattr(args, "chroma_url", None):
        values["chroma_url"] = args.chroma_url
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise SettingsError(
            f"setting {field}: {first['msg']} (check the option or ASSISTANT_ variable)"
        ) from None

"""`assistant serve` (and `python app.py`): the web page, with the same options as the CLI.

Binding beyond loopback needs a password (`--auth USER:PASS` or ASSISTANT_AUTH) unless
`--insecure-no-auth` says otherwise; that check runs before anything is loaded, so a refused
start-up is immediate. Gradio is imported only when serving (`assistant.web`).
"""

from __future__ import annotations

import argparse
import ipaddress
from pathlib import Path
from typing import Any

from assistant.cli_common import add_store_options, settings_from
from assistant.settings import Settings
from index.errors import SettingsError


def add_parser(sub: Any) -> None:
    p = sub.add_parser("serve", help="serve the chat page (http://127.0.0.1:7860 by default)")
    add_options(p)
    p.set_defaults(run=run_serve)


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--articles",
        type=Path,
        nargs="+",
        action="extend",
        metavar="DIR",
        help="folders indexed at start-up (incrementally) and by the page's Re-index button",
    )
    p.add_argument("--host", help="address to bind (default 127.0.0.1; others need --auth)")
    p.add_argument("--port", type=int, help="port to serve on (default 7860)")
    p.add_argument(
        "--auth", metavar="USER:PASS", help="password-protect the page (env ASSISTANT_AUTH)"
    )
    p.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="allow binding beyond loopback without a password (anyone who reaches it may use it)",
    )
    p.add_argument("--llm", help="OpenAI-compatible server URL or a .gguf file (default: none)")
    p.add_argument("--model", help="model name on the LLM server")
    add_store_options(p)


def run_serve(args: argparse.Namespace) -> int:
    web: dict[str, Any] = {}
    if args.host is not None:
        web["host"] = args.host
    if args.port is not None:
        web["port"] = args.port
    if args.articles:
        web["articles"] = args.articles
    settings = settings_from(args, auth=args.auth, web=web or None)
    auth, note = check_access(settings, args.insecure_no_auth)
    missing = [str(f) for f in settings.web.articles if not Path(f).is_dir()]
    if missing:
        raise SettingsError(f"--articles: no folder {', '.join(missing)}; check the path")

    from assistant import web as page

    app = page.start(settings, llm=args.llm, model=args.model)
    page.launch(app, auth, note)
    return 0


def check_access(settings: Settings, insecure: bool) -> tuple[tuple[str, str] | None, str]:
    """The (user, password) to require, and the start-up note; refuses unsafe binds."""
    host = settings.web.host
    auth = parse_auth(settings.auth) if settings.auth else None
    if auth:
        return auth, f"password required: user {auth[0]!r}"
    if is_loopback(host):
        return None, "no password: loopback only"
    if not insecure:
        raise SettingsError(
            f"binding {host} makes the page reachable from other machines: give a password "
            "with --auth USER:PASS (or ASSISTANT_AUTH), or pass --insecure-no-auth"
        )
    return None, f"NO PASSWORD: anyone who can reach {host} can use it"


def parse_auth(value: str) -> tuple[str, str]:
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise SettingsError("--auth must be USER:PASS, both non-empty (e.g. --auth reader:s3cret)")
    return user.strip(), password


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False

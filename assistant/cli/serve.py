"""`assistant serve` (and `python app.py`): start the web page, with the same options as the CLI.

Start-up: check where the page may be served, open (or create) the store, index the `--articles`
folders, load the model, launch. Binding beyond loopback needs a password (`--auth USER:PASS` or
ASSISTANT_AUTH) unless `--insecure-no-auth` says otherwise; that check runs before anything is
loaded, so a refused start-up is immediate. Gradio is imported only to serve (`assistant.web.app`).
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import logging
import os
import signal
import socket
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.cli.common import add_store_options, settings_from
from assistant.errors import NewsAssistantError, SettingsError, UsageError
from assistant.settings import Settings
from index import ArticleIndex

if TYPE_CHECKING:
    from assistant.web.app import WebApp


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
    p.add_argument(
        "--watch",
        nargs="+",
        action="extend",
        metavar="SOURCE",
        help="folders, files or feed URLs synced on an interval while serving (see --every)",
    )
    p.add_argument("--every", default="15m", help="interval of --watch: 30s, 15m, 2h (default 15m)")
    p.add_argument(
        "--prune", action="store_true", help="with --watch: remove articles whose files are gone"
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
    check_port(settings.web.host, settings.web.port)
    every = _interval(args.every) if args.watch else 0.0

    app = start(settings, llm=args.llm, model=args.model)
    if args.watch:
        app.watch(args.watch, every, prune=args.prune)
        print(f"Watching {', '.join(args.watch)} every {args.every}", flush=True)
    launch(app, auth, note)
    return 0


def _interval(text: str) -> float:
    from index import parse_interval

    try:
        return parse_interval(text)
    except NewsAssistantError as exc:
        raise UsageError(str(exc)) from None


def start(settings: Settings, llm: str | None = None, model: str | None = None) -> WebApp:
    """Open (or create) the store, index the --articles folders, connect the answerer."""
    from assistant.assistant import Assistant
    from assistant.web.app import WebApp

    index = ArticleIndex.open(settings.store, settings.index, chroma_url=settings.chroma_url)
    folders = list(settings.web.articles)
    if folders:
        print(f"Indexing {', '.join(str(f) for f in folders)} …", flush=True)
        report = index.sync(folders)
        for error in report.errors:
            print(f"failed: {error}", flush=True)
        print(f"{report.summary()} ({report.seconds:.1f} s)", flush=True)
    index.embed(["warm up"])  # load the model now, not on the first question
    assistant = Assistant.open(settings=settings, index=index, llm=llm, model=model)
    return WebApp(assistant, folders)


def launch(app: WebApp, auth: tuple[str, str] | None, note: str) -> None:
    """Serve until interrupted; prints the address and whether a password guards it."""
    from assistant.web import file_guard, login_guard
    from assistant.web import look as web_look
    from assistant.web import page as web_page

    settings = app.settings.web
    _log_to_stderr()
    # Uploads arrive in the store's own folder (not a /tmp/gradio shared with other programs);
    # no route serves anything under the store: `file=` routes answer 403 for all of it.
    app.incoming.mkdir(parents=True, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(app.incoming)
    store = Path(app.settings.store).expanduser().resolve()
    # Gradio must read .incoming to hand uploads over: the guard keeps it off the file= routes
    blocked = [str(p) for p in store.iterdir() if p != app.incoming]
    guards = file_guard.middleware(store) + (login_guard.middleware(settings) if auth else [])
    demo = web_page.build(app, sign_out=auth is not None)
    demo.queue(default_concurrency_limit=settings.concurrency_limit)
    # Gradio's own routes use a name Starlette deprecated: not the reader's concern
    warnings.filterwarnings("ignore", message=".*HTTP_422_UNPROCESSABLE_ENTITY.*")
    try:
        demo.launch(
            server_name=settings.host,
            server_port=settings.port,
            auth=auth,
            app_kwargs={"middleware": guards},
            auth_message="News assistant: sign in to ask about the articles." if auth else None,
            prevent_thread_lock=True,
            quiet=True,
            footer_links=["api"],
            allowed_paths=[],
            blocked_paths=blocked,
            # a hard cap; the per-file limit is checked (and explained) by the upload handler
            max_file_size=int(settings.max_upload_mb * 4 * 1024 * 1024),
            **web_look.launch_options(),
        )
    except OSError:  # taken since check_port looked
        raise NewsAssistantError(
            f"port {settings.port} on {settings.host} is in use: choose another with --port"
        ) from None
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    port = getattr(demo, "server_port", None) or settings.port
    print(f"Serving on http://{host}:{port} ({note})", flush=True)
    print(f"Answers: {app.assistant.model_label or 'extractive (no LLM)'}", flush=True)
    # SIGTERM ends the page like Ctrl-C: Gradio closes, then a watched sync ends between batches
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        demo.block_thread()
    finally:
        app.stop_watch(wait=WATCH_STOP_SECONDS)


def _log_to_stderr() -> None:
    """The page's own log lines (watched syncs, failed sign-ins, errors) on stderr, with times,
    unless the embedding program configured logging."""
    log = logging.getLogger("assistant")
    if not log.hasHandlers():
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


WATCH_STOP_SECONDS = 300.0  # a batch of 128 chunks embeds in seconds; a slow disk may take longer


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def check_access(settings: Settings, insecure: bool) -> tuple[tuple[str, str] | None, str]:
    """The (user, password) to require, and the start-up note; refuses unsafe binds."""
    host = settings.web.host
    auth = parse_auth(settings.auth) if settings.auth else None
    if auth:
        return auth, f"password required: user {auth[0]!r}"
    if is_loopback(host):
        return None, "no password: loopback only"
    if not insecure:
        raise UsageError(
            f"binding {host} makes the page reachable from other machines: give a password "
            "with --auth USER:PASS (or ASSISTANT_AUTH), or pass --insecure-no-auth"
        )
    return None, f"NO PASSWORD: anyone who can reach {host} can use it"


def check_port(host: str, port: int) -> None:
    """Fail before the slow start-up when the address cannot be bound."""
    if not port:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(infos[0][4])
    except OSError as exc:
        reason = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound ({exc})"
        raise SettingsError(
            f"port {port} on {host} {reason}: choose another --port or --host"
        ) from None


def parse_auth(value: str) -> tuple[str, str]:
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise UsageError("--auth must be USER:PASS, both non-empty (e.g. --auth reader:s3cret)")
    return user.strip(), password


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False

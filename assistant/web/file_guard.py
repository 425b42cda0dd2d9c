"""Keep the store off Gradio's `file=` routes: nothing under STORE is ever served back.

Gradio serves files it received or created through `/gradio_api/file=PATH` (and `/file=PATH`).
Uploads arrive in the store's own `STORE/.incoming` folder (see `assistant.web.uploads`), which
Gradio must be free to read when the upload handler runs, so it cannot be one of Gradio's
`blocked_paths`; `StoreFileGuard`, a pure ASGI middleware, answers 403 to any `file=` request
whose path lies inside the store, however it is spelled (relative, `..`, percent-encoded, through
a symlink). The rest of the store is also in `blocked_paths` (set in `assistant.cli.serve`).

Not here: the upload handling itself (`assistant.web.uploads`) and sign-in (`assistant.web.login_guard`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("assistant.web")
MARK = "file="


class StoreFileGuard:
    """Answers 403 to `file=` requests for paths inside `store`; passes everything else on."""

    def __init__(self, app: ASGIApp, store: Path) -> None:
        self.app = app
        self.store = Path(os.path.abspath(store))
        self.real_store = self.store.resolve()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.inside_store(requested_file(scope["path"])):
            log.warning("refused %s: a file of the store is never served", scope["path"])
            refusal = JSONResponse({"detail": "File not allowed."}, status_code=403)
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def inside_store(self, path: str | None) -> bool:
        if not path:
            return False
        try:
            plain = Path(os.path.abspath(path))  # '..' folded, symlinks kept
            real = plain.resolve()
        except (OSError, ValueError):
            return True  # a path the system cannot even read is not served either
        return any(
            target == root or root in target.parents
            for target in (plain, real)
            for root in (self.store, self.real_store)
        )


def requested_file(path: str) -> str | None:
    """The file a request path asks for ('…/file=/a/b' -> '/a/b'), or None for other routes
    and for URLs (Gradio redirects those)."""
    at = path.find(MARK)
    if at < 0:
        return None
    asked = path[at + len(MARK) :]
    return None if asked.startswith(("http://", "https://")) else asked


def middleware(store: Path) -> list[Middleware]:
    """Gradio's `app_kwargs["middleware"]` entry for the guard."""
    return [Middleware(StoreFileGuard, store=store)]

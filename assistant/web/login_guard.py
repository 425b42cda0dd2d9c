"""Slow down password guessing on the web page: failed sign-ins are counted per client address.

Gradio checks the password at `POST /login` (the route of its sign-in form and of
`gradio_client.Client(url, auth=...)`; there is no `/gradio_api/login`). `LoginGuard` is a pure
ASGI middleware in front of that route which only watches the outcome (Gradio answers 200 or
400). Per client address, after `free` failures in a row each further attempt is held back
before its password is checked (`delay`, doubled per failure, at most `max_delay`), with
`asyncio.sleep`, so nobody else waits; after `lockout_failures` failures in a row the address is
answered 429 with Retry-After for `lockout_seconds`, its password not even checked, and after
that each further failure locks it out again until it signs in or stays quiet that long. A
success resets the address. Attempts still in flight count as failures to come, so guesses sent
in parallel are held back (and refused) like guesses sent one after another.

The address is the connection's peer as the server saw it: uvicorn replaces it by the
X-Forwarded-For one only for a proxy on the same machine (its FORWARDED_ALLOW_IPS); IPv6 clients
count per /64, the block one host is given. Memory is bounded: idle addresses are forgotten and
the table holds at most `max_addresses`. Failures are logged (address, user name, count; never
the password) to `assistant.web.app`; a lockout once, as a warning.

`SignInNote` adds `login.js` to the page's HTML, so the sign-in form says why a locked-out
sign-in was refused (Gradio's form shows nothing for a 429, and the page's own scripts load only
after sign-in).

Not here: the password check itself, and the other routes (Gradio refuses them without the
sign-in cookie).
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import ipaddress
import logging
import math
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.settings import WebSettings

__all__ = ["LoginAttempts", "LoginGuard", "LoginLimits", "client_key", "middleware"]

LOGIN_PATHS = frozenset({"/login", "/login/"})
MAX_FORM_BYTES = 64 * 1024  # a sign-in form is a user name and a password
log = logging.getLogger("assistant.web")


@dataclass(frozen=True)
class LoginLimits:
    """How failed sign-ins are slowed down (`web.login_*` in the settings)."""

    free: int = 3
    delay: float = 0.5
    max_delay: float = 8.0
    lockout_failures: int = 10
    lockout_seconds: float = 300.0
    max_addresses: int = 10_000

    @classmethod
    def from_settings(cls, web: WebSettings) -> LoginLimits:
        return cls(
            free=web.login_free_failures,
            delay=web.login_delay,
            max_delay=web.login_max_delay,
            lockout_failures=web.login_lockout_failures,
            lockout_seconds=web.login_lockout_seconds,
        )

    def wait_after(self, failures: int) -> float:
        """Seconds an attempt waits after `failures` failures in a row."""
        if failures < self.free:
            return 0.0
        return min(self.delay * 2.0 ** min(failures - self.free, 64), self.max_delay)


@dataclass(frozen=True)
class Admission:
    """What to do with one sign-in attempt: wait `wait` seconds, or refuse it when
    `retry_after` (whole seconds) is set; `failures` is the count it found."""

    wait: float = 0.0
    retry_after: int = 0
    failures: int = 0


@dataclass
class _Record:
    failures: int = 0
    pending: int = 0  # attempts admitted and not yet answered
    quiet_from: float = 0.0  # the last failure, or the end of the lockout
    locked_until: float = 0.0


class LoginAttempts:
    """Failures in a row per address, oldest activity first; safe to share between threads.

    Each admitted attempt must end in exactly one of `failed`, `succeeded` or `abandoned`.
    """

    def __init__(self, limits: LoginLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._records)

    def admit(self, address: str) -> Admission:
        limits = self.limits
        with self._lock:
            now = self._clock()
            record = self._touch(address, now)
            if record.locked_until > now:
                return Admission(
                    retry_after=math.ceil(record.locked_until - now), failures=record.failures
                )
            if record.locked_until:  # the lockout is over: the next failure locks again
                record.locked_until = 0.0
                record.failures = min(record.failures, limits.lockout_failures - 1)
            ahead = record.failures + record.pending
            if ahead >= limits.lockout_failures:  # in flight already: as many as may fail
                wait = max(limits.wait_after(ahead), 1.0)
                return Admission(retry_after=math.ceil(wait), failures=record.failures)
            record.pending += 1
            return Admission(wait=limits.wait_after(ahead), failures=record.failures)

    def failed(self, address: str) -> tuple[int, bool]:
        """Count a failure; returns the failures in a row and whether this one locks out."""
        with self._lock:
            now = self._clock()
            record = self._touch(address, now)
            record.pending = max(record.pending - 1, 0)
            record.failures += 1
            record.quiet_from = now
            locks = record.failures >= self.limits.lockout_failures and record.locked_until <= now
            if locks:
                record.locked_until = record.quiet_from = now + self.limits.lockout_seconds
            return record.failures, locks

    def succeeded(self, address: str) -> int:
        """Forget the address's failures; returns how many there were."""
        with self._lock:
            record = self._touch(address, self._clock())
            failures, record.failures, record.locked_until = record.failures, 0, 0.0
            record.pending = max(record.pending - 1, 0)
            if not record.pending:
                del self._records[address]
            return failures

    def abandoned(self, address: str) -> None:
        """An attempt that ended without an answer on its password (malformed, disconnected)."""
        with self._lock:
            record = self._touch(address, self._clock())
            record.pending = max(record.pending - 1, 0)

    def _touch(self, address: str, now: float) -> _Record:
        records = self._records
        while records:  # forget idle addresses, oldest activity first
            oldest = next(iter(records.values()))
            if oldest.pending or now < oldest.quiet_from + self.limits.lockout_seconds:
                break
            records.popitem(last=False)
        record = records.get(address)
        if record is None:
            while len(records) >= self.limits.max_addresses:
                records.popitem(last=False)
            record = records[address] = _Record(quiet_from=now)
        records.move_to_end(address)
        return record


def client_key(host: str) -> str:
    """The address failures are counted under: the IP, or for IPv6 its /64 block."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        if not ip.is_loopback:
            return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class LoginGuard:
    """ASGI middleware: holds back and refuses `POST /login` per `LoginAttempts`."""

    def __init__(
        self,
        app: ASGIApp,
        limits: LoginLimits,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.app = app
        self.attempts = LoginAttempts(limits, clock)
        self._sleep = sleep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_login(scope):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client_key(client[0] if client else "unknown")
        admission = self.attempts.admit(address)
        if admission.retry_after:
            log.debug("sign-in from %s refused: locked out", address)
            message = (
                f"Too many failed sign-ins from this address: try again in "
                f"{admission.retry_after} s."
            )
            headers = {"Retry-After": str(admission.retry_after)}
            await JSONResponse({"detail": message}, 429, headers)(scope, receive, send)
            return
        answered = False
        try:
            body = await _read_body(receive)
            if body is None:
                await JSONResponse({"detail": "Sign-in form too large."}, 413)(scope, receive, send)
                return
            if admission.wait:
                await self._sleep(admission.wait)
            user = _user_name(scope, body)

            async def watch(message: Message) -> None:
                nonlocal answered
                if message["type"] == "http.response.start" and not answered:
                    answered = self._record(address, user, message["status"])
                await send(message)

            await self.app(scope, _replay(body, receive), watch)
        finally:
            if not answered:
                self.attempts.abandoned(address)

    def _record(self, address: str, user: str, status: int) -> bool:
        """Count the answer before the client sees it; False when it says nothing of the
        password (Gradio's 422 for a form without one, say)."""
        if status == 400:
            failures, locks = self.attempts.failed(address)
            wait = 0.0 if locks else self.attempts.limits.wait_after(failures)
            then = f", next attempt waits {wait:g} s" if wait else ""
            log.info("failed sign-in from %s as %r: %d in a row%s", address, user, failures, then)
            if locks:
                log.warning(
                    "sign-in locked for %s for %g s after %s in a row",
                    address,
                    self.attempts.limits.lockout_seconds,
                    _failures(failures),
                )
            return True
        if 200 <= status < 300:
            n = self.attempts.succeeded(address)
            if n:
                log.info(
                    "signed in from %s as %r after %s: count reset", address, user, _failures(n)
                )
            return True
        return False


class SignInNote:
    """ASGI middleware: `script` added before `</head>` of the page's HTML (a GET of the root),
    asked for uncompressed; every other request passes untouched."""

    def __init__(self, app: ASGIApp, script: str) -> None:
        self.app = app
        self.tag = f"<script>{script}</script>".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or _relative(scope) not in ("", "/"):
            await self.app(scope, receive, send)
            return
        plain = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]
        start: dict[str, Any] = {}
        parts: list[bytes] = []

        async def added(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            parts.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(parts)
            headers = [
                (k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"
            ]
            html = any(k.lower() == b"content-type" and b"text/html" in v for k, v in headers)
            if html and b"</head>" in body:
                body = body.replace(b"</head>", self.tag + b"</head>", 1)
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app({**scope, "headers": plain}, receive, added)


def middleware(web: WebSettings) -> list[Middleware]:
    """Gradio's `app_kwargs["middleware"]`: the guard with the `web.login_*` limits. Its log
    lines go to stderr when nothing else has configured logging."""
    if not log.hasHandlers():
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    script = Path(__file__).with_name("login.js").read_text(encoding="utf-8")
    return [
        Middleware(LoginGuard, limits=LoginLimits.from_settings(web)),
        Middleware(SignInNote, script=script),
    ]


def _failures(n: int) -> str:
    return f"{n} failure" if n == 1 else f"{n} failures"


def _relative(scope: Scope) -> str:
    """The request's path below the app's root path."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _is_login(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "POST":
        return False
    return _relative(scope) in LOGIN_PATHS


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body; None when it is larger than a sign-in form can be."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # disconnected: Gradio will find the form incomplete
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > MAX_FORM_BYTES:
            return None
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body read already, then the client's later messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _user_name(scope: Scope, body: bytes) -> str:
    """The form's user name, for the log: url-encoded (gradio_client) or multipart (the page)."""
    headers = dict(scope.get("headers", []))
    content_type = headers.get(b"content-type", b"").decode("latin-1")
    name = ""
    try:
        if content_type.startswith("multipart/form-data"):
            parser = email.parser.BytesParser(policy=email.policy.HTTP)
            form = parser.parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
            for part in form.iter_parts():
                if part.get_param("name", header="content-disposition") == "username":
                    payload = part.get_payload(decode=True)
                    name = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
                    break
        else:
            name = parse_qs(body.decode("utf-8", "replace")).get("username", [""])[0]
    except (ValueError, TypeError):
        name = "?"
    return name.strip()[:64]

"""Polite, bounded HTTP GETs: what `index.sources.web_sources` reads feeds and pages with.

    with Fetcher(settings.index.fetch) as fetcher:
        result = fetcher.get("https://example.org/feed.xml", etag='"abc"')
        # Fetched (status 200, or 304 with `not_modified`) or FetchError(url, reason)

Only http and https. One request at a time per host, at least `delay` seconds apart; robots.txt
read once per host and obeyed; redirects followed by hand so that every hop is checked again
(scheme, robots.txt, loops, count); bodies streamed and cut off past the size cap; one deadline
per request. Nothing is raised at the boundary: every failure is a `FetchError` whose reason
names what happened and, where the user can act, which setting to change.

robots.txt follows RFC 9309: a 4xx answer (none there) allows everything; a 5xx answer, a
timeout or a connection failure is taken as "disallow everything" for the rest of the run (the
error of each URL of that site says which). Redirects of robots.txt are followed within its host
only; one to another host counts as no robots.txt. Rules are matched against the user agent's
first word ('news-assistant' by default).

Not here: what the bytes are (feed or page), caching validators between runs, articles.
"""

from __future__ import annotations

import importlib.metadata
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from index.settings import FetchSettings

__all__ = ["FetchError", "Fetched", "Fetcher", "default_user_agent"]

_MB = 1024 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SCHEMES = ("http", "https")


def default_user_agent() -> str:
    """'news-assistant/VERSION (...)': names the project; its first word is matched in robots.txt."""
    try:
        version = importlib.metadata.version("news-assistant")
    except importlib.metadata.PackageNotFoundError:
        version = "dev"
    return f"news-assistant/{version} (personal news indexer; one request at a time, robots.txt)"


@dataclass(frozen=True)
class Fetched:
    """A response read whole: 2xx with its body, or 304 (`not_modified`) with none.

    `url` is the URL asked for, `final_url` the one that answered (after redirects).
    `headers` has lower-case names.
    """

    url: str
    final_url: str
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-case ('text/html')."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str:
        for param in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset":
                return value.strip().strip("\"'")
        return ""


@dataclass(frozen=True)
class FetchError:
    """Why one URL was not read."""

    url: str
    reason: str

    def __str__(self) -> str:
        return f"{self.url}: {self.reason}"


@dataclass(frozen=True)
class _Rules:
    """One origin's robots.txt: its rules (None: no file, all allowed), or why the site is
    `closed` for this run (robots.txt unreachable: RFC 9309 says assume all is disallowed)."""

    parser: RobotFileParser | None = None
    closed: str = ""

    def allows(self, user_agent: str, url: str) -> bool:
        return self.parser is None or self.parser.can_fetch(user_agent, url)


class _Host:
    """One host's gate: a lock, when its last request ended, and its robots.txt rules."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last_done = float("-inf")
        self.robots: dict[str, _Rules] = {}  # by origin: scheme://host:port


class Fetcher:
    """An HTTP client that is polite to each host; safe to share between threads."""

    def __init__(
        self, settings: FetchSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.user_agent = settings.user_agent or default_user_agent()
        self.max_bytes = int(settings.max_page_mb * _MB)
        self._client = httpx.Client(
            headers={"User-Agent": self.user_agent},
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=False,  # by hand: every hop is checked again
            transport=transport,
        )
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, *, etag: str = "", last_modified: str = "") -> Fetched | FetchError:
        """GET `url`, following redirects; conditional when `etag` or `last_modified` is given."""
        conditional = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        hops = [url]
        while True:
            current = hops[-1]
            result = self._hop(current, conditional)
            where = "" if current == url else f" (at {current}, where it redirects)"
            if isinstance(result, FetchError):
                return FetchError(url, result.reason + where)
            if result.status < 300 or result.status == 304:
                return Fetched(url, current, result.status, result.headers, result.body)
            location = result.headers.get("location", "").strip()
            if result.status not in _REDIRECTS or not location:
                return FetchError(url, _status_reason(result.status) + where)
            target = urljoin(current, location)
            if target in hops:
                chain = " -> ".join([*hops, target])
                return FetchError(url, f"redirect loop ({chain}); the site is misconfigured")
            if len(hops) > self.settings.max_redirects:
                return FetchError(
                    url,
                    f"more than {self.settings.max_redirects} redirects (the last to {target}); "
                    "raise ASSISTANT_INDEX__FETCH__MAX_REDIRECTS to follow more",
                )
            hops.append(target)

    def _hop(self, url: str, headers: Mapping[str, str]) -> Fetched | FetchError:
        """One request, not following redirects: checked, gated per host, robots.txt obeyed."""
        try:
            parts = urlsplit(url)
            hostname = parts.hostname
        except ValueError as err:
            return FetchError(url, f"not a valid URL ({err})")
        if parts.scheme.lower() not in _SCHEMES:
            shown = f"'{parts.scheme}:' URL" if parts.scheme else "URL without a scheme"
            return FetchError(url, f"a {shown} cannot be read; only http and https URLs can")
        if not hostname:
            return FetchError(url, "the URL names no host; write it as https://HOST/PATH")
        host = self._host(hostname)
        with host.lock:
            rules = self._robots(host, url)
            if rules.closed:
                return FetchError(url, rules.closed)
            if not rules.allows(self.user_agent, url):
                robots = f"{_origin(url)}/robots.txt"
                return FetchError(url, f"{robots} disallows this URL for news-assistant; not read")
            return self._request(host, url, headers)

    def _host(self, name: str) -> _Host:
        with self._hosts_lock:
            return self._hosts.setdefault(name.lower(), _Host())

    def _robots(self, host: _Host, url: str) -> _Rules:
        """The robots.txt rules of `url`'s origin, fetched on first use (host lock held)."""
        origin = _origin(url)
        rules = host.robots.get(origin)
        if rules is None:
            answer = self._request(host, f"{origin}/robots.txt", {})
            for _ in range(self.settings.max_redirects):  # within this host only
                if not isinstance(answer, Fetched) or answer.status not in _REDIRECTS:
                    break
                target = urljoin(answer.final_url, answer.headers.get("location", ""))
                if urlsplit(target).hostname != urlsplit(url).hostname:
                    break
                answer = self._request(host, target, {})
            if isinstance(answer, FetchError):
                rules = _Rules(closed=f"{answer.reason} (reading {origin}/robots.txt)")
            elif answer.status >= 500:
                rules = _Rules(
                    closed=f"{origin}/robots.txt answered HTTP {answer.status}: by RFC 9309 the "
                    "site counts as closed to crawlers while it does; try again later"
                )
            elif answer.status >= 300:  # 4xx, or a redirect not followed: no rules
                rules = _Rules()
            else:
                parser = RobotFileParser(f"{origin}/robots.txt")
                parser.parse(answer.body.decode("utf-8", "replace").splitlines())
                rules = _Rules(parser)
            host.robots[origin] = rules
        return rules

    def _request(self, host: _Host, url: str, headers: Mapping[str, str]) -> Fetched | FetchError:
        """Send one GET after the host's delay and read the answer (host lock held)."""
        wait = host.last_done + self.settings.delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            return self._read(url, headers)
        except httpx.HTTPError as err:
            return FetchError(url, self._network_reason(err))
        except httpx.InvalidURL as err:
            return FetchError(url, f"not a valid URL ({err})")
        finally:
            host.last_done = time.monotonic()

    def _read(self, url: str, headers: Mapping[str, str]) -> Fetched | FetchError:
        deadline = time.monotonic() + self.settings.timeout
        with self._client.stream("GET", url, headers=headers) as response:
            got = {k.lower(): v for k, v in response.headers.items()}
            if response.status_code >= 300:
                return Fetched(url, url, response.status_code, got)  # the body is not wanted
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                return FetchError(url, self._too_big())
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    return FetchError(url, self._too_big())
                if time.monotonic() > deadline:
                    return FetchError(url, self._too_slow("to send the whole answer"))
                chunks.append(chunk)
            return Fetched(url, url, response.status_code, got, b"".join(chunks))

    def _too_big(self) -> str:
        limit = self.settings.max_page_mb
        return (
            f"larger than {limit:g} MB, not read; raise ASSISTANT_INDEX__FETCH__MAX_PAGE_MB "
            f"(now {limit:g}) to read it"
        )

    def _too_slow(self, what: str) -> str:
        limit = self.settings.timeout
        return (
            f"the site took more than {limit:g} s {what} (timeout); try again later or raise "
            f"ASSISTANT_INDEX__FETCH__TIMEOUT (now {limit:g})"
        )

    def _network_reason(self, err: httpx.HTTPError) -> str:
        if isinstance(err, httpx.ConnectTimeout):
            return self._too_slow("to accept a connection")
        if isinstance(err, httpx.TimeoutException):
            return self._too_slow("to answer")
        if isinstance(err, httpx.ConnectError):
            cause = _os_cause(err)
            if isinstance(cause, socket.gaierror):
                return "host not found (DNS lookup failed); check the address"
            if isinstance(cause, ConnectionRefusedError):
                return "connection refused: nothing answers at this address and port"
            return f"could not connect ({err}); check the address and your network"
        if isinstance(err, httpx.UnsupportedProtocol):
            return f"not a URL that can be fetched ({err})"
        return f"the transfer failed ({type(err).__name__}: {err}); try again later"


def _os_cause(err: BaseException) -> BaseException | None:
    """The operating system's error under httpx's and httpcore's wrappers, if any."""
    seen: BaseException | None = err
    while seen is not None and not isinstance(seen, OSError):
        seen = seen.__cause__ or seen.__context__
    return seen


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _status_reason(code: int) -> str:
    try:
        status = f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        status = f"HTTP {code}"
    if code == 404 or code == 410:
        return f"{status}: no page at this address; check the URL"
    if code in (401, 403):
        return f"{status}: the site refuses to serve it"
    if code == 429:
        return f"{status}: the site asks for fewer requests; raise ASSISTANT_INDEX__FETCH__DELAY"
    if code >= 500:
        return f"{status}: the site failed; try again later"
    if code < 400:
        return f"{status}: an answer that is not a page and not a redirect to follow"
    return status

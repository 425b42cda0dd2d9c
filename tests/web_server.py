"""The web page served for tests: a real `python app.py` in a subprocess on a free port.

Used by `tests/test_web.py` (through gradio_client and plain HTTP), `tests/test_browser.py` and
`tests/test_local_llm.py` (through Chromium). Every server shares the session's int8 export of the embedding model (see
`tests/conftest.py`): two servers starting at once take turns preparing it (`index.embed.onnx` locks
the cache), so no warm-up run is needed. Not here: the tests themselves.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from index.environment import DEFAULTS
from tests.helpers import ROOT, SAMPLES, free_port, wait_http

# Debian's Chromium for the page tests, and its flags for this closed network (no calls home)
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NEEDS_CHROMIUM = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)",
)
START_TIMEOUT = 180.0  # the model load takes ~10 s, much more on a busy machine


@dataclass
class App:
    url: str
    store: Path
    articles: Path
    log: Path


def app_env(**extra: str) -> dict[str, str]:
    """The environment of a served app: the product's defaults (no telemetry, offline), the
    shared model cache, and no other stray ASSISTANT_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(DEFAULTS, PYTHONUNBUFFERED="1")
    env["ASSISTANT_INDEX__MODEL_CACHE"] = os.environ["ASSISTANT_INDEX__MODEL_CACHE"]
    env.update(extra)
    return env


class Server:
    """`python app.py --store <folder>/store --port <free> ARGS` in a subprocess."""

    def __init__(self, folder: Path, *args: str, env: dict[str, str] | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        self.app = App(
            f"http://127.0.0.1:{port}/",
            folder / "store",
            folder / "articles",
            folder / f"server-{port}.log",
        )
        command = [sys.executable, str(ROOT / "app.py"), "--store", str(self.app.store)]
        with self.app.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*command, "--port", str(port), *args],
                cwd=ROOT,
                env=env or app_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def ready(self) -> App:
        try:
            wait_http(self.app.url, START_TIMEOUT, self.proc)
        except (RuntimeError, TimeoutError) as exc:
            self.stop()
            raise AssertionError(f"{exc}\n--- server log ---\n{self.app.log.read_text()}") from None
        return self.app

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextmanager
def serving(folder: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[App]:
    server = Server(folder, *args, env=env)
    try:
        yield server.ready()
    finally:
        server.stop()


@contextmanager
def serving_samples(root: Path) -> Iterator[App]:
    """The page over a copy of the sample articles in `root/articles` (tests may change it)."""
    shutil.copytree(SAMPLES, root / "articles")
    with serving(root, "--articles", str(root / "articles")) as running:
        yield running


SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
PAGE_TIMEOUT_MS = 90_000


@contextmanager
def page_at(browser: Any, url: str, size: str) -> Iterator[Any]:
    """A page of the app at `url` in a fresh browser context of `SIZES[size]`, its question box
    shown; `page.size` names the size."""
    context = browser.new_context(viewport=SIZES[size])
    try:
        page = context.new_page()
        page.size = size
        page.goto(url)
        page.wait_for_selector("#na-question textarea", timeout=PAGE_TIMEOUT_MS)
        yield page
    finally:
        context.close()


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's Chromium, headless, launched by Playwright with the flags above."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        running = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield running
        finally:
            running.close()

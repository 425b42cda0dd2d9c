"""Child processes for the benchmarks: a command run to completion with its wall time and peak
memory, and a server (the web page, a llama.cpp server) started on a free port and stopped again.

Not here: what is measured or reported (the scripts, `bench.common`).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Run:
    """A finished subprocess: its output, wall time and peak resident memory (whole tree)."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float


def run_measured(args: Sequence[str], *, timeout: float | None = None, **kw: Any) -> Run:
    """Run a command to completion, sampling the RSS of it and its children every 50 ms."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw
    )
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(proc.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        done.set()
        sampler.join()
    return Run(list(args), proc.returncode, out, err, time.perf_counter() - began, peak[0] / 2**20)


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants: psutil if installed, else /proc."""
    try:
        import psutil
    except ImportError:
        return _proc_tree_rss(pid)
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):  # a child may end meanwhile
            total += p.memory_info().rss
    return total


def _proc_tree_rss(pid: int) -> int:
    page = os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError, ValueError, IndexError):  # gone meanwhile
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * page
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
    return total


def assistant_cmd(*args: str) -> list[str]:
    """The `assistant` command line of this checkout, run by this Python."""
    return [sys.executable, "-m", "assistant", *args]


def check(run: Run, what: str) -> Run:
    if run.returncode != 0:
        tail = (run.stderr or run.stdout).strip().splitlines()[-5:]
        raise SystemExit(f"error: {what} failed ({run.returncode}): " + " | ".join(tail))
    return run


# -- servers ----------------------------------------------------------------------------------
def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running(
    args: Sequence[str], *, stop_s: float = 20, **popen: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """`args` started in the background, terminated (killed after `stop_s`) on leaving."""
    proc = subprocess.Popen(list(args), **popen)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=stop_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_http(
    url: str, proc: subprocess.Popen[bytes], what: str, timeout: float, *, any_status: bool = True
) -> None:
    """Return once `url` answers (with any HTTP status, unless `any_status` is false); exit with
    an error if `proc` ends first or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"error: {what} exited ({proc.returncode}){_tail(proc.stderr)}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            if any_status:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"error: {what} did not answer at {url} within {timeout:g} s")


def _tail(stream: IO[bytes] | None) -> str:
    if stream is None:
        return ""
    lines = stream.read().decode(errors="replace").strip().splitlines()
    return ": " + " | ".join(lines[-3:]) if lines else ""


@contextlib.contextmanager
def serve_app(
    store: Path,
    *,
    app: Path = ROOT / "app.py",
    extra: Sequence[str] = (),
    timeout: float = 300,
    **popen: Any,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`python app.py --store STORE --port PORT` on a free port (also in ASSISTANT_WEB__PORT);
    yields its URL and process once the page answers, and stops it on leaving."""
    port = free_port()
    command = [sys.executable, str(app), "--store", str(store), "--port", str(port), *extra]
    env = {**os.environ, "ASSISTANT_WEB__PORT": str(port)}
    url = f"http://127.0.0.1:{port}/"
    with running(command, stop_s=30, cwd=ROOT, env=env, **popen) as proc:
        wait_http(url, proc, app.name, timeout)
        yield url, proc

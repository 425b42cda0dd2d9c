"""Small utilities shared by tests: paths, free ports, waiting for servers, the store's write lock.

Fixtures shared by several test modules live in `tests/conftest.py`; the subprocess servers in
`tests/web_server.py` (the web page) and `tests/llm_server.py` (a llama.cpp server). No test
module imports another.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SHARED_DATA = ROOT.parent / "shared" / "data" / "realtimeqa"
MADRID = "Why did Japan attend the Madrid summit?"  # answered from samples/madrid-nato-summit.md


def run_assistant(
    *args: str, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """`python -m assistant ARGS` from the project root, its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 60.0, proc=None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def write_lock_held(store: Path) -> bool:
    """Whether a writer (of this or another process) holds the store's `write.lock` now.

    Asks for a shared lock without waiting and lets it go at once: it fails only while the
    exclusive lock of a writer (`index.lock.WriteLock`, an flock) is held.
    """
    try:
        fd = os.open(store / "write.lock", os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


@contextmanager
def chroma_server(folder: Path, env: dict[str, str]) -> Iterator[str]:
    """A real `chroma run` server on 127.0.0.1 keeping its data in `folder`; yields its URL."""
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "the chromadb package installs the `chroma` command"
    port = free_port()
    command = [chroma, "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", 60, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.kill()
        server.wait()

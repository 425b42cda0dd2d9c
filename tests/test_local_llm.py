"""A local GGUF model (SmolLM2-135M) run by a supervised llama.cpp child process: it answers, a
crash of the child mid-answer becomes a clear error and an extractive answer while the caller
stays up, the next question starts it again, and it ends with its parent.

A native crash is made with a real SIGSEGV sent to the child. To kill it while a question is
being answered, without waiting on time, the child is first paused (SIGSTOP) and killed once the
question's request is seen waiting on its socket (the kernel's receive queue, /proc/net/tcp).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from assistant import Assistant, LLMError, Settings
from assistant.answer.llm import make_llm
from assistant.answer.local_llm import LocalLLM
from assistant.errors import LocalModelStopped
from assistant.settings import LLMSettings
from tests.helpers import MADRID, ROOT, SAMPLES, wait_until
from tests.web_server import ARGS, CHROMIUM, Server, app_env

pytest_plugins = ["tests.llm_server"]
pytestmark = pytest.mark.slow

COUNT = [{"role": "user", "content": "Count from 1 to 200, one number per line."}]
TIMEOUT_MS = 120_000
STOPPED = re.compile(r"the local model \S+\.gguf stopped \(killed by SIGSEGV\)")


def local(gguf: Path, **kw) -> LocalLLM:
    values = {"url": str(gguf), "max_tokens": 64, "temperature": 0.0, "context_window": 2048}
    llm = make_llm(LLMSettings(**(values | kw)))
    assert isinstance(llm, LocalLLM)
    return llm


def waiting_requests(port: int) -> bool:
    """True when bytes or a connection wait, unread, on a local TCP socket of `port`."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and int(fields[4].split(":")[1], 16) > 0:
                return True
    return False


def kill_while_asked(pid: int, port: int, ask):
    """Pause the model process, then `ask()`; once the question's request waits on the model's
    socket, crash the process with SIGSEGV. `ask()`'s result."""
    os.kill(pid, signal.SIGSTOP)
    asked = threading.Event()

    def kill() -> None:
        try:
            wait_until(lambda: waiting_requests(port) or asked.is_set(), "the model's request")
        finally:
            os.kill(pid, signal.SIGSEGV)
            os.kill(pid, signal.SIGCONT)

    killer = threading.Thread(target=kill)
    killer.start()
    try:
        return ask()
    finally:
        asked.set()
        killer.join()


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_the_model_answers_from_a_child_process(smollm2_gguf: Path):
    llm = local(smollm2_gguf, max_tokens=24)
    assert llm.model_label == f"{smollm2_gguf.stem} (local GGUF)"
    llm.check()
    pid = llm.pid
    assert pid is not None and pid != os.getpid()
    deltas = list(llm.stream([{"role": "user", "content": "Say hello in one sentence."}]))
    assert len(deltas) > 1 and "".join(deltas).strip()
    assert llm.complete([{"role": "user", "content": "Say hi."}]).strip()
    with pytest.raises(LLMError, match=r"SmolLM2.*exceed.*ASSISTANT_LLM__CONTEXT_WINDOW"):
        llm.complete([{"role": "user", "content": "word " * 3000}])
    assert llm.pid == pid and llm.starts == 1  # an error about a request is not a stop
    llm.close()
    assert llm.pid is None


def test_a_crash_mid_answer_is_a_clear_error_and_the_next_request_starts_it_again(
    smollm2_gguf: Path,
):
    llm = local(smollm2_gguf, max_tokens=400)
    llm.check()
    first = llm.pid
    assert first is not None
    received = []
    with pytest.raises(LocalModelStopped, match=STOPPED) as stopped:
        for delta in llm.stream(COUNT):
            received.append(delta)
            if len(received) == 1:  # the model has begun writing its 400 tokens
                os.kill(first, signal.SIGSEGV)
    assert "starts again with the next question" in str(stopped.value)
    assert len(received) < 100  # it stopped mid-answer, not after it
    assert llm.pid is None
    assert llm.complete([{"role": "user", "content": "Say hi."}]).strip()
    assert llm.starts == 2 and llm.pid not in (None, first)
    llm.close()


def test_a_file_that_is_not_a_model_is_named_in_one_line(tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + os.urandom(4096))
    llm = local(broken)
    with pytest.raises(LLMError) as caught:
        llm.check()
    message = str(caught.value)
    assert f"cannot load the GGUF model {broken}" in message and "\n" not in message
    assert "is it a complete llama.cpp model file?" in message
    assert llm.pid is None


def test_the_model_process_ends_with_its_parent(smollm2_gguf: Path):
    import psutil

    script = (
        "import os, sys\n"
        "from assistant.answer.local_llm import LocalLLM\n"
        "from assistant.settings import LLMSettings\n"
        "llm = LocalLLM(LLMSettings(url=sys.argv[1], context_window=2048))\n"
        "llm.check()\n"
        "print(llm.pid, flush=True)\n"
        "os.kill(os.getpid(), 9)\n"  # no clean-up of its own: the child must notice alone
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(smollm2_gguf)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    child = int(done.stdout.split()[0])

    def gone() -> bool:
        try:
            return psutil.Process(child).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    wait_until(gone, f"the model process {child} to end")


def test_the_llama_cpp_runtime_carries_no_avx512_or_amx_code():
    """The build is portable (Makefile, LLAMA_CMAKE): no instruction beyond AVX2 that a
    processor of another day may lack, and no AMX path (it crashed in decode on AMX machines)."""
    import llama_cpp

    objdump = shutil.which("objdump")
    if objdump is None:
        pytest.skip("needs objdump (binutils)")
    libraries = sorted((Path(llama_cpp.__file__).parent / "lib").glob("libggml*.so"))
    assert libraries, "llama-cpp-python holds no ggml library"
    for library in libraries:
        code = subprocess.run(
            [objdump, "-d", "--no-show-raw-insn", str(library)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        beyond = re.findall(r"%zmm\d+|%tmm\d|\btileloadd|\btdpb\w+|\bldtilecfg", code)
        assert not beyond, f"{library.name} was built with {sorted(set(beyond))[:5]}"


# -- through the assistant, the command line and the page -------------------------------------
@pytest.fixture(scope="module")
def sample_store(tmp_path_factory, embedder) -> Path:
    from index import ArticleIndex

    store = tmp_path_factory.mktemp("local-llm") / "store"
    assert ArticleIndex.open(store, embedder=embedder).sync([SAMPLES]).failed == 0
    return store


def test_the_assistant_answers_extractively_when_the_model_stops_and_then_restarts_it(
    sample_store, embedder, smollm2_gguf
):
    from index import ArticleIndex

    settings = Settings(store=sample_store)
    settings.llm.max_tokens = 64
    settings.llm.context_window = 2048
    index = ArticleIndex.open(sample_store, embedder=embedder, create=False)
    assistant = Assistant.open(settings=settings, index=index, llm=str(smollm2_gguf))
    llm = assistant.llm
    assert isinstance(llm, LocalLLM) and llm.pid is not None
    port = port_of(llm.url)

    answer = kill_while_asked(llm.pid, port, lambda: assistant.ask(MADRID))
    assert answer.mode == "extractive" and STOPPED.search(answer.notice)
    assert answer.answered and any("Kishida" in c.quote for c in answer.citations)

    again = assistant.ask(MADRID)
    assert again.mode == "llm" and not again.notice and llm.starts == 2
    llm.close()


def test_cli_ask_with_a_gguf_answers_and_a_broken_one_is_one_line(sample_store, smollm2_gguf):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_LLM__MAX_TOKENS": "48"}
    ask = [sys.executable, "-m", "assistant", "ask", MADRID, "--store", str(sample_store)]
    run = subprocess.run(
        [*ask, "--llm", str(smollm2_gguf), "--top-k", "2"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "Sources:" in run.stdout and "Traceback" not in run.stderr

    broken = sample_store.parent / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 2048)
    run = subprocess.run(
        [*ask, "--llm", str(broken)], capture_output=True, text=True, env=env, timeout=300
    )
    assert run.returncode == 1 and run.stdout == ""
    assert (
        run.stderr.startswith("error: cannot load the GGUF model") and run.stderr.count("\n") == 1
    )


def test_the_page_stays_up_when_the_model_crashes_mid_answer(smollm2_gguf, tmp_path):
    import psutil
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.skip(f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    shutil.copytree(SAMPLES, tmp_path / "articles")
    env = app_env(ASSISTANT_LLM__MAX_TOKENS="48", ASSISTANT_LLM__CONTEXT_WINDOW="2048")
    server = Server(
        tmp_path, "--articles", str(tmp_path / "articles"), "--llm", str(smollm2_gguf), env=env
    )
    try:
        app = server.ready()

        def model_process() -> psutil.Process | None:
            found = [
                p
                for p in psutil.Process(server.proc.pid).children(recursive=True)
                if "assistant.answer.llm_child" in " ".join(p.cmdline())
            ]
            return found[0] if found else None

        child = model_process()
        assert child is not None
        port = next(c.laddr.port for c in child.net_connections("tcp") if c.status == "LISTEN")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page()
            page.goto(app.url)
            page.wait_for_selector("#na-question textarea", timeout=TIMEOUT_MS)

            def ask(question: str, says: str) -> str:
                bots = page.locator("#na-chat [data-testid='bot']")
                before = bots.count()
                page.fill("#na-question textarea", question)
                page.keyboard.press("Enter")
                page.wait_for_function(
                    """([n, says]) => {
                        const bots = document.querySelectorAll("#na-chat [data-testid='bot']");
                        return bots.length > n && bots[bots.length - 1].innerText.includes(says);
                    }""",
                    arg=[before, says],
                    timeout=TIMEOUT_MS,
                )
                return bots.last.inner_text()

            shown = kill_while_asked(child.pid, port, lambda: ask(MADRID, "quoted verbatim"))
            assert STOPPED.search(shown) and "starts again with the next question" in shown
            assert "Kishida" in shown and "[1]" in shown  # the extractive answer, cited
            assert "Kishida" in page.locator("#na-sources").inner_text()
            assert server.proc.poll() is None

            shown = ask("Who else attended the Madrid summit?", "written by")
            assert f"{smollm2_gguf.stem} (local GGUF)" in shown and "stopped" not in shown
            restarted = model_process()
            assert restarted is not None and restarted.pid != child.pid
            browser.close()
    finally:
        server.stop()
    assert "Traceback" not in app.log.read_text()

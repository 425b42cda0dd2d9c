"""LLM mode end to end against a real OpenAI-compatible server (llama-cpp-python serving
SmolLM2-135M): streaming, markers parsed and checked, bad markers dropped, unsupported
sentences flagged, follow-ups condensed, server errors reported. The tiny model's wisdom is
not asserted, only the mechanics."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import Answer, Assistant, LLMError, Settings
from tests.helpers import MADRID, ROOT, SAMPLES

pytest_plugins = ["tests.llm_server"]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory, embedder) -> Path:
    from index import ArticleIndex

    store = tmp_path_factory.mktemp("llm-samples") / "store"
    assert ArticleIndex.open(store, embedder=embedder).sync([SAMPLES]).failed == 0
    return store


@pytest.fixture(scope="module")
def llm_assistant(sample_store, embedder, llm_server) -> Assistant:
    from index import ArticleIndex

    settings = Settings(store=sample_store)
    settings.llm.max_tokens = 96
    settings.llm.context_window = 2048
    index = ArticleIndex.open(sample_store, embedder=embedder, create=False)
    return Assistant.open(settings=settings, index=index, llm=llm_server, model="smollm2")


def _exact(assistant: Assistant, answer: Answer) -> None:
    for c in answer.citations:
        text = assistant.index.article(c.article_id).text
        assert text[c.start : c.end] == c.passage
        assert text[c.quote_start : c.quote_end] == c.quote


def test_llm_answer_streams_then_is_checked(llm_assistant):
    assert llm_assistant.mode == "llm" and "smollm2" in llm_assistant.model_label
    parts = list(llm_assistant.stream(MADRID, top_k=3))
    deltas, final = parts[:-1], parts[-1]
    assert len(deltas) >= 3 and all(isinstance(d, str) for d in deltas)
    assert isinstance(final, Answer) and final.mode == "llm"
    numbers = [c.n for c in final.citations]
    assert numbers == list(range(1, len(numbers) + 1))
    for sentence in final.sentences:
        assert set(sentence.citations) <= set(numbers)
        assert sentence.supported == bool(sentence.citations)
    _exact(llm_assistant, final)


def test_followup_is_condensed_by_the_llm(llm_assistant):
    chat = llm_assistant.chat()
    chat.ask("Who is Australia's prime minister?", top_k=2)
    second = chat.ask("What did he say about China?", top_k=2)
    assert second.standalone_question.strip()
    assert len(chat.history) == 2


def test_unknown_model_and_dead_server_are_clear_errors(sample_store, embedder, llm_server):
    from index import ArticleIndex

    index = ArticleIndex.open(sample_store, embedder=embedder, create=False)
    with pytest.raises(LLMError, match="no-such-model"):
        Assistant.open(
            settings=Settings(store=sample_store),
            index=index,
            llm=llm_server,
            model="no-such-model",
        )
    with pytest.raises(LLMError, match="cannot reach"):
        Assistant.open(
            settings=Settings(store=sample_store),
            index=index,
            llm="http://127.0.0.1:9",
            model="smollm2",
        )


def test_cli_ask_with_llm(sample_store, llm_server):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_LLM__MAX_TOKENS": "64"}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "assistant",
            "ask",
            MADRID,
            "--store",
            str(sample_store),
            "--llm",
            llm_server,
            "--model",
            "smollm2",
            "--top-k",
            "2",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() and "Traceback" not in run.stderr

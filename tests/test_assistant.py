"""The assistant on the sample articles with the real model and store: cited extractive answers,
declining, follow-ups, filters, exact offsets, and clear errors for bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import Assistant, QuestionError, Settings
from index import StoreError
from tests.helpers import MADRID, ROOT, SAMPLES


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory, embedder) -> Path:
    from index import ArticleIndex

    store = tmp_path_factory.mktemp("samples") / "store"
    report = ArticleIndex.open(store, embedder=embedder).sync([SAMPLES])
    assert report.failed == 0
    return store


@pytest.fixture(scope="module")
def assistant(sample_store, embedder) -> Assistant:
    from index import ArticleIndex

    index = ArticleIndex.open(sample_store, embedder=embedder, create=False)
    return Assistant(index, Settings(store=sample_store))


def _exact(assistant: Assistant, answer) -> None:
    for c in answer.citations:
        text = assistant.index.article(c.article_id).text
        assert text[c.start : c.end] == c.passage
        assert text[c.quote_start : c.quote_end] == c.quote
        assert c.start <= c.quote_start < c.quote_end <= c.end


def test_madrid_question_cites_kishidas_reasons(assistant):
    answer = assistant.ask(MADRID)
    assert answer.answered and answer.mode == "extractive"
    assert answer.citations and all(f"[{c.n}]" in answer.text for c in answer.citations)
    assert any("Kishida" in c.quote or "Japan attended" in c.quote for c in answer.citations)
    assert all("nato" in c.url for c in answer.citations[:1])
    _exact(assistant, answer)
    assert all(s.supported for s in answer.sentences)
    json.loads(answer.to_json())


def test_unanswerable_question_is_declined_with_closest_passages(assistant):
    answer = assistant.ask("What is the recipe for a good sourdough starter?")
    assert not answer.answered
    assert answer.text.startswith("The indexed articles don't say")
    assert "[" not in answer.text
    _exact(assistant, answer)


def test_followup_carries_the_subject(assistant):
    chat = assistant.chat()
    first = chat.ask("Who is Australia's prime minister?")
    assert "Albanese" in first.text
    second = chat.ask("What did he say about China?")
    assert "Albanese" in second.standalone_question
    assert any("Albanese" in c.quote and "China" in c.quote for c in second.citations)
    chat.reset()
    assert chat.history == []


def test_date_and_source_filters(assistant):
    june = assistant.ask(
        "What did the central bank decide about interest rates?", until="2022-06-30"
    )
    assert june.citations and all(c.published <= "2022-06-30" for c in june.citations)
    july = assistant.ask(
        "What did the central bank decide about interest rates?",
        since="2022-07-01",
        as_of="2022-07-31",
    )
    assert july.citations and all(
        "2022-07-01" <= c.published <= "2022-07-31" for c in july.citations
    )
    science = assistant.ask("What did the telescope show?", source="Sample Science Desk")
    assert science.citations and {c.source for c in science.citations} == {"Sample Science Desk"}
    nothing = assistant.ask("What did the telescope show?", source="No Such Outlet")
    assert not nothing.answered and nothing.citations == ()


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "empty"),
        ("   \n\t", "empty"),
        ("\u200b\ufeff\u2060 \u200b", "empty"),  # invisible only
        ("x" * 20_000, "characters long"),
    ],
)
def test_bad_questions_are_refused_clearly(assistant, question, message):
    with pytest.raises(QuestionError, match=message):
        assistant.ask(question)


def test_invisible_and_bidi_characters_are_taken_out_of_a_question():
    from assistant.assistant import clean_question

    asked = "Why did Ja\u200bpan attend the \u202eMadrid\u202c summit?\ufeff"
    assert clean_question(asked, 2000) == "Why did Japan attend the Madrid summit?"


def test_bad_filter_date_names_the_filter(assistant):
    with pytest.raises(QuestionError, match="since"):
        assistant.ask(MADRID, since="last tuesday")


def test_control_characters_are_ignored(assistant):
    answer = assistant.ask("Why did\x00 Japan\x07 attend the Madrid summit?")
    assert answer.answered and answer.question == MADRID


def test_empty_store_is_a_clear_error(tmp_path, embedder):
    from index import ArticleIndex

    index = ArticleIndex.open(tmp_path / "empty", embedder=embedder)
    with pytest.raises(StoreError, match="no articles"):
        Assistant(index, Settings(store=tmp_path / "empty")).ask(MADRID)


def test_stream_yields_text_then_the_answer(assistant):
    parts = list(assistant.stream(MADRID))
    assert all(isinstance(p, str) for p in parts[:-1]) and len(parts) > 2
    final = parts[-1]
    assert "".join(parts[:-1]).strip() == final.text


def _cli(*args: str, store: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args, "--store", str(store)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )


def test_cli_ask_prints_answer_and_sources(sample_store):
    run = _cli("ask", MADRID, store=sample_store)
    assert run.returncode == 0, run.stderr
    assert "[1]" in run.stdout and "Sources:" in run.stdout and "https://" in run.stdout
    as_json = _cli("ask", MADRID, "--json", "--top-k", "3", store=sample_store)
    data = json.loads(as_json.stdout)
    assert data["question"] == MADRID and data["citations"][0]["quote"]


@pytest.mark.slow
def test_cli_errors_are_one_line(sample_store, tmp_path):
    for args, store, code in (
        (("ask", "   "), sample_store, 1),
        (("ask", "y" * 20_000), sample_store, 1),
        (("ask", MADRID), tmp_path / "no-store", 1),
        (("ask", MADRID, "--llm", "http://127.0.0.1:9", "--model", "m"), sample_store, 1),
        # usage errors: exit 2, one line naming the option and what to change
        (("ask", MADRID, "--since", "2022-13-45"), sample_store, 2),
        (("ask", MADRID, "--top-k", "-3"), sample_store, 2),
        (("ask", MADRID, "--top-k", "0"), sample_store, 2),
        (("ask", MADRID, "--since", "2022-08-01", "--until", "2022-07-01"), sample_store, 2),
        (("ask", MADRID, "--since", "2022-08-01", "--as-of", "2022-07-01"), sample_store, 2),
        (("ask", MADRID, "--source", "Nowhere Daily"), sample_store, 2),
    ):
        run = _cli(*args, store=store)
        assert run.returncode == code, (args, run.stdout, run.stderr)
        assert run.stderr.startswith("error: ") and "Traceback" not in run.stderr
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr
        assert not run.stdout.strip(), run.stdout
    usage = _cli("ask", MADRID, "--top-k", "-3", store=sample_store).stderr
    assert "--top-k" in usage and "between 1 and 100" in usage
    inverted = _cli(
        "ask", MADRID, "--since", "2022-08-01", "--until", "2022-07-01", store=sample_store
    )
    assert "2022-08-01" in inverted.stderr and "swap" in inverted.stderr
    unknown = _cli("ask", MADRID, "--source", "Nowhere Daily", store=sample_store).stderr
    assert "'Nowhere Daily'" in unknown and "Sample Wire" in unknown


def test_cli_says_the_closest_passages_are_listed_only_when_some_are(sample_store):
    run = _cli("ask", MADRID, "--as-of", "1990-01-01", store=sample_store)
    assert run.returncode == 0, run.stderr
    assert "don't say" in run.stdout and "listed below" not in run.stdout
    assert "Closest passages" not in run.stdout
    known = _cli("ask", MADRID, "--source", "Sample Wire", store=sample_store)
    assert known.returncode == 0 and "[1]" in known.stdout, known.stderr


def test_cli_ask_leaves_the_store_untouched(sample_store, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(sample_store, copy)
    before = sorted((p.relative_to(copy), p.stat().st_size) for p in copy.rglob("*") if p.is_file())
    _cli("ask", "", store=copy)
    after = sorted((p.relative_to(copy), p.stat().st_size) for p in copy.rglob("*") if p.is_file())
    assert before == after


def test_the_api_refuses_an_inverted_date_range_and_an_unusable_top_k():
    from assistant.assistant import check_top_k, make_filters
    from assistant.errors import QuestionError

    with pytest.raises(QuestionError, match="since date 2022-08-01 is after the until date"):
        make_filters(since="2022-08-01", until="2022-07-01")
    with pytest.raises(QuestionError, match="after the as_of date"):
        make_filters(since="2022-08-01", as_of="2022-07-31")
    assert make_filters(since="2022-07-01", until="2022-07-01").since is not None
    for bad in (0, -3, 101):
        with pytest.raises(QuestionError, match="between 1 and 100"):
            check_top_k(bad)
    assert check_top_k(None) is None and check_top_k(5) == 5

"""Follow-ups in conversations over the sample articles, with the real model and store: each
follow-up of `tests/data/conversations-samples.jsonl` (written for the tests) is answered citing
one of the sentences it should, through one `Conversation` as the page asks them. The same set
and its RealTime QA counterpart are measured by `bench/followups.py` (docs/evaluation.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant, Settings
from bench import followups
from index import ArticleIndex
from tests.helpers import ROOT, SAMPLES

CONVERSATIONS = ROOT / "tests" / "data" / "conversations-samples.jsonl"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, embedder) -> Assistant:
    store: Path = tmp_path_factory.mktemp("conversations") / "store"
    index = ArticleIndex.open(store, embedder=embedder)
    assert index.sync([SAMPLES]).failed == 0
    return Assistant(index, Settings(store=store))


def test_every_follow_up_cites_a_sentence_that_answers_it(assistant):
    results = followups.run(assistant, followups.load(CONVERSATIONS))
    later = [r for r in results if r.turn > 0]
    assert len(later) >= 12
    wrong = [(r.conversation, r.question, r.read_as, r.cited) for r in results if not r.right]
    assert not wrong
    summary = followups.summary(results)
    assert summary["follow_up_share"] == 1.0 and summary["conversations"] == 9


def test_a_follow_up_about_someone_else_does_not_carry_the_first_actor(assistant):
    chat = assistant.chat()
    chat.ask("Why did Japan attend the Madrid summit?")
    answer = chat.ask("What did South Korea's president do there?")
    assert "Madrid" in answer.standalone_question and "Japan" not in answer.standalone_question
    topic_switch = chat.ask("What's new?")
    assert topic_switch.standalone_question == "What's new?"

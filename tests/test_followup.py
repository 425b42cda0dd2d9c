"""The deterministic follow-up rewrite (no model needed): pronouns and references resolved from
the previous turn."""

from __future__ import annotations

from assistant.answer.followup import Turn, rewrite

LIST_ANSWER = (
    "Japanese Prime Minister Fumio Kishida, South Korean President Yoon Suk-yeol, Australian "
    "Prime Minister Anthony Albanese and New Zealand Prime Minister Jacinda Ardern attended. "
    "Anthony Albanese, Australia's prime minister, said the war and the Pacific are linked."
)


def _turn(question: str, answer: str) -> Turn:
    return Turn(question, question, answer)


def test_pronoun_becomes_the_person_the_question_described_not_the_first_name():
    history = [_turn("Who is Australia's prime minister?", LIST_ANSWER)]
    assert rewrite("What did he say about China?", history) == (
        "What did Anthony Albanese say about China?"
    )


def test_pronoun_becomes_the_first_person_when_the_question_described_nobody():
    history = [_turn("Who attended the summit?", "Fumio Kishida and Yoon Suk-yeol attended.")]
    assert rewrite("What did she say?", history) == "What did Fumio Kishida say?"


def test_possessive_pronoun_keeps_its_possessive():
    history = [_turn("Who is Japan's leader?", "Fumio Kishida, Japan's prime minister, spoke.")]
    assert rewrite("What is his plan?", history) == "What is Fumio Kishida's plan?"


def test_reference_carries_the_previous_subject_as_keywords():
    history = [_turn("What happened at the Madrid summit?", "Leaders met in Madrid.")]
    assert rewrite("Why was it held there?", history) == "Why was it held there? (Madrid)"


def test_a_question_that_stands_alone_is_kept():
    history = [_turn("Who is Australia's prime minister?", LIST_ANSWER)]
    question = "How much will the new bridge over the Thames cost?"
    assert rewrite(question, history) == question

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
    assert rewrite("Why was it held there?", history) == "Why was it held there? (Madrid summit)"


def test_a_follow_up_naming_its_own_actor_carries_the_place_not_the_old_actor():
    history = [_turn("Why did Japan attend the Madrid summit?", "Japan attended because ...")]
    read = rewrite("What did South Korea's president do there?", history)
    assert read == "What did South Korea's president do there? (Madrid attend)"
    assert "Japan" not in read


def test_a_follow_up_that_names_nothing_carries_the_topic():
    history = [_turn("Who did the US kill in a drone strike in Kabul?", "The US killed a leader.")]
    assert rewrite("What weapons were used?", history) == "What weapons were used? (US Kabul)"


def test_a_question_for_the_news_in_general_stands_alone():
    history = [_turn("Who is Australia's prime minister?", LIST_ANSWER)]
    for question in ("What's new?", "What is the latest?", "Any news?", "What happened today?"):
        assert rewrite(question, history) == question


def test_names_of_places_and_bodies_are_not_taken_for_a_person():
    answer = "The United States killed Osama Hamdan in a strike, officials said."
    history = [_turn("Who did the US kill in Kabul?", answer)]
    assert rewrite("Where was he hiding?", history) == "Where was Osama Hamdan hiding?"


def test_a_question_that_stands_alone_is_kept():
    history = [_turn("Who is Australia's prime minister?", LIST_ANSWER)]
    question = "How much will the new bridge over the Thames cost?"
    assert rewrite(question, history) == question

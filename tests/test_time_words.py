"""Time words in a question set how much the recency prior counts: the words alone decide,
and a stronger prior for a question about the latest days lifts the newest article."""

from __future__ import annotations

import datetime as dt

import pytest

from assistant.answer.time_words import time_focus

ASKED = dt.date(2022, 7, 1)


@pytest.mark.parametrize(
    ("question", "focus"),
    [
        ("Which park was flooded this week?", "now"),
        ("What did the senate pass on Tuesday?", "now"),
        ("Which show was recently renewed for a new season?", "now"),
        ("What is the latest estimate of the damage?", "now"),
        ("Who was the first woman ever to win the prize?", "past"),
        ("What happened in 1920 in the town?", "past"),
        ("Prices rose for the first time since the 1980s. By how much?", "past"),
        ("Who won the 2022 election in Kenya?", ""),
        ("Which country hosted the summit?", ""),
        ("Which record ever set this week fell?", "now"),  # the latest days come first
    ],
)
def test_the_question_words_alone_set_the_focus(question, focus):
    assert time_focus(question, ASKED) == focus


def test_a_year_is_past_only_before_the_day_it_is_asked():
    assert time_focus("What changed in 2021?", ASKED) == ""
    assert time_focus("What changed in 2019?", ASKED) == "past"
    assert time_focus("What changed in 2019?", None) == ""

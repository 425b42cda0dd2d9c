"""The tiny evaluation set: five articles and five questions whose metrics are computed by hand.

`tests/test_eval.py` checks `assistant eval` against it; `tests/test_bench.py` runs the benchmark
scripts on it. The expected figures live with the tests that assert them.
"""

from __future__ import annotations

import json
from pathlib import Path

SQUID, SQUID_EMMYS = "https://example.org/squid-game-season-2", "https://example.org/emmys"
CHARGER, WEBB = "https://example.org/eu-charger", "https://example.org/webb-images"
ARTICLES = [
    {
        "id": SQUID,
        "title": "Squid Game returns",
        "source": "example.org",
        "published": "2022-06-12",
        "text": "Netflix announced on Sunday that Squid Game, its wildly popular South Korean "
        "show, has been green lit for a second season. The director wrote a letter to fans "
        "about the new season. Production starts in the autumn in Seoul.",
    },
    {
        "id": CHARGER,
        "title": "Europe agrees on a common charger",
        "source": "example.org",
        "published": "2022-06-08",
        "text": "Europe will require Apple and other smartphone makers to support USB-C, a "
        "single common charging standard for mobile devices, from 2024. Lawmakers in Brussels "
        "said the rule will reduce cable clutter and electronic waste.",
    },
    {
        "id": WEBB,
        "title": "Webb telescope images",
        "source": "example.org",
        "published": "2022-07-12",
        "text": "The James Webb Space Telescope released its first full-colour images on "
        "Tuesday. Astronomers said the pictures show distant galaxies in great detail.",
    },
    {
        "id": "https://example.org/heatwave",
        "title": "Britain swelters",
        "source": "example.org",
        "published": "2022-07-19",
        "text": "Britain recorded its highest temperature ever on Tuesday, as a heatwave "
        "swept across the country. Railways ran slow services and schools closed early.",
    },
    {
        "id": SQUID_EMMYS,
        "title": "Emmy night",
        "source": "example.org",
        "published": "2022-09-13",
        "text": "Squid Game won six Emmy awards on Monday, including best actor in a drama "
        "for Lee Jung-jae. The show made history as the first series not in English to win "
        "in that category.",
    },
]
QUESTIONS = [
    {  # gold id with a text fragment; answer and choice in the best sentence
        "id": "q1",
        "asked_on": "2022-06-16",
        "question": "Which wildly popular show was recently green lit for a second season?",
        "answers": ["“Squid Game”"],
        "choices": ["“Game of Thrones”", "“Squid Game”", "“Breaking Bad”", "“Friends”"],
        "gold_ids": [SQUID + "#:~:text=Squid%20Game"],
    },
    {
        "id": "q2",
        "asked_on": "2022-06-16",
        "question": "Which continent will require smartphone makers to support a single "
        "common charging standard?",
        "answers": ["Europe"],
        "choices": ["Europe", "North America", "Asia", "Africa"],
        "gold_ids": [CHARGER],
    },
    {  # its gold article is published after asked_on: found only without the as-of filter
        "id": "q3",
        "asked_on": "2022-06-16",
        "question": "How many Emmy awards did Squid Game win?",
        "answers": ["six"],
        "choices": ["six", "three", "eleven", "nine"],
        "gold_ids": [SQUID_EMMYS],
    },
    {  # its gold article is not in the store
        "id": "q4",
        "asked_on": "2022-07-13",
        "question": "What did the James Webb Space Telescope release on Tuesday?",
        "answers": ["first full-colour images"],
        "choices": ["first full-colour images", "a rocket", "a lunar rover", "a solar sail"],
        "gold_ids": ["https://example.org/not-indexed"],
    },
    {  # no gold ids, no choices, and the articles don't hold the answer
        "id": "q5",
        "asked_on": "2022-07-25",
        "question": "Who won the Tour de France cycling race?",
        "answers": ["Jonas Vingegaard"],
    },
]


def write_fixture(folder: Path) -> tuple[Path, Path]:
    """The fixture articles and questions as JSON-lines files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    articles, questions = folder / "articles.jsonl", folder / "questions.jsonl"
    articles.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    questions.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS), encoding="utf-8")
    return articles, questions

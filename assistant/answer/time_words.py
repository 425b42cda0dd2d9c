"""Time words: how much a question's own words ask for the newest articles.

"What happened this week", "on Tuesday", "recently", "the latest" ask about the days before the
question: the recency prior of retrieval counts more. "In 1920", "ever", "the first time since",
"in history" ask about the past: it counts less. Read from the question's words alone, with the
day the question is asked (`latest`) to tell a past year from the present one.

Not here: the prior itself (`assistant.answer.retrieve`).
"""

from __future__ import annotations

import datetime as dt
import re

_NOW = re.compile(
    r"\b(?:this (?:week|weekend|month)|last (?:week|weekend)|(?:to|yester)day|tonight|"
    r"(?:on |last |this )?(?:mon|tues|wednes|thurs|fri|satur|sun)day|recently|recent|latest|"
    r"newly|currently|right now|so far|upcoming|soon|next (?:week|month)|just)\b",
    re.IGNORECASE,
)
_PAST = re.compile(
    r"\b(?:ever|in history|(?:the )?first time since|all[- ]time|of all time|decades?|"
    r"centur(?:y|ies)|since (?:the )?\d{4}s?|historic(?:al)?|the only (?:person|one|time))\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})s?\b")


def time_focus(question: str, latest: dt.date | None) -> str:
    """ "now" when the question asks about the latest days, "past" when about earlier times
    (and not about the latest days too), else ""."""
    if _NOW.search(question):
        return "now"
    years = [int(y) for y in _YEAR.findall(question)]
    if _PAST.search(question) or any(latest is not None and y < latest.year - 1 for y in years):
        return "past"
    return ""

"""Deterministic rewriting of a follow-up question into one that stands alone (no LLM).

"Who is Australia's prime minister?" answered with "Anthony Albanese, Australia's prime
minister, said ..." then "What did he say about China?" becomes "What did Anthony Albanese say
about China?". A person pronoun is replaced by the person of the previous answer described in
the words of the previous question, else the first person-like name of that turn (its answer
first, then its question); any other reference ("it", "that", "there", a very short question)
carries the previous turn's subject along as extra keywords.

Not here: the LLM rewrite, which uses the condense prompt (`assistant.assistant`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_PERSON = re.compile(r"\b(he|she|him|his|her|hers)\b", re.IGNORECASE)
_REFERENCE = re.compile(
    r"\b(it|its|they|them|their|this|that|these|those|there|the same)\b", re.IGNORECASE
)
_CAPWORD = r"(?:[A-Z][\w’'\-]*\.?|[A-Z]{2,})"
_ENTITY = re.compile(rf"{_CAPWORD}(?:\s+(?:of\s+|de\s+|the\s+)?{_CAPWORD})*")
_NOT_NAMES = frozenset(
    [
        "A",
        "An",
        "The",
        "This",
        "That",
        "These",
        "Those",
        "What",
        "Who",
        "Whom",
        "Whose",
        "Why",
        "When",
        "Where",
        "Which",
        "How",
        "Is",
        "Are",
        "Was",
        "Were",
        "Do",
        "Does",
        "Did",
        "Can",
        "Could",
        "Will",
        "Would",
        "Should",
        "In",
        "On",
        "At",
        "For",
        "From",
        "By",
        "With",
        "And",
        "But",
        "Or",
        "If",
        "It",
        "He",
        "She",
        "They",
        "We",
        "I",
        "You",
        "His",
        "Her",
        "Their",
        "Its",
        "Our",
        "Mr",
        "Mrs",
        "Ms",
        "Dr",
        "Prime",
        "Minister",
        "President",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
)


_QUESTION_WORDS = frozenset(
    ["who", "whom", "whose", "what", "which", "where", "when", "why", "how"]
)


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation, as the rewrite needs it."""

    question: str
    standalone: str
    answer: str


def entities(text: str) -> list[str]:
    """Capitalised phrases of a text, without leading question and function words."""
    found = []
    for match in _ENTITY.finditer(text):
        words = match.group(0).split()
        while words and words[0].rstrip(".") in _NOT_NAMES:
            words = words[1:]
        phrase = " ".join(words).rstrip(".")
        if phrase and phrase not in found:
            found.append(phrase)
    return found


def _person(names: list[str]) -> str | None:
    for name in names:
        words = name.split()
        possessive = "’s" in name or name.endswith("'s")
        if len(words) >= 2 and all(w[0].isupper() for w in words) and not possessive:
            return name
    return None


def _asked_about(turn: Turn) -> str | None:
    """The person of the answer described in the words of the question ("Who is Australia's
    prime minister?" -> the name beside "Australia's prime minister"); None on a tie."""
    asked = _word_starts(turn.standalone) - _QUESTION_WORDS
    scores: dict[str, int] = {}  # surname -> best score
    forms: dict[str, str] = {}  # surname -> shortest full name
    for match in _ENTITY.finditer(turn.answer):
        name = _person(entities(match.group(0)))
        if not name:
            continue
        surname = name.split()[-1]
        before = re.search(r"([^,.;]*),\s*$", turn.answer[: match.start()])
        after = re.match(r"\s*,([^,.;]*)", turn.answer[match.end() :])
        beside = [m.group(1) for m in (before, after) if m and not _person(entities(m.group(1)))]
        # the name and the descriptions beside it ("Anthony Albanese, Australia's leader, said")
        near = _word_starts(" ".join([match.group(0), *beside]))
        scores[surname] = max(scores.get(surname, 0), len(asked & near))
        forms[surname] = min(forms.get(surname, name), name, key=len)
    ranked = sorted(scores.values(), reverse=True)
    if not ranked or ranked[0] == 0 or (len(ranked) > 1 and ranked[0] == ranked[1]):
        return None
    return next(forms[n] for n, v in scores.items() if v == ranked[0])


def _word_starts(text: str) -> set[str]:
    """First five letters of each word of three or more, lower-cased ("Australian" and
    "Australia's" meet as "austr")."""
    return {w[:5] for w in re.findall(r"[a-z]{3,}", text.lower())}


def is_followup(question: str) -> bool:
    words = re.findall(r"\w+", question)
    return bool(
        _PERSON.search(question)
        or _REFERENCE.search(question)
        or len(words) <= 3
        or re.match(r"\s*(and|also|what about|how about)\b", question, re.IGNORECASE)
    )


def rewrite(question: str, history: Sequence[Turn]) -> str:
    """The question made to stand alone, using the subject of the previous turns."""
    if not history or not is_followup(question):
        return question
    last = history[-1]
    names = entities(last.answer) + entities(last.standalone)
    person = _asked_about(last) or _person(entities(last.answer.split(". ")[0]) + names)
    match = _PERSON.search(question)
    if match and person:
        word = match.group(0).lower()
        replacement = f"{person}'s" if word in ("his", "hers") else person
        return question[: match.start()] + replacement + question[match.end() :]
    subject = [n for n in entities(last.standalone) if n not in question][:3]
    if not subject:
        subject = [n for n in names if n not in question][:2]
    return f"{question.rstrip()} ({', '.join(subject)})" if subject else question

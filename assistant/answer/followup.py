"""Deterministic rewriting of a follow-up question into one that stands alone (no LLM).

"Who is Australia's prime minister?" answered with "Anthony Albanese, Australia's prime
minister, said ..." then "What did he say about China?" becomes "What did Anthony Albanese say
about China?". A person pronoun is replaced by the person of the previous answer described in
the words of the previous question, else the first person-like name of that turn (its answer
first, then its question). A follow-up that refers to something ("it", "that", "there"), or
names nothing of its own ("What weapons were used?"), carries the previous question's topic
along as extra keywords: its names and content words, without those the follow-up already has,
and without the previous question's actor when the follow-up names its own ("Why did Japan
attend the Madrid summit?", then "What did South Korea's president do there?": Madrid summit,
not Japan). A question for the news in general ("What's new?") stands alone.

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
# a capitalised word, or one behind a short particle ("al-Zawahiri", "el-Sisi")
_CAPWORD = r"(?:(?:[a-z]{1,3}-)?[A-Z][\w’'\-]*\.?|[A-Z]{2,})"
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


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# words of names that are not people ("United States", "Federal Reserve", "New York Times")
_NOT_PERSON = _words(
    """United States Kingdom Nations Union Republic Federal Reserve National European World House
    Senate Congress Court Department Ministry Party Council Bank Army Navy Police Force
    University College School Street Island Islands City County State North South East West New
    Times Post News Cup League Day Street Fire Service Agency Committee Commission Organization
    Association Company Group Media Press Tower Building Palace"""
)
# function words: not a topic ("What did they say about it?" has none)
_STOP = _words(
    """a an the of in on at to for from by with about as into over after before since than and or
    but if so not no nor is are was were be been being do does did done has have had having
    will would shall should can could may might must there here this that these those it its
    they them their he she him his her hers we us our you your i me my what who whom whose
    which where when why how much many more most some any all each other else also just only
    still now then very too new say said says tell told make made get got go went one two three
    week weeks year years day days time today yesterday recently happen happened happening this"""
)
_NEWS_IN_GENERAL = re.compile(
    r"^\W*(?:so\W+)?(?:what(?:'s|’s| is| are)?\s+(?:the\s+)?(?:new|latest|news|happening)"
    r"|any\s+news|what\s+happened(?:\s+(?:today|this\s+week|lately))?)\W*$",
    re.IGNORECASE,
)
_ACTOR = re.compile(
    r"^\W*(?:why|how|what|when|where|who|whom|which)?\s*(?:\w+\s+)?"
    r"(?:did|does|do|is|are|was|were|has|have|had|will|would|can|could|should)\s+"
    rf"((?:the\s+)?{_CAPWORD}(?:\s+{_CAPWORD})*)"
)
_CARRIED = re.compile(r"\s*\([^()]*\)\s*$")  # keywords a rewrite added: "... (Madrid)"
TOPIC_WORDS = 2  # words of the previous topic carried (docs/evaluation.md, "Follow-ups")


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
        possessive = "’s" in name or "'s" in name
        if (
            len(words) >= 2
            and all(w[0].isupper() for w in words)
            and not possessive
            and not any(w.strip(".") in _NOT_PERSON for w in words)
        ):
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
    """Whether the question leans on the conversation: it refers to something said before,
    starts by adding to it, is very short, or names nothing and asks about little."""
    if _NEWS_IN_GENERAL.match(question):
        return False
    words = re.findall(r"\w+", question)
    return bool(
        _PERSON.search(question)
        or _REFERENCE.search(question)
        or len(words) <= 3
        or re.match(r"\s*(and|also|what about|how about)\b", question, re.IGNORECASE)
        or (not entities(question) and len(_content_words(question)) <= 2)
    )


def _content_words(text: str) -> list[str]:
    """Words that carry a topic: not function or question words, three letters or more."""
    out: list[str] = []
    for word in re.findall(r"[A-Za-z][\w’'\-]*", text):
        bare = re.sub(r"(?:’s|'s)$", "", word)
        low = bare.lower()
        fresh = low not in (w.lower() for w in out)
        acronym = len(bare) >= 2 and bare.isupper()  # "US", "EU": never a function word
        usable = acronym or (len(bare) >= 3 and low not in _STOP and low not in _QUESTION_WORDS)
        if usable and fresh:
            out.append(bare)
    return out


def _topic(previous: str, question: str) -> list[str]:
    """The previous question's topic as keywords the follow-up lacks: its names first, then its
    other content words in order; its actor left out when the follow-up names someone or
    something itself."""
    bare = _CARRIED.sub("", previous)
    carried = _CARRIED.search(previous)
    names = entities(bare)
    skip = {w.lower() for w in _content_words(question)}
    actor = _ACTOR.match(bare)
    if actor and entities(question):
        names = [n for n in names if n not in entities(actor.group(1))]
        skip |= {w.lower() for w in _content_words(actor.group(1))}
    ordered = [*_content_words(" ".join(names)), *_content_words(bare)]
    if carried:
        ordered += _content_words(carried.group(0))
    return [w for w in _content_words(" ".join(ordered)) if w.lower() not in skip][:TOPIC_WORDS]


def rewrite(question: str, history: Sequence[Turn]) -> str:
    """The question made to stand alone, using the subject of the previous turns."""
    if not history or not is_followup(question):
        return question
    last = history[-1]
    names = entities(last.answer) + entities(last.standalone)
    # the person the previous question asked about by name, else the one its answer gives
    person = (
        _person(entities(_CARRIED.sub("", last.standalone)))
        or _asked_about(last)
        or _person(entities(last.answer.split(". ")[0]) + names)
    )
    match = _PERSON.search(question)
    if match and person:
        word = match.group(0).lower()
        replacement = f"{person}'s" if word in ("his", "hers") else person
        question = question[: match.start()] + replacement + question[match.end() :]
        if not _REFERENCE.search(question):
            return question  # the person was all it referred to
    topic = _topic(last.standalone, question)
    return f"{question.rstrip()} ({' '.join(topic)})" if topic else question

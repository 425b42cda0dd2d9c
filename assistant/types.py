"""The answer the assistant gives: `Answer`, its `Citation`s and its checked `AnswerSentence`s.

Frozen, typed, and serialisable to JSON (`Answer.to_dict()` / `Answer.to_json()`); the same
structure reaches the Python API, the CLI's `--json`, and the web page's `/ask` endpoint.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

Mode = Literal["extractive", "llm"]


@dataclass(frozen=True)
class Copy:
    """Another stored article carrying the same story: a syndicated copy folded into a
    citation (`Citation.also_in`)."""

    article_id: str
    title: str
    source: str
    url: str
    published: str


@dataclass(frozen=True)
class Citation:
    """Numbered evidence for an answer.

    `passage == article_text[start:end]` and `quote == article_text[quote_start:quote_end]`,
    offsets into the article text kept in the store; `quote` lies inside `passage`. `also_in`
    lists the other stored articles of the same story (other outlets' copies), which retrieval
    folded into this one.
    """

    n: int
    article_id: str
    title: str
    source: str
    url: str
    published: str
    passage: str
    start: int
    end: int
    quote: str
    quote_start: int
    quote_end: int
    score: float
    also_in: tuple[Copy, ...] = ()  # where else the story ran (folded near-duplicates)


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of the answer text, with the citations it carries after checking.

    `supported` is False when no cited or retrieved passage supports the sentence; such a
    sentence is shown as unsupported. `support` is the best support score found (0..1).
    """

    text: str
    citations: tuple[int, ...]
    supported: bool
    support: float


@dataclass(frozen=True)
class Answer:
    """A cited answer to one question.

    `answered` is False when the articles do not say; `text` then says so plainly and
    `citations` holds the closest passages found. `standalone_question` is the question as
    retrieved (a follow-up rewritten to stand alone). `notice` says why an answer is not what
    was asked for (the local model stopped, so this one is extractive); empty otherwise.
    """

    question: str
    text: str
    citations: tuple[Citation, ...]
    sentences: tuple[AnswerSentence, ...]
    mode: Mode
    answered: bool = True
    standalone_question: str = ""
    model: str = ""
    seconds: float = 0.0
    notice: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        """The answer `to_dict` gave (as JSON brings it back); ValueError naming the field
        when `data` is not one."""
        try:
            citations = tuple(
                Citation(**{**c, "also_in": tuple(Copy(**o) for o in c.get("also_in", ()))})
                for c in data["citations"]
            )
            sentences = tuple(
                AnswerSentence(**{**s, "citations": tuple(s["citations"])})
                for s in data["sentences"]
            )
            fields = {k: v for k, v in data.items() if k not in ("citations", "sentences")}
            return cls(citations=citations, sentences=sentences, **fields)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not an answer: {type(exc).__name__}: {exc}") from None

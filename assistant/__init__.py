"""The news assistant: questions in, short answers citing the exact sentences they came from.

    from assistant import Assistant
    assistant = Assistant.open(".assistant")
    answer = assistant.ask("Why did Japan attend the Madrid summit?")
    print(answer.text)
    for c in answer.citations:
        print(c.n, c.title, c.quote)

Names are imported on first use, so the command line starts quickly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import index  # noqa: F401  (sets the environment defaults before anything else loads)

if TYPE_CHECKING:
    from assistant.assistant import Assistant, Conversation
    from assistant.brief import Brief, Lead, Story, StoryArticle
    from assistant.coverage import Claim, Coverage, Difference, Exclusive, OutletArticles
    from assistant.errors import (
        LLMError,
        NewsAssistantError,
        PromptError,
        QuestionError,
        SettingsError,
        StoreError,
        StoreLockedError,
        StoreMismatchError,
    )
    from assistant.library import LibraryEntry, Removal
    from assistant.settings import Settings
    from assistant.timeline import Development, Timeline
    from assistant.types import Answer, AnswerSentence, Citation, Copy

_HOME = {
    "Assistant": "assistant.assistant",
    "Conversation": "assistant.assistant",
    "Answer": "assistant.types",
    "AnswerSentence": "assistant.types",
    "Citation": "assistant.types",
    "Copy": "assistant.types",
    "Brief": "assistant.brief",
    "Lead": "assistant.brief",
    "Story": "assistant.brief",
    "StoryArticle": "assistant.brief",
    "Claim": "assistant.coverage",
    "Coverage": "assistant.coverage",
    "Difference": "assistant.coverage",
    "Exclusive": "assistant.coverage",
    "OutletArticles": "assistant.coverage",
    "LibraryEntry": "assistant.library",
    "Development": "assistant.timeline",
    "Timeline": "assistant.timeline",
    "Removal": "assistant.library",
    "Settings": "assistant.settings",
    "LLMError": "assistant.errors",
    "NewsAssistantError": "assistant.errors",
    "PromptError": "assistant.errors",
    "QuestionError": "assistant.errors",
    "SettingsError": "assistant.errors",
    "StoreError": "assistant.errors",
    "StoreLockedError": "assistant.errors",
    "StoreMismatchError": "assistant.errors",
}

__all__ = [
    "Answer",
    "AnswerSentence",
    "Assistant",
    "Brief",
    "Citation",
    "Claim",
    "Conversation",
    "Copy",
    "Coverage",
    "Development",
    "Difference",
    "Exclusive",
    "LLMError",
    "Lead",
    "LibraryEntry",
    "NewsAssistantError",
    "OutletArticles",
    "PromptError",
    "QuestionError",
    "Removal",
    "Settings",
    "SettingsError",
    "StoreError",
    "StoreLockedError",
    "StoreMismatchError",
    "Story",
    "StoryArticle",
    "Timeline",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)

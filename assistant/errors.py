"""Every error the product reports, in one tree: import errors from here.

    NewsAssistantError            anything the user can fix; its message says how
    ├── StoreError                the store cannot be opened, read or written
    │   ├── StoreMismatchError    built with another embedding model or chunking: use --rebuild
    │   └── StoreLockedError      another process is writing to the store
    ├── ArticleError              one input file or record is unusable (names file and line)
    ├── SettingsError             a setting has an impossible value
    │   └── UsageError            a command-line option cannot be used as given (exit code 2)
    ├── QuestionError             the question is empty, too long, or has a bad filter
    ├── LLMError                  the LLM cannot be reached or refused (names URL and model)
    │   └── LocalModelStopped     the local model's process ended while answering
    └── PromptError               a prompt file has a missing or unknown placeholder

The index branches are defined in `index.errors` (the index does not depend on the assistant)
and re-exported here. Messages are one line: what happened, then what to check or change.
"""

from __future__ import annotations

from index import (
    ArticleError,
    NewsAssistantError,
    SettingsError,
    StoreError,
    StoreLockedError,
    StoreMismatchError,
)

__all__ = [
    "ArticleError",
    "LLMError",
    "LocalModelStopped",
    "NewsAssistantError",
    "PromptError",
    "QuestionError",
    "SettingsError",
    "StoreError",
    "StoreLockedError",
    "StoreMismatchError",
    "UsageError",
]


class UsageError(SettingsError):
    """A command-line option cannot be used as given; the command line exits with code 2."""


class QuestionError(NewsAssistantError):
    """The question cannot be asked as given: empty, too long, or with an unusable filter."""


class LLMError(NewsAssistantError):
    """The LLM is unreachable, timed out, refused the request, or does not serve the model."""


class LocalModelStopped(LLMError):
    """The process that runs the local GGUF model ended (a crash of the native runtime, or it
    was killed) while answering. The answer falls back to extractive; the next question starts
    the model again."""


class PromptError(NewsAssistantError):
    """A prompt file is missing, unreadable, or has a missing or unknown placeholder."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")

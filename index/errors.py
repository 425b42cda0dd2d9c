"""The error tree of the whole product, rooted here because everything builds on the index.

    NewsAssistantError            anything the user can fix; its message says how
    ├── StoreError                the store cannot be opened, read or written
    │   ├── StoreMismatchError    built with another embedding model or chunking: use --rebuild
    │   └── StoreLockedError      another process is writing to the store
    ├── ArticleError              one input file or record is unusable (names file and line)
    └── SettingsError             a setting has an impossible value

The assistant adds its own branches (question, LLM and prompt errors) in `assistant.errors`.
Per-file problems during a sync are not raised: they are collected as `FileError` values in the
`SyncReport`, so one bad file never stops the rest of a folder.
"""

from __future__ import annotations


class NewsAssistantError(Exception):
    """Base of every error the product reports to a user as a one-line message."""


class StoreError(NewsAssistantError):
    """The store cannot be opened, read or written."""


class StoreMismatchError(StoreError):
    """The store was built with other embedding or chunking settings than the ones in use."""


class StoreLockedError(StoreError):
    """Another process holds the store's write lock."""


class ArticleError(NewsAssistantError):
    """One input file or record cannot be turned into an article."""

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        self.path = path
        self.reason = reason
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


class SettingsError(NewsAssistantError):
    """A setting has a value the product cannot work with."""

"""The article index: files of news articles in, a searchable, always-consistent store out.

    from index import ArticleIndex
    idx = ArticleIndex.open(".assistant")
    report = idx.sync(["articles/"], prune=True)
    print(report.summary())

Names are imported on first use, so `import index` stays cheap for commands that need little.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from index.article_index import ArticleIndex
    from index.errors import (
        ArticleError,
        NewsAssistantError,
        SettingsError,
        StoreError,
        StoreLockedError,
        StoreMismatchError,
    )
    from index.records import ArticleRecord
    from index.settings import IndexSettings
    from index.types import Article, Chunk, FileError, Filters, Hit, IndexStats, SyncReport

_HOME = {
    "ArticleIndex": "index.article_index",
    "ArticleError": "index.errors",
    "NewsAssistantError": "index.errors",
    "SettingsError": "index.errors",
    "StoreError": "index.errors",
    "StoreLockedError": "index.errors",
    "StoreMismatchError": "index.errors",
    "ArticleRecord": "index.records",
    "IndexSettings": "index.settings",
    "Article": "index.types",
    "Chunk": "index.types",
    "FileError": "index.types",
    "Filters": "index.types",
    "Hit": "index.types",
    "IndexStats": "index.types",
    "SyncReport": "index.types",
}

__all__ = [
    "Article",
    "ArticleError",
    "ArticleIndex",
    "ArticleRecord",
    "Chunk",
    "FileError",
    "Filters",
    "Hit",
    "IndexSettings",
    "IndexStats",
    "NewsAssistantError",
    "SettingsError",
    "StoreError",
    "StoreLockedError",
    "StoreMismatchError",
    "SyncReport",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'index' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)

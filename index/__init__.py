"""The article index: files of news articles in, a searchable, always-consistent store out.

    from index import ArticleIndex
    idx = ArticleIndex.open(".assistant")
    report = idx.sync(["articles/"], prune=True)
    print(report.summary())
"""

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

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

from index.environment import apply_defaults

apply_defaults()  # before chromadb, gradio or transformers are imported

if TYPE_CHECKING:
    from index.article_index import ArticleIndex
    from index.atomic import write_atomically
    from index.embed.cluster import RayEmbedder, ray_embedder
    from index.embed.onnx import session_options
    from index.errors import (
        ArticleError,
        NewsAssistantError,
        SettingsError,
        StoreError,
        StoreLockedError,
        StoreMismatchError,
    )
    from index.settings import IndexSettings
    from index.sources.files import SUPPORTED_EXTENSIONS, read_fields_file, write_fields_file
    from index.sources.watch import Watcher, nice_interval, parse_interval
    from index.store.records import ArticleRecord
    from index.text import Tokenizer, split_sentences
    from index.types import (
        Article,
        ArticleInfo,
        Chunk,
        Duplicate,
        FileError,
        Filters,
        Hit,
        IndexStats,
        InfoFields,
        StoreCheck,
        SyncProgress,
        SyncReport,
    )

_HOME = {
    "ArticleIndex": "index.article_index",
    "ArticleError": "index.errors",
    "NewsAssistantError": "index.errors",
    "SettingsError": "index.errors",
    "StoreError": "index.errors",
    "StoreLockedError": "index.errors",
    "StoreMismatchError": "index.errors",
    "ArticleRecord": "index.store.records",
    "SUPPORTED_EXTENSIONS": "index.sources.files",
    "read_fields_file": "index.sources.files",
    "write_fields_file": "index.sources.files",
    "Tokenizer": "index.text",
    "split_sentences": "index.text",
    "write_atomically": "index.atomic",
    "IndexSettings": "index.settings",
    "Article": "index.types",
    "ArticleInfo": "index.types",
    "InfoFields": "index.types",
    "Chunk": "index.types",
    "Duplicate": "index.types",
    "FileError": "index.types",
    "Filters": "index.types",
    "Hit": "index.types",
    "IndexStats": "index.types",
    "StoreCheck": "index.types",
    "SyncProgress": "index.types",
    "SyncReport": "index.types",
    "RayEmbedder": "index.embed.cluster",
    "ray_embedder": "index.embed.cluster",
    "session_options": "index.embed.onnx",
    "Watcher": "index.sources.watch",
    "nice_interval": "index.sources.watch",
    "parse_interval": "index.sources.watch",
}

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "Article",
    "ArticleError",
    "ArticleIndex",
    "ArticleInfo",
    "ArticleRecord",
    "Chunk",
    "Duplicate",
    "FileError",
    "Filters",
    "Hit",
    "IndexSettings",
    "IndexStats",
    "InfoFields",
    "NewsAssistantError",
    "RayEmbedder",
    "SettingsError",
    "StoreCheck",
    "StoreError",
    "StoreLockedError",
    "StoreMismatchError",
    "SyncProgress",
    "SyncReport",
    "Tokenizer",
    "Watcher",
    "nice_interval",
    "parse_interval",
    "ray_embedder",
    "read_fields_file",
    "session_options",
    "split_sentences",
    "write_atomically",
    "write_fields_file",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'index' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)

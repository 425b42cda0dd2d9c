"""How articles and chunks are laid out as Chroma records, and read back.

One place decides the metadata keys, the chunk ids and the numeric date used by range filters,
so the writer (`index.writer`) and the readers (`index.store.reads`) cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from index.copies.exact import fingerprint
from index.types import Article, ArticleFields, ArticleInfo, Chunk, Filters

_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class ArticleRecord(ArticleFields):
    """What the store knows about an article without loading its text."""

    info: ArticleInfo
    chunks: int
    fingerprint: str = ""  # normalised title, date and text (index.copies.exact); "" if older

    @property
    def published_days(self) -> int | None:
        return date_days(self.info.published)


@functools.lru_cache(maxsize=8192)  # filters read every record's date on every query
def date_days(iso: str) -> int | None:
    """Days since 1970-01-01 of an ISO date, the numeric form Chroma range filters compare."""
    if not iso:
        return None
    try:
        return (dt.date.fromisoformat(iso[:10]) - _EPOCH).days
    except ValueError:
        return None


def chunk_id(article_id: str, content_hash: str, ordinal: int) -> str:
    return f"{article_key(article_id)}-{content_hash[:12]}-{ordinal:05d}"


@functools.lru_cache(maxsize=65536)
def article_key(article_id: str) -> str:
    """The prefix every chunk id of an article starts with (before its first "-")."""
    return hashlib.sha1(article_id.encode("utf-8")).hexdigest()[:16]


def _info_metadata(info: ArticleInfo) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "article_id": info.id,
        "content_hash": info.content_hash,
        "title": info.title,
        "source": info.source,
        "url": info.url,
        "published": info.published,
    }
    days = date_days(info.published)
    if days is not None:
        meta["published_days"] = days
    return meta


def article_metadata(article: Article, chunks: int) -> dict[str, Any]:
    return {
        **_info_metadata(article.info),
        "author": article.author,
        "path": article.path,
        "chunks": chunks,
        "fingerprint": fingerprint(article),
    }


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    """The chunk's position and its article's info, but for author and path (the record's)."""
    return {
        **_info_metadata(chunk.info),
        "ordinal": chunk.ordinal,
        "start": chunk.start,
        "end": chunk.end,
    }


def chunk_record(chunk: Chunk) -> dict[str, Any]:
    """A chunk's Chroma metadata: `chunk_metadata` plus the keys llama-index's `ChromaVectorStore`
    writes for a TextNode (`node_to_metadata_dict` with the text removed, metadata flat), so the
    store stays a llama-index vector store. Built here without loading llama-index; a test holds
    it equal to llama-index's own output."""
    meta = chunk_metadata(chunk)
    node: dict[str, Any] = {
        "id_": chunk.id,
        "embedding": None,
        "metadata": meta,
        "excluded_embed_metadata_keys": [],
        "excluded_llm_metadata_keys": [],
        "relationships": {
            "1": {  # NodeRelationship.SOURCE: the article
                "node_id": chunk.article_id,
                "node_type": None,
                "metadata": {},
                "hash": None,
                "class_name": "RelatedNodeInfo",
            }
        },
        "metadata_template": "{key}: {value}",
        "metadata_separator": "\n",
        "text": "",
        "mimetype": "text/plain",
        "start_char_idx": None,
        "end_char_idx": None,
        "text_template": "{metadata_str}\n\n{content}",
        "class_name": "TextNode",
    }
    return {
        **meta,
        "_node_content": json.dumps(node),
        "_node_type": "TextNode",
        "document_id": chunk.article_id,
        "doc_id": chunk.article_id,
        "ref_doc_id": chunk.article_id,
    }


def info_from_metadata(meta: dict[str, Any]) -> ArticleInfo:
    """The article info of an article's or a chunk's record (a chunk's has no author or path)."""
    return ArticleInfo(
        id=str(meta["article_id"]),
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        url=str(meta.get("url", "")),
        published=str(meta.get("published", "")),
        author=str(meta.get("author", "")),
        path=str(meta.get("path", "")),
        content_hash=str(meta.get("content_hash", "")),
    )


def record_from_metadata(meta: dict[str, Any]) -> ArticleRecord:
    return ArticleRecord(
        info_from_metadata(meta),
        chunks=int(meta.get("chunks", 0)),
        fingerprint=str(meta.get("fingerprint", "")),
    )


def chunk_from_metadata(chunk_id_: str, text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        id=chunk_id_,
        ordinal=int(meta["ordinal"]),
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=text,
        info=info_from_metadata(meta),
    )


def allowed_ids(records: Iterable[ArticleRecord], filters: Filters) -> set[str]:
    """The ids of the articles that pass the filters: the same rule as `chroma_where`."""
    sources = set(filters.sources)
    since = (filters.since - _EPOCH).days if filters.since is not None else None
    latest = (filters.latest - _EPOCH).days if filters.latest is not None else None
    out = set()
    for r in records:
        if sources and r.source not in sources:
            continue
        if since is not None or latest is not None:
            days = r.published_days
            if days is None or (since is not None and days < since):
                continue
            if latest is not None and days > latest:
                continue
        out.add(r.id)
    return out


def chroma_where(filters: Filters) -> dict[str, Any] | None:
    """The Chroma `where` clause of the filters; values are typed, never spliced into strings."""
    clauses: list[dict[str, Any]] = []
    if filters.sources:
        clauses.append({"source": {"$in": [str(s) for s in filters.sources]}})
    if filters.since is not None:
        clauses.append({"published_days": {"$gte": (filters.since - _EPOCH).days}})
    if filters.latest is not None:
        clauses.append({"published_days": {"$lte": (filters.latest - _EPOCH).days}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}

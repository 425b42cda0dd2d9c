"""`Passage`: a stretch of one stored article found by retrieval, ready to be quoted.

Overlapping or adjacent chunks of the same article are merged into one passage, so the reader
never sees the same text twice. `text == article_text[start:end]` always holds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Passage:
    article_id: str
    title: str
    source: str
    url: str
    published: str
    start: int
    end: int
    text: str
    score: float  # fused retrieval score; higher is better
    chunk_ids: tuple[str, ...] = ()
    rank: int = 0  # 1-based rank among the retrieved passages

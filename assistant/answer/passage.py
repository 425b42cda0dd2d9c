"""`Passage`: a stretch of one stored article found by retrieval, ready to be quoted.

Overlapping or adjacent chunks of the same article are merged into one passage, so the reader
never sees the same text twice. `text == article_text[start:end]` always holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.types import Citation, Copy
from index import ArticleInfo, InfoFields


@dataclass(frozen=True)
class Passage(InfoFields):
    info: ArticleInfo  # the article's, as its chunks carry it
    start: int
    end: int
    text: str
    score: float  # fused retrieval score; higher is better
    chunk_ids: tuple[str, ...] = ()
    rank: int = 0  # 1-based rank among the retrieved passages
    also_in: tuple[Copy, ...] = ()  # the story's other stored copies, folded into this one

    @property
    def article_id(self) -> str:
        return self.info.id

    def cite(self, n: int, quote_start: int, quote_end: int, score: float) -> Citation:
        """Citation `n` of this passage, quoting the article text between the absolute offsets
        `quote_start` and `quote_end` (inside the passage)."""
        return Citation(
            n=n,
            article_id=self.article_id,
            title=self.title,
            source=self.source,
            url=self.url,
            published=self.published,
            passage=self.text,
            start=self.start,
            end=self.end,
            quote=self.text[quote_start - self.start : quote_end - self.start],
            quote_start=quote_start,
            quote_end=quote_end,
            score=score,
            also_in=self.also_in,
        )

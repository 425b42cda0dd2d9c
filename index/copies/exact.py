"""Exact copies: the same article text under another file name, URL or upload is stored once.

An article's fingerprint is a hash of its title, publication date and text normalised (Unicode
NFKC, case folded, words only: whitespace, punctuation and line breaks do not count), kept in its
record: the same article saved twice, not two articles that share a scraped boilerplate body. A sync stores an
article whose fingerprint another stored (or earlier) article already has as nothing: the report
names it "duplicate of ID". Near-duplicates (a story lightly edited by another outlet) are not
copies: they are folded at query time (`index.copies.near_dup`).

Not here: the sync that applies it (`index.sync`), the record layout (`index.store.records`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator

from index.types import Article, Duplicate

_WORDS = re.compile(r"\w+")


def fingerprint(article: Article) -> str:
    """The hash of the article's title, publication date and text, normalised: equal for
    articles that differ only in case, spacing or punctuation ('' for a text without words)."""
    words = _WORDS.findall(unicodedata.normalize("NFKC", article.text).casefold())
    if not words:
        return ""
    title = _WORDS.findall(unicodedata.normalize("NFKC", article.title).casefold())
    key = "\n".join((" ".join(title), article.published[:10], " ".join(words)))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def split_copies(
    articles: Iterable[Article], stored: dict[str, str]
) -> Iterator[Article | Duplicate]:
    """Each article, or a `Duplicate` when its text is already stored under another id.

    `stored` maps the fingerprints of the articles that stay in the store to their ids; the
    articles passed in are added to it as they go, so of two copies in one sync the first is kept.
    """
    for article in articles:
        key = fingerprint(article)
        original = stored.get(key) if key else None
        if original is not None and original != article.id:
            yield Duplicate(article.id, article.path or article.url or article.id, original)
            continue
        if key:
            stored[key] = article.id
        yield article

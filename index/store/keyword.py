"""BM25 keyword search over chunks, kept in memory and in step with the vector store.

Chunks are added and removed per article; the sparse score matrix is rebuilt lazily on the next
search, which takes well under a second for tens of thousands of chunks. The whole state can be
saved to and loaded from one file: it is a cache, always rebuildable from the chunks in Chroma,
and tagged with the store generation it reflects.

Not here: dense search, fusion, filtering by anything but a row mask (the caller builds it).
"""

from __future__ import annotations

import pickle
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from index.atomic import write_atomically
from index.text import Tokenizer

_K1 = 1.2
_B = 0.75
_FORMAT = 3  # flat arrays: one load for the whole corpus instead of two arrays per chunk


@dataclass
class _Row:
    chunk_id: str
    article_id: str
    terms: np.ndarray  # int32 term ids
    counts: np.ndarray  # float32 term frequencies
    length: int


@dataclass
class KeywordIndex:
    """BM25 over chunks, addressable by article. `generation` tags the store state it mirrors."""

    generation: int = -1
    hashes: dict[str, str] = field(default_factory=dict)  # article_id -> content hash indexed
    _vocab: dict[str, int] = field(default_factory=dict)
    _rows: dict[str, list[_Row]] = field(default_factory=dict)  # article_id -> its chunk rows
    _matrix: sparse.csc_matrix | None = None
    _row_ids: list[str] = field(default_factory=list)
    _row_articles: list[str] = field(default_factory=list)
    _article_numbers: dict[str, int] = field(default_factory=dict)  # article_id -> number
    _row_article_numbers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    _tokenizer: Tokenizer = field(default_factory=Tokenizer)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._rows.values())

    def set_article(
        self, article_id: str, content_hash: str, chunks: Iterable[tuple[str, str]]
    ) -> None:
        """Replace the chunks of one article by `(chunk_id, text)` pairs."""
        with self._lock:
            self._set_article(article_id, content_hash, chunks)

    def _set_article(
        self, article_id: str, content_hash: str, chunks: Iterable[tuple[str, str]]
    ) -> None:
        rows = []
        for chunk_id, text in chunks:
            counts = Counter(self._term_id(t) for t in self._tokenizer(text))
            terms = np.fromiter(counts.keys(), dtype=np.int32, count=len(counts))
            tfs = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
            rows.append(_Row(chunk_id, article_id, terms, tfs, int(tfs.sum())))
        self._rows[article_id] = rows
        self.hashes[article_id] = content_hash
        self._matrix = None

    def chunk_ids(self) -> set[str]:
        """The ids of every chunk indexed."""
        with self._lock:
            return {r.chunk_id for rows in self._rows.values() for r in rows}

    def remove_article(self, article_id: str) -> None:
        with self._lock:
            if self._rows.pop(article_id, None) is not None:
                self._matrix = None
            self.hashes.pop(article_id, None)

    def search(
        self, query: str, k: int, allowed_articles: set[str] | None = None
    ) -> list[tuple[str, str, float]]:
        """Best `k` chunks as `(chunk_id, article_id, score)`, restricted to `allowed_articles`."""
        with self._lock:  # a consistent snapshot; scoring runs outside the lock
            terms = [self._vocab[t] for t in set(self._tokenizer(query)) if t in self._vocab]
            if not terms or not self._rows:
                return []
            matrix = self._ensure_matrix()
            row_ids, row_articles = self._row_ids, self._row_articles
            article_of_row, article_number = self._row_article_numbers, self._article_numbers
        scores = np.asarray(matrix[:, terms].sum(axis=1)).ravel()
        if allowed_articles is not None:
            keep = np.zeros(len(article_number), dtype=bool)
            keep[[article_number[a] for a in allowed_articles if a in article_number]] = True
            scores = np.where(keep[article_of_row], scores, 0.0)
        top = _top_indices(scores, k)
        return [(row_ids[i], row_articles[i], float(scores[i])) for i in top]

    def save(self, path: Path) -> None:
        """Write the index atomically (temp file, then rename), its rows as flat arrays."""
        with self._lock:
            articles = list(self._rows)
            rows = [r for a in articles for r in self._rows[a]]
            state = {
                "format": _FORMAT,
                "generation": self.generation,
                "hashes": dict(self.hashes),
                "vocab": dict(self._vocab),
                "articles": articles,
                "rows_per_article": np.array([len(self._rows[a]) for a in articles], np.int64),
                "chunk_ids": [r.chunk_id for r in rows],
                "lengths": np.array([r.length for r in rows], np.int64),
                "sizes": np.array([len(r.terms) for r in rows], np.int64),
                "terms": _concat([r.terms for r in rows], np.int32),
                "counts": _concat([r.counts for r in rows], np.float32),
            }
        write_atomically(path, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))

    @classmethod
    def load(cls, path: Path) -> KeywordIndex | None:
        """The saved index, or None when absent, unreadable or of another format (then rebuilt)."""
        try:
            with path.open("rb") as fh:
                state = pickle.load(fh)
            if not isinstance(state, dict) or state.get("format") != _FORMAT:
                return None
            terms, counts = state["terms"], state["counts"]
            bounds = [0, *np.cumsum(state["sizes"]).tolist()]
            owners = [
                article_id
                for article_id, n in zip(
                    state["articles"], state["rows_per_article"].tolist(), strict=True
                )
                for _ in range(n)
            ]
            rows: dict[str, list[_Row]] = {a: [] for a in state["articles"]}
            for i, (chunk_id, owner, length) in enumerate(
                zip(state["chunk_ids"], owners, state["lengths"].tolist(), strict=True)
            ):
                start, end = bounds[i], bounds[i + 1]
                rows[owner].append(
                    _Row(chunk_id, owner, terms[start:end], counts[start:end], length)
                )
            return cls(
                generation=state["generation"],
                hashes=state["hashes"],
                _vocab=state["vocab"],
                _rows=rows,
            )
        except (OSError, EOFError, pickle.UnpicklingError, LookupError, AttributeError, TypeError):
            return None
        except ValueError:  # rows that do not add up: a damaged file
            return None

    def _term_id(self, term: str) -> int:
        tid = self._vocab.get(term)
        if tid is None:
            tid = self._vocab[term] = len(self._vocab)
        return tid

    def _ensure_matrix(self) -> sparse.csc_matrix:
        if self._matrix is not None:
            return self._matrix
        rows = [r for article_rows in self._rows.values() for r in article_rows]
        row_ids = [r.chunk_id for r in rows]
        row_articles = [r.article_id for r in rows]
        lengths = np.array([r.length for r in rows], dtype=np.float32)
        avgdl = float(lengths.mean()) if len(rows) else 1.0
        sizes = np.array([len(r.terms) for r in rows], dtype=np.int64)
        row_index = np.repeat(np.arange(len(rows)), sizes)
        cols = np.concatenate([r.terms for r in rows]) if rows else np.zeros(0, np.int32)
        tfs = np.concatenate([r.counts for r in rows]) if rows else np.zeros(0, np.float32)
        df = np.bincount(cols, minlength=len(self._vocab)).astype(np.float32)
        idf = np.log1p((len(rows) - df + 0.5) / (df + 0.5))
        norm = _K1 * (1 - _B + _B * lengths[row_index] / avgdl)
        weights = idf[cols] * tfs * (_K1 + 1) / (tfs + norm)
        self._matrix = sparse.csc_matrix(
            (weights, (row_index, cols)), shape=(len(rows), len(self._vocab))
        )
        self._row_ids, self._row_articles = row_ids, row_articles
        self._article_numbers = {a: i for i, a in enumerate(dict.fromkeys(row_articles))}
        self._row_article_numbers = np.array(
            [self._article_numbers[a] for a in row_articles], dtype=np.int64
        )
        return self._matrix


def _concat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)


def _top_indices(scores: np.ndarray, k: int) -> list[int]:
    positive = np.flatnonzero(scores > 0)
    if len(positive) == 0:
        return []
    if len(positive) > k:
        part = np.argpartition(-scores[positive], k - 1)[:k]
        positive = positive[part]
    return sorted(positive.tolist(), key=lambda i: -scores[i])

"""The store's syndicated copies: near-duplicate groups kept in step with its article records.

`StoreCopies` keeps an `index.copies.near_dup.CopyFinder` over the stored articles in two files beside
the keyword index: the signatures (`copies-NAME.npz`) and the content hash each was made from
(`copies-NAME.json`, written second, so a crash between them only costs recomputing). `update`
brings it in line with the records: articles gone are removed, new and changed ones signed from
their stored text. The writer updates it at the end of each sync (the cost is paid while
indexing); a reader that finds it behind the store updates it on first use.

Not here: finding the groups (`index.copies.near_dup`), folding search results (`assistant.answer.retrieve`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from index.atomic import write_atomically
from index.copies.near_dup import CopyFinder
from index.store.records import ArticleRecord

Texts = Callable[[Sequence[str]], Mapping[str, str]]  # article ids -> their stored texts
_BATCH = 200  # articles whose texts are read from the store at once


class StoreCopies:
    """Near-duplicate groups of one store's articles, saved beside it."""

    def __init__(self, folder: Path, collection: str, threshold: float) -> None:
        self.signatures = folder / f"copies-{collection}.npz"
        self.hashes_file = folder / f"copies-{collection}.json"
        self.threshold = threshold
        self.generation = -1  # of the store when last brought in line
        self._finder: CopyFinder | None = None
        self._hashes: dict[str, str] = {}
        self._lock = threading.Lock()

    def group(self, article_id: str) -> str:
        """The id that stands for the article's group (itself when it has no copies)."""
        return self._finder.group(article_id) if self._finder is not None else article_id

    def copies(self, article_id: str) -> tuple[str, ...]:
        """The other articles of its group, sorted; () when it has none."""
        return self._finder.copies(article_id) if self._finder is not None else ()

    def groups(self) -> list[tuple[str, ...]]:
        return self._finder.groups() if self._finder is not None else []

    def update(
        self, records: Mapping[str, ArticleRecord], texts: Texts, generation: int, save: bool
    ) -> None:
        """Bring the groups in line with `records` (the store at `generation`)."""
        with self._lock:
            if generation == self.generation and self._finder is not None:
                return
            if self._finder is None:
                self._finder, self._hashes = self._load()
            finder, hashes = self._finder, self._hashes
            gone = [a for a in hashes if a not in records]
            stale = [r.id for r in records.values() if hashes.get(r.id) != r.content_hash]
            for article_id in gone:
                finder.remove(article_id)
                hashes.pop(article_id, None)
            for start in range(0, len(stale), _BATCH):
                part = stale[start : start + _BATCH]
                found = texts(part)
                for article_id in part:
                    if article_id in found:
                        finder.add(article_id, found[article_id])
                        hashes[article_id] = records[article_id].content_hash
            self.generation = generation
            if save and (gone or stale):
                self._save()

    def _load(self) -> tuple[CopyFinder, dict[str, str]]:
        finder = CopyFinder.load(self.signatures, self.threshold)
        try:
            hashes = json.loads(self.hashes_file.read_text(encoding="utf-8"))["hashes"]
        except (OSError, ValueError, KeyError, TypeError):
            hashes = None
        if finder is None or not isinstance(hashes, dict) or set(hashes) != finder.ids():
            return CopyFinder(self.threshold), {}  # rebuilt from the texts
        return finder, {str(k): str(v) for k, v in hashes.items()}

    def _save(self) -> None:
        assert self._finder is not None
        try:
            self._finder.save(self.signatures)  # first: hashes never claim unsaved signatures
            body = json.dumps({"hashes": self._hashes}, sort_keys=True).encode("utf-8")
            write_atomically(self.hashes_file, body)
        except OSError:
            pass  # a cache: a read-only folder only costs recomputing on the next start

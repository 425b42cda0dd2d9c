"""Which article files are unchanged since the last sync, known from `stat` alone.

A file is not read again when its size, modification time, change time and inode are those of
the last sync that read it without error, under the same root, and every article it held then
is still stored with the same content hash. Its articles then count as unchanged. Anything else
(a new, edited, touched or replaced file, a file that had errors, a store changed by other
means, a missing or damaged cache file) is parsed as before. The file is a cache, never the
truth: deleting it costs one full parse.

Not here: parsing (`index.sources.files`), deciding what to embed (`index.sync`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from pathlib import Path

from index.atomic import write_atomically
from index.sources.files import fields_file
from index.store.records import ArticleRecord

_FORMAT = 1


def signature(path: Path) -> list[int] | None:
    """Size, modification and change times (ns) and inode of `path`, and the same of its
    fields file when it has one (a changed outlet or date is a changed file); None if it
    cannot be read."""
    try:
        info = path.stat()
    except OSError:
        return None
    sig = [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]
    try:
        beside = fields_file(path).stat()
    except OSError:
        return sig
    return [*sig, beside.st_size, beside.st_mtime_ns, beside.st_ctime_ns, beside.st_ino]


class FileCache:
    """The last sync's clean files: `root + file` -> their stat signature and article hashes."""

    def __init__(self, location: Path, entries: dict[str, dict[str, object]]) -> None:
        self.location = location
        self._old = entries
        self._new: dict[str, dict[str, object]] = {}

    @classmethod
    def load(cls, location: Path) -> FileCache:
        """The saved cache, or an empty one when absent, unreadable or of another format."""
        try:
            state = json.loads(location.read_text(encoding="utf-8"))
            if isinstance(state, dict) and state.get("format") == _FORMAT:
                entries = state.get("files")
                if isinstance(entries, dict):
                    return cls(location, entries)
        except (OSError, ValueError):
            pass
        return cls(location, {})

    def unchanged(
        self, root: Path, path: Path, sig: list[int] | None, records: Mapping[str, ArticleRecord]
    ) -> dict[str, str] | None:
        """The articles (`id -> content hash`) of an unchanged, fully stored file, else None."""
        entry = self._old.get(_key(root, path))
        if sig is None or entry is None or entry.get("stat") != sig:
            return None
        articles = entry.get("articles")
        if not isinstance(articles, dict) or not articles:
            return None
        for article_id, content_hash in articles.items():
            record = records.get(article_id)
            if record is None or record.content_hash != content_hash:
                return None
        self._new[_key(root, path)] = entry
        return dict(articles)

    def remember(self, root: Path, path: Path, sig: list[int], articles: dict[str, str]) -> None:
        """Record a file read without error, with the articles it holds."""
        if articles:
            self._new[_key(root, path)] = {"stat": sig, "articles": articles}

    def save(self, roots: list[Path]) -> None:
        """Write the files seen in this sync under `roots`, keeping the entries of other roots
        (atomically); a failure only costs a parse later."""
        synced = {str(r.absolute()) for r in roots}
        kept = {k: v for k, v in self._old.items() if k.split("\n", 1)[0] not in synced}
        files = {**kept, **self._new}
        with contextlib.suppress(OSError):
            write_atomically(
                self.location, json.dumps({"format": _FORMAT, "files": files}).encode("utf-8")
            )


def _key(root: Path, path: Path) -> str:
    return f"{root.absolute()}\n{path.absolute()}"

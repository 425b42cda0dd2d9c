"""`Folders`: the articles of files and folders, as a `Source` of the sync.

Files unchanged since the last sync (by `stat`, see `index.sources.filecache`) are not read
again; the cache is saved only once every article it lists is stored. An article id given by two
files is an error naming both; pruning removes the articles of files under the roots that are
gone, never those of a file that failed to read this time.

Not here: finding and parsing the files (`index.sources.files`), the sync (`index.sync`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from index.sources.filecache import FileCache, signature
from index.sources.files import discover, parse_file
from index.sources.source import Item, Reading, Unchanged
from index.types import FileError, SyncProgress


class Folders:
    """The files and folders `roots`; their file cache kept in `folder` (None: read them all)."""

    def __init__(self, roots: list[Path], max_bytes: int, folder: Path | None, name: str) -> None:
        self.roots = roots
        self.max_bytes = max_bytes
        self.cache = None if folder is None else FileCache.load(folder / f"files-{name}.json")
        self._files: list[tuple[Path, Path]] = []
        self._failed: set[str] = set()  # resolved paths of files that gave an error
        self._clean: list[tuple[Path, Path, Any, dict[str, str]]] = []

    def read(self, reading: Reading) -> Iterator[Item]:
        files, errors = discover(self.roots)
        self._files = files
        yield from errors
        seen = reading.seen
        for n, (root, path) in enumerate(files):
            reading.progress(SyncProgress("reading", n, len(files), "files"))
            sig = signature(path)
            cache = self.cache
            known = None if cache is None else cache.unchanged(root, path, sig, reading.records)
            if known is not None and not seen.keys() & known.keys():
                seen.update(dict.fromkeys(known, str(path)))
                yield Unchanged(str(path), tuple(known.items()))
                continue
            clean: dict[str, str] | None = {}  # the file's articles, None once it had an error
            for item in parse_file(path, root, self.max_bytes):
                if isinstance(item, FileError):
                    self._failed.add(str(path.resolve()))
                    clean = None
                    yield item
                    continue
                if item.id in seen:
                    clean = None
                    yield FileError(
                        str(path),
                        f"duplicate article id {item.id!r}, first seen in {seen[item.id]}; "
                        "give each article its own id",
                    )
                    continue
                seen[item.id] = str(path)
                if clean is not None:
                    clean[item.id] = item.content_hash
                yield item
            if cache is not None and clean and sig is not None:
                self._clean.append((root, path, sig, clean))
        reading.progress(SyncProgress("reading", len(files), len(files), "files"))

    def gone(self, reading: Reading) -> list[str]:
        roots = [p.resolve() for p in self.roots]
        gone = []
        for record in reading.records.values():
            if record.id in reading.seen or not record.path or record.path in self._failed:
                continue
            src = Path(record.path)
            if any(src == r or r in src.parents for r in roots):
                gone.append(record.id)
        return gone

    def commit(self, copies: set[str]) -> None:
        if self.cache is None:
            return
        for root, path, sig, clean in self._clean:
            if str(path.resolve()) not in copies:
                self.cache.remember(root, path, sig, clean)
        synced = [root for root, _ in self._files] + [p for p in self.roots if p.is_dir()]
        self.cache.save(synced)

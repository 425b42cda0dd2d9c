"""The article library: what the store holds, listed and searched, and articles removed from it.

One place for the command line (`assistant articles`, `assistant remove`), the page's Library
tab, the HTTP API (`/articles`, `/remove_articles`) and the Python API (`Assistant.articles`,
`Assistant.remove`). A removal checks the store afterwards and says where a removed article
would come back from: an uploaded file whose last article went is deleted with it; a file in an
indexed folder is left alone (it is the user's), and is named so it can be moved away.

Not here: reading one article with its cited sentences (`assistant.web.render.article_html`),
the store's own removal (`index.ArticleIndex.remove`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from index import ArticleIndex, write_fields_file


@dataclass(frozen=True)
class LibraryEntry:
    """One stored article as the library lists it (no text)."""

    id: str
    title: str
    source: str
    published: str  # ISO date or "" when unknown
    url: str
    chunks: int
    path: str = ""  # the file it was read from, "" for a page or feed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Removal:
    """What `remove` did: the articles removed, the ids not in the store, the uploaded files
    deleted with their last article, the files left in indexed folders (the next index of the
    folder adds their articles back), and the store's check afterwards."""

    removed: tuple[LibraryEntry, ...]
    unknown: tuple[str, ...] = ()
    deleted_files: tuple[str, ...] = ()
    kept_files: tuple[str, ...] = ()
    consistent: bool = True
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "removed": [e.to_dict() for e in self.removed],
            "unknown": list(self.unknown),
            "deleted_files": list(self.deleted_files),
            "kept_files": list(self.kept_files),
            "consistent": self.consistent,
            "problems": list(self.problems),
        }

    def summary(self, names: bool = False) -> list[str]:
        """Lines for a reader; `names` shows files by name only (the page shows no paths)."""

        def shown(path: str) -> str:
            return Path(path).name if names else path

        lines = []
        for e in self.removed:
            title = e.title or e.id
            lines.append(f"removed {e.id} ({title}, {e.chunks} chunks)")
        lines += [
            f"not in the store: {i} (`assistant articles` lists the ids)" for i in self.unknown
        ]
        lines += [f"deleted the uploaded file {shown(p)}" for p in self.deleted_files]
        lines += [
            f"its file {shown(p)} is still in an indexed folder: the next re-index adds it back "
            "unless the file is moved or deleted"
            for p in self.kept_files
        ]
        if self.removed:
            lines.append(
                "store checked: consistent"
                if self.consistent
                else "store checked: " + "; ".join(self.problems)
            )
        return lines


def entries(
    index: ArticleIndex,
    search: str = "",
    sources: Iterable[str] = (),
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[LibraryEntry]:
    """The stored articles, newest first (undated last), those whose title, outlet, URL or id
    hold every word of `search` (any case), from one of `sources` (none: all), published within
    [`since`, `until`] (an undated article is kept only when no date is asked)."""
    words = search.casefold().split()
    wanted = set(sources)
    out = []
    for record in index.records().values():
        info = record.info
        if wanted and info.source not in wanted:
            continue
        day = info.published[:10]
        if (since or until) and not day:
            continue
        if (since and day < since.isoformat()) or (until and day > until.isoformat()):
            continue
        haystack = f"{info.title} {info.source} {info.url} {info.id}".casefold()
        if any(w not in haystack for w in words):
            continue
        out.append(
            LibraryEntry(
                info.id, info.title, info.source, day, info.url, record.chunks, info.path or ""
            )
        )
    out.sort(key=lambda e: e.title.casefold())
    out.sort(key=lambda e: e.published, reverse=True)
    return out


def entry(index: ArticleIndex, article_id: str) -> LibraryEntry | None:
    """One stored article's entry, None when the store does not hold it."""
    record = index.records().get(article_id)
    if record is None:
        return None
    info = record.info
    return LibraryEntry(
        info.id,
        info.title,
        info.source,
        info.published[:10],
        info.url,
        record.chunks,
        info.path or "",
    )


def remove(index: ArticleIndex, ids: Sequence[str], uploads: Path | None = None) -> Removal:
    """Remove the articles `ids` (and all their chunks), then check the store.

    An id not in the store is reported, never an error for the others. A file under `uploads`
    (the page's upload folder) is deleted once no stored article comes from it, so a re-index
    does not bring the article back; any other file is the user's and stays.
    """
    records = index.records()
    wanted = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
    known = [i for i in wanted if i in records]
    unknown = tuple(i for i in wanted if i not in records)
    found = [e for e in (entry(index, i) for i in known) if e is not None]
    found.sort(key=lambda e: e.title.casefold())
    found.sort(key=lambda e: e.published, reverse=True)  # as `entries` lists them
    removed = tuple(found)
    if not known:
        return Removal((), unknown)
    index.remove(known)
    left = {r.path for r in index.records().values() if r.path}
    upload_root = uploads.resolve() if uploads is not None else None
    deleted, kept = [], []
    for path in sorted({e.path for e in removed if e.path}):
        file = Path(path)
        uploaded = upload_root is not None and upload_root in file.resolve().parents
        if uploaded and path not in left:
            file.unlink(missing_ok=True)
            write_fields_file(file, "", "")  # the outlet and date it was uploaded with
            deleted.append(path)
        elif file.exists():
            kept.append(path)
    check = index.check()
    return Removal(
        removed,
        unknown,
        tuple(deleted),
        tuple(kept),
        check.consistent,
        tuple(check.problems()) if not check.consistent else (),
    )

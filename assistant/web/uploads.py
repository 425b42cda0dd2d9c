"""Files a reader uploads on the page: checked, saved under safe names, then settled after a sync.

`save_uploads` copies each acceptable upload into the uploads folder (a plain base name, an
article file type, under the size limit; the same file twice is kept once) and says what became
of every file; `settle` then puts each indexing error on the upload it belongs to and deletes
uploads nothing could be read from. The browser's files arrive in the store's own `STORE/.incoming`
folder (`incoming_folder`, Gradio's upload folder), which no route serves, and are deleted
(`discard`) as soon as they are copied. Files are written whole or not at all
(`index.write_atomically`), so a sync never reads half an upload. Not here: the sync itself and
the report's HTML (`assistant.web.app`, `assistant.web.render`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from assistant.errors import NewsAssistantError, QuestionError
from index import SUPPORTED_EXTENSIONS, SyncReport, write_atomically, write_fields_file

ACCEPTED = sorted(SUPPORTED_EXTENSIONS)
INCOMING = ".incoming"  # under the store: where Gradio writes uploads before the handler runs
STALE_SECONDS = 3600.0  # an upload no handler took (a dropped request) is removed after this
_UNSAFE = re.compile(r"[^\w.\- ()]+")
Status = Literal["indexed", "rejected", "failed", "duplicate"]


@dataclass(frozen=True)
class Upload:
    """What became of one uploaded file; `path` is where it was saved, if it was."""

    name: str  # as the browser sent it
    status: Status
    reason: str = ""
    path: Path | None = None

    def to_dict(self) -> dict[str, str]:
        """The file's line of an upload report (`saved_as` relative to the store)."""
        out = {"name": self.name, "status": self.status, "reason": self.reason}
        if self.path is not None:
            out["saved_as"] = f"uploads/{self.path.name}"
        return out


def safe_name(name: str) -> str:
    """A file name safe to create in the uploads folder: no folders, no '..', no hidden files."""
    base = PurePosixPath(str(name).replace("\\", "/")).name
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE.sub("_", base).strip(" ._")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = stem.strip(" ._")[:100] or "upload"
    return f"{stem}.{ext.lower()}" if ext else stem


def save_uploads(
    files: Sequence[Any], folder: Path, limit: int, source: str = "", published: str = ""
) -> list[Upload]:
    """Copy acceptable uploads into `folder`: one `Upload` per file, in order.

    `files` are Gradio file payloads (dicts with the cached `path` and the `orig_name` the
    browser sent) or plain paths; `limit` is the largest size accepted, in bytes. `source` and
    `published` (YYYY-MM-DD) are given to the articles of each saved file that lack an outlet or
    a date of their own (its fields file, `index.write_fields_file`).
    """
    uploads: list[Upload] = []
    for item in files:
        temp = Path(item["path"] if isinstance(item, dict) else str(item))
        given = str((item.get("orig_name") if isinstance(item, dict) else None) or temp.name)
        upload = _save(temp, given, folder, limit, {u.path.name for u in uploads if u.path})
        if upload.path is not None:
            write_fields_file(upload.path, source, published)
        uploads.append(upload)
    return uploads


def upload_fields(source: str | None, published: str | None, today: dt.date) -> tuple[str, str]:
    """The outlet and date uploads get where they carry none: as the reader gave them (an empty
    date is the day of the upload), or QuestionError naming what to fix."""
    outlet = " ".join((source or "").split())
    if len(outlet) > 100:
        raise QuestionError(f"the outlet {outlet[:40]!r}… is longer than 100 characters")
    day = (published or "").strip()
    if not day:
        return outlet, today.isoformat()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
            raise ValueError(day)
        return outlet, dt.date.fromisoformat(day).isoformat()
    except ValueError:
        raise QuestionError(
            f"the upload date {day[:40]!r} is not a date: use YYYY-MM-DD, or leave it empty "
            "for today"
        ) from None


def _save(temp: Path, given: str, folder: Path, limit: int, taken: set[str]) -> Upload:
    name = safe_name(given)
    size = temp.stat().st_size if temp.is_file() else -1
    if Path(name).suffix.lower() not in SUPPORTED_EXTENSIONS:
        return Upload(
            given, "rejected", f"not an article file type; accepted: {' '.join(ACCEPTED)}"
        )
    if size < 0:
        return Upload(given, "rejected", "the upload did not arrive; try again")
    if size > limit:
        return Upload(
            given,
            "rejected",
            f"{size / 1048576:.2f} MB is over the {limit / 1048576:g} MB limit "
            "(setting ASSISTANT_WEB__MAX_UPLOAD_MB)",
        )
    target, new = _place(temp, folder, name, taken)
    # a file already there is synced again too: cheap when indexed, needed when not
    reason = "" if new else f"the same file as uploads/{target.name}, kept once"
    return Upload(given, "indexed", reason, target)


def _place(temp: Path, folder: Path, name: str, taken: set[str]) -> tuple[Path, bool]:
    """Copy `temp` to `folder/name` (or `name-2` … when that name holds another file).

    Returns the path and whether a file was written (False: the same file was already there).
    """
    folder.mkdir(parents=True, exist_ok=True)
    stem, ext = Path(name).stem, Path(name).suffix
    data = temp.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    for n in range(1, 10_000):
        target = folder / (name if n == 1 else f"{stem}-{n}{ext}")
        if target.name in taken:
            continue
        if not target.exists():
            break
        if hashlib.sha256(target.read_bytes()).hexdigest() == digest:
            return target, False
    if target.resolve().parent != folder.resolve():
        raise NewsAssistantError(f"refusing to write the upload {name!r} outside {folder}")
    write_atomically(target, data)
    return target, True


def settle(
    uploads: Sequence[Upload], report: SyncReport, stored: set[str]
) -> tuple[list[Upload], list[str]]:
    """The uploads with the sync's errors attached, and the errors of no upload.

    `stored` holds the resolved paths of the files the index now has articles from. An upload
    with errors or copies that still gave articles stays, its errors noted; one nothing came of
    fails (or is a duplicate: its text is already stored) and its file is deleted, so the next
    re-index does not read it again.
    """
    by_path = {str(u.path.resolve()): u for u in uploads if u.path is not None}
    problems: dict[str, list[str]] = {}
    leftover = []
    for error in report.errors:
        key = str(Path(error.path).resolve())
        where = f"line {error.line}: " if error.line is not None else ""
        if key in by_path:
            problems.setdefault(key, []).append(where + error.reason)
        else:
            leftover.append(str(error))
    copies: dict[str, list[str]] = {}
    for copy in report.duplicates:
        key = str(Path(copy.where).resolve())
        if key in by_path:
            copies.setdefault(key, []).append(f"the same text as {copy.of}, already stored")
    settled = {}
    for key in problems.keys() | copies.keys():
        upload, reasons = by_path[key], problems.get(key, []) + copies.get(key, [])
        if key in stored:
            settled[key] = replace(upload, reason="indexed, but skipped " + "; ".join(reasons))
            continue
        Path(key).unlink(missing_ok=True)
        write_fields_file(Path(key), "", "")  # and its outlet and date with it
        status: Status = "failed" if key in problems else "duplicate"
        settled[key] = replace(upload, status=status, reason="; ".join(reasons), path=None)
    out = [settled.get(str(u.path.resolve()), u) if u.path is not None else u for u in uploads]
    return out, leftover


def incoming_folder(store: Path) -> Path:
    """The store's folder for uploads in flight (Gradio's `GRADIO_TEMP_DIR` while serving)."""
    return Path(store).expanduser().resolve() / INCOMING


def discard(files: Sequence[Any], folder: Path, stale: float = STALE_SECONDS) -> None:
    """Delete the received copies of `files` inside `folder`, and anything older than `stale`
    seconds there (uploads whose handler never ran); files elsewhere are never touched."""
    root = folder.resolve()
    for item in files:
        temp = Path(item["path"] if isinstance(item, dict) else str(item)).resolve()
        if root in temp.parents:
            temp.unlink(missing_ok=True)
            _remove_empty(temp.parent, root)
    if not root.is_dir():
        return
    cutoff = time.time() - stale
    for entry in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        try:
            if entry.stat().st_mtime >= cutoff:
                continue
            if entry.is_file():
                entry.unlink()
            elif not any(entry.iterdir()):
                entry.rmdir()
        except OSError:
            pass  # another request is using or removing it


def _remove_empty(folder: Path, root: Path) -> None:
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent

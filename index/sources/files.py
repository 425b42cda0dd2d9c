"""Find article files and turn each into `Article`s: where input enters the index.

`discover` expands the files and folders a user names into (root, file) pairs; `parse_file`
turns one file into articles. Neither raises for bad input: every unusable path, file or record
becomes a `FileError` naming it, so one bad file never stops a folder. The per-format readers are
in `index.sources.formats`; field aliases, dates, ids and the content hash in `index.sources.fields`. Nothing here
knows about chunks or the store.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from index.sources.fields import Record, RecordError, content_hash, to_article, with_defaults
from index.sources.formats import (
    Item,
    binary_reason,
    decode,
    read_html,
    read_json,
    read_jsonl,
    read_markdown,
    read_pdf,
    read_txt,
)
from index.types import Article, FileError

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "content_hash",
    "discover",
    "fields_file",
    "parse_file",
    "read_fields_file",
    "write_fields_file",
]

_TEXT_READERS: dict[str, Callable[[str, str], Iterator[Item]]] = {
    ".txt": read_txt,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".html": read_html,
    ".htm": read_html,
    ".json": read_json,
}
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset({*_TEXT_READERS, ".jsonl", ".pdf"})
_MB = 1024 * 1024
_NOT_REGULAR = "is not a regular file (a pipe, socket, device or folder); not read"


def discover(paths: Sequence[Path | str]) -> tuple[list[tuple[Path, Path]], list[FileError]]:
    """Expand files and folders into (root, file) pairs, in a deterministic (sorted) order.

    A folder is walked recursively; its hidden entries (names starting with '.') are skipped
    silently; a symbolic link inside it is followed only when its target lies inside the folder.
    `root` is the folder given, or for a file given directly its parent folder. A file reached
    twice (named twice, or through a link) is listed once. Paths are made absolute, not resolved.
    Problems are returned as `FileError`s, never raised.
    """
    found = _Found()
    for given in paths:
        path = Path(given).absolute()
        if not os.path.lexists(path):
            found.error(path, "does not exist; check the path")
        elif not path.exists():
            found.error(path, f"is a broken symbolic link (to {os.readlink(path)})")
        elif path.is_dir():
            found.walk(path, path, {path.resolve()})
        else:
            found.add(path.parent, path)
    return found.files, found.errors


class _Found:
    """The files and errors `discover` collects, with the files already listed."""

    def __init__(self) -> None:
        self.files: list[tuple[Path, Path]] = []
        self.errors: list[FileError] = []
        self._seen: set[Path] = set()

    def error(self, path: Path, reason: str) -> None:
        self.errors.append(FileError(str(path), reason))

    def add(self, root: Path, path: Path) -> None:
        if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
            self.error(path, _unsupported(path))
        elif not path.is_file():
            self.error(path, _NOT_REGULAR)
        elif not os.access(path, os.R_OK):
            self.error(path, _os_reason(PermissionError(), "file"))
        elif (real := path.resolve()) not in self._seen:
            self._seen.add(real)
            self.files.append((root, path))

    def walk(self, root: Path, folder: Path, visited: set[Path]) -> None:
        """Add the files under `folder`; `visited` holds the real folders walked so far."""
        try:
            with os.scandir(folder) as entries:
                listing = sorted(entries, key=lambda entry: entry.name)
        except OSError as err:
            self.error(folder, _os_reason(err, "folder"))
            return
        for entry in listing:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if entry.is_symlink() and not self._link_ok(root, path):
                continue
            if entry.is_dir():
                real = path.resolve()
                if real not in visited:  # a link back up the tree must not loop
                    visited.add(real)
                    self.walk(root, path, visited)
            elif entry.is_file():
                self.add(root, path)
            else:
                self.error(path, _NOT_REGULAR)

    def _link_ok(self, root: Path, link: Path) -> bool:
        try:
            target = link.resolve()
        except (OSError, RuntimeError):  # RuntimeError: a loop of links
            self.error(link, "is a loop of symbolic links; not followed")
            return False
        if not target.is_relative_to(root.resolve()):
            self.error(
                link,
                f"is a symbolic link to {target}, outside the folder {root}; not followed "
                "(name the target itself to index it)",
            )
            return False
        if not target.exists():
            self.error(link, f"is a broken symbolic link (to {target})")
            return False
        return True


def parse_file(path: Path, root: Path, max_bytes: int) -> Iterator[Article | FileError]:
    """Yield the articles of one file, and a `FileError` for each unusable file or record.

    `root` is the folder the file was found under; it shapes the fallback id (the file's path
    relative to it). `max_bytes` is the size limit. Never raises for bad input.
    """
    where = str(path)
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        yield FileError(where, _unsupported(path))
        return
    try:
        info = path.stat()
    except OSError as err:
        yield FileError(where, _os_reason(err, "file"))
        return
    if not stat.S_ISREG(info.st_mode):  # reading a pipe would block forever
        yield FileError(where, _NOT_REGULAR)
        return
    size = info.st_size
    if size > max_bytes and ext != ".jsonl":  # a jsonl file is streamed: its limit is per line
        yield FileError(where, _too_big(size, max_bytes))
        return
    if size == 0:
        yield FileError(where, "file is empty (0 bytes)")
        return
    base_id = _relative_id(path, root)
    real = str(path.resolve())
    try:
        defaults = read_fields_file(path)
    except ValueError as err:
        yield FileError(str(fields_file(path)), str(err))
        return
    for item in _records(path, ext, max_bytes):
        if isinstance(item, FileError):
            yield item
        else:
            yield _article(with_defaults(item, defaults), base_id, real, where)


FIELDS_NAMES = ("source", "published")  # what a fields file may give


def fields_file(path: Path) -> Path:
    """The hidden file beside an article file giving its articles the outlet and date they lack
    (`{"source": "...", "published": "YYYY-MM-DD"}`; the page writes one for each upload)."""
    return path.with_name(f".{path.name}.fields.json")


def read_fields_file(path: Path) -> dict[str, str]:
    """The outlet and date `fields_file(path)` gives ({} when there is none); ValueError saying
    what is wrong with it otherwise."""
    beside = fields_file(path)
    try:
        raw = beside.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise ValueError(f"cannot read it ({err.strerror or err})") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValueError(f"not JSON ({err.msg} at line {err.lineno}); fix or delete it") from None
    if not isinstance(data, dict):
        raise ValueError("expected an object with source and published; fix or delete it")
    return {k: str(v).strip() for k, v in data.items() if k in FIELDS_NAMES and v}


def write_fields_file(path: Path, source: str, published: str) -> None:
    """Give the articles of `path` this outlet and date where they lack one (see `fields_file`);
    empty values remove the file's entry."""
    from index.atomic import write_atomically

    beside = fields_file(path)
    data = {k: v for k, v in (("source", source.strip()), ("published", published.strip())) if v}
    if not data:
        beside.unlink(missing_ok=True)
        return
    write_atomically(beside, (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8"))


def _records(path: Path, ext: str, max_bytes: int) -> Iterator[Item]:
    where = str(path)
    try:
        with path.open("rb") as stream:
            if ext == ".jsonl":
                yield from read_jsonl(stream, where, max_bytes)
                return
            data = stream.read(max_bytes + 1)
    except OSError as err:
        yield FileError(where, _os_reason(err, "file"))
        return
    if len(data) > max_bytes:  # it grew since stat()
        yield FileError(where, _too_big(len(data), max_bytes))
    elif ext == ".pdf":
        yield from read_pdf(data, where)
    elif reason := binary_reason(data):
        yield FileError(where, reason)
    elif isinstance(text := decode(data, where), FileError):
        yield text
    elif not text.strip():
        yield FileError(where, "file is empty (only whitespace)")
    else:
        yield from _TEXT_READERS[ext](text, where)


def _article(record: Record, base_id: str, real: str, where: str) -> Article | FileError:
    fallback_id = base_id if record.ordinal is None else f"{base_id}#{record.ordinal}"
    try:
        return to_article(record, fallback_id, real)
    except RecordError as err:
        if record.line is None and record.ordinal is not None:
            return FileError(where, f"record {record.ordinal} of the list: {err}")
        return FileError(where, str(err), line=record.line)


def _relative_id(path: Path, root: Path) -> str:
    """The file's path relative to `root` (posix), the id of a record without id or url."""
    for candidate, base in ((path.absolute(), root.absolute()), (path.resolve(), root.resolve())):
        try:
            return candidate.relative_to(base).as_posix()
        except ValueError:
            continue
    return path.name


def _unsupported(path: Path) -> str:
    kind = f"file type '{path.suffix}'" if path.suffix else "file without an extension"
    supported = ", ".join(sorted(SUPPORTED_EXTENSIONS))
    return f"unsupported {kind}; articles must be one of {supported}"


def _too_big(size: int, max_bytes: int) -> str:
    return (
        f"file is {_size(size)}, over the limit of {_size(max_bytes)}; raise the setting "
        f"ASSISTANT_INDEX__MAX_FILE_MB (now {max_bytes / _MB:g}) to index it, or split the file"
    )


def _size(n: int) -> str:
    return f"{n / _MB:.1f} MB" if n >= _MB else f"{n:,} bytes"


def _os_reason(err: OSError, kind: str) -> str:
    if isinstance(err, PermissionError):
        return f"cannot read this {kind}: permission denied; check its permissions (chmod +r)"
    return f"cannot read this {kind}: {err.strerror or type(err).__name__}"

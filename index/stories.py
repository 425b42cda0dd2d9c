"""Stories: every stored article belongs to one story, the articles about one event across
outlets and days, kept in step with the store as it syncs.

An article is the mean of its chunk vectors (unit length). Articles are assigned online, as a
sync adds them, oldest first: each joins the story whose centroid (the sum of its articles'
vectors) is closest at a cosine of at least `cosine`, among the stories it keeps within `days`
days from first article to last, or starts a story of its own (so a long-running subject is
told as consecutive stories, and a story's centroid cannot drift from one event to the next).
A story's id is the id of the article that started it and never changes while the story has
articles, whatever later syncs add or remove; `regroup` assigns every article again, in date order (after a change of
the settings, or to undo the drift of many out-of-order syncs). A copy of an article that
already has a story (`index.copies`) joins that story and does not move its centroid; a changed
article keeps its story.

`StoreStories` keeps the table in one file beside the keyword index (`stories-NAME.npz`: each
article's id, content hash, day, story and vector, and the store generation it matches), written
atomically after each sync. Another process reading the store takes the file as a sync left it;
one that finds it behind the store brings it in line on first use, reading the vectors of the
articles it lacks from the store.

Not here: what a story says (`assistant.brief`, `assistant.timeline`, `assistant.coverage`).
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from index.atomic import write_atomically
from index.store.records import ArticleRecord

Vectors = Callable[[Sequence[str]], Mapping[str, np.ndarray]]  # article ids -> their vectors
Groups = Callable[[Iterable[str]], Mapping[str, str]]  # article ids -> their copies' group id
_NO_DAY = -(2**31)


class StoreStories:
    """The stories of one store's articles, saved beside it."""

    def __init__(self, folder: Path, collection: str, cosine: float, days: int) -> None:
        self.path = folder / f"stories-{collection}.npz"
        self.cosine, self.days = cosine, days
        self.generation = -1  # of the store when last brought in line
        self._lock = threading.Lock()
        self._loaded = False
        self._stamp: int | None = None  # the file's mtime when last read or written here
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._hashes: list[str] = []
        self._days: list[int] = []
        self._labels: list[str] = []
        self._counted: list[bool] = []  # False: a copy, not part of its story's centroid
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._members: dict[str, list[int]] = {}

    # -- reading ----------------------------------------------------------------------------
    # (under the lock: another thread may be bringing the table in line)
    def story_of(self, article_ids: Iterable[str]) -> dict[str, str]:
        """The story id of each article that has one."""
        with self._lock:
            return {a: self._labels[self._row[a]] for a in article_ids if a in self._row}

    def members(self, story_id: str) -> tuple[str, ...]:
        """The articles of a story, in the order they joined it; () for an unknown id."""
        with self._lock:
            return tuple(self._ids[i] for i in self._members.get(story_id, ()))

    def vectors(self, article_ids: Iterable[str]) -> dict[str, np.ndarray]:
        """The vector of each article that has a story (unit length, a copy)."""
        with self._lock:
            return {a: self._vectors[self._row[a]].copy() for a in article_ids if a in self._row}

    def __len__(self) -> int:
        with self._lock:
            return len(self._members)

    # -- keeping in step --------------------------------------------------------------------
    def update(
        self,
        records: Mapping[str, ArticleRecord],
        vectors_of: Vectors,
        groups_of: Groups,
        generation: int,
        save: bool,
        given: Mapping[str, np.ndarray] | None = None,
    ) -> bool:
        """Bring the stories in line with `records` (the store at `generation`): articles gone
        leave their stories, changed ones keep theirs, new ones are assigned oldest first.
        `given` holds vectors already at hand (a sync's), the rest are read by `vectors_of`.
        Returns whether anything changed."""
        with self._lock:
            if generation == self.generation and self._loaded:
                return False
            if self._changed_on_disk() and self._load() == generation:
                self.generation = generation  # another process (a sync) brought it in line
                return True
            gone = [a for a in self._ids if a not in records]
            changed = [
                a
                for a in self._ids
                if a in records and records[a].content_hash != self._hashes[self._row[a]]
            ]
            new = [a for a in records if a not in self._row]
            if gone:
                self._drop(set(gone))
            fresh = self._vectors_for([*changed, *new], vectors_of, given or {})
            for a in changed:
                if a in fresh:
                    i = self._row[a]
                    self._vectors[i] = fresh[a]
                    self._hashes[i] = records[a].content_hash
                    self._days[i] = _day(records[a])
            self._assign(
                sorted((a for a in new if a in fresh), key=lambda a: (records[a].published, a)),
                records,
                fresh,
                groups_of,
            )
            self.generation = generation
            touched = bool(gone or changed or new)
            if save and touched:
                self._save()
            return touched

    def regroup(
        self,
        records: Mapping[str, ArticleRecord],
        vectors_of: Vectors,
        groups_of: Groups,
        generation: int,
        given: Mapping[str, np.ndarray] | None = None,
    ) -> tuple[int, int]:
        """Assign every article again, oldest first; returns (stories before, stories after).
        A story started by the same article as before keeps its id."""
        with self._lock:
            if self._changed_on_disk():
                self._load()
            before = len(self._members)
            known = {a: self._vectors[i] for a, i in self._row.items()}
            known = {
                a: v
                for a, v in known.items()
                if a in records and records[a].content_hash == self._hashes[self._row[a]]
            }
            known.update(given or {})
            self._clear(self._vectors.shape[1] if self._vectors.size else 0)
            fresh = self._vectors_for(list(records), vectors_of, known)
            order = sorted(fresh, key=lambda a: (records[a].published, a))
            self._assign(order, records, fresh, groups_of)
            self.generation = generation
            self._save()
            return before, len(self._members)

    # -- assignment -------------------------------------------------------------------------
    def _assign(
        self,
        ids: Sequence[str],
        records: Mapping[str, ArticleRecord],
        vectors: Mapping[str, np.ndarray],
        groups_of: Groups,
    ) -> None:
        if not ids:
            return
        groups = groups_of([*ids, *self._ids])
        story_of_group: dict[str, str] = {}
        for a in self._ids:
            story_of_group.setdefault(groups.get(a, a), self._labels[self._row[a]])
        labels = list(self._members)
        dim = len(next(iter(vectors.values())))
        sums = np.zeros((len(labels) + len(ids), dim), dtype=np.float32)
        first = np.full(len(labels) + len(ids), _NO_DAY, dtype=np.int64)
        last = np.full(len(labels) + len(ids), _NO_DAY, dtype=np.int64)
        where = {label: k for k, label in enumerate(labels)}
        if self._vectors.size:
            for label, rows in self._members.items():
                k = where[label]
                in_centroid = [i for i in rows if self._counted[i]]
                if in_centroid:
                    sums[k] = self._vectors[in_centroid].sum(axis=0)
                dated = [self._days[i] for i in rows if self._days[i] != _NO_DAY]
                if dated:
                    first[k], last[k] = min(dated), max(dated)
        n = len(labels)
        for a in ids:
            vector = np.asarray(vectors[a], dtype=np.float32)
            day = _day(records[a])
            joined = story_of_group.get(groups.get(a, a))
            counted = joined is None
            if joined is None:
                closest = self._closest(vector, day, sums[:n], first[:n], last[:n])
                if closest is None:
                    label = a if a not in where else _fresh_label(a, where)
                    where[label], closest = n, n
                    labels.append(label)
                    n += 1
                joined = labels[closest]
                sums[closest] += vector
            k = where[joined]
            if day != _NO_DAY:
                first[k] = day if first[k] == _NO_DAY else min(first[k], day)
                last[k] = max(last[k], day)
            story_of_group.setdefault(groups.get(a, a), joined)
            self._append(a, records[a].content_hash, day, joined, counted, vector)

    def _closest(
        self, vector: np.ndarray, day: int, sums: np.ndarray, first: np.ndarray, last: np.ndarray
    ) -> int | None:
        if not len(sums):
            return None
        norms = np.linalg.norm(sums, axis=1)
        cos = (sums @ vector) / np.maximum(norms, 1e-9)
        ok = cos >= self.cosine
        if self.days and day != _NO_DAY:
            dated = first != _NO_DAY
            span = np.maximum(last, day) - np.minimum(first, day)
            ok &= ~dated | (span <= self.days)
        if not ok.any():
            return None
        return int(np.argmax(np.where(ok, cos, -np.inf)))

    # -- the table --------------------------------------------------------------------------
    def _append(
        self, a: str, content_hash: str, day: int, label: str, counted: bool, v: np.ndarray
    ) -> None:
        i = len(self._ids)
        if not self._vectors.size:
            self._vectors = np.zeros((0, len(v)), dtype=np.float32)
        if i >= len(self._vectors):  # grow by half, not one row at a time
            grown = np.zeros((max(16, i + i // 2), self._vectors.shape[1]), dtype=np.float32)
            grown[:i] = self._vectors[:i]
            self._vectors = grown
        self._vectors[i] = v
        self._ids.append(a)
        self._row[a] = i
        self._hashes.append(content_hash)
        self._days.append(day)
        self._labels.append(label)
        self._counted.append(counted)
        self._members.setdefault(label, []).append(i)

    def _drop(self, gone: set[str]) -> None:
        keep = [i for i, a in enumerate(self._ids) if a not in gone]
        rows = (self._ids, self._hashes, self._days, self._labels, self._counted)
        ids, hashes, days, labels, counted = ([r[i] for i in keep] for r in rows)
        vectors = self._vectors[keep] if self._vectors.size else self._vectors
        self._clear(self._vectors.shape[1] if self._vectors.size else 0)
        for a, h, d, label, c, v in zip(ids, hashes, days, labels, counted, vectors, strict=True):
            self._append(a, h, d, label, c, v)

    def _clear(self, dim: int) -> None:
        self._ids, self._row, self._hashes, self._days = [], {}, [], []
        self._labels, self._counted, self._members = [], [], {}
        self._vectors = np.zeros((0, dim), dtype=np.float32)

    def _vectors_for(
        self, ids: Sequence[str], vectors_of: Vectors, given: Mapping[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        out = {a: given[a] for a in ids if a in given}
        missing = [a for a in ids if a not in out]
        if missing:
            out.update(vectors_of(missing))
        return out

    def _changed_on_disk(self) -> bool:
        """Whether the file was written (by this process or another) since it was last read
        or written here; True before the first read."""
        try:
            stamp = self.path.stat().st_mtime_ns
        except OSError:
            stamp = None
        return not self._loaded or stamp != self._stamp

    def _load(self) -> int | None:
        """Read the table from the file (an empty one when there is none, it is unreadable or
        made with other settings); returns the store generation it was saved at."""
        self._loaded = True
        self._clear(0)
        try:
            self._stamp = self.path.stat().st_mtime_ns
            with np.load(self.path, allow_pickle=False) as saved:
                table = json.loads(saved["table"].tobytes().decode("utf-8"))
                settings, ids = table["settings"], table["ids"]
                labels, hashes = table["labels"], table["hashes"]
                generation = int(table["generation"])
                days, counted = saved["days"].tolist(), saved["counted"].tolist()
                vectors = saved["vectors"]
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
            return None  # none yet, or unreadable: every article is assigned again
        if settings != {"cosine": self.cosine, "days": self.days} or not (
            len(ids) == len(labels) == len(hashes) == len(days) == len(counted) == len(vectors)
        ):
            return None  # other settings: grouped again, in date order
        for a, h, d, label, c, v in zip(ids, hashes, days, labels, counted, vectors, strict=True):
            self._append(str(a), str(h), int(d), str(label), bool(c), v)
        return generation

    def _save(self) -> None:
        n = len(self._ids)
        buffer = io.BytesIO()
        table = {
            "settings": {"cosine": self.cosine, "days": self.days},
            "ids": self._ids,
            "labels": self._labels,
            "hashes": self._hashes,
            "generation": self.generation,
        }
        np.savez(
            buffer,
            table=np.frombuffer(json.dumps(table).encode("utf-8"), dtype=np.uint8),
            days=np.array(self._days, dtype=np.int64),
            counted=np.array(self._counted, dtype=bool),
            vectors=self._vectors[:n],
        )
        with contextlib.suppress(OSError):  # a read-only folder: assigned again next time
            write_atomically(self.path, buffer.getvalue())
            self._stamp = self.path.stat().st_mtime_ns


def unit(vector: np.ndarray) -> np.ndarray:
    """The vector at unit length (a zero vector as it is): an article's vector is its chunk
    vectors' sum (or mean) so scaled."""
    return vector / (float(np.linalg.norm(vector)) or 1.0)


def _day(record: ArticleRecord) -> int:
    days = record.published_days
    return _NO_DAY if days is None else days


def _fresh_label(article_id: str, taken: Mapping[str, int]) -> str:
    n = 2
    while f"{article_id}~{n}" in taken:
        n += 1
    return f"{article_id}~{n}"

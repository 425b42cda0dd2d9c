"""Keep sources synced on an interval: `assistant watch` and the page's `--watch`.

A `Watcher` runs `ArticleIndex.sync` on its sources every `every` seconds (new, changed and, with
`prune`, removed articles), one writer at a time through the store's write lock, while readers
keep answering. Each sync's report goes to a callback (the command line prints it, the page logs
it and shows it in its status line). `stop()` ends it cleanly: a running sync finishes the batch
it is writing and returns; nothing is left half-written. A sync that cannot run (another writer
holds the store past `lock_timeout`, a full disk) is reported and tried again next time.

Not here: the sync itself (`index.sync`), the command line (`assistant.cli.watching`).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from index.errors import NewsAssistantError, SettingsError
from index.types import SyncReport

if TYPE_CHECKING:
    from index.article_index import ArticleIndex

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d)?\s*$", re.I)
_UNIT = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}
MIN_EVERY = 5.0  # seconds: a shorter interval would keep the store's writer busy for nothing


def parse_interval(text: str) -> float:
    """'15m' -> 900.0; accepts s, m, h, d (seconds when no unit)."""
    m = _INTERVAL.match(str(text))
    if not m:
        raise SettingsError(
            f"--every {text!r} is not an interval: write it like 30s, 15m, 2h or 1d"
        )
    seconds = float(m.group(1)) * _UNIT[(m.group(2) or "s").lower()]
    if seconds < MIN_EVERY:
        raise SettingsError(f"--every {text!r} is too short: at least {MIN_EVERY:g} seconds")
    return seconds


def nice_interval(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class WatchStatus:
    """What a watcher has done and will do; times are ISO strings in UTC ('' when none)."""

    sources: tuple[str, ...]
    every: float
    syncs: int = 0
    last_sync: str = ""
    last_summary: str = ""  # the report's line, or why the sync could not run
    last_changes: str = ""  # what the last sync changed, short: "added 2, removed 1"
    last_ok: bool = True
    next_sync: str = ""
    running: bool = False

    def line(self) -> str:
        """'watching 2 sources every 15m · last sync 06:40 UTC: added 1, … · next 06:55 UTC'."""
        n = len(self.sources)
        parts = [f"watching {n} source{'s' if n != 1 else ''} every {nice_interval(self.every)}"]
        if self.running:
            parts.append("syncing now")
        elif self.last_sync:
            parts.append(f"last sync {_clock(self.last_sync)}: {self.last_changes}")
        if self.next_sync and not self.running:
            parts.append(f"next {_clock(self.next_sync)}")
        return " · ".join(parts)


class Watcher:
    """Syncs `sources` into `index` every `every` seconds until `stop()`."""

    def __init__(
        self,
        index: ArticleIndex,
        sources: Sequence[str],
        every: float,
        prune: bool = False,
        on_report: Callable[[SyncReport | None, str], None] | None = None,
    ) -> None:
        self.index = index
        self.sources = [str(s) for s in sources]
        self.every = every
        self.prune = prune
        self.on_report = on_report or (lambda report, line: None)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._status = WatchStatus(tuple(self.sources), every)
        self._thread: threading.Thread | None = None

    @property
    def status(self) -> WatchStatus:
        with self._lock:
            return self._status

    def run(self, times: int | None = None) -> None:
        """Sync now and then every `every` seconds, `times` syncs at most, until stopped."""
        done = 0
        while not self._stop.is_set() and (times is None or done < times):
            began = time.monotonic()
            self.sync_once()
            done += 1
            if times is not None and done >= times:
                break
            self._set(next_sync=_iso(time.time() + self.every - (time.monotonic() - began)))
            self._stop.wait(max(0.0, self.every - (time.monotonic() - began)))

    def start(self) -> threading.Thread:
        """Run in a background thread (the page's watcher); returns the thread."""
        self._thread = threading.Thread(target=self.run, name="watch", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, wait: float | None = None) -> None:
        """End after the batch being written; with `wait`, join the background thread."""
        self._stop.set()
        if self._thread is not None and wait is not None:
            self._thread.join(wait)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def sync_once(self) -> SyncReport | None:
        """One sync of the sources; its report (None when it could not run, said in the line)."""
        self._set(running=True)
        report: SyncReport | None = None
        try:
            report = self.index.sync(self.sources, prune=self.prune, stop=self._stop)
            line = f"{report.summary()} ({report.chunks_added} chunks, {report.seconds:.1f} s)"
            if report.stopped:
                line += "; stopped before the end, the next sync completes it"
            ok = not report.failed
        except NewsAssistantError as exc:  # another writer past the timeout, a full disk, …
            line, ok = f"not synced: {exc}", False
        self._set(
            running=False,
            syncs=self._status.syncs + 1,
            last_sync=_iso(time.time()),
            last_summary=line,
            last_changes=changes(report) if report is not None else "not synced (see the log)",
            last_ok=ok,
        )
        self.on_report(report, line)
        return report

    def _set(self, **changes: object) -> None:
        with self._lock:
            self._status = replace(self._status, **changes)  # type: ignore[arg-type]


def changes(report: SyncReport) -> str:
    """What a sync changed, short: 'added 2, failed 1', or 'no changes'."""
    counts = {
        "added": report.added,
        "updated": report.updated,
        "removed": report.removed,
        "failed": report.failed,
        "duplicates": len(report.duplicates),
    }
    said = ", ".join(f"{name} {n}" for name, n in counts.items() if n)
    return (said or "no changes") + (" (stopped)" if report.stopped else "")


def _iso(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).isoformat(timespec="seconds")


def _clock(iso: str) -> str:
    try:
        return dt.datetime.fromisoformat(iso).strftime("%H:%M UTC")
    except ValueError:
        return iso

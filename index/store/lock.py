"""One writer at a time per store: a file lock that names its holder.

A second writer says whom it waits for (`on_wait`), waits up to `lock_timeout` seconds, then
stops with a message naming the process that holds the store. The lock is released by the operating system when its holder dies, so a
killed indexer never leaves the store locked.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from index.errors import StoreLockedError


class WriteLock:
    """Context manager around the store's `write.lock`."""

    def __init__(
        self, folder: Path, timeout: float, on_wait: Callable[[str], None] | None = None
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "write.lock"
        self.info = folder / "write.lock.json"
        self.timeout = timeout
        self.on_wait = on_wait  # told the holder once, when the lock is not free at once
        self._lock = FileLock(str(self.path))

    def __enter__(self) -> WriteLock:
        try:
            try:
                self._lock.acquire(timeout=0)
            except Timeout:
                if self.on_wait is not None:
                    self.on_wait(self._holder())
                self._lock.acquire(timeout=self.timeout)
        except Timeout:
            raise StoreLockedError(
                f"the store at {self.path.parent} is being written by {self._holder()}; wait for "
                "it to finish (or stop it), or raise ASSISTANT_INDEX__LOCK_TIMEOUT to wait longer"
            ) from None
        self.info.write_text(
            json.dumps(
                {"pid": os.getpid(), "command": " ".join(sys.argv)[:200], "since": time.time()}
            )
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._lock.release()

    def _holder(self) -> str:
        try:
            data = json.loads(self.info.read_text())
            since = time.strftime("%H:%M:%S", time.localtime(data["since"]))
            return f"process {data['pid']} (`{data['command']}`, since {since})"
        except (OSError, ValueError, KeyError):
            return "another process"

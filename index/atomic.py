"""Writing a cache file whole or not at all: a temporary file beside it, then a rename.

The temporary name carries the process and thread, so concurrent writers never share one; a
reader sees the old file or the new one, never a part. Not here: what the caches hold.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` by `data`; on failure (OSError, raised) the old file is left as it was."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise

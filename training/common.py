"""What the training scripts share: one seed for every generator, and the facts of a manifest
(a file's sha256, the processor that trained)."""

from __future__ import annotations

import hashlib
import platform
import random
from pathlib import Path


def seeded(seed: int, threads: int) -> random.Random:
    """Seed Python's, NumPy's and torch's generators, set torch's threads; the script's own
    generator."""
    import numpy as np
    import torch

    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(max(1, threads))
    return random.Random(seed)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def processor() -> str:
    """The processor's model name, as `/proc/cpuinfo` gives it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()

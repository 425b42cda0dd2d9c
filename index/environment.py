"""The process environment the product runs in: no telemetry, no model hub, quiet tokenizers.

`apply_defaults` sets these variables unless the user set them already. It runs when the
`index` package is first imported, and every entry point (the `assistant` command, `app.py`,
`import assistant`) imports `index` before chromadb, gradio or transformers, which read them at
import. Not here: the product's settings (`assistant.Settings`).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

DEFAULTS = {
    "ANONYMIZED_TELEMETRY": "False",  # chromadb
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",  # the bundled model is loaded from its installed package
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",  # no fork warnings from worker processes
}


def apply_defaults(env: MutableMapping[str, str] = os.environ) -> None:
    """Set each default variable that `env` does not already hold."""
    for name, value in DEFAULTS.items():
        env.setdefault(name, value)

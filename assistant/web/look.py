"""How the page looks: Gradio's theme with fonts it bundles, and the stylesheet `web.css`.

Everything about the page's appearance is here, in `web.css`, in `web.js` (the phone layout's
folded filters, citation links) and in `login.js` (the sign-in form's lockout message); the page
requests nothing from other sites. Not here: what the page holds (`assistant.web.app`) or the HTML it shows
(`assistant.web.render`, whose classes `web.css` styles).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

STYLESHEET = Path(__file__).with_name("web.css")
SCRIPT = Path(__file__).with_name("web.js")  # run once when the page loads (phone layout)


def launch_options() -> dict[str, Any]:
    """The `css` and `theme` arguments of `gr.Blocks.launch` (`web.js` runs on the page's load
    event: see `assistant.web.page`; `login.js` is added to the sign-in page by
    `assistant.web.login_guard`)."""
    return {"css": STYLESHEET.read_text(encoding="utf-8"), "theme": theme()}


def theme() -> gr.themes.Base:
    """Fonts bundled with Gradio (the page requests nothing from other sites)."""
    local = gr.themes.LocalFont
    return gr.themes.Soft(
        primary_hue="indigo",
        neutral_hue="slate",
        # regular and bold only: the bundled semi-bold file holds a few glyphs
        font=(
            local("IBM Plex Sans", weights=(400, 700)),
            "ui-sans-serif",
            "system-ui",
            "sans-serif",
        ),
        font_mono=(local("IBM Plex Mono", weights=(400, 700)), "ui-monospace", "monospace"),
    )

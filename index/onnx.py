"""The `onnx-int8` embedding backend: ONNX Runtime with a dynamically quantised int8 model.

The int8 model is exported locally from the configured model's own weights the first time it is
needed (sentence-transformers' ONNX export, then ONNX Runtime's dynamic quantisation for the
processor's instruction set) and cached beside the store, so nothing is downloaded.

Not here: choosing the backend (a setting, `index.settings`) or measuring it (`bench/`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from filelock import FileLock

from index.errors import SettingsError


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


def load_int8(model_path: str, cache_dir: Path | None) -> Any:
    """A SentenceTransformer on ONNX Runtime with int8 weights, exporting it on first use."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.backend import export_dynamic_quantized_onnx_model

    if cache_dir is None:
        raise SettingsError("the onnx-int8 backend needs a store folder to cache its model in")
    source = Path(model_path)
    if not source.is_dir():
        raise SettingsError(
            f"the onnx-int8 backend needs a local model folder, not {model_path!r}: set "
            "ASSISTANT_INDEX__EMBEDDING_MODEL to a folder, or use the torch backend"
        )
    isa = _isa()
    target = cache_dir / f"{source.name}-onnx"
    file_name = f"onnx/model_qint8_{isa}.onnx"
    cache_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache_dir / "export.lock")):
        if not (target / file_name).exists():
            staging = cache_dir / f"{source.name}-onnx.tmp"
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(source, staging, ignore=shutil.ignore_patterns("onnx", "openvino"))
            exported = SentenceTransformer(str(staging), device="cpu", backend="onnx")
            exported.save_pretrained(str(staging))
            export_dynamic_quantized_onnx_model(exported, isa, str(staging), push_to_hub=False)
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
    return SentenceTransformer(
        str(target), device="cpu", backend="onnx", model_kwargs={"file_name": file_name}
    )

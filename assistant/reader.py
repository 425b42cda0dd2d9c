"""The reader: a small cross-encoder that scores how well a sentence answers a question.

Trained here from the bundled all-MiniLM-L6-v2 on the RealTime QA training weeks
(`training/reader.py`, `make reader`) and shipped inside the package as an int8 ONNX model,
so it runs offline with `tokenizers` and `onnxruntime` alone (no torch import at answer time).
A score is a logit: above 0 the model takes the sentence to hold the answer. Scores are cached
per (question, sentence), since an answer and its multiple-choice judgement read the same
sentences.

Not here: how the scores are used (`assistant.extractive`, `assistant.retrieve`,
`assistant.choices`) or training.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.errors import SettingsError
from index import split_sentences
from index.onnx import session_options

MODEL_DIR = Path(__file__).resolve().parent / "models" / "reader"
_FILES = ("model.onnx", "tokenizer.json")
_CACHE = 20_000
_MIN_WORDS = 4


class Reader:
    """Tokenizer + ONNX Runtime session over (question, sentence) pairs; thread-safe."""

    def __init__(self, folder: Path | None = None, max_length: int = 128) -> None:
        folder = folder or MODEL_DIR
        for name in _FILES:
            if not (folder / name).is_file():
                raise SettingsError(
                    f"the reader model file {folder / name} is missing: rebuild it with "
                    "`make reader`, or turn the reader off (ASSISTANT_ANSWER__READER=false)"
                )
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            self.tokenizer.enable_truncation(max_length)
            self.tokenizer.no_padding()
            self.session = ort.InferenceSession(
                str(folder / "model.onnx"), session_options(), providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise SettingsError(
                f"the reader model in {folder} cannot be loaded ({str(exc)[:160]}): rebuild it "
                "with `make reader`, or turn the reader off (ASSISTANT_ANSWER__READER=false)"
            ) from None
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._cache: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def score(self, question: str, sentences: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """One logit per sentence, in order (higher: more likely to hold the answer)."""
        out = np.zeros(len(sentences), dtype=np.float32)
        todo = []
        with self._lock:
            for i, s in enumerate(sentences):
                cached = self._cache.get((question, s))
                if cached is None:
                    todo.append(i)
                else:
                    out[i] = cached
        if todo:
            fresh = self._run(question, [sentences[i] for i in todo], batch_size)
            out[todo] = fresh
            with self._lock:
                for i, value in zip(todo, fresh.tolist(), strict=True):
                    self._cache[(question, sentences[i])] = value
                while len(self._cache) > _CACHE:
                    self._cache.popitem(last=False)
        return out

    def probabilities(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """The probability that each sentence holds the answer (the logits through a sigmoid)."""
        return 1.0 / (1.0 + np.exp(-self.score(question, sentences)))

    def _run(self, question: str, sentences: Sequence[str], batch_size: int) -> np.ndarray:
        encoded = self.tokenizer.encode_batch([(question, s) for s in sentences])
        order = np.argsort([-len(e.ids) for e in encoded], kind="stable")
        out = np.zeros(len(encoded), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            width = max(len(encoded[i].ids) for i in idx)
            feeds = {
                name: np.zeros((len(idx), width), dtype=np.int64)
                for name in ("input_ids", "attention_mask", "token_type_ids")
            }
            for row, i in enumerate(idx):
                e = encoded[i]
                feeds["input_ids"][row, : len(e.ids)] = e.ids
                feeds["attention_mask"][row, : len(e.ids)] = 1
                feeds["token_type_ids"][row, : len(e.ids)] = e.type_ids
            logits = self.session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})
            out[idx] = np.asarray(logits[0], dtype=np.float32).reshape(len(idx), -1)[:, 0]
        return out


def sentence_texts(text: str) -> list[str]:
    """The sentences of `text` the reader judges: those of at least four words."""
    return [text[s:e] for s, e in split_sentences(text) if len(text[s:e].split()) >= _MIN_WORDS]

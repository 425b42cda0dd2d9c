"""The reader: a small cross-encoder that scores how well a sentence answers a question.

Trained here from the bundled all-MiniLM-L6-v2 on the RealTime QA training weeks
(`training/reader.py`, `make reader`) and shipped inside the package as an int8 ONNX model,
so it runs offline with `tokenizers` and `onnxruntime` alone (no torch import at answer time).
A score is a logit: above 0 the model takes the sentence to hold the answer. Scores are cached
per (question, sentence), since an answer and its multiple-choice judgement read the same
sentences. Each pair is read alone: the int8 model quantises its activations per batch, so in
a batch a sentence's score moved with its neighbours' lengths and words (by 0.5 of a logit on
average against reading it alone, on dev), which a cache keyed by the pair cannot allow. Each
run has one thread, and the pairs of one call are spread over as many runs at once as there
are cores: a lone answer's 12 pairs take about as long as with two threads per run, for the
CPU of one (measured in docs/benchmarks.md), and answers asked at once do not fight over
threads.

Not here: how the scores are used (`assistant.answer.extractive`, `assistant.answer.retrieve`,
`assistant.answer.choices`) or training.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.errors import SettingsError
from index import session_options, split_sentences

if TYPE_CHECKING:
    from tokenizers import Encoding

MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "reader"
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
        self._pool = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="reader")

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
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
            fresh = self._run(question, [sentences[i] for i in todo])
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

    def _run(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """Each (question, sentence) pair through the model alone, the pairs run side by side."""
        encoded = self.tokenizer.encode_batch([(question, s) for s in sentences])
        return np.fromiter(self._pool.map(self._one, encoded), dtype=np.float32, count=len(encoded))

    def _one(self, encoding: Encoding) -> float:
        feeds = {
            "input_ids": np.array([encoding.ids], dtype=np.int64),
            "attention_mask": np.ones((1, len(encoding.ids)), dtype=np.int64),
            "token_type_ids": np.array([encoding.type_ids], dtype=np.int64),
        }
        logits = self.session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})
        return float(np.asarray(logits[0]).reshape(-1)[0])


def sentence_texts(text: str) -> list[str]:
    """The sentences of `text` the reader judges: those of at least four words."""
    return [text[s:e] for s, e in split_sentences(text) if len(text[s:e].split()) >= _MIN_WORDS]

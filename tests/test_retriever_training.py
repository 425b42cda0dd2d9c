"""The retriever's training, `training/retriever.py`, end to end on a tiny slice: the real base
model and trainer, the held-out table beside the base model, and the folder `--ship` writes,
which the index then uses as it is."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.eval_fixture import ARTICLES, QUESTIONS
from tests.helpers import ROOT

# Web questions in the format of questions-train-web.jsonl: the last date's question (held out)
# "retrieved" one fixture page, the others every other page.
DAYS = ("2022-06-16", "2022-06-16", "2022-06-16", "2022-07-13", "2022-07-25")
HELD_PAGE = "https://example.org/heatwave"
WEB = [
    {
        "id": q["id"],
        "asked_on": day,
        "question": q["question"],
        "choices": q.get("choices", []),
        "answers": q["answers"],
        "evidence": "",
        "retrieved": [HELD_PAGE]
        if day == DAYS[-1]
        else [a["id"] for a in ARTICLES if a["id"] != HELD_PAGE],
    }
    for q, day in zip(QUESTIONS, DAYS, strict=True)
]
EVIDENCE = [
    {
        "id": "e1",
        "asked_on": "2022-06-03",
        "question": "Which bloc will require a common phone charger?",
        "choices": [],
        "answers": ["Europe"],
        "evidence": "Europe will require USB-C chargers from 2024. Lawmakers cited waste.",
    },
    {
        "id": "e2",
        "asked_on": "2022-06-03",
        "question": "Which show will return for a second season?",
        "choices": [],
        "answers": ["Squid Game"],
        "evidence": "Netflix said Squid Game will return for a second season.",
    },
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """The retriever trained for two steps on the slice, into a temporary folder."""
    work = tmp_path_factory.mktemp("retriever")
    web, pages, evidence = work / "web.jsonl", work / "pages.jsonl.gz", work / "evidence.jsonl"
    web.write_text("".join(json.dumps(q) + "\n" for q in WEB), encoding="utf-8")
    evidence.write_text("".join(json.dumps(q) + "\n" for q in EVIDENCE), encoding="utf-8")
    with gzip.open(pages, "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps({**a, "url": a["id"]}) + "\n" for a in ARTICLES)
    out = work / "model"
    done = subprocess.run(
        [
            *(sys.executable, "training/retriever.py", "--web-questions", str(web)),
            *("--articles", str(pages), "--questions", str(evidence), "--out", str(out)),
            *("--max-steps", "2", "--batch-size", "2", "--eval-weeks", "1"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.slow
def test_training_writes_a_model_and_a_manifest_with_the_held_out_table(trained):
    manifest = json.loads((trained / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["pairs"]["total"] > 0
    assert manifest["questions"]["held_out_weeks"] == ["2022-07-25"]  # the last date asked
    table = manifest["held_out"]
    for model in ("base", "fine_tuned", "bm25"):
        assert set(table[model]) == {"top_5", "top_20", "top_50"}
        assert all(0.0 <= v <= 1.0 for v in table[model].values())
    assert (trained / "model.safetensors").exists()


@pytest.mark.slow
def test_the_shipped_folder_is_used_as_it_is_and_bound_to_its_file(trained, tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "training"))
    try:
        import retriever  # training/retriever.py (not a package)
    finally:
        sys.path.remove(str(ROOT / "training"))
    monkeypatch.setattr(retriever, "SHIP", tmp_path / "news-model")  # never into the checkout
    manifest = json.loads((trained / "manifest.json").read_text())
    shipped = retriever.ship(trained, manifest)
    files = {p.name for p in shipped.iterdir()}
    assert files == {
        "model.onnx",
        "tokenizer.json",
        "sentence_bert_config.json",
        "config.json",
        "manifest.json",
    }
    record = json.loads((shipped / "manifest.json").read_text())
    assert record["quantised_for"] == "avx2" and len(record["model_sha256"]) == 64

    from index.embed.encoder import Embedder

    embedder = Embedder(str(shipped))
    embedder.cache_dir = tmp_path / "cache"
    vectors = embedder.embed(["Europe will require USB-C chargers.", "Squid Game returns."])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert not (tmp_path / "cache").exists()  # used as it is: nothing exported

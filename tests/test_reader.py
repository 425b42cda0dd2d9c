"""The reader: `training/reader.py` end to end on a tiny slice (real base model, real trainer,
real int8 export), the model it writes loaded and used by the assistant, and clear errors for a
missing or damaged model file."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant, Settings, SettingsError
from assistant.answer.reader import Reader
from tests.eval_fixture import ARTICLES, QUESTIONS, write_fixture
from tests.helpers import ROOT, SAMPLES

# Training questions in the RealTime QA format, about the fixture's articles' stories.
TRAIN = [
    {
        "id": f"t{i}",
        "asked_on": day,
        "question": question,
        "choices": [],
        "answers": [answer],
        "evidence": evidence,
    }
    for i, (day, question, answer, evidence) in enumerate(
        [
            (
                "2022-06-10",
                "Which show was green lit for a second season?",
                "Squid Game",
                "Netflix said Squid Game will return. The director wrote to fans.",
            ),
            (
                "2022-06-10",
                "Which bloc will require a common phone charger?",
                "Europe",
                "Europe will require USB-C chargers from 2024. Lawmakers cited waste.",
            ),
            (
                "2022-06-17",
                "Which country recorded its highest temperature ever?",
                "Britain",
                "Britain recorded its highest temperature ever. Railways ran slow services.",
            ),
            (
                "2022-06-17",
                "Which telescope released its first full-colour images?",
                "James Webb",
                "The James Webb Space Telescope released images. Astronomers were thrilled.",
            ),
        ]
    )
]


# Web questions with the pages a search returned for them, as fetched (a byline, a caption and a
# link line among the sentences); the last date asked is held out with every page it retrieved.
WEB = [
    {
        "id": f"w{i}",
        "asked_on": day,
        "question": question,
        "choices": [],
        "answers": [answer],
        "evidence": "",
        "retrieved": [f"https://news.example/{i}"],
    }
    for i, (day, question, answer) in enumerate(
        [
            ("2023-03-02", "Which city hosted the spring kite festival?", "Trondheim"),
            ("2023-03-02", "Which river flooded the old harbour district?", "Nidelva"),
            ("2023-03-09", "Which orchestra opened the new concert hall?", "Bergen Philharmonic"),
        ]
    )
]
WEB_PAGES = [
    {
        "id": f"https://news.example/{i}",
        "url": f"https://news.example/{i}",
        "title": title,
        "published": "2023/03/01",
        "text": f"By Staff Reporter | March 1, 2023\n\n{body}\n\nPhoto: Jane Doe/Agency\n\n"
        "Related: Sign up for our newsletter to get the day's stories.",
    }
    for i, (title, body) in enumerate(
        [
            (
                "Kites over the fjord",
                "The spring kite festival was held in Trondheim on Saturday. "
                "Hundreds of families flew kites over the fjord all afternoon.",
            ),
            (
                "Harbour flooded",
                "The Nidelva burst its banks and flooded the old harbour district overnight. "
                "Shop owners spent the morning clearing water from their cellars.",
            ),
            (
                "A hall opens",
                "The Bergen Philharmonic opened the new concert hall with a sold-out evening. "
                "Critics praised the hall's warm acoustics.",
            ),
        ]
    )
]


def _write_slice(work: Path) -> tuple[Path, Path]:
    """The tiny slice's training questions and articles, and its web questions and pages, as
    files in `work` (the web ones as `web-questions.jsonl` and `web-pages.jsonl.gz`)."""
    questions, articles = work / "questions.jsonl", work / "articles.jsonl"
    if not questions.exists():
        questions.write_text("".join(json.dumps(q) + "\n" for q in TRAIN), encoding="utf-8")
        articles.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
        web = "".join(json.dumps(q) + "\n" for q in WEB)
        (work / "web-questions.jsonl").write_text(web, encoding="utf-8")
        with gzip.open(work / "web-pages.jsonl.gz", "wt", encoding="utf-8") as fh:
            fh.writelines(json.dumps(page) + "\n" for page in WEB_PAGES)
    return questions, articles


def _web(work: Path) -> tuple[str, ...]:
    return (
        "--web-questions",
        str(work / "web-questions.jsonl"),
        "--web-pages",
        str(work / "web-pages.jsonl.gz"),
    )


def _train_on_slice(work: Path, *extra: str) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """`training/reader.py` for two steps on the tiny slice (written to `work`); the model
    folder and the finished run."""
    questions, articles = _write_slice(work)
    out = work / "model"
    done = subprocess.run(
        [
            *(sys.executable, "training/reader.py", "--questions", str(questions)),
            *("--articles", str(articles), "--out", str(out), "--curve", str(work / "curve.png")),
            *("--max-steps", "2", "--batch-size", "4", "--eval-weeks", "1", "--mined", "2"),
            *_web(work),
            *extra,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done


@pytest.fixture(scope="module")
def trained(tmp_path_factory, embedder) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A reader trained for two steps on the tiny slice, into a temporary folder, and measured
    on the fixture's dev-style questions from an index of the fixture's articles."""
    from index import ArticleIndex

    work = tmp_path_factory.mktemp("reader")
    _, dev = write_fixture(work / "dev")
    _, articles = _write_slice(work)
    index = ArticleIndex.open(work / "store", embedder=embedder)
    assert index.sync([articles]).added == len(ARTICLES)
    return _train_on_slice(work, "--dev-store", str(work / "store"), "--dev-questions", str(dev))


@pytest.mark.slow
def test_training_runs_end_to_end_and_writes_model_curve_and_manifest(trained):
    out, _ = trained
    assert {"model.onnx", "tokenizer.json", "manifest.json"} <= {p.name for p in out.iterdir()}
    assert (out.parent / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["questions"] == {
        "train": 2,
        "held_out": 2,
        "held_out_weeks": ["2022-06-17"],
        "web_train": 2,
        "web_held_out_weeks": ["2023-03-09"],
    }
    # each learned web question: its answer sentence, and the page's byline, caption or link
    # line among the negatives; the held-out date's question not learned from
    assert manifest["pairs"]["web answer"] == 2 and manifest["pairs"]["web page"] >= 2
    assert all(len(entry["sha256"]) == 64 for entry in manifest["data"].values())
    assert manifest["pairs"]["answer"] == 2  # one evidence sentence of each names its answer
    assert manifest["int8_max_probability_drift"] < 0.05  # the shipped file scores as trained
    assert "held-out_mrr@10" in manifest["held_out"]
    dev = manifest["dev"]
    assert dev["questions"] == len(QUESTIONS) and dev["command"].startswith("assistant eval")
    for figures in (dev["defaults"], dev["reader_off"]):
        assert 0 < figures["answer_text"] <= 1 and 0 < figures["hit_at_5"] <= 1
        assert 0 < figures["p50_s"] <= figures["p95_s"]


@pytest.mark.slow
def test_training_with_ranked_lists_beside_the_pairs_runs_end_to_end(tmp_path):
    out, _ = _train_on_slice(tmp_path, "--listwise")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"]["listwise"] is True
    assert manifest["int8_max_probability_drift"] < 0.05
    scores = Reader(out).probabilities(str(TRAIN[0]["question"]), ["A sentence of four words."])
    assert scores.shape == (1,) and 0 <= scores[0] <= 1


def test_question_lists_keep_questions_with_a_sentence_naming_the_answer_and_one_not():
    sys.path.insert(0, str(ROOT / "training"))
    try:
        from reader import Pair, question_lists  # training/reader.py (not a package)
    finally:
        sys.path.remove(str(ROOT / "training"))
    pairs = [
        Pair("q1", "names it", 1.0, "answer"),
        Pair("q1", "says it otherwise", 0.5, "support"),
        Pair("q1", "another story", 0.0, "mined"),
        Pair("q2", "only support", 0.5, "support"),
        Pair("q2", "a miss", 0.0, "week"),
        Pair("q3", "names it", 1.0, "answer"),
    ]
    lists = question_lists(pairs)
    assert lists == {
        "query": ["q1"],
        "docs": [["names it", "says it otherwise", "another story"]],
        "labels": [[1.0, 0.0, 0.0]],
    }


def test_a_wrong_dev_store_is_named_before_training(tmp_path):
    questions, articles = _write_slice(tmp_path)  # the slice: no need of ../shared
    done = subprocess.run(
        [
            *(sys.executable, "training/reader.py", "--questions", str(questions)),
            *("--articles", str(articles), "--out", str(tmp_path / "model")),
            *("--dev-store", str(tmp_path / "nowhere")),
            *_web(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: --dev-store") and "nowhere" in done.stderr
    assert not (tmp_path / "model").exists()  # nothing trained


@pytest.mark.slow
def test_the_assistant_answers_with_the_reader_on(trained, embedder, tmp_path):
    from index import ArticleIndex

    out, _ = trained
    index = ArticleIndex.open(tmp_path / "store", embedder=embedder)
    assert index.sync([SAMPLES]).failed == 0
    settings = Settings(store=tmp_path / "store").model_copy(
        update={
            "retrieval": Settings().retrieval.model_copy(update={"rerank_depth": 10}),
            "answer": Settings().answer.model_copy(update={"reader": True}),
        }
    )
    reader = Reader(out)
    answer = Assistant(index, settings, reader=reader).ask("Why did Japan attend the summit?")
    assert answer.answered and answer.citations
    for c in answer.citations:  # still verbatim, cited sentences of stored articles
        assert index.article(c.article_id).text[c.quote_start : c.quote_end] == c.quote
    scores = reader.probabilities("Why did Japan attend?", [c.quote for c in answer.citations])
    assert scores.shape == (len(answer.citations),) and np.all((scores > 0) & (scores < 1))


def test_a_missing_model_file_is_named_with_how_to_rebuild(tmp_path):
    with pytest.raises(SettingsError) as caught:
        Reader(tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "model.onnx") in message and "make reader" in message
    assert "ASSISTANT_ANSWER__READER=false" in message


@pytest.mark.slow
def test_a_damaged_model_file_is_named_with_how_to_rebuild(trained, tmp_path):
    out, _ = trained
    shutil.copyfile(out / "tokenizer.json", tmp_path / "tokenizer.json")
    (tmp_path / "model.onnx").write_bytes(b"not a model" * 100)
    with pytest.raises(SettingsError) as caught:
        Reader(tmp_path)
    assert str(tmp_path) in str(caught.value) and "make reader" in str(caught.value)


def test_with_the_reader_off_no_model_is_needed(tmp_path, embedder, monkeypatch):
    from index import ArticleIndex

    monkeypatch.setattr("assistant.answer.reader.MODEL_DIR", tmp_path / "nowhere")
    index = ArticleIndex.open(tmp_path / "store", embedder=embedder)
    assert index.sync([SAMPLES]).failed == 0
    off = Settings(store=tmp_path / "store").model_copy(
        update={"answer": Settings().answer.model_copy(update={"reader": False})}
    )
    assert Assistant(index, off).ask("Why did Japan attend the Madrid summit?").answered
    on = off.model_copy(update={"answer": off.answer.model_copy(update={"reader": True})})
    with pytest.raises(SettingsError, match="nowhere"):
        Assistant(index, on)


# Made-up news sentences (no RealTime QA question): the answer and three distractors each.
KNOWN = [
    (
        "Which city will host the 2028 Summer Olympics?",
        "Los Angeles will host the 2028 Summer Olympics, the third time the city has held the Games.",
        (
            "The International Olympic Committee met in Lausanne on Tuesday.",
            "Athletes from more than 200 countries are expected to compete.",
            "Tickets for the opening ceremony went on sale last year.",
        ),
    ),
    (
        "Why did Japan attend the NATO summit in Madrid?",
        "Japan attended the summit because it sees Russia's invasion of Ukraine as a threat to "
        "security in Asia as well.",
        (
            "The summit was held in Madrid on June 29 and 30.",
            "Leaders posed for a family photo at the Prado museum.",
            "Spain's prime minister welcomed the delegations.",
        ),
    ),
    (
        "How many people were killed in the earthquake?",
        "At least 1,000 people were killed when the magnitude 5.9 earthquake struck the region, "
        "officials said.",
        (
            "Rescue teams arrived from neighbouring provinces on Thursday.",
            "The government appealed for international aid.",
            "Roads into the mountainous area were damaged by landslides.",
        ),
    ),
]


def test_the_shipped_reader_loads_offline_and_ranks_the_answer_first(monkeypatch):
    from assistant.answer.reader import MODEL_DIR

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert (MODEL_DIR / "model.onnx").stat().st_size < 30 * 2**20
    manifest = json.loads((MODEL_DIR / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["held_out"]["held-out_mrr@10"] > 0.5
    reader = Reader()
    for question, answer, distractors in KNOWN:
        scores = reader.probabilities(question, [answer, *distractors])
        assert int(np.argmax(scores)) == 0, (question, scores)
        assert scores[0] > 0.2 and scores[1:].max() < scores[0]


def test_the_assistant_reads_with_the_shipped_reader_by_default():
    assert Settings().answer.reader is True

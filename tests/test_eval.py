"""`assistant eval` on a five-article store built here, against hand-computed metrics; the
normalisation and metric functions on their own; and bad questions files."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.answer.choices import contains_answer, normalise_answer, pick_choice, whole_articles
from assistant.answer.passage import Passage
from assistant.answer.retrieve import Ranked
from assistant.evaluate import (
    article_ranking,
    gold_rank,
    hit_at,
    load_questions,
    mrr_at,
    normalise_id,
)
from index import ArticleError, ArticleInfo, Chunk
from tests.eval_fixture import ARTICLES, CHARGER, SQUID, write_fixture
from tests.helpers import ROOT

# Hand-computed from the fixture. With the as-of filter: q1, q2 rank 1; q3 (filtered out) and
# q4 (not stored) miss; answers right for q1, q2, q4; choices right for q1, q2, q4, q3 abstains.
AS_OF = {
    "with_gold": 4,
    "gold_in_store": 3,
    "hit": {"1": 0.5, "5": 0.5, "10": 0.5},
    "mrr_at_10": 0.5,
    "with_answers": 5,
    "evidence_in_passages": 0.6,
    "evidence_in_citations": 0.6,
    "accuracy": 0.6,
    "with_choices": 4,
    "choice_accuracy": 0.75,
    "choice_abstained": 1,
    # q1, q2, q3 have their gold article stored (q3's is published after it was asked)
    "gold_stored": {
        "evidence_in_passages": 2 / 3,
        "accuracy": 2 / 3,
        "choice_accuracy": 2 / 3,
    },
}
# Without it, q3 finds its article at rank 2 (the title bonus puts "Squid Game returns", two of
# the question's words, above "Emmy night", one) and its answer and choice are right.
NO_AS_OF = {
    **AS_OF,
    "hit": {"1": 0.5, "5": 0.75, "10": 0.75},
    "mrr_at_10": 0.625,
    "evidence_in_passages": 0.8,
    "evidence_in_citations": 0.8,
    "accuracy": 0.8,
    "choice_accuracy": 1.0,
    "choice_abstained": 0,
    "gold_stored": {"evidence_in_passages": 1.0, "accuracy": 1.0, "choice_accuracy": 1.0},
}


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory, embedder):
    """A store of the fixture articles (shared by this module's tests) and the questions file."""
    from index import ArticleIndex

    folder = tmp_path_factory.mktemp("eval")
    articles, questions = write_fixture(folder / "data")
    index = ArticleIndex.open(folder / "store", embedder=embedder)
    assert index.sync([articles]).added == len(ARTICLES)
    return index, questions


def _metrics(report: dict) -> dict:
    return {k: report[k] for k in AS_OF}


def _approx(expected: dict) -> dict:
    return {k: pytest.approx(v) if isinstance(v, float | dict) else v for k, v in expected.items()}


def test_evaluation_matches_hand_computed_metrics_as_of_the_question_date(fixture_store):
    from assistant.assistant import Assistant
    from assistant.cli.evaluation import format_report
    from assistant.evaluate import evaluate
    from assistant.settings import Settings

    index, questions = fixture_store
    assistant = Assistant(index, Settings(store=Path(index.folder)))
    report = evaluate(assistant, load_questions(questions, as_of_field="asked_on"))
    assert report.questions == 5
    assert _metrics(report.to_dict()) == _approx(AS_OF)
    by_id = {r.id: r for r in report.results}
    assert by_id["q1"].gold_rank == 1 and by_id["q3"].gold_rank is None
    assert by_id["q4"].gold_in_store is False and by_id["q5"].gold_in_store is None
    assert report.latency_p50 > 0 and report.latency_p95 >= report.latency_p50
    printed = format_report(report).splitlines()
    stored = printed.index(next(line for line in printed if line.startswith("where the gold")))
    assert printed[stored].split()[-1] == "3"  # q1, q2, q3
    assert printed[stored + 3].split()[-2:] == ["0.667", "3"]  # their multiple choice


def test_eval_command_json_without_as_of_filter(fixture_store):
    index, questions = fixture_store
    result = subprocess.run(
        [
            *(sys.executable, "-m", "assistant", "eval", str(questions)),
            *("--store", str(index.folder), "--json", "--mode", "hybrid", "--top-k", "5"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert _metrics(report) == _approx(NO_AS_OF)
    assert report["settings"]["retrieval_mode"] == "hybrid"
    assert report["settings"]["top_k"] == 5 and report["settings"]["as_of_field"] == ""
    assert len(report["results"]) == 5 and "Traceback" not in result.stderr


GOOD = '{"question": "Fine?", "asked_on": "2022-06-16"}'


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (None, ": no such questions file"),
        ([GOOD, "{not json"], ":2: not valid JSON"),
        ([GOOD, "", '{"answers": ["x"]}'], ':3: has no "question"'),
        (['["a list"]'], ":1: expected a JSON object"),
        (
            [GOOD, '{"question": "Q?", "asked_on": "2022-06-16", "answers": 3}'],
            ':2: "answers" must be a list of strings',
        ),
        (['{"question": "Q?", "asked_on": "soon"}'], ":1: \"asked_on\" is 'soon', not a date"),
        (['{"question": "Q?"}'], ':1: has no "asked_on"'),
    ],
)
def test_bad_questions_file_is_one_line_error_naming_file_and_line(tmp_path, lines, message):
    path = tmp_path / "questions.jsonl"
    if lines is not None:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = subprocess.run(
        [
            *(sys.executable, "-m", "assistant", "eval", str(path)),
            *("--as-of-field", "asked_on", "--store", str(tmp_path / "no-store")),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {path}{message}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_empty_questions_file_is_an_error(tmp_path):
    (tmp_path / "empty.jsonl").write_text("\n\n", encoding="utf-8")
    with pytest.raises(ArticleError, match="holds no questions"):
        load_questions(tmp_path / "empty.jsonl")


def test_load_questions_reads_fields_and_limit(tmp_path):
    _, questions = write_fixture(tmp_path)
    loaded = load_questions(questions, as_of_field="asked_on", limit=2)
    assert [q.id for q in loaded] == ["q1", "q2"]
    assert loaded[0].as_of == "2022-06-16" and loaded[0].line == 1
    assert loaded[0].choices[1] == "“Squid Game”" and loaded[1].gold_ids == (CHARGER,)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("“Squid Game”", "squid game"),
        ("‘Squid Game’ is back!", "squid game is back"),
        ("The  Economist, an   apple a day", "economist apple day"),
        ("U.S. officials", "us officials"),
        ("Theatre and another", "theatre and another"),
    ],
)
def test_normalise_answer_squad_style(text, expected):
    assert normalise_answer(text) == expected


def test_contains_answer_ignores_quotes_and_needs_word_boundaries():
    assert contains_answer('Netflix renewed "Squid Game" today.', ["“Squid Game”"])
    assert contains_answer("It was the Europe team.", ["europe"])
    assert not contains_answer("The status quo holds.", ["us"])
    assert not contains_answer("anything", ["", "—"])


def _ranked(*article_ids: str) -> list[Ranked]:
    return [
        Ranked(Chunk(f"c{i}", i, 0, 1, "x", ArticleInfo(a)), 1.0 / (i + 1))
        for i, a in enumerate(article_ids)
    ]


def test_article_ranking_counts_an_article_at_its_best_chunk():
    assert article_ranking(_ranked("a", "b", "a", "c", "b", "d")) == ["a", "b", "c", "d"]


def test_gold_rank_ignores_url_fragments():
    articles = ["x", "https://cdc.gov/tracker/#vaccinations", "y"]
    assert gold_rank(articles, ["https://cdc.gov/tracker/#other"]) == 2
    assert gold_rank(articles, ["z"]) is None
    assert normalise_id("https://a.org/p.html#:~:text=x") == "https://a.org/p.html"


def test_hit_and_mrr_by_hand():
    ranks = [1, 3, None, 12]
    assert hit_at(ranks, 1) == 0.25 and hit_at(ranks, 5) == 0.5 and hit_at(ranks, 10) == 0.5
    assert mrr_at(ranks, 10) == pytest.approx((1 + 1 / 3) / 4)


def _passage(text: str) -> Passage:
    return Passage(ArticleInfo("a", "t", "s"), 0, len(text), text, 1.0)


def test_pick_choice_prefers_the_choice_in_the_sentence_that_answers(embedder):
    passages = [
        _passage(
            "The bakery oven in the village runs at 38.7 degrees Celsius for proving dough. "
            "Britain recorded its highest temperature ever on Tuesday, 40.3 degrees Celsius."
        )
    ]
    choices = ["38.7 degrees Celsius", "40.3 degrees Celsius", "35.2 degrees Celsius"]
    question = "What was the highest temperature ever recorded in Britain?"
    assert pick_choice(question, choices, passages, embedder.embed) == 1


def test_pick_choice_abstains_without_support(embedder):
    passages = [_passage("Railways ran slow services and schools closed early on Tuesday.")]
    choices = ["Jonas Vingegaard", "Tadej Pogacar"]
    assert pick_choice("Who won the Tour de France?", choices, passages, embedder.embed) is None


def test_choices_are_judged_from_the_whole_articles_behind_the_passages(fixture_store, embedder):
    index, _ = fixture_store
    text = index.article(SQUID).text
    first = text[: text.index(". ") + 1]  # the passage quotes only the announcement
    info = ArticleInfo(SQUID, "Squid Game returns", "example.org", published="2022-06-12")
    passage = Passage(info, 0, len(first), first, 1.0)
    gone = Passage(ArticleInfo("https://example.org/removed", "t", "s"), 0, 9, "Old text.", 0.5)
    evidence = whole_articles(index, [passage, replace(passage, start=5), gone])
    assert [p.article_id for p in evidence] == [SQUID, gone.article_id]
    assert evidence[0].text == text and (evidence[0].start, evidence[0].end) == (0, len(text))
    assert evidence[1] == gone  # no longer stored: its passage is kept

    question = "Where will production of the new Squid Game season start?"
    choices = ["Busan", "Seoul", "Tokyo"]
    assert pick_choice(question, choices, [passage], embedder.embed) is None
    assert pick_choice(question, choices, evidence, embedder.embed) == 1

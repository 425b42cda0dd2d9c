"""Evaluation on questions with known answers, through the same path as `Assistant.ask`.

A questions file is JSON lines (the RealTime QA format); only "question" is required:

    {"id": "...", "question": "...", "answers": ["..."], "choices": ["..."],
     "gold_ids": ["<article id>"], "asked_on": "2022-06-16"}

Per question, `Assistant.ask` answers it (timed), then the ranking behind that answer is read back
from `Retriever.rank_chunks` with the same question and filters. Measured:

- retrieval (questions with gold ids): Hit@1/5/10 and MRR@10 of the gold article in the article
  ranking, i.e. the chunk ranking deduplicated by article, an article counting at the rank of its
  best chunk. Ids are compared without a `#fragment` (some gold ids carry `#:~:text=...`).
- evidence: a gold answer appears in the top-k passages, and in the passages the answer cites.
- accuracy: the answer text contains a gold answer, SQuAD-normalised (`normalise_answer`).
- multiple choice: the choice best supported by the sentences of the articles the answer's
  passages come from (`assistant.answer.choices`).
- latency of `ask`, p50 and p95.

An answer that says the articles don't tell (`answered` False) counts as neither correct nor
citing evidence. Not here: printing (`assistant.cli.evaluation`) and benchmarks (`bench/`).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answer.choices import contains_answer, normalise_answer, pick_choice, whole_articles
from assistant.answer.retrieve import Ranked, merge_passages
from assistant.assistant import Assistant, make_filters
from assistant.errors import ArticleError
from index import ArticleIndex

RANK_DEPTH = 10  # the article ranking must reach this deep for Hit@10 and MRR@10
HIT_AT = (1, 5, 10)


# -- the questions file -----------------------------------------------------------------------
@dataclass(frozen=True)
class EvalQuestion:
    """One line of a questions file; `as_of` is the date the question is answered as of."""

    id: str
    question: str
    answers: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    gold_ids: tuple[str, ...] = ()
    as_of: str = ""
    line: int = 0


def load_questions(
    path: Path | str, as_of_field: str | None = None, limit: int | None = None
) -> list[EvalQuestion]:
    """The questions of a JSON-lines file; a bad line is an `ArticleError` naming file and line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ArticleError(str(path), "no such questions file; check the path") from None
    except UnicodeDecodeError:
        raise ArticleError(str(path), "is not UTF-8 text; expected JSON lines") from None
    except OSError as exc:
        raise ArticleError(str(path), f"cannot be read ({exc.strerror})") from None
    questions: list[EvalQuestion] = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            questions.append(_parse_line(line, str(path), number, as_of_field))
            if limit and len(questions) >= limit:
                break
    if not questions:
        raise ArticleError(str(path), "holds no questions; expected one JSON object per line")
    return questions


def _parse_line(line: str, path: str, number: int, as_of_field: str | None) -> EvalQuestion:
    def fail(reason: str) -> ArticleError:
        return ArticleError(path, reason, number)

    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise fail(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(item, dict):
        raise fail('expected a JSON object with a "question"')
    question = item.get("question")
    if not isinstance(question, str) or not question.strip():
        raise fail('has no "question" (a non-empty string)')
    as_of = ""
    if as_of_field:
        value = item.get(as_of_field)
        if value in (None, ""):
            raise fail(f'has no "{as_of_field}" (the field to take the as-of date from)')
        try:
            as_of = dt.date.fromisoformat(str(value).strip()[:10]).isoformat()
        except ValueError:
            raise fail(f'"{as_of_field}" is {value!r}, not a date YYYY-MM-DD') from None
    lists = {}
    for name in ("answers", "choices", "gold_ids"):
        value = item.get(name) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(f'"{name}" must be a list of strings')
        lists[name] = tuple(value)
    return EvalQuestion(
        id=str(item.get("id", f"line {number}")),
        question=question,
        as_of=as_of,
        line=number,
        **lists,
    )


# -- normalisation ----------------------------------------------------------------------------
def normalise_id(article_id: str) -> str:
    """An article id without its `#fragment`, so gold ids and stored ids compare equal."""
    return article_id.split("#", 1)[0].strip()


# -- retrieval metrics ------------------------------------------------------------------------
def article_ranking(ranked: Sequence[Ranked]) -> list[str]:
    """Article ids in the order of their best chunk."""
    seen: dict[str, None] = {}
    for item in ranked:
        seen.setdefault(item.chunk.article_id, None)
    return list(seen)


def gold_rank(articles: Sequence[str], gold_ids: Sequence[str]) -> int | None:
    """1-based rank of the first gold article in the ranking, None if absent."""
    gold = {normalise_id(g) for g in gold_ids}
    for rank, article_id in enumerate(articles, start=1):
        if normalise_id(article_id) in gold:
            return rank
    return None


def with_copies(index: ArticleIndex, gold_ids: Sequence[str], store_ids: set[str]) -> list[str]:
    """The gold articles and their stored copies (`index.fold_copies`): retrieval keeps one
    article per story, so the story found through another outlet's copy counts as found."""
    out = list(gold_ids)
    for gold in gold_ids:
        if normalise_id(gold) in store_ids:
            out += index.copies_of(normalise_id(gold))
    return out


def hit_at(ranks: Sequence[int | None], k: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0


def mrr_at(ranks: Sequence[int | None], k: int) -> float:
    return sum(1 / r for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0


# -- the run ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuestionResult:
    """What one question scored. None: the metric does not apply (no gold ids, answers, ...)."""

    id: str
    seconds: float
    answered: bool
    articles_ranked: int
    gold_in_store: bool | None = None
    gold_rank: int | None = None
    in_passages: bool | None = None
    in_citations: bool | None = None
    correct: bool | None = None
    choice: int | None = None
    choice_correct: bool | None = None


def run_one(assistant: Assistant, q: EvalQuestion, store_ids: set[str]) -> QuestionResult:
    """Ask one question, then score its answer, passages and article ranking."""
    filters = {"as_of": q.as_of} if q.as_of else {}
    began = time.perf_counter()
    answer = assistant.ask(q.question, **filters)
    seconds = time.perf_counter() - began
    # the ranking behind the answer: same standalone question, filters and settings as `ask`
    ranked = assistant.retriever.rank_chunks(answer.standalone_question, make_filters(**filters))
    articles = article_ranking(ranked)
    passages = merge_passages(ranked, assistant.settings.retrieval.top_k)
    result = QuestionResult(
        id=q.id, seconds=seconds, answered=answer.answered, articles_ranked=len(articles)
    )
    if q.gold_ids:
        present = any(normalise_id(g) in store_ids for g in q.gold_ids)
        rank = gold_rank(articles, with_copies(assistant.index, q.gold_ids, store_ids))
        result = replace(result, gold_in_store=present, gold_rank=rank)
    if q.answers:
        cited = answer.answered and any(
            contains_answer(c.passage, q.answers) for c in answer.citations
        )
        result = replace(
            result,
            in_passages=any(contains_answer(p.text, q.answers) for p in passages),
            in_citations=cited,
            correct=answer.answered and contains_answer(answer.text, q.answers),
        )
    if q.choices:
        evidence = whole_articles(assistant.index, passages)
        pick = pick_choice(
            answer.standalone_question,
            q.choices,
            evidence,
            assistant.index.embed,
            assistant.reader,
            assistant.settings.answer.choice_reader_share,
        )
        gold = {normalise_answer(a) for a in q.answers}
        scorable = any(normalise_answer(c) in gold for c in q.choices)
        right = pick is not None and normalise_answer(q.choices[pick]) in gold
        result = replace(result, choice=pick, choice_correct=right if scorable else None)
    return result


def run(assistant: Assistant, questions: Sequence[EvalQuestion]) -> Iterator[QuestionResult]:
    """Each question's result, in order, as it is scored.

    One untimed retrieval first loads the embedding model and the BM25 matrix, so that the
    latency of the first question is not the start-up of the process.
    """
    store_ids = {normalise_id(a) for a in assistant.index.records()}
    if questions:
        assistant.retrieve(questions[0].question)
    for q in questions:
        yield run_one(assistant, q, store_ids)


# -- the summary ------------------------------------------------------------------------------
@dataclass(frozen=True)
class EvalReport:
    """The metrics over a run; a share is None when no question could be scored for it."""

    questions: int
    settings: dict[str, Any]
    with_gold: int
    gold_in_store: int
    hit: dict[str, float | None]  # "1", "5", "10" -> Hit@k
    mrr_at_10: float | None
    short_rankings: int  # questions whose ranking held fewer than RANK_DEPTH articles
    with_answers: int
    evidence_in_passages: float | None
    evidence_in_citations: float | None
    answered: float
    accuracy: float | None
    answered_accuracy: float | None  # of the questions answered: the answer text holds it
    with_choices: int
    choice_accuracy: float | None
    choice_abstained: int
    latency_p50: float
    latency_p95: float
    # the answer metrics again, over the questions whose gold article is in the store: what the
    # assistant does when the collection holds the story asked about
    gold_stored: dict[str, float | None] = field(default_factory=dict)
    results: tuple[QuestionResult, ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarise(results: Sequence[QuestionResult], settings: dict[str, Any]) -> EvalReport:
    gold = [r for r in results if r.gold_in_store is not None]
    ranks = [r.gold_rank for r in gold]
    answers = [r for r in results if r.correct is not None]
    choices = [r for r in results if r.choice_correct is not None]
    stored_answers = [r for r in answers if r.gold_in_store]
    stored_choices = [r for r in choices if r.gold_in_store]
    seconds = [r.seconds for r in results]
    return EvalReport(
        questions=len(results),
        settings=settings,
        with_gold=len(gold),
        gold_in_store=sum(1 for r in gold if r.gold_in_store),
        hit={str(k): hit_at(ranks, k) if gold else None for k in HIT_AT},
        mrr_at_10=mrr_at(ranks, RANK_DEPTH) if gold else None,
        short_rankings=sum(1 for r in results if r.articles_ranked < RANK_DEPTH),
        with_answers=len(answers),
        evidence_in_passages=_share(answers, "in_passages"),
        evidence_in_citations=_share(answers, "in_citations"),
        answered=sum(r.answered for r in results) / len(results) if results else 0.0,
        accuracy=_share(answers, "correct"),
        answered_accuracy=_share([r for r in answers if r.answered], "correct"),
        with_choices=len(choices),
        choice_accuracy=_share(choices, "choice_correct"),
        choice_abstained=sum(1 for r in choices if r.choice is None),
        latency_p50=float(np.percentile(seconds, 50)) if seconds else 0.0,
        latency_p95=float(np.percentile(seconds, 95)) if seconds else 0.0,
        gold_stored={
            "evidence_in_passages": _share(stored_answers, "in_passages"),
            "accuracy": _share(stored_answers, "correct"),
            "choice_accuracy": _share(stored_choices, "choice_correct"),
        },
        results=tuple(results),
    )


def _share(results: Sequence[QuestionResult], name: str) -> float | None:
    return sum(bool(getattr(r, name)) for r in results) / len(results) if results else None


def describe_settings(assistant: Assistant) -> dict[str, Any]:
    """The settings that shape the scores, for the report."""
    s = assistant.settings
    return {
        "answers": assistant.mode,
        "reader": s.answer.reader,
        "llm_model": assistant.model_label,
        "retrieval_mode": s.retrieval.mode,
        **s.retrieval.model_dump(exclude={"mode"}),
        "embedding_model": s.index.embedding_model,
        "embedding_backend": s.index.embedding_backend,
        "chunk_tokens": s.index.chunk_tokens,
        "chunk_overlap": s.index.chunk_overlap,
        "store": str(s.store),
    }


def evaluate(assistant: Assistant, questions: Sequence[EvalQuestion]) -> EvalReport:
    """Run every question and summarise (the CLI runs `run` itself to show progress)."""
    return summarise(list(run(assistant, questions)), describe_settings(assistant))

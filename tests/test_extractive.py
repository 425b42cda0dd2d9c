"""Extractive sentence choice with the real embedding model: the kind of answer a question asks
for, the shortlist that bounds embedding work, and declining when nothing is close enough."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answer import extractive
from assistant.answer.passage import Passage
from assistant.settings import AnswerSettings
from index import ArticleInfo

ARTICLE = (
    "The city council met on Tuesday to discuss the new bridge over the river. "
    "Council members argued for hours about the bridge and its design. "
    "The bridge will cost 42 million dollars and open in 2025. "
    "Residents said the old crossing was often closed by floods in spring. "
    "Traffic engineers expect the bridge to carry most trucks that now cross downtown. "
    "The mayor thanked the engineers and the residents who came to the meeting. "
    "A second vote on the bridge budget is planned for next month."
)
OTHER = (
    "Local schools will add a music program next year. "
    "Parents asked the school board for more teachers in the music program."
)


def _passage(text: str, rank: int, offset: int = 100) -> Passage:
    return Passage(ArticleInfo("a" if rank == 1 else "b"), offset, offset + len(text), text, 1.0)


@pytest.fixture
def counting(embedder):
    """The real embedder, recording how many texts each call embeds."""
    calls: list[int] = []

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return embedder.embed(texts)

    return embed, calls


def test_how_much_question_answered_by_the_sentence_with_the_number(counting):
    embed, _ = counting
    passages = [_passage(ARTICLE, 1), _passage(OTHER, 2)]
    out = extractive.choose(
        "How much will the new bridge cost?", passages, embed, AnswerSettings(max_sentences=1)
    )
    assert out.answered
    assert out.sentences[0].text == "The bridge will cost 42 million dollars and open in 2025."
    c = out.sentences[0]
    assert ARTICLE[c.start - 100 : c.end - 100] == c.text  # offsets into the article


def test_only_the_shortlist_is_embedded_and_it_keeps_the_answer(counting):
    embed, calls = counting
    passages = [_passage(ARTICLE, 1), _passage(OTHER, 2)]
    settings = AnswerSettings(max_sentences=1, max_candidates=3)
    out = extractive.choose("How much will the new bridge cost?", passages, embed, settings)
    assert calls == [1 + 3]  # the question and three sentences, not all nine
    assert "42 million" in out.sentences[0].text


def test_zero_candidates_means_every_sentence(counting):
    embed, calls = counting
    passages = [_passage(ARTICLE, 1), _passage(OTHER, 2)]
    pool = extractive.candidates(passages)
    extractive.choose("Why was a bridge needed?", passages, embed, AnswerSettings(max_candidates=0))
    assert calls == [1 + len(pool)]


def test_further_sentences_need_a_share_of_the_best_sentences_relevance(counting):
    embed, _ = counting
    passages = [_passage(ARTICLE, 1), _passage(OTHER, 2)]
    question = "What do people say about the new bridge?"
    counts = []
    for share in (1.0, 0.9, 0.6, 0.0):
        out = extractive.choose(question, passages, embed, AnswerSettings(keep_share=share))
        best = out.sentences[0].relevance
        assert out.answered and all(c.relevance >= share * best for c in out.sentences)
        counts.append(len(out.sentences))
    assert counts[0] == 1 and counts[-1] == 3  # the best alone ... up to max_sentences
    assert counts == sorted(counts)


def test_lines_that_point_to_other_articles_are_not_quoted(counting):
    embed, _ = counting
    teasers = (
        "More: How much will the new bridge cost the city?\n"
        "NEW BRIDGE COSTS:How much the new bridge will cost\n"
        "►How much will the new bridge cost the city\n"
    )
    text = teasers + ARTICLE
    assert len(extractive.candidates([_passage(text, 1)], quotable=False)) == 3 + 7  # sentences
    assert len(extractive.candidates([_passage(text, 1)])) == 7  # but never quoted
    out = extractive.choose(
        "How much will the new bridge cost?",
        [_passage(text, 1)],
        embed,
        AnswerSettings(keep_share=0.0),
    )
    quoted = [c.text for c in out.sentences]
    assert out.answered and len(quoted) == 3
    assert "The bridge will cost 42 million dollars and open in 2025." in quoted
    assert not any(t.strip() in quoted for t in teasers.splitlines())
    assert all(c.text in ARTICLE for c in out.sentences)


def test_unrelated_question_is_declined_with_closest_sentences(counting):
    embed, _ = counting
    passages = [_passage(ARTICLE, 1), _passage(OTHER, 2)]
    out = extractive.choose(
        "Which footballer won the golden boot?", passages, embed, AnswerSettings()
    )
    assert not out.answered
    assert [c.passage.article_id for c in out.sentences] == ["a", "b"]


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Why did Japan attend the summit?", "cause"),
        ("How many people were hurt?", "number"),
        ("What percentage of voters backed it?", "number"),
        ("When did the storm reach Florida?", "date"),
        ("Who won the election in Kenya?", "name"),
        ("Which country hosted the summit?", "proper"),
        ("Tell me about the bridge", None),
    ],
)
def test_question_word_sets_the_expected_kind_of_answer(question, kind):
    assert extractive.answer_kind(question) == kind
    assert (extractive.expected_answer(question) is None) == (kind is None)

"""Citations of LLM answers are checked against the passages with the real embedding model.

The passages are cut from hand-made article texts, so every offset is real: a citation's quote
and passage must slice its article exactly.
"""

from __future__ import annotations

import pytest

from assistant.answer.citations import answer_sentences, check_answer
from assistant.answer.passage import Passage
from assistant.settings import AnswerSettings
from assistant.types import Citation
from index import ArticleInfo

THRESHOLD = AnswerSettings().support_threshold

ARTICLES = {
    "summit": (
        "MADRID, June 30 - NATO leaders ended a three-day summit in Madrid on Thursday. For the "
        "first time, the leaders of Japan, South Korea, Australia and New Zealand took part as "
        "partners.\n\n"
        "Japanese Prime Minister Fumio Kishida said the security of Europe and the security of "
        "the Indo-Pacific cannot be separated. He warned that Russia's invasion of Ukraine could "
        "encourage attempts to change borders by force in East Asia.\n\n"
        "The alliance formally invited Finland and Sweden to join after Turkey dropped its "
        "objections. Allies also agreed to raise the number of troops on high readiness from "
        "about 40,000 to more than 300,000.\n"
    ),
    "heat": (
        "LONDON, July 20 - Britain recorded a temperature above 40 degrees Celsius for the first "
        "time on Tuesday. The Met Office said a provisional reading of 40.3C was taken at "
        "Coningsby in Lincolnshire.\n\n"
        "The London Fire Brigade said it had its busiest day since the Second World War as grass "
        "fires spread. Train services were cancelled because of the risk of rails buckling.\n"
    ),
    "drama": (
        "Netflix\n\nThe streaming service confirmed on Sunday that its Korean survival drama "
        "will return for a second season.\n"
    ),
}


def cut(article_id: str, first: str, last: str) -> Passage:
    """The passage of an article from the sentence starting `first` to the one ending `last`."""
    text = ARTICLES[article_id]
    start = text.index(first)
    end = text.index(last, start) + len(last)
    return Passage(
        info=ArticleInfo(
            article_id,
            title=article_id.title(),
            source="Sample Wire",
            url=f"https://example.org/{article_id}",
            published="2022-07-01",
        ),
        start=start,
        end=end,
        text=text[start:end],
        score=1.0,
    )


PASSAGES = [
    cut("summit", "MADRID", "East Asia."),  # [1] the summit and Kishida
    cut("summit", "The alliance formally", "300,000."),  # [2] Finland, Sweden, troops
    cut("heat", "LONDON", "rails buckling."),  # [3] the heatwave
]

KISHIDA = "Kishida said Europe's security and the Indo-Pacific's security cannot be separated"
FIRE = "The London Fire Brigade had its busiest day since the Second World War"
NORDIC = "Finland and Sweden were invited to join NATO after Turkey dropped its objections"
TROOPS = "NATO will raise its high-readiness troops from about 40,000 to more than 300,000"
INVENTED = "NATO agreed to build a permanent military base on the Moon by 2030"


@pytest.fixture(scope="module")
def check(embedder):
    def _check(text: str, passages: list[Passage] = PASSAGES):
        return check_answer(text, passages, embedder.embed, THRESHOLD)

    return _check


def assert_exact(citation: Citation) -> None:
    article = ARTICLES[citation.article_id]
    assert article[citation.start : citation.end] == citation.passage
    assert article[citation.quote_start : citation.quote_end] == citation.quote
    assert citation.start <= citation.quote_start < citation.quote_end <= citation.end


def test_markers_are_read_in_every_common_form():
    text = (
        "One is here [1]. Two cites more [1, 3]. Three stacks them [1][2]. Four names it "
        "[Source 2]. Five spans [1-3]. Six ends. [3] Seven ends too.\n[2] Eight opens a line."
    )
    assert answer_sentences(text) == [
        ("One is here.", [1]),
        ("Two cites more.", [1, 3]),
        ("Three stacks them.", [1, 2]),
        ("Four names it.", [2]),
        ("Five spans.", [1, 2, 3]),
        ("Six ends.", [3]),
        ("Seven ends too.", []),
        ("Eight opens a line.", [2]),
    ]


def test_supported_sentence_keeps_its_citation_with_exact_quote(check):
    text, sentences, citations = check(f"{KISHIDA} [1].")
    assert sentences[0].supported and sentences[0].citations == (1,)
    assert sentences[0].support >= THRESHOLD
    (citation,) = citations
    assert citation.article_id == "summit" and citation.start == 0
    assert citation.quote.startswith("Japanese Prime Minister Fumio Kishida said")
    assert_exact(citation)
    assert text == f"{KISHIDA}. [1]"


def test_markers_pointing_at_no_passage_are_dropped(check):
    text, sentences, citations = check(f"{KISHIDA} [7][1]. {FIRE} [9].")
    assert [s.citations for s in sentences] == [(1,), (2,)]  # [9] alone: re-attributed
    assert [c.article_id for c in citations] == ["summit", "heat"]
    assert "[7]" not in text and "[9]" not in text


def test_sentence_citing_the_wrong_passage_is_reattributed(check):
    _, sentences, citations = check(f"{FIRE} [2].")
    assert sentences[0].supported and sentences[0].citations == (1,)
    (citation,) = citations
    assert citation.article_id == "heat"
    assert citation.quote.startswith("The London Fire Brigade said")
    assert_exact(citation)


def test_invented_sentence_is_flagged_unsupported_and_loses_its_marker(check):
    text, sentences, citations = check(f"{KISHIDA} [1]. {INVENTED} [2].")
    assert [s.supported for s in sentences] == [True, False]
    assert sentences[1].citations == () and sentences[1].support < THRESHOLD
    assert [c.article_id for c in citations] == ["summit"]
    assert text == f"{KISHIDA}. [1] {INVENTED}."


def test_citations_are_renumbered_in_order_of_first_use(check):
    text, sentences, citations = check(f"{NORDIC} [2]. {FIRE} [3]. {KISHIDA} [1]. {FIRE} [3].")
    assert [s.citations for s in sentences] == [(1,), (2,), (3,), (2,)]
    assert [(c.n, c.article_id, c.start) for c in citations] == [
        (1, "summit", PASSAGES[1].start),
        (2, "heat", 0),
        (3, "summit", 0),
    ]
    assert text == f"{NORDIC}. [1] {FIRE}. [2] {KISHIDA}. [3] {FIRE}. [2]"
    for citation in citations:
        assert_exact(citation)


def test_one_passage_supporting_two_sentences_gives_two_quotes(check):
    _, sentences, citations = check(f"{NORDIC} [2]. {TROOPS} [2].")
    assert [s.citations for s in sentences] == [(1,), (2,)]
    first, second = citations
    assert first.passage == second.passage and first.start == second.start
    assert first.quote.startswith("The alliance formally invited Finland")
    assert second.quote.startswith("Allies also agreed to raise")
    for citation in citations:
        assert_exact(citation)


def test_quotes_slice_articles_exactly_for_passages_that_start_mid_article(check):
    _, _, citations = check(f"{TROOPS} [2]. {FIRE} [3]. {KISHIDA} [1].")
    assert len(citations) == 3
    assert citations[0].start > 0 and citations[0].quote_start > citations[0].start
    for citation in citations:
        assert_exact(citation)


def test_empty_answer_and_no_passages(check):
    assert check("") == ("", (), ())
    text, sentences, citations = check(f"{KISHIDA} [1].", [])
    assert citations == () and not sentences[0].supported and text == f"{KISHIDA}."


def test_echoed_fence_tags_go_and_fragments_are_never_quoted(check):
    drama = cut("drama", "Netflix", "second season.")
    raw = '<source id="1">\nNetflix [1].\n‹/source›\nThe drama will get a second season [1].'
    text, sentences, citations = check(raw, [drama])
    assert [(s.text, s.supported) for s in sentences] == [
        ("Netflix.", False),  # the one-word line "Netflix" is no quotable evidence
        ("The drama will get a second season.", True),
    ]
    (citation,) = citations
    assert citation.quote.startswith("The streaming service confirmed")
    assert citation.quote_start == ARTICLES["drama"].index("The streaming")
    assert "source" not in text

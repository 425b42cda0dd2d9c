"""Sentence splitting: hand-written news cases, then properties on the RealTime QA corpus."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from index import split_sentences


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def assert_partition(
    text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None
) -> None:
    """Spans are ordered, disjoint, trimmed, inside the region, and cover all its non-whitespace."""
    end = len(text) if end is None else end
    covered = start
    for s, e in spans:
        assert covered <= s < e <= end, (s, e)
        assert not text[s].isspace() and not text[e - 1].isspace(), text[s:e]
        assert not text[covered:s].strip(), f"uncovered text: {text[covered:s]!r}"
        covered = e
    assert not text[covered:end].strip(), f"uncovered text: {text[covered:end]!r}"


def test_splits_after_terminal_punctuation_before_a_capital_or_digit():
    text = "The cat sat. The dog ran! Did it rain? 2020 was odd.  Yes."
    assert sentences(text) == [
        "The cat sat.",
        "The dog ran!",
        "Did it rain?",
        "2020 was odd.",
        "Yes.",
    ]


def test_does_not_split_before_lower_case():
    assert sentences("He said wait. then left. It rained.") == [
        "He said wait. then left.",
        "It rained.",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Mr. Smith met Mrs. Jones and Dr. Patel at noon.",
        "Sen. Mitch McConnell and Rep. Liz Cheney spoke with Gov. Ned Lamont.",
        "Lt. Gov. Juliana Stratton greeted Gen. Mark Milley and Sgt. Ann Lee.",
        "Prof. Kim of St. Louis and Col. Reed met Capt. Ross.",
        "J. Smith and J. K. Rowling and Robert E. Lee were named.",
        "The song reached No. 1 on Jan. 6, 2021, and again Sept. 11 and Dec. 24.",
        "Roe v. Wade and Brown vs. Board were cited, e.g. Thursday, i.e. Friday.",
        "Martin Luther King Jr. Day is a holiday at Apple Inc. Headquarters.",
        "The U.S. Senate and the U.N. Security Council met at 5 p.m. Tuesday.",
        "Shares rose 3.5 percent to $12.75 on the news.",
        "He paused... and then he left the room.",
    ],
)
def test_abbreviations_initials_decimals_and_ellipses_do_not_end_a_sentence(text: str):
    assert sentences(text) == [text]


def test_abbreviations_that_can_end_a_sentence_end_one_before_a_sentence_starter():
    text = "He moved to the U.S. The move was hard. He joined Apple Inc. He stayed until 5 p.m. Then he left."
    assert sentences(text) == [
        "He moved to the U.S.",
        "The move was hard.",
        "He joined Apple Inc.",
        "He stayed until 5 p.m.",
        "Then he left.",
    ]


def test_month_abbreviation_ends_a_sentence_unless_a_date_follows():
    assert sentences("It began in Jan. The rest followed on Feb. 2.") == [
        "It began in Jan.",
        "The rest followed on Feb. 2.",
    ]


def test_closing_quotes_and_brackets_stay_with_their_sentence():
    text = (
        "“We won,” she said. “It’s over.” Then they left. “Why?” he asked. "
        "\"Go!\" she said. 'Fine.' (It was late.) Later, it rained."
    )
    assert sentences(text) == [
        "“We won,” she said.",
        "“It’s over.”",
        "Then they left.",
        "“Why?” he asked.",
        '"Go!" she said.',
        "'Fine.'",
        "(It was late.)",
        "Later, it rained.",
    ]


def test_opening_quote_starts_a_new_sentence():
    assert sentences("It rained. “Nobody came,” he said.") == [
        "It rained.",
        "“Nobody came,” he said.",
    ]


def test_blank_lines_always_split_even_after_an_abbreviation():
    text = "New York CNN —\n\n“Squid Game” is back\n \n\nwith Mr.\n\nSmith"
    assert sentences(text) == ["New York CNN —", "“Squid Game” is back", "with Mr.", "Smith"]


def test_single_newline_splits_headings_datelines_and_paragraph_lines():
    text = "Biden signs bill\nNew York CNN —\nThe president signed it.\nLawmakers cheered\n• Date: Aug. 14"
    assert sentences(text) == [
        "Biden signs bill",
        "New York CNN —",
        "The president signed it.",
        "Lawmakers cheered",
        "• Date: Aug. 14",
    ]


def test_single_newline_inside_a_wrapped_sentence_does_not_split():
    text = (
        "The president said on Tuesday that\nthe bill would pass, and\nCongress agreed with\n"
        "the plan. He met Mr.\nSmith, the\nSenate leader.\r\nIt ended."
    )
    assert sentences(text) == [
        "The president said on Tuesday that\nthe bill would pass, and\nCongress agreed with\nthe plan.",
        "He met Mr.\nSmith, the\nSenate leader.",
        "It ended.",
    ]


def test_numbered_list_markers_are_not_sentences():
    assert sentences("1. January 6\n\n2. Church shooting") == ["1. January 6", "2. Church shooting"]


def test_region_spans_are_absolute_offsets_inside_the_region():
    text = "Skip this. Keep this one. And this. Skip that."
    start, end = text.index("Keep"), text.index(" Skip that")
    spans = split_sentences(text, start, end)
    assert [text[s:e] for s, e in spans] == ["Keep this one.", "And this."]
    assert_partition(text, spans, start, end)


def test_empty_and_whitespace_only_text_have_no_sentences():
    assert split_sentences("") == []
    assert split_sentences(" \n\n\t ") == []
    assert split_sentences("abc", 2, 2) == []
    assert sentences("  One line without a stop  ") == ["One line without a stop"]


def _corpus(path: Path, limit: int = 200) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line)["text"] for line, _ in zip(f, range(limit), strict=False)]


_TITLE_END = re.compile(
    r"(?<![^\s“\"(])(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Sgt|St|Prof|Capt|[A-Z])\.$"
)


@pytest.mark.shared
def test_corpus_sentences_partition_each_paragraph_and_never_end_on_a_title(shared_articles: Path):
    texts = _corpus(shared_articles)
    began = time.perf_counter()
    all_spans = [split_sentences(t) for t in texts]
    elapsed = time.perf_counter() - began
    total = sum(len(s) for s in all_spans)
    print(
        f"\nsplit {len(texts)} articles into {total} sentences, {elapsed * 1000 / len(texts):.3f} ms per article"
    )
    for text, spans in zip(texts, all_spans, strict=True):
        assert_partition(text, spans)
        for s, e in spans:
            assert "\n\n" not in text[s:e]  # paragraphs always end a sentence
            after = text[e : e + 2]
            if _TITLE_END.search(text[s:e]) and not after.startswith("\n"):
                raise AssertionError(f"sentence ends on a title or initial: {text[s:e]!r}")
    assert total > 20 * len(texts)  # news articles have dozens of sentences, not one per paragraph


@pytest.mark.shared
def test_corpus_cnn_article_splits_like_a_reader_would(shared_articles: Path):
    text = _corpus(shared_articles, 1)[0]
    found = sentences(text)
    assert found[:2] == ["New York CNN —", "“Squid Game” is officially coming back."]
    assert "“The Front Man returns." in found  # a quote of several sentences splits inside
    assert "Season 2 is coming.”" in found
    assert any(
        s.startswith("It is the platform’s first-ever Korean series to reach No. 1") for s in found
    )

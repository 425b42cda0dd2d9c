"""Page furniture and questions are never quoted as answers: the rules on their own, and the
answer they leave over a web-page passage with a caption, a credit, a byline, a newsletter
prompt, a dateline and a quoted question around the sentence that answers."""

from __future__ import annotations

import pytest

from assistant.answer import extractive
from assistant.answer.furniture import dateline_end, is_furniture
from assistant.answer.passage import Passage
from assistant.settings import AnswerSettings
from index import ArticleInfo

PAGE = (
    "By Ana Lopez and Ben Ode, Sample Wire\n\n"
    "Prime Minister Kenji Sato arrives at the summit in Lisbon, June 29, 2022 © Rui Costa/Reuters\n\n"
    "LISBON, June 29 (Sample Wire) - Japan attended the Lisbon summit because the alliance now "
    "sees the security of Europe and of Asia as one.\n\n"
    "“Why would Japan come so far?” one delegate asked.\n\n"
    "Sign up for our free newsletter to get the news in your inbox every morning.\n\n"
    "The leaders also agreed to raise spending on defence over the next decade."
)


@pytest.mark.parametrize(
    ("sentence", "furniture"),
    [
        ("Japan attended the summit because the alliance sees Asia and Europe as one.", False),
        ("Kenji Sato arrives at the summit in Lisbon, June 29, 2022 © Rui Costa/Reuters", True),
        ("Leaders pose for a photo. (Photo by Jane Doe/AFP via Getty Images)", True),
        ("“Who could have predicted this?” she asked.", True),
        ("What happens next?", True),
        ("By Ana Lopez and Ben Ode, Sample Wire", True),
        ("By Tuesday, the fires had burned 10,000 acres across the state.", False),
        ("Sign up for our free newsletter to get the news in your inbox.", True),
        ("We use cookies to improve your experience on this site.", True),
        ("Thousands of people signed up for the vaccine on Monday.", False),
        ("Meta changed its privacy policy last week after regulators objected.", False),
        ("“We will not back down,” he said on Friday.", False),
    ],
)
def test_furniture_and_questions_are_told_from_news(sentence, furniture):
    assert is_furniture(sentence) is furniture


@pytest.mark.parametrize(
    ("sentence", "news"),
    [
        ("MADRID, June 29 (Reuters) - NATO leaders agreed to invite Finland.", "NATO leaders"),
        ("WASHINGTON (AP) — The Senate passed the bill on Thursday.", "The Senate"),
        ("LONDON — Prices rose again in June, the office said.", "Prices rose"),
        ("NATO leaders agreed on Wednesday to invite Finland and Sweden.", "NATO leaders"),
        ("US President Joe Biden - who spoke first - said the alliance was united.", "US Pres"),
        ("(CNN) Angry protesters stormed the residence on Saturday.", "Angry protesters"),
        ("Colombo, Sri Lanka (CNN) For three nights protesters filled the streets.", "For three"),
        ("London (CNN Business) When people took to the streets they chanted.", "When people"),
    ],
)
def test_an_opening_dateline_is_left_out_of_the_quote(sentence, news):
    assert sentence[dateline_end(sentence) :].startswith(news)


def test_the_answer_quotes_the_news_not_the_caption_question_or_prompt(embedder):
    passage = Passage(ArticleInfo("page", "Japan at the summit"), 0, len(PAGE), PAGE, 1.0)
    out = extractive.choose(
        "Why did Japan attend the Lisbon summit?",
        [passage],
        embedder.embed,
        AnswerSettings(max_sentences=3),
    )
    assert out.answered
    quoted = [c.text for c in out.sentences]
    assert quoted[0].startswith("Japan attended the Lisbon summit because")
    assert all(not is_furniture(q) for q in quoted)
    for c in out.sentences:
        assert PAGE[c.start : c.end] == c.text  # still an exact slice of the stored text
    every = [c.text for c in extractive.candidates([passage], quotable=False)]
    assert any("©" in t for t in every)  # the page keeps it: only quoting leaves it out


@pytest.mark.parametrize(
    "sentence",
    [
        "Sign up for the Daily Planet's science newsletter.",
        "From the Network and wire reports",
        "The Associated Press contributed to this report.",
        "Contributing: Ana Lopez, Ben Ode",
        "Editor's note: This page recaps the news from Election Day.",
        "We will use the details you have shared to manage your registration.",
    ],
)
def test_newsletter_prompts_and_report_credits_are_furniture(sentence):
    assert is_furniture(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "He said the newsletter had doubled its readers since May.",
        "Contributing reporters said the fire spread quickly overnight.",
        "Wire services reported heavy rain across the region on Monday.",
    ],
)
def test_news_about_newsletters_and_reports_is_not_furniture(sentence):
    assert not is_furniture(sentence)

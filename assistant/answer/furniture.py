"""Page furniture: text that sits in an article's page but does not tell its news.

Photo captions and credits, bylines, datelines (an agency's alone too: "(CNN) ..."), newsletter,
subscription and cookie prompts, wire-report and contributor credits,
lines that point to other articles ("Related: ...", "► ..."), and questions (a headline's or a speaker's, rhetorical or not) stay in the stored article and
on the page, but are never chosen as a sentence of an answer; a dateline opening a sentence
("MADRID, June 29 (Reuters) - ...") is left out of the quote. The rules read the shape of the
text (symbols, a few fixed words of page layout), never a particular outlet or page.

Not here: choosing answer sentences (`assistant.answer.extractive`).
"""

from __future__ import annotations

import re

_CLOSERS = "\"'”’»)]"
# A question: it ends with "?" (closing quotes or brackets aside), or holds a quoted one
# ("“Who would do that?” she asked.").
_QUESTION = re.compile(rf"\?[{re.escape(_CLOSERS)}\s]*$|\?\s*[”\"’»]")
# A photo caption or credit: a copyright sign, a credit label, a picture agency's credit.
_CREDIT = re.compile(
    r"©|\((?:photo|image|picture|video)\b|\b(?:photo|photograph|image|picture|video)s?"
    r"(?: credit)?\s*(?::|by\b)|\bcredit\s*:|\bgetty images\b|\bshutterstock\b|"
    r"\b[A-Z][A-Za-z]+ ?/ ?(?:AFP|AP|EPA|Reuters|Getty|Bloomberg|Xinhua|Anadolu)\b|"
    r"\b(?:AP|AFP|EPA|Reuters|Xinhua) (?:Photo|Images|Pictures)\b|\bfile photo\b",
    re.IGNORECASE,
)
# A byline, the whole of the text: "By Ana Lopez", "By Ana Lopez and Ben Ode, Sample Wire".
_NAME = r"[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,3}"
_BYLINE = re.compile(
    rf"^(?i:by|written by|reporting by)\s+{_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*"
    r"\s*(?:[,|–—-]\s*[A-Z][\w .&'’-]{0,40})?$"
)
# A prompt of the site around the article: newsletter, subscription, cookies, sharing, apps.
_PROMPT = re.compile(
    r"\b(?:(?:sign up|subscribe)(?: now| today| here|\s+(?:for|to) (?:our|the|a) (?:free )?"
    r"newsletter|\b[^.!?]{0,60}\bnewsletter)|our newsletter|(?:wire reports|"
    r"contributed to this report)\b|newsletter\b.{0,40}\binbox|(?:accept|we use|this site uses) "
    r"(?:all )?cookies|cookie (?:policy|settings|preferences)|all rights reserved|click here|"
    r"download (?:the|our) app|follow us on|share this (?:article|story)|"
    r"manage your (?:registration|subscription|account)|editor['’]s note)\b|"
    r"^advertisement$|^contributing\s*:",
    re.IGNORECASE,
)
# A line that points to another article, not a sentence of this one: a related-link marker
# ("► ...", "More: ...") or a capitalised kicker glued to a headline ("NEW PHOTOS:Headline").
_TEASER = re.compile(
    r"^\s*(?:[►▶»]|(?i:more|read more|related|see also|watch)\s*:|"
    r"[‘“\"']?[A-Z][^a-z:]{2,60}:(?=\S))",
)
# A dateline opening a sentence: a place in capitals, optionally a date, optionally an agency in
# brackets, then a dash: "WASHINGTON (AP) —", "MADRID, June 29 (Reuters) -", "LONDON —".
_DATELINE = re.compile(
    r"^\s*\([A-Z][A-Za-z .&]{1,30}\)\s+(?=[A-Z])|"  # an agency alone: "(CNN) Angry ..."
    # a place then an agency, no dash: "Colombo, Sri Lanka (CNN) For three ..."
    r"^\s*[A-Z][A-Za-z.'’-]*(?:[ ,]+[A-Z][A-Za-z.'’-]*){0,4}\s*\([A-Z][A-Za-z .&]{1,30}\)\s+(?=[A-Z])|"
    r"^\s*[A-Z][A-Z .'’-]{1,40}(?:,\s*[A-Z][A-Za-z.]*(?:\s+[A-Z][A-Za-z.]*)*)?"
    r"(?:,?\s+(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2}|\d{1,2}\s+[A-Z][a-z]{2,8}\.?)(?:,?\s+\d{4})?)?"
    r"\s*(?:\([A-Za-z .&]{1,30}\))?\s*[-–—]{1,2}\s+"
)


def is_furniture(sentence: str) -> bool:
    """Whether the sentence is page furniture or a question, never to be quoted as an answer."""
    text = sentence.strip()
    if not text:
        return True
    rules = (_QUESTION, _CREDIT, _PROMPT, _BYLINE, _TEASER)
    return any(rule.search(text) for rule in rules)


def dateline_end(sentence: str) -> int:
    """Where the sentence's news starts: after a dateline that opens it, else 0."""
    match = _DATELINE.match(sentence)
    if match is None:
        return 0
    rest = sentence[match.end() :]
    return match.end() if len(rest.split()) >= 4 else 0

"""Turn one raw record (a mapping of fields read from a file) into an `Article`.

This is where field aliases are resolved, text is normalised, dates become `YYYY-MM-DD`, ids are
chosen and the content hash is computed. It knows nothing about file formats: `index.sources.formats`
produces the records, `index.sources.files` drives both. Dates are parsed with the standard library and a
fixed list of shapes, so an odd string yields "" rather than a guess.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

from index.types import Article, ArticleInfo

# The first alias present with a non-empty value wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "doc_id"),
    "title": ("title", "headline"),
    "text": ("text", "body", "content"),
    "url": ("url", "link"),
    "source": ("source", "outlet"),
    "published": ("published", "published_at", "publish_date", "date"),
    "author": ("author", "authors"),
}

TITLE_CHARS = 120
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")  # C0 controls except \t (\x09) and \n (\x0a)
_SLUG_SPLIT = re.compile(r"[-_+\s]+")
_FILE_SUFFIX = re.compile(r"\.(?:s?html?|php|aspx?|jsp)$", re.IGNORECASE)
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0B, 0x20)])


class RecordError(ValueError):
    """A record cannot become an article; the message is the reason shown to the user."""


@dataclass(frozen=True)
class Record:
    """Raw fields of one article as read from a file, before aliases and normalisation.

    `ordinal` is the record's position (1-based line of a jsonl file, 1-based index in a json
    list); it is appended to the fallback id (`path#N`) so that records of one file stay apart.
    `line` is the line it was read from, when the format knows it (jsonl).
    """

    fields: Mapping[str, object]
    ordinal: int | None = None
    line: int | None = None


def normalise_text(text: str) -> str:
    """Unify line ends, drop control characters, strip the ends; nothing else.

    Citations are character offsets into the result, so it must not be reflowed or re-encoded.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Deleting the bytes is several times faster than a regex over the characters, and safe:
    # in UTF-8 a byte below 0x20 is always that control character, never part of another.
    raw = text.encode("utf-8", "surrogatepass")
    kept = raw.translate(None, _CONTROL_BYTES)
    if len(kept) != len(raw):
        text = kept.decode("utf-8", "surrogatepass")
    return text.strip()


def one_line(text: str) -> str:
    """A title, author or source: control characters removed and whitespace collapsed."""
    return " ".join(_CONTROL.sub(" ", text).split())


def title_from_url(url: str) -> str:
    """A title from the words of a URL's path ("/2022/06/12/media/squid-game-season-2/index.html"
    gives "Squid game season 2"), or "" when no segment reads as words.

    The last segment of at least two words, one of them a word of three letters or more, wins;
    numbers, ids, file names such as `index.html` and query strings are skipped. News sites put
    the headline's words there.
    """
    path = urlsplit(url).path if "://" in url else ""
    for segment in reversed([unquote(p) for p in path.split("/") if p]):
        stem = _FILE_SUFFIX.sub("", segment)
        words = [w for w in _SLUG_SPLIT.split(stem) if w]
        if len(words) >= 2 and any(w.isalpha() and len(w) >= 3 for w in words):
            title = " ".join(words)
            return one_line(title[:1].upper() + title[1:])[:TITLE_CHARS]
    return ""


def title_from_text(text: str) -> str:
    """The first non-empty line of `text`, cut to about TITLE_CHARS at a word boundary."""
    first = next((line for line in text.split("\n") if line.strip()), "")
    first = one_line(first)
    if len(first) <= TITLE_CHARS:
        return first
    cut = first[:TITLE_CHARS].rsplit(" ", 1)[0] or first[:TITLE_CHARS]
    return cut.rstrip(" ,;:-") + "…"


def content_hash(article: Article) -> str:
    """sha256 (hex) of the fields that shape chunks and citations; `path` is not one of them."""
    fields = [
        article.id,
        article.title,
        article.text,
        article.source,
        article.url,
        article.published,
        article.author,
    ]
    # JSON of a list keeps field boundaries unambiguous ("a"+"bc" != "ab"+"c").
    encoded = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def with_defaults(record: Record, defaults: Mapping[str, str]) -> Record:
    """`record` with the fields of `defaults` (by canonical name: "source", "published") that it
    lacks under every alias; what the record gives itself is kept."""
    missing = {k: v for k, v in defaults.items() if v and _pick(record.fields, k) is None}
    return replace(record, fields={**record.fields, **missing}) if missing else record


def to_article(record: Record, fallback_id: str, path: str) -> Article:
    """Build the article of `record`; raise `RecordError` saying why it is unusable.

    `fallback_id` is used when the record has neither id nor url (the caller appends `#N`).
    """
    fields = record.fields
    text_value = _pick(fields, "text")
    if text_value is None:
        names = ", ".join(ALIASES["text"])
        raise RecordError(f"record has no text (expected a non-empty field: {names})")
    if not isinstance(text_value, str):
        raise RecordError(
            f"field '{_alias_used(fields, 'text')}' is {json_type(text_value)}, expected a string"
        )
    text = normalise_text(text_value)
    if not text:
        raise RecordError("record has no text (the text field holds only whitespace)")
    url = one_line(_as_str(fields, "url"))
    own_id = _as_id(fields)
    title = one_line(_as_str(fields, "title")) or title_from_url(url) or title_from_text(text)
    info = ArticleInfo(
        id=own_id or url or fallback_id,
        title=title,
        source=one_line(_as_str(fields, "source")),
        url=url,
        published=iso_date(_pick(fields, "published")),
        author=one_line(_as_str(fields, "author")),
        path=path,
    )
    article = Article(info, text)
    return Article(replace(info, content_hash=content_hash(article)), text)


def _pick(fields: Mapping[str, object], name: str) -> object | None:
    for alias in ALIASES[name]:
        value = fields.get(alias)
        if value is not None and value != "" and value != []:
            return value
    return None


def _alias_used(fields: Mapping[str, object], name: str) -> str:
    return next((a for a in ALIASES[name] if fields.get(a) not in (None, "", [])), name)


def _as_str(fields: Mapping[str, object], name: str) -> str:
    """A string field; numbers are written out, lists (of authors) joined with ', '."""
    value = _pick(fields, name)
    if value is None:
        return ""
    if isinstance(value, list):
        parts = [_scalar(item, fields, name) for item in value]
        return ", ".join(p for p in parts if p)
    return _scalar(value, fields, name)


def _scalar(value: object, fields: Mapping[str, object], name: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return str(value["name"])  # schema.org style {"name": "Jane Doe"}
    raise RecordError(
        f"field '{_alias_used(fields, name)}' is {json_type(value)}, expected a string"
    )


def _as_id(fields: Mapping[str, object]) -> str:
    value = _pick(fields, "id")
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise RecordError(
        f"field '{_alias_used(fields, 'id')}' is {json_type(value)}, "
        "expected a string or an integer"
    )


def json_type(value: object) -> str:
    """The JSON name of a value's type, as the user wrote it in the file."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# ---- dates -------------------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_MONTH = r"(?P<month>[a-z]+)\.?"
_YEAR = r"(?P<year>\d{4})"
_REST = r"(?:[\s,t].*)?$"  # a time or zone may follow the date (text is lower-cased)
_DATE_SHAPES = [
    re.compile(rf"^{_YEAR}[-/](?P<mnum>\d{{1,2}})[-/]{_DAY}{_REST}"),  # 2022-06-12[T10:00Z]
    re.compile(rf"^{_WEEKDAY}{_MONTH}\s+{_DAY},?\s+{_YEAR}{_REST}"),  # June 12, 2022
    re.compile(rf"^{_WEEKDAY}{_DAY}\s+{_MONTH},?\s+{_YEAR}{_REST}"),  # 12 June 2022, RFC 2822
]
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


def iso_date(value: object) -> str:
    """`YYYY-MM-DD` for a date in any accepted shape, else "" (an unknown date is no error).

    Accepted: ISO dates and datetimes (the date as written, not shifted to UTC), `June 12, 2022`,
    `12 June 2022`, RFC 2822, `20220612`, unix timestamps (seconds, or milliseconds when that
    large) given as numbers or digit strings. Numbers below 1e8 (before 1973) are taken for
    years or counters, not timestamps.
    """
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        return _from_timestamp(float(value))
    if not isinstance(value, str):
        return ""
    text = value.strip()
    if len(text) == 8 and text.isdigit():  # 20220612
        return _valid_date({"year": text[:4], "mnum": text[4:6], "day": text[6:]})
    if _NUMBER.match(text):
        return _from_timestamp(float(text))
    for shape in _DATE_SHAPES:
        match = shape.match(text.lower())
        if match:
            return _valid_date(match.groupdict())
    try:
        return email.utils.parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return ""


def _valid_date(parts: Mapping[str, str | None]) -> str:
    if parts.get("mnum"):
        month: int | None = int(str(parts["mnum"]))
    else:
        month = _MONTHS.get(str(parts.get("month")))
    if month is None:
        return ""
    try:
        return dt.date(int(str(parts["year"])), month, int(str(parts["day"]))).isoformat()
    except ValueError:
        return ""


def _from_timestamp(seconds: float) -> str:
    if abs(seconds) < 1e8:
        return ""
    if abs(seconds) >= 1e11:  # beyond year 5138 in seconds: it must be milliseconds
        seconds /= 1000
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).date().isoformat()
    except (OverflowError, OSError, ValueError):
        return ""

"""Read the bytes of one article file, per format, into raw `Record`s (or `FileError`s).

One reader per format: plain text, Markdown, HTML (main text by trafilatura), PDF (pypdf),
JSON and JSON Lines. Readers check only what their format can get wrong; they do not resolve
field aliases, dates or ids (that is `index.sources.fields`) and do not walk folders or check file size
(that is `index.sources.files`). Text is decoded as UTF-8 only: a wrong guess at a legacy encoding would
silently corrupt the stored text that citations point into, so other encodings are refused.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from index.sources.fields import ALIASES, Record, json_type, normalise_text
from index.sources.urls import canonical_url  # the id a fetched copy of the page gets
from index.types import FileError

Item = Record | FileError

# Fewer words than this after boilerplate removal: a menu or teaser page, not an article.
# (trafilatura falls back to any text on the page when it finds no main content.)
MIN_HTML_WORDS = 15
_BOM = b"\xef\xbb\xbf"
_SNIFF_BYTES = 8192
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_FRONT_MATTER_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$")
_HEADING = re.compile(r"^#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
# Authoring tools often store the source file's name as the PDF title.
_FILENAME_TITLE = re.compile(r"(^microsoft \w+ - )|\.(docx?|odt|rtf|pdf|indd|pages)$", re.I)


def binary_reason(sample: bytes) -> str | None:
    """Why `sample` (a file, or its start) is not text, or None when it may be text."""
    if sample.startswith(_UTF16_BOMS):
        return "is UTF-16 encoded; save it as UTF-8"
    if b"\x00" in sample:
        return (
            "looks binary (it contains NUL bytes), not text; check that the file is what its "
            "extension says"
        )
    return None


def decode(data: bytes, path: str, base_offset: int = 0) -> str | FileError:
    """`data` as UTF-8 (a leading byte-order mark is dropped), or an error naming the bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        start = err.start + (len(_BOM) if data.startswith(_BOM) else 0)
        line = data.count(b"\n", 0, start) + 1
        return FileError(
            path,
            f"is not valid UTF-8: byte 0x{data[start]:02x} at byte offset {base_offset + start} "
            "cannot be decoded; convert the file to UTF-8 "
            "(e.g. `iconv -f windows-1252 -t utf-8 OLD > NEW`)",
            line=line,
        )


def read_txt(text: str, path: str) -> Iterator[Item]:
    """First non-empty line is the title; the rest (leading blank lines dropped) is the text."""
    title, _, rest = normalise_text(text).partition("\n")
    if not rest.strip():
        yield FileError(
            path,
            "holds a title line but no text after it; a .txt article is its title on the "
            "first line followed by the text",
        )
        return
    yield Record({"title": title, "text": rest})


def read_markdown(text: str, path: str) -> Iterator[Item]:
    """Optional `---` front matter of `key: value` lines, then the body.

    Title: front matter `title`, else the first `# ` heading (removed from the text), else
    (later, in `index.sources.fields`) the first line of the text.
    """
    meta, body = _front_matter(normalise_text(text))
    if not meta.get("title"):
        lines = body.split("\n")
        for number, line in enumerate(lines):
            heading = _HEADING.match(line)
            if heading:
                meta["title"] = heading.group(1)
                body = "\n".join(lines[:number] + lines[number + 1 :])
                break
    if not body.strip():
        yield FileError(path, "has no text besides its title and front matter")
        return
    yield Record({**meta, "text": body})


def _front_matter(text: str) -> tuple[dict[str, object], str]:
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return {}, text
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:  # an opening rule without a closing one is just a horizontal rule
        return {}, text
    allowed = {alias for name, aliases in ALIASES.items() if name != "text" for alias in aliases}
    meta: dict[str, object] = {}
    for line in lines[1:end]:
        match = _FRONT_MATTER_KEY.match(line)
        if not match or match.group(1).lower() not in allowed:
            continue
        meta[match.group(1).lower()] = _front_matter_value(match.group(2).strip())
    return meta, "\n".join(lines[end + 1 :])


def _front_matter_value(value: str) -> object:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    if value.startswith("[") and value.endswith("]"):  # author: [Ana Lopez, Ben Ode]
        return [_front_matter_value(v.strip()) for v in value[1:-1].split(",") if v.strip()]
    return value


def read_html(text: str, path: str) -> Iterator[Item]:
    """The page's main text and metadata by trafilatura: no menus, ads, scripts or comments."""
    meta = html_fields(text)
    if isinstance(meta, str):
        yield FileError(path, meta + "; save the article page itself, or its text as .txt")
        return
    url = meta.get("url")
    if isinstance(url, str) and url.strip():
        url = canonical_url(url)
    yield Record(
        {
            "title": meta.get("title"),
            "text": meta["text"],
            "url": url,
            "source": meta.get("sitename"),
            "published": meta.get("date"),
            "author": meta.get("author"),
        }
    )


def html_fields(html: str | bytes, url: str | None = None) -> dict[str, Any] | str:
    """trafilatura's fields of a page (text, title, date, author, sitename, url), or why it
    holds no article: one reason for a saved file and a fetched page alike."""
    import trafilatura  # imported here: it is slow to import and only HTML needs it

    try:
        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
    except Exception as err:  # a third-party parser on arbitrary input: report, never crash
        return f"HTML could not be parsed ({type(err).__name__}: {err})"
    meta: dict[str, Any] = {} if doc is None else doc if isinstance(doc, dict) else doc.as_dict()
    body = meta.get("text")
    words = len(body.split()) if isinstance(body, str) else 0
    if words < MIN_HTML_WORDS:
        found = f"only {words} words of text" if words else "no text"
        return f"no article text in the HTML ({found}: navigation, a teaser or an empty page)"
    return meta


def read_pdf(data: bytes, path: str) -> Iterator[Item]:
    """All pages' text joined by blank lines; title and author from the PDF metadata."""
    import pypdf  # imported here: only PDF files need it

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            yield FileError(path, "PDF is protected by a password; save an unprotected copy")
            return
        pages = [normalise_text(page.extract_text() or "") for page in reader.pages]
        meta = reader.metadata
        title = (meta.title or "") if meta else ""
        author = (meta.author or "") if meta else ""
    except Exception as err:  # pypdf raises many types on damaged files: report, never crash
        yield FileError(path, f"PDF cannot be read ({type(err).__name__}: {err})")
        return
    text = "\n\n".join(page for page in pages if page)
    if not text:
        yield FileError(
            path,
            "PDF has no extractable text (it may be scanned images); run OCR on it first, "
            "e.g. `ocrmypdf IN.pdf OUT.pdf`",
        )
        return
    if _FILENAME_TITLE.search(title):
        title = ""
    yield Record({"title": title, "text": text, "author": author})


_TOO_DEEP = "JSON nested too deeply to read; an article is one flat object of fields"


def read_json(text: str, path: str) -> Iterator[Item]:
    """One object (one article) or a list of objects (record N is `path#N`)."""
    try:
        value = json.loads(text)
    except RecursionError:
        yield FileError(path, _TOO_DEEP)
        return
    except json.JSONDecodeError as err:
        hint = (
            "; the file holds several JSON values: if it has one object per line, name it .jsonl"
            if err.msg == "Extra data"
            else ""
        )
        yield FileError(
            path,
            f"malformed JSON at line {err.lineno}, column {err.colno}: {err.msg}{hint}",
            line=err.lineno,
        )
        return
    if isinstance(value, dict):
        nested = next((k for k, v in value.items() if _is_list_of_objects(v)), None)
        if nested and not any(alias in value for alias in ALIASES["text"]):
            yield FileError(
                path,
                f"the JSON object has no text field but its field '{nested}' holds a list of "
                "objects; make the file that list itself (one article per object)",
            )
            return
        yield Record(value)
    elif isinstance(value, list):
        if not value:
            yield FileError(path, "the JSON list is empty: no articles in this file")
        for index, item in enumerate(value, start=1):
            if isinstance(item, dict):
                yield Record(item, ordinal=index)
            else:
                yield FileError(
                    path, f"record {index} of the list is {json_type(item)}, not an object"
                )
    else:
        yield FileError(
            path, f"the JSON holds {json_type(value)}; expected an object or a list of objects"
        )


def _is_list_of_objects(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _lines(stream: BinaryIO, limit: int) -> Iterator[tuple[bytes, bool]]:
    """Lines of at most `limit` bytes, each with a flag telling if it was longer (and cut)."""
    while True:
        raw = stream.readline(limit + 1)
        if not raw:
            return
        if len(raw) > limit and not raw.endswith(b"\n"):
            while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            yield raw, True
        else:
            yield raw, False


def read_jsonl(stream: BinaryIO, path: str, max_bytes: int = 1 << 62) -> Iterator[Item]:
    """One object per line, read line by line so memory stays bounded; blank lines skipped.

    The size limit applies to each line (record), not to the file, which may be of any size.
    A bad line is reported with its number and the rest of the file is still read.
    """
    reason = binary_reason(stream.read(_SNIFF_BYTES))
    if reason:
        yield FileError(path, reason)
        return
    stream.seek(0)
    offset, seen_any = 0, False
    for number, (raw, cut) in enumerate(_lines(stream, max_bytes), start=1):
        if cut:
            seen_any = True
            yield FileError(
                path,
                f"record is over the limit of {max_bytes / 1048576:g} MB; raise the setting "
                "ASSISTANT_INDEX__MAX_FILE_MB to index it",
                line=number,
            )
            continue
        data = raw[len(_BOM) :] if number == 1 and raw.startswith(_BOM) else raw
        line_start, offset = offset + len(raw) - len(data), offset + len(raw)
        if not data.strip():
            continue
        seen_any = True
        text = decode(data, path, base_offset=line_start)
        if isinstance(text, FileError):
            yield FileError(path, text.reason, line=number)
            continue
        if text.strip() in ("{", "["):
            yield FileError(
                path,
                f"line {number} is only '{text.strip()}': this looks like one pretty-printed "
                "JSON document, not JSON Lines; name the file .json",
                line=number,
            )
            return
        yield from _jsonl_line(text, path, number)
    if not seen_any:
        yield FileError(path, "file is empty (only whitespace)")


def _jsonl_line(text: str, path: str, number: int) -> Iterator[Item]:
    try:
        value = json.loads(text.rstrip())  # the line end would put errors on "line 2"
    except RecursionError:
        yield FileError(path, _TOO_DEEP, line=number)
        return
    except json.JSONDecodeError as err:
        yield FileError(
            path, f"malformed JSON at column {err.colno}: {err.msg}; fix or remove the line", number
        )
        return
    if not isinstance(value, dict):
        yield FileError(path, f"the line holds {json_type(value)}, not an object", line=number)
        return
    yield Record(value, ordinal=number, line=number)

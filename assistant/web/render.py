"""HTML and chat text for the web page: answers, source cards, the library's table and article
reader, index status, upload reports.

Everything that reaches the browser from an article, a file name or a question passes through
`esc` (HTML-escaped text) and links through `safe_url` (http and https only), so markup or script
inside an article is shown as text and never runs. Pure functions of value objects; no Gradio here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from assistant.brief import Brief, nothing_new
from assistant.coverage import Coverage
from assistant.library import LibraryEntry, Removal
from assistant.timeline import Timeline
from assistant.types import Answer, Citation

_MARKDOWN = re.compile(r"([\\`*_\[\]~|$#])")
_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(:)(?=//)|(?<=\bwww)(\.)|(?<=\w)(@)(?=\w)")
_ENTITY = {":": "&#58;", ".": "&#46;", "@": "&#64;"}
_CONTEXT = 220  # characters of passage shown either side of the quote before eliding


def esc(text: object) -> str:
    """Text made safe to place inside HTML elements and attribute values."""
    return html.escape(str(text), quote=True)


def chat_text(text: str) -> str:
    """Plain text for a chat bubble, which renders Markdown and HTML: both are neutralised, and
    so are the bubble's automatic links (a URL, www. or e-mail address in an article's sentence
    stays text: its ':', '.' or '@' is written as an entity the autolinker does not see)."""
    text = _MARKDOWN.sub(r"\\\1", html.escape(text, quote=False))
    return _AUTOLINK.sub(lambda m: _ENTITY[m.group(0)], text)


def safe_url(url: str) -> str | None:
    """The URL, escaped for an href, if it is an absolute http(s) link; otherwise None."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return esc(url)


def nice_date(iso: str) -> str:
    """'2022-06-30' as '30 Jun 2022'; anything else unchanged."""
    try:
        return dt.date.fromisoformat(iso[:10]).strftime("%-d %b %Y")
    except ValueError:
        return iso


def nice_time(iso: str) -> str:
    """An ISO timestamp as 'YYYY-MM-DD HH:MM UTC' (or as given when it does not parse)."""
    if not iso:
        return "never"
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M")


# -- the chat bubble ----------------------------------------------------------------------------
def streaming_markdown(text: str) -> str:
    """The answer as it arrives, with a cursor; before its first words, what is being done (an
    extractive answer's sentences are chosen together, so they arrive at once)."""
    if not text:
        return '<span class="na-working">Reading the articles …</span> ▍'
    return chat_text(text) + " ▍"


def answer_markdown(answer: Answer) -> str:
    """The final, checked answer: sentences with their [n] markers; unsupported ones flagged."""
    notice = (
        f'<span class="na-notice">⚠ {chat_text(answer.notice)}</span>\n\n' if answer.notice else ""
    )
    if not answer.answered and answer.mode == "extractive":
        return notice + (
            "**The indexed articles don't answer this.** "
            "The closest passages found are shown under *Sources*; rephrasing, or widening "
            "the filters, may help."
        )
    parts, key = [], answer_key(answer)
    for s in answer.sentences:
        marks = "".join(cite_link(n, key) for n in s.citations)
        if s.supported:
            parts.append(chat_text(s.text) + marks)
        else:
            parts.append(
                f'<span class="na-unsupported">~~{chat_text(s.text)}~~</span> '
                "<em>(unsupported: no cited passage says this)</em>"
            )
    text = " ".join(parts) or chat_text(answer.text)
    if not answer.answered:
        text = "**No sentence of this answer is supported by the articles.** " + text
    return notice + text + "\n\n" + _footer(answer)


def answer_key(answer: Answer) -> str:
    """A short key naming one answer: its markers and its sources panel carry it, so a marker
    clicked finds its own answer's passage (`web.js`)."""
    made = f"{answer.question}\0{answer.text}\0{answer.seconds}"
    return hashlib.sha1(made.encode("utf-8")).hexdigest()[:12]


def cite_link(n: int, key: str) -> str:
    """A citation marker leading to its passage in the sources panel (`web.js` brings back the
    answer's sources, scrolls to the passage and flashes it)."""
    return f' <a class="na-cite" href="#na-cite-{key}-{n}">[{n}]</a>'  # the chat keeps no data-*


def _footer(answer: Answer) -> str:
    """Sources, how the answer was made and its time; for a follow-up rewritten to stand alone,
    the rewrite behind a "How this was read" toggle (shown on demand, not to every reader)."""
    bits = [count_line(answer.citations) or "no sources"]
    bits.append(f"written by {chat_text(answer.model)}" if answer.model else "quoted verbatim")
    bits.append(f"{answer.seconds:.1f} s")
    bits.append(f'<a class="na-export-one" href="#na-export-{answer_key(answer)}">export</a>')
    footer = "<sub>" + " · ".join(bits) + "</sub>"
    if answer.standalone_question and answer.standalone_question != answer.question:
        footer += (
            '\n\n<details class="na-read-as"><summary>How this was read</summary>'
            f"“{chat_text(answer.standalone_question)}”</details>"
        )
    return footer


def error_markdown(message: str) -> str:
    return "⚠️ " + chat_text(message)


def refusal_markdown(message: str) -> str:
    """A question that was not asked: why, starting with a capital, in the chat."""
    message = message[:1].upper() + message[1:]
    return "⚠️ **Not asked.** " + chat_text(message)


def conversation_markdown(answers: Sequence[Answer | None], day: str) -> str:
    """The conversation as a Markdown file: each question, its answer with the [n] markers, how
    it was made, then its numbered sources (title, outlet, date, URL and the sentence quoted).
    Questions that were refused (None) are left out; markup in any text is escaped, so a
    viewer that renders HTML in Markdown shows it as text."""
    out = [f"# News assistant: conversation of {day}", ""]
    shown = [a for a in answers if a is not None]
    if not shown:
        out.append("No questions were answered in this conversation.")
    for answer in shown:
        out += [f"## {_one_line(answer.question)}", ""]
        if not answer.answered and answer.mode == "extractive":
            out.append("The indexed articles don't answer this. The closest passages:")
        else:
            texts = [
                _one_line(s.text) + "".join(f" [{n}]" for n in s.citations)
                if s.supported
                else f"~~{_one_line(s.text)}~~ (unsupported: no cited passage says this)"
                for s in answer.sentences
            ]
            out.append(" ".join(texts) or _one_line(answer.text))
        how = (
            f"written by {_one_line(answer.model)}"
            if answer.model
            else "quoted verbatim from the articles"
        )
        out += ["", f"*{how} · {answer.seconds:.1f} s*", ""]
        if answer.citations:
            out += ["Sources:", ""]
        for c in answer.citations:
            meta = _one_line(", ".join(x for x in (c.source, nice_date(c.published)) if x))
            line = f"{c.n}. **{_one_line(plain_text(c.title) or c.article_id)}**"
            line += f" — {meta}" if meta else ""
            line += f". <{c.url}>" if safe_url(c.url) else ""
            out += [line, f"   > {_one_line(plain_text(c.quote))}"]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _one_line(text: str) -> str:
    """`text` on one line, HTML markup escaped."""
    return html.escape(" ".join(text.split()), quote=False)


# -- the sources panel --------------------------------------------------------------------------
def sources_placeholder(articles: int) -> str:
    if not articles:
        body = (
            "<strong>No articles yet.</strong> Upload articles in the <em>Add articles</em> tab "
            "to start; they are searchable as soon as they are indexed."
        )
    else:
        body = (
            "Ask a question: the sources of the answer appear here, each with the cited "
            'sentence <span class="na-demo-mark">highlighted</span> in its passage.'
        )
    return f'<div class="na-sources"><div class="na-empty">{body}</div></div>'


def sources_html(answer: Answer) -> str:
    """One card per cited article, its numbered passages inside (or the closest passages when
    the answer declined)."""
    head = "Sources" if answer.answered or not answer.citations else "Closest passages"
    notes = []
    if not answer.answered and answer.citations:
        notes.append("The articles don't answer this question; these passages came closest.")
    if answer.mode == "llm" and answer.sentences:
        checked, n = sum(1 for s in answer.sentences if s.supported), len(answer.sentences)
        notes.append(
            f"{checked} of {n} sentence{'s' if n != 1 else ''} of the answer "
            f"{'is' if checked == 1 else 'are'} supported by the articles."
        )
    if answer.citations:
        cards = "".join(article_card(group) for group in by_article(answer.citations))
    elif answer.mode == "llm":
        cards = '<div class="na-empty">No passage of the articles supports this answer.</div>'
    else:
        cards = '<div class="na-empty">No passage matched the question and filters.</div>'
    noted = "".join(f'<p class="na-note">{esc(n)}</p>' for n in notes)
    return (
        f'<div class="na-sources" data-key="{answer_key(answer)}">'
        f'<div class="na-head"><span>{head}</span>'
        f'<span class="na-for">{esc(answer.question)}</span>'
        f'<span class="na-count">{esc(count_line(answer.citations))}</span></div>'
        f"{noted}{cards}</div>"
    )


def by_article(citations: Sequence[Citation]) -> list[list[Citation]]:
    """The citations grouped by article, articles in the order of their first citation."""
    groups: dict[str, list[Citation]] = {}
    for c in citations:
        groups.setdefault(c.article_id, []).append(c)
    return list(groups.values())


def count_line(citations: Sequence[Citation]) -> str:
    """'2 articles, 3 passages' ('' for none)."""
    if not citations:
        return ""
    k, n = len({c.article_id for c in citations}), len(citations)
    return f"{k} article{'s' if k != 1 else ''}, {n} passage{'s' if n != 1 else ''}"


def article_card(group: Sequence[Citation]) -> str:
    """One article: its title (linked only to the article's own http(s) URL), outlet and date,
    then each cited passage with its number and the quote highlighted."""
    c = group[0]
    url = safe_url(c.url)
    title = esc(plain_text(c.title) or c.article_id)
    if url:
        title = f'<a href="{url}" target="_blank" rel="noopener noreferrer nofollow">{title}</a>'
    meta = [esc(x) for x in (c.source, nice_date(c.published)) if x]
    if url:
        meta.append(f'<span class="na-host">{esc(urlsplit(c.url).netloc)}</span>')
    passages = "".join(_passage_item(p) for p in group)
    read = (
        f'<a class="na-read" href="#na-reader" data-article="{esc(c.article_id)}">'
        "Read the whole article</a>"
    )
    return (
        f'<div class="na-card" id="na-article-{c.n}"><div class="na-title">{title}</div>'
        f'<div class="na-meta">{" · ".join(meta)}</div>{passages}{also_in_html(c)}'
        f'<div class="na-card-foot">{read}</div></div>'
    )


def also_in_html(c: Citation) -> str:
    """'Also in: Reuters · BBC', each linked to its own http(s) URL: where else the story ran."""
    if not c.also_in:
        return ""
    items = []
    for copy in c.also_in:
        name = esc(copy.source or plain_text(copy.title) or copy.article_id)
        when = f" ({esc(nice_date(copy.published))})" if copy.published else ""
        url = safe_url(copy.url)
        if url:
            name = f'<a href="{url}" target="_blank" rel="noopener noreferrer nofollow">{name}</a>'
        items.append(name + when)
    return f'<div class="na-also">Also in: {" · ".join(items)}</div>'


def _passage_item(c: Citation) -> str:
    shown, full = passage_html(c)
    more = (
        f'<details class="na-full"><summary>Whole passage</summary><p>{full}</p></details>'
        if shown != full
        else ""
    )
    return (
        f'<div class="na-cited" id="na-source-{c.n}"><span class="na-n">{c.n}</span>'
        f'<div class="na-cited-text"><p class="na-passage">{shown}</p>{more}</div></div>'
    )


def passage_html(c: Citation) -> tuple[str, str]:
    """(the passage around the quote, the whole passage), with the quote in <mark>, as plain
    text: Markdown syntax of the article (headings, emphasis, link targets) left out.

    The quote is located by its offsets; if they do not point at it (they always should), by
    searching for its text, and failing that the quote is shown on its own.
    """
    a, b = c.quote_start - c.start, c.quote_end - c.start
    if not (0 <= a <= b <= len(c.passage)) or c.passage[a:b] != c.quote:
        found = c.passage.find(c.quote) if c.quote else -1
        if found < 0:
            quote = f"<mark>{esc(plain_text(c.quote))}</mark>"
            return quote, quote
        a, b = found, found + len(c.quote)
    keep = _text_mask(c.passage)
    before, quote, after = (_kept(c.passage, keep, i, j) for i, j in ((0, a), (a, b), (b, None)))
    full = f"{esc(before)}<mark>{esc(quote)}</mark>{esc(after)}"
    if len(before) > _CONTEXT:
        before = "… " + before[-_CONTEXT:].split(" ", 1)[-1]
    if len(after) > _CONTEXT:
        after = after[:_CONTEXT].rsplit(" ", 1)[0] + " …"
    return f"{esc(before)}<mark>{esc(quote)}</mark>{esc(after)}", full


# Markdown syntax around text: (pattern, groups that are syntax to leave out)
_SYNTAX = [
    (re.compile(r"^[ \t]{0,3}(#{1,6}[ \t]+)", re.M), (1,)),  # heading marks
    (re.compile(r"^[ \t]{0,3}(>[ \t]?)", re.M), (1,)),  # block quote marks
    (re.compile(r"^[ \t]*(([-*_])[ \t]*(?:\2[ \t]*){2,})$", re.M), (1,)),  # rules
    (re.compile(r"(!?\[)[^\]\n]*(\]\([^)\s]*(?:[ \t]+\"[^\"\n]*\")?\))"), (1, 2)),  # links
    (re.compile(r"(\*\*)(?=\S)[^\n]*?(?<=\S)(\*\*)"), (1, 2)),  # strong
    (re.compile(r"(?<!\w)(__)(?=[^\s_])[^\n]*?(?<=[^\s_])(__)(?!\w)"), (1, 2)),
    (re.compile(r"(?<![\w*])(\*)(?=[^\s*])[^*\n]*?(?<=[^\s*])(\*)(?![\w*])"), (1, 2)),  # emphasis
    (re.compile(r"(?<![\w_])(_)(?=[^\s_])[^_\n]*?(?<=[^\s_])(_)(?![\w_])"), (1, 2)),
    (re.compile(r"(`+)[^`\n]+?(\1)"), (1, 2)),  # code spans
]


def _text_mask(text: str) -> list[bool]:
    """Which characters of `text` are text rather than Markdown syntax."""
    keep = [True] * len(text)
    for pattern, groups in _SYNTAX:
        for m in pattern.finditer(text):
            for g in groups:
                keep[m.start(g) : m.end(g)] = [False] * (m.end(g) - m.start(g))
    return keep


def _kept(text: str, keep: list[bool], start: int, end: int | None) -> str:
    end = len(text) if end is None else end
    return "".join(ch for ch, k in zip(text[start:end], keep[start:end], strict=True) if k)


def plain_text(text: str) -> str:
    """`text` without its Markdown syntax: '# **Big** [news](https://x)' -> 'Big news'."""
    return _kept(text, _text_mask(text), 0, None)


# -- the briefing ------------------------------------------------------------------------------
def brief_html(
    brief: Brief, timelines: Sequence[Timeline], coverages: Sequence[Coverage] = ()
) -> str:
    """The Briefing tab: a card per story, best first: headline, how widely and when it was
    covered, its lead quoted (and the way to read its article), what its newest day added, how
    it unfolded, and who reported what (outlets, numbers that differ, what one alone says)."""
    if not brief.stories:
        said = nothing_new(nice_date(brief.since), nice_date(brief.until))
        return f'<div class="na-brief"><div class="na-empty">{esc(said)}</div></div>'
    by_story = {c.story_id: c for c in coverages}
    head = (
        f'<div class="na-head"><span>Top stories</span><span class="na-count">'
        f"{esc(nice_date(brief.since))} – {esc(nice_date(brief.until))} · "
        f"{brief.articles:,} article{'s' if brief.articles != 1 else ''}</span></div>"
    )
    cards = [head]
    for i, (story, timeline) in enumerate(zip(brief.stories, timelines, strict=True), 1):
        count = len(story.articles)
        span = nice_date(story.first)
        if story.last and story.last != story.first:
            span = f"{nice_date(story.first)} – {nice_date(story.last)}"
        per_outlet: dict[str, int] = {}
        for a in story.articles:
            per_outlet[a.source or "no outlet named"] = (
                per_outlet.get(a.source or "no outlet named", 0) + 1
            )
        meta = f"{count} article{'s' if count != 1 else ''} · {len(per_outlet)} outlet" + (
            "s" if len(per_outlet) != 1 else ""
        )
        lead = ""
        if story.lead is not None:
            lead = (
                f'<p class="na-lead"><mark>{esc(plain_text(story.lead.quote))}</mark></p>'
                f'<div class="na-card-foot"><a class="na-read" href="#na-reader" '
                f'data-article="{esc(story.lead.article_id)}">Read the whole article</a></div>'
            )
        steps = "".join(
            f'<li><span class="na-when">{esc(nice_date(d.date))}</span> '
            f'{esc(plain_text(d.lead.quote))} <span class="na-by">'
            f"({esc(d.article.source or plain_text(d.article.title))}"
            + (
                f"; also {esc(', '.join(dict.fromkeys(a.source or a.title for a in d.also)))}"
                if d.also
                else ""
            )
            + ")</span></li>"
            for d in timeline.developments
        )
        unfold = (
            f'<details class="na-unfold"><summary>How it unfolded ({len(timeline.developments)})'
            f"</summary><ol>{steps}</ol></details>"
            if len(timeline.developments) > 1
            else ""
        )
        if story.began and story.first and story.began < story.first:
            span += f" · began {nice_date(story.began)}"
        new = ""
        if story.new is not None:
            new = (
                f'<p class="na-new"><span class="na-tag">New</span> '
                f"<mark>{esc(plain_text(story.new.quote))}</mark> "
                f'<a class="na-read" href="#na-reader" data-article="{esc(story.new.article_id)}">'
                "Read</a></p>"
            )
        outlets = " · ".join(f"{esc(o)} {n}" for o, n in per_outlet.items())
        cards.append(
            f'<div class="na-card na-story" id="na-story-{i}"><div class="na-title">'
            f'<span class="na-n">{i}</span> {esc(plain_text(story.headline))}</div>'
            f'<div class="na-meta">{meta} · {esc(span)}</div>{lead}{new}{unfold}'
            f"{_coverage_html(by_story.get(story.id))}"
            f'<div class="na-also">Who reported it: {outlets}</div></div>'
        )
    return f'<div class="na-brief na-sources">{"".join(cards)}</div>'


def _coverage_html(coverage: Coverage | None) -> str:
    """A story's "Who reported what": numbers the outlets give differently, side by side, and
    what one outlet alone reports, each quoted; nothing when there is neither."""
    if coverage is None or not (coverage.differing or coverage.only):
        return ""
    rows = []
    for d in coverage.differing:
        claims = "".join(
            f'<li><b>{esc(c.value)}</b> <span class="na-by">({esc(c.outlet or "no outlet")}'
            f"{', ' + esc(nice_date(c.article.published)) if c.article.published else ''})"
            f"</span> {esc(plain_text(c.quote.quote))}</li>"
            for c in d.claims
        )
        rows.append(
            f'<div class="na-differ"><span class="na-tag">Numbers differ</span> '
            f"{esc(d.about)}<ul>{claims}</ul></div>"
        )
    for e in coverage.only:
        rows.append(
            f'<p class="na-only"><span class="na-tag">Only {esc(e.outlet or "one outlet")}</span> '
            f"{esc(plain_text(e.quote.quote))}</p>"
        )
    count = len(coverage.differing) + len(coverage.only)
    return (
        f'<details class="na-coverage"><summary>Who reported what ({count})</summary>'
        f"{''.join(rows)}</details>"
    )


# -- the library ------------------------------------------------------------------------------
LIBRARY_HEADERS = ["Title", "Outlet", "Date", "Chunks", "Link"]


def library_rows(found: Sequence[LibraryEntry]) -> list[list[Any]]:
    """The library table's rows (plain text cells: the table shows them as text)."""
    return [
        [
            plain_text(e.title) or "(untitled)",
            e.source or "–",
            e.published or "–",
            e.chunks,
            urlsplit(e.url).netloc if safe_url(e.url) else "",
        ]
        for e in found
    ]


def library_count(shown: int, total: int, search: str, sources: Sequence[str]) -> str:
    if not total:
        return '<p class="na-lib-count">No articles yet: add some in the <em>Add articles</em> tab.</p>'
    if shown == total:
        return f'<p class="na-lib-count">{total:,} article{"s" if total != 1 else ""}</p>'
    asked = " and ".join(
        x for x in (f"“{esc(search)}”" if search.strip() else "", esc(", ".join(sources))) if x
    )
    return f'<p class="na-lib-count">{shown:,} of {total:,} articles match {asked}</p>'


def reader_placeholder() -> str:
    return (
        '<div class="na-reader"><div class="na-empty">Choose an article in the table to read '
        "it here, the sentences cited in the latest answer highlighted.</div></div>"
    )


def article_html(entry: LibraryEntry, text: str, cited: Sequence[Citation]) -> str:
    """One whole article: title (linked to its http(s) URL), outlet, date, chunk count, and its
    text with the sentences `cited` (those of this article, by offsets) marked with their
    numbers; Markdown syntax of the article left out, everything escaped."""
    url = safe_url(entry.url)
    title = esc(plain_text(entry.title) or entry.id)
    if url:
        title = f'<a href="{url}" target="_blank" rel="noopener noreferrer nofollow">{title}</a>'
    meta = [esc(x) for x in (entry.source, nice_date(entry.published)) if x]
    meta.append(f"{entry.chunks} chunk{'s' if entry.chunks != 1 else ''}")
    if url:
        meta.append(f'<span class="na-host">{esc(urlsplit(entry.url).netloc)}</span>')
    spans = sorted(
        {
            (c.quote_start, c.quote_end, c.n)
            for c in cited
            if c.article_id == entry.id
            and 0 <= c.quote_start < c.quote_end <= len(text)
            and text[c.quote_start : c.quote_end] == c.quote
        }
    )
    keep = _text_mask(text)
    body, at = [], 0
    for a, b, n in spans:
        if a < at:  # overlapping quotes: the first one is marked
            continue
        body.append(esc(_kept(text, keep, at, a)))
        body.append(
            f'<mark id="na-read-{n}">{esc(_kept(text, keep, a, b))}</mark>'
            f'<sup class="na-read-n">[{n}]</sup>'
        )
        at = b
    body.append(esc(_kept(text, keep, at, None)))
    numbers = sorted({n for _, _, n in spans})
    cited_line = (
        f'<p class="na-note">Cited in the latest answer as {", ".join(f"[{n}]" for n in numbers)}.</p>'
        if numbers
        else ""
    )
    return (
        f'<div class="na-reader" data-article="{esc(entry.id)}"><div class="na-title">{title}</div>'
        f'<div class="na-meta">{" · ".join(meta)}</div>{cited_line}'
        f'<div class="na-article-text">{"".join(body)}</div></div>'
    )


def removal_html(removal: Removal) -> str:
    """What deleting did, in the reader's terms (files by name, never the server's paths)."""
    ok = removal.removed and removal.consistent
    lines = "".join(f"<li>{esc(line)}</li>" for line in removal.summary(names=True))
    return f'<div class="na-removed {"na-ok" if ok else "na-bad"}"><ul>{lines}</ul></div>'


# -- index status and upload reports ------------------------------------------------------------
def status_html(stats: Mapping[str, Any], empty_hint: bool = True) -> str:
    """The index status panel: articles, chunks, embedding model, answer mode, last sync."""
    mode = f"LLM: {esc(stats['model'])}" if stats.get("mode") == "llm" else "extractive (no LLM)"
    rows = [
        ("Articles", f"{stats['articles']:,}"),
        ("Chunks", f"{stats['chunks']:,}"),
        ("Embedding model", esc(stats["embedding_model"])),
        ("Answers", mode),
        ("Last sync", esc(nice_time(stats["last_sync"]))),
        ("Sources", esc(", ".join(stats["sources"]) or "–")),
        *([("Watching", esc(stats["watch"]["line"]))] if stats.get("watch") else []),
    ]  # not the store's folder: a reader has no use for the server's paths
    cells = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    hint = ""
    if empty_hint and not stats["articles"]:
        hint = '<p class="na-hint">The index is empty: upload articles to start.</p>'
    return f'<div class="na-status">{hint}<dl>{cells}</dl></div>'


def header_html(stats: Mapping[str, Any] | None) -> str:
    """Title, subtitle, and one line on what is indexed and how answers are made."""
    title = (
        "<h1>News assistant</h1><p>Ask about your news articles: every answer cites the exact "
        "sentences it comes from.</p>"
    )
    if stats is None:
        return title + '<div class="na-line">&nbsp;</div>'
    if not stats["articles"]:
        return title + (
            '<div class="na-line na-warn">No articles indexed yet: upload articles in the '
            "<em>Add articles</em> tab to start.</div>"
        )
    n, k = stats["articles"], len(stats["sources"])
    how = (
        f"answers by {esc(stats['model'])}, checked against the articles"
        if stats.get("mode") == "llm"
        else "answers quoted from the articles"
    )
    watch = stats.get("watch")
    watching = f'<div class="na-line na-watch">{esc(watch["line"])}</div>' if watch else ""
    return title + (
        f'<div class="na-line">{n:,} article{"s" if n != 1 else ""} from {k} '
        f"source{'s' if k != 1 else ''} · {how} · "
        f"last sync {esc(nice_time(stats['last_sync']))}</div>{watching}"
    )


_STEPS = (  # what a sync does, in order, as the upload panel names it
    ("reading", "Reading"),
    ("chunks", "Embedding and writing chunks"),
    ("keyword index", "Updating the keyword index"),
)
_STEP_OF = {"reading": 0, "embedding": 1, "writing": 1, "removing": 1, "keyword index": 2}


def progress_html(report: Mapping[str, Any]) -> str:
    """An indexing run as it moves: every step named, those done ticked, the current one with
    its count and a bar (or who the store is waiting for); never empty while it runs."""
    phase = str(report.get("phase") or "")
    done, total = int(report.get("done") or 0), int(report.get("total") or 0)
    if phase == "waiting":
        holder = esc(report.get("holder") or "another writer")
        return (
            f'<div class="na-progress"><p class="na-now">Waiting for {holder} to finish '
            "writing the store …</p></div>"
        )
    at = _STEP_OF.get(phase, 0)
    items = []
    for i, (_, label) in enumerate(_STEPS):
        if i < at:
            items.append(f'<li class="na-step-done"><span class="na-icon">✓</span> {label}</li>')
        elif i == at:
            count = f" {done:,}/{total:,}" if total else ""
            bar = f'<progress value="{done}" max="{total}"></progress>' if total else ""
            unit = f" {esc(report.get('unit') or '')}" if total and i == 0 else ""
            items.append(
                f'<li class="na-step-now"><span class="na-icon">…</span> {label}{unit}{count}'
                f"{bar}</li>"
            )
        else:
            items.append(f'<li class="na-step-todo"><span class="na-icon">·</span> {label}</li>')
    return f'<div class="na-progress"><ol>{"".join(items)}</ol></div>'


def _steps_done(report: Mapping[str, Any]) -> str:
    """The steps a finished run went through, ticked ("" when no sync ran)."""
    if "added" not in report:
        return ""
    changed = any(report.get(k) for k in ("added", "updated", "removed"))
    done = [_STEPS[0][1]] + ([_STEPS[1][1], _STEPS[2][1]] if changed else [])
    items = "".join(
        f'<li class="na-step-done"><span class="na-icon">✓</span> {d}</li>' for d in done
    )
    return f'<div class="na-progress"><ol>{items}</ol></div>'


def report_html(report: Mapping[str, Any]) -> str:
    """What an upload or re-index did, file by file."""
    items = []
    for f in report.get("files", ()):
        ok = f["status"] == "indexed"
        icon = "✓" if ok else "=" if f["status"] == "duplicate" else "✗"
        detail = esc(f.get("reason") or f["status"])
        items.append(
            f'<li class="{"na-ok" if ok else "na-bad"}"><span class="na-icon">{icon}</span> '
            f"<strong>{esc(f['name'])}</strong> — {detail}</li>"
        )
    errors = _lines(report.get("errors", ()))
    errors += "".join(
        f'<li class="na-copy"><span class="na-icon">=</span> {esc(c)}</li>'
        for c in report.get("copies", ())
    )
    summary = esc(report.get("summary", ""))
    return (
        f'<div class="na-report">{_steps_done(report)}<p class="na-summary">{summary}</p>'
        f"<ul>{''.join(items)}{errors}</ul></div>"
    )


def _lines(errors: Iterable[str]) -> str:
    return "".join(
        f'<li class="na-bad"><span class="na-icon">✗</span> {esc(e)}</li>' for e in errors
    )


def examples_list(questions: Sequence[str]) -> list[dict[str, str]]:
    return [{"text": q} for q in questions]


def note(message: str) -> str:
    """An inline warning under the filters."""
    return f'<div class="na-inline-note">⚠️ {esc(message)}</div>'


def sources_cleared(reason: str) -> str:
    """The sources panel after a question that got no answer: empty, saying why."""
    return (
        '<div class="na-sources"><div class="na-head"><span>Sources</span></div>'
        f'<div class="na-empty na-none">No sources: {esc(reason)}</div></div>'
    )


def searching_html(question: str) -> str:
    return (
        f'<div class="na-sources"><div class="na-head"><span>Sources</span>'
        f'<span class="na-for">{esc(question)}</span></div>'
        '<div class="na-empty na-searching">Searching the articles …</div></div>'
    )


def upload_limit_html(max_mb: float) -> str:
    """The upload limit where `web.js` reads it (`data-bytes`), and where it says what it
    refused before sending."""
    limit = int(max_mb * 1024 * 1024)
    return f'<p class="na-upload-note" data-bytes="{limit}" data-mb="{max_mb:g}"></p>'


def folders_html(folders: Sequence[Any], uploads: Any) -> str:
    """Which folders the Re-index button syncs, by name (no server paths are shown)."""
    listed = "".join(f"<li><code>{esc(Path(str(f)).name or f)}/</code></li>" for f in folders)
    return (
        '<div class="na-folders"><p><strong>Re-index</strong> brings the index in line with '
        "these folders: new and changed files are indexed, unchanged ones skipped, and articles "
        f"whose files are gone removed.</p><ul>{listed}<li>the uploaded files</li></ul></div>"
    )

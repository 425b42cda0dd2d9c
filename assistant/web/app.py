"""The web page's handlers: a streaming chat over the index, filters, the article library,
uploads, index status.

`WebApp` holds the shared `Assistant` and every handler (the chat's `respond` generator first).
The page's handlers take the values of its parts as keyword arguments named after them and
return (or yield) `Parts`: a dict of the parts they change, by name; a part left out is left as
it is (`assistant.web.page` wires names to components).
Endpoints for programs: `ask` (an `Answer` as a JSON dict), `status`, `articles` and
`remove_articles` (the library), and the upload and re-index reports (a line per file).

Not here: the layout and its events (`assistant.web.page`); the HTML of answers, sources and
reports (`assistant.web.render`); the theme and stylesheet (`assistant.web.look`); saving
uploads (`assistant.web.uploads`); options, start-up and the bind/password rules
(`assistant.cli.serve`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import queue
import re
import secrets
import threading
from collections.abc import Generator, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import gradio as gr

from assistant import library
from assistant.answer.followup import Turn
from assistant.assistant import Assistant, Conversation, clean_question, make_filters
from assistant.brief import make_brief
from assistant.brief import period as period_of
from assistant.coverage import make_coverage
from assistant.errors import NewsAssistantError, QuestionError
from assistant.timeline import timeline_of
from assistant.types import Answer
from assistant.web import render
from assistant.web.uploads import (
    Upload,
    discard,
    incoming_folder,
    save_uploads,
    settle,
    upload_fields,
)
from index import SyncProgress, SyncReport, Watcher, write_fields_file

log = logging.getLogger("assistant.web")
KEPT_ANSWERS = 50  # answers of a conversation the browser keeps across reloads
Report = dict[str, Any]
Parts = dict[
    str, Any
]  # new values of the page's parts, by the name `assistant.web.page` gives them


class WebApp:
    """The handlers of the page, around one shared `Assistant` and its `ArticleIndex`."""

    def __init__(self, assistant: Assistant, folders: Sequence[Path] = ()) -> None:
        self.assistant = assistant
        # One index for questions and syncs: a sync holds the store's write lock, and questions
        # asked meanwhile see the batches it has committed so far (ArticleIndex's design).
        self.index = assistant.index
        self.settings = assistant.settings
        self.folders = [Path(f) for f in folders]
        self.uploads = Path(self.settings.store).expanduser() / "uploads"
        self.incoming = incoming_folder(self.settings.store)
        self.watcher: Watcher | None = None

    # -- watched sources ----------------------------------------------------------------------
    def watch(self, sources: Sequence[str], every: float, prune: bool = False) -> None:
        """Sync `sources` every `every` seconds in the background (`--watch`), logging each."""

        def logged(report: SyncReport | None, line: str) -> None:
            log.info("watched sync: %s", line)
            for error in report.errors if report else ():
                log.warning("watched sync: failed: %s", error)

        self.watcher = Watcher(self.index, sources, every, prune=prune, on_report=logged)
        self.watcher.start()

    def stop_watch(self, wait: float | None = None) -> None:
        """End the watcher after the batch it is writing (waiting up to `wait` seconds)."""
        if self.watcher is not None:
            self.watcher.stop(wait=wait)

    # -- status -------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Index statistics and the answer mode, as `/index_status` returns them."""
        stats = asdict(self.index.stats())
        stats["sources"] = list(stats["sources"])
        stats["mode"] = self.assistant.mode
        stats["model"] = self.assistant.model_label
        if self.watcher is not None:
            watched = self.watcher.status
            stats["watch"] = {**asdict(watched), "line": watched.line()}
        return stats

    def refresh(self, source_filter: Sequence[str] | None = None) -> Parts:
        """Status panel, header line and the source filter's choices, after any change (the
        sources chosen in the filter are kept while some article is from them)."""
        stats = self.status()
        keep = [s for s in (source_filter or []) if s in stats["sources"]]
        return {
            "status": render.status_html(stats),
            "header": render.header_html(stats),
            "source_filter": gr.Dropdown(choices=stats["sources"], value=keep),
        }

    def on_load(self) -> Parts:
        placeholder = render.sources_placeholder(self.index.stats().articles)
        return {**self.refresh(), "sources": placeholder}

    # -- chat ---------------------------------------------------------------------------------
    def respond(
        self,
        question: str,
        chatbot: list[Any],
        conversation: Conversation | None,
        answers: list[Answer | None],
        source_filter: list[str] | None,
        since: str,
        until: str,
    ) -> Iterator[Parts]:
        """Stream the answer to `question` into the chat; then its checked text and sources.

        Changes the question box, the chat, the sources panel, the filter note, the
        conversation and the answers shown. A question that cannot be asked gets a message in
        the chat, the question stays in its box to be fixed, and the sources panel is cleared:
        nothing is left "searching".
        """
        problem = _date_problem(since, until)
        note = _note(problem)
        try:
            if problem:
                raise QuestionError(problem.rstrip(".") + ".")
            asked = clean_question(question or "", self.settings.answer.max_question_chars)
            self._check_ready()
        except NewsAssistantError as exc:
            refusal = {"role": "assistant", "content": render.refusal_markdown(str(exc))}
            yield {
                "question": question,
                "chatbot": [*chatbot, refusal],
                "sources": render.sources_cleared(str(exc)),
                "filter_note": note,
                "conversation": conversation,
                "answers": [*answers, None],
            }
            return
        conversation = conversation or self.assistant.chat()
        reply = {"role": "assistant", "content": render.streaming_markdown("")}
        chat = [*chatbot, {"role": "user", "content": render.chat_text(asked)}, reply]
        answers = [*answers, None]
        shown: Parts = {
            "question": "",
            "chatbot": chat,
            "conversation": conversation,
            "answers": answers,
        }
        yield shown | {"sources": render.searching_html(asked), "filter_note": note}
        streamed = ""
        try:
            filters = {
                "sources": source_filter or None,
                "since": since or None,
                "until": until or None,
            }
            for part in conversation.stream(asked, **filters):
                if isinstance(part, Answer):
                    answers[-1] = part
                    reply["content"] = render.answer_markdown(part)
                    yield shown | {"sources": render.sources_html(part)}
                else:
                    streamed += part
                    reply["content"] = render.streaming_markdown(streamed)
                    yield shown
        except NewsAssistantError as exc:
            reply["content"] = render.error_markdown(str(exc))
            yield shown | {"sources": render.sources_cleared(str(exc))}
        except Exception as exc:  # a bug must not leave the chat hanging or show a traceback
            log.exception("answering %r failed", asked)
            failure = (
                f"Something went wrong while answering ({type(exc).__name__}: {exc}). "
                "The server log has the details."
            )
            reply["content"] = render.error_markdown(failure)
            yield shown | {"sources": render.sources_cleared(failure)}

    def _check_ready(self) -> None:
        """Raises when no question can be answered now."""
        self.index.refresh()
        if not self.index.records():
            raise QuestionError(
                "No articles are indexed yet: upload some in the Add articles tab first."
            )

    def check_dates(self, since: str, until: str) -> Parts:
        """The inline note under the date boxes, as the reader leaves one."""
        return {"filter_note": _note(_date_problem(since, until))}

    def new_chat(self) -> Parts:
        return {
            "chatbot": [],
            "sources": render.sources_placeholder(self.index.stats().articles),
            "conversation": None,
            "answers": [],
            "filter_note": _note(""),
        }

    # -- conversations kept in the browser -----------------------------------------------------
    def remember(self, answers: list[Answer | None], saved: Any, user: str) -> Parts:
        """The conversation's answers into the browser's storage (`saved`: user -> answers as
        dicts), under the signed-in user's name; the last `KEPT_ANSWERS` of them."""
        kept = [a.to_dict() for a in answers or [] if a is not None][-KEPT_ANSWERS:]
        mine = dict(saved) if isinstance(saved, dict) else {}
        if kept:
            mine[user] = kept
        else:
            mine.pop(user, None)
        return {"saved": mine}

    def restore(self, saved: Any, user: str) -> Parts:
        """The conversation this browser kept for `user` (never another user's): the chat,
        its answers, the sources of the last one, and the follow-up context rebuilt. Entries
        that are not answers (an older format, an edited storage) are left out."""
        entries = saved.get(user) if isinstance(saved, dict) else None
        answers = []
        for entry in entries if isinstance(entries, list) else []:
            try:
                answers.append(Answer.from_dict(entry))
            except (ValueError, TypeError):
                continue
        if not answers:
            return {}
        conversation = self.assistant.chat()
        conversation.history = [Turn(a.question, a.standalone_question, a.text) for a in answers]
        chat: list[dict[str, str]] = []
        for a in answers:
            chat.append({"role": "user", "content": render.chat_text(a.question)})
            chat.append({"role": "assistant", "content": render.answer_markdown(a)})
        return {
            "chatbot": chat,
            "answers": list(answers),
            "conversation": conversation,
            "sources": render.sources_html(answers[-1]),
        }

    def browser_storage(self) -> tuple[str, str]:
        """(the storage key, the secret) of the conversations kept in the browser: the key names
        this store (two stores served at one address keep apart), the secret is kept in the
        store so kept conversations outlive a restart (a read-only store: until the restart)."""
        store = Path(self.settings.store).expanduser().resolve()
        key = "news-assistant-" + hashlib.sha256(str(store).encode()).hexdigest()[:12]
        path = store / "web-secret"
        try:
            if not path.exists():
                path.write_text(secrets.token_urlsafe(24), encoding="utf-8")
                path.chmod(0o600)
            return key, path.read_text(encoding="utf-8").strip()
        except OSError:
            return key, secrets.token_urlsafe(24)

    def export(self, answers: list[Answer | None], export_key: str = "") -> Parts:
        """The conversation as Markdown, for the browser to save as a file (`web.js`); with an
        answer's key (`render.answer_key`, its footer's "export" link), that answer alone."""
        day = dt.date.today().isoformat()
        chosen = list(answers or [])
        if export_key:
            chosen = [a for a in chosen if a is not None and render.answer_key(a) == export_key]
        return {"exported": render.conversation_markdown(chosen, day)}

    def show_selected(
        self, history: list[Any], answers: list[Answer | None], evt: gr.SelectData
    ) -> Any:
        """Clicking an earlier message brings back the sources of its answer."""
        index = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        if not isinstance(index, int):
            return gr.skip()
        roles = [m.get("role") if isinstance(m, dict) else None for m in history]
        k = roles[: index + 1].count("assistant") - 1
        if index < len(roles) and roles[index] == "user":
            k += 1  # a question stands for the answer that follows it
        chosen = answers[k] if 0 <= k < len(answers) else None
        return render.sources_html(chosen) if chosen is not None else gr.skip()

    # -- the briefing ---------------------------------------------------------------------------
    def briefing(
        self, brief_period: str, brief_sources: list[str] | None, brief_about: str
    ) -> Parts:
        """The Briefing tab for a period ("latest": the 7 days up to the collection's newest
        article; "24h", "7d", "30d": up to today), outlets (none: all) and a topic."""
        records = self.index.records()
        if brief_period == "latest":
            newest = max((r.published[:10] for r in records.values() if r.published), default="")
            end = dt.date.fromisoformat(newest) if newest else dt.date.today()
            since, until = end - dt.timedelta(days=6), end
        else:
            since, until = period_of(brief_period or "7d", None, dt.date.today())
        chosen = [s for s in brief_sources or () if s in self.index.sources()]
        found = make_brief(self.index, since, until, chosen, brief_about or "", top=10)
        timelines = [
            timeline_of(self.index, s.headline, [a.id for a in s.articles]) for s in found.stories
        ]
        coverages = [make_coverage(self.index, s.id, s.headline) for s in found.stories]
        return {
            "briefing": render.brief_html(found, timelines, coverages),
            "brief_sources": gr.Dropdown(choices=list(self.index.sources()), value=chosen),
        }

    # -- the library --------------------------------------------------------------------------
    def library(self, lib_search: str, lib_sources: Sequence[str] | None) -> Parts:
        """The library table for a search and outlets (none chosen: all), and its count line;
        the outlet choices follow the store (those chosen are kept while some article is from
        them)."""
        sources = self.index.sources()
        chosen = [s for s in lib_sources or () if s in sources]
        found = library.entries(self.index, lib_search or "", chosen)
        total = len(self.index.records())
        return {
            "library": render.library_rows(found),
            "listed": [e.id for e in found],
            "lib_count": render.library_count(len(found), total, lib_search or "", chosen),
            "lib_sources": gr.Dropdown(choices=list(sources), value=chosen),
        }

    def open_row(
        self,
        library: Any,
        listed: list[str],
        answers: list[Answer | None],
        evt: gr.SelectData,
    ) -> Parts:
        """A row of the library table clicked: that article in the reader. The row is found by
        its cells, so a table the reader sorted by a column still opens the row clicked."""
        rows = library.values.tolist() if hasattr(library, "values") else list(library or [])
        clicked = [str(v) for v in evt.row_value or []]
        at = next(
            (i for i, row in enumerate(rows) if [str(v) for v in row] == clicked),
            evt.index[0] if isinstance(evt.index, list | tuple) else -1,
        )
        article_id = listed[at] if 0 <= at < len(listed) else ""
        return self.read(article_id, answers)

    def read(self, open_id: str, answers: list[Answer | None]) -> Parts:
        """One whole article in the reader, with the sentences the latest answer cites from it
        highlighted; the delete button then acts on it."""
        entry = library.entry(self.index, open_id) if open_id else None
        article = self.index.article(open_id) if entry is not None else None
        if entry is None or article is None:
            return {
                "reader": render.reader_placeholder(),
                "chosen": "",
                "delete": gr.Button(interactive=False),
                "removed": "",
                "edit_row": gr.Row(visible=False),
            }
        latest = next((a for a in reversed(answers or []) if a is not None), None)
        cited = latest.citations if latest is not None else ()
        return {
            "reader": render.article_html(entry, article.text, cited),
            "chosen": open_id,
            "delete": gr.Button(interactive=True),
            "removed": "",
            # an uploaded article's outlet and date can be set here (the page keeps its file)
            "edit_row": gr.Row(visible=self._uploaded(entry.path)),
            "lib_outlet": entry.source,
            "lib_date": entry.published,
        }

    def _uploaded(self, path: str) -> bool:
        return bool(path) and self.uploads.resolve() in Path(path).resolve().parents

    def save_fields(
        self,
        chosen: str,
        lib_outlet: str,
        lib_date: str,
        answers: list[Answer | None],
        lib_search: str,
        lib_sources: list[str] | None,
    ) -> Parts:
        """Set the outlet and date of the uploaded article in the reader (those its file does
        not carry itself), index it again, and show it as it now is."""
        entry = library.entry(self.index, chosen) if chosen else None
        if entry is None or not self._uploaded(entry.path):
            return {
                "removed": render.note("Only an uploaded article's outlet and date are set here.")
            }
        try:
            outlet, day = upload_fields(lib_outlet, lib_date or "", dt.date.today())
            if not (lib_date or "").strip():
                day = ""  # an empty date stays empty
            write_fields_file(Path(entry.path), outlet, day)
            self.index.sync([self.uploads], prune=False)
        except NewsAssistantError as exc:
            return {"removed": render.note(f"Not saved: {exc}")}
        now = library.entry(self.index, chosen)
        shown = self.read(chosen, answers)
        said = "Saved."
        if now is not None and (now.source != outlet or (day and now.published != day)):
            said = (
                "Saved, but the file names its own outlet or date, which come first: edit the "
                "file to change them."
            )
        shown["removed"] = (
            f'<div class="na-removed na-ok"><ul><li>{render.esc(said)}</li></ul></div>'
        )
        return shown | self.library(lib_search, lib_sources) | self.refresh()

    def delete(
        self,
        chosen: str,
        lib_search: str,
        lib_sources: list[str] | None,
        source_filter: list[str] | None,
    ) -> Parts:
        """Remove the article in the reader (asked to confirm in the browser first), check
        the store, and bring the table, filters, status and header up to date."""
        if not chosen:  # nothing in the reader, or the reader said no when asked to confirm
            return {}
        try:
            removal = self.assistant.remove([chosen])
        except NewsAssistantError as exc:
            return {"removed": render.note(f"Not deleted: {exc}")}
        return (
            {
                "removed": render.removal_html(removal),
                "reader": render.reader_placeholder(),
                "chosen": "",
                "delete": gr.Button(interactive=False),
            }
            | self.library(lib_search, lib_sources)
            | self.refresh(source_filter)
        )

    # -- indexing -----------------------------------------------------------------------------
    def upload(
        self,
        files: list[Any] | None,
        progress: Any = None,
        source: str | None = "Uploaded",
        published: str | None = "",
    ) -> Iterator[Report]:
        """Save uploaded files under <store>/uploads (safe names, limits) and index them; the
        articles that carry no outlet or date of their own get `source` and `published`
        (YYYY-MM-DD; empty: the day of the upload).

        Yields the report as the sync moves (`phase`: reading, embedding, writing, keyword
        index, done, with `done`/`total` and `unit`), the last one complete. The browser's
        copies in the store's incoming folder are deleted once saved, whatever happens.
        """
        limit = int(self.settings.web.max_upload_mb * 1024 * 1024)
        try:
            outlet, day = upload_fields(source, published, dt.date.today())
        except NewsAssistantError as exc:
            discard(files or [], self.incoming)
            yield _report([], None, f"Nothing was indexed: {exc}.")
            return
        try:
            uploads = save_uploads(files or [], self.uploads, limit, outlet, day)
        finally:
            discard(files or [], self.incoming)
        saved = [u.path for u in uploads if u.path is not None]
        if not saved:
            yield _report(uploads, None, "Nothing was indexed.")
            return
        report = yield from self._streamed(saved, False, progress, uploads)
        stored = {str(Path(r.path).resolve()) for r in self.index.records().values() if r.path}
        uploads, leftover = settle(uploads, report, stored)
        yield _report(uploads, report, "", leftover)

    def add_links(self, text: str, progress: Any = None) -> Iterator[Report]:
        """Index the feeds and article pages whose http(s) links `text` holds, one per line;
        yields the report as the sync moves, like `upload`, with a line per link."""
        links, problems = _links(text or "")
        if not links:
            summary = "Nothing was indexed: paste http(s) links of feeds or article pages."
            yield _report([], None, summary, problems)
            return
        report = yield from self._streamed(links, False, progress, problems=problems)
        failed = {e.path: e.reason for e in report.errors}
        out = _report(
            [], report, "", problems + [str(e) for e in report.errors if e.path not in links]
        )
        out["files"] = [
            {
                "name": link,
                "status": "failed" if link in failed else "indexed",
                "reason": failed.get(link, ""),
            }
            for link in links
        ]
        out["copies"] = [str(d) for d in report.duplicates]
        yield out

    def reindex(self, progress: Any = None) -> Iterator[Report]:
        """Sync the --articles folders and the uploads, removing articles whose files went;
        yields the report as it moves, like `upload`."""
        roots = [*self.folders, *([self.uploads] if self.uploads.is_dir() else [])]
        if not roots:
            yield _report([], None, "Nothing to re-index: start the server with --articles DIR.")
            return
        report = yield from self._streamed(roots, True, progress)
        errors = [str(e) for e in report.errors]
        yield _report([], report, "", errors, copies=[str(d) for d in report.duplicates])

    def _streamed(
        self,
        paths: Sequence[Path | str],
        prune: bool,
        progress: Any,
        uploads: Sequence[Upload] = (),
        problems: Sequence[str] = (),
    ) -> Generator[Report, None, SyncReport]:
        """The sync's progress as reports while it moves; returns its `SyncReport`."""
        for update in self._sync(paths, prune=prune, progress=progress):
            if isinstance(update, SyncReport):
                return update
            yield _report(uploads, None, update.describe(), problems, phase=update)
        raise RuntimeError("the sync ended without its report")

    def _sync(
        self, paths: Sequence[Path | str], prune: bool, progress: Any
    ) -> Iterator[SyncProgress | SyncReport]:
        """Run the sync in a thread; yield its progress as it moves, then its report.

        Progress that piles up while the consumer is busy is thinned to the latest update of
        each phase, so every phase reached is still yielded, in order.
        """
        shown = _no_progress if progress is None else progress
        updates: queue.Queue[SyncProgress | SyncReport | BaseException] = queue.Queue()

        def run() -> None:
            try:
                updates.put(self.index.sync(paths, prune=prune, progress=updates.put))
            except BaseException as exc:  # handed to the consumer, which raises it
                updates.put(exc)

        worker = threading.Thread(target=run, name="page-sync", daemon=True)
        worker.start()
        while True:
            arrived = [updates.get()]
            while not updates.empty():  # what piled up while the page was being updated
                arrived.append(updates.get_nowait())
            # "done" is said by the report itself, which comes next
            moving = [u for u in arrived if isinstance(u, SyncProgress) and u.phase != "done"]
            ended = [u for u in arrived if not isinstance(u, SyncProgress)]
            for update in _latest_per_phase(moving):
                shown(_fraction(update), desc=update.describe())
                yield update
            if not ended:
                continue
            worker.join()
            end = ended[0]  # the thread's last word: the report or what stopped it
            if isinstance(end, NewsAssistantError):  # another writer, a full disk, ...
                raise gr.Error(str(end), title="Indexing stopped", print_exception=False)
            if isinstance(end, BaseException):
                raise end
            assert isinstance(end, SyncReport)
            yield end
            return

    def progress(self, report: Report | None) -> Parts:
        """The upload panel as a run moves (each streamed report); the last one, "done", is
        left to `after_index`, which shows what the run did."""
        if not report or report.get("phase") in (None, "done"):
            return {}
        return {"results": render.progress_html(report)}

    def after_index(self, report: Report, source_filter: list[str] | None) -> Parts:
        """The report, and what the index now holds; the upload box is emptied."""
        shown = {"results": render.report_html(report), "files": None}
        return shown | self.refresh(source_filter)

    # -- endpoints for programs ---------------------------------------------------------------
    def ask(
        self,
        question: str,
        sources: str | list[str] | None = None,
        since: str = "",
        until: str = "",
        as_of: str = "",
    ) -> dict[str, Any]:
        """Answer one question: the Answer as a dict (question, text, citations, sentences, …).

        `sources`: a list of outlets or a comma-separated string; dates are YYYY-MM-DD.
        """
        try:
            answer = self.assistant.ask(
                question, sources=sources or None, since=since, until=until, as_of=as_of
            )
        except NewsAssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return answer.to_dict()

    def brief(
        self,
        since: str = "7d",
        until: str = "",
        sources: str | list[str] | None = None,
        about: str = "",
        top: int = 10,
    ) -> dict[str, Any]:
        """The top stories of a period (`since`: 24h, 7d, 2w or YYYY-MM-DD; `until`: a date,
        default today): each with headline, lead (quote and offsets), outlets, articles, first
        and last dates."""
        chosen = make_filters(sources=sources or None)
        try:
            found = self.assistant.brief(since, until or None, chosen.sources, about, int(top))
        except NewsAssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return found.to_dict()

    def timeline(
        self, topic: str, since: str = "", until: str = "", sources: str | list[str] | None = None
    ) -> dict[str, Any]:
        """How the story of `topic` unfolded: its developments by date (YYYY-MM-DD bounds),
        each a sentence quoted with its offsets, and the articles that reported the same."""
        try:
            found = self.assistant.timeline(
                topic, sources=sources or None, since=since or None, until=until or None
            )
        except NewsAssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return found.to_dict()

    def coverage(self, story: str) -> dict[str, Any]:
        """Who reported what about a story (`story`: a story id from `/brief`, or words about
        it): its outlets and their articles, sentences one outlet alone reports, numbers the
        outlets give differently, each quoted with its offsets."""
        try:
            found = self.assistant.coverage(story)
        except NewsAssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return found.to_dict()

    def articles(
        self,
        search: str = "",
        sources: str | list[str] | None = None,
        since: str = "",
        until: str = "",
    ) -> list[dict[str, Any]]:
        """The stored articles, newest first (id, title, source, published, url, chunks): those
        whose title, outlet, URL or id hold every word of `search`, from `sources` (a list or a
        comma-separated string), published within `since`..`until` (YYYY-MM-DD)."""
        try:
            found = self.assistant.articles(
                search, sources=sources or None, since=since, until=until
            )
        except NewsAssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return [{k: v for k, v in e.to_dict().items() if k != "path"} for e in found]

    def remove_articles(self, ids: str | list[str]) -> dict[str, Any]:
        """Remove articles by id (a list or a comma-separated string), then check the store:
        what was removed, ids not stored, uploaded files deleted, and the check."""
        wanted = ids.split(",") if isinstance(ids, str) else [str(i) for i in ids or []]
        try:
            removal = self.assistant.remove(wanted)
        except NewsAssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        out = removal.to_dict()
        for e in out["removed"]:
            e.pop("path", None)  # no server paths
        out["deleted_files"] = [Path(p).name for p in out["deleted_files"]]
        out["kept_files"] = [Path(p).name for p in out["kept_files"]]
        out["summary"] = removal.summary(names=True)
        return out


def _date_problem(since: str, until: str) -> str:
    try:
        chosen = make_filters(since=since or None, until=until or None)
    except NewsAssistantError as exc:
        return str(exc)
    if chosen.since and chosen.until and chosen.since > chosen.until:
        return f"The date range is empty: 'from' {chosen.since} is after 'to' {chosen.until}."
    return ""


def _note(message: str) -> str:
    """The inline note under the filters ('' hides it: see `#na-filter-note` in the CSS).

    Not a visibility update: an HTML block hidden by one stays blank when shown again.
    """
    return render.note(message) if message else ""


def _report(
    uploads: Sequence[Upload],
    report: SyncReport | None,
    summary: str,
    errors: Sequence[str] = (),
    phase: SyncProgress | None = None,
    copies: Sequence[str] = (),
) -> Report:
    out: Report = {"files": [u.to_dict() for u in uploads]}
    if report is not None:
        out.update(asdict(report))
        summary = f"{report.summary()} ({report.chunks_added} chunks, {report.seconds:.1f} s)"
    step = phase or SyncProgress("done")
    out.update(errors=list(errors), copies=list(copies), summary=summary)
    out.update({f: getattr(step, f) for f in _STEP})
    return out


_STEP = ("phase", "done", "total", "unit", "holder")


def _links(text: str) -> tuple[list[str], list[str]]:
    """The http(s) links of `text` (one per line, blank lines skipped, each once), and a
    problem naming each line that is not one."""
    links: list[str] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        link = line.strip()
        if not link or link in links:
            continue
        if not re.match(r"(?i)^https?://[^\s/]+", link) or len(link) > MAX_LINK:
            shown = link if len(link) <= 80 else link[:77] + "…"
            problems.append(f"line {number}: {shown!r} is not an http(s) link; not read")
        else:
            links.append(link)
    return links, problems


MAX_LINK = 2000  # characters: longer is not a link a person pasted


def _latest_per_phase(updates: Sequence[SyncProgress]) -> list[SyncProgress]:
    """The last update of each run of one phase, in order."""
    return [
        u for i, u in enumerate(updates) if i + 1 == len(updates) or updates[i + 1].phase != u.phase
    ]


def _fraction(update: SyncProgress) -> float | None:
    """How far the sync is, for a progress bar (None: a phase without a count)."""
    return update.done / update.total if update.total else None


def _no_progress(*args: Any, **kwargs: Any) -> None:
    return None

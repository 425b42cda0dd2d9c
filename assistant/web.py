"""The web page's handlers: a streaming chat over the index, filters, uploads, index status.

`WebApp` holds the shared `Assistant` and every handler (the chat's `respond` generator first).
Endpoints for programs: `ask` (an `Answer` as a JSON dict), `status`, and the upload and
re-index reports (a line per file).

Not here: the layout and its events (`assistant.web_page`); the HTML of answers, sources and
reports (`assistant.web_render`); the theme and stylesheet (`assistant.web_look`); saving
uploads (`assistant.uploads`); options, start-up and the bind/password rules
(`assistant.cli_serve`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import gradio as gr

from assistant import web_render as render
from assistant.assistant import Assistant, Conversation, make_filters
from assistant.errors import NewsAssistantError
from assistant.types import Answer
from assistant.uploads import Upload, save_uploads, settle
from index import SyncReport

log = logging.getLogger("assistant.web")
Report = dict[str, Any]


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

    # -- status -------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Index statistics and the answer mode, as `/index_status` returns them."""
        stats = asdict(self.index.stats())
        stats["sources"] = list(stats["sources"])
        stats["mode"] = self.assistant.mode
        stats["model"] = self.assistant.model_label
        return stats

    def refresh(self, chosen: Sequence[str] | None = None) -> tuple[Any, ...]:
        """Status panel, header line and the source filter's choices, after any change."""
        stats = self.status()
        keep = [s for s in (chosen or []) if s in stats["sources"]]
        return (
            render.status_html(stats),
            render.header_html(stats),
            gr.Dropdown(choices=stats["sources"], value=keep),
        )

    def on_load(self) -> tuple[Any, ...]:
        return (*self.refresh(), render.sources_placeholder(self.index.stats().articles))

    # -- chat ---------------------------------------------------------------------------------
    def respond(
        self,
        message: str,
        history: list[Any],
        conversation: Conversation | None,
        answers: list[Answer | None],
        sources: list[str] | None,
        since: str,
        until: str,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream the answer to `message` into the chat; then its checked text and sources.

        Yields (question box, chat, sources panel, filter note, conversation, answers).
        """
        problem = _date_problem(since, until)
        if problem:  # said beside the filters too, where the reader will fix it
            gr.Warning(problem)
            yield message, history, gr.skip(), _note(problem), conversation, answers
            return
        problem = self._not_ready(message)
        if problem:
            gr.Warning(problem)
            yield message, history, gr.skip(), gr.skip(), conversation, answers
            return
        conversation = conversation or self.assistant.chat()
        reply = {"role": "assistant", "content": render.streaming_markdown("")}
        history = [*history, {"role": "user", "content": render.chat_text(message)}, reply]
        answers = [*answers, None]
        yield "", history, render.searching_html(message), _note(""), conversation, answers
        streamed = ""
        try:
            filters = {"sources": sources or None, "since": since or None, "until": until or None}
            for part in conversation.stream(message, **filters):
                shown: Any = gr.skip()
                if isinstance(part, Answer):
                    answers[-1] = part
                    reply["content"] = render.answer_markdown(part)
                    shown = render.sources_html(part)
                else:
                    streamed += part
                    reply["content"] = render.streaming_markdown(streamed)
                yield "", history, shown, gr.skip(), conversation, answers
        except NewsAssistantError as exc:
            reply["content"] = render.error_markdown(str(exc))
            yield "", history, gr.skip(), gr.skip(), conversation, answers
        except Exception as exc:  # a bug must not leave the chat hanging or show a traceback
            log.exception("answering %r failed", message)
            reply["content"] = render.error_markdown(
                f"Something went wrong while answering ({type(exc).__name__}: {exc}). "
                "The server log has the details."
            )
            yield "", history, gr.skip(), gr.skip(), conversation, answers

    def _not_ready(self, message: str) -> str:
        """Why no question can be answered now ('' when one can)."""
        if not (message or "").strip():
            return "Type a question first."
        self.index.refresh()
        if not self.index.records():
            return "No articles are indexed yet: upload some in the Articles tab first."
        return ""

    def check_dates(self, since: str, until: str) -> Any:
        """The inline note under the date boxes, as the reader leaves one."""
        return _note(_date_problem(since, until))

    def new_chat(self) -> tuple[Any, ...]:
        placeholder = render.sources_placeholder(self.index.stats().articles)
        return [], placeholder, None, [], _note("")

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

    # -- indexing -----------------------------------------------------------------------------
    def upload(self, files: list[Any] | None, progress: Any = None) -> Report:
        """Save uploaded files under <store>/uploads (safe names, limits) and index them."""
        progress = _no_progress if progress is None else progress
        limit = int(self.settings.web.max_upload_mb * 1024 * 1024)
        uploads = save_uploads(files or [], self.uploads, limit)
        saved = [u.path for u in uploads if u.path is not None]
        if not saved:
            return _report(uploads, None, "Nothing was indexed.")
        progress(0.0, desc="Reading the files …")
        report = self._sync(saved, prune=False, progress=progress)
        stored = {str(Path(r.path).resolve()) for r in self.index.records().values() if r.path}
        uploads, leftover = settle(uploads, report, stored)
        return _report(uploads, report, "", leftover)

    def reindex(self, progress: Any = None) -> Report:
        """Sync the --articles folders and the uploads, removing articles whose files went."""
        progress = _no_progress if progress is None else progress
        roots = [*self.folders, *([self.uploads] if self.uploads.is_dir() else [])]
        if not roots:
            return _report([], None, "Nothing to re-index: start the server with --articles DIR.")
        progress(0.0, desc="Reading the folders …")
        report = self._sync(roots, prune=True, progress=progress)
        return _report([], report, "", [str(e) for e in report.errors])

    def _sync(self, paths: Sequence[Path], prune: bool, progress: Any) -> SyncReport:
        try:
            return self.index.sync(paths, prune=prune, progress=_feed(progress))
        except NewsAssistantError as exc:  # e.g. another process is writing, or the disk is full
            raise gr.Error(str(exc), title="Indexing stopped", print_exception=False) from None

    def after_index(self, report: Report, chosen: list[str] | None) -> tuple[Any, ...]:
        """The report, and what the index now holds; the upload box is emptied."""
        status, header, dropdown = self.refresh(chosen)
        return render.report_html(report), status, header, dropdown, None

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
) -> Report:
    out: Report = {"files": [u.to_dict() for u in uploads]}
    if report is not None:
        out.update(asdict(report))
        summary = f"{report.summary()} ({report.chunks_added} chunks, {report.seconds:.1f} s)"
    out.update(errors=list(errors), summary=summary)
    return out


def _feed(progress: Any) -> Callable[[str, int, int], None]:
    """The index's progress callback as a Gradio progress bar."""

    def callback(article_id: str, done: int, total: int) -> None:
        # the sync reports each article as it is queued; the last batch embeds after that
        desc = "Embedding the last batch" if article_id and done == total else "Indexing articles"
        progress((done, total), desc=desc, unit="articles")

    return callback


def _no_progress(*args: Any, **kwargs: Any) -> None:
    return None

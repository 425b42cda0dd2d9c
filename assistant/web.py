"""The web page: a streaming chat over the index, with filters, uploads and the index status.

`WebApp` holds the shared `Assistant` and the handlers; `build` lays out the page and wires the
events (the chat's `respond` generator first); `serve` opens the store, indexes the `--articles`
folders and launches. Program endpoints: `/ask` (an `Answer` as a JSON dict), `/index_status`,
`/upload_articles` and `/reindex` (both return the per-file report).

Not here: HTML of answers and sources (`assistant.web_render`); options and the bind/auth checks
(`assistant.cli_serve`).
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import hashlib
import logging
import re
import shutil
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path, PurePosixPath
from typing import Any

import gradio as gr

from assistant import web_render as render
from assistant.assistant import Assistant, Conversation, make_filters
from assistant.settings import Settings
from assistant.types import Answer
from index import ArticleIndex, NewsAssistantError, SyncReport
from index.parse import SUPPORTED_EXTENSIONS

log = logging.getLogger("assistant.web")
ACCEPTED = sorted(SUPPORTED_EXTENSIONS)
_UNSAFE = re.compile(r"[^\w.\- ()]+")


class WebApp:
    """The handlers of the page, around one shared `Assistant` (and its `ArticleIndex`)."""

    def __init__(
        self, assistant: Assistant, writer: ArticleIndex, folders: Sequence[Path] = ()
    ) -> None:
        self.assistant = assistant
        self.index: ArticleIndex = assistant.index
        # Syncs go through their own ArticleIndex on the same store: the answering one then only
        # ever swaps in whole, freshly loaded tables (on a generation change), never sees a
        # writer's tables half-updated, and picks up every article once the sync is committed.
        self.writer = writer
        self.settings: Settings = assistant.settings
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
        """Status panel, status line and the source filter's choices, after any change."""
        stats = self.status()
        keep = [s for s in (chosen or []) if s in stats["sources"]]
        return (
            render.status_html(stats),
            render.header_html(stats),
            gr.Dropdown(choices=stats["sources"], value=keep),
        )

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
        """Stream the answer to `message` into the chat; then its checked text and sources."""
        problem = self._check(message, since, until)
        if problem:
            gr.Warning(problem)
            yield message, history, gr.skip(), _note(problem), conversation, answers
            return
        conversation = conversation or self.assistant.chat()
        history = [*history, {"role": "user", "content": render.chat_text(message)}]
        reply = {"role": "assistant", "content": render.streaming_markdown("")}
        history.append(reply)
        answers = [*answers, None]
        yield "", history, render.searching_html(message), _note(""), conversation, answers
        filters = {"sources": sources or None, "since": since or None, "until": until or None}
        streamed = ""
        try:
            for part in conversation.stream(message, **filters):
                if isinstance(part, Answer):
                    answers[-1] = part
                    reply["content"] = render.answer_markdown(part)
                    yield "", history, render.sources_html(part), gr.skip(), conversation, answers
                else:
                    streamed += part
                    reply["content"] = render.streaming_markdown(streamed)
                    yield "", history, gr.skip(), gr.skip(), conversation, answers
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

    def _check(self, message: str, since: str, until: str) -> str:
        """Why the question cannot be asked as it stands ('' when it can)."""
        if not (message or "").strip():
            return "Type a question first."
        try:
            chosen = make_filters(since=since or None, until=until or None)
        except NewsAssistantError as exc:
            return str(exc)
        if chosen.since and chosen.until and chosen.since > chosen.until:
            return f"The date range is empty: 'from' {chosen.since} is after 'to' {chosen.until}."
        self.index.refresh()
        if not self.index.records():
            return "No articles are indexed yet: upload some in the Articles tab first."
        return ""

    def check_dates(self, since: str, until: str) -> Any:
        """The inline message under the date boxes as the reader types."""
        try:
            chosen = make_filters(since=since or None, until=until or None)
        except NewsAssistantError as exc:
            return _note(str(exc))
        if chosen.since and chosen.until and chosen.since > chosen.until:
            return _note("'From' is after 'to': no article can match.")
        return _note("")

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
            k += 1
        if 0 <= k < len(answers) and answers[k] is not None:
            return render.sources_html(answers[k])  # type: ignore[arg-type]
        return gr.skip()

    # -- indexing -----------------------------------------------------------------------------
    def upload(self, files: list[Any] | None, progress: Any = None) -> dict[str, Any]:
        """Save uploaded files under <store>/uploads (safe names, limits) and index them."""
        progress = _no_progress if progress is None else progress
        limit = int(self.settings.web.max_upload_mb * 1024 * 1024)
        entries, saved = save_uploads(files or [], self.uploads, limit)
        if not saved:
            return _report(entries, None, "Nothing was indexed.")
        progress(0.0, desc="Reading the files …")
        report = self.writer.sync(saved, progress=_feed(progress))
        by_path = {str(e["path"].resolve()): e for e in entries if "path" in e}
        problems: dict[str, list[str]] = {}
        leftover = []
        for error in report.errors:
            key = str(Path(error.path).resolve())
            if key in by_path:
                where = f"line {error.line}: " if error.line is not None else ""
                problems.setdefault(key, []).append(where + error.reason)
            else:
                leftover.append(str(error))
        stored = {str(Path(r.path).resolve()) for r in self.writer.records().values()}
        for key, reasons in problems.items():
            entry = by_path[key]
            if key in stored:
                entry["reason"] = "indexed, but skipped " + "; ".join(reasons)
            else:  # nothing of it could be read: don't keep it for the next re-index
                entry.update(status="failed", reason="; ".join(reasons))
                entry.pop("saved_as", None)
                Path(key).unlink(missing_ok=True)
        return _report(entries, report, "", leftover)

    def reindex(self, progress: Any = None) -> dict[str, Any]:
        """Sync the --articles folders and the uploads folder, removing articles whose files went."""
        progress = _no_progress if progress is None else progress
        roots = [*self.folders, *([self.uploads] if self.uploads.is_dir() else [])]
        if not roots:
            return _report([], None, "Nothing to re-index: start the server with --articles DIR.")
        progress(0.0, desc="Reading the folders …")
        report = self.writer.sync(roots, prune=True, progress=_feed(progress))
        return _report([], report, "", [str(e) for e in report.errors])

    def after_index(self, report: dict[str, Any], chosen: list[str] | None) -> tuple[Any, ...]:
        status, line, dropdown = self.refresh(chosen)
        return render.report_html(report), status, line, dropdown, None


def _note(message: str) -> Any:
    """The inline note under the filters, shown only when there is something to say."""
    return gr.HTML(render.note(message) if message else "", visible=bool(message))


def _report(
    entries: list[dict[str, Any]],
    report: SyncReport | None,
    summary: str,
    errors: Sequence[str] = (),
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "files": [{k: v for k, v in e.items() if k != "path"} for e in entries],
        "errors": list(errors),
        "summary": summary,
    }
    if report is not None:
        out.update(asdict(report))
        out["errors"] = list(errors)
        out["summary"] = (
            f"{report.summary()} ({report.chunks_added} chunks, {report.seconds:.1f} s)"
        )
    return out


def _feed(progress: Any) -> Callable[[str, int, int], None]:
    def callback(article_id: str, done: int, total: int) -> None:
        progress((done, total), desc="Embedding articles", unit="articles")

    return callback


def _no_progress(*args: Any, **kwargs: Any) -> None:
    return None


# -- uploads ----------------------------------------------------------------------------------
def safe_name(name: str) -> str:
    """A file name safe to create in the uploads folder: no folders, no '..', no hidden files."""
    base = PurePosixPath(str(name).replace("\\", "/")).name
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE.sub("_", base).strip(" ._")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = stem.strip(" ._")[:100] or "upload"
    return f"{stem}.{ext.lower()}" if ext else stem


def save_uploads(
    files: Sequence[Any], folder: Path, limit: int
) -> tuple[list[dict[str, Any]], list[Path]]:
    """Copy acceptable uploads into `folder`; one entry per file saying what became of it."""
    entries: list[dict[str, Any]] = []
    saved: list[Path] = []
    for item in files:
        temp = Path(item["path"] if isinstance(item, dict) else str(item))
        given = (item.get("orig_name") if isinstance(item, dict) else None) or temp.name
        entry: dict[str, Any] = {"name": given, "status": "rejected", "reason": ""}
        entries.append(entry)
        name = safe_name(given)
        size = temp.stat().st_size if temp.is_file() else -1
        if Path(name).suffix.lower() not in SUPPORTED_EXTENSIONS:
            entry["reason"] = f"not an article file type; accepted: {' '.join(ACCEPTED)}"
        elif size < 0:
            entry["reason"] = "the upload did not arrive; try again"
        elif size > limit:
            entry["reason"] = (
                f"{size / 1048576:.1f} MB is over the {limit / 1048576:g} MB limit "
                "(setting ASSISTANT_WEB__MAX_UPLOAD_MB)"
            )
        else:
            target = _place(temp, folder, name, {p.name for p in saved})
            entry.update(status="indexed", saved_as=f"uploads/{target.name}", path=target)
            saved.append(target)
    return entries, saved


def _place(temp: Path, folder: Path, name: str, taken: set[str]) -> Path:
    """Copy `temp` to `folder/name`, or to `name-2` … when another file holds that name."""
    folder.mkdir(parents=True, exist_ok=True)
    stem, ext = Path(name).stem, Path(name).suffix
    digest = _sha256(temp)
    for n in range(1, 10_000):
        target = folder / (name if n == 1 else f"{stem}-{n}{ext}")
        if target.name in taken:
            continue
        if target.exists() and _sha256(target) == digest:
            return target  # the same file again: re-indexing it is a no-op
        if not target.exists():
            break
    if target.resolve().parent != folder.resolve():
        raise NewsAssistantError(f"refusing to write the upload {name!r} outside {folder}")
    partial = folder / f".partial-{digest[:16]}"
    shutil.copyfile(temp, partial)
    os.replace(partial, target)
    return target


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# -- the page ---------------------------------------------------------------------------------
def build(app: WebApp) -> gr.Blocks:
    """The page and its events; the endpoints a program may call are named."""
    examples = render.examples_list(app.settings.web.examples)
    with gr.Blocks(title="News assistant", analytics_enabled=False) as demo:
        conversation = gr.State(None)
        answers = gr.State([])
        report = gr.JSON(visible=False)
        line = gr.HTML(render.header_html(None), elem_id="na-header")
        with gr.Tabs():
            with gr.Tab("Chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=420):
                    chatbot = gr.Chatbot(
                        height=560,
                        show_label=False,
                        examples=examples or None,  # type: ignore[arg-type]
                        placeholder="**Ask a question about your articles.**",
                        latex_delimiters=[],
                        feedback_options=None,
                        buttons=["copy"],
                        elem_id="na-chat",
                    )
                    with gr.Row(equal_height=True):
                        msg = gr.Textbox(
                            placeholder="Ask about your articles …",
                            show_label=False,
                            scale=8,
                            autofocus=True,
                            max_lines=4,
                            elem_id="na-question",
                        )
                        ask = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                        new = gr.Button("New chat", scale=1, min_width=116)
                with gr.Column(scale=2, min_width=340):
                    with gr.Accordion("Filters", open=True, elem_classes="na-filters"):
                        source_filter = gr.Dropdown(
                            label="Sources (none chosen: all)",
                            multiselect=True,
                            choices=[],
                            elem_id="na-source-filter",
                        )
                        with gr.Row():
                            since = gr.Textbox(
                                label="Published from",
                                show_label=False,
                                placeholder="Published from YYYY-MM-DD",
                                elem_id="na-since",
                            )
                            until = gr.Textbox(
                                label="Published to",
                                show_label=False,
                                placeholder="Published to YYYY-MM-DD",
                                elem_id="na-until",
                            )
                        filter_note = gr.HTML(visible=False)
                    sources = gr.HTML(elem_id="na-sources", max_height=560)
            with gr.Tab("Articles"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    files = gr.File(
                        label="Add articles: "
                        + " ".join(ACCEPTED)
                        + f" (up to {app.settings.web.max_upload_mb:g} MB each)",
                        file_count="multiple",
                        file_types=ACCEPTED,
                        elem_id="na-upload",
                    )
                    results = gr.HTML(elem_id="na-report", min_height=90)
                    reindex = gr.Button(
                        "Re-index folders" if app.folders else "Re-index uploads",
                        elem_id="na-reindex",
                    )
                    gr.HTML(render.folders_html(app.folders, app.uploads))
                with gr.Column(scale=2):
                    status = gr.HTML(elem_id="na-status")

        chat_inputs = [msg, chatbot, conversation, answers, source_filter, since, until]
        chat_outputs = [msg, chatbot, sources, filter_note, conversation, answers]
        for trigger in (msg.submit, ask.click):
            trigger(
                app.respond,
                chat_inputs,
                chat_outputs,
                api_visibility="private",
                show_progress="hidden",
            )

        def respond_example(evt: gr.SelectData, *rest: Any) -> Iterator[tuple[Any, ...]]:
            yield from app.respond(evt.value["text"], *rest)

        chatbot.example_select(
            respond_example, chat_inputs[1:], chat_outputs, api_visibility="private"
        )
        for trigger in (new.click, chatbot.clear):
            trigger(
                app.new_chat,
                None,
                [chatbot, sources, conversation, answers, filter_note],
                api_visibility="private",
            )
        chatbot.select(app.show_selected, [chatbot, answers], sources, api_visibility="private")
        for box in (since, until):
            box.blur(app.check_dates, [since, until], filter_note, api_visibility="private")

        after = [results, status, line, source_filter, files]

        # Gradio finds its progress tracker by a gr.Progress() default, made per function.
        def upload(
            files: list[Any] | None,
            progress: Any = gr.Progress(),  # noqa: B008
        ) -> dict[str, Any]:
            return app.upload(files, progress)

        def reindex_all(progress: Any = gr.Progress()) -> dict[str, Any]:  # noqa: B008
            return app.reindex(progress)

        files.upload(
            upload,
            files,
            report,
            api_name="upload_articles",
            preprocess=False,
            concurrency_limit=1,
            concurrency_id="index",
            show_progress_on=results,
        ).then(app.after_index, [report, source_filter], after, api_visibility="private")
        reindex.click(
            reindex_all,
            None,
            report,
            api_name="reindex",
            concurrency_limit=1,
            concurrency_id="index",
            show_progress_on=results,
        ).then(app.after_index, [report, source_filter], after, api_visibility="private")

        def on_load() -> tuple[Any, ...]:
            shown = app.refresh()
            return (*shown, render.sources_placeholder(app.index.stats().articles))

        demo.load(on_load, None, [status, line, source_filter, sources], api_visibility="private")

        def ask_api(
            question: str,
            sources: str | list[str] | None = None,
            since: str = "",
            until: str = "",
            as_of: str = "",
        ) -> dict[str, Any]:
            """Answer one question; the Answer as a dict (question, text, citations, ...)."""
            try:
                answer = app.assistant.ask(
                    question, sources=sources or None, since=since, until=until, as_of=as_of
                )
            except NewsAssistantError as exc:
                raise gr.Error(str(exc), print_exception=False) from None
            return answer.to_dict()

        def index_status() -> dict[str, Any]:
            """Articles, chunks, embedding model, sources, last sync and the answer mode."""
            return app.status()

        gr.api(ask_api, api_name="ask")
        gr.api(index_status, api_name="index_status")
    return demo


def start(settings: Settings, llm: str | None, model: str | None) -> WebApp:
    """Open (or create) the store, index the --articles folders, connect the answerer."""
    index = ArticleIndex.open(settings.store, settings.index, chroma_url=settings.chroma_url)
    writer = ArticleIndex.open(
        settings.store, settings.index, chroma_url=settings.chroma_url, embedder=index.embedder
    )
    folders = list(settings.web.articles)
    if folders:
        print(f"Indexing {', '.join(str(f) for f in folders)} …", flush=True)
        report = writer.sync(folders)
        for error in report.errors:
            print(f"failed: {error}", flush=True)
        print(f"{report.summary()} ({report.seconds:.1f} s)", flush=True)
    index.embed(["warm up"])  # load the model now, not on the first question
    assistant = Assistant.open(settings=settings, index=index, llm=llm, model=model)
    return WebApp(assistant, writer, folders)


def _theme() -> gr.themes.Base:
    fonts = gr.themes.LocalFont
    return gr.themes.Soft(
        primary_hue="indigo",
        neutral_hue="slate",
        # bundled with Gradio: the page makes no request beyond its own server
        # (their semi-bold files hold only a few glyphs: use regular and bold)
        font=(
            fonts("IBM Plex Sans", weights=(400, 700)),
            fonts("Lora", weights=(400, 600)),
            "ui-sans-serif",
            "system-ui",
            "sans-serif",
        ),
        font_mono=(fonts("IBM Plex Mono", weights=(400, 700)), "ui-monospace", "monospace"),
    )


def launch(app: WebApp, auth: tuple[str, str] | None, note: str) -> None:
    """Serve until interrupted; prints the address and whether a password protects it."""
    web = app.settings.web
    demo = build(app)
    demo.queue(default_concurrency_limit=web.concurrency_limit)
    try:
        demo.launch(
            server_name=web.host,
            server_port=web.port,
            auth=auth,
            auth_message="News assistant: sign in" if auth else None,
            prevent_thread_lock=True,
            quiet=True,
            footer_links=["api"],
            max_file_size=int(web.max_upload_mb * 4 * 1024 * 1024),
            css=render.CSS,
            theme=_theme(),
        )
    except OSError as exc:
        raise NewsAssistantError(
            f"cannot serve on {web.host}:{web.port} ({exc}); choose another --port or --host"
        ) from None
    host = f"[{web.host}]" if ":" in web.host else web.host
    port = getattr(demo, "server_port", None) or web.port
    print(f"Serving on http://{host}:{port} ({note})", flush=True)
    print(f"Answers: {app.assistant.model_label or 'extractive (no LLM)'}", flush=True)
    demo.block_thread()

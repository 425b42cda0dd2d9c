"""The page's layout: a Chat tab (chat, filters, sources) and an Articles tab (uploads, re-index,
index status), and the events that connect them to a `WebApp`'s handlers.

Only the endpoints meant for programs are named (`/ask`, `/index_status`, `/upload_articles`,
`/reindex`); every other event is private. Not here: the handlers (`assistant.web.app`), the HTML
(`assistant.web.render`) and the look (`assistant.web.look`).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import gradio as gr

from assistant.web import look as web_look
from assistant.web import render
from assistant.web.app import Report, WebApp
from assistant.web.uploads import ACCEPTED

WATCH_REFRESH_SECONDS = 15.0


def build(app: WebApp) -> gr.Blocks:
    """The page and its events; only the endpoints meant for programs are named."""
    # Received uploads are deleted by the handler; any a dropped request left behind, after an
    # hour (and all of them when the server starts again).
    with gr.Blocks(
        title="News assistant", analytics_enabled=False, delete_cache=(600, 3600)
    ) as demo:
        ui = SimpleNamespace(
            conversation=gr.State(None),
            answers=gr.State([]),
            report=gr.JSON(visible=False, label="report"),
            header=gr.HTML(render.header_html(None), elem_id="na-header"),
        )
        with gr.Tabs():
            with gr.Tab("Chat"), gr.Row(equal_height=False):
                _chat_column(app, ui)
                _filters_and_sources(ui)
            with gr.Tab("Articles"), gr.Row(equal_height=False):
                _articles_column(app, ui)
                with gr.Column(scale=2):
                    ui.status = gr.HTML(elem_id="na-status")
        _wire_chat(app, ui)
        _wire_indexing(app, ui)
        demo.load(None, js=web_look.SCRIPT.read_text(encoding="utf-8"))  # the phone layout
        demo.load(
            app.on_load,
            None,
            [ui.status, ui.header, ui.source_filter, ui.sources],
            api_visibility="private",
        )

        def index_status() -> dict[str, Any]:
            """Articles, chunks, embedding model, sources, last sync and the answer mode."""
            return app.status()

        if app.watcher is not None:  # the header follows the watched syncs
            timer = gr.Timer(WATCH_REFRESH_SECONDS)
            timer.tick(
                lambda: app.refresh()[:2],
                None,
                [ui.status, ui.header],
                api_visibility="private",
                show_progress="hidden",
            )

        gr.api(app.ask, api_name="ask")
        gr.api(index_status, api_name="index_status")
    return demo


def _chat_column(app: WebApp, ui: SimpleNamespace) -> None:
    with gr.Column(scale=3, min_width=420):
        ui.chatbot = gr.Chatbot(
            height=560,
            show_label=False,
            examples=render.examples_list(app.settings.web.examples) or None,  # type: ignore[arg-type]
            placeholder="**Ask a question about your articles.**",
            latex_delimiters=[],
            feedback_options=None,
            buttons=["copy"],
            elem_id="na-chat",
        )
        with gr.Row(equal_height=True):
            ui.question = gr.Textbox(
                placeholder="Ask about your articles …",
                show_label=False,
                scale=8,
                autofocus=True,
                max_lines=4,
                elem_id="na-question",
            )
            ui.ask = gr.Button("Ask", variant="primary", scale=1, min_width=80)
            ui.new = gr.Button("New chat", scale=1, min_width=116)


def _filters_and_sources(ui: SimpleNamespace) -> None:
    with gr.Column(scale=2, min_width=340):
        with gr.Accordion("Filters: source and publication date", open=True, elem_id="na-filters"):
            ui.source_filter = gr.Dropdown(
                label="Sources (none chosen: all)", multiselect=True, choices=[]
            )
            with gr.Row():
                ui.since = gr.Textbox(
                    label="Published from",
                    show_label=False,
                    placeholder="From YYYY-MM-DD",
                    elem_id="na-since",
                )
                ui.until = gr.Textbox(
                    label="Published to",
                    show_label=False,
                    placeholder="To YYYY-MM-DD",
                    elem_id="na-until",
                )
            ui.filter_note = gr.HTML(elem_id="na-filter-note")
        ui.sources = gr.HTML(elem_id="na-sources", max_height=560)


def _articles_column(app: WebApp, ui: SimpleNamespace) -> None:
    limit = f"up to {app.settings.web.max_upload_mb:g} MB each"
    with gr.Column(scale=3):
        ui.files = gr.File(
            label=f"Add articles: {' '.join(ACCEPTED)} ({limit})",
            file_count="multiple",
            file_types=ACCEPTED,
            elem_id="na-upload",
        )
        with gr.Row(equal_height=True):
            ui.links = gr.Textbox(
                label="Or add by link: RSS/Atom feeds or article pages, one per line",
                placeholder="https://example.org/news/feed.xml",
                lines=2,
                max_lines=8,
                scale=5,
                elem_id="na-links",
            )
            ui.add_links = gr.Button("Add links", scale=1, min_width=110, elem_id="na-add-links")
        ui.results = gr.HTML(elem_id="na-report")
        ui.reindex = gr.Button(
            "Re-index folders" if app.folders else "Re-index uploads", elem_id="na-reindex"
        )
        gr.HTML(render.folders_html(app.folders, app.uploads))


def _wire_chat(app: WebApp, ui: SimpleNamespace) -> None:
    inputs = [ui.question, ui.chatbot, ui.conversation, ui.answers]
    inputs += [ui.source_filter, ui.since, ui.until]
    outputs = [ui.question, ui.chatbot, ui.sources, ui.filter_note, ui.conversation, ui.answers]
    # A question sent while the previous answer is still closing runs once that one has ended
    # (Gradio's default, "once", would drop it without a word).
    for trigger in (ui.question.submit, ui.ask.click):
        trigger(
            app.respond,
            inputs,
            outputs,
            api_visibility="private",
            show_progress="hidden",
            trigger_mode="always_last",
        )

    def respond_example(evt: gr.SelectData, *rest: Any) -> Iterator[tuple[Any, ...]]:
        yield from app.respond(evt.value["text"], *rest)

    ui.chatbot.example_select(respond_example, inputs[1:], outputs, api_visibility="private")
    cleared = [ui.chatbot, ui.sources, ui.conversation, ui.answers, ui.filter_note]
    for trigger in (ui.new.click, ui.chatbot.clear):
        trigger(app.new_chat, None, cleared, api_visibility="private")
    ui.chatbot.select(
        app.show_selected, [ui.chatbot, ui.answers], ui.sources, api_visibility="private"
    )
    for box in (ui.since, ui.until):
        box.blur(app.check_dates, [ui.since, ui.until], ui.filter_note, api_visibility="private")


def _wire_indexing(app: WebApp, ui: SimpleNamespace) -> None:
    # Gradio finds its progress tracker by a gr.Progress() default, one per function.
    # Both stream their report as the sync moves (programs see each phase) and move the bar.
    def upload(files: list[Any] | None, progress: Any = gr.Progress()) -> Iterator[Report]:  # noqa: B008
        yield from app.upload(files, progress)

    def reindex(progress: Any = gr.Progress()) -> Iterator[Report]:  # noqa: B008
        yield from app.reindex(progress)

    def add_links(text: str, progress: Any = gr.Progress()) -> Iterator[Report]:  # noqa: B008
        yield from app.add_links(text, progress)

    # One sync at a time (the store has one writer); questions keep their own queue.
    one_writer: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "index"}
    after = [ui.results, ui.status, ui.header, ui.source_filter, ui.files]
    shown = [ui.report, ui.source_filter]
    for event in (
        ui.files.upload(
            upload,
            ui.files,
            ui.report,
            api_name="upload_articles",
            preprocess=False,  # keeps the browser's file names (sanitised in save_uploads)
            show_progress_on=ui.results,
            **one_writer,
        ),
        ui.reindex.click(
            reindex, None, ui.report, api_name="reindex", show_progress_on=ui.results, **one_writer
        ),
        ui.add_links.click(
            add_links,
            ui.links,
            ui.report,
            api_name="add_links",
            show_progress_on=ui.results,
            **one_writer,
        ),
    ):
        event.success(app.after_index, shown, after, api_visibility="private")
        # a sync stopped part-way may still have committed some articles
        event.failure(
            app.refresh,
            ui.source_filter,
            [ui.status, ui.header, ui.source_filter],
            api_visibility="private",
        )

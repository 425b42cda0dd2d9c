"""The page's layout: a Chat tab (chat, filters, sources) and an Articles tab (uploads, re-index,
index status), and the events that connect them to a `WebApp`'s handlers. Each part of the page has a name (an
attribute of `ui`); `named` wires a handler to parts by those names, so the handler's keyword
arguments and the dict it returns say which part is which.

Only the endpoints meant for programs are named (`/ask`, `/index_status`, `/upload_articles`,
`/reindex`); every other event is private. Not here: the handlers (`assistant.web.app`), the HTML
(`assistant.web.render`) and the look (`assistant.web.look`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import gradio as gr

from assistant.web import look as web_look
from assistant.web import render
from assistant.web.app import Parts, Report, WebApp
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
            **named(ui, app.on_load, (), ("status", "header", "source_filter", "sources")),
            api_visibility="private",
        )

        def index_status() -> dict[str, Any]:
            """Articles, chunks, embedding model, sources, last sync and the answer mode."""
            return app.status()

        if app.watcher is not None:  # the header follows the watched syncs
            timer = gr.Timer(WATCH_REFRESH_SECONDS)
            timer.tick(  # the status and header only: the filter keeps what the reader chose
                **named(ui, app.refresh, (), ("status", "header")),
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
            group_consecutive_messages=False,  # a refusal is its own bubble, not the answer's
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


def named(
    ui: SimpleNamespace,
    handler: Callable[..., Parts | Iterator[Parts]],
    inputs: Sequence[str],
    outputs: Sequence[str],
) -> dict[str, Any]:
    """The `fn`, `inputs` and `outputs` of a Gradio event for a handler that takes the values
    of the parts named in `inputs` as keyword arguments of those names, and returns (or yields)
    the new values of some parts by name. Of these, the parts named in `outputs` are shown; one
    left out is left as it is."""

    def shown(parts: Mapping[str, Any]) -> Any:
        values = [parts[name] if name in parts else gr.skip() for name in outputs]
        return values[0] if len(values) == 1 else tuple(values)

    def arguments(values: Sequence[Any]) -> dict[str, Any]:
        return dict(zip(inputs, values, strict=True))

    if inspect.isgeneratorfunction(handler):

        def streamed(*values: Any) -> Iterator[Any]:
            for parts in handler(**arguments(values)):
                yield shown(parts)

        fn: Callable[..., Any] = streamed
    else:

        def returned(*values: Any) -> Any:
            return shown(handler(**arguments(values)))  # type: ignore[arg-type]

        fn = returned
    return {
        "fn": fn,
        "inputs": [getattr(ui, name) for name in inputs],
        "outputs": [getattr(ui, name) for name in outputs],
    }


ASKED = ("question", "chatbot", "conversation", "answers", "source_filter", "since", "until")
ANSWERED = ("question", "chatbot", "sources", "filter_note", "conversation", "answers")


def _wire_chat(app: WebApp, ui: SimpleNamespace) -> None:
    # A question sent while the previous answer is still closing runs once that one has ended
    # (Gradio's default, "once", would drop it without a word).
    for trigger in (ui.question.submit, ui.ask.click):
        trigger(
            **named(ui, app.respond, ASKED, ANSWERED),
            api_visibility="private",
            show_progress="hidden",
            trigger_mode="always_last",
        )

    respond = named(ui, app.respond, ASKED, ANSWERED)["fn"]

    def respond_example(evt: gr.SelectData, *rest: Any) -> Iterator[Any]:
        yield from respond(evt.value["text"], *rest)  # the example clicked is the question

    asked = [getattr(ui, name) for name in ASKED[1:]]
    answered = [getattr(ui, name) for name in ANSWERED]
    ui.chatbot.example_select(respond_example, asked, answered, api_visibility="private")
    cleared = ("chatbot", "sources", "conversation", "answers", "filter_note")
    for trigger in (ui.new.click, ui.chatbot.clear):
        trigger(**named(ui, app.new_chat, (), cleared), api_visibility="private")
    ui.chatbot.select(
        app.show_selected, [ui.chatbot, ui.answers], ui.sources, api_visibility="private"
    )
    for box in (ui.since, ui.until):
        box.blur(
            **named(ui, app.check_dates, ("since", "until"), ("filter_note",)),
            api_visibility="private",
        )


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
    after = ("results", "status", "header", "source_filter", "files")
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
        event.success(
            **named(ui, app.after_index, ("report", "source_filter"), after),
            api_visibility="private",
        )
        # a sync stopped part-way may still have committed some articles
        event.failure(
            **named(ui, app.refresh, ("source_filter",), ("status", "header", "source_filter")),
            api_visibility="private",
        )

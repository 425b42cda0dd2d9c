"""The page's layout: a Chat tab (chat, filters, sources), a Briefing tab (the top stories of a
period, each with its lead, how it unfolded and who reported it), a Library tab (every article, searched,
read whole with its cited sentences marked, deleted) and an Add articles tab (uploads, links,
re-index, index status), and the events that connect them to a `WebApp`'s handlers. Each part of the page has a name (an
attribute of `ui`); `named` wires a handler to parts by those names, so the handler's keyword
arguments and the dict it returns say which part is which.

Only the endpoints meant for programs are named (`/ask`, `/index_status`, `/brief`, `/timeline`, `/articles`,
`/remove_articles`, `/upload_articles`, `/add_links`, `/reindex`); every other event is private. Not here: the handlers (`assistant.web.app`), the HTML
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


def build(app: WebApp, sign_out: bool = False) -> gr.Blocks:
    """The page and its events; only the endpoints meant for programs are named. `sign_out`
    (the page is behind a password) adds a Sign out link to Gradio's /logout."""
    # Received uploads are deleted by the handler; any a dropped request left behind, after an
    # hour (and all of them when the server starts again).
    with gr.Blocks(
        title="News assistant", analytics_enabled=False, delete_cache=(600, 3600)
    ) as demo:
        storage_key, secret = app.browser_storage()
        ui = SimpleNamespace(
            # the conversation kept in this browser across reloads: user name -> its answers
            saved=gr.BrowserState({}, storage_key=storage_key, secret=secret),
            conversation=gr.State(None),
            answers=gr.State([]),
            report=gr.JSON(visible=False, label="report"),
            header=gr.HTML(render.header_html(None), elem_id="na-header"),
            # pressed by a source card's "Read the whole article" link (web.js), the article's
            # id in open_id; outside the tabs, so on the page whichever tab is shown
            open_id=gr.Textbox(visible="hidden", elem_id="na-open-id"),
            open_article=gr.Button(visible="hidden", elem_id="na-open-article"),
            # the conversation as Markdown, saved by the browser (EXPORT_JS): no file route
            exported=gr.Textbox(visible="hidden", elem_id="na-exported"),
            # an answer's "export" link (web.js): its key in export_key, then this pressed
            export_key=gr.Textbox(visible="hidden", elem_id="na-export-key"),
            export_one=gr.Button(visible="hidden", elem_id="na-export-one"),
        )
        if sign_out:
            gr.Button("Sign out", link="/logout", size="sm", elem_id="na-sign-out")
        with gr.Tabs() as ui.tabs:
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                _chat_column(app, ui)
                _filters_and_sources(ui)
            with gr.Tab("Briefing", id="briefing") as ui.briefing_tab:
                _briefing_column(ui)
            with gr.Tab("Library", id="library") as ui.library_tab, gr.Row(equal_height=False):
                _library_columns(ui)
            with gr.Tab("Add articles", id="add"), gr.Row(equal_height=False):
                _articles_column(app, ui)
                with gr.Column(scale=2):
                    ui.status = gr.HTML(elem_id="na-status")
        _wire_chat(app, ui)
        _wire_briefing(app, ui)
        _wire_library(app, ui)
        _wire_indexing(app, ui)
        demo.load(None, js=web_look.SCRIPT.read_text(encoding="utf-8"))  # phone layout, links
        loaded = ("status", "header", "source_filter", "sources", *RESTORED)

        def on_load(saved: Any, request: gr.Request) -> Any:
            parts = app.on_load() | app.restore(saved, user_of(request))
            return tuple(parts.get(name, gr.skip()) for name in loaded)

        demo.load(on_load, ui.saved, [getattr(ui, n) for n in loaded], api_visibility="private")

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
        gr.api(app.articles, api_name="articles")
        gr.api(app.brief, api_name="brief")
        gr.api(app.timeline, api_name="timeline")
        gr.api(app.coverage, api_name="coverage")
        gr.api(app.remove_articles, api_name="remove_articles", **ONE_WRITER)
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
            ui.export = gr.Button("Export", scale=1, min_width=90, elem_id="na-export")


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


PERIODS = [
    ("The collection's latest week", "latest"),
    ("The last 24 hours", "24h"),
    ("The last 7 days", "7d"),
    ("The last 30 days", "30d"),
]


def _briefing_column(ui: SimpleNamespace) -> None:
    with gr.Row(equal_height=True):
        ui.brief_period = gr.Dropdown(
            choices=PERIODS, value="latest", label="Period", scale=2, elem_id="na-brief-period"
        )
        ui.brief_sources = gr.Dropdown(
            label="Outlets (none chosen: all)",
            multiselect=True,
            choices=[],
            scale=2,
            elem_id="na-brief-sources",
        )
        ui.brief_about = gr.Textbox(
            label="About", placeholder="Only stories about …", scale=2, elem_id="na-brief-about"
        )
    ui.briefing = gr.HTML(elem_id="na-briefing")


def _library_columns(ui: SimpleNamespace) -> None:
    with gr.Column(scale=3, min_width=420):
        with gr.Row(equal_height=True):
            ui.lib_search = gr.Textbox(
                label="Search",
                placeholder="Words of the title, outlet or link …",
                scale=3,
                elem_id="na-lib-search",
            )
            ui.lib_sources = gr.Dropdown(
                label="Outlets (none chosen: all)",
                multiselect=True,
                choices=[],
                scale=2,
                elem_id="na-lib-sources",
            )
        ui.lib_count = gr.HTML(elem_id="na-lib-count")
        ui.library = gr.Dataframe(
            headers=render.LIBRARY_HEADERS,
            datatype=["str", "str", "str", "number", "str"],
            interactive=False,
            wrap=True,
            max_height=620,
            column_widths=["44%", "17%", "13%", "10%", "16%"],
            elem_id="na-library",
        )
    with gr.Column(scale=2, min_width=340):
        ui.reader = gr.HTML(render.reader_placeholder(), elem_id="na-reader", max_height=680)
        with gr.Row(visible=False, equal_height=True, elem_id="na-edit") as ui.edit_row:
            ui.lib_outlet = gr.Textbox(label="Outlet", max_lines=1, scale=2)
            ui.lib_date = gr.Textbox(label="Date", placeholder="YYYY-MM-DD", max_lines=1, scale=2)
            ui.save_fields = gr.Button("Save", scale=1, min_width=80, elem_id="na-save-fields")
        ui.delete = gr.Button(
            "Delete this article", variant="stop", interactive=False, elem_id="na-delete"
        )
        ui.removed = gr.HTML(elem_id="na-removed")
    ui.listed = gr.State([])  # the ids of the table's rows, in the order listed
    ui.chosen = gr.Textbox(visible="hidden", elem_id="na-chosen")  # the article in the reader


def _articles_column(app: WebApp, ui: SimpleNamespace) -> None:
    limit = f"up to {app.settings.web.max_upload_mb:g} MB each"
    with gr.Column(scale=3):
        with gr.Row(equal_height=True):  # for the articles that carry none of their own
            ui.upload_source = gr.Textbox(
                "Uploaded",
                label="Outlet of uploads that name none",
                max_lines=1,
                elem_id="na-upload-source",
            )
            ui.upload_date = gr.Textbox(
                "",
                label="Date of uploads that carry none",
                placeholder="YYYY-MM-DD (empty: the day of the upload)",
                max_lines=1,
                elem_id="na-upload-date",
            )
        ui.files = gr.File(
            label=f"Add articles: {' '.join(ACCEPTED)} ({limit})",
            file_count="multiple",
            file_types=ACCEPTED,
            elem_id="na-upload",
        )
        # the per-file limit, for web.js to refuse a larger file before it is sent
        gr.HTML(render.upload_limit_html(app.settings.web.max_upload_mb), elem_id="na-upload-note")
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


RESTORED = ("chatbot", "answers", "conversation")


def user_of(request: gr.Request | None) -> str:
    """The signed-in user's name ("" without a password): whose kept conversation it is."""
    return str(getattr(request, "username", None) or "")


def _remember(app: WebApp) -> Callable[..., Any]:
    def remember(answers: Any, saved: Any, request: gr.Request) -> Any:
        return app.remember(answers, saved, user_of(request))["saved"]

    return remember


ASKED = ("question", "chatbot", "conversation", "answers", "source_filter", "since", "until")
ANSWERED = ("question", "chatbot", "sources", "filter_note", "conversation", "answers")


EXPORT_JS = """(markdown) => {
  if (!markdown) return;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([markdown], { type: "text/markdown" }));
  link.download = `news-assistant-${new Date().toISOString().slice(0, 10)}.md`;
  document.body.appendChild(link);
  link.click();
  setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
}"""


def _wire_chat(app: WebApp, ui: SimpleNamespace) -> None:
    # A question sent while the previous answer is still closing runs once that one has ended
    # (Gradio's default, "once", would drop it without a word).
    remember: dict[str, Any] = {
        "fn": _remember(app),
        "inputs": [ui.answers, ui.saved],
        "outputs": ui.saved,
        "api_visibility": "private",
        "show_progress": "hidden",
    }
    for trigger in (ui.question.submit, ui.ask.click):
        trigger(
            **named(ui, app.respond, ASKED, ANSWERED),
            api_visibility="private",
            show_progress="hidden",
            trigger_mode="always_last",
        ).then(**remember)

    respond = named(ui, app.respond, ASKED, ANSWERED)["fn"]

    def respond_example(evt: gr.SelectData, *rest: Any) -> Iterator[Any]:
        yield from respond(evt.value["text"], *rest)  # the example clicked is the question

    asked = [getattr(ui, name) for name in ASKED[1:]]
    answered = [getattr(ui, name) for name in ANSWERED]
    ui.chatbot.example_select(respond_example, asked, answered, api_visibility="private").then(
        **remember
    )
    cleared = ("chatbot", "sources", "conversation", "answers", "filter_note")
    for trigger in (ui.new.click, ui.chatbot.clear):
        trigger(**named(ui, app.new_chat, (), cleared), api_visibility="private").then(**remember)
    ui.export.click(
        **named(ui, app.export, ("answers",), ("exported",)), api_visibility="private"
    ).then(None, ui.exported, None, js=EXPORT_JS)
    ui.export_one.click(
        **named(ui, app.export, ("answers", "export_key"), ("exported",)),
        js="(answers, key) => [answers, window.naExportKey || '']",
        api_visibility="private",
    ).then(None, ui.exported, None, js=EXPORT_JS)
    ui.chatbot.select(
        app.show_selected, [ui.chatbot, ui.answers], ui.sources, api_visibility="private"
    )
    for box in (ui.since, ui.until):
        box.blur(  # checks run one at a time, in the order the boxes were left: the last wins
            **named(ui, app.check_dates, ("since", "until"), ("filter_note",)),
            api_visibility="private",
            trigger_mode="always_last",
            concurrency_limit=1,
            concurrency_id="dates",
        )


LISTED = ("library", "listed", "lib_count", "lib_sources")
READ = ("reader", "chosen", "delete", "removed", "edit_row", "lib_outlet", "lib_date")
# One sync or removal at a time (the store has one writer); questions keep their own queue.
ONE_WRITER: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "index"}
CONFIRM_DELETE = """(chosen, ...rest) => {
  const title = document.querySelector('#na-reader .na-title')?.textContent || chosen;
  return [confirm(`Delete “${title}” from the index? Its passages go with it.`) ? chosen : '',
          ...rest];
}"""


def _wire_briefing(app: WebApp, ui: SimpleNamespace) -> None:
    # drawn when the tab is opened (a tab not yet shown has nothing to fill) and as its
    # choices change
    briefed = named(
        ui,
        app.briefing,
        ("brief_period", "brief_sources", "brief_about"),
        ("briefing", "brief_sources"),
    )
    quiet: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
    ui.briefing_tab.select(**briefed, **quiet)
    ui.brief_period.input(**briefed, **quiet, trigger_mode="always_last")
    ui.brief_sources.input(**briefed, **quiet, trigger_mode="always_last")
    ui.brief_about.submit(**briefed, **quiet, trigger_mode="always_last")


def _wire_library(app: WebApp, ui: SimpleNamespace) -> None:
    # listed when the tab is opened (a tab not yet shown has no table to fill) and as the
    # search or the outlets change
    listed = named(ui, app.library, ("lib_search", "lib_sources"), LISTED)
    quiet: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
    ui.library_tab.select(**listed, **quiet)
    ui.lib_search.change(**listed, **quiet, trigger_mode="always_last")
    ui.lib_sources.input(**listed, **quiet, trigger_mode="always_last")

    def open_row(library: Any, listed: list[str], answers: Any, evt: gr.SelectData) -> Any:
        parts = app.open_row(library, listed, answers, evt)
        return tuple(parts.get(name, gr.skip()) for name in READ)

    ui.library.select(
        open_row,
        [ui.library, ui.listed, ui.answers],
        [getattr(ui, n) for n in READ],
        api_visibility="private",
    )
    # a source card's link sets window.naOpen and presses the hidden button (web.js)
    opened = named(ui, app.read, ("open_id", "answers"), READ)
    ui.open_article.click(
        lambda *values: (*opened["fn"](*values), gr.Tabs(selected="library")),
        opened["inputs"],
        [*opened["outputs"], ui.tabs],
        js="(open_id, answers) => [window.naOpen || '', answers]",
        api_visibility="private",
        show_progress="hidden",  # the tabs are an output: no spinner over the whole page
    )
    ui.save_fields.click(
        **named(
            ui,
            app.save_fields,
            ("chosen", "lib_outlet", "lib_date", "answers", "lib_search", "lib_sources"),
            (*READ, *LISTED, "status", "header"),
        ),
        api_visibility="private",
        **ONE_WRITER,
    )
    removed = (
        "removed",
        "reader",
        "chosen",
        "delete",
        *LISTED,
        "status",
        "header",
        "source_filter",
    )
    ui.delete.click(
        **named(ui, app.delete, ("chosen", "lib_search", "lib_sources", "source_filter"), removed),
        js=CONFIRM_DELETE,
        api_visibility="private",
        **ONE_WRITER,
    )


def _wire_indexing(app: WebApp, ui: SimpleNamespace) -> None:
    # Gradio finds its progress tracker by a gr.Progress() default, one per function.
    # Both stream their report as the sync moves (programs see each phase) and move the bar.
    def upload(
        files: list[Any] | None,
        source: str = "Uploaded",
        published: str = "",
        progress: Any = gr.Progress(),  # noqa: B008
    ) -> Iterator[Report]:
        yield from app.upload(files, progress, source, published)

    def reindex(progress: Any = gr.Progress()) -> Iterator[Report]:  # noqa: B008
        yield from app.reindex(progress)

    def add_links(text: str, progress: Any = gr.Progress()) -> Iterator[Report]:  # noqa: B008
        yield from app.add_links(text, progress)

    one_writer = ONE_WRITER
    after = ("results", "status", "header", "source_filter", "files")
    # each report streamed by a run redraws the panel with its steps (never blank meanwhile)
    ui.report.change(
        **named(ui, app.progress, ("report",), ("results",)),
        api_visibility="private",
        show_progress="hidden",
    )
    for event in (
        ui.files.upload(
            upload,
            [ui.files, ui.upload_source, ui.upload_date],
            ui.report,
            api_name="upload_articles",
            preprocess=False,  # keeps the browser's file names (sanitised in save_uploads)
            show_progress="hidden",  # the panel shows the run's steps itself (app.progress)
            **one_writer,
        ),
        ui.reindex.click(
            reindex, None, ui.report, api_name="reindex", show_progress="hidden", **one_writer
        ),
        ui.add_links.click(
            add_links,
            ui.links,
            ui.report,
            api_name="add_links",
            show_progress="hidden",
            **one_writer,
        ),
    ):
        event.success(
            **named(ui, app.after_index, ("report", "source_filter"), after),
            api_visibility="private",
            show_progress="hidden",
        )
        # a sync stopped part-way may still have committed some articles
        event.failure(
            **named(ui, app.refresh, ("source_filter",), ("status", "header", "source_filter")),
            api_visibility="private",
        )

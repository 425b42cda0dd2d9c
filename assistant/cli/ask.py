"""`assistant ask` and `assistant chat`: answers with markers, then the numbered sources."""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Any

from assistant.assistant import Assistant, check_top_k, make_filters
from assistant.cli.common import add_store_options, settings_from
from assistant.errors import QuestionError, UsageError
from assistant.types import Answer, Citation


def add_parser(sub: Any) -> None:
    ask = sub.add_parser("ask", help="answer one question with cited sources")
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("--json", action="store_true", help="print the Answer as JSON")
    _add_answer_options(ask)
    ask.set_defaults(run=run_ask)

    chat = sub.add_parser("chat", help="a terminal chat with follow-up questions")
    _add_answer_options(chat)
    chat.set_defaults(run=run_chat)


def _add_answer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--top-k", type=int, help="passages to draw the answer from")
    p.add_argument("--source", action="append", help="only this outlet (repeatable)")
    p.add_argument("--since", help="only articles published on or after YYYY-MM-DD")
    p.add_argument("--until", help="only articles published on or before YYYY-MM-DD")
    p.add_argument("--as-of", help="answer from the news available on YYYY-MM-DD")
    p.add_argument("--llm", help="OpenAI-compatible server URL or a .gguf file (default: none)")
    p.add_argument("--model", help="model name on the LLM server")
    add_store_options(p)


def _open(args: argparse.Namespace) -> Assistant:
    """The assistant, once the filter options are known to be usable (else exit code 2)."""
    try:
        check_top_k(args.top_k, "--top-k")
        filters = make_filters(
            sources=args.source, since=args.since, until=args.until, as_of=args.as_of
        )
    except QuestionError as exc:
        raise UsageError(str(exc)) from None
    settings = settings_from(args)
    assistant = Assistant.open(settings=settings, llm=args.llm, model=args.model)
    stored = assistant.index.sources()
    unknown = [s for s in filters.sources if s not in stored]
    if unknown:
        raise UsageError(
            f"--source {unknown[0]!r}: no stored article is from it; the sources are "
            + (", ".join(stored) if stored else "none (index some articles first)")
        )
    return assistant


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "sources": args.source,
        "since": args.since,
        "until": args.until,
        "as_of": args.as_of,
        "top_k": args.top_k,
    }


def run_ask(args: argparse.Namespace) -> int:
    assistant = _open(args)
    if args.json:
        print(assistant.ask(args.question, **_filters(args)).to_json(indent=2))
        return 0
    answer = _print_stream(assistant.stream(args.question, **_filters(args)))
    print_sources(answer)
    return 0


def run_chat(args: argparse.Namespace) -> int:
    from assistant.errors import NewsAssistantError

    assistant = _open(args)
    conversation = assistant.chat()
    mode = assistant.model_label or "extractive answers"
    print(f"Ask about your articles ({mode}). Empty line or Ctrl-D to quit, /new to start over.")
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        if question == "/new":
            conversation.reset()
            print("(new conversation)")
            continue
        try:
            answer = _print_stream(conversation.stream(question, **_filters(args)))
        except NewsAssistantError as exc:
            print(f"error: {exc}", file=sys.stderr)
            continue
        print_sources(answer)


def _print_stream(parts: Any) -> Answer:
    """Print text as it arrives on a terminal; then the checked answer if it differs."""
    answer = None
    streamed = []
    live = sys.stdout.isatty()
    for part in parts:
        if isinstance(part, Answer):
            answer = part
        else:
            streamed.append(part)
            if live:
                print(part, end="", flush=True)
    assert answer is not None
    if answer.notice:
        print(("\n" if live else "") + f"note: {answer.notice}", file=sys.stderr)
    if live:
        print()
        if answer.mode == "llm" or answer.notice:
            print("\nChecked against the sources:" if answer.mode == "llm" else "")
            print(render_answer_text(answer))
    else:
        print(render_answer_text(answer))
    return answer


def render_answer_text(answer: Answer) -> str:
    if answer.mode != "llm":
        return textwrap.fill(answer.text, width=100)
    lines = []
    for s in answer.sentences:
        marks = "".join(f"[{n}]" for n in s.citations)
        lines.append(f"{s.text} {marks}".strip() if s.supported else f"{s.text} (unsupported)")
    return textwrap.fill(" ".join(lines), width=100)


def print_sources(answer: Answer) -> None:
    if not answer.citations:
        return
    print("\nClosest passages:" if not answer.answered else "\nSources:")
    for c in answer.citations:
        meta = ", ".join(x for x in (c.source, c.published) if x)
        print(f"[{c.n}] {c.title}" + (f" ({meta})" if meta else ""))
        if c.url:
            print(f"    {c.url}")
        print(textwrap.indent(textwrap.fill(f"“{c.quote}”", width=96), "    "))
        if c.also_in:
            print(textwrap.indent(textwrap.fill("also in: " + also_in_line(c), width=96), "    "))


def also_in_line(c: Citation) -> str:
    """Where else the cited story ran: 'USA Today (2022-06-30), Reuters'."""
    return ", ".join(
        f"{copy.source or copy.title or copy.article_id}"
        + (f" ({copy.published})" if copy.published else "")
        for copy in c.also_in
    )

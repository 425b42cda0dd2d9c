"""Follow-ups measured: the share of follow-up questions whose answer cites the right sentence.

A conversations file (`tests/data/conversations-*.jsonl`, written for the tests) holds two- and
three-turn conversations: each turn a question and the sentence fragments an answer to it may
cite (any one will do); a conversation may give `as_of` (the day it is asked, as the RealTime
QA questions are). Each conversation is asked in order through one `Conversation`, as the page
asks it; a turn is right when one of its answer's citations quotes one of its fragments.

    .venv/bin/python bench/followups.py --store STORE tests/data/conversations-realtimeqa.jsonl
    .venv/bin/python bench/followups.py --store STORE tests/data/conversations-samples.jsonl --json

Not here: the rewrite itself (`assistant.answer.followup`).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import Assistant, Settings  # noqa: E402
from index import ArticleIndex  # noqa: E402


@dataclass(frozen=True)
class TurnResult:
    conversation: str
    turn: int
    question: str
    read_as: str
    right: bool
    cited: tuple[str, ...]


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def run(assistant: Assistant, conversations: list[dict[str, Any]]) -> list[TurnResult]:
    results = []
    for c in conversations:
        chat = assistant.chat()
        for i, turn in enumerate(c["turns"]):
            answer = chat.ask(turn["q"], as_of=c.get("as_of"))
            quotes = tuple(cit.quote for cit in answer.citations)
            right = any(f in q for q in quotes for f in turn["cites"])
            results.append(
                TurnResult(c["id"], i, turn["q"], answer.standalone_question, right, quotes)
            )
    return results


def summary(results: list[TurnResult]) -> dict[str, Any]:
    first = [r for r in results if r.turn == 0]
    later = [r for r in results if r.turn > 0]
    return {
        "conversations": len(first),
        "first_questions_right": sum(r.right for r in first),
        "follow_ups": len(later),
        "follow_ups_right": sum(r.right for r in later),
        "follow_up_share": round(sum(r.right for r in later) / len(later), 3) if later else None,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("conversations", type=Path, help="a conversations .jsonl file")
    p.add_argument("--store", type=Path, required=True, help="an index holding their articles")
    p.add_argument("--json", action="store_true", help="print every turn as JSON")
    args = p.parse_args(argv)
    settings = Settings(store=args.store)
    index = ArticleIndex.open(args.store, settings.index, create=False)
    results = run(Assistant(index, settings), load(args.conversations))
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2, ensure_ascii=False))
    else:
        for r in results:
            mark = "right" if r.right else "WRONG"
            print(f"{r.conversation} {r.turn} {mark} | {r.read_as}")
    print(json.dumps(summary(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The held-out web weeks as a collection to index and a questions file to evaluate.

The last `--weeks` dates asked of `questions-train-web.jsonl` are held out of every model trained
here (`training/retriever.py` holds out the same dates). This writes the pages a search engine
returned for those questions, from `articles-web.jsonl.gz`, as `pages.jsonl` (a collection of
web pages from another period than the dev corpus, as a reader would index them), and those
questions as `questions.jsonl`, for `assistant index` and `assistant eval`:

    .venv/bin/python bench/web_heldout.py --out HELDOUT
    .venv/bin/assistant index HELDOUT/pages.jsonl --store STORE
    .venv/bin/assistant eval HELDOUT/questions.jsonl --store STORE --as-of-field asked_on
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import SHARED


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--out", type=Path, required=True, help="folder for pages.jsonl, questions.jsonl"
    )
    p.add_argument("--weeks", type=int, default=8, help="last dates asked, held out")
    p.add_argument("--data", type=Path, default=SHARED, help="the RealTime QA data folder")
    args = p.parse_args(argv)
    with (args.data / "questions-train-web.jsonl").open(encoding="utf-8") as fh:
        questions = [json.loads(line) for line in fh if line.strip()]
    dates = sorted({q["asked_on"] for q in questions})[-args.weeks :]
    held = [q for q in questions if q["asked_on"] in dates and q.get("retrieved")]
    wanted = {url for q in held for url in q["retrieved"]}
    args.out.mkdir(parents=True, exist_ok=True)
    pages = 0
    with (
        gzip.open(args.data / "articles-web.jsonl.gz", "rt", encoding="utf-8") as src,
        (args.out / "pages.jsonl").open("w", encoding="utf-8") as dst,
    ):
        for line in src:
            page = json.loads(line)
            if page["id"] in wanted and str(page.get("text") or "").strip():
                dst.write(json.dumps(page, ensure_ascii=False) + "\n")
                pages += 1
    keys = ("id", "asked_on", "question", "choices", "answers")
    with (args.out / "questions.jsonl").open("w", encoding="utf-8") as fh:
        for q in held:
            fh.write(json.dumps({k: q[k] for k in keys if k in q}, ensure_ascii=False) + "\n")
    print(f"{len(held)} questions of {dates[0]} .. {dates[-1]}, {pages} pages, in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

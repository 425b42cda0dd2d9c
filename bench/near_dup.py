"""Syndicated copies in the corpus: the near-duplicate groups `index.copies.near_dup` finds at several
thresholds, how long the signatures take, and a seeded sample of pairs to judge by hand.

Computes one MinHash signature per article of `--articles` (timed), saves them and loads them
back at each threshold (timed), and reports groups, articles in groups, the largest group and
pairs, over the articles a store keeps (exact copies, the same normalised text, are stored once:
`index.copies.exact`) and, for comparison, over all of them. Then prints `--sample` pairs that are not
exact copies, drawn at random (`--seed`): those at or above the chosen threshold, and when they
are fewer, pairs from `--sample-from` up to it; each with both titles, sources, URLs, the first
characters of both texts, and the estimated and the exact Jaccard similarity of their shingles.
Results go to bench/results/near_dup.json and docs/evaluation.md; the verdicts on the sample are
written by hand below that section.

    .venv/bin/python bench/near_dup.py
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from index.copies.exact import fingerprint
from index.copies.near_dup import CopyFinder, lsh_bands, shingles, words
from index.settings import IndexSettings
from index.types import Article, ArticleInfo

NAME = "near_dup"
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def main(argv: list[str] | None = None) -> int:
    p = common.new_parser(__doc__)
    p.add_argument("--articles", type=Path, default=common.ARTICLES, help="articles (jsonl)")
    p.add_argument(
        "--threshold",
        type=float,
        help="the chosen threshold (default: the setting index.copy_threshold)",
    )
    p.add_argument("--sample", type=int, default=30, help="pairs printed for a hand check")
    p.add_argument("--sample-from", type=float, default=min(THRESHOLDS), help="their lowest J")
    p.add_argument("--seed", type=int, default=7, help="seed of the sample")
    p.add_argument("--chars", type=int, default=300, help="characters shown of each text")
    args = p.parse_args(argv)
    if args.threshold is None:
        args.threshold = IndexSettings().copy_threshold

    articles = read_articles(args.articles)
    data, finders = measure(args, articles)
    sample = draw_sample(args, articles, finders[args.sample_from])
    data["same_text_groups"] = same_text_groups(articles, finders[args.threshold])
    data["sample"] = [{k: v for k, v in pair.items() if k != "texts"} for pair in sample]
    data["sample_at_threshold"] = sum(p["estimated"] >= args.threshold for p in sample)
    print_sample(sample, args.chars)
    common.finish(args, NAME, data, render(data), doc="evaluation.md")
    return 0


def read_articles(path: Path) -> dict[str, dict[str, Any]]:
    """The records of a JSONL file of articles by id, in file order (the order a sync reads)."""
    with path.open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    return {r["id"]: r for r in records}


def measure(
    args: argparse.Namespace, articles: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any], dict[float, CopyFinder]]:
    thresholds = sorted({*THRESHOLDS, args.threshold, args.sample_from})
    began = time.perf_counter()
    built = CopyFinder(args.threshold)
    built.add_many((i, a["text"]) for i, a in articles.items())
    signing_s = time.perf_counter() - began
    copies = exact_copies(articles)
    rows, finders, agree, first_add_s = [], {}, False, 0.0
    with tempfile.TemporaryDirectory(prefix="bench-near-dup-") as tmp:
        path = Path(tmp) / "copies.npz"
        began = time.perf_counter()
        built.save(path)
        save_s = time.perf_counter() - began
        for threshold in thresholds:
            began = time.perf_counter()
            finder = CopyFinder.load(path, threshold)
            load_s = time.perf_counter() - began
            assert finder is not None, "the file just saved must load"
            if threshold == args.threshold:
                agree = finder.pairs() == built.pairs()
                first_add_s = time_first_add(finder, articles)
            with_copies = len(finder.pairs())
            for article_id in copies:
                finder.remove(article_id)
            rows.append(stats(finder, threshold, load_s, with_copies))
            finders[threshold] = finder
        size = path.stat().st_size
    data = {
        "articles_file": common.portable(args.articles),
        "articles": len(articles),
        "exact_copies": len(copies),
        "kept": len(articles) - len(copies),
        "chosen_threshold": args.threshold,
        "params": dataclasses.asdict(built.params),
        "signing_s": round(signing_s, 2),
        "signing_ms_per_article": round(1000 * signing_s / max(len(articles), 1), 2),
        "save_s": round(save_s, 3),
        "file_mb": round(size / 2**20, 2),
        "incremental_and_loaded_agree": agree,
        "first_add_after_load_s": round(first_add_s, 3),
        "thresholds": rows,
        "sample_from": args.sample_from,
        "seed": args.seed,
    }
    return data, finders


def time_first_add(finder: CopyFinder, articles: dict[str, dict[str, Any]]) -> float:
    """Seconds of the first `add` after a load, which builds the LSH index (then forgotten)."""
    probe = next(iter(articles.values()))["text"] + " (probe)"
    began = time.perf_counter()
    finder.add("bench probe", probe)
    seconds = time.perf_counter() - began
    finder.remove("bench probe")
    return seconds


def exact_copies(articles: dict[str, dict[str, Any]]) -> list[str]:
    """The ids a store drops as exact copies: the same normalised title, date and text as an
    earlier article."""
    seen: set[str] = set()
    dropped = []
    for article_id, article in articles.items():
        key = fingerprint(
            Article(
                ArticleInfo(
                    id=article_id,
                    title=str(article.get("title") or ""),
                    published=str(article.get("published") or ""),
                ),
                str(article["text"]),
            )
        )
        if key and key in seen:
            dropped.append(article_id)
        seen.add(key)
    return dropped


def stats(finder: CopyFinder, threshold: float, load_s: float, with_copies: int) -> dict[str, Any]:
    groups = finder.groups()
    bands, rows = lsh_bands(threshold)
    return {
        "threshold": threshold,
        "lsh": f"{bands} x {rows}",
        "groups": len(groups),
        "articles_in_groups": sum(map(len, groups)),
        "largest_group": max(map(len, groups), default=0),
        "pairs": len(finder.pairs()),
        "pairs_with_exact_copies": with_copies,
        "load_s": round(load_s, 3),
    }


def draw_sample(
    args: argparse.Namespace, articles: dict[str, dict[str, Any]], finder: CopyFinder
) -> list[dict[str, Any]]:
    """`--sample` pairs, not exact copies: those at or above the chosen threshold (a random
    choice if there are more), the rest drawn at random from `--sample-from` up to it."""
    rng = random.Random(args.seed)
    pairs = [p for p in finder.pairs() if not same_text(articles, p[0], p[1])]
    above = [p for p in pairs if p[2] >= args.threshold]
    below = [p for p in pairs if p[2] < args.threshold]
    chosen = rng.sample(above, min(args.sample, len(above)))
    chosen += rng.sample(below, min(args.sample - len(chosen), len(below)))
    out = []
    for n, (a, b, estimated) in enumerate(
        sorted(chosen, key=lambda p: (-p[2], p[0], p[1])), start=1
    ):
        first, second = articles[a], articles[b]
        sa, sb = shingles(first["text"]), shingles(second["text"])
        out.append(
            {
                "pair": n,
                "ids": [a, b],
                "sources": [first.get("source", ""), second.get("source", "")],
                "titles": [first.get("title", ""), second.get("title", "")],
                "published": [first.get("published", ""), second.get("published", "")],
                "words": [len(words(first["text"])), len(words(second["text"]))],
                "estimated": round(estimated, 3),
                "exact": round(len(sa & sb) / len(sa | sb), 3),
                "texts": [first["text"], second["text"]],
            }
        )
    return out


def same_text(articles: dict[str, dict[str, Any]], first: str, second: str) -> bool:
    """Whether two articles have the same normalised text (under other titles or dates)."""
    return words(articles[first]["text"]) == words(articles[second]["text"])


def same_text_groups(
    articles: dict[str, dict[str, Any]], finder: CopyFinder
) -> list[tuple[str, int]]:
    """(start of the text, articles sharing it) for texts kept under several titles or dates."""
    groups: dict[tuple[str, ...], set[str]] = {}
    for a, b, _ in finder.pairs():
        if same_text(articles, a, b):
            key = tuple(words(articles[a]["text"]))
            groups.setdefault(key, set()).update((a, b))
    return sorted(((" ".join(k[:12]), len(v)) for k, v in groups.items()), key=lambda g: -g[1])


def print_sample(sample: list[dict[str, Any]], chars: int) -> None:
    for pair in sample:
        print(f"\n=== pair {pair['pair']}: estimated J {pair['estimated']}, exact {pair['exact']}")
        for k in range(2):
            print(f"  [{pair['sources'][k]} {pair['published'][k]}, {pair['words'][k]} words]")
            print(f"  {pair['titles'][k] or '(no title)'}\n  {pair['ids'][k]}")
            print("    " + " ".join(pair["texts"][k][:chars].split()))


def render(data: dict[str, Any]) -> str:
    header = [
        "threshold",
        "LSH bands x rows",
        "groups",
        "articles in groups",
        "largest group",
        "pairs",
        "pairs with exact copies",
        "load s",
    ]
    rows = [
        [
            r["threshold"],
            r["lsh"],
            r["groups"],
            r["articles_in_groups"],
            r["largest_group"],
            r["pairs"],
            r["pairs_with_exact_copies"],
            r["load_s"],
        ]
        for r in data["thresholds"]
    ]
    p = data["params"]
    return (
        f"## Syndicated copies\n\n"
        f"Near-duplicate articles are found with MinHash over word shingles "
        f"(`index.copies.near_dup`): each article's text, NFKC-normalised and case folded, is cut into "
        f"runs of {p['shingle_words']} words; {p['num_perm']} MinHash values (datasketch, seed "
        f"{p['seed']}, SHA-1) estimate the Jaccard similarity of two articles' shingle sets. "
        f"An LSH index proposes pairs (its bands chosen so that a pair at the threshold is "
        f"proposed with probability 0.99) and the signatures decide: two articles are copies "
        f"when their estimated Jaccard similarity reaches the threshold. Groups are connected "
        f"components of those pairs; texts under {p['min_words']} words never join one.\n\n"
        f"Corpus: `{data['articles_file']}`, {data['articles']:,} articles, of which "
        f"{data['exact_copies']} are exact copies of an earlier one (the same normalised title, "
        f"date and text, stored once by `index.copies.exact`); the table counts the {data['kept']:,} "
        f"others, and the pairs again with the exact copies kept.\n\n"
        f"{common.markdown_table(header, rows)}\n\n"
        f"Signatures of all {data['articles']:,} articles: {data['signing_s']} s "
        f"({data['signing_ms_per_article']} ms an article, one core); the saved file is "
        f"{data['file_mb']} MB, written in {data['save_s']} s, and loading it (groups found "
        f'again from the signatures) takes the "load s" column. Groups found article by '
        f"article through the LSH and groups found at load agree: "
        f"{'yes' if data['incremental_and_loaded_agree'] else 'NO'}. The first article added "
        f"after a load builds the LSH index: {data['first_add_after_load_s']} s; each later one "
        f"takes milliseconds. Chosen threshold (`index.copy_threshold`): "
        f"{data['chosen_threshold']}.\n\n"
        f"{_same_text_note(data)}"
        f"The command prints {len(data['sample'])} pairs that are not exact copies for the hand "
        f"check below: {data['sample_at_threshold']} at or above the chosen threshold and "
        f"{len(data['sample']) - data['sample_at_threshold']} from {data['sample_from']} up to "
        f"it (seed {data['seed']}), each with both titles, outlets, URLs, the start of both "
        f"texts, and the estimated and the exact Jaccard similarity."
    )


def _same_text_note(data: dict[str, Any]) -> str:
    groups = data.get("same_text_groups", [])
    if not groups:
        return ""
    listed = "; ".join(f"{n} articles: “{start} …”" for start, n in groups[:3])
    kept = sum(n for _, n in groups)
    return (
        f"At the chosen threshold {kept} articles in {len(groups)} groups share their whole text "
        f"with others under other titles or dates (not exact copies, so each is stored; they "
        f"fold into one result): {listed}. The sample leaves these pairs out.\n\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())

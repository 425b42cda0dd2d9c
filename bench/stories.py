"""Stories measured on the weekly news quiz: how ways of grouping a week's articles into stories,
and of ranking the stories, cover the quiz's questions (issue "Stories").

For each dev week, the articles published in the 7 days up to the quiz day are grouped into
stories; the 10 best-ranked stories are the brief. Coverage at 10 is the share of the week's
questions (those with gold articles) whose gold article is among the brief's articles; kept
apart is the share of pairs of gold articles of different questions, both in the week, that
sit in different stories (so merging everything cannot buy coverage). An article is the mean of
its stored chunk vectors (the store's own embedder), unit length.

    .venv/bin/python bench/stories.py --store STORE       # STORE: the whole corpus indexed
    .venv/bin/python bench/stories.py --sync 300,30      # what assigning stories adds to a sync

`--ways brief` measures the product (`make_brief` over the index's stories); the other ways are
groupings of each week alone, measured to choose it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index import ArticleIndex, IndexSettings  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "realtimeqa"
DAYS = 7
TOP = 10


def article_vectors(index: ArticleIndex) -> dict[str, np.ndarray]:
    """Each stored article's mean chunk vector, unit length."""
    chunks = index.raw_collections()["chunks"]
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = defaultdict(int)
    offset, step = 0, 5000
    while True:
        got = chunks.get(include=["embeddings", "metadatas"], limit=step, offset=offset)
        if not got["ids"]:
            break
        for vector, meta in zip(got["embeddings"], got["metadatas"], strict=True):
            article = meta["article_id"]
            v = np.asarray(vector, dtype=np.float32)
            sums[article] = sums[article] + v if article in sums else v
            counts[article] += 1
        offset += step
    out = {}
    for article, total in sums.items():
        mean = total / counts[article]
        out[article] = mean / (np.linalg.norm(mean) or 1.0)
    return out


def single_link(vectors: np.ndarray, threshold: float) -> list[int]:
    """Stories as connected groups of articles whose cosine is at least `threshold`."""
    n = len(vectors)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    sims = vectors @ vectors.T
    for i in range(n):
        for j in np.nonzero(sims[i, i + 1 :] >= threshold)[0]:
            parent[root(i)] = root(i + 1 + int(j))
    return [root(i) for i in range(n)]


def average_link(vectors: np.ndarray, threshold: float) -> list[int]:
    """Stories from average-linkage clustering cut where the mean cosine falls below it."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if len(vectors) < 2:
        return [0] * len(vectors)
    tree = linkage(vectors, method="average", metric="cosine")
    return [int(c) for c in fcluster(tree, t=1 - threshold, criterion="distance")]


def centroid_online(vectors: np.ndarray, threshold: float, order: list[int]) -> list[int]:
    """Articles in date order; each joins the story whose centroid is closest, at least
    `threshold`, else starts one (as a sync would assign them)."""
    labels = [-1] * len(vectors)
    sums: list[np.ndarray] = []
    for i in order:
        best, score = -1, threshold
        for s, total in enumerate(sums):
            cos = float(vectors[i] @ (total / (np.linalg.norm(total) or 1.0)))
            if cos >= score:
                best, score = s, cos
        if best < 0:
            sums.append(vectors[i].copy())
            best = len(sums) - 1
        else:
            sums[best] = sums[best] + vectors[i]
        labels[i] = best
    return labels


def apart_pairs(golds: list[list[str]], story_of: dict[str, object]) -> tuple[int, int]:
    """(pairs of gold articles of different questions in different stories, all such pairs)."""
    apart = pairs = 0
    for x in range(len(golds)):
        for y in range(x + 1, len(golds)):
            for a in golds[x]:
                for b in golds[y]:
                    if a != b:
                        pairs += 1
                        apart += story_of[a] != story_of[b]
    return apart, pairs


def rank(stories: dict[int, list[int]], sources: list[str], days: list[str]) -> list[int]:
    """Stories by how widely and how recently they were covered: articles, outlets, newest."""
    return sorted(
        stories,
        key=lambda s: (
            len(stories[s]),
            len({sources[i] for i in stories[s]}),
            max(days[i] for i in stories[s]),
        ),
        reverse=True,
    )


def measure(
    weeks: dict[str, list[dict]],
    articles: dict[str, dict],
    vectors: dict[str, np.ndarray],
    group: Callable[[np.ndarray, list[int]], list[int]],
) -> tuple[float, float]:
    covered = asked = apart = pairs = 0
    for day, questions in sorted(weeks.items()):
        end = dt.date.fromisoformat(day)
        start = (end - dt.timedelta(days=DAYS)).isoformat()
        ids = [
            a
            for a, art in articles.items()
            if a in vectors and start <= (art.get("published") or "")[:10] <= end.isoformat()
        ]
        if not ids:
            continue
        matrix = np.stack([vectors[a] for a in ids])
        dates = [(articles[a].get("published") or "")[:10] for a in ids]
        order = sorted(range(len(ids)), key=lambda i: dates[i])
        labels = group(matrix, order)
        stories: dict[int, list[int]] = defaultdict(list)
        for i, label in enumerate(labels):
            stories[label].append(i)
        sources = [articles[a].get("source") or "" for a in ids]
        brief = {ids[i] for s in rank(stories, sources, dates)[:TOP] for i in stories[s]}
        story_of = {ids[i]: label for i, label in enumerate(labels)}
        golds = []
        for q in questions:
            asked += 1
            covered += any(g in brief for g in q["gold_ids"])
            golds.append([g for g in q["gold_ids"] if g in story_of])
        kept, seen = apart_pairs(golds, story_of)
        apart, pairs = apart + kept, pairs + seen
    return covered / max(asked, 1), apart / max(pairs, 1)


def product(index: ArticleIndex, weeks: dict[str, list[dict]]) -> None:
    """The brief as `assistant brief` makes it (`assistant.brief.make_brief`), for each dev week:
    coverage at 10, kept apart, and its time (the store opened and warm); then the timeline
    (`assistant timeline`) and the coverage (`assistant coverage`) of each brief's first 3
    stories, the timeline's topic the story's headline, and their times."""
    import time

    from assistant.brief import make_brief
    from assistant.coverage import make_coverage
    from assistant.timeline import make_timeline

    covered = asked = apart = pairs = 0
    seconds: list[float] = []
    timelines: list[float] = []
    coverages: list[float] = []
    for day, questions in sorted(weeks.items()):
        end = dt.date.fromisoformat(day)
        began = time.perf_counter()
        brief = make_brief(index, end - dt.timedelta(days=DAYS), end, top=TOP)
        seconds.append(time.perf_counter() - began)
        for story in brief.stories[:3]:
            began = time.perf_counter()
            make_timeline(index, story.headline)
            timelines.append(time.perf_counter() - began)
            began = time.perf_counter()
            make_coverage(index, story.id, story.headline)
            coverages.append(time.perf_counter() - began)
        in_brief = {a.id for s in brief.stories for a in s.articles}
        every = make_brief(index, end - dt.timedelta(days=DAYS), end, top=10_000)
        story_of = {a.id: s.id for s in every.stories for a in s.articles}
        for q in questions:
            asked += 1
            covered += any(g in in_brief for g in q["gold_ids"])
        golds = [[g for g in q["gold_ids"] if g in story_of] for q in questions]
        kept, seen = apart_pairs(golds, story_of)
        apart, pairs = apart + kept, pairs + seen
    seconds.sort()
    print(
        f"| the brief (`make_brief`, the index's stories) | {index.settings.story_cosine}, "
        f"{index.settings.story_days} days | "
        f"{covered / max(asked, 1):.3f} | {apart / max(pairs, 1):.3f} | "
        f"p50 {seconds[len(seconds) // 2]:.2f} s, max {seconds[-1]:.2f} s |",
        flush=True,
    )
    for name, times in (("a timeline", timelines), ("a story's coverage", coverages)):
        times.sort()
        print(
            f"{name} ({len(times)}): p50 {times[len(times) // 2]:.2f} s, max {times[-1]:.2f} s",
            flush=True,
        )


def sync_cost(articles: Path, first: int, more: int) -> None:
    """What assigning stories adds to a sync: a new store synced with the `first` articles of
    the corpus (by date), then again with `more` added; the time spent in `StoreStories.update`
    against each sync's whole time."""
    import tempfile
    import time

    from index.stories import StoreStories

    spent: list[float] = []
    update = StoreStories.update

    def timed(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        try:
            return update(self, *args, **kwargs)
        finally:
            spent.append(time.perf_counter() - began)

    StoreStories.update = timed  # type: ignore[method-assign]
    lines = articles.read_text(encoding="utf-8").splitlines()
    lines.sort(key=lambda line: json.loads(line).get("published") or "")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "articles"
        folder.mkdir()
        index = ArticleIndex.open(Path(tmp) / "store", IndexSettings())
        for n in (first, first + more):
            (folder / "corpus.jsonl").write_text("\n".join(lines[:n]) + "\n", encoding="utf-8")
            spent.clear()
            report = index.sync([folder])
            stories = sum(spent)
            print(
                f"| sync to {n} articles ({report.added} added) | {report.seconds:.1f} s | "
                f"{stories:.3f} s | {100 * stories / report.seconds:.2f} % |",
                flush=True,
            )
    StoreStories.update = update  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--store", type=Path, help="the whole corpus, indexed")
    p.add_argument("--questions", type=Path, default=SHARED / "questions-dev.jsonl")
    p.add_argument("--articles", type=Path, default=SHARED / "articles.jsonl")
    p.add_argument(
        "--thresholds", default="0.45,0.5,0.55,0.6,0.7", help="cosines to try, comma-separated"
    )
    p.add_argument("--ways", default="", help="only the ways whose name holds this")
    p.add_argument("--sync", default="", help="FIRST,MORE: time story assignment in a sync")
    args = p.parse_args(argv)
    if args.sync:
        first, more = (int(x) for x in args.sync.split(","))
        print("| sync | its time | stories assigned | share |\n| --- | --- | --- | --- |")
        sync_cost(args.articles, first, more)
        return 0
    if args.store is None:
        p.error("--store STORE is needed (the whole corpus, indexed), or --sync FIRST,MORE")
    index = ArticleIndex.open(args.store, IndexSettings(), create=False)
    vectors = article_vectors(index)
    articles = {}
    for line in args.articles.read_text(encoding="utf-8").splitlines():
        a = json.loads(line)
        articles[a["id"]] = a
    weeks: dict[str, list[dict]] = defaultdict(list)
    for line in args.questions.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if q.get("gold_ids"):
            weeks[q["asked_on"]].append(q)
    print(f"{len(vectors)} article vectors, {sum(map(len, weeks.values()))} questions")
    print("| way | threshold | coverage at 10 | kept apart | brief's time |")
    print("| --- | --- | --- | --- | --- |")
    ways: dict[str, Callable[[np.ndarray, list[int], float], list[int]]] = {
        "single-link": lambda m, o, t: single_link(m, t),
        "average-link": lambda m, o, t: average_link(m, t),
        "centroid, in date order": lambda m, o, t: centroid_online(m, t, o),
    }
    if "brief".startswith(args.ways) or not args.ways:
        product(index, weeks)
    for name, way in ways.items():
        if args.ways not in name:
            continue
        for t in [float(x) for x in args.thresholds.split(",")]:
            cover, apart = measure(
                weeks, articles, vectors, lambda m, o, way=way, t=t: way(m, o, t)
            )
            print(f"| {name} | {t} | {cover:.3f} | {apart:.3f} | - |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Each benchmark script runs end to end on the tiny eval fixture, writing its JSON, its doc
section and its chart into temporary folders (never the real docs/)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bench.common import markdown_table, percentile, write_section
from tests.eval_fixture import ARTICLES, QUESTIONS, write_fixture
from tests.helpers import ROOT


@pytest.fixture(scope="module")
def fixture(tmp_path_factory, embedder):
    """The eval fixture's files, a store of its articles, and output folders."""
    from index import ArticleIndex

    folder = tmp_path_factory.mktemp("bench")
    articles, questions = write_fixture(folder / "data")
    index = ArticleIndex.open(folder / "store", embedder=embedder)
    index.sync([articles])
    return {"articles": articles, "questions": questions, "store": folder / "store", "out": folder}


def _bench(script: str, *args: str, out: Path, name: str = "") -> dict:
    result = subprocess.run(
        [
            *(sys.executable, f"bench/{script}.py", *args),
            *("--results-dir", str(out / "results"), "--docs-dir", str(out / "docs")),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"reproduce: .venv/bin/python bench/{script}.py" in result.stdout
    data = json.loads((out / "results" / f"{name or script}.json").read_text())
    assert {"name", "date", "command", "machine"} <= set(data)
    assert data["machine"]["cores"] >= 1 and data["machine"]["cpu"]
    return data


def _section(out: Path, doc: str, name: str) -> str:
    text = (out / "docs" / doc).read_text()
    start, end = text.index(f"<!-- bench:{name} -->"), text.index(f"<!-- /bench:{name} -->")
    return text[start:end]


@pytest.mark.slow
def test_ingest_bench_compares_index_ceiling_and_llamaindex(fixture):
    out = fixture["out"] / "ingest"
    args = ["--articles", str(fixture["articles"]), "--limit", "3", "--backends", "onnx-int8"]
    data = _bench("ingest", *args, out=out)
    v = data["variants"]
    assert set(v) == {"ours:onnx-int8", "ceiling:onnx-int8", "writes", "llamaindex", "resync"}
    ours = v["ours:onnx-int8"]
    assert v["writes"]["chunks"] == ours["chunks"] and v["writes"]["cpu_s"] > 0  # same chunks
    assert ours["articles"] == 3 and ours["chunks"] >= 3
    assert v["ceiling:onnx-int8"]["chunks"] == ours["chunks"]  # the very chunks it stored
    assert v["llamaindex"]["articles"] == 3 and v["llamaindex"]["chunks"] >= 3
    assert v["resync"]["chunks"] == 0 and data["raw_rounds"][0]["resync"]["unchanged"] == 3
    assert all(row["peak_mb"] > 50 and row["chunks_per_s"] >= 0 for row in v.values())
    assert set(data["ratios"]) == {
        "ours_vs_ceiling_chunks_per_s:onnx-int8",
        "ours_vs_llamaindex_articles_per_s:onnx-int8",
        "resync_vs_index_wall",
    }
    assert "## Ingest" in _section(out, "benchmarks.md", "ingest")
    assert (out / "docs" / "bench-ingest.png").stat().st_size > 1000


@pytest.mark.slow
def test_quality_bench_runs_eval_per_mode_and_as_of(fixture):
    out = fixture["out"] / "quality"
    args = ["--store", str(fixture["store"]), "--questions", str(fixture["questions"])]
    data = _bench("quality", *args, "--modes", "hybrid", "--as-of", "both", out=out)
    rows = {r["label"]: r for r in data["rows"]}
    assert set(rows) == {"hybrid", "hybrid, as of asked_on"}
    assert rows["hybrid, as of asked_on"]["hit"]["5"] == pytest.approx(0.5)
    assert rows["hybrid"]["hit"]["5"] == pytest.approx(0.75)  # q3's article is after asked_on
    assert rows["hybrid"]["questions"] == len(QUESTIONS)
    assert "--as-of-field asked_on" in rows["hybrid, as of asked_on"]["command"]
    section = _section(out, "evaluation.md", "quality")
    assert "paper: Google custom search" in section and "| hybrid |" in section
    assert "| MC, gold stored |" in section
    # q1, q2 right, q3 (stored, published after asked_on) abstains
    assert rows["hybrid, as of asked_on"]["gold_stored"]["choice_accuracy"] == pytest.approx(2 / 3)
    assert (out / "docs" / "eval-quality.png").exists()


@pytest.mark.slow
def test_query_bench_times_retrieval_and_answers(fixture):
    out = fixture["out"] / "query"
    args = ["--store", str(fixture["store"]), "--questions", str(fixture["questions"])]
    data = _bench("query", *args, "--n", "3", "--warmup", "1", out=out)
    assert data["articles"] == len(ARTICLES) and data["questions"] == 3
    assert set(data["stages"]) == {
        "rank_chunks",
        "retrieve",
        "ask (extractive)",
        "ask (reader off)",
    }
    assert all(0 < s["p50"] <= s["p95"] for s in data["stages"].values())
    assert data["llm"] is None
    assert "## Query latency" in _section(out, "benchmarks.md", "query")


def test_writes_bench_writes_each_record_layout_into_a_fresh_collection(fixture):
    out = fixture["out"] / "writes"
    data = _bench("writes", "--store", str(fixture["store"]), "--rounds", "1", out=out)
    layouts = [r["layout"] for r in data["rows"]]
    assert layouts[0] == "as stored" and layouts[-1] == "vectors alone" and len(layouts) == 7
    assert data["chunks"] >= len(ARTICLES)  # every chunk of the fixture's articles, copied
    assert all(r["cpu_s"] > 0 for r in data["rows"])
    assert "### Chroma writes by record layout" in _section(out, "benchmarks.md", "writes")


def test_writes_bench_names_a_folder_without_an_index(tmp_path):
    result = subprocess.run(
        [sys.executable, "bench/writes.py", "--store", str(tmp_path / "empty")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "empty" in result.stderr and "Traceback" not in result.stderr


FAKE_APP = textwrap.dedent(
    """
    import http.server, sys
    port = int(sys.argv[sys.argv.index("--port") + 1])
    http.server.HTTPServer(("127.0.0.1", port), http.server.SimpleHTTPRequestHandler).serve_forever()
    """
)


@pytest.mark.slow
def test_startup_bench_times_ask_and_a_web_page(fixture, tmp_path):
    out = fixture["out"] / "startup"
    app = tmp_path / "app.py"
    app.write_text(FAKE_APP)
    data = _bench(
        "startup", "--store", str(fixture["store"]), "--runs", "1", "--app", str(app), out=out
    )
    assert data["ask"]["median_s"] > 0 and data["ask"]["peak_mb"] > 50
    assert data["app"]["median_s"] > 0


@pytest.mark.slow
def test_startup_bench_stops_with_one_line_when_the_app_cannot_start(fixture, tmp_path):
    out = fixture["out"] / "startup-no-app"
    absent = tmp_path / "app.py"
    result = subprocess.run(
        [
            *(sys.executable, "bench/startup.py", "--store", str(fixture["store"]), "--runs", "1"),
            *("--app", str(absent), "--results-dir", str(out), "--docs-dir", str(out)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: app.py exited") and "Traceback" not in result.stderr
    assert not (out / "startup.json").exists()  # no half-measured results


def test_write_section_replaces_only_its_own_section(tmp_path):
    doc = tmp_path / "benchmarks.md"
    write_section(doc, "a", "first A")
    write_section(doc, "b", "only B")
    write_section(doc, "a", "second A")
    text = doc.read_text()
    assert text.startswith("# Benchmarks")
    assert "second A" in text and "first A" not in text and "only B" in text
    assert text.index("bench:a") < text.index("bench:b")


def test_percentile_interpolates_like_numpy():
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 50) == 2.5 and percentile(values, 95) == pytest.approx(3.85)
    assert percentile([], 50) == 0.0


@pytest.mark.slow
def test_load_bench_runs_sessions_against_the_real_page(fixture):
    out = fixture["out"] / "load"
    args = ["--store", str(fixture["store"]), "--questions", str(fixture["questions"])]
    data = _bench("load", *args, "--sessions", "3", "--seconds", "4", out=out)
    assert data["sessions"] == 3 and data["failed"] == 0, data["failures"]
    assert data["answered"] >= 3
    assert 0 < data["latency_s"]["p50"] <= data["latency_s"]["p95"] <= data["latency_s"]["max"]
    assert data["peak_rss_mb"] > 50
    assert "## Load on the web page" in _section(out, "reliability.md", "load")


@pytest.mark.slow
def test_crash_bench_kills_runs_and_checks_the_store(fixture):
    out = fixture["out"] / "crash"
    data = _bench("crash", "--trials", "2", "--articles", "6", out=out)
    assert [t["trial"] for t in data["trials"]] == [1, 2]
    assert data["failures"] == 0, data["trials"]
    assert data["expected"]["0"]["articles"] == 6 and data["expected"]["1"]["articles"] == 4
    assert "2 trials, 0 failures" in _section(out, "reliability.md", "crash")


@pytest.mark.slow
def test_quality_bench_compares_setting_variants_with_the_baseline(fixture):
    out = fixture["out"] / "levers"
    args = ["--store", str(fixture["store"]), "--questions", str(fixture["questions"])]
    variant = "recency=retrieval.recency_weight:2,retrieval.recency_half_life_days:3"
    data = _bench("quality", *args, "--variant", variant, out=out, name="levers")
    base, changed = data["rows"]
    assert base["label"] == "baseline" and base["changes"] == {}
    assert changed["changes"] == {
        "retrieval.recency_weight": "2",
        "retrieval.recency_half_life_days": "3",
    }
    assert changed["settings"]["recency_weight"] == 2.0
    assert changed["command"].startswith("ASSISTANT_RETRIEVAL__RECENCY_WEIGHT=2 ")
    assert "| recency |" in _section(out, "evaluation.md", "levers")


def test_a_table_row_of_the_wrong_width_is_an_error():
    assert markdown_table(["a", "b"], [[1, None]]) == "| a | b |\n|---|---|\n| 1 | - |"
    with pytest.raises(ValueError, match="1 cells for 2 columns"):
        markdown_table(["a", "b"], [[1]])

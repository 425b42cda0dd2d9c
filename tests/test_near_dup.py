"""Near-duplicate articles: a wire story and its lightly edited copies fold into one group, other
stories do not, and the saved signatures come back equal (or are refused when made otherwise)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from index.copies.near_dup import CopyFinder, SignatureParams, lsh_bands, shingles
from index.errors import SettingsError
from tests.helpers import COPIES, ROOT, SAME_TOPIC, UNRELATED, WIRE


def _finder(threshold: float = 0.6, **texts: str) -> CopyFinder:
    finder = CopyFinder(threshold)
    finder.add_many(texts.items())
    return finder


def _paragraphs(count: int, words: int = 40, seed: int = 3) -> list[str]:
    """Distinct paragraphs of made-up words (no shingle is shared by chance)."""
    rng = random.Random(seed)
    vocab = ["".join(rng.choices("bcdfghjklmnprstvz", k=3)) + v for v in "aeiou" * 200]
    return [" ".join(rng.choices(vocab, k=words)) for _ in range(count)]


def test_shingles_are_normalised_runs_of_words():
    assert shingles("The Ｑuick, brown FOX jumps over…", 3) == {
        b"the quick brown",
        b"quick brown fox",
        b"brown fox jumps",
        b"fox jumps over",
    }
    assert shingles("Too short", 5) == {b"too short"}
    assert shingles("  ... ", 5) == set()
    assert shingles("Straße") == shingles("STRASSE")  # case folded, not just lower-cased


def test_wire_story_and_lightly_edited_copies_form_one_group():
    finder = _finder(wire=WIRE, **COPIES)
    ids = tuple(sorted(["wire", *COPIES]))
    assert finder.groups() == [ids]
    assert {finder.group(i) for i in ids} == {ids[0]}
    assert finder.copies("wire") == tuple(i for i in ids if i != "wire")
    for name in COPIES:
        assert finder.similarity("wire", name) >= 0.6, name


def test_same_topic_written_differently_and_unrelated_stories_stay_apart():
    finder = _finder(wire=WIRE, same_topic=SAME_TOPIC, unrelated=UNRELATED)
    assert finder.groups() == []
    assert finder.group("same_topic") == "same_topic"
    assert finder.copies("wire") == ()
    assert finder.similarity("wire", "same_topic") < 0.1


def test_short_texts_never_join_a_group_even_when_equal():
    caption = "Rescue crews carry a resident through flood water in Porthaven on Tuesday."
    finder = _finder(first=caption, second=caption, wire=WIRE, copy=COPIES["headline"])
    assert finder.similarity("first", "second") == 1.0
    assert finder.groups() == [("copy", "wire")]
    assert finder.group("second") == "second"


def test_an_article_never_added_is_its_own_group():
    finder = _finder(wire=WIRE)
    assert finder.group("elsewhere") == "elsewhere"
    assert finder.copies("elsewhere") == ()
    finder.remove("elsewhere")  # nothing to forget, no error
    assert len(finder) == 1


def test_adding_an_id_again_replaces_its_text():
    finder = _finder(wire=WIRE, copy=COPIES["dropped paragraph"])
    finder.add("copy", UNRELATED)
    assert finder.groups() == []
    finder.add("copy", COPIES["added sentence"])
    assert finder.groups() == [("copy", "wire")]


def test_removing_the_bridge_splits_a_chain():
    # windows of 5 paragraphs sliding by one: neighbours share 4 of 6 (J ~ 0.67), the ends of
    # the chain share 3 of 7 (J ~ 0.43), so at 0.55 only the middle article joins them
    parts = _paragraphs(7)
    texts = {name: "\n\n".join(parts[i : i + 5]) for i, name in enumerate(("a", "b", "c"))}
    finder = _finder(0.55, **texts)
    assert (
        finder.similarity("a", "c")
        < 0.55
        <= min(finder.similarity("a", "b"), finder.similarity("b", "c"))
    )
    assert finder.groups() == [("a", "b", "c")]
    assert finder.group("c") == "a"
    finder.remove("b")
    assert finder.groups() == []
    assert (finder.group("a"), finder.group("c")) == ("a", "c")
    assert "b" not in finder and len(finder) == 2


def test_representative_is_the_smallest_id_whatever_the_order():
    texts = {"z-wire": WIRE, "m-copy": COPIES["headline"], "b-copy": COPIES["added sentence"]}
    forward, backward = _finder(**texts), _finder(**dict(reversed(texts.items())))
    assert forward.groups() == backward.groups() == [("b-copy", "m-copy", "z-wire")]
    assert forward.group("z-wire") == backward.group("z-wire") == "b-copy"


def test_signatures_and_groups_are_the_same_in_another_process(tmp_path):
    texts = {"z-wire": WIRE, "m-copy": COPIES["headline"], "other": UNRELATED}
    finder = _finder(**texts)
    finder.save(tmp_path / "here.npz")
    script = textwrap.dedent(
        f"""
        import json, sys
        from pathlib import Path
        from index.copies.near_dup import CopyFinder
        texts = json.loads(sys.argv[1])
        finder = CopyFinder(0.6)
        finder.add_many(reversed(list(texts.items())))
        finder.save(Path({str(tmp_path / "there.npz")!r}))
        print(json.dumps([finder.group(i) for i in sorted(texts)]))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script, json.dumps(texts)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [finder.group(i) for i in sorted(texts)]
    with np.load(tmp_path / "here.npz") as here, np.load(tmp_path / "there.npz") as there:
        assert np.array_equal(here["signatures"], there["signatures"])
        assert bytes(here["ids"]) == bytes(there["ids"])


def test_save_and_load_give_the_same_groups_and_pairs(tmp_path):
    finder = _finder(wire=WIRE, unrelated=UNRELATED, short="A caption.", **COPIES)
    finder.save(tmp_path / "copies.npz")
    loaded = CopyFinder.load(tmp_path / "copies.npz", 0.6)
    assert loaded is not None
    assert loaded.ids() == finder.ids()
    assert loaded.groups() == finder.groups()
    assert loaded.pairs() == finder.pairs()
    assert loaded.similarity("wire", "headline") == finder.similarity("wire", "headline")
    # a loaded finder keeps growing: its LSH is built from the loaded signatures
    loaded.add("late copy", COPIES["dropped paragraph"] + " Schools will stay closed.")
    assert loaded.group("late copy") == "added sentence"
    loaded.add("short too", "A caption.")
    assert loaded.copies("short") == ()


def test_the_threshold_is_chosen_at_load_not_saved(tmp_path):
    finder = _finder(wire=WIRE, **COPIES)
    finder.save(tmp_path / "copies.npz")
    strict = CopyFinder.load(tmp_path / "copies.npz", 0.99)
    assert strict is not None
    assert strict.copies("dropped paragraph") == ()  # a sixth of the text is gone


def test_a_file_made_otherwise_or_damaged_is_refused_so_the_caller_rebuilds(tmp_path):
    path = tmp_path / "copies.npz"
    other = CopyFinder(0.6, SignatureParams(num_perm=64))
    other.add_many({"wire": WIRE, "copy": COPIES["headline"]}.items())
    other.save(path)
    assert CopyFinder.load(path, 0.6) is None
    assert CopyFinder.load(path, 0.6, SignatureParams(num_perm=64)) is not None
    assert CopyFinder.load(tmp_path / "missing.npz", 0.6) is None
    path.write_bytes(path.read_bytes()[:100])
    assert CopyFinder.load(path, 0.6) is None


def test_an_impossible_threshold_names_the_setting():
    with pytest.raises(SettingsError, match=r"index\.copy_threshold"):
        CopyFinder(1.5)


def test_lsh_proposes_a_pair_at_the_threshold_almost_always():
    for threshold in (0.5, 0.6, 0.7, 0.8, 0.9):
        bands, rows = lsh_bands(threshold)
        assert bands * rows <= 128
        assert 1 - (1 - threshold**rows) ** bands >= 0.99


def test_bench_reports_thresholds_and_a_sample(tmp_path):
    articles = tmp_path / "articles.jsonl"
    records = [("wire", WIRE), ("other", UNRELATED), ("topic", SAME_TOPIC), *COPIES.items()]
    records.append(("wire again", WIRE))  # an exact copy (same title and text): counted apart
    articles.write_text(
        "".join(
            json.dumps({"id": i, "title": i.split()[0], "source": "x", "text": t}) + "\n"
            for i, t in records
        )
    )
    run = subprocess.run(
        [
            *(sys.executable, "bench/near_dup.py", "--articles", str(articles), "--sample", "3"),
            *("--results-dir", str(tmp_path / "results"), "--docs-dir", str(tmp_path / "docs")),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    data = json.loads((tmp_path / "results" / "near_dup.json").read_text())
    assert (data["articles"], data["exact_copies"], data["kept"]) == (8, 1, 7)
    at = {row["threshold"]: row for row in data["thresholds"]}
    assert at[0.6]["groups"] == 1 and at[0.6]["articles_in_groups"] == 5
    assert at[0.6]["pairs_with_exact_copies"] > at[0.6]["pairs"]
    assert data["incremental_and_loaded_agree"] is True
    assert len(data["sample"]) == 3 and all(p["estimated"] >= 0.6 for p in data["sample"])
    assert "=== pair 3" in run.stdout
    doc = (tmp_path / "docs" / "evaluation.md").read_text()
    assert "<!-- bench:near_dup -->" in doc and "## Syndicated copies" in doc

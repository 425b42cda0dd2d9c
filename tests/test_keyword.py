"""The BM25 keyword index on its own: search, per-article replacement, and its saved file."""

from __future__ import annotations

import pickle
from pathlib import Path

from index.store.keyword import KeywordIndex

ARTICLES = {
    "a": [("a-0", "The harbour council approved the bridge budget."), ("a-1", "Boats queued.")],
    "b": [("b-0", "Wildfires spread across southern Europe in the heatwave.")],
    "c": [("c-0", "The council's school budget was cut."), ("c-1", ""), ("c-2", "Budget votes.")],
}


def _index() -> KeywordIndex:
    keyword = KeywordIndex(generation=7)
    for article_id, chunks in ARTICLES.items():
        keyword.set_article(article_id, f"hash-{article_id}", chunks)
    return keyword


def test_search_ranks_matching_chunks_and_filters_by_article():
    keyword = _index()
    top = keyword.search("bridge budget", 3)
    assert top[0][:2] == ("a-0", "a")
    assert {cid for cid, _, _ in top} <= {"a-0", "c-0", "c-2"}
    assert [cid for cid, _, _ in keyword.search("budget", 5, {"c"})] in (
        ["c-2", "c-0"],
        ["c-0", "c-2"],
    )
    assert keyword.search("zebra", 5) == []
    keyword.set_article("a", "hash-a2", [("a2-0", "A zebra crossing melted.")])
    assert keyword.search("zebra", 5)[0][0] == "a2-0"
    assert all(cid != "a-0" for cid, _, _ in keyword.search("bridge budget", 5))


def test_saved_index_loads_with_the_same_rows_and_results(tmp_path: Path):
    keyword = _index()
    path = tmp_path / "keyword.pkl"
    keyword.save(path)
    loaded = KeywordIndex.load(path)
    assert loaded is not None
    assert loaded.generation == 7 and loaded.hashes == keyword.hashes
    words = {
        w.strip(".'s").lower() for chunks in ARTICLES.values() for _, t in chunks for w in t.split()
    }
    for query in [*sorted(words), "bridge budget", "heatwave wildfires", "council school"]:
        assert loaded.search(query, 10) == keyword.search(query, 10)  # ids, articles and scores
        for article_id in ARTICLES:
            assert loaded.search(query, 10, {article_id}) == keyword.search(query, 10, {article_id})
    loaded.set_article("d", "hash-d", [("d-0", "A new bridge opened.")])
    assert loaded.search("bridge", 1)[0][0] in {"a-0", "d-0"}


def test_empty_index_round_trips(tmp_path: Path):
    path = tmp_path / "keyword.pkl"
    KeywordIndex(generation=3).save(path)
    loaded = KeywordIndex.load(path)
    assert loaded is not None and loaded.generation == 3 and len(loaded) == 0
    assert loaded.search("anything", 3) == []


def test_damaged_or_foreign_files_load_as_none_so_the_index_is_rebuilt(tmp_path: Path):
    path = tmp_path / "keyword.pkl"
    assert KeywordIndex.load(path) is None  # absent
    path.write_bytes(b"not a pickle")
    assert KeywordIndex.load(path) is None
    _index().save(path)
    state = pickle.loads(path.read_bytes())
    state["chunk_ids"] = state["chunk_ids"][:-2]  # rows that do not add up
    path.write_bytes(pickle.dumps(state))
    assert KeywordIndex.load(path) is None
    state["format"] = 2  # an older layout
    path.write_bytes(pickle.dumps(state))
    assert KeywordIndex.load(path) is None
    path.write_bytes(pickle.dumps(["a", "list"]))
    assert KeywordIndex.load(path) is None

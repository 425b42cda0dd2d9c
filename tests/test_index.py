"""The article index on the real model and a real embedded Chroma: sync, re-sync, prune,
rebuild, settings mismatch, per-file errors, and the one-writer lock."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index import IndexSettings, StoreLockedError, StoreMismatchError
from index.types import PHASES, StoreCheck, SyncProgress
from tests.helpers import ROOT, SAMPLES


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    shutil.copytree(SAMPLES, folder)
    return folder


def test_sync_indexes_samples_with_exact_offsets(open_index, articles):
    index = open_index()
    report = index.sync([articles])
    assert report.failed == 0, report.errors
    assert report.added == 5 and report.updated == 0
    assert 0 < report.embed_seconds < report.seconds
    check = index.check()
    assert check == StoreCheck(articles=5, chunks=index.stats().chunks), check.problems()
    for record in index.records().values():
        article = index.article(record.id)
        chunks = index.chunks(record.id)
        assert chunks, record.id
        for chunk in chunks:
            assert article.text[chunk.start : chunk.end] == chunk.text
            assert chunk.title == record.title and chunk.published == record.published
        assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_vectors_are_the_same_whether_progress_is_shown_or_not(open_index, articles, tmp_path):
    """The int8 model quantises per model batch: a progress bar must not change the grouping."""
    settings = IndexSettings(chunk_tokens=64, chunk_overlap=16)  # many chunks, many batches
    shown = open_index(settings, store=tmp_path / "shown")
    quiet = open_index(settings, store=tmp_path / "quiet")
    updates: list[SyncProgress] = []
    shown.sync([articles], progress=updates.append)
    quiet.sync([articles])
    assert len({u.done for u in updates if u.phase == "embedding"}) > 2  # the bar moved

    def vectors(index) -> dict[str, list[float]]:
        got = index.raw_collections()["chunks"].get(include=["embeddings"])
        return dict(zip(got["ids"], [list(v) for v in got["embeddings"]], strict=True))

    assert vectors(shown) == vectors(quiet)


def test_sync_reports_each_phase_in_order_with_moving_counts(open_index, articles):
    index = open_index(IndexSettings(chunk_tokens=64, chunk_overlap=16))  # many chunks
    updates: list[SyncProgress] = []
    report = index.sync([articles], progress=updates.append)
    phases = [u.phase for u in updates]
    order = [PHASES.index(p) for p in phases]
    # reading, then embedding and writing batch by batch, the keyword index, done
    assert phases[0] == "reading" and phases[-2:] == ["keyword index", "done"]
    assert "removing" not in phases
    middle = phases[phases.index("embedding") : phases.index("keyword index")]
    assert order == sorted(order) or set(middle) <= {"embedding", "writing"}
    reading = [u for u in updates if u.phase == "reading"]
    files = len([f for f in articles.iterdir() if f.is_file()])
    assert [u.done for u in reading] == list(range(files + 1)) and reading[-1].total == files
    embedded = [u.done for u in updates if u.phase == "embedding"]
    written = [u.done for u in updates if u.phase == "writing"]
    assert embedded == sorted(embedded) and written == sorted(written)
    assert len(set(embedded)) > 2, "embedding reported only its start and end"
    total = report.chunks_added
    assert embedded[-1] == written[-1] == total
    assert {u.total for u in updates if u.unit == "chunks"} == {total}
    assert updates[-1].describe() == "Done"
    assert "Embedding chunks" in next(u for u in updates if u.phase == "embedding").describe()

    (articles / "interest-rates.json").unlink()
    updates.clear()
    index.sync([articles], prune=True, progress=updates.append)
    phases = [u.phase for u in updates]
    assert "embedding" not in phases and "removing" in phases and phases[-1] == "done"
    unchanged: list[SyncProgress] = []
    index.sync([articles], progress=unchanged.append)
    assert [u.phase for u in unchanged if u.phase != "reading"] == ["done"]


def test_exact_copies_under_other_names_are_reported_and_stored_once(open_index, articles):
    index = open_index()
    index.sync([articles])
    original = (articles / "heatwave-europe.txt").read_text(encoding="utf-8")
    title, _, body = original.partition("\n")
    # the same text: renamed, re-spaced and re-cased, and as a record of a jsonl file
    (articles / "heatwave-copy.txt").write_text(title + "\n" + body.upper().replace(" ", "  "))
    (articles / "wire.jsonl").write_text(
        json.dumps({"id": "wire-1", "title": title.upper(), "text": body}) + "\n"
    )
    stored = index.stats().articles
    report = index.sync([articles])
    assert (report.added, report.failed) == (0, 0), report
    kept = next(r.id for r in index.records().values() if r.path.endswith("heatwave-europe.txt"))
    assert sorted(d.article_id for d in report.duplicates) == ["heatwave-copy.txt", "wire-1"]
    assert {d.of for d in report.duplicates} == {kept}
    assert "duplicates 2" in report.summary() and "duplicate of " + kept in str(
        report.duplicates[0]
    )
    assert index.stats().articles == stored
    again = index.sync([articles])  # said again on every sync, still not stored
    assert len(again.duplicates) == 2 and index.stats().articles == stored
    # the original's file goes: a copy takes its place in the same sync, nothing is lost
    (articles / "heatwave-europe.txt").unlink()
    swapped = index.sync([articles], prune=True)
    assert swapped.removed == 1 and swapped.added == 1 and len(swapped.duplicates) == 1
    assert index.stats().articles == stored
    assert index.keyword_search("heatwave", 3)


def test_chunks_fit_the_models_word_piece_limit(open_index, articles, embedder):
    index = open_index(IndexSettings(chunk_tokens=64, chunk_overlap=16))
    index.sync([articles])
    for record in index.records().values():
        for chunk in index.chunks(record.id):
            assert embedder.count_tokens([chunk.text])[0] <= 64


def test_unchanged_resync_embeds_nothing(open_index, articles):
    index = open_index()
    index.sync([articles])
    again = index.sync([articles])
    assert (again.added, again.updated, again.unchanged, again.chunks_added) == (0, 0, 5, 0)
    assert again.embed_seconds == 0


def test_unchanged_resync_keeps_readers_caches_but_records_the_sync(open_index, articles):
    import datetime as dt

    index = open_index()
    index.sync([articles])
    reader = open_index()  # another process's view of the same store
    keyword_file = index.folder / f"keyword-{index.settings.collection}.pkl"
    saved = keyword_file.stat().st_mtime_ns
    began = dt.datetime.now(dt.UTC).replace(microsecond=0)
    index.sync([articles])
    assert not reader.refresh()  # nothing for readers to reload
    assert keyword_file.stat().st_mtime_ns == saved  # the BM25 index is not written again
    assert dt.datetime.fromisoformat(index.stats().last_sync) >= began  # the sync is recorded
    (articles / "extra.txt").write_text(
        "Harbour festival\n\nA new article about the harbour festival and its boats.\n"
    )
    assert index.sync([articles]).added == 1
    assert reader.refresh()  # readers reload the new article
    assert index.keyword_search("harbour festival boats", 1)[0].chunk.article_id


def test_changed_article_replaces_all_its_old_chunks(open_index, articles):
    index = open_index()
    index.sync([articles])
    path = articles / "heatwave-europe.txt"
    old = {r.id: r for r in index.records().values() if r.path == str(path.resolve())}
    ((article_id, old_record),) = old.items()
    path.write_text(path.read_text() + "\n\nFirefighters said the zebra crossing melted.\n")
    report = index.sync([articles])
    assert (report.added, report.updated, report.unchanged) == (0, 1, 4)
    new_record = index.records()[article_id]
    assert new_record.content_hash != old_record.content_hash
    check = index.check()
    assert check == StoreCheck(articles=5, chunks=index.stats().chunks), check.problems()
    hits = index.keyword_search("zebra crossing melted", 3)
    assert hits and hits[0].chunk.article_id == article_id


class _Killed(BaseException):
    """Stands in for SIGKILL: nothing after the raising line runs in the writer."""


def test_writer_killed_after_switching_records_is_completed_by_next_sync(
    open_index, articles, monkeypatch
):
    from index.store.chroma import ChromaStore

    index = open_index()
    index.sync([articles])
    path = articles / "heatwave-europe.txt"
    path.write_text(path.read_text() + "\n\nFirefighters said the zebra crossing melted.\n")
    (article_id,) = [r.id for r in index.records().values() if r.path == str(path.resolve())]
    clear = ChromaStore.journal_clear

    def killed(self: ChromaStore, ids: list[str]) -> None:
        if ids:  # after the new records and the old chunks' removal, before the journal clears
            raise _Killed
        clear(self, ids)

    monkeypatch.setattr(ChromaStore, "journal_clear", killed)
    with pytest.raises(_Killed):
        index.sync([articles])
    monkeypatch.undo()
    reader = open_index()  # opened in the killed state: its keyword side follows the records
    check = reader.check()
    assert check.pending == (article_id,) and check.orphans == ()  # the old chunks went first
    assert check.consistent, check.problems()  # the keyword side follows the switched record
    assert reader.keyword_search("zebra crossing melted", 1)[0].chunk.article_id == article_id
    writer = open_index()
    report = writer.sync([articles])
    assert (report.added, report.updated, report.unchanged) == (0, 0, 5)
    check = writer.check()
    assert check == StoreCheck(articles=5, chunks=writer.stats().chunks), check.problems()


def test_files_unchanged_since_the_last_sync_are_not_read_again(open_index, articles, monkeypatch):
    import os

    import index.sources.folders

    read: list[str] = []
    parse = index.sources.folders.parse_file

    def counting(path, root, max_bytes):
        read.append(path.name)
        return parse(path, root, max_bytes)

    monkeypatch.setattr(index.sources.folders, "parse_file", counting)
    idx = open_index()
    (articles / "bad.json").write_text("{ broken")
    first = idx.sync([articles])
    assert (first.added, first.failed) == (5, 1) and len(read) == 5

    def sync_reading() -> tuple[tuple[int, int, int, int, int], list[str]]:
        read.clear()
        r = idx.sync([articles], prune=True)
        return (r.added, r.updated, r.unchanged, r.removed, r.failed), sorted(read)

    # a file with errors is read (and its error reported) every time; the others are not
    assert sync_reading() == ((0, 0, 5, 0, 1), ["bad.json"])
    (articles / "bad.json").unlink()
    edited = articles / "heatwave-europe.txt"
    edited.write_text(edited.read_text() + "\n\nFirefighters said the zebra crossing melted.\n")
    assert sync_reading() == ((0, 1, 4, 0, 0), ["heatwave-europe.txt"])
    touched = articles / "webb-telescope.html"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    assert sync_reading() == ((0, 0, 5, 0, 0), ["webb-telescope.html"])  # read, not re-embedded
    assert idx.remove(["sample-fed-2022-06-15"]) == 1  # the store changed by other means
    assert sync_reading() == ((1, 0, 4, 0, 0), ["interest-rates.json"])
    (articles / "madrid-nato-summit.md").unlink()
    assert sync_reading() == ((0, 0, 4, 1, 0), [])  # prune still sees the unread files' articles
    assert sorted(r.path.rsplit("/", 1)[-1] for r in idx.records().values()) == [
        "heatwave-europe.txt",
        "interest-rates.json",
        "interest-rates.json",
        "webb-telescope.html",
    ]
    other = articles.parent / "other"
    other.mkdir()
    (other / "note.txt").write_text("Harbour note\n\nThe harbour festival returns in May.\n")
    assert idx.sync([other]).added == 1  # syncing another folder keeps this one's files known
    assert sync_reading() == ((0, 0, 4, 0, 0), [])
    (idx.folder / f"files-{idx.settings.collection}.json").write_text("{ damaged")
    assert sync_reading()[0] == (0, 0, 4, 0, 0) and len(read) == 3  # a damaged cache: all read
    assert idx.keyword_search("zebra crossing melted", 1)[0].chunk.title.startswith("Britain")


def test_prune_removes_articles_whose_files_are_gone(open_index, articles):
    index = open_index()
    index.sync([articles])
    (articles / "interest-rates.json").unlink()
    report = index.sync([articles], prune=True)
    assert report.removed == 2
    assert index.check() == StoreCheck(articles=3, chunks=index.stats().chunks)
    assert index.keyword_search("Federal Reserve inflation", 5) == []


def test_prune_keeps_articles_of_a_file_that_now_fails(open_index, articles):
    index = open_index()
    index.sync([articles])
    (articles / "interest-rates.json").write_text("{ broken")
    report = index.sync([articles], prune=True)
    assert report.removed == 0 and report.failed == 1
    assert index.stats().articles == 5


def test_remove_by_id(open_index, articles):
    index = open_index()
    index.sync([articles])
    assert index.remove(["sample-fed-2022-06-15", "no-such-id"]) == 1
    assert "sample-fed-2022-06-15" not in index.records()
    assert index.check() == StoreCheck(articles=4, chunks=index.stats().chunks)


def test_bad_files_are_reported_and_the_rest_indexed(open_index, articles):
    (articles / "empty.txt").write_text("")
    (articles / "binary.txt").write_bytes(b"\x00\x01\x02garbage")
    (articles / "bad.jsonl").write_text('{"title": "ok", "text": "Fine text here."}\n{oops\n')
    (articles / "notes.docx").write_text("unsupported")
    report = open_index().sync([articles, articles / "missing-folder"])
    named = {Path(e.path).name for e in report.errors}
    assert {"empty.txt", "binary.txt", "bad.jsonl", "notes.docx", "missing-folder"} <= named
    assert any(e.line == 2 for e in report.errors if e.path.endswith("bad.jsonl"))
    assert report.added == 6  # 5 samples + the good jsonl line


def test_store_refuses_other_chunk_settings_and_rebuild_switches(open_index, articles, store_dir):
    index = open_index()
    index.sync([articles])
    with pytest.raises(StoreMismatchError, match="--rebuild"):
        open_index(IndexSettings(chunk_tokens=100))
    before = index.stats().chunks
    # only --rebuild may open the store with the new settings, and it re-embeds everything
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "assistant",
            "index",
            str(articles),
            "--store",
            str(store_dir),
            "--rebuild",
            "--quiet",
        ],
        env={**_env(), "ASSISTANT_INDEX__CHUNK_TOKENS": "100"},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("added 0, updated 5")
    reopened = open_index(IndexSettings(chunk_tokens=100))
    stats = reopened.stats()
    assert stats.articles == 5 and stats.chunks > before
    assert reopened.check() == StoreCheck(articles=5, chunks=stats.chunks)


def test_second_writer_stops_naming_the_holder(open_index, articles, store_dir):
    index = open_index()
    index.sync([articles])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; sys.argv=['assistant','index','held']; "
            "from index.store.lock import WriteLock; from pathlib import Path; "
            f"l=WriteLock(Path({str(store_dir)!r}), 5).__enter__(); print('locked', flush=True); "
            "time.sleep(3600)",  # killed below
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        waiting = open_index(IndexSettings(lock_timeout=0.5))
        heard: list[SyncProgress] = []
        with pytest.raises(StoreLockedError, match=f"process {holder.pid}"):
            waiting.sync([articles], progress=heard.append)
        assert [u.phase for u in heard] == ["waiting"], (
            heard
        )  # said whom it waits for, then gave up
        assert f"process {holder.pid} (`assistant index held`" in heard[0].holder
        assert heard[0].describe().startswith(f"Waiting for process {holder.pid} ")
        cli = subprocess.run(
            [sys.executable, "-m", "assistant", "index", str(articles), "--store", str(store_dir)],
            env={**_env(), "ASSISTANT_INDEX__LOCK_TIMEOUT": "0.5"},
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
        )
        assert cli.returncode != 0 and "Traceback" not in cli.stderr, cli.stderr
        waited, *rest = [line for line in cli.stderr.splitlines() if line.strip()]
        assert waited.startswith(f"Waiting for process {holder.pid} "), cli.stderr
        assert any(f"is being written by process {holder.pid}" in line for line in rest), rest
    finally:
        holder.kill()
        holder.wait()
    heard.clear()
    assert (
        open_index(IndexSettings(lock_timeout=5)).sync([articles], progress=heard.append).unchanged
        == 5
    )
    assert "waiting" not in [u.phase for u in heard]  # a free store: straight to work


def test_cli_index_and_status(articles, store_dir, tmp_path):
    (articles / "empty.md").write_text("   \n")
    run = subprocess.run(
        [sys.executable, "-m", "assistant", "index", str(articles), "--store", str(store_dir)],
        env=_env(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert run.returncode == 1, run.stderr
    assert (
        run.stdout.strip().splitlines()[-1]
        == "added 5, updated 0, unchanged 0, removed 0, failed 1"
    )
    assert "empty.md" in run.stderr and "Traceback" not in run.stderr
    status = subprocess.run(
        [sys.executable, "-m", "assistant", "status", "--json", "--store", str(store_dir)],
        env=_env(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    data = json.loads(status.stdout)
    assert data["articles"] == 5 and data["chunks"] >= 5 and data["last_sync"]
    missing = subprocess.run(
        [sys.executable, "-m", "assistant", "status", "--store", str(tmp_path / "nothing")],
        env=_env(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert missing.returncode == 1 and "no store" in missing.stderr
    assert "Traceback" not in missing.stderr
    usage = subprocess.run(
        [sys.executable, "-m", "assistant", "index"],
        env=_env(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert usage.returncode == 2


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.pop("ASSISTANT_STORE", None)
    return env


def test_the_store_is_a_llama_index_vector_store(open_index, articles):
    """Chunks are written without llama-index, in the layout its ChromaVectorStore writes: the
    same metadata as `node_to_metadata_dict` gives for the chunk's TextNode, and llama-index's
    own store reads them back as nodes and answers a query with them."""
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
    from llama_index.core.vector_stores.types import VectorStoreQuery
    from llama_index.core.vector_stores.utils import node_to_metadata_dict
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from index.store.records import chunk_metadata, chunk_record

    index = open_index()
    index.sync([articles])
    chunk = index.chunks(next(iter(index.records())))[0]
    node = TextNode(
        id_=chunk.id,
        text=chunk.text,
        metadata=chunk_metadata(chunk),
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=chunk.article_id)},
    )
    theirs = node_to_metadata_dict(node, remove_text=True, flat_metadata=True)
    assert chunk_record(chunk) == {k: "" if v is None else v for k, v in theirs.items()}

    collection = index.raw_collections()["chunks"]
    stored = collection.get(ids=[chunk.id], include=["metadatas", "embeddings"])
    assert stored["metadatas"][0] == chunk_record(chunk)
    store = ChromaVectorStore(chroma_collection=collection)
    found = store.query(
        VectorStoreQuery(query_embedding=list(stored["embeddings"][0]), similarity_top_k=3)
    )
    assert found.ids[0] == chunk.id
    first = found.nodes[0]
    assert first.get_content() == chunk.text and first.ref_doc_id == chunk.article_id
    assert first.metadata == chunk_metadata(chunk)


def test_a_store_built_by_another_embedder_says_so_and_how_to_rebuild(open_index, articles):
    open_index().sync([articles])
    with pytest.raises(StoreMismatchError, match=r"embedding_model.*--rebuild"):
        open_index(IndexSettings(embedding_model="another-model"))


def test_each_training_of_a_shipped_model_is_its_own_embedder(tmp_path, monkeypatch):
    """A model the package ships is bound to a store by its file's sha256 as well as its name:
    a store built by an earlier training of it is refused, not mixed with the new vectors."""
    import json

    import index.settings

    monkeypatch.setattr(index.settings, "SHIPPED_MODELS", tmp_path)
    (tmp_path / "news-model").mkdir()
    manifest = tmp_path / "news-model" / "manifest.json"
    manifest.write_text(json.dumps({"model_sha256": "a" * 64}))
    first = IndexSettings(embedding_model="news-model").fingerprint()
    manifest.write_text(json.dumps({"model_sha256": "b" * 64}))
    second = IndexSettings(embedding_model="news-model").fingerprint()
    assert first["embedding_model_sha256"] == "a" * 16 != second["embedding_model_sha256"]
    assert "embedding_model_sha256" not in IndexSettings().fingerprint()  # the bundled model
    path = IndexSettings(embedding_model=str(tmp_path / "news-model")).fingerprint()
    assert "embedding_model_sha256" not in path  # a folder named by path is the user's own

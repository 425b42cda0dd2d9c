"""Watched sources: `index.sources.watch.Watcher` on a real store (the real model and embedded Chroma),
a sync stopped between batches, and `assistant watch` as a process stopped by SIGTERM.
Feeds watched by URL are tested with the local HTTP server in `tests/test_feeds.py`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from index import IndexSettings, SettingsError, SyncProgress
from index.sources.watch import Watcher, parse_interval
from tests.helpers import MADRID, ROOT, SAMPLES, WAIT, wait_until


def harbour_articles(folder: Path, n: int, start: int = 0) -> Path:
    """`n` articles of a few chunks each (with 64-token chunks), one per file."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + n):
        text = " ".join(
            f"Day {d} at harbour {i}: the harbour master counted {i * 7 + d} fishing boats, "
            f"and trawler {i}-{d} landed {d * 11} crates of cod before the storm."
            for d in range(6)
        )
        (folder / f"harbour-{i:03d}.txt").write_text(f"Harbour report {i}\n\n{text}\n")
    return folder


def test_intervals_are_read_like_a_person_writes_them():
    assert parse_interval("15m") == 900 and parse_interval("30s") == 30
    assert parse_interval("2h") == 7200 and parse_interval("90") == 90
    assert parse_interval("1.5 min") == 90 and parse_interval("1d") == 86400
    for bad in ("soon", "15 minutes ago", "-5m", ""):
        with pytest.raises(SettingsError, match="30s, 15m"):
            parse_interval(bad)
    with pytest.raises(SettingsError, match="too short"):
        parse_interval("1s")


def test_the_status_line_says_what_is_watched_what_changed_and_when_next():
    from index import SyncReport
    from index.sources.watch import WatchStatus, changes

    assert changes(SyncReport(added=2, failed=1)) == "added 2, failed 1"
    assert changes(SyncReport(unchanged=9)) == "no changes"
    assert changes(SyncReport(added=1, stopped=True)) == "added 1 (stopped)"
    status = WatchStatus(
        ("a/", "https://x.example/feed"),
        900,
        syncs=3,
        last_sync="2026-12-03T06:40:00+00:00",
        last_changes="added 2",
        next_sync="2026-12-03T06:55:00+00:00",
    )
    assert status.line() == (
        "watching 2 sources every 15m · last sync 06:40 UTC: added 2 · next 06:55 UTC"
    )
    assert "syncing now" in WatchStatus(("a/",), 30, running=True).line()


def test_a_sync_asked_to_stop_ends_between_batches_and_the_next_completes_it(open_index, tmp_path):
    index = open_index(IndexSettings(chunk_tokens=64, chunk_overlap=8))
    folder = harbour_articles(tmp_path / "harbour", 60)
    stop = threading.Event()

    def progress(update: SyncProgress) -> None:
        if update.phase == "embedding" and update.done > 0:
            stop.set()  # as Ctrl-C would, while the first batch is being embedded

    first = index.sync([folder], progress=progress, stop=stop)
    assert first.stopped and 0 < first.added < 60, first
    check = index.check()
    assert check.consistent and check.articles == first.added, check.problems()
    rest = index.sync([folder])
    assert not rest.stopped and rest.added == 60 - first.added and rest.unchanged == first.added
    assert index.check().articles == 60


def test_a_watcher_picks_up_new_files_while_questions_are_answered(open_index, tmp_path):
    index = open_index()
    folder = tmp_path / "articles"
    shutil.copytree(SAMPLES, folder)
    lines: list[str] = []
    watcher = Watcher(index, [str(folder)], every=5, on_report=lambda r, line: lines.append(line))
    watcher.start()
    try:
        wait_until(lambda: watcher.status.syncs >= 1, "the first sync")
        assert lines[0].startswith("added 5,"), lines
        assistant = Assistant(index, Settings(store=tmp_path / "store"))
        (folder / "kites.txt").write_text(
            "Kite festival in Trondheim\n\nThe kite festival in Trondheim drew 4,000 visitors, "
            "who flew kites shaped like whales over the fjord on Saturday.\n"
        )
        # A sync may be running as the file appears: the one after it surely sees it.
        seen = watcher.status.syncs
        while True:  # questions keep being answered meanwhile
            assert assistant.ask(MADRID).answered
            if watcher.status.syncs >= seen + 2:
                break
        assert any(line.startswith("added 1,") for line in lines[seen:]), lines
        answer = assistant.ask("What shape were the kites in Trondheim?")
        assert any("whales" in c.quote for c in answer.citations), answer
        status = watcher.status
        assert status.last_ok and status.next_sync and "every 5s" in status.line()
    finally:
        watcher.stop(wait=WAIT)
    assert not watcher._thread.is_alive()  # type: ignore[union-attr]


@pytest.mark.slow
def test_assistant_watch_syncs_on_its_interval_and_stops_cleanly_on_sigterm(tmp_path):
    folder = harbour_articles(tmp_path / "harbour", 3)
    store = tmp_path / "store"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_INDEX__MODEL_CACHE"] = os.environ["ASSISTANT_INDEX__MODEL_CACHE"]
    command = [sys.executable, "-m", "assistant", "watch", str(folder), "--every", "5s"]
    proc = subprocess.Popen(
        [*command, "--prune", "--store", str(store)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.extend(proc.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        wait_until(lambda: any("added 3," in line for line in out), "the first sync")
        harbour_articles(folder, 40, start=3)  # enough for more than one batch
        (folder / "harbour-000.txt").unlink()
        wait_until(lambda: any("removed 1" in line for line in out), "the second sync")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=WAIT) == 0, proc.stderr.read()  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=10)
    assert out[0].startswith("Watching ") and out[-1].strip() == "stopped", out
    assert all("next sync at" in line for line in out if " added " in line)
    status = subprocess.run(
        [sys.executable, "-m", "assistant", "status", "--check", "--json", "--store", str(store)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    data = json.loads(status.stdout)
    assert data["check"]["consistent"] and data["articles"] == 42, data


@pytest.mark.slow
def test_the_page_watches_a_folder_and_shows_the_last_sync(tmp_path):
    from gradio_client import Client

    from tests.web_server import Server

    folder = tmp_path / "articles"
    shutil.copytree(SAMPLES, folder)
    server = Server(tmp_path, "--watch", str(folder), "--every", "5s")
    try:
        app = server.ready()
        client = Client(app.url, verbose=False)
        wait_until(lambda: client.predict(api_name="/index_status")["articles"] == 5, "sync 1")
        (folder / "kites.txt").write_text(
            "Kite festival in Trondheim\n\nThe kite festival in Trondheim drew 4,000 visitors, "
            "who flew kites shaped like whales over the fjord on Saturday.\n"
        )
        wait_until(lambda: client.predict(api_name="/index_status")["articles"] == 6, "sync 2")
        status = client.predict(api_name="/index_status")
        assert status["watch"]["sources"] == [str(folder)] and status["watch"]["syncs"] >= 2
        assert "watching 1 source every 5s" in status["watch"]["line"]
        answer = client.predict("What shape were the kites in Trondheim?", api_name="/ask")
        assert any("whales" in c["quote"] for c in answer["citations"]), answer
    finally:
        server.stop()
    assert server.proc.returncode == 0, app.log.read_text()
    log = app.log.read_text()
    assert "watched sync: added 1," in log and "Traceback" not in log

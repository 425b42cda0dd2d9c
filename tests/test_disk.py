"""Disk full and read-only store: indexing fails with a clear message and the store still
answers. Uses small tmpfs mounts, so it needs root (as in CI); skipped with a reason otherwise."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers import MADRID, ROOT, SAMPLES


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )


@contextmanager
def tmpfs(where: Path, size_kb: int) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); needs root")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture(scope="module")
def built_store(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("disk") / "store"
    run = _run("index", str(SAMPLES), "--store", str(store), "--quiet")
    assert run.returncode == 0, run.stderr
    return store


def _articles(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "bulk.jsonl").open("w") as fh:
        for i in range(count):
            text = " ".join(
                f"Paragraph {j} of report {i} on the regional water supply." for j in range(60)
            )
            fh.write(
                json.dumps({"id": f"bulk-{i}", "title": f"Water report {i}", "text": text}) + "\n"
            )
    return folder


def _size_kb(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) // 1024


@pytest.mark.slow
def test_disk_full_fails_clearly_and_the_store_still_answers(built_store, tmp_path):
    with tmpfs(tmp_path / "small", _size_kb(built_store) + 1536) as mount:
        store = mount / "store"
        shutil.copytree(built_store, store)
        run = _run(
            "index", str(_articles(tmp_path / "bulk", 400)), "--store", str(store), "--quiet"
        )
        assert run.returncode == 1
        assert run.stderr.startswith("error: ") and "Traceback" not in run.stderr
        assert "disk" in run.stderr
        ask = _run("ask", MADRID, "--store", str(store), "--json")
        assert ask.returncode == 0, ask.stderr
        assert any("Kishida" in c["quote"] for c in json.loads(ask.stdout)["citations"])


@pytest.mark.slow
def test_read_only_store_refuses_writes_and_still_answers(built_store, tmp_path):
    with tmpfs(tmp_path / "ro", _size_kb(built_store) + 4096) as mount:
        store = mount / "store"
        shutil.copytree(built_store, store)
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        run = _run("index", str(SAMPLES), "--store", str(store), "--quiet")
        assert run.returncode == 1
        assert run.stderr.startswith("error: ") and "Traceback" not in run.stderr
        ask = _run("ask", MADRID, "--store", str(store), "--json")
        assert ask.returncode == 0, ask.stderr
        assert json.loads(ask.stdout)["citations"]

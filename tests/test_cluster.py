"""Embedding on a real Ray cluster (`--ray`, `index.embed.cluster`): two raylets started on this
machine with `ray start`, each its own node of one CPU, on free ports, in a folder of their own.

The store a cluster fills equals a local index of the same articles (chunk ids, texts, metadata,
vectors, keyword hits, answers); a killed actor process, a lost node and a killed coordinator
all end in a whole store; a wrong address and a missing Ray are one-line errors. Kills happen on
events (a progress report, a write step printed by the coordinator), never after a delay. The
cluster's processes are ended by their ids (each node's session) at the end, never by
`ray stop`, which would end every Ray process on the machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import ROOT, chroma_server, free_port, run_assistant

QUESTIONS = [
    "How much did the Ashby council approve for the lighthouse?",
    "Who opened the Kingsport ferry terminal?",
    "Why did the Millbrook school close early?",
    "What did the Eastfield festival raise money for?",
    "When will the Westmere bridge reopen?",
]
PLANTED = [
    "The Ashby council approved 42 million pounds for the lighthouse restoration.",
    "Mayor Ingrid Solberg opened the Kingsport ferry terminal on a windy morning.",
    "The Millbrook school closed early because a burst water main flooded the hall.",
    "The Eastfield festival raised money for the children's hospital wing.",
    "The Westmere bridge will reopen in March after the new cables are fitted.",
]
TOWNS = ["Harbourton", "Millbrook", "Eastfield", "Kingsport", "Ashby", "Westmere", "Dunmore"]
THINGS = ["budget", "library", "tram line", "harbour wall", "market", "park", "museum", "pier"]
PEOPLE = ["Councillor Okafor", "Dr Lindqvist", "Ms Ferreira", "Mr Abernathy", "Chief Nakamura"]
SENTENCES = [
    "{who} told reporters in {town} that the {thing} would cost {n} thousand pounds.",
    "Residents of {town} queued for {n} minutes to see plans for the {thing}.",
    "The {thing} in {town} has been debated at {n} meetings since the spring.",
    "{who} said the {town} {thing} needed {n} more volunteers before the winter.",
    "A survey of {n} households in {town} found strong support for the {thing}.",
    "Engineers inspected the {thing} near {town} station on day {n} of the works.",
    "{who} warned that delays to the {thing} could add {n} weeks to the timetable.",
    "Shops near the {town} {thing} reported {n} percent more visitors than last year.",
]


def _write_articles(folder: Path, count: int = 60) -> Path:
    """`count` local news articles of 2 to 3 chunks each; five of them hold a planted fact."""
    rng = random.Random(11)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "news.jsonl").open("w") as fh:
        for i in range(count):
            town, thing = rng.choice(TOWNS), rng.choice(THINGS)
            sentences = [
                rng.choice(SENTENCES).format(
                    who=rng.choice(PEOPLE),
                    town=rng.choice(TOWNS),
                    thing=thing,
                    n=rng.randint(2, 999),
                )
                for _ in range(rng.randint(18, 30))
            ]
            if i % 12 == 0:
                sentences.insert(len(sentences) // 2, PLANTED[i // 12])
            record = {
                "id": f"news-{i}",
                "title": f"{town} {thing} report {i}",
                "text": " ".join(sentences),
                "source": "County Courier",
                "published": f"2023-05-{1 + i % 28:02d}",
            }
            fh.write(json.dumps(record) + "\n")
    return folder


# -- the cluster --------------------------------------------------------------------------------
@dataclass
class Cluster:
    address: str
    folder: Path
    sessions: list[int] = field(default_factory=list)  # one per node: its `ray start`'s pid

    def add_node(self, head: bool = False) -> int:
        """Start a node of one CPU with `ray start`; the id of the session its processes share."""
        folder = Path(tempfile.mkdtemp(prefix="n", dir=self.folder))
        port = self.address.rpartition(":")[2]
        args = [
            str(Path(sys.executable).parent / "ray"),
            "start",
            "--num-cpus=1",
            f"--temp-dir={folder}",
            "--disable-usage-stats",
            f"--dashboard-agent-listen-port={free_port()}",
        ]
        if head:
            args += ["--head", f"--port={port}", "--include-dashboard=false"]
            args += [f"--ray-client-server-port={free_port()}", f"--dashboard-port={free_port()}"]
        else:
            args.append(f"--address={self.address}")
        proc = subprocess.Popen(
            args,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its daemons and workers stay in this session: ended by it
        )
        self.sessions.append(proc.pid)  # a session's id is the pid of the process that made it
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out[-3000:]
        return proc.pid

    def stop_node(self, session: int) -> None:
        """SIGKILL every process of the node's session (raylet, agents, workers)."""
        for pid in _session_pids(session):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _session(pid: int) -> int:
    """The session id of a process (field 6 of /proc/PID/stat), 0 when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rpartition(")")[2].split()[3])


def _session_pids(session: int) -> list[int]:
    pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    return [p for p in pids if _session(p) == session]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ASSISTANT_STORE", "RAY_ADDRESS")}
    env["PYTHONPATH"] = str(ROOT)
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    return env


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A head node and a second node on this machine; both ended by their sessions after."""
    pytest.importorskip("ray", reason="needs the cluster extra: pip install -e '.[cluster]'")
    # short: Ray's unix socket paths under it must stay within ~107 characters
    folder = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))
    made = Cluster(f"127.0.0.1:{free_port()}", folder)
    try:
        made.add_node(head=True)
        made.add_node()
        yield made
    finally:
        for session in reversed(made.sessions):
            made.stop_node(session)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def articles(tmp_path_factory) -> Path:
    return _write_articles(tmp_path_factory.mktemp("cluster") / "articles")


@pytest.fixture(scope="module")
def local(articles, embedder, tmp_path_factory):
    """The same articles indexed here, as `assistant index` does (progress reported)."""
    from index import ArticleIndex

    index = ArticleIndex.open(tmp_path_factory.mktemp("local") / "store", embedder=embedder)
    report = index.sync([articles], progress=lambda update: None)
    assert report.added == 60 and report.chunks_added > 120, report
    return index


def _ray_embedder(cluster: Cluster, **options):
    from index.embed.cluster import RayEmbedder

    cache = Path(os.environ["ASSISTANT_INDEX__MODEL_CACHE"])
    embedder = RayEmbedder(cluster.address, model_cache=str(cache), **options)
    embedder.cache_dir = cache  # the coordinator's tokenizer: the int8 export made for the run
    return embedder


def _chunks(index) -> dict[str, tuple[str, dict, np.ndarray]]:
    got = index.raw_collections()["chunks"].get(include=["documents", "metadatas", "embeddings"])
    return {
        i: (doc, meta, np.asarray(vec))
        for i, doc, meta, vec in zip(
            got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
        )
    }


def _assert_same_store(index, local) -> None:
    """Same live chunks (ids, texts, metadata), vectors within cosine 0.999, same records."""
    assert index.check().clean, index.check().problems()
    ours, theirs = _chunks(index), _chunks(local)
    assert sorted(ours) == sorted(theirs)
    for chunk_id, (doc, meta, vector) in ours.items():
        assert (doc, meta) == theirs[chunk_id][:2], chunk_id
        assert float(vector @ theirs[chunk_id][2]) > 0.999, chunk_id
    assert index.records() == local.records()


def _assistant(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return run_assistant(*args, env=_env(), timeout=timeout)


# -- the store a cluster fills ------------------------------------------------------------------
@pytest.mark.slow
def test_cluster_fills_a_chroma_server_as_a_local_index_would(
    cluster, articles, local, embedder, tmp_path
):
    from assistant import Assistant, Settings
    from index import ArticleIndex

    with chroma_server(tmp_path / "server", _env()) as url:
        run = _assistant(
            "index", str(articles), "--store", str(tmp_path / "a"), "--chroma-url", url,
            "--ray", cluster.address,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr[-3000:]
        assert "added 60," in run.stdout
        index = ArticleIndex.open(tmp_path / "b", chroma_url=url, embedder=embedder)
        _assert_same_store(index, local)
        for question in QUESTIONS:
            hits = index.keyword_search(question, 5)
            assert [h.chunk.id for h in hits] == [
                h.chunk.id for h in local.keyword_search(question, 5)
            ]
        settings = Settings()
        ours, theirs = Assistant(index, settings), Assistant(local, settings)
        for question in QUESTIONS:
            a, b = ours.ask(question), theirs.ask(question)
            assert a.citations, question
            assert (a.text, _citations(a)) == (b.text, _citations(b)), question


def _citations(answer) -> list[tuple]:
    return [(c.article_id, c.start, c.end, c.quote, round(c.score, 4)) for c in answer.citations]


# -- lost workers -------------------------------------------------------------------------------
@pytest.mark.slow
def test_killed_actor_process_is_restarted_and_its_batch_embedded(
    cluster, articles, local, tmp_path
):
    from index import ArticleIndex

    embedder = _ray_embedder(cluster, actors=2)
    try:
        index = ArticleIndex.open(tmp_path / "store", embedder=embedder)
        victim = embedder.actor_pids()[0]
        killed = []

        def kill_once(update) -> None:  # after the first embedding call, before the next
            if update.phase == "embedding" and update.done and not killed:
                os.kill(victim, signal.SIGKILL)
                killed.append(update.done)

        report = index.sync([articles], progress=kill_once)
        assert killed and killed[0] < report.chunks_added  # killed mid-run, really
        assert report.added == 60
        _assert_same_store(index, local)
        assert victim not in embedder.actor_pids()  # it came back as a new process
    finally:
        embedder.close()


@pytest.mark.slow
def test_lost_node_batches_go_to_the_other_actors(cluster, articles, local, tmp_path):
    import ray

    from index import ArticleIndex

    node = cluster.add_node()
    embedder = _ray_embedder(cluster, actors=3, patience=5.0)  # one actor on each node
    try:
        index = ArticleIndex.open(tmp_path / "store", embedder=embedder)
        assert sum(_session(pid) == node for pid in embedder.actor_pids()) == 1
        lost = []

        # Lost as the first batch goes out, so its actor is surely sent a part: lost after the
        # first vectors came back, its part may already be home and no later call may follow
        def lose_node(update) -> None:
            if update.phase == "embedding" and not lost:
                cluster.stop_node(node)  # its raylet, agents and actor, all at once
                lost.append(update.done)

        report = index.sync([articles], progress=lose_node)
        assert lost and lost[0] < report.chunks_added
        assert embedder.resent  # the lost actor's part went to another
        assert report.added == 60
        _assert_same_store(index, local)
        # The cluster as the other tests find it: the lost node known dead, its CPU gone.
        deadline = time.monotonic() + 120
        while ray.cluster_resources().get("CPU", 0) > 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert ray.cluster_resources().get("CPU", 0) == 2
    finally:
        embedder.close()


# Runs ArticleIndex.sync on the cluster (argv[3]) and prints "chunked 1" once the first batch's
# chunks are written and no record points to them yet; there it waits on stdin to be killed.
COORDINATOR = """
import sys
import index.writer
from assistant import Settings
from index import ArticleIndex
from index.embed.cluster import ray_embedder

store, folder, address = sys.argv[1:4]
add_chunks = index.writer._add_chunks

def chunked(collection, chunks, vectors):
    add_chunks(collection, chunks, vectors)
    print("chunked 1", flush=True)
    sys.stdin.readline()

index.writer._add_chunks = chunked
settings = Settings().index
embedder = ray_embedder(settings, address).start()
ArticleIndex.open(store, settings, embedder=embedder).sync([folder])
"""


@pytest.mark.slow
def test_killed_coordinator_is_completed_by_next_run(cluster, articles, local, embedder, tmp_path):
    from index import ArticleIndex

    store = tmp_path / "store"
    proc = subprocess.Popen(
        [sys.executable, "-c", COORDINATOR, str(store), str(articles), cluster.address],
        cwd=ROOT,
        env=_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip() if proc.stdout else ""
    finally:
        proc.kill()
        proc.wait()
    assert line == "chunked 1"
    check = _assistant("status", "--check", "--json", "--store", str(store))
    assert check.returncode == 0, check.stdout + check.stderr  # readers see no damage
    assert json.loads(check.stdout)["check"]["pending"]  # killed mid-write, really
    # The dead coordinator's actors are released: the next run gets the cluster's CPUs.
    run = _assistant("index", str(articles), "--store", str(store), "--ray", cluster.address)
    assert run.returncode == 0, run.stderr[-3000:]
    _assert_same_store(ArticleIndex.open(store, embedder=embedder), local)


# -- errors -------------------------------------------------------------------------------------
def test_unreachable_address_is_a_one_line_error(articles, tmp_path):
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    run = _assistant("index", str(articles), "--store", str(tmp_path / "s"), "--ray", address)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach the Ray cluster at")
    assert address in lines[0] and "ray start --head" in lines[0]
    assert not (tmp_path / "s" / "chroma").exists()  # failed before anything was read


def test_without_ray_the_error_says_how_to_install_it(articles, tmp_path, monkeypatch, capsys):
    # Ray cannot be uninstalled from the venv the suite runs in: a failed import stands in.
    from assistant.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    code = main(["index", str(articles), "--store", str(tmp_path / "s"), "--ray"])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "pip install -e '.[cluster]'" in err

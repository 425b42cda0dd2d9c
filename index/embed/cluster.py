"""Embedding on a Ray cluster: `RayEmbedder`, an `Embedder` whose `embed` runs on a pool of actors.

The coordinator (the process running the sync) keeps everything else: reading, diffing, chunking
(token counts come from its own copy of the tokenizer), the store's write lock and the writes.
Only chunk texts travel: `embed` deals them out in parts, one per actor (each actor loads the
model once, from the packages installed on its node, see `index.embed.cluster_actor`), and gathers the
vectors back in input order.

A part is never dropped. Ray restarts an actor whose process dies and runs the calls it had
again (`max_restarts`, `max_task_retries`). A part whose actor cannot come back (its node is
lost, and no other node has a free CPU for it) would wait for it forever: once a part is out
`patience` seconds (at least 4 times the slowest part seen), a copy goes to an idle actor and the
first answer wins; an actor with such a call still out gets no new parts until it answers. A
part lost `ATTEMPTS` times, or no answer at all for `STALL_SECONDS`, ends `embed` with a
`StoreError`: the sync stops as a killed one would, and the next run completes it.

Ray is an optional extra (`pip install -e '.[cluster]'`). Not here: the sync (`index.sync`), the
cluster itself (`ray start`, see docs/scaling.md).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from index.embed.encoder import Embedder
from index.errors import SettingsError, StoreError
from index.settings import BUNDLED_MODEL, IndexSettings

INSTALL = "install it with pip install -e '.[cluster]'"
ATTEMPTS = 4  # sends of one part (retries and copies) before the sync gives up
STALL_SECONDS = 600.0  # no part back for this long: the cluster has no CPU left for the pool
PROBE_SECONDS = 5.0  # to reach the cluster's address before handing it to Ray, which would hang


def ray_embedder(settings: IndexSettings, address: str = "") -> RayEmbedder:
    """The `RayEmbedder` the settings describe; `address` (e.g. `--ray`) overrides theirs."""
    return RayEmbedder(
        address or settings.ray_address or "auto",
        settings.embedding_model,
        settings.embedding_backend,
        settings.embed_batch_size,
        actors=settings.ray_actors,
        threads=settings.ray_threads_per_actor,
        model_cache=settings.model_cache,
    )


class RayEmbedder(Embedder):
    """Embeds on `actors` Ray actors of `threads` CPUs each, at the cluster at `address`.

    `address`: "auto" (the cluster named by RAY_ADDRESS, else the one started on this machine),
    HOST:PORT of the head node when this process runs on a node of the cluster, or
    ray://HOST:PORT (Ray Client, port 10001 by default) when it does not. `model_cache`: where
    each node keeps its int8 export; empty: `~/.cache/news-assistant/models` on that node. In a
    process that has already called `ray.init`, that cluster is used and left joined on `close`.
    """

    def __init__(
        self,
        address: str,
        model: str = BUNDLED_MODEL,
        backend: str = "onnx-int8",
        batch_size: int = 8,
        *,
        actors: int = 2,
        threads: int = 1,
        model_cache: str = "",
        patience: float = 30.0,
    ) -> None:
        super().__init__(model, backend, batch_size)
        self.address = address.strip() or "auto"
        self.actors = actors
        self.threads = threads
        self.model_cache = model_cache
        self.patience = patience
        self._pool: list[Any] = []
        self._out: list[set[Any]] = []  # each actor's calls not yet answered, across `embed`s
        self._dead: set[int] = set()  # actors Ray reports gone for good
        self._slowest = 0.0  # seconds of the slowest part answered so far
        self._joined = False  # this embedder joined the cluster (else its caller had)
        self.resent = 0  # parts sent again (lost, or late and copied) since the start

    # -- the pool ---------------------------------------------------------------------------
    def start(self) -> RayEmbedder:
        """Join the cluster and start the actors now (else on the first `embed`): a wrong
        address or a missing Ray then fails before anything is read."""
        self.pool()
        return self

    def pool(self) -> list[Any]:
        """The actor handles, joining the cluster and starting them on first use."""
        if self._pool:
            return self._pool
        ray = _import_ray()
        if not ray.is_initialized():
            _connect(ray, self.address)
            self._joined = True
        cpus = ray.cluster_resources().get("CPU", 0)
        if cpus < self.actors * self.threads:
            raise SettingsError(
                f"the Ray cluster at {self.address} has {cpus:g} CPUs, too few for "
                f"{self.actors} actors of {self.threads}: lower index.ray_actors or add nodes"
            )
        from index.embed.cluster_actor import EmbedActor

        actor = ray.remote(EmbedActor).options(
            num_cpus=self.threads,
            max_restarts=-1,  # a dead actor process comes back (and loads the model again)
            max_task_retries=-1,  # and the calls it had are run again, never dropped
            scheduling_strategy="SPREAD",
        )
        spec = (self.model_name, self.backend, self.batch_size, self.threads, self.model_cache)
        self._pool = [actor.remote(*spec) for _ in range(self.actors)]
        self._out = [set() for _ in self._pool]
        try:  # each loads the model once, now
            ray.get([a.ready.remote() for a in self._pool], timeout=STALL_SECONDS)
        except Exception as exc:
            self.close()
            raise SettingsError(
                f"the embedding actors did not start on the Ray cluster at {self.address} "
                f"({_first_line(exc)}): install news-assistant with its cluster extra on every "
                "node (docs/scaling.md)"
            ) from None
        return self._pool

    def actor_pids(self) -> list[int]:
        """Process id of each actor, in pool order (for operators and tests)."""
        ray = _import_ray()
        return [int(p) for p in ray.get([a.pid.remote() for a in self.pool()])]

    def close(self) -> None:
        """End the actors and leave the cluster (which keeps running) if this embedder joined it."""
        ray = _import_ray()
        for actor in self._pool:
            ray.kill(actor)
        self._pool, self._out, self._dead = [], [], set()
        if self._joined and ray.is_initialized():
            ray.shutdown()
        self._joined = False

    # -- embedding --------------------------------------------------------------------------
    def embed(
        self,
        texts: Sequence[str],
        progress: Callable[[int], None] | None = None,
        ids: Sequence[np.ndarray | None] | None = None,
    ) -> np.ndarray:
        """Unit-length vectors, one row per text, in input order, computed by the pool;
        `progress` hears how many texts are done as each actor's part comes back. `ids` (input
        ids already known) only spare the split its tokenizing: the actors tokenize the texts."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        ray = _import_ray()
        self.pool()
        idle = self._idle()
        parts = self._parts(texts, len(idle) or len(self._pool), ids)
        calls = [[texts[i] for i in part] for part in parts]
        sent: dict[Any, tuple[int, int, float]] = {}  # call -> (part, actor, when sent)
        sends = [0] * len(parts)
        for n in range(len(parts)):
            self._send(n, idle[n] if n < len(idle) else self._pick(), calls, sent, sends)
        out: np.ndarray | None = None
        left = set(range(len(parts)))
        heard = time.monotonic()
        while left:
            wait = max(self.patience, 4 * self._slowest)
            ready, _ = ray.wait(list(sent), num_returns=1, timeout=wait)
            if not ready:
                if time.monotonic() - heard > STALL_SECONDS:
                    raise StoreError(
                        f"no vectors came back from the Ray cluster at {self.address} for "
                        f"{STALL_SECONDS:.0f}s: check its nodes with `ray status`; run the sync "
                        "again to complete it"
                    )
                for n in sorted(left):  # a copy of each late part to an idle actor
                    holders = {a for n_, a, _ in sent.values() if n_ == n}
                    free = [a for a in self._idle() if a not in holders]
                    if free and sends[n] < ATTEMPTS:
                        self._send(n, free[0], calls, sent, sends)
                continue
            n, actor, when = sent.pop(ready[0])
            self._out[actor].discard(ready[0])
            if n not in left:
                continue  # the other copy answered first
            try:
                vectors = ray.get(ready[0])
            except _lost_errors(ray) as exc:
                if isinstance(exc, ray.exceptions.ActorDiedError):
                    self._dead.add(actor)
                if sends[n] >= ATTEMPTS or len(self._dead) == len(self._pool):
                    raise StoreError(
                        f"the Ray cluster at {self.address} lost a part of a batch {sends[n]} "
                        f"times ({_first_line(exc)}); check its nodes with `ray status` and run "
                        "the sync again to complete it"
                    ) from None
                self._send(n, self._pick(exclude=actor), calls, sent, sends)
                continue
            heard = time.monotonic()
            self._slowest = max(self._slowest, heard - when)
            left.discard(n)
            if out is None:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[parts[n]] = vectors
            if progress is not None:
                progress(len(texts) - sum(len(parts[m]) for m in left))
        assert out is not None
        return out

    def _parts(
        self, texts: Sequence[str], actors: int, ids: Sequence[np.ndarray | None] | None = None
    ) -> list[list[int]]:
        """The texts' positions for each actor's call: whole model batches, dealt round robin.

        The int8 model quantises its activations per batch, so a vector depends a little on
        which texts share its batch (cosine down to 0.98 between groupings). Each actor gets
        whole batches of the very length-sorted order a local `embed` of these texts runs, in
        that order, so its own sort keeps them together and the vectors match a local sync's.
        """
        size = self.batch_size
        if self.backend == "onnx-int8":
            lengths = [len(e) for e in self.onnx.input_ids(texts, ids)]
            order = [int(i) for i in np.argsort([-n for n in lengths], kind="stable")]
        else:  # fp32: no per-batch quantisation; any split gives the same vectors
            order = list(range(len(texts)))
        batches = [order[i : i + size] for i in range(0, len(order), size)]
        count = min(actors, len(batches))
        return [[i for batch in batches[a::count] for i in batch] for a in range(count)]

    def _idle(self) -> list[int]:
        """Live actors with no call out (earlier copies that never came back included)."""
        ray = _import_ray()
        for calls in self._out:
            if calls:
                done, _ = ray.wait(list(calls), num_returns=len(calls), timeout=0)
                calls.difference_update(done)
        return [a for a, calls in enumerate(self._out) if not calls and a not in self._dead]

    def _pick(self, exclude: int = -1) -> int:
        """The live actor with the fewest calls out, preferring one other than `exclude`."""
        live = [a for a in range(len(self._pool)) if a not in self._dead] or [exclude]
        others = [a for a in live if a != exclude] or live
        return min(others, key=lambda a: len(self._out[a]))

    def _send(
        self,
        n: int,
        actor: int,
        calls: list[list[str]],
        sent: dict[Any, tuple[int, int, float]],
        sends: list[int],
    ) -> None:
        ref = self._pool[actor].embed.remote(calls[n])
        sent[ref] = (n, actor, time.monotonic())
        self._out[actor].add(ref)
        self.resent += sends[n] > 0
        sends[n] += 1


def _import_ray() -> Any:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # the product sends no telemetry
    try:
        import ray
    except ImportError:
        raise SettingsError(
            f"--ray (index.ray_address) needs Ray, which is not installed: {INSTALL}"
        ) from None
    return ray


def _lost_errors(ray: Any) -> tuple[type[BaseException], ...]:
    """The errors that say a part's actor or its answer was lost, not that the part is bad."""
    names = ("RayActorError", "ActorUnavailableError", "WorkerCrashedError", "ObjectLostError")
    return tuple(getattr(ray.exceptions, n) for n in names if hasattr(ray.exceptions, n))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _connect(ray: Any, address: str) -> None:
    """Join the cluster at `address` as a driver, or say in one line why it cannot be."""
    target = _auto_address() if address == "auto" else address
    _probe(target)
    try:
        ray.init(address=target, logging_level="ERROR", log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise SettingsError(
            f"cannot join the Ray cluster at {target} ({_first_line(exc)}): check it with "
            "`ray status` on its head node, or give its address with --ray HOST:PORT"
        ) from None


def _probe(address: str) -> None:
    """Fail fast, in one line, when nothing answers at the cluster's address (`ray.init`
    would wait for it for minutes)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise SettingsError(
            f"Ray address {address!r} is not HOST:PORT or ray://HOST:PORT: give the head node's, "
            "e.g. --ray 10.0.0.5:6379"
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_SECONDS).close()
    except OSError as exc:
        raise SettingsError(
            f"cannot reach the Ray cluster at {address} ({exc.strerror or type(exc).__name__}): "
            "start it with `ray start --head` or give the head node's address with --ray HOST:PORT"
        ) from None


def _auto_address() -> str:
    """The address "auto" stands for: RAY_ADDRESS, else the cluster started on this machine."""
    if os.environ.get("RAY_ADDRESS"):
        return os.environ["RAY_ADDRESS"]
    try:
        from ray._private.services import get_ray_address_from_environment

        found = get_ray_address_from_environment("auto", None)
    except ConnectionError:
        found = None
    if not found or found == "auto":
        raise SettingsError(
            "--ray found no Ray cluster on this machine and RAY_ADDRESS is not set: start one "
            "with `ray start --head`, or give its address with --ray HOST:PORT"
        )
    return str(found)

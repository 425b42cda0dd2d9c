"""Near-duplicate articles (syndicated copies): the same story run by several outlets, lightly
edited, found by MinHash over word shingles.

Each article gets a MinHash signature of its word shingles (`shingles`: NFKC, case folded, runs of
word characters, `shingle_words` at a time); an LSH index proposes pairs and the signatures decide:
two articles are copies when their estimated Jaccard similarity is at least `threshold`. Groups are
the connected components of those pairs, so a chain of copies is one group even when its ends
differ more. Texts of fewer than `min_words` words (captions, teasers, stubs) never join a group:
they share too few shingles for the estimate to mean anything.

The signatures use a fixed seed and SHA-1, so they are the same in every process and on every
machine, and a saved file stays valid. The threshold is not part of the file: loading finds the
groups again from the signatures (the LSH's bands, all rows at once with numpy) without
importing datasketch, so a process that only folds results never pays for it; the LSH index is
built at the first `add`.

Not here: exact copies (`index.copies.exact`, dropped at sync), and where groups are used (the sync
keeps this up to date, retrieval returns one article per group, citations name the others).
"""

from __future__ import annotations

import io
import itertools
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.atomic import write_atomically
from index.errors import SettingsError

if TYPE_CHECKING:  # datasketch imports scipy (~0.7 s): only when signatures are computed
    from datasketch import LeanMinHash, MinHash, MinHashLSH

SHINGLE_WORDS = 5
MIN_WORDS = 30
NUM_PERM = 128
SEED = 1  # fixed: signatures must be equal across processes for a saved file to stay valid
RECALL = 0.99  # chance that the LSH proposes a pair exactly at the threshold
_FORMAT = 1
_SCHEME = "affine32"  # datasketch's default: a collision-free permutation, uint32 values
_WORDS = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The words of `text` as shingles see them: NFKC, case folded, runs of word characters."""
    return _WORDS.findall(unicodedata.normalize("NFKC", text).casefold())


def shingles(text: str, words_per_shingle: int = SHINGLE_WORDS) -> set[bytes]:
    """The distinct runs of `words_per_shingle` consecutive words of `text`, UTF-8 encoded; a
    shorter text gives one shingle of all its words, a text without words none."""
    return _shingles(words(text), words_per_shingle)


def _shingles(tokens: list[str], n: int) -> set[bytes]:
    if len(tokens) <= n:
        return {" ".join(tokens).encode()} if tokens else set()
    return {s.encode() for s in map(" ".join, zip(*(tokens[k:] for k in range(n)), strict=False))}


@dataclass(frozen=True)
class SignatureParams:
    """What a signature depends on; a saved file made with other values is not used."""

    num_perm: int = NUM_PERM
    shingle_words: int = SHINGLE_WORDS
    min_words: int = MIN_WORDS
    seed: int = SEED
    scheme: str = _SCHEME
    hash: str = "sha1-32"
    format: int = _FORMAT


def lsh_bands(
    threshold: float, num_perm: int = NUM_PERM, recall: float = RECALL
) -> tuple[int, int]:
    """LSH (bands, rows): the most rows per band (fewest false candidates) for which a pair at
    exactly `threshold` is still proposed with probability `recall`. Candidates are checked
    against the signatures, so a missed pair costs more than an extra one."""
    for rows in range(num_perm // 2, 0, -1):
        bands = num_perm // rows
        if 1 - (1 - threshold**rows) ** bands >= recall:
            return bands, rows
    return num_perm, 1


class CopyFinder:
    """Groups of near-duplicate articles, kept up to date one article at a time.

    The group of an article is named by its representative: the smallest id of the group (plain
    string order). That choice depends neither on the order articles were added nor on the
    process, so a rebuild, a reload and another machine agree; it may change when an article
    joins or leaves, so callers use it to fold results, never as a stored key. An article without
    copies, or never added, is its own group. Not thread-safe: writes are the sync's, under the
    store's lock.
    """

    def __init__(self, threshold: float, params: SignatureParams | None = None) -> None:
        if not 0.0 < threshold <= 1.0:
            raise SettingsError(
                f"copy threshold {threshold} is outside (0, 1]: set index.copy_threshold "
                "(ASSISTANT_INDEX__COPY_THRESHOLD) to the estimated Jaccard similarity at or "
                "above which two articles are copies, e.g. 0.6"
            )
        self.threshold = threshold
        self.params = params or SignatureParams()
        self._signatures: dict[str, np.ndarray] = {}  # id -> uint32[num_perm]
        self._eligible: set[str] = set()  # long enough to join a group
        self._links: dict[str, dict[str, float]] = {}  # id -> its copies -> estimated Jaccard
        self._groups: dict[str, tuple[str, ...]] | None = None  # members -> group, when known
        self._lsh: MinHashLSH | None = None  # built at the first add: a loaded file needs none
        self._template: MinHash | None = None

    # -- changes ---------------------------------------------------------------------------------
    def add(self, article_id: str, text: str) -> None:
        """Add an article, or replace the text of one already added."""
        tokens = words(text)
        signature = self.signature(_shingles(tokens, self.params.shingle_words))
        self.remove(article_id)
        self._signatures[article_id] = signature
        if len(tokens) < self.params.min_words:
            return
        lsh, sketch = self._index(), self._sketch(signature)
        for other in lsh.query(sketch):
            similarity = _agreement(signature, self._signatures[other])
            if similarity >= self.threshold:
                self._link(article_id, other, similarity)
        lsh.insert(article_id, sketch, check_duplication=False)
        self._eligible.add(article_id)

    def add_many(self, articles: Iterable[tuple[str, str]]) -> None:
        """Add `(id, text)` pairs."""
        for article_id, text in articles:
            self.add(article_id, text)

    def remove(self, article_id: str) -> None:
        """Forget an article (nothing happens for one never added); its group may split."""
        if self._signatures.pop(article_id, None) is None:
            return
        if article_id in self._eligible:
            self._eligible.discard(article_id)
            if self._lsh is not None:
                self._lsh.remove(article_id)
        for other in self._links.pop(article_id, {}):
            del self._links[other][article_id]
            if not self._links[other]:
                del self._links[other]
        self._groups = None

    def signature(self, shingle_set: Iterable[bytes]) -> np.ndarray:
        """The MinHash signature (uint32[num_perm]) of a set of shingles."""
        if self._template is None:
            from datasketch import MinHash
            from datasketch.hashfunc import sha1_hash32

            p = self.params
            self._template = MinHash(
                num_perm=p.num_perm, seed=p.seed, scheme=p.scheme, hashfunc=sha1_hash32
            )
        sketch = self._template.copy()
        sketch.update_batch(shingle_set)
        return np.asarray(sketch.hashvalues, dtype=np.uint32)

    def _link(self, first: str, second: str, similarity: float) -> None:
        self._links.setdefault(first, {})[second] = similarity
        self._links.setdefault(second, {})[first] = similarity
        self._groups = None

    def _index(self) -> MinHashLSH:
        if self._lsh is None:
            from datasketch import MinHashLSH

            bands = lsh_bands(self.threshold, self.params.num_perm)
            self._lsh = MinHashLSH(num_perm=self.params.num_perm, params=bands)
            with self._lsh.insertion_session() as session:
                for article_id in self._eligible:
                    session.insert(article_id, self._sketch(self._signatures[article_id]))
        return self._lsh

    def _sketch(self, signature: np.ndarray) -> LeanMinHash:
        from datasketch import LeanMinHash

        return LeanMinHash(seed=self.params.seed, hashvalues=signature, scheme=self.params.scheme)

    # -- questions -------------------------------------------------------------------------------
    def __contains__(self, article_id: object) -> bool:
        return article_id in self._signatures

    def __len__(self) -> int:
        return len(self._signatures)

    def ids(self) -> frozenset[str]:
        """Every article added and not removed."""
        return frozenset(self._signatures)

    def group(self, article_id: str) -> str:
        """The id that stands for the group of `article_id`: its smallest member."""
        members = self._members().get(article_id)
        return members[0] if members else article_id

    def copies(self, article_id: str) -> tuple[str, ...]:
        """The other members of the group of `article_id`, in id order."""
        return tuple(m for m in self._members().get(article_id, ()) if m != article_id)

    def groups(self) -> list[tuple[str, ...]]:
        """Every group of two or more articles, members in id order, groups by representative."""
        return sorted(set(self._members().values()))

    def pairs(self) -> list[tuple[str, str, float]]:
        """Every pair found to be copies, `(smaller id, larger id, estimated Jaccard)`, sorted."""
        links = self._links.items()
        return sorted((a, b, s) for a, others in links for b, s in others.items() if a < b)

    def similarity(self, first: str, second: str) -> float:
        """The estimated Jaccard similarity of two added articles (KeyError for another id)."""
        return _agreement(self._signatures[first], self._signatures[second])

    def _members(self) -> dict[str, tuple[str, ...]]:
        if self._groups is None:
            groups: dict[str, tuple[str, ...]] = {}
            for start in self._links:
                if start in groups:
                    continue
                seen, todo = {start}, [start]
                while todo:
                    for other in self._links[todo.pop()]:
                        if other not in seen:
                            seen.add(other)
                            todo.append(other)
                members = tuple(sorted(seen))
                groups.update(dict.fromkeys(members, members))
            self._groups = groups
        return self._groups

    # -- the file --------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write the signatures (not the groups: they follow from them and the threshold) to
        `path`, whole or not at all."""
        ids = sorted(self._signatures)
        signatures = np.zeros((len(ids), self.params.num_perm), dtype=np.uint32)
        for row, article_id in enumerate(ids):
            signatures[row] = self._signatures[article_id]
        buffer = io.BytesIO()
        np.savez(
            buffer,
            params=_json_bytes(asdict(self.params)),
            ids=_json_bytes(ids),
            signatures=signatures,
            eligible=np.array([i in self._eligible for i in ids], dtype=bool),
        )
        write_atomically(path, buffer.getvalue())

    @classmethod
    def load(
        cls, path: Path, threshold: float, params: SignatureParams | None = None
    ) -> CopyFinder | None:
        """The finder saved at `path`, its groups found at `threshold`; None when the file is
        missing, unreadable or made with other `params`: the caller rebuilds it from the texts."""
        params = params or SignatureParams()
        try:
            with np.load(path, allow_pickle=False) as saved:
                if json.loads(saved["params"].tobytes()) != asdict(params):
                    return None
                ids = json.loads(saved["ids"].tobytes())
                signatures, eligible = saved["signatures"], saved["eligible"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None
        if signatures.shape != (len(ids), params.num_perm) or eligible.shape != (len(ids),):
            return None
        finder = cls(threshold, params)
        finder._signatures = dict(zip(ids, signatures, strict=True))
        finder._eligible = {i for i, ok in zip(ids, eligible, strict=True) if ok}
        rows = np.flatnonzero(eligible)
        for a, b, similarity in _banded_pairs(signatures[rows], threshold):
            finder._link(ids[rows[a]], ids[rows[b]], similarity)
        return finder


def _agreement(first: np.ndarray, second: np.ndarray) -> float:
    """The estimated Jaccard similarity: the share of signature positions that agree."""
    return float(np.count_nonzero(first == second)) / len(first)


def _banded_pairs(signatures: np.ndarray, threshold: float) -> list[tuple[int, int, float]]:
    """The rows `(a < b)` whose signatures agree on at least `threshold`, among those that share
    a band: the LSH's candidates (same bands as `lsh_bands`) found for all rows at once."""
    bands, rows = lsh_bands(threshold, signatures.shape[1])
    candidates: set[tuple[int, int]] = set()
    for band in range(bands):
        block = np.ascontiguousarray(signatures[:, band * rows : (band + 1) * rows])
        keys = block.view(np.dtype((np.void, block.dtype.itemsize * rows))).ravel()
        order = np.argsort(keys, kind="stable")
        _, starts, counts = np.unique(keys[order], return_index=True, return_counts=True)
        for start, count in zip(starts[counts > 1], counts[counts > 1], strict=True):
            members = sorted(order[start : start + count].tolist())
            candidates.update(itertools.combinations(members, 2))
    found = []
    for a, b in sorted(candidates):
        similarity = _agreement(signatures[a], signatures[b])
        if similarity >= threshold:
            found.append((a, b, similarity))
    return found


def _json_bytes(value: object) -> np.ndarray:
    return np.frombuffer(json.dumps(value).encode(), dtype=np.uint8)

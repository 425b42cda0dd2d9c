"""The BM25 and wording tokenizer: stemming that is shared by threads (the web page answers
several questions at once) gives the same words as one thread alone."""

from __future__ import annotations

import itertools
import json
import threading
from pathlib import Path

from index import Tokenizer
from index.text import _STOPWORDS as STOPWORDS
from index.text import _WORD as WORD

TEXT = (
    "Leaders were meeting in Madrid while ministers discussed the alliance's strategic concept, "
    "its enlargement, Finland's and Sweden's applications, and the invasions of neighbouring "
    "countries; negotiators compromised on wording, announcing agreements before departing."
)


def test_stems_are_the_same_from_many_threads_at_once():
    words = TEXT.split() * 50
    expected = Tokenizer()(" ".join(w + str(i) for i, w in enumerate(words)))
    shared = Tokenizer()  # a fresh cache, so the stemmer itself runs in every thread
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(shared(" ".join(w + str(i) for i, w in enumerate(words))))
        except BaseException as exc:  # a race shows up as an IndexError inside the stemmer
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 8 and all(r == expected for r in results)


def test_stop_words_go_and_words_are_stemmed():
    assert Tokenizer()("The leaders were meeting in Madrid") == ["leader", "meet", "madrid"]


def test_the_c_stemmer_gives_the_pure_python_snowball_stems(shared_articles: Path) -> None:
    """Stores indexed with the pure-Python snowballstemmer keep matching queries: the C build
    gives the same stem for every distinct word of the first 500 corpus articles (needs the
    shared corpus)."""
    from snowballstemmer.english_stemmer import EnglishStemmer  # the pure-Python reference

    words: set[str] = set()
    with shared_articles.open(encoding="utf-8") as lines:
        for line in itertools.islice(lines, 500):
            words.update(WORD.findall(str(json.loads(line).get("text") or "").lower()))
    words.update(WORD.findall(TEXT.lower()))
    reference = EnglishStemmer()
    tokenizer = Tokenizer()
    different = [
        w
        for w in sorted(words)
        if w not in STOPWORDS and tokenizer(w) != [reference.stemWord(w.replace("’", "'"))]
    ]
    assert len(words) > 20_000
    assert different == []

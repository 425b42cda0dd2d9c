"""The web page as a program uses it: a real `python app.py` in a subprocess, driven through
gradio_client and plain HTTP. Three servers start once for the module: the sample articles
(only asked), the same behind a small upload limit (changed by the upload tests), and an empty
store behind a password. Nothing is faked."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AuthenticationError

from index.store.lock import WriteLock
from tests.helpers import MADRID, ROOT, SAMPLES, free_port, write_lock_held
from tests.web_server import App, Server, app_env

UPLOAD_LIMIT_MB = 0.05
UPLOAD_LOCK_TIMEOUT = 900  # seconds the upload server's syncs wait for another writer
UPLOAD_ENV = {
    "ASSISTANT_WEB__MAX_UPLOAD_MB": str(UPLOAD_LIMIT_MB),
    "ASSISTANT_INDEX__LOCK_TIMEOUT": str(UPLOAD_LOCK_TIMEOUT),
}


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[dict[str, Server]]:
    """The sample articles, the same with a small upload limit, and an empty store behind a
    password; started together so that their model loads overlap."""
    root = tmp_path_factory.mktemp("web")
    started = {}
    try:
        for name, env in (("samples", app_env()), ("uploads", app_env(**UPLOAD_ENV))):
            shutil.copytree(SAMPLES, root / name / "articles")
            articles = str(root / name / "articles")
            started[name] = Server(root / name, "--articles", articles, env=env)
        started["locked"] = Server(root / "locked", "--auth", "reader:s3cret")
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(scope="module")
def app(servers) -> App:
    """The sample articles; the tests only ask (and re-index what they add)."""
    return servers["samples"].ready()


@pytest.fixture(scope="module")
def uploads(servers) -> App:
    """The sample articles and whatever the upload tests add."""
    return servers["uploads"].ready()


@pytest.fixture(scope="module")
def locked(servers) -> App:
    return servers["locked"].ready()


@pytest.fixture(scope="module")
def client(app: App) -> Client:
    return Client(app.url, verbose=False)


@pytest.fixture(scope="module")
def uploader(uploads: App) -> Client:
    return Client(uploads.url, verbose=False)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- answers ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_ask_cites_exact_sentences_of_the_madrid_article(client):
    answer = client.predict(MADRID, api_name="/ask")
    assert answer["answered"] and answer["mode"] == "extractive"
    assert answer["citations"], answer
    source_text = (SAMPLES / "madrid-nato-summit.md").read_text(encoding="utf-8")
    for c in answer["citations"]:
        a, b = c["quote_start"] - c["start"], c["quote_end"] - c["start"]
        assert c["passage"][a:b] == c["quote"]
        assert c["quote"] in source_text
        assert f"[{c['n']}]" in answer["text"]
    assert any("Kishida" in c["quote"] for c in answer["citations"])
    assert set(answer) >= {"question", "text", "citations", "sentences", "standalone_question"}


@pytest.mark.slow
def test_ask_applies_source_and_date_filters(client):
    science = client.predict(MADRID, sources="Sample Science Desk", api_name="/ask")
    assert {c["source"] for c in science["citations"]} <= {"Sample Science Desk"}
    later = client.predict(
        MADRID, "Sample Wire, Sample Science Desk", "2023-01-01", api_name="/ask"
    )
    assert not later["answered"] and later["citations"] == []
    listed = client.predict(MADRID, sources=["Sample Wire"], until="2022-12-31", api_name="/ask")
    assert listed["answered"] and {c["source"] for c in listed["citations"]} == {"Sample Wire"}


@pytest.mark.slow
def test_bad_date_is_a_clear_error_not_a_traceback(client):
    with pytest.raises(Exception, match="YYYY-MM-DD") as caught:
        client.predict(MADRID, since="30/06/2022", api_name="/ask")
    assert "Traceback" not in str(caught.value)


@pytest.mark.slow
def test_the_brief_endpoint_lists_a_periods_stories(client):
    brief = client.predict("2022-06-01", "2022-08-01", api_name="/brief")
    assert brief["since"] == "2022-06-01" and brief["until"] == "2022-08-01"
    assert brief["stories"] and brief["articles"] >= len(brief["stories"])
    madrid = next(s for s in brief["stories"] if "Madrid" in s["headline"])
    assert madrid["lead"]["quote"].startswith("NATO's summit in Madrid ended")
    assert madrid["articles"][0]["published"] == "2022-06-30"
    empty = client.predict("7d", "2023-03-07", api_name="/brief")
    assert empty["stories"] == [] and empty["since"] == "2023-03-01"
    with pytest.raises(Exception, match="not a date"):
        client.predict("soon", api_name="/brief")


def test_index_status_reports_the_samples(client):
    status = client.predict(api_name="/index_status")
    assert status["articles"] == 5
    assert status["chunks"] >= 5
    assert status["mode"] == "extractive" and status["embedding_model"]
    assert "Sample Wire" in status["sources"] and status["last_sync"]


def test_the_status_panel_shows_the_index_not_the_servers_paths():
    from assistant.web import render

    stats = {
        "articles": 5,
        "chunks": 12,
        "embedding_model": "all-MiniLM-L6-v2",
        "mode": "extractive",
        "last_sync": "2026-12-07T10:00:00+00:00",
        "sources": ["Sample Wire"],
        "store": "/srv/news/private-store",
    }
    panel = render.status_html(stats)
    assert "Sample Wire" in panel and "12" in panel
    assert "/srv/news" not in panel


@pytest.mark.slow
def test_page_is_served_without_outside_requests(app):
    page = httpx.get(app.url, timeout=30).text
    assert "News assistant" in page
    assert "fonts.googleapis" not in page


# -- uploads ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_uploaded_article_is_searchable_at_once(uploader, tmp_path):
    path = write(
        tmp_path,
        "penguins.txt",
        "Penguins settle in Oslo harbour\n\nOSLO, May 3 - A colony of king penguins has "
        "settled in Oslo harbour, surprising fishermen. Marine biologists said the penguins "
        "had escaped from a wildlife park in Bergen during a storm.\n",
    )
    report = uploader.predict([handle_file(str(path))], api_name="/upload_articles")
    assert [f["status"] for f in report["files"]] == ["indexed"], report
    assert report["added"] == 1
    answer = uploader.predict("Where did the penguins escape from?", api_name="/ask")
    assert answer["answered"]
    assert any("wildlife park in Bergen" in c["quote"] for c in answer["citations"])
    assert answer["citations"][0]["title"] == "Penguins settle in Oslo harbour"
    # a .txt names no outlet and no date: it gets the form's, "Uploaded" and the upload day
    assert answer["citations"][0]["source"] == "Uploaded"
    assert answer["citations"][0]["published"] == dt.date.today().isoformat()


@pytest.mark.slow
def test_uploads_take_the_outlet_and_date_they_lack_from_the_form(uploader, tmp_path):
    plain = write(
        tmp_path,
        "seals.txt",
        "Seals return to the Oslofjord\n\nOSLO - Harbour seals have returned to the inner "
        "Oslofjord for the first time in decades, counters from the Marine Institute said.\n",
    )
    marked = write(
        tmp_path,
        "kites.md",
        "---\ntitle: Kites over Trondheim\nsource: Fjord Post\npublished: 2022-05-02\n---\n\n"
        "The kite makers of Trondheim flew four hundred kites over the harbour on Sunday.\n",
    )
    report = uploader.predict(
        [handle_file(str(plain)), handle_file(str(marked))],
        "Oslo Courier",
        "2022-05-01",
        api_name="/upload_articles",
    )
    assert [f["status"] for f in report["files"]] == ["indexed", "indexed"], report
    found = {a["title"]: a for a in uploader.predict("", api_name="/articles")}
    seals, kites = found["Seals return to the Oslofjord"], found["Kites over Trondheim"]
    assert (seals["source"], seals["published"]) == ("Oslo Courier", "2022-05-01")
    assert (kites["source"], kites["published"]) == ("Fjord Post", "2022-05-02")  # its own
    assert "Oslo Courier" in uploader.predict(api_name="/index_status")["sources"]
    bad = uploader.predict([handle_file(str(plain))], "X", "May 1st", api_name="/upload_articles")
    assert bad["summary"].startswith("Nothing was indexed: the upload date 'May 1st' is not")
    assert "YYYY-MM-DD" in bad["summary"] and bad.get("added") is None


LIGHTHOUSE = "Lighthouse keepers return\n\n" + " ".join(
    f"On day {i} the keepers of the Utsira lighthouse logged {i * 3} passing ships and "
    f"{i % 5 + 1} storms, and repainted section {i} of the tower in red and white."
    for i in range(60)
)


@pytest.mark.slow
def test_upload_streams_its_phases_and_leaves_no_copy_behind(uploader, uploads, tmp_path):
    path = write(tmp_path, "lighthouse.txt", LIGHTHOUSE)
    job = uploader.submit([handle_file(str(path))], api_name="/upload_articles")
    final = job.result(timeout=300)
    steps = job.outputs()
    phases = [s["phase"] for s in steps]
    assert phases[0] == "reading" and phases[-2:] == ["keyword index", "done"], phases
    assert {"embedding", "writing"} <= set(phases)
    embedded = [s["done"] for s in steps if s["phase"] == "embedding"]
    assert embedded == sorted(embedded) and len(set(embedded)) >= 2, steps
    assert all(s["unit"] == "chunks" for s in steps if s["phase"] in ("embedding", "writing"))
    assert "Embedding chunks" in next(s["summary"] for s in steps if s["phase"] == "embedding")
    assert final == steps[-1] and final["added"] == 1 and final["total"] == 0
    assert final["files"][0]["status"] == "indexed", final
    # the browser's copy went into the store's own incoming folder and is gone now
    incoming = uploads.store / ".incoming"
    assert incoming.is_dir() and not list(incoming.rglob("lighthouse.txt"))
    assert (uploads.store / "uploads" / "lighthouse.txt").read_text(encoding="utf-8") == LIGHTHOUSE


@pytest.mark.slow
def test_no_file_route_serves_uploads_or_the_store(uploads, uploader, tmp_path):
    body = b"Secret memo\n\nThe board of Tromso harbour will meet on Friday at nine.\n"
    sent = httpx.post(
        uploads.url + "gradio_api/upload",
        files=[("files", ("memo.txt", body, "text/plain"))],
        timeout=30,
    )
    sent.raise_for_status()
    received = Path(sent.json()[0])  # received, never handed to the upload handler
    assert (uploads.store / ".incoming").resolve() in received.resolve().parents
    memo = write(tmp_path, "memo-kept.txt", body.decode())
    report = uploader.predict([handle_file(str(memo))], api_name="/upload_articles")
    assert report["files"][0]["status"] == "indexed", report
    kept = uploads.store / "uploads" / "memo-kept.txt"
    targets = [received, kept, uploads.store / "chroma" / "chroma.sqlite3", uploads.log]
    assert all(t.is_file() for t in targets)
    for target in targets:
        spelled = {
            str(target),
            str(target.resolve()),
            quote(str(target)),
            quote(str(target), safe=""),
            os.path.relpath(target, ROOT),  # the server runs in the project folder
            f"{target.parent}/../{target.parent.name}/{target.name}",
        }
        for route in ("gradio_api/file=", "file=", "gradio_api/file%3D"):
            for path in spelled:
                got = httpx.get(uploads.url + route + path, timeout=30)
                assert got.status_code in (403, 404), (route, path, got.status_code)
                assert body not in got.content and b"SQLite" not in got.content


def test_discard_removes_received_copies_and_stale_leftovers_only(tmp_path):
    from assistant.web.uploads import discard

    incoming = tmp_path / "store" / ".incoming"
    taken = write(incoming / "a1", "taken.txt", "x")
    fresh = write(incoming / "b2", "fresh.txt", "y")  # another upload, still in flight
    stale = write(incoming / "c3", "stale.txt", "z")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    os.utime(stale.parent, (old, old))
    outside = write(tmp_path, "outside.txt", "keep me")
    discard([{"path": str(taken)}, str(outside)], incoming)
    assert not taken.exists() and not taken.parent.exists()
    assert fresh.exists() and outside.exists()
    assert not stale.exists()


@pytest.mark.slow
def test_a_re_uploaded_copy_under_another_name_is_not_stored_again(uploader, uploads, tmp_path):
    text = "Ferry timetable\n\nThe Hurtigruten ferry to Svolvaer now leaves at seven on Mondays.\n"
    first = uploader.predict(
        [handle_file(str(write(tmp_path, "ferry.txt", text)))], api_name="/upload_articles"
    )
    assert first["files"][0]["status"] == "indexed" and first["added"] == 1, first
    before = uploader.predict(api_name="/index_status")["articles"]
    copy = write(tmp_path / "other", "ferry (1).txt", text.replace("Mondays", "MONDAYS"))
    second = uploader.predict([handle_file(str(copy))], api_name="/upload_articles")
    entry = second["files"][0]
    assert entry["status"] == "duplicate" and "the same text as" in entry["reason"], second
    assert second["added"] == 0 and "duplicates 1" in second["summary"]
    assert uploader.predict(api_name="/index_status")["articles"] == before
    assert not (uploads.store / "uploads" / "ferry (1).txt").exists()


@pytest.mark.slow
def test_upload_names_cannot_leave_the_uploads_folder(uploads, uploader):
    body = b"Council budget row\n\nThe council of Tromso argued about the snow budget on Monday.\n"
    sent = httpx.post(
        uploads.url + "gradio_api/upload",
        files=[("files", ("../../evil.txt", body, "text/plain"))],
        timeout=30,
    )
    sent.raise_for_status()
    uploaded = sent.json()[0]
    file = {"path": uploaded, "orig_name": "../../evil.txt", "meta": {"_type": "gradio.FileData"}}
    report = uploader.predict([file], api_name="/upload_articles")
    assert report["files"][0]["status"] == "indexed", report
    assert report["files"][0]["saved_as"] == "uploads/evil.txt"
    assert (uploads.store / "uploads" / "evil.txt").read_bytes() == body
    for outside in (uploads.store.parent / "evil.txt", uploads.store.parent.parent / "evil.txt"):
        assert not outside.exists()


@pytest.mark.slow
def test_upload_problems_are_listed_per_file(uploader, uploads, tmp_path):
    wrong_type = write(tmp_path, "notes.docx", "not an article format")
    too_big = write(tmp_path, "huge.txt", "Huge\n\n" + "All work and no play. " * 4000)
    broken = write(tmp_path, "broken.json", '{"title": "Half a record", "text": ')
    fine = write(tmp_path, "fine.md", "# Fine article\n\nA perfectly fine article about kites.\n")
    report = uploader.predict(
        [handle_file(str(p)) for p in (wrong_type, too_big, broken, fine)],
        api_name="/upload_articles",
    )
    by_name = {f["name"]: f for f in report["files"]}
    assert by_name["notes.docx"]["status"] == "rejected"
    assert ".txt" in by_name["notes.docx"]["reason"]
    assert by_name["huge.txt"]["status"] == "rejected"
    assert "MB limit" in by_name["huge.txt"]["reason"]
    assert by_name["broken.json"]["status"] == "failed" and by_name["broken.json"]["reason"]
    assert by_name["fine.md"]["status"] == "indexed"
    kept = sorted(p.name for p in (uploads.store / "uploads").iterdir())
    assert "fine.md" in kept and "broken.json" not in kept and "huge.txt" not in kept


@pytest.mark.slow
def test_an_upload_waits_for_another_writer_and_questions_are_answered_meanwhile(
    uploads, uploader, tmp_path
):
    records = [
        {
            "id": f"bulk-{i}",
            "title": f"Harbour report {i}",
            "text": f"The harbour master of port {i} counted {i * 7} fishing boats on Friday. "
            f"Trawler number {i} carried a crew of {i % 9 + 2}.",
            "source": "Bulk Wire",
            "published": "2022-08-01",
        }
        for i in range(300)
    ]
    bulk = [  # files under the upload limit, indexed by one sync
        write(tmp_path, f"bulk-{n}.jsonl", "".join(json.dumps(r) + "\n" for r in records[n::3]))
        for n in range(3)
    ]
    # Another writer holds the store, as `assistant index` in a second terminal would: the
    # index's own lock, taken by this test's process. The server waits for it up to
    # UPLOAD_LOCK_TIMEOUT, far longer than this block lasts.
    with WriteLock(uploads.store, timeout=5):
        job = uploader.submit([handle_file(str(p)) for p in bulk], api_name="/upload_articles")
        deadline = time.monotonic() + 300
        while not any(s["phase"] == "waiting" for s in job.outputs()):
            assert not job.done() and time.monotonic() < deadline, job.outputs()
            time.sleep(0.1)
        waiting = next(s for s in job.outputs() if s["phase"] == "waiting")
        assert f"process {os.getpid()} (`" in waiting["holder"], waiting
        assert waiting["summary"].startswith(f"Waiting for process {os.getpid()} "), waiting
        for _ in range(2):  # the waiting upload holds up no question
            answer = uploader.predict(MADRID, api_name="/ask")
            assert answer["answered"] and answer["citations"], answer
        assert not job.done() and write_lock_held(uploads.store)
    asked = 0
    while not job.done():  # and none while it indexes (held to the letter by test_concurrency)
        answer = uploader.predict(MADRID, api_name="/ask")
        assert answer["answered"] and answer["citations"], answer
        asked += 1
    final = job.result(timeout=300)
    assert final["added"] == 300 and final["phase"] == "done", final
    phases = [s["phase"] for s in job.outputs()]
    assert phases[0] == "waiting" and phases.index("reading") == 1, phases
    answer = uploader.predict(
        "How many fishing boats did the harbour master of port 119 count?", api_name="/ask"
    )
    assert any(c["article_id"] == "bulk-119" for c in answer["citations"]), answer


@pytest.mark.slow
def test_reindex_syncs_the_article_folders_with_pruning(client, app):
    extra = write(
        app.articles, "kites.txt", "Kite festival\n\nA kite festival drew crowds to Rome.\n"
    )
    added = client.predict(api_name="/reindex")
    assert added["added"] == 1 and added["removed"] == 0 and added["failed"] == 0, added
    extra.unlink()
    pruned = client.predict(api_name="/reindex")
    assert pruned["removed"] == 1, pruned
    answer = client.predict("Where was the kite festival?", api_name="/ask")
    assert "Kite festival" not in {c["title"] for c in answer["citations"]}


def test_safe_name_keeps_only_a_plain_base_name():
    from assistant.web.uploads import safe_name

    assert safe_name("../../evil.txt") == "evil.txt"
    assert safe_name("..\\..\\win.TXT") == "win.txt"
    assert safe_name("/etc/passwd") == "passwd"
    assert safe_name("..") == "upload"
    assert safe_name(".hidden.md") == "hidden.md"
    assert safe_name("a<b>|c?.html") == "a_b_c.html"
    assert safe_name("new\nline\x00.txt") == "newline.txt"


def cite(n: int, article_id: str, passage: str, quote: str, **fields: str):
    """A citation of `quote` inside `passage` (stored at offset 100 of its article)."""
    from assistant.types import Citation

    at = passage.index(quote)
    given = {"title": "Title", "source": "Wire", "url": "", "published": "2022-06-30"}
    given.update(fields)
    return Citation(
        n=n,
        article_id=article_id,
        passage=passage,
        start=100,
        end=100 + len(passage),
        quote=quote,
        quote_start=100 + at,
        quote_end=100 + at + len(quote),
        score=0.5,
        **given,
    )


def test_rendering_escapes_article_markup_and_links_only_http():
    from assistant.web.render import article_card, chat_text, safe_url

    assert safe_url("javascript:alert(1)") is None
    assert safe_url("  JavaScript:alert(1)") is None
    assert safe_url("data:text/html,<script>alert(1)</script>") is None
    assert safe_url("https://example.org/?a=1&b=<x>") == "https://example.org/?a=1&amp;b=&lt;x&gt;"
    passage = 'Before <img src=x onerror="alert(1)"> the quoted sentence. After.'
    card = article_card(
        [
            cite(
                1,
                "a",
                passage,
                "the quoted sentence.",
                title="<script>alert(1)</script>",
                source="<b>Wire</b>",
                url="javascript:alert(1)",
            )
        ]
    )
    assert "<script>" not in card and "<img" not in card and "<b>" not in card
    assert re.findall(r'href="([^"]+)"', card) == ["#na-reader"]  # its own reader only
    assert "&lt;script&gt;" in card
    assert "<mark>the quoted sentence.</mark>" in card
    assert "<" not in chat_text("<img src=x onerror=alert(1)>") and "\\*" in chat_text("*a*")
    linkless = chat_text("See https://evil.example/x, www.evil.example or a@evil.example.")
    assert "://" not in linkless and "www." not in linkless and "@" not in linkless
    assert chat_text("At 10:30. Time: now") == "At 10:30. Time: now"


def test_sources_are_one_card_per_article_in_plain_text_linking_only_the_article():
    from assistant.types import Answer
    from assistant.web.render import answer_markdown, sources_html

    first = "# Summit opens\n\nLeaders met in **Madrid** on Tuesday. See [the plan](https://evil.example/x)."
    second = "Kishida said _Japan_ would attend. More at https://other.example/y today."
    citations = (
        cite(
            1,
            "madrid",
            first,
            "Leaders met in **Madrid** on Tuesday.",
            url="https://news.example/m",
        ),
        cite(
            2, "other", "Sweden and Finland applied to join.", "Sweden and Finland applied to join."
        ),
        cite(
            3,
            "madrid",
            first,
            "See [the plan](https://evil.example/x).",
            url="https://news.example/m",
        ),
    )
    answer = Answer("Who met?", "Leaders met.", citations, (), "extractive")
    html = sources_html(answer)
    assert html.count('class="na-card"') == 2
    assert "2 articles, 3 passages" in html and "2 articles, 3 passages" in answer_markdown(answer)
    madrid = html[html.index('id="na-article-1"') : html.index('id="na-article-2"')]
    assert 'id="na-source-1"' in madrid and 'id="na-source-3"' in madrid
    assert "<mark>Leaders met in Madrid on Tuesday.</mark>" in madrid
    assert "<mark>See the plan.</mark>" in madrid
    assert "# " not in html and "**" not in html and "evil.example" not in html
    outside = [h for h in re.findall(r'href="([^"]+)"', html) if not h.startswith("#")]
    assert outside == ["https://news.example/m"]
    assert re.findall(r'data-article="([^"]+)"', html) == ["madrid", "other"]  # whole articles
    alone = sources_html(Answer("q", "t", citations[1:2], (), "extractive"))
    assert "1 article, 1 passage" in alone and "http" not in alone
    plain = sources_html(Answer("q", "t", (cite(1, "k", second, second),), (), "extractive"))
    assert (
        "<mark>Kishida said Japan would attend." in plain
        and "<a" not in plain.split("na-passage")[1].split("na-card-foot")[0]
    )


def test_the_bubble_says_what_is_done_before_the_first_words():
    from assistant.web.render import streaming_markdown

    assert streaming_markdown("") == '<span class="na-working">Reading the articles …</span> ▍'
    assert streaming_markdown("Leaders met <b>") == "Leaders met &lt;b&gt; ▍"


def test_citation_markers_lead_to_their_own_answers_passages():
    from assistant.types import Answer, AnswerSentence
    from assistant.web.render import answer_key, answer_markdown, sources_html

    citations = (
        cite(1, "a", "Leaders met in Madrid.", "Leaders met in Madrid."),
        cite(2, "b", "Japan attended.", "Japan attended."),
    )
    sentences = (
        AnswerSentence("Leaders met in Madrid.", (1,), True, 0.9),
        AnswerSentence("Japan attended.", (2,), True, 0.9),
    )
    first = Answer(
        "Who met?", "Leaders met in Madrid. Japan attended.", citations, sentences, "extractive"
    )
    later = Answer("Who met again?", first.text, citations, sentences, "extractive")
    key = answer_key(first)
    assert key != answer_key(later)  # two answers' markers never lead to each other's panel
    text = answer_markdown(first)
    assert re.findall(r'class="na-cite" href="#na-cite-(\w+)-(\d)"', text) == [
        (key, "1"),
        (key, "2"),
    ]
    panel = sources_html(first)
    assert f'data-key="{key}"' in panel
    assert 'id="na-source-1"' in panel and 'id="na-source-2"' in panel


def test_a_whole_article_marks_the_sentences_cited_from_it_and_escapes_the_rest():
    from assistant.library import LibraryEntry
    from assistant.types import Citation
    from assistant.web.render import article_html

    text = (
        "# Summit <script>alert(1)</script>\n\nLeaders met in **Madrid** on Tuesday. "
        "Japan attended because of Ukraine. Talks ended late."
    )

    def quoted(n: int, quote: str, article_id: str = "m") -> Citation:
        at = text.index(quote)
        return Citation(
            n, article_id, "T", "Wire", "", "", text, 0, len(text), quote, at, at + len(quote), 0.5
        )

    entry = LibraryEntry("m", "Summit <b>opens</b>", "Wire", "2022-06-30", "javascript:alert(1)", 2)
    shown = article_html(
        entry,
        text,
        [
            quoted(2, "Japan attended because of Ukraine."),
            quoted(1, "Leaders met in **Madrid** on Tuesday."),
            quoted(3, "Talks ended late.", article_id="other"),  # another article's: not here
        ],
    )
    assert '<mark id="na-read-1">Leaders met in Madrid on Tuesday.</mark>' in shown
    assert '<mark id="na-read-2">Japan attended because of Ukraine.</mark>' in shown
    assert shown.count("<mark") == 2 and "Talks ended late." in shown
    assert "Cited in the latest answer as [1], [2]." in shown
    assert "<script>" not in shown and "<b>" not in shown and "href" not in shown
    assert "2 chunks" in shown and "30 Jun 2022" in shown
    unmarked = article_html(entry, text, [])
    assert "<mark" not in unmarked and "Cited in" not in unmarked


def test_a_conversation_exports_as_markdown_with_numbered_sources():
    from assistant.types import Answer, AnswerSentence
    from assistant.web.render import conversation_markdown

    madrid = cite(
        1,
        "m",
        "Leaders met in **Madrid** on Tuesday.",
        "Leaders met in **Madrid** on Tuesday.",
        title="Summit <i>opens</i>",
        source="Wire",
        url="https://news.example/m",
    )
    undated = cite(
        2,
        "u",
        "Japan attended.",
        "Japan attended.",
        source="",
        published="",
        url="javascript:alert(1)",
    )
    answered = Answer(
        "Who  met?",
        "Leaders met in Madrid on Tuesday. Japan attended.",
        (madrid, undated),
        (
            AnswerSentence("Leaders met in Madrid on Tuesday.", (1,), True, 0.9),
            AnswerSentence("Japan attended.", (2,), True, 0.8),
            AnswerSentence("Nobody else came.", (), False, 0.1),
        ),
        "llm",
        model="m1",
        seconds=0.42,
    )
    declined = Answer("Price of bitcoin?", "", (madrid,), (), "extractive", answered=False)
    text = conversation_markdown([answered, None, declined], "2026-12-07")
    assert text.startswith("# News assistant: conversation of 2026-12-07\n\n## Who met?\n")
    assert "Leaders met in Madrid on Tuesday. [1] Japan attended. [2] ~~Nobody else came.~~" in text
    assert "*written by m1 · 0.4 s*" in text
    title = "1. **Summit &lt;i&gt;opens&lt;/i&gt;** — Wire, 30 Jun 2022. <https://news.example/m>\n"
    assert title in text  # markup shown as text
    assert "   > Leaders met in Madrid on Tuesday.\n" in text
    assert "2. **Title**\n   > Japan attended." in text  # no outlet, date or unsafe link
    assert "javascript" not in text
    assert "## Price of bitcoin?\n\nThe indexed articles don't answer this." in text
    assert text.count("## ") == 2  # the refused question (None) is not exported
    assert "No questions" in conversation_markdown([None], "2026-12-07")


def test_a_kept_conversation_is_given_back_to_its_own_user_only(tmp_path, embedder):
    from assistant import Assistant, Settings
    from assistant.web.app import WebApp
    from index import ArticleIndex

    index = ArticleIndex.open(tmp_path / "store", embedder=embedder)
    assert index.sync([SAMPLES]).failed == 0
    app = WebApp(Assistant(index, Settings(store=tmp_path / "store")))
    answer = app.assistant.ask(MADRID)
    kept = app.remember([answer, None], {"bob": []}, "ann")["saved"]
    kept = json.loads(json.dumps(kept))  # as the browser keeps it
    assert app.restore(kept, "bob") == {} and app.restore(kept, "") == {}
    mine = app.restore(kept, "ann")
    assert [m["role"] for m in mine["chatbot"]] == ["user", "assistant"]
    assert mine["answers"] == [answer]  # the same answer, citations and all
    assert mine["conversation"].history[0].standalone == answer.standalone_question
    assert 'data-key="' in mine["sources"] and MADRID in mine["sources"]
    kept["ann"].insert(0, {"question": "an entry edited by hand"})
    assert app.restore(kept, "ann")["answers"] == [answer]  # what is not an answer is left out
    assert app.restore("not a dict", "ann") == {}
    assert "ann" not in app.remember([], kept, "ann")["saved"]  # New chat forgets it
    assert app.browser_storage() == app.browser_storage()  # the same after a restart
    assert (tmp_path / "store" / "web-secret").stat().st_mode & 0o077 == 0


# -- start-up and access ----------------------------------------------------------------------
def test_refuses_to_bind_beyond_loopback_without_a_password(tmp_path):
    began = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "app.py"),
            "--host",
            "0.0.0.0",
            "--store",
            str(tmp_path / "store"),
        ],
        cwd=ROOT,
        env=app_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2  # a usage error, as the README says
    assert "--auth" in done.stderr and "--insecure-no-auth" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) == 1
    assert time.monotonic() - began < 30
    assert not (tmp_path / "store").exists()


@pytest.mark.slow
def test_unusable_store_and_folders_end_in_one_line(tmp_path):
    (tmp_path / "store" / "chroma").mkdir(parents=True)
    (tmp_path / "store" / "chroma" / "chroma.sqlite3").write_bytes(b"this is not sqlite" * 64)
    cases = {
        "corrupt": ["--store", str(tmp_path / "store"), "--port", str(free_port())],
        "nowhere": ["--store", str(tmp_path / "new"), "--articles", str(tmp_path / "nowhere")],
    }
    procs = {
        name: subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), *args],
            cwd=ROOT,
            env=app_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, args in cases.items()
    }
    for name, proc in procs.items():
        _, stderr = proc.communicate(timeout=90)
        assert proc.returncode == 1, stderr
        assert stderr.startswith("error: ") and "Traceback" not in stderr
        assert len(stderr.strip().splitlines()) == 1
        assert name != "nowhere" or "nowhere" in stderr


@pytest.mark.slow
def test_password_protects_the_page_and_the_api(locked):
    assert httpx.get(locked.url + "config", timeout=30).status_code == 401
    call = httpx.post(locked.url + "gradio_api/call/ask", json={"data": [MADRID]}, timeout=30)
    assert call.status_code == 401
    with pytest.raises(AuthenticationError):
        Client(locked.url, verbose=False)
    with pytest.raises(ValueError, match="Could not login"):
        Client(locked.url, auth=("reader", "wrong"), verbose=False)
    signed_in = Client(locked.url, auth=("reader", "s3cret"), verbose=False)
    status = signed_in.predict(api_name="/index_status")
    assert status["articles"] == 0 and status["mode"] == "extractive"
    # a Sign out link, and signing out ends the session
    with httpx.Client(base_url=locked.url, timeout=30) as browser:
        login = browser.post("login", data={"username": "reader", "password": "s3cret"})
        assert login.status_code == 200
        config = browser.get("config")
        assert config.status_code == 200 and '"/logout"' in config.text
        browser.get("logout")
        assert browser.get("config").status_code == 401
    log = locked.log.read_text()
    assert "password required" in log and "reader" in log


def test_handlers_are_wired_to_the_page_parts_by_name():
    import gradio as gr

    from assistant.web.page import named

    ui = SimpleNamespace(box="box", chat="chat", panel="panel", note="note")

    def handler(box: str, chat: list[str]) -> dict[str, object]:
        return {"panel": f"{box} after {len(chat)}", "chat": [*chat, box]}

    wired = named(ui, handler, ("box", "chat"), ("chat", "panel", "note"))
    assert wired["inputs"] == ["box", "chat"] and wired["outputs"] == ["chat", "panel", "note"]
    assert wired["fn"]("hi", ["a"]) == (["a", "hi"], "hi after 1", gr.skip())

    def streaming(box: str):
        yield {"note": "searching"}
        yield {"note": "", "panel": box}

    wired = named(ui, streaming, ("box",), ("panel", "note"))
    assert list(wired["fn"]("x")) == [(gr.skip(), "searching"), ("x", "")]
    single = named(ui, lambda: {"note": "n", "panel": "not shown"}, (), ("note",))
    assert single["fn"]() == "n"
    with pytest.raises(AttributeError):
        named(ui, handler, ("box", "missing"), ("chat",))

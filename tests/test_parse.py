"""Reading article files: discovery, every format, field aliases, ids, dates and every error kind.

All inputs are real files written into `tmp_path`; PDFs are built byte by byte below so the
test needs no PDF writer. The shared RealTime QA corpus must load with no errors.
"""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path

import pytest

from index.sources.fields import content_hash as hash_of
from index.sources.fields import iso_date
from index.sources.files import SUPPORTED_EXTENSIONS, content_hash, discover, parse_file
from index.types import Article, ArticleInfo, FileError

MB = 1024 * 1024
LIMIT = 20 * MB
BODY = (
    "The harbour bridge reopened to traffic on Sunday morning after eight months of repairs "
    "to its steel deck, the city council said. Engineers replaced more than four hundred "
    "rivets and repainted the main span."
)


@pytest.fixture
def permissions_enforced(tmp_path: Path) -> None:
    """Skip unless this user can be refused a file (root, for one, reads everything)."""
    probe = write(tmp_path / ".probe", "x")
    probe.chmod(0)
    try:
        probe.read_bytes()
    except PermissionError:
        return
    finally:
        probe.unlink()
    pytest.skip("this user reads files whatever their permissions, so none can be refused")


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def parse(
    path: Path, root: Path | None = None, max_bytes: int = LIMIT
) -> list[Article | FileError]:
    return list(parse_file(path, root or path.parent, max_bytes))


def articles(items: list[Article | FileError]) -> list[Article]:
    return [i for i in items if isinstance(i, Article)]


def errors(items: list[Article | FileError]) -> list[FileError]:
    return [i for i in items if isinstance(i, FileError)]


def only_article(path: Path, root: Path | None = None) -> Article:
    items = parse(path, root)
    assert errors(items) == []
    [article] = articles(items)
    return article


def only_error(path: Path, max_bytes: int = LIMIT) -> FileError:
    items = parse(path, max_bytes=max_bytes)
    assert articles(items) == []
    [error] = errors(items)
    assert error.path == str(path)
    return error


def pdf_bytes(pages: list[list[str]], info: dict[str, str] | None = None) -> bytes:
    """A minimal valid PDF: one Helvetica text line per string, one page per list."""
    first_page = 4
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, lines in enumerate(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
            f"<< /Font << /F1 3 0 R >> >> /Contents {first_page + 2 * i + 1} 0 R >>".encode()
        )
        shown = "".join(f"({line}) Tj T* " for line in lines)
        stream = f"BT /F1 12 Tf 14 TL 72 720 Td {shown}ET".encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    if info:
        objects.append(("<< " + " ".join(f"/{k} ({v})" for k, v in info.items()) + " >>").encode())
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    info_ref = f" /Info {len(objects)} 0 R" if info else ""
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info_ref} >>\n".encode()
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


# ---- discover ----------------------------------------------------------------------------------


def test_supported_extensions_are_the_documented_set() -> None:
    assert {".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".pdf"} == set(
        SUPPORTED_EXTENSIONS
    )


def test_discover_walks_folders_sorted_and_skips_hidden_entries(tmp_path: Path) -> None:
    root = tmp_path / "news"
    for name in [
        "b.txt",
        "a/z.md",
        "a/c.json",
        "A.HTML",
        ".hidden/x.txt",
        ".draft.txt",
        "a/.x.bin",
    ]:
        write(root / name, "Title\n\ntext")
    files, errs = discover([root])
    assert errs == []
    assert files == [
        (root, root / "A.HTML"),
        (root, root / "a/c.json"),
        (root, root / "a/z.md"),
        (root, root / "b.txt"),
    ]
    assert discover([str(root)]) == (files, errs)


def test_discover_uses_the_parent_as_root_of_a_file_given_directly(tmp_path: Path) -> None:
    path = write(tmp_path / "sub" / "one.txt", "Title\ntext")
    assert discover([path]) == ([(tmp_path / "sub", path)], [])


def test_discover_lists_a_file_reached_twice_once(tmp_path: Path) -> None:
    path = write(tmp_path / "one.txt", "Title\ntext")
    files, errs = discover([tmp_path, path])
    assert (files, errs) == ([(tmp_path, path)], [])


def test_discover_reports_missing_paths_and_unsupported_files(tmp_path: Path) -> None:
    write(tmp_path / "news" / "ok.txt", "Title\ntext")
    photo = write(tmp_path / "news" / "photo.jpg", b"\xff\xd8")
    readme = write(tmp_path / "news" / "README", "notes")
    direct = write(tmp_path / "table.csv", "a,b")
    missing = tmp_path / "nowhere"
    files, errs = discover([tmp_path / "news", direct, missing])
    assert files == [(tmp_path / "news", tmp_path / "news" / "ok.txt")]
    reasons = {e.path: e.reason for e in errs}
    assert set(reasons) == {str(readme), str(photo), str(direct), str(missing)}
    assert "unsupported file type '.jpg'" in reasons[str(photo)]
    assert ".jsonl" in reasons[str(photo)]  # says what is supported
    assert "without an extension" in reasons[str(readme)]
    assert "does not exist" in reasons[str(missing)]


def test_discover_does_not_follow_links_that_leave_the_root(tmp_path: Path) -> None:
    root = tmp_path / "news"
    inside = write(root / "real" / "a.txt", "Title\ntext")
    outside = write(tmp_path / "private" / "secret.txt", "Secret\ntext")
    (root / "escape.txt").symlink_to(outside)
    (root / "escape_dir").symlink_to(tmp_path / "private", target_is_directory=True)
    (root / "alias.txt").symlink_to(inside)  # same file as real/a.txt
    (root / "real" / "loop").symlink_to(root, target_is_directory=True)
    (root / "dangling.txt").symlink_to(root / "gone.txt")
    files, errs = discover([root])
    assert files == [(root, root / "alias.txt")]
    reasons = {Path(e.path).name: e.reason for e in errs}
    assert set(reasons) == {"escape.txt", "escape_dir", "dangling.txt"}
    assert "outside the folder" in reasons["escape.txt"]
    assert "not followed" in reasons["escape_dir"]
    assert "broken symbolic link" in reasons["dangling.txt"]


def test_pipes_and_link_loops_are_reported_not_read(tmp_path: Path) -> None:
    root = tmp_path / "news"
    root.mkdir()
    os.mkfifo(root / "pipe.txt")  # opening it to read would block forever
    (root / "a.md").symlink_to(root / "b.md")
    (root / "b.md").symlink_to(root / "a.md")
    files, errs = discover([root, root / "pipe.txt"])
    assert files == []
    assert sorted((Path(e.path).name, e.reason.split(";")[0]) for e in errs) == [
        ("a.md", "is a loop of symbolic links"),
        ("b.md", "is a loop of symbolic links"),
        ("pipe.txt", "is not a regular file (a pipe, socket, device or folder)"),
        ("pipe.txt", "is not a regular file (a pipe, socket, device or folder)"),
    ]
    assert "not a regular file" in only_error(root / "pipe.txt").reason


@pytest.mark.usefixtures("permissions_enforced")
def test_discover_reports_unreadable_files_and_folders(tmp_path: Path) -> None:
    locked_file = write(tmp_path / "locked.txt", "Title\ntext")
    locked_dir = tmp_path / "locked_dir"
    write(locked_dir / "a.txt", "Title\ntext")
    locked_file.chmod(0)
    locked_dir.chmod(0)
    try:
        files, errs = discover([tmp_path])
    finally:
        locked_dir.chmod(0o755)
    assert files == []
    assert {(e.path, "permission denied" in e.reason) for e in errs} == {
        (str(locked_dir), True),
        (str(locked_file), True),
    }


# ---- plain text and Markdown -------------------------------------------------------------------


def test_txt_first_line_is_title_and_text_follows(tmp_path: Path) -> None:
    path = write(
        tmp_path / "world" / "bridge.txt",
        f"\n\n  Bridge reopens  \r\n\r\n\r\n{BODY}\r\nSecond line.\n",
    )
    article = only_article(path, root=tmp_path)
    assert article.title == "Bridge reopens"
    assert article.text == f"{BODY}\nSecond line."
    assert article.id == "world/bridge.txt"
    assert article.path == str(path.resolve())
    assert (article.source, article.url, article.published, article.author) == ("", "", "", "")
    assert article.content_hash == content_hash(article)


def test_text_is_normalised_only_in_line_ends_and_control_characters(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "Title\nOne\rTwo\r\nThree\x07\x1b[0m\tTab  \x0c\n\n  indented")
    assert only_article(path).text == "One\nTwo\nThree[0m\tTab  \n\n  indented"


def test_control_characters_are_dropped_next_to_any_unicode() -> None:
    from index.sources.fields import normalise_text

    text = "\x01Zürich \U0001f600 naïve\x1f — 東京\x00\ud83d end\r\n\x0b"
    assert normalise_text(text) == "Zürich \U0001f600 naïve — 東京\ud83d end"
    assert normalise_text(" \t plain ascii \n") == "plain ascii"


def test_txt_with_only_a_title_is_an_error(tmp_path: Path) -> None:
    error = only_error(write(tmp_path / "a.txt", "Just a title\n\n"))
    assert "no text after it" in error.reason


def test_markdown_front_matter_supplies_metadata(tmp_path: Path) -> None:
    path = write(
        tmp_path / "a.md",
        '---\ntitle: "Bridge: reopened"\ndate: June 12, 2022\nsource: Coastal Times\n'
        "url: https://coastal.example/bridge\nauthor: [Ana Lopez, Ben Ode]\ntags:\n  - x\n---\n"
        f"# A heading that stays\n\n{BODY}\n",
    )
    article = only_article(path)
    assert article.title == "Bridge: reopened"
    assert article.published == "2022-06-12"
    assert article.source == "Coastal Times"
    assert article.url == article.id == "https://coastal.example/bridge"
    assert article.author == "Ana Lopez, Ben Ode"
    assert article.text == f"# A heading that stays\n\n{BODY}"


def test_markdown_title_is_the_first_heading_which_leaves_the_text(tmp_path: Path) -> None:
    path = write(tmp_path / "a.markdown", f"Intro line.\n\n# Bridge reopens #\n\n{BODY}\n")
    article = only_article(path)
    assert article.title == "Bridge reopens"
    assert article.text == f"Intro line.\n\n\n{BODY}"
    assert article.id == "a.markdown"


def test_markdown_without_heading_takes_the_first_line_as_title(tmp_path: Path) -> None:
    path = write(tmp_path / "a.md", f"---\nnot closed\n\n{BODY}\n")
    article = only_article(path)
    assert article.title == "---"  # an unclosed '---' is a rule, not front matter
    assert article.text.startswith("---\nnot closed")


# ---- HTML and PDF ------------------------------------------------------------------------------

PAGE = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Bridge reopens | The Coastal Times</title>
<meta property="og:title" content="Bridge reopens after repairs">
<meta property="og:site_name" content="The Coastal Times">
<meta property="og:url" content="https://coastal.example/2022/06/12/bridge">
<meta name="author" content="Ana Lopez">
<meta property="article:published_time" content="2022-06-12T08:30:00+02:00">
<script>var tracking = "SCRIPT_MARKER";</script></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/sport">MENU_MARKER</a></li></ul></nav>
<div class="ad">ADVERT_MARKER buy now</div>
<article><h1>Bridge reopens after repairs</h1><p>{BODY}</p>
<p>Commuters welcomed the reopening. "It used to take me forty minutes," said one cyclist.</p>
</article><footer>FOOTER_MARKER</footer></body></html>"""


def test_html_keeps_the_article_and_its_metadata_not_the_page_chrome(tmp_path: Path) -> None:
    article = only_article(write(tmp_path / "bridge.html", PAGE))
    assert article.title == "Bridge reopens after repairs"
    assert article.source == "The Coastal Times"
    assert article.url == article.id == "https://coastal.example/2022/06/12/bridge"
    assert article.published == "2022-06-12"
    assert article.author == "Ana Lopez"
    assert BODY in article.text and "forty minutes" in article.text
    for marker in ["SCRIPT_MARKER", "MENU_MARKER", "ADVERT_MARKER", "FOOTER_MARKER"]:
        assert marker not in article.text


def test_html_without_article_text_is_an_error(tmp_path: Path) -> None:
    page = (
        "<html><head><title>Coastal Times</title></head><body><header><ul>"
        "<li><a href='/'>Home</a></li><li><a href='/sport'>Sport</a></li></ul></header>"
        "<div class='ad'>Buy now</div><footer>Copyright 2022 Coastal Times.</footer></body></html>"
    )
    error = only_error(write(tmp_path / "index.htm", page))
    assert "no article text in the HTML (only" in error.reason


def test_pdf_joins_pages_and_takes_title_from_metadata(tmp_path: Path) -> None:
    data = pdf_bytes(
        [["Bridge reopens", "First page text."], ["Second page text."]],
        info={"Title": "Harbour bridge", "Author": "Ana Lopez"},
    )
    article = only_article(write(tmp_path / "a.pdf", data))
    assert article.title == "Harbour bridge"
    assert article.author == "Ana Lopez"
    assert article.text == "Bridge reopens\nFirst page text.\n\nSecond page text."


def test_pdf_without_title_metadata_takes_the_first_line(tmp_path: Path) -> None:
    data = pdf_bytes([["Bridge reopens", "Text."]], info={"Title": "Microsoft Word - draft3.docx"})
    article = only_article(write(tmp_path / "a.pdf", data))
    assert article.title == "Bridge reopens"
    assert article.text == "Bridge reopens\nText."


def test_pdf_without_text_or_damaged_is_an_error(tmp_path: Path) -> None:
    scanned = only_error(write(tmp_path / "scan.pdf", pdf_bytes([[]])))
    assert "no extractable text" in scanned.reason and "OCR" in scanned.reason
    damaged = only_error(write(tmp_path / "bad.pdf", b"%PDF-1.4\nthis is not a pdf body\n"))
    assert "PDF cannot be read" in damaged.reason


# ---- JSON and JSON Lines -----------------------------------------------------------------------


def test_json_object_with_aliases(tmp_path: Path) -> None:
    record = {
        "doc_id": 42,
        "headline": "Bridge reopens",
        "body": BODY,
        "link": "https://coastal.example/bridge",
        "outlet": "Coastal Times",
        "publish_date": "Sun, 12 Jun 2022 10:00:00 GMT",
        "authors": ["Ana Lopez", "Ben Ode"],
    }
    article = only_article(write(tmp_path / "a.json", json.dumps(record)))
    assert article == Article(
        ArticleInfo(
            id="42",
            title="Bridge reopens",
            source="Coastal Times",
            url="https://coastal.example/bridge",
            published="2022-06-12",
            author="Ana Lopez, Ben Ode",
            path=str((tmp_path / "a.json").resolve()),
            content_hash=article.content_hash,
        ),
        BODY,
    )


def test_json_list_numbers_records_and_reports_bad_ones(tmp_path: Path) -> None:
    records = [
        {"title": "One", "text": "first"},
        "not an object",
        {"title": "No text", "text": "   "},
        {"title": "Four", "content": "fourth", "url": "https://x.example/4"},
        {"title": "Five", "text": ["a", "list"]},
    ]
    path = write(tmp_path / "feed" / "many.json", json.dumps(records))
    items = parse(path, root=tmp_path)
    assert [(a.id, a.text) for a in articles(items)] == [
        ("feed/many.json#1", "first"),
        ("https://x.example/4", "fourth"),
    ]
    errs = errors(items)
    assert [e.line for e in errs] == [None, None, None]
    assert "record 2 of the list is a string, not an object" in errs[0].reason
    assert errs[1].reason.startswith("record 3 of the list: record has no text")
    assert "record 5 of the list: field 'text' is an array, expected a string" in errs[2].reason


def test_json_wrapping_the_articles_in_an_object_says_how_to_fix(tmp_path: Path) -> None:
    error = only_error(write(tmp_path / "a.json", json.dumps({"articles": [{"text": "x"}]})))
    assert "field 'articles' holds a list of objects" in error.reason


def test_jsonl_reads_good_lines_around_bad_ones(tmp_path: Path) -> None:
    lines = [
        json.dumps({"title": "One", "text": "first"}),
        "",
        '{"title": "Broken", "text": "no closing brace"',
        json.dumps({"id": "own-id", "title": "Three", "text": "third"}),
        "[1, 2]",
        json.dumps({"title": "No text"}),
        json.dumps({"title": "", "text": 7}),
        "   ",
        json.dumps({"headline": "Eight", "body": "eighth", "authors": [{"name": "Ana"}, "Ben"]}),
    ]
    path = write(tmp_path / "a.jsonl", "\n".join(lines) + "\n")
    items = parse(path)
    assert [(a.id, a.title) for a in articles(items)] == [
        ("a.jsonl#1", "One"),
        ("own-id", "Three"),
        ("a.jsonl#9", "Eight"),
    ]
    errs = errors(items)
    assert [(e.path, e.line) for e in errs] == [
        (str(path), 3),
        (str(path), 5),
        (str(path), 6),
        (str(path), 7),
    ]
    assert errs[0].reason.startswith("malformed JSON at column 47: Expecting ',' delimiter")
    assert "holds an array, not an object" in errs[1].reason
    assert "record has no text" in errs[2].reason
    assert "field 'text' is a number, expected a string" in errs[3].reason
    assert str(errs[0]).startswith(f"{path}:3: ")
    assert articles(items)[2].author == "Ana, Ben"


def test_jsonl_memory_stays_bounded_by_a_line(tmp_path: Path) -> None:
    line = json.dumps({"title": "T", "text": "word " * 40}) + "\n"
    path = write(tmp_path / "big.jsonl", line * 15_000)  # about 3.4 MB
    tracemalloc.start()
    try:
        count = sum(1 for item in parse_file(path, tmp_path, LIMIT) if isinstance(item, Article))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 15_000
    assert peak < 2 * MB, f"peak {peak:,} bytes: the file was held in memory"


def test_pretty_printed_json_named_jsonl_is_one_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path / "a.jsonl", json.dumps({"title": "T", "text": "x"}, indent=2))
    error = only_error(path)
    assert error.line == 1 and "name the file .json" in error.reason


# ---- file-level errors -------------------------------------------------------------------------


def test_file_over_the_size_limit_names_size_limit_and_setting(tmp_path: Path) -> None:
    error = only_error(write(tmp_path / "a.txt", "Title\n" + "x" * 5000), max_bytes=1000)
    assert "5,006 bytes" in error.reason and "1,000 bytes" in error.reason
    assert "ASSISTANT_INDEX__MAX_FILE_MB" in error.reason
    big = only_error(write(tmp_path / "b.json", b"{}" * MB), max_bytes=MB)
    assert "file is 2.0 MB, over the limit of 1.0 MB" in big.reason
    # A .jsonl file may be any size: the limit applies to each of its records.
    line = only_error(write(tmp_path / "c.jsonl", b"{}" * MB), max_bytes=MB)
    assert line.line == 1 and "record is over the limit of 1 MB" in line.reason


@pytest.mark.parametrize("ext", [".txt", ".md", ".html", ".json", ".jsonl", ".pdf"])
def test_empty_files_are_errors(tmp_path: Path, ext: str) -> None:
    assert "file is empty (0 bytes)" in only_error(write(tmp_path / f"a{ext}", b"")).reason
    if ext != ".pdf":
        blank = only_error(write(tmp_path / f"b{ext}", " \n\t\r\n"))
        assert "file is empty (only whitespace)" in blank.reason


@pytest.mark.parametrize("ext", [".txt", ".md", ".html", ".json", ".jsonl"])
def test_binary_files_are_refused_before_decoding(tmp_path: Path, ext: str) -> None:
    error = only_error(write(tmp_path / f"a{ext}", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
    assert "looks binary (it contains NUL bytes)" in error.reason
    utf16 = only_error(write(tmp_path / f"b{ext}", "Title\ntext".encode("utf-16")))
    assert "UTF-16" in utf16.reason


def test_text_that_is_not_utf8_names_the_first_bad_byte(tmp_path: Path) -> None:
    error = only_error(write(tmp_path / "a.txt", "Caf\xe9 opens\ntext".encode("latin-1")))
    assert (error.line, "byte 0xe9 at byte offset 3" in error.reason) == (1, True)
    assert "convert the file to UTF-8" in error.reason
    with_bom = only_error(write(tmp_path / "b.md", b"\xef\xbb\xbfTitle\nna\xefve"))
    assert (with_bom.line, "byte 0xef at byte offset 11" in with_bom.reason) == (2, True)


def test_utf8_with_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", b"\xef\xbb\xbfTitle\nText")
    assert only_article(path).title == "Title"
    line = json.dumps({"title": "T", "text": "x"}).encode()
    jsonl = write(tmp_path / "a.jsonl", b"\xef\xbb\xbf" + line + b"\n" + line[:-1] + b"\xff}\n")
    items = parse(jsonl)
    assert len(articles(items)) == 1
    [error] = errors(items)
    offset = 3 + len(line) + 1 + len(line) - 1
    assert (error.line, f"byte 0xff at byte offset {offset}" in error.reason) == (2, True)


def test_malformed_json_gives_line_and_column(tmp_path: Path) -> None:
    error = only_error(write(tmp_path / "a.json", '[\n  {"title": "x",\n   "text": }\n]'))
    assert error.line == 3
    assert error.reason.startswith("malformed JSON at line 3, column 12: Expecting value")
    lines = only_error(write(tmp_path / "b.json", '{"text": "a"}\n{"text": "b"}\n'))
    assert "name it .jsonl" in lines.reason


def test_unreadable_and_unsupported_paths_are_errors_not_exceptions(tmp_path: Path) -> None:
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    assert "is not a regular file" in only_error(folder).reason
    assert "unsupported file type '.csv'" in only_error(write(tmp_path / "a.csv", "a,b")).reason
    gone = tmp_path / "gone.txt"
    assert "No such file" in only_error(gone).reason


@pytest.mark.usefixtures("permissions_enforced")
def test_permission_denied_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "Title\ntext")
    path.chmod(0)
    assert "permission denied" in only_error(path).reason


# ---- titles, ids, dates, hashes ----------------------------------------------------------------


def test_empty_title_falls_back_to_the_first_line_cut_at_a_word(tmp_path: Path) -> None:
    first = "Officials said on Sunday that the harbour bridge " * 4
    path = write(tmp_path / "a.json", json.dumps({"title": " ", "text": f"{first}\nMore."}))
    title = only_article(path).title
    assert title.endswith("…") and len(title) <= 121
    assert first.startswith(title[:-1]) and first[len(title) - 1] == " "


def test_empty_title_comes_from_the_urls_words_before_the_first_line(tmp_path: Path) -> None:
    url = "https://www.cnn.com/2022/06/12/media/squid-game-season-2/index.html#:~:text=a"
    text = "New York CNN —\n\n“Squid Game” is officially coming back."
    lines = [
        {"url": url, "title": "", "text": text},
        {"url": "https://news.example/story/2022/06/12/jan-6-hearings/7601234001/", "text": text},
        {"url": "https://news.example/gallery/diwali-2022.html", "text": text},
        {"url": "https://news.example/2022/06/12/index.html", "text": text},  # no words
        {"url": "https://news.example/a1b2-c3d4", "text": text},  # an id, not words
        {"url": url, "title": "Netflix renews its hit", "text": text},
    ]
    path = write(tmp_path / "a.jsonl", "\n".join(json.dumps(line) for line in lines))
    articles = [a for a in parse_file(path, tmp_path, LIMIT) if isinstance(a, Article)]
    assert [a.title for a in articles] == [
        "Squid game season 2",
        "Jan 6 hearings",
        "Diwali 2022",
        "New York CNN —",
        "New York CNN —",
        "Netflix renews its hit",
    ]


def test_ids_prefer_own_id_then_url_then_relative_path(tmp_path: Path) -> None:
    root = tmp_path / "root"
    single = write(root / "sub" / "one.json", json.dumps({"text": "x"}))
    assert only_article(single, root).id == "sub/one.json"
    by_url = write(
        root / "two.json", json.dumps({"id": "", "url": "https://a.example/2", "text": "x"})
    )
    assert only_article(by_url, root).id == "https://a.example/2"
    by_id = write(
        root / "three.json", json.dumps({"id": 3, "url": "https://a.example/3", "text": "x"})
    )
    assert only_article(by_id, root).id == "3"
    bad_id = write(root / "four.json", json.dumps({"id": {"a": 1}, "text": "x"}))
    assert "field 'id' is an object" in only_error(bad_id).reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-06-12", "2022-06-12"),
        ("2022-06-12T23:30:00-04:00", "2022-06-12"),  # the date as written, not moved to UTC
        ("2022-06-12 08:00:00", "2022-06-12"),
        ("2022/6/2", "2022-06-02"),
        ("June 12, 2022", "2022-06-12"),
        ("Jun 2 2022 10:30 AM", "2022-06-02"),
        ("Sunday, June 12th, 2022", "2022-06-12"),
        ("12 June 2022", "2022-06-12"),
        ("12 Sept. 2022", "2022-09-12"),
        ("Sun, 12 Jun 2022 10:00:00 +0000", "2022-06-12"),
        (1655028000, "2022-06-12"),
        (1655028000.5, "2022-06-12"),
        ("1655028000", "2022-06-12"),
        ("20220612", "2022-06-12"),
        (1655028000000, "2022-06-12"),  # milliseconds
        ("", ""),
        ("yesterday", ""),
        ("2022-02-30", ""),
        ("13 Foo 2022", ""),
        ("2022", ""),  # a year, not 1970-01-01
        (0, ""),
        (None, ""),
        (True, ""),
        ({"date": "2022-06-12"}, ""),
        (10**30, ""),
    ],
)
def test_published_dates_become_iso_or_empty(value: object, expected: str) -> None:
    assert iso_date(value) == expected


def test_unparseable_date_is_not_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "a.json", json.dumps({"text": "x", "date": "sometime soon"}))
    assert only_article(path).published == ""


def test_content_hash_covers_the_citable_fields_but_not_the_path(tmp_path: Path) -> None:
    one = only_article(write(tmp_path / "a" / "x.json", json.dumps({"id": "1", "text": "Same."})))
    moved = only_article(write(tmp_path / "b" / "x.json", json.dumps({"id": "1", "text": "Same."})))
    edited = only_article(
        write(tmp_path / "c" / "x.json", json.dumps({"id": "1", "text": "Other."}))
    )
    assert one.path != moved.path and one.content_hash == moved.content_hash
    assert one.content_hash != edited.content_hash
    assert len(one.content_hash) == 64 and one.content_hash == hash_of(one)


@pytest.mark.shared
def test_shared_realtimeqa_corpus_loads_without_errors(shared_articles: Path) -> None:
    # The corpus is ~36 MB, over the default 20 MB limit; indexing it needs a higher limit.
    items = list(parse_file(shared_articles, shared_articles.parent, 64 * MB))
    assert errors(items) == []
    loaded = articles(items)
    assert len(loaded) == 3786
    assert len({a.id for a in loaded}) == 3786
    assert all(a.title and a.text and a.source and a.published for a in loaded)
    with shared_articles.open(encoding="utf-8") as f:
        first = json.loads(f.readline())
    assert (loaded[0].id, loaded[0].text) == (first["id"], first["text"].strip())
    assert loaded[0].title == "Squid game season 2"  # its own title is empty: the URL's words


# -- fields files: the outlet and date an uploaded file lacks ---------------------------------
def test_a_fields_file_gives_what_the_file_lacks_and_never_overrides_it(tmp_path):
    from index import read_fields_file, write_fields_file

    plain = tmp_path / "seals.txt"
    plain.write_text("Seals return\n\nHarbour seals have returned to the fjord.\n")
    marked = tmp_path / "kites.md"
    marked.write_text("---\ntitle: Kites\nsource: Fjord Post\n---\n\nKites flew on Sunday.\n")
    for path in (plain, marked):
        write_fields_file(path, "Oslo Courier", "2022-05-01")
    assert (tmp_path / ".seals.txt.fields.json").exists()  # hidden: never read as an article
    assert [p.name for _, p in discover([tmp_path])[0]] == ["kites.md", "seals.txt"]
    seals, kites = only_article(plain), only_article(marked)
    assert (seals.source, seals.published) == ("Oslo Courier", "2022-05-01")
    assert (kites.source, kites.published) == ("Fjord Post", "2022-05-01")  # its own outlet
    assert read_fields_file(plain) == {"source": "Oslo Courier", "published": "2022-05-01"}
    write_fields_file(plain, "", "")  # nothing to give: the file goes
    assert read_fields_file(plain) == {} and only_article(plain).source == ""


def test_a_broken_fields_file_is_an_error_naming_it(tmp_path):
    plain = tmp_path / "seals.txt"
    plain.write_text("Seals return\n\nHarbour seals have returned to the fjord.\n")
    (tmp_path / ".seals.txt.fields.json").write_text("{not json")
    [error] = parse(plain)
    assert isinstance(error, FileError)
    assert error.path.endswith(".seals.txt.fields.json") and "not JSON" in error.reason


def test_an_edited_fields_file_updates_the_article_at_the_next_sync(tmp_path, open_index):
    from index import write_fields_file

    folder = tmp_path / "uploads"
    folder.mkdir()
    plain = folder / "seals.txt"
    plain.write_text("Seals return\n\nHarbour seals have returned to the fjord.\n")
    write_fields_file(plain, "Uploaded", "2022-05-01")
    index = open_index()
    assert index.sync([folder]).added == 1
    write_fields_file(plain, "Oslo Courier", "2022-05-03")  # the text is unchanged
    report = index.sync([folder])
    assert report.updated == 1 and report.added == 0
    [record] = index.records().values()
    assert (record.source, record.published[:10]) == ("Oslo Courier", "2022-05-03")

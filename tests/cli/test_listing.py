"""list and search: mongofiles' two columns, --long, --json."""

from __future__ import annotations

import hashlib

from bson import ObjectId, json_util

from .conftest import Cli


def _put(cli: Cli, name: str, data: bytes, *extra: str) -> None:
    cli.ok("put", name, "-l", "-", *extra, input=data)


def test_list_prints_name_and_length_by_name_then_age(cli: Cli) -> None:
    _put(cli, "b.txt", b"bb")
    _put(cli, "a.txt", b"a")
    _put(cli, "b.txt", b"bbbb")
    assert cli.ok("list").stdout == b"a.txt\t1\nb.txt\t2\nb.txt\t4\n"


def test_list_prefix_is_taken_literally(cli: Cli) -> None:
    _put(cli, "a.b/one", b"1")
    _put(cli, "axb/two", b"2")
    _put(cli, "(x)*", b"3")
    assert cli.ok("list", "a.b").stdout == b"a.b/one\t1\n"
    assert cli.ok("list", "(x)").stdout == b"(x)*\t1\n"
    assert cli.ok("list", "zzz").stdout == b""  # an empty listing is not a miss


def test_list_long_shows_id_date_type_and_sha256(cli: Cli) -> None:
    _put(cli, "page.html", b"<p>hi</p>", "--type", "text/html")
    (line,) = cli.ok("list", "--long").stdout.decode().splitlines()
    file_id, length, date, kind, sha, name = line.split("\t")
    doc = cli.db["fs.files"].find_one()
    assert doc is not None
    assert ObjectId(file_id) == doc["_id"]
    assert length == "9"
    assert date == doc["uploadDate"].isoformat(sep=" ", timespec="milliseconds")
    assert kind == "text/html"
    assert sha == hashlib.sha256(b"<p>hi</p>").hexdigest()
    assert name == "page.html"


def test_list_json_is_one_extended_json_object_per_file(cli: Cli) -> None:
    _put(cli, "one.txt", b"1", "-t", "text/plain")
    _put(cli, "two.txt", b"22")
    rows = [json_util.loads(line) for line in cli.ok("list", "--json").stdout.splitlines()]
    docs = {d["_id"]: d for d in cli.db["fs.files"].find()}
    assert [r["filename"] for r in rows] == ["one.txt", "two.txt"]
    for row in rows:
        doc = docs[row["_id"]]
        assert row["length"] == doc["length"]
        assert row["chunkSize"] == doc["chunkSize"]
        assert row["uploadDate"].replace(tzinfo=None) == doc["uploadDate"]
        assert row["sha256"] == doc["gridfield"]["sha256"]
    assert rows[0]["contentType"] == "text/plain"


def test_search_matches_a_regular_expression_with_options(cli: Cli) -> None:
    _put(cli, "Report-2024.pdf", b"1")
    _put(cli, "report-2025.pdf", b"2")
    _put(cli, "notes.txt", b"3")
    assert cli.ok("search", r"^report-\d+").stdout == b"report-2025.pdf\t1\n"
    found = cli.ok("search", r"^report-\d+", "--regex-options", "i").stdout
    assert found == b"Report-2024.pdf\t1\nreport-2025.pdf\t1\n"


def test_search_with_no_match_fails(cli: Cli) -> None:
    _put(cli, "notes.txt", b"3")
    assert cli.fails("search", "^zz") == "Error: no file name matches '^zz'"


def test_the_bucket_options_before_or_after_the_command(cli: Cli) -> None:
    cli.ok("put", "a.txt", "-l", "-", "--prefix", "photos", input=b"a")
    assert cli.db["photos.files"].count_documents({}) == 1
    assert cli.ok("list").stdout == b""
    assert cli.ok("--prefix", "photos", "list").stdout == b"a.txt\t1\n"
    # after the command wins over before it, as the nearest says
    assert cli.ok("--prefix", "fs", "list", "--prefix", "photos").stdout == b"a.txt\t1\n"

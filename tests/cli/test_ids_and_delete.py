"""put_id, get_id, delete_id, get_regex and delete: ids as mongofiles reads them."""

from __future__ import annotations

from bson import ObjectId

from .conftest import Cli, stray_chunks


def test_put_id_with_a_string_and_with_extended_json(cli: Cli) -> None:
    cli.ok("put_id", "a.txt", "my-id", "-l", "-", input=b"a")
    cli.ok("put_id", "b.txt", '{"$numberLong": "42"}', "-l", "-", input=b"b")
    ids = {d["filename"]: d["_id"] for d in cli.db["fs.files"].find()}
    assert ids == {"a.txt": "my-id", "b.txt": 42}
    assert cli.ok("get_id", "my-id", "-l", "-").stdout == b"a"
    assert cli.ok("get_id", '{"$numberLong": "42"}', "-l", "-").stdout == b"b"


def test_put_id_of_a_taken_id_fails_and_keeps_the_first(cli: Cli) -> None:
    cli.ok("put_id", "a.txt", "same", "-l", "-", input=b"first")
    line = cli.fails("put_id", "b.txt", "same", "-l", "-", input=b"second" * 100_000)
    assert line == "Error: file 'same' already has chunks in fs.chunks"
    assert cli.ok("get_id", "same", "-l", "-").stdout == b"first"
    assert stray_chunks(cli.db) == []


def test_get_id_takes_an_objectid_as_listings_show_it(cli: Cli) -> None:
    cli.ok("put", "a.txt", "-l", "-", input=b"hello")
    (line,) = cli.ok("list", "--long").stdout.decode().splitlines()
    shown = line.split("\t")[0]
    cli.ok("get_id", shown)
    assert (cli.cwd / "a.txt").read_bytes() == b"hello"
    assert cli.ok("get_id", f'{{"$oid": "{shown}"}}', "-l", "-").stdout == b"hello"


def test_get_id_and_delete_id_of_a_missing_id_fail(cli: Cli) -> None:
    missing = str(ObjectId())
    assert cli.fails("get_id", missing) == f"Error: no file with id '{missing}'"
    assert cli.fails("delete_id", missing) == f"Error: no file with id '{missing}'"
    assert cli.fails("get_id", "{bad").startswith("Error: cannot read the id '{bad'")
    assert list(cli.cwd.iterdir()) == []


def test_delete_id_removes_one_file_and_its_chunks(cli: Cli) -> None:
    cli.ok("put_id", "a.txt", "one", "-l", "-", input=b"a" * 300_000)
    cli.ok("put_id", "a.txt", "two", "-l", "-", input=b"b")
    cli.ok("delete_id", "one")
    assert cli.db["fs.files"].distinct("_id") == ["two"]
    assert cli.db["fs.chunks"].distinct("files_id") == ["two"]


def test_delete_removes_every_revision_and_their_chunks(cli: Cli) -> None:
    for _ in range(3):
        cli.ok("put", "a.txt", "-l", "-", input=b"a" * 300_000)
    cli.ok("put", "keep.txt", "-l", "-", input=b"k")
    done = cli.ok("delete", "a.txt")
    assert done.stderr.decode().splitlines()[-1] == "deleted 3 files named a.txt"
    assert cli.db["fs.files"].distinct("filename") == ["keep.txt"]
    assert cli.db["fs.chunks"].count_documents({}) == 1
    assert cli.fails("delete", "a.txt") == "Error: no file named 'a.txt' in fs.files"


def test_get_regex_fetches_the_newest_revision_of_each_match(cli: Cli) -> None:
    cli.ok("put", "a.log", "-l", "-", input=b"old")
    cli.ok("put", "a.log", "-l", "-", input=b"new")
    cli.ok("put", "b.log", "-l", "-", input=b"b")
    cli.ok("put", "c.txt", "-l", "-", input=b"c")
    cli.ok("get_regex", r"\.log$")
    assert sorted(p.name for p in cli.cwd.iterdir()) == ["a.log", "b.log"]
    assert (cli.cwd / "a.log").read_bytes() == b"new"
    assert cli.fails("get_regex", "^zz") == "Error: no file name matches '^zz'"


def test_get_regex_refuses_names_leading_outside_the_folder(cli: Cli) -> None:
    cli.ok("put", "../escape.txt", "-l", "-", input=b"x")
    line = cli.fails("get_regex", "escape")
    assert line == (
        "Error: '../escape.txt' lies outside the current folder"
        " (add --allow-unsafe-traversal to write it there)"
    )
    assert not (cli.cwd.parent / "escape.txt").exists()


def test_get_id_refuses_a_stored_name_leading_outside_the_folder(cli: Cli) -> None:
    cli.ok("put_id", "../escape.txt", "away", "-l", "-", input=b"x")
    line = cli.fails("get_id", "away")
    assert (
        line == "Error: '../escape.txt' lies outside the current folder (give --local to write it)"
    )
    assert not (cli.cwd.parent / "escape.txt").exists()
    cli.ok("get_id", "away", "--local", "here.txt")
    assert (cli.cwd / "here.txt").read_bytes() == b"x"

"""put and get through the console script: names, revisions, stdin and stdout, safety."""

from __future__ import annotations

import hashlib
import os
import subprocess
from datetime import timedelta

from .conftest import COMMAND_TIMEOUT, Cli, clean_env, stray_chunks


def test_put_then_get_round_trips_a_file_with_what_mongofiles_stores(cli: Cli) -> None:
    data = os.urandom(600_000)
    (cli.cwd / "report.csv").write_bytes(data)
    done = cli.ok("put", "report.csv", "--type", "text/csv")
    assert b"added report.csv (600000 bytes" in done.stderr
    doc = cli.db["fs.files"].find_one({"filename": "report.csv"})
    assert doc is not None
    assert doc["length"] == 600_000
    assert doc["metadata"]["contentType"] == "text/csv"  # where mongofiles --type puts it
    assert doc["gridfield"]["sha256"] == hashlib.sha256(data).hexdigest()
    (cli.cwd / "report.csv").unlink()
    cli.ok("get", "report.csv")
    assert (cli.cwd / "report.csv").read_bytes() == data


def test_put_of_several_files_and_of_a_folder(cli: Cli) -> None:
    (cli.cwd / "a.txt").write_bytes(b"a")
    (cli.cwd / "b.txt").write_bytes(b"bb")
    tree = cli.cwd / "photos" / "2024"
    tree.mkdir(parents=True)
    (tree / "x.jpg").write_bytes(b"\xff\xd8\xff" + b"x" * 10)
    (cli.cwd / "photos" / "y.png").write_bytes(b"yy")
    cli.ok("put", "a.txt", "b.txt")
    cli.ok("put", "--recursive", "photos")
    names = sorted(cli.db["fs.files"].distinct("filename"))
    assert names == ["a.txt", "b.txt", "photos/2024/x.jpg", "photos/y.png"]
    got = cli.ok("cat", "photos/2024/x.jpg")
    assert got.stdout == b"\xff\xd8\xff" + b"x" * 10


def test_put_of_a_folder_without_recursive_stores_nothing(cli: Cli) -> None:
    (cli.cwd / "a.txt").write_bytes(b"a")
    (cli.cwd / "folder").mkdir()
    line = cli.fails("put", "a.txt", "folder")
    assert line == "Error: 'folder' is a folder: add --recursive to put what it holds"
    assert cli.db["fs.files"].count_documents({}) == 0


def test_put_of_a_missing_local_file_stores_nothing(cli: Cli) -> None:
    (cli.cwd / "a.txt").write_bytes(b"a")
    line = cli.fails("put", "a.txt", "missing.txt")
    assert line == "Error: cannot read 'missing.txt': No such file or directory"
    assert cli.db["fs.files"].count_documents({}) == 0


def test_stdin_and_stdout_with_dash(cli: Cli) -> None:
    data = os.urandom(700_000)
    cli.ok("put", "from-stdin.bin", "--local", "-", input=data)
    assert cli.ok("get", "from-stdin.bin", "-l", "-").stdout == data
    assert cli.ok("cat", "from-stdin.bin").stdout == data
    assert list(cli.cwd.iterdir()) == []


def test_get_picks_the_newest_revision_and_others_on_request(cli: Cli) -> None:
    for text in (b"first", b"second", b"third"):
        cli.ok("put", "notes.txt", "-l", "-", input=text)
    assert cli.ok("cat", "notes.txt").stdout == b"third"
    assert cli.ok("cat", "notes.txt", "--revision", "0").stdout == b"first"
    assert cli.ok("cat", "notes.txt", "--revision", "-2").stdout == b"second"
    line = cli.fails("cat", "notes.txt", "--revision", "5")
    assert line == "Error: no revision 5 of the file named 'notes.txt' in fs.files"


def test_put_replace_removes_the_older_revisions_after_the_new_one_is_in(cli: Cli) -> None:
    for text in (b"one", b"two"):
        cli.ok("put", "notes.txt", "-l", "-", input=text)
    done = cli.ok("put", "notes.txt", "-l", "-", "--replace", input=b"three")
    assert b"2 older removed" in done.stderr
    assert cli.db["fs.files"].count_documents({"filename": "notes.txt"}) == 1
    assert cli.ok("cat", "notes.txt").stdout == b"three"
    assert stray_chunks(cli.db) == []
    assert cli.db["fs.chunks"].count_documents({}) == 1


def test_get_of_a_missing_name_fails_clearly_and_writes_nothing(cli: Cli) -> None:
    line = cli.fails("get", "nowhere.txt")
    assert line == "Error: no file named 'nowhere.txt' in fs.files"
    assert list(cli.cwd.iterdir()) == []


def test_get_of_several_names_checks_them_all_first(cli: Cli) -> None:
    cli.ok("put", "here.txt", "-l", "-", input=b"here")
    line = cli.fails("get", "here.txt", "nowhere.txt")
    assert line == "Error: no file named 'nowhere.txt' in fs.files"
    assert list(cli.cwd.iterdir()) == []


def test_get_keeps_an_existing_local_file_unless_told(cli: Cli) -> None:
    cli.ok("put", "notes.txt", "-l", "-", input=b"stored")
    (cli.cwd / "notes.txt").write_bytes(b"local")
    line = cli.fails("get", "notes.txt")
    assert line == "Error: 'notes.txt' exists already (add --overwrite-local to replace it)"
    assert (cli.cwd / "notes.txt").read_bytes() == b"local"
    cli.ok("get", "notes.txt", "--overwrite-local")
    assert (cli.cwd / "notes.txt").read_bytes() == b"stored"
    assert sorted(p.name for p in cli.cwd.iterdir()) == ["notes.txt"]  # no temporary left


def test_get_with_sha256_writes_only_a_matching_file(cli: Cli) -> None:
    cli.ok("put", "notes.txt", "-l", "-", input=b"stored")
    wrong = "0" * 64
    line = cli.fails("get", "notes.txt", "--sha256", wrong)
    right = hashlib.sha256(b"stored").hexdigest()
    assert line == f"Error: 'notes.txt': SHA-256 is {right}, expected {wrong}"
    assert list(cli.cwd.iterdir()) == []
    cli.ok("get", "notes.txt", "--sha256", right.upper())
    assert (cli.cwd / "notes.txt").read_bytes() == b"stored"


def test_a_damaged_file_fails_the_get_and_leaves_nothing(cli: Cli) -> None:
    data = os.urandom(300_000)  # two chunks
    cli.ok("put", "two.bin", "-l", "-", input=data)
    cli.db["fs.chunks"].delete_one({"n": 1})
    line = cli.fails("get", "two.bin")
    assert line.startswith("Error: file ") and "chunk 1 is missing" in line
    assert list(cli.cwd.iterdir()) == []


def test_get_into_a_missing_folder_fails_before_fetching(cli: Cli) -> None:
    cli.ok("put", "notes.txt", "-l", "-", input=b"stored")
    line = cli.fails("get", "notes.txt", "-l", "no/such/notes.txt")
    assert line == "Error: cannot write 'no/such/notes.txt': folder 'no/such' does not exist"
    assert list(cli.cwd.iterdir()) == []


def test_cat_into_a_reader_that_leaves_early_is_quiet(cli: Cli) -> None:
    """`gridfield cat big | head -c 5`: the pipe closes under us; no error line, exit 141."""
    cli.ok("put", "big.bin", "--local", "-", input=bytes(range(256)) * 40_000)
    cat = subprocess.Popen(
        cli.args("cat", "big.bin"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cli.cwd,
        env=clean_env(),
    )
    assert cat.stdout is not None
    assert cat.stdout.read(5) == bytes(range(5))
    cat.stdout.close()  # the reader leaves, as `head` does
    _, err = cat.communicate(timeout=COMMAND_TIMEOUT)
    assert cat.returncode == 141, err
    assert err == b"", err


def test_put_with_expire_after_stores_the_expiry(cli: Cli) -> None:
    (cli.cwd / "export.csv").write_bytes(b"a,b\n")
    cli.ok("put", "export.csv", "--expire-after", "1h")
    doc = cli.db["fs.files"].find_one({"filename": "export.csv"})
    assert doc is not None
    assert doc["gridfield"]["expireAt"] - doc["uploadDate"] == timedelta(hours=1)
    refused = cli.run("put", "export.csv", "--expire-after", "soon")
    assert refused.returncode == 2  # a usage error, as click reports them
    assert b"'soon' is not a duration like 30s, 90m, 1h" in refused.stderr
    assert cli.db["fs.files"].count_documents({}) == 1

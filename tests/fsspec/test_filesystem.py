"""The gridfs filesystems point by point, each test on both (the async one through its sync
methods), on the real server."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fsspec.callbacks import Callback
from pymongo import MongoClient

import fsspec
from gridfield.core.errors import ContentTypeRefused, FileTooLarge
from gridfield.fsspec import AsyncGridFSFileSystem, GridFSFileSystem
from tests.conftest import fresh_db_name
from tests.fsspec.chunk_counter import ChunkCounter
from tests.fsspec.conftest import close_fs, make_fs

CHUNK = 255 * 1024  # the store's default chunk size


def stored_counts(fs: Any, mongo_uri: str) -> tuple[int, int]:
    """How many files documents and chunks the filesystem's bucket holds, asked directly."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        db = client[fs.files.store.db.name]
        return db["fs.files"].count_documents({}), db["fs.chunks"].count_documents({})
    finally:
        client.close()


class Recorder(Callback):  # type: ignore[misc]
    """An fsspec callback keeping what it was told."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []
        self.values: list[int] = []

    def set_size(self, size: int) -> None:
        self.sizes.append(size)
        super().set_size(size)

    def absolute_update(self, value: int) -> None:
        self.values.append(value)
        super().absolute_update(value)


# -- the protocol, the URL and the storage options ------------------------------------------


def test_the_protocol_is_registered_and_urls_hold_the_name(mongo_uri: str) -> None:
    name = fresh_db_name()
    options = {"uri": mongo_uri, "database": name}
    assert fsspec.get_filesystem_class("gridfs") is GridFSFileSystem
    with fsspec.open("gridfs://reports/2024/a.txt", "wb", **options) as f:
        f.write(b"first")
    fs = fsspec.filesystem("gridfs", **options)
    try:
        assert isinstance(fs, GridFSFileSystem)
        assert fs.cat_file("reports/2024/a.txt") == b"first"
        assert fs.cat_file("gridfs://reports/2024/a.txt") == b"first"
        assert fs.unstrip_protocol("reports/2024/a.txt") == "gridfs://reports/2024/a.txt"
        with fsspec.open("gridfs://reports/2024/a.txt", "rb", **options) as f:
            assert f.read() == b"first"
        # The database may come from the URI's path instead.
        from_uri = fsspec.filesystem(
            "gridfs", uri=mongo_uri.rstrip("/") + "/" + name, skip_instance_cache=True
        )
        assert from_uri.cat_file("reports/2024/a.txt") == b"first"
        other_bucket = fsspec.filesystem(
            "gridfs", bucket="other", skip_instance_cache=True, **options
        )
        assert not other_bucket.exists("reports/2024/a.txt")
    finally:
        close_fs(fs)


def test_missing_connection_options_are_refused(mongo_uri: str) -> None:
    with pytest.raises(ValueError, match="uri="):
        GridFSFileSystem(skip_instance_cache=True)
    with pytest.raises(ValueError, match="uri="):
        AsyncGridFSFileSystem(skip_instance_cache=True)
    with pytest.raises(ValueError, match="name the database"):
        GridFSFileSystem(uri=mongo_uri, skip_instance_cache=True)


def test_without_fsspec_the_import_names_the_extra() -> None:
    program = """
import importlib.abc, sys
class NoFsspec(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "fsspec":
            raise ImportError(f"{name} is not installed")
        return None
sys.meta_path.insert(0, NoFsspec())
import gridfield, gridfield.sync
try:
    import gridfield.fsspec
except ImportError as exc:
    print(exc)
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert 'pip install "gridfield[fsspec]"' in done.stdout


# -- listing --------------------------------------------------------------------------------


def test_folders_are_name_prefixes(gridfs: Any) -> None:
    gridfs.pipe({"a/b.txt": b"12", "a/c/d.txt": b"345", "top.txt": b"", "a/c/e/f.txt": b"6"})
    assert gridfs.ls("", detail=False) == ["a", "top.txt"]
    assert gridfs.ls("a", detail=False) == ["a/b.txt", "a/c"]
    assert gridfs.ls("a/b.txt", detail=False) == ["a/b.txt"]
    entry = gridfs.info("a/c/d.txt")
    assert (entry["type"], entry["size"], entry["name"]) == ("file", 3, "a/c/d.txt")
    assert gridfs.info("a/c") == {"name": "a/c", "size": 0, "type": "directory"}
    assert gridfs.isdir("a") and gridfs.isdir("a/c/") and gridfs.isdir("")
    assert gridfs.isfile("top.txt") and not gridfs.isfile("a")
    assert gridfs.exists("a/c/e") and not gridfs.exists("a/x") and not gridfs.exists("a/b")
    assert gridfs.find("a") == ["a/b.txt", "a/c/d.txt", "a/c/e/f.txt"]
    assert gridfs.find("a", maxdepth=1) == ["a/b.txt"]
    assert gridfs.find("a", withdirs=True) == [
        "a", "a/b.txt", "a/c", "a/c/d.txt", "a/c/e", "a/c/e/f.txt",
    ]  # fmt: skip
    assert gridfs.find("top.txt") == ["top.txt"]
    assert gridfs.find("nowhere") == []
    assert gridfs.glob("a/*/*.txt") == ["a/c/d.txt"]
    assert gridfs.glob("a/**/*.txt") == ["a/b.txt", "a/c/d.txt", "a/c/e/f.txt"]
    walked = list(gridfs.walk("a"))
    assert walked[0] == ("a", ["c"], ["b.txt"])
    assert ("a/c", ["e"], ["d.txt"]) in walked
    assert gridfs.du("a") == 6 and gridfs.du("") == 6
    assert gridfs.size("a/c/d.txt") == 3
    assert gridfs.sizes(["a/b.txt", "top.txt"]) == [2, 0]
    with pytest.raises(FileNotFoundError, match="nope"):
        gridfs.info("nope")
    with pytest.raises(FileNotFoundError):
        gridfs.ls("nope")
    assert gridfs.ls("") != [] and gridfs.ls("", detail=True)[0]["type"] == "directory"


def test_listings_show_the_newest_revision(gridfs: Any) -> None:
    gridfs.pipe_file("r.txt", b"old")
    gridfs.pipe_file("r.txt", b"newer")
    assert gridfs.ls("", detail=True)[0]["size"] == 5
    assert gridfs.find("", detail=True)["r.txt"]["size"] == 5
    assert gridfs.du("") == 5


def test_bad_paths_raise_fsspecs_usual_errors(gridfs: Any, mongo_uri: str) -> None:
    gridfs.pipe_file("d/f.txt", b"x")
    for bad in ("d/../f.txt", "../x", "./x", "a//b"):
        with pytest.raises(ValueError, match="segment"):
            gridfs.cat_file(bad)
        with pytest.raises(ValueError, match="segment"):
            gridfs.pipe_file(bad, b"y")
    with pytest.raises(ValueError, match="NUL"):
        gridfs.pipe_file("a\x00b", b"y")
    with pytest.raises(IsADirectoryError, match="top"):
        gridfs.cat_file("")
    with pytest.raises(IsADirectoryError, match="top"):
        gridfs.pipe_file("", b"y")
    with pytest.raises(IsADirectoryError, match="'d' is a folder"):
        gridfs.cat_file("d")
    with pytest.raises(IsADirectoryError, match="'d' is a folder"):
        gridfs.open("d", "rb")
    with pytest.raises(IsADirectoryError, match="recursive=True"):
        gridfs.rm_file("d")
    with pytest.raises(FileNotFoundError, match=r"'missing\.txt'"):
        gridfs.cat_file("missing.txt")
    with pytest.raises(FileNotFoundError):
        gridfs.rm_file("missing.txt")
    with pytest.raises(ValueError, match="revision"):
        gridfs.cat_file("d/f.txt?revision=last")
    with pytest.raises(ValueError, match="cannot name a revision"):
        gridfs.pipe_file("d/f.txt?revision=0", b"y")
    assert stored_counts(gridfs, mongo_uri) == (1, 1)  # nothing partial from any refusal


# -- reading --------------------------------------------------------------------------------


def test_cat_file_ranges_fetch_only_their_chunks(gridfs: Any, chunks: ChunkCounter) -> None:
    data = bytes(range(256)) * (10 * CHUNK // 256)  # ten chunks
    gridfs.pipe_file("big.bin", data)
    chunks.clear()
    assert gridfs.cat_file("big.bin", CHUNK + 5, 2 * CHUNK + 10) == data[CHUNK + 5 : 2 * CHUNK + 10]
    assert sorted(chunks.fetched) == [1, 2]
    chunks.clear()
    assert gridfs.cat_file("big.bin", -10) == data[-10:]
    assert chunks.fetched == [9]
    chunks.clear()
    assert gridfs.cat_file("big.bin", 3, -CHUNK * 9) == data[3:CHUNK]
    assert chunks.fetched == [0]
    assert gridfs.cat_file("big.bin", 5, 5) == b""
    assert gridfs.cat_file("big.bin") == data
    chunks.clear()
    got = gridfs.cat_ranges(["big.bin", "big.bin"], [0, 7 * CHUNK], [10, 7 * CHUNK + 3])
    assert got == [data[:10], data[7 * CHUNK : 7 * CHUNK + 3]]
    assert sorted(chunks.fetched) == [0, 7]


def test_open_rb_is_seekable_and_takes_fsspec_caches(gridfs: Any, chunks: ChunkCounter) -> None:
    data = hashlib.sha256(b"seed").digest() * (8 * CHUNK // 32 + 7)
    gridfs.pipe_file("s.bin", data)
    for cache_type in ("none", "readahead", "bytes", "blockcache", "first", "all"):
        with gridfs.open("s.bin", "rb", cache_type=cache_type, block_size=CHUNK) as f:
            assert f.seekable() and f.size == len(data)
            f.seek(3 * CHUNK + 1)
            assert f.read(10) == data[3 * CHUNK + 1 : 3 * CHUNK + 11]
            f.seek(-5, 2)
            assert f.read() == data[-5:]
            f.seek(0)
            assert f.read() == data, cache_type
    # A sequential read is one chunk cursor, however small the reads.
    chunks.clear()
    with gridfs.open("s.bin", "rb", block_size=CHUNK) as f:
        pieces = iter(lambda: f.read(1000), b"")
        assert b"".join(pieces) == data
    assert chunks.queries == 1
    assert sorted(set(chunks.fetched)) == list(range(9))
    # A random read fetches only the chunks it touches.
    chunks.clear()
    with gridfs.open("s.bin", "rb") as f:
        f.seek(5 * CHUNK + 100)
        assert f.read(50) == data[5 * CHUNK + 100 : 5 * CHUNK + 150]
    assert chunks.fetched == [5]


def test_get_file_streams_to_disk_with_progress(gridfs: Any, tmp_path: Path) -> None:
    data = b"g" * (3 * CHUNK + 11)
    gridfs.pipe_file("dir/g.bin", data)
    recorder = Recorder()
    gridfs.get_file("dir/g.bin", str(tmp_path / "g.bin"), callback=recorder)
    assert (tmp_path / "g.bin").read_bytes() == data
    assert recorder.sizes == [len(data)] and recorder.values[-1] == len(data)
    assert recorder.values == sorted(recorder.values)
    gridfs.get("dir", str(tmp_path / "copy"), recursive=True)
    assert (tmp_path / "copy" / "g.bin").read_bytes() == data
    with pytest.raises(FileNotFoundError):
        gridfs.get_file("dir/none.bin", str(tmp_path / "none.bin"))
    assert not (tmp_path / "none.bin").exists()


# -- writing --------------------------------------------------------------------------------


def test_open_wb_streams_and_shows_the_file_only_on_close(gridfs: Any, mongo_uri: str) -> None:
    block = 1024 * 1024
    with gridfs.open("w/new.bin", "wb", block_size=block) as f:
        f.write(b"a" * (9 * block))  # past the store's 8 MiB batch of chunks
        files, sent = stored_counts(gridfs, mongo_uri)
        assert files == 0 and sent > 0  # chunks went ahead; the name shows nothing yet
        assert not gridfs.exists("w/new.bin")
        f.write(b"b")
    assert gridfs.cat_file("w/new.bin") == b"a" * (9 * block) + b"b"


def test_an_aborted_write_leaves_nothing(gridfs: Any, mongo_uri: str) -> None:
    with pytest.raises(RuntimeError, match="stop"), gridfs.open("w/x.bin", "wb") as f:
        f.write(b"z" * (6 * 1024 * 1024))  # past one block: chunks were sent
        raise RuntimeError("stop")
    assert not gridfs.exists("w/x.bin")
    f = gridfs.open("w/y.bin", "wb")
    f.write(b"z" * (6 * 1024 * 1024))
    f.discard()
    assert stored_counts(gridfs, mongo_uri) == (0, 0)
    with pytest.raises(NotImplementedError, match="appended"):
        gridfs.open("w/y.bin", "ab")


def test_exclusive_writes_refuse_an_existing_name(gridfs: Any, mongo_uri: str) -> None:
    gridfs.pipe_file("x.txt", b"one")
    with pytest.raises(FileExistsError, match=r"'x\.txt'"):
        gridfs.pipe_file("x.txt", b"two", mode="create")
    with pytest.raises(FileExistsError):
        gridfs.open("x.txt", "xb")
    assert gridfs.cat_file("x.txt") == b"one"
    assert stored_counts(gridfs, mongo_uri) == (1, 1)


def test_put_file_streams_from_disk_with_progress(gridfs: Any, tmp_path: Path) -> None:
    source = tmp_path / "p.csv"
    source.write_bytes(b"a,b\n" * 200_000)
    recorder = Recorder()
    gridfs.put_file(str(source), "up/p.csv", callback=recorder)
    assert gridfs.cat_file("up/p.csv") == source.read_bytes()
    assert recorder.sizes == [800_000] and recorder.values[-1] == 800_000
    assert gridfs.info("up/p.csv")["content_type"] == "text/csv"  # guessed from the name
    (tmp_path / "empty").write_bytes(b"")
    gridfs.put_file(str(tmp_path / "empty"), "up/empty")
    assert gridfs.cat_file("up/empty") == b""


def test_the_stores_limits_apply_to_every_write(mongo_uri: str, tmp_path: Path) -> None:
    for kind in ("sync", "async"):
        fs = make_fs(
            kind, mongo_uri, fresh_db_name(), max_size=1000, content_types=["text/*"],
            expire_after=3600,
        )  # fmt: skip
        try:
            with pytest.raises(FileTooLarge):
                fs.pipe_file("big.txt", b"x" * 1001)
            with pytest.raises(FileTooLarge), fs.open("big2.txt", "wb") as f:
                f.write(b"x" * 2000)
            with pytest.raises(ContentTypeRefused):
                fs.pipe_file("pic.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20)
            (tmp_path / "big.txt").write_bytes(b"y" * 1001)
            with pytest.raises(FileTooLarge):
                fs.put_file(str(tmp_path / "big.txt"), "put.txt")
            assert stored_counts(fs, mongo_uri) == (0, 0)
            fs.pipe_file("ok.txt", b"fine")
            assert isinstance(fs.info("ok.txt")["expire_at"], datetime)
        finally:
            close_fs(fs)


def test_cp_file_copies_bytes_and_content_type(gridfs: Any) -> None:
    data = b"c" * (2 * CHUNK + 3)
    gridfs.pipe_file("src.dat", data, content_type="application/x-thing")
    gridfs.cp_file("src.dat", "dst/copy.dat")
    assert gridfs.cat_file("dst/copy.dat") == data
    assert gridfs.info("dst/copy.dat")["content_type"] == "application/x-thing"
    assert gridfs.cat_file("src.dat") == data


# -- changing -------------------------------------------------------------------------------


def test_rm_removes_every_revision_and_a_version_only_itself(gridfs: Any, mongo_uri: str) -> None:
    for body in (b"1", b"2", b"3"):
        gridfs.pipe_file("v.txt", body)
    gridfs.pipe_file("keep/k.txt", b"k")
    revisions = gridfs.revisions("v.txt")
    gridfs.rm_file(f"v.txt?version_id={revisions[1]['version_id']}")
    assert [r["size"] for r in gridfs.revisions("v.txt")] == [1, 1]
    assert gridfs.cat_file("v.txt?revision=0") == b"1"
    gridfs.rm("v.txt")
    assert not gridfs.exists("v.txt")
    assert stored_counts(gridfs, mongo_uri) == (1, 1)
    gridfs.rm("keep", recursive=True)
    assert gridfs.find("") == []


def test_mv_renames_every_revision(gridfs: Any) -> None:
    gridfs.pipe_file("m.txt", b"old")
    gridfs.pipe_file("m.txt", b"new")
    gridfs.pipe_file("target.txt", b"replaced")
    gridfs.mv("m.txt", "target.txt")
    assert not gridfs.exists("m.txt")
    assert [gridfs.cat_file(f"target.txt?revision={n}") for n in (0, 1)] == [b"old", b"new"]
    assert len(gridfs.revisions("target.txt")) == 2  # the replaced file went
    gridfs.pipe_file("folder/x.txt", b"x")
    gridfs.mv("target.txt", "folder/")
    assert gridfs.cat_file("folder/target.txt") == b"new"
    gridfs.mv("folder", "moved", recursive=True)
    assert gridfs.find("") == ["moved/target.txt", "moved/x.txt"]
    with pytest.raises(FileNotFoundError):
        gridfs.mv("none.txt", "other.txt")


# -- revisions, checksums and dates -------------------------------------------------------------


def test_revisions_newest_by_default_older_addressable(gridfs: Any) -> None:
    gridfs.pipe_file("doc.txt", b"v0")
    gridfs.pipe_file("doc.txt", b"v1!")
    assert gridfs.cat_file("doc.txt") == b"v1!"
    listed = gridfs.revisions("doc.txt")
    assert [(r["revision"], r["size"]) for r in listed] == [(0, 2), (1, 3)]
    assert gridfs.info("doc.txt")["version_id"] == listed[1]["version_id"]
    older = f"doc.txt?version_id={listed[0]['version_id']}"
    assert gridfs.cat_file(older) == b"v0"
    assert gridfs.info(older)["size"] == 2
    with gridfs.open("doc.txt?revision=-2") as f:
        assert f.read() == b"v0"
    with pytest.raises(FileNotFoundError, match="revision 5"):
        gridfs.cat_file("doc.txt?revision=5")
    with pytest.raises(FileNotFoundError, match="version_id 'nope'"):
        gridfs.cat_file("doc.txt?version_id=nope")


def test_checksum_ukey_and_dates_come_from_the_files_document(gridfs: Any) -> None:
    gridfs.pipe_file("h.txt", b"hash me")
    digest = hashlib.sha256(b"hash me").hexdigest()
    assert gridfs.ukey("h.txt") == digest
    assert gridfs.checksum("h.txt") == int(digest[:32], 16)
    created = gridfs.created("h.txt")
    assert isinstance(created, datetime)
    gridfs.pipe_file("h.txt", b"changed")
    assert gridfs.ukey("h.txt") == hashlib.sha256(b"changed").hexdigest()
    assert gridfs.created("h.txt") == created
    assert gridfs.modified("h.txt") >= created
    gridfs.pipe_file("h2.txt", b"hash me")
    assert gridfs.checksum("h2.txt") == int(digest[:32], 16)  # same bytes, same checksum

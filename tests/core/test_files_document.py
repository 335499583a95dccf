"""FileInfo and the files document; user metadata, extra fields and chunk size rules."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
from bson import CodecOptions, Int64, ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from gridfield.core.errors import CorruptFile
from gridfield.core.files_document import (
    DEFAULT_CHUNK_SIZE,
    MAX_BSON_SIZE,
    MAX_CHUNK_SIZE,
    FileInfo,
    check_chunk_size,
    check_file_id,
    check_files_document,
    check_metadata,
    upload_date,
)

FEW = settings(max_examples=60, deadline=None)

keys = st.text(min_size=1, max_size=8).filter(
    lambda k: not k.startswith("$") and "." not in k and "\x00" not in k
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=10),
    st.binary(max_size=10),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)),
    max_leaves=8,
)
user_metadata = st.dictionaries(keys, values, max_size=4)
dates = st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
)
extra_keys = st.text(min_size=1, max_size=8).filter(
    lambda k: (
        k
        not in {"_id", "length", "chunkSize", "uploadDate", "filename", "metadata", "contentType"}
        | {"aliases", "md5", "gridfield"}
    )
)
hex_digests = st.text("0123456789abcdef", min_size=64, max_size=64)


@st.composite
def files_documents(draw: st.DrawFn) -> dict[str, Any]:
    """Files documents as gridfield, PyMongo, MongoEngine or older drivers leave them."""
    doc: dict[str, Any] = {
        "_id": draw(st.one_of(st.builds(ObjectId), st.integers(), st.text(max_size=5))),
        "length": draw(st.integers(min_value=0, max_value=2**40)),
        "chunkSize": draw(st.integers(min_value=1, max_value=MAX_CHUNK_SIZE)),
    }
    if draw(st.booleans()):
        doc["uploadDate"] = draw(dates)
    if draw(st.booleans()):
        doc["filename"] = draw(st.text(max_size=10))
    metadata = draw(user_metadata)
    if draw(st.booleans()):
        metadata["contentType"] = draw(st.sampled_from(["image/png", "text/plain"]))
    if draw(st.booleans()):  # a user's own key, whatever its value: never our checksum
        metadata["sha256"] = draw(st.one_of(hex_digests, st.text(max_size=5)))
    if metadata:
        doc["metadata"] = metadata
    if draw(st.booleans()):
        doc["contentType"] = metadata.get("contentType") or "application/pdf"
    if draw(st.booleans()):
        doc["aliases"] = draw(st.lists(st.text(max_size=5), max_size=3))
    if draw(st.booleans()):
        doc["md5"] = draw(st.text("0123456789abcdef", min_size=32, max_size=32))
    if draw(st.booleans()):  # ours, or a value of another shape under our key
        doc["gridfield"] = draw(
            st.one_of(
                st.fixed_dictionaries({"sha256": hex_digests}),
                st.fixed_dictionaries({"sha256": st.text(max_size=70)}),
                st.fixed_dictionaries({"sha256": hex_digests, "other": st.integers()}),
                values,
            )
        )
    doc.update(draw(st.dictionaries(extra_keys, values, max_size=2)))
    return doc


@FEW
@given(files_documents())
def test_document_round_trips(doc: dict[str, Any]) -> None:
    info = FileInfo.from_document(doc)
    assert info.to_document() == doc
    assert FileInfo.from_document(info.to_document()) == info


@FEW
@given(files_documents())
def test_fields_are_read(doc: dict[str, Any]) -> None:
    info = FileInfo.from_document(doc)
    assert info.file_id == doc["_id"]
    assert info.length == doc["length"]
    assert info.chunk_size == doc["chunkSize"]
    assert info.filename == doc.get("filename")
    assert info.upload_date == doc.get("uploadDate")
    assert info.aliases == doc.get("aliases")
    assert info.md5 == doc.get("md5")
    meta = doc.get("metadata", {})
    assert info.metadata == meta
    assert info.content_type == (meta.get("contentType") or doc.get("contentType"))
    ours = doc.get("gridfield")
    is_ours = (
        isinstance(ours, dict)
        and set(ours) == {"sha256"}
        and re.fullmatch("[0-9a-f]{64}", str(ours["sha256"])) is not None
    )
    assert info.sha256 == (ours["sha256"] if is_ours else None)
    known = {"_id", "length", "chunkSize", "uploadDate", "filename", "metadata", "contentType"}
    known |= {"aliases", "md5"} | ({"gridfield"} if is_ours else set())
    assert info.extra == {k: v for k, v in doc.items() if k not in known}


def test_odd_legacy_values_are_kept() -> None:
    doc = {"_id": 1, "length": 0, "chunkSize": 4, "contentType": None, "md5": 5, "aliases": "a"}
    info = FileInfo.from_document(doc)
    assert (info.content_type, info.md5, info.aliases) == (None, None, None)
    assert info.extra == {"contentType": None, "md5": 5, "aliases": "a"}
    assert info.to_document() == doc


@pytest.mark.parametrize(
    ("doc", "content_type"),
    [
        ({"metadata": {"contentType": "a/b"}}, "a/b"),
        ({"contentType": "c/d"}, "c/d"),
        ({"metadata": {"contentType": "a/b"}, "contentType": "c/d"}, "a/b"),
        ({"metadata": {"contentType": 5}, "contentType": "c/d"}, "c/d"),
        ({}, None),
    ],
)
def test_content_type_from_either_place(doc: dict[str, Any], content_type: str | None) -> None:
    doc = {"_id": 1, "length": 0, "chunkSize": 4, **doc}
    info = FileInfo.from_document(doc)
    assert info.content_type == content_type
    assert info.to_document() == doc


def test_hand_made_info_keeps_its_content_type() -> None:
    info = FileInfo(file_id=1, length=0, chunk_size=4, content_type="x/y")
    assert info.to_document()["contentType"] == "x/y"
    assert FileInfo.from_document(info.to_document()) == info


def test_legacy_document() -> None:
    """A file as MongoEngine (through PyMongo's legacy GridFS) writes it."""
    oid = ObjectId()
    doc = {
        "_id": oid,
        "contentType": "image/jpeg",
        "md5": "d41d8cd98f00b204e9800998ecf8427e",
        "chunkSize": 261120,
        "length": Int64(5),
        "uploadDate": dt.datetime(2020, 1, 2, 3, 4, 5),
        "aliases": ["a"],
        "custom": {"x": 1},
    }
    info = FileInfo.from_document(doc)
    assert info.content_type == "image/jpeg"
    assert info.metadata == {}
    assert info.extra == {"custom": {"x": 1}}
    assert info.chunk_count == 1
    assert info.to_document() == doc


def test_float_sizes_from_old_writers() -> None:
    info = FileInfo.from_document({"_id": 1, "length": 10.0, "chunkSize": 4.0})
    assert (info.length, info.chunk_size, info.chunk_count) == (10, 4, 3)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"_id": 1, "chunkSize": 4}, "'length'"),
        ({"_id": 1, "length": "3", "chunkSize": 4}, "'length'"),
        ({"_id": 1, "length": 3}, "'chunkSize'"),
        ({"_id": 1, "length": 3, "chunkSize": 0}, "chunkSize 0"),
        ({"_id": 1, "length": -1, "chunkSize": 4}, "negative length"),
        ({"_id": 1, "length": 1.5, "chunkSize": 4}, "'length'"),
    ],
)
def test_bad_sizes_are_corrupt(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(CorruptFile, match=re.escape(message)) as caught:
        FileInfo.from_document(doc)
    assert "file 1" in str(caught.value)


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=10**6))
@FEW
def test_chunk_count(length: int, chunk_size: int) -> None:
    info = FileInfo(file_id=1, length=length, chunk_size=chunk_size)
    assert info.chunk_count == -(-length // chunk_size)
    assert (info.chunk_count - 1) * chunk_size < length or length == 0
    assert info.chunk_count * chunk_size >= length


def test_for_upload_writes_content_type_both_places() -> None:
    info = FileInfo.for_upload(
        file_id=1,
        length=3,
        chunk_size=DEFAULT_CHUNK_SIZE,
        upload_date=None,
        filename="a.png",
        metadata={"owner": "me"},
        content_type="image/png",
        sha256="ab" * 32,
    )
    doc = info.to_document()
    assert doc["contentType"] == "image/png"
    assert doc["metadata"] == {"owner": "me", "contentType": "image/png"}
    assert doc["gridfield"] == {"sha256": "ab" * 32}
    assert FileInfo.from_document(doc) == info


def test_for_upload_without_metadata_leaves_it_out() -> None:
    info = FileInfo.for_upload(
        file_id=1,
        length=0,
        chunk_size=4,
        upload_date=None,
        filename=None,
        metadata={},
        content_type=None,
    )
    assert info.to_document() == {"_id": 1, "length": 0, "chunkSize": 4}


# --- user metadata ------------------------------------------------------------------------


@FEW
@given(user_metadata)
def test_good_metadata_is_kept(metadata: dict[str, Any]) -> None:
    assert check_metadata(metadata) == metadata


def test_no_metadata_is_empty() -> None:
    assert check_metadata(None) == {}


@pytest.mark.parametrize(
    ("metadata", "path"),
    [
        ({"$set": 1}, "metadata.$set"),
        ({"a.b": 1}, "metadata.a.b"),
        ({"ok": {"in": {"$bad": 1}}}, "metadata.ok.in.$bad"),
        ({"ok": [1, {"x.y": 2}]}, "metadata.ok[1].x.y"),
        ({1: "x"}, "metadata[1]"),
        ({"ok": {("t",): 1}}, "metadata.ok[('t',)]"),
        ({"obj": object()}, "metadata.obj"),
        ({"deep": {"list": [1, {"s": {1, 2}}]}}, "metadata.deep.list[1].s"),
        ({"big": 2**64}, "metadata.big"),
    ],
)
def test_bad_metadata_names_the_key(metadata: dict[Any, Any], path: str) -> None:
    with pytest.raises(ValueError, match=re.escape(path)):
        check_metadata(metadata)


@FEW
@given(user_metadata, st.lists(keys, min_size=0, max_size=3), st.sampled_from(["$x", "a.b"]))
def test_bad_key_anywhere_is_named(metadata: dict[str, Any], path: list[str], bad: str) -> None:
    node: dict[str, Any] = metadata
    for key in path:
        node[key] = {}
        node = node[key]
    node[bad] = 1
    with pytest.raises(ValueError) as caught:
        check_metadata(metadata)
    assert ".".join(["metadata", *path, bad]) in str(caught.value)


def test_metadata_must_be_a_mapping() -> None:
    with pytest.raises(TypeError, match="list"):
        check_metadata([("a", 1)])


def test_metadata_with_codec_options() -> None:
    value = uuid.uuid4()
    with pytest.raises(ValueError, match=re.escape("metadata.id")):
        check_metadata({"id": value})
    options: CodecOptions[Any] = CodecOptions(uuid_representation=4)
    assert check_metadata({"id": value}, options) == {"id": value}


def test_files_document_size_limit() -> None:
    common: dict[str, Any] = {"file_id": 1, "chunk_size": 4, "filename": "a"}
    check_files_document(metadata={"b": b"x" * 1024}, content_type=None, **common)
    with pytest.raises(ValueError, match="metadata: the files document would be"):
        check_files_document(metadata={"b": b"x" * MAX_BSON_SIZE}, content_type=None, **common)


# --- chunk size, ids, dates ---------------------------------------------------------------


@pytest.mark.parametrize("good", [1, 1024, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE])
def test_good_chunk_sizes(good: int) -> None:
    assert check_chunk_size(good) == good


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (0, ValueError),
        (-1, ValueError),
        (MAX_CHUNK_SIZE + 1, ValueError),
        (1.5, TypeError),
        ("1024", TypeError),
        (True, TypeError),
        (None, TypeError),
    ],
)
def test_bad_chunk_sizes(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="chunk_size"):
        check_chunk_size(bad)


def test_operator_ids_are_rejected() -> None:
    with pytest.raises(TypeError, match=re.escape("'$ne'")):
        check_file_id({"$ne": None})
    check_file_id({"a": 1})
    check_file_id(ObjectId())


def test_upload_date_precision_and_zone() -> None:
    naive = upload_date()
    assert naive.tzinfo is None
    assert naive.microsecond % 1000 == 0
    aware = upload_date(CodecOptions(tz_aware=True))
    assert aware.utcoffset() == dt.timedelta(0)
    assert aware.microsecond % 1000 == 0


def test_extra_put_keywords_go_top_level_and_come_back() -> None:
    from gridfield.core.files_document import check_extra_fields

    extra = check_extra_fields({"author": "ann", "width": 3})
    info = FileInfo.for_upload(
        file_id=1,
        length=0,
        chunk_size=DEFAULT_CHUNK_SIZE,
        upload_date=None,
        filename=None,
        metadata={},
        content_type=None,
        extra=extra,
    )
    doc = info.to_document()
    assert doc["author"] == "ann" and doc["width"] == 3 and "metadata" not in doc
    assert FileInfo.from_document(doc).extra == {"author": "ann", "width": 3}


@pytest.mark.parametrize(
    "key", ["length", "metadata", "contentType", "_id", "filename", "gridfield", "$x", "a.b"]
)
def test_extra_put_keywords_may_not_take_reserved_names(key: str) -> None:
    from gridfield.core.files_document import check_extra_fields

    with pytest.raises(ValueError, match="put\\(\\) keyword"):
        check_extra_fields({key: 1})


def test_extra_put_keywords_must_be_storable() -> None:
    from gridfield.core.files_document import check_extra_fields

    with pytest.raises(ValueError, match=r"put\(\) keyword\.thing: value cannot be stored"):
        check_extra_fields({"thing": object()})
    assert check_extra_fields(None) == {}

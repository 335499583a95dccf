"""gridfield.odm without a server: which fields an update may release files from, scalar
values, embedded types for distinct, and MongoEngine's index comparison rule."""

from __future__ import annotations

from typing import Any

import mongoengine
from hypothesis import given
from hypothesis import strategies as st
from mongoengine.queryset import transform

from gridfield.odm import (
    AGGREGATE_OPTIONS,
    embedded_type,
    file_holding_paths,
    index_differences,
    query_stages,
    server_options,
    stored_path,
    value_at,
)
from gridfield.sync import FileField


class UpScan(mongoengine.EmbeddedDocument):
    image = FileField()
    note = mongoengine.StringField()


class UpAlbum(mongoengine.Document):
    title = mongoengine.StringField(db_field="t")
    cover = FileField(db_field="c")
    scan = mongoengine.EmbeddedDocumentField(UpScan)
    scans = mongoengine.ListField(mongoengine.EmbeddedDocumentField(UpScan))
    tags = mongoengine.ListField(mongoengine.StringField())
    owner = mongoengine.ReferenceField("UpAlbum")


class UpLoose(mongoengine.DynamicDocument):
    title = mongoengine.StringField()


def paths(document: type[Any], **update: Any) -> list[str]:
    return file_holding_paths(document, transform.update(document, **update))


def test_only_fields_that_may_hold_files_are_read_around_an_update() -> None:
    assert paths(UpAlbum, set__title="x", push__tags="y") == []
    assert paths(UpAlbum, set__cover=None, set__title="x") == ["c"]
    assert paths(UpAlbum, unset__scan=True) == ["scan"]
    assert paths(UpAlbum, set__scan__note="n") == ["scan"]  # under it: read, to be sure
    assert paths(UpAlbum, pull__scans__note="n", set__title="y") == ["scans"]
    assert paths(UpAlbum, set__owner=None) == []  # a referenced document's files are its own


def test_a_dynamic_document_and_a_pipeline_may_write_anything() -> None:
    assert paths(UpLoose, set__title="x") == []
    assert file_holding_paths(UpLoose, {"$set": {"undeclared": 1}}) == ["undeclared"]
    pipeline = [{"$set": {"t": "x"}}]
    assert file_holding_paths(UpAlbum, pipeline) == ["c", "scan", "scans"]


@given(st.lists(st.sampled_from(["t", "tags", "owner"]), unique=True))
def test_plain_fields_never_need_reading(names: list[str]) -> None:
    assert file_holding_paths(UpAlbum, {"$set": dict.fromkeys(names, 1)}) == []


def test_value_at_follows_embedded_documents() -> None:
    album = UpAlbum(title="a", scan=UpScan(note="n"))
    assert value_at(album, "title") == "a"
    assert value_at(album, "scan__note") == "n"
    assert value_at(album, "scan.note") == "n"
    assert value_at(UpAlbum(title="b"), "scan__note") is None


def test_embedded_type_of_a_field_or_a_list_of_them() -> None:
    assert embedded_type(UpAlbum, "scan") is UpScan
    assert embedded_type(UpAlbum, "scans") is UpScan
    assert embedded_type(UpAlbum, "title") is None
    assert embedded_type(UpAlbum, "nothere") is None


def test_index_differences_follow_mongoengines_rule() -> None:
    info = [
        {"key": [("_id", 1)]},
        {"key": [("genus", 1)]},
        {"key": [("_fts", "text"), ("_ftsx", 1)], "weights": {"about": 1}},
        {"key": [("_cls", 1), ("age", -1)]},
    ]
    required = [[("genus", 1)], [("about", "text")], [("_cls", 1)], [("name", 1)]]
    assert index_differences(required, info) == {
        "missing": [[("_cls", 1)], [("name", 1)]],
        "extra": [[("_id", 1)], [("_cls", 1), ("age", -1)]],
    }
    # a declared index that starts with _cls makes a separate {_cls: 1} needless
    declared = [*required, [("_cls", 1), ("age", -1)]]
    assert index_differences(declared, info)["missing"] == [[("name", 1)]]


def test_query_stages_select_what_the_query_set_would() -> None:
    assert query_stages({"a": 1}, [], None, None, None) == [{"$match": {"a": 1}}]
    assert query_stages({}, [("t", -1)], 2, 5, {"t": 1}) == [
        {"$match": {}},
        {"$sort": {"t": -1}},
        {"$skip": 2},
        {"$limit": 5},
        {"$project": {"t": 1}},
    ]


def test_server_options_use_the_servers_names() -> None:
    options = {"max_time_ms": 50, "batch_size": 10, "hint": None, "comment": "c"}
    assert server_options(options, AGGREGATE_OPTIONS) == {
        "maxTimeMS": 50,
        "batchSize": 10,
        "comment": "c",
    }
    assert server_options(options, ("comment",)) == {"comment": "c"}


def test_stored_path_of_declared_and_undeclared_fields() -> None:
    assert stored_path(UpAlbum, "title") == "t"
    assert stored_path(UpAlbum, "scan__note") == "scan.note"
    assert stored_path(UpLoose, "some__thing") == "some.thing"

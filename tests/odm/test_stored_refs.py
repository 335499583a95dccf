"""The walk over a stored document's raw BSON that finds the file ids it holds, and the
choice of document classes a bucket check scans; no server needed."""

from __future__ import annotations

from typing import Any

import mongoengine
import pytest
from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st

from gridfield.odm import StoredFileRef, document_classes, file_roots, stored_file_refs
from gridfield.sync import FileField


class RefLeaf(mongoengine.EmbeddedDocument):
    scan = FileField(collection_name="scans")
    note = mongoengine.StringField()


class RefBranch(mongoengine.EmbeddedDocument):
    leaves = mongoengine.ListField(mongoengine.EmbeddedDocumentField(RefLeaf))
    meta = {"allow_inheritance": True}


class RefTwig(RefBranch):
    extra = mongoengine.FileField(db_alias="legacy")  # MongoEngine's own field


class RefTree(mongoengine.Document):
    title = mongoengine.StringField()
    cover = FileField()
    branch = mongoengine.EmbeddedDocumentField(RefBranch)
    gallery = mongoengine.ListField(FileField())
    by_size = mongoengine.DictField(field=FileField())
    anything = mongoengine.GenericEmbeddedDocumentField()
    loose = mongoengine.ListField()
    meta = {"collection": "ref_trees", "allow_inheritance": True}


class RefOak(RefTree):
    acorn = FileField(db_alias="other")


class RefPlain(mongoengine.Document):
    title = mongoengine.StringField()
    meta = {"collection": "ref_plain"}


def refs(raw: dict[str, Any]) -> set[tuple[str, str, Any]]:
    return {(r.db_alias, r.collection_name, r.file_id) for r in stored_file_refs(RefTree, raw)}


def test_every_place_a_file_id_can_sit_is_found() -> None:
    ids = [ObjectId() for _ in range(9)]
    raw = {
        "_cls": "RefTree.RefOak",
        "title": "t",
        "cover": ids[0],
        "branch": {
            "_cls": RefTwig._class_name,
            "leaves": [{"scan": ids[1]}, {"note": "no file"}],
            "extra": ids[2],
        },
        "gallery": [ids[3], ids[4]],
        "by_size": {"small": ids[5]},
        "anything": {"_cls": "RefLeaf", "scan": ids[6]},
        "loose": [{"_cls": "RefLeaf", "scan": ids[7]}, 3, "x"],
        "acorn": ids[8],
    }
    assert refs(raw) == {
        ("default", "fs", ids[0]),
        ("default", "scans", ids[1]),
        ("legacy", "fs", ids[2]),
        ("default", "fs", ids[3]),
        ("default", "fs", ids[4]),
        ("default", "fs", ids[5]),
        ("default", "scans", ids[6]),
        ("default", "scans", ids[7]),
        ("other", "fs", ids[8]),
    }


def test_a_base_class_document_reads_no_subclass_field() -> None:
    oid = ObjectId()
    assert refs({"_cls": "RefTree", "acorn": oid}) == set()
    assert refs({"_cls": "RefTree.RefOak", "acorn": oid}) == {("other", "fs", oid)}


@given(st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=3)), max_size=5))
def test_values_that_hold_no_file_yield_nothing(values: list[Any]) -> None:
    assert refs({"title": "x", "branch": None, "gallery": [], "loose": values}) == set()


def test_any_id_type_is_passed_through_as_stored() -> None:
    for file_id in ("name", 7, {"k": 1}):
        assert list(stored_file_refs(RefTree, {"cover": file_id})) == [
            StoredFileRef("default", "fs", file_id)
        ]


def test_roots_are_the_top_level_keys_that_may_hold_files() -> None:
    assert file_roots(RefTree) == [
        "acorn",
        "anything",
        "branch",
        "by_size",
        "cover",
        "gallery",
        "loose",
    ]
    assert file_roots(RefPlain) == []


def test_one_class_per_collection_the_root_of_its_tree() -> None:
    assert document_classes([RefOak, RefTree, RefPlain]) == [RefTree, RefPlain]
    registered = document_classes(None)
    assert RefTree in registered
    assert RefOak not in registered
    assert RefPlain not in registered  # holds no file
    with pytest.raises(TypeError, match="documents must be Document classes"):
        document_classes([RefLeaf])

"""gridfield.odm without a server: class trees, sorts, projections, and the file-holder walk."""

from __future__ import annotations

from typing import Any

import mongoengine
import pymongo
import pytest
from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st
from mongoengine.errors import LookUpError

import gridfield
import gridfield.sync
from gridfield.odm import (
    FileHolder,
    class_query,
    db_paths,
    file_holders,
    holds_files,
    may_hold_files,
    referenced_file_ids,
    sort_spec,
    with_subclasses,
)
from gridfield.sync import FileField, GridFSProxy


class Page(mongoengine.EmbeddedDocument):
    scan = FileField()
    note = mongoengine.StringField()


class Shelf(mongoengine.EmbeddedDocument):
    pages = mongoengine.ListField(mongoengine.EmbeddedDocumentField(Page))


class Plain(mongoengine.EmbeddedDocument):
    note = mongoengine.StringField()


class Book(mongoengine.Document):
    title = mongoengine.StringField(db_field="t")
    cover = FileField()
    kept = FileField(delete_with_owner=False)
    first = mongoengine.EmbeddedDocumentField(Page)
    shelf = mongoengine.EmbeddedDocumentField(Shelf)
    extras = mongoengine.ListField(FileField())
    by_name = mongoengine.DictField(field=FileField())
    anything = mongoengine.GenericEmbeddedDocumentField()
    related = mongoengine.ReferenceField("Book", dbref=False)
    meta = {"allow_inheritance": True, "ordering": ["-t"]}


class Novel(Book):
    genre = mongoengine.StringField(db_field="g")


class Poem(Book):
    pass


class Plaintext(mongoengine.Document):
    body = mongoengine.StringField()
    notes = mongoengine.ListField(mongoengine.EmbeddedDocumentField(Plain))
    link = mongoengine.ReferenceField(Book)


class Loose(mongoengine.DynamicDocument):
    pass


def proxy(grid_id: Any = None) -> GridFSProxy:
    return FileField().get_proxy_obj(grid_id=grid_id)


# -- the file-holder walk -----------------------------------------------------------------


def test_both_apis_proxies_are_file_holders_and_file_fields_say_so() -> None:
    assert isinstance(gridfield.GridFSProxy(), FileHolder)
    assert isinstance(GridFSProxy(), FileHolder)
    assert holds_files(gridfield.FileField()) and holds_files(FileField())
    assert not holds_files(mongoengine.FileField()) and not holds_files(None)
    assert not isinstance("a string", FileHolder)


def test_the_walk_finds_top_level_embedded_listed_and_dict_files_in_order() -> None:
    ids = [ObjectId() for _ in range(7)]
    book = Book(
        title="t",
        cover=ids[0],
        kept=ids[1],
        first=Page(scan=ids[2]),
        shelf=Shelf(pages=[Page(scan=ids[3]), Page(note="no scan")]),
        extras=[proxy(ids[4]), proxy(ids[5])],
        by_name={"k": proxy(ids[6])},
    )
    assert referenced_file_ids(book) == ids
    holders = list(file_holders(book))
    assert all(isinstance(h, GridFSProxy) for h in holders)
    assert holders[0] is book.cover  # the field's own proxy, not a copy


def test_empty_file_fields_are_holders_that_hold_nothing() -> None:
    book = Book(title="t")
    assert [h.held_file_ids() for h in file_holders(book)] == [[], []]  # cover and kept
    assert referenced_file_ids(book) == []


def test_the_walk_never_follows_a_reference() -> None:
    other = Book(title="other", cover=ObjectId(), id=ObjectId())
    book = Book(title="t", related=other)
    assert referenced_file_ids(book) == []
    assert referenced_file_ids(Plaintext(body="b", link=other)) == []


def test_the_walk_looks_inside_dynamic_and_generic_values() -> None:
    inner = ObjectId()
    loose = Loose(stuff=[Page(scan=inner)], more={"a": proxy(inner)})
    assert referenced_file_ids(loose) == [inner, inner]
    book = Book(title="t", anything=Page(scan=inner))
    assert referenced_file_ids(book) == [inner]


def test_a_proxy_carries_the_delete_choice_of_the_field_it_is_in() -> None:
    book = Book(title="t", cover=ObjectId(), kept=ObjectId())
    assert book.cover.delete_with_owner and not book.kept.delete_with_owner
    moved = proxy(ObjectId())
    book.kept = moved
    assert not moved.delete_with_owner


def test_may_hold_files_looks_through_the_class_tree() -> None:
    assert may_hold_files(Book) and may_hold_files(Novel)
    assert may_hold_files(Loose)  # dynamic: anything may come in
    assert not may_hold_files(Plaintext)  # a reference's files are the other document's


# -- class trees, sorts, projections ------------------------------------------------------------


def test_with_subclasses_follows_python_links() -> None:
    assert with_subclasses(Book) == [Book, Novel, Poem]
    assert with_subclasses(Poem) == [Poem]


def test_sort_spec_translates_names_and_directions() -> None:
    assert sort_spec(Book, ["-title", "+cover", "first__note", "", "unknown"]) == [
        ("t", pymongo.DESCENDING),
        ("cover", pymongo.ASCENDING),
        ("first.note", pymongo.ASCENDING),
        ("unknown", pymongo.ASCENDING),
    ]


@given(st.lists(st.sampled_from(["title", "-title", "+title", "cover", "-x__y"]), max_size=6))
def test_sort_spec_keeps_one_entry_per_key_in_order(keys: list[str]) -> None:
    spec = sort_spec(Book, keys)
    assert [direction for _, direction in spec] == [
        pymongo.DESCENDING if key.startswith("-") else pymongo.ASCENDING for key in keys
    ]


def test_db_paths_use_stored_names_and_subclass_fields() -> None:
    assert db_paths(Book, ["title", "first__note", "genre"]) == ["t", "first.note", "g"]
    with pytest.raises(LookUpError):
        db_paths(Book, ["nowhere"])


def test_class_query_narrows_to_the_class_tree() -> None:
    assert class_query(Plaintext, {"body": "b"}) == {"body": "b"}
    assert class_query(Poem, {"t": 1}) == {"t": 1, "_cls": "Book.Poem"}
    assert class_query(Book, {}) == {"_cls": {"$in": ["Book", "Book.Novel", "Book.Poem"]}}
    assert class_query(Poem, {"_cls": "x"}) == {"$and": [{"_cls": "Book.Poem"}, {"_cls": "x"}]}

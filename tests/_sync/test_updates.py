# Generated from tests/_async/test_updates.py by scripts/unasync.py: do not edit.
"""Atomic updates: MongoEngine's update keywords on a query set and on one document, and files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bson import ObjectId
from mongoengine import signals
from mongoengine.errors import InvalidQueryError, OperationError
from mongoengine.queryset.visitor import Q

from gridfield._sync.document import Document
from gridfield._sync.fields import FileField
from gridfield.plain_fields import (
    EmbeddedDocument,
    EmbeddedDocumentField,
    IntField,
    ListField,
    StringField,
)

from ..server_differences import (
    ARRAY_FILTERS_ERROR,
    POSITIONAL_UPDATE_ERROR,
    array_filters_supported,
    positional_update_ignored,
    positional_update_supported,
)

ALIAS = "gridfield-test-updates"


class UpLeg(EmbeddedDocument):
    side = StringField()
    length = IntField()


class UpAnimal(Document):
    genus = StringField()
    age = IntField(default=0)
    tags = ListField(StringField())
    legs = ListField(EmbeddedDocumentField(UpLeg))
    meta = {"db_alias": ALIAS, "collection": "up_animals"}


class UpPet(Document):
    name = StringField()
    meta = {"db_alias": ALIAS, "collection": "up_pets", "allow_inheritance": True}


class UpDog(UpPet):
    barks = IntField()


class UpScan(EmbeddedDocument):
    image = FileField()


class UpAlbum(Document):
    title = StringField()
    cover = FileField()
    shared = FileField(delete_with_owner=False)
    scan = EmbeddedDocumentField(UpScan)
    meta = {"db_alias": ALIAS, "collection": "up_albums"}


@pytest.fixture
def db(connected: Callable[..., Any]) -> Any:
    connected()  # FileField's files: the same database, under the default alias
    return connected(ALIAS)


def stored(db: Any, collection: str = "up_animals") -> list[dict[str, Any]]:
    return [
        {k: v for k, v in doc.items() if k != "_id"}
        for doc in db[collection].find({}).sort("genus", 1)
    ]


def three(db: Any) -> list[UpAnimal]:
    return [
        UpAnimal(genus="Marmota", age=3, tags=["a"]).save(),
        UpAnimal(genus="Marmota", age=5, tags=["b"]).save(),
        UpAnimal(genus="Sciurus", age=1, tags=["c"]).save(),
    ]


# -- the query set's updates ------------------------------------------------------------------


def test_update_applies_every_operator_to_every_matching_document(db: Any) -> None:
    three(db)
    n = UpAnimal.objects(genus="Marmota").update(inc__age=1, push__tags="fat")
    assert n == 2
    assert stored(db) == [
        {"genus": "Marmota", "age": 4, "tags": ["a", "fat"], "legs": []},
        {"genus": "Marmota", "age": 6, "tags": ["b", "fat"], "legs": []},
        {"genus": "Sciurus", "age": 1, "tags": ["c"], "legs": []},
    ]


def test_update_operators_are_mongoengines(db: Any) -> None:
    (marmot, *_) = three(db)
    one = UpAnimal.objects(id=marmot.id)
    one.update(set__genus="M", dec__age=1)
    one.update(push_all__tags=["x", "y", "x"])
    one.update(add_to_set__tags="y")
    one.update(pull__tags="x")
    one.update(pop__tags=1)  # the last one
    assert db.up_animals.find_one({"_id": marmot.id}, {"_id": 0}) == {
        "genus": "M",
        "age": 2,
        "tags": ["a"],
        "legs": [],
    }
    one.update(unset__genus=True)
    assert "genus" not in db.up_animals.find_one({"_id": marmot.id})


def test_positional_updates_reach_the_matched_array_element(
    db: Any, server_kind: str, server_backend: str
) -> None:
    legs = [UpLeg(side="left", length=1), UpLeg(side="right", length=2)]
    marmot = UpAnimal(genus="Marmota", legs=legs).save()
    matched = UpAnimal.objects(id=marmot.id, legs__side="right")
    if positional_update_ignored(server_backend):
        assert matched.count() == 1
        assert matched.update(set__legs__S__length=9) == 0  # no error, no match
        raw = db.up_animals.find_one({"_id": marmot.id})
        assert raw["legs"] == [{"side": "left", "length": 1}, {"side": "right", "length": 2}]
        return
    if not positional_update_supported(server_kind):
        with pytest.raises(OperationError, match=POSITIONAL_UPDATE_ERROR):
            matched.update(set__legs__S__length=9)
        raw = db.up_animals.find_one({"_id": marmot.id})
        assert raw["legs"] == [{"side": "left", "length": 1}, {"side": "right", "length": 2}]
        return
    matched.update(set__legs__S__length=9)
    raw = db.up_animals.find_one({"_id": marmot.id})
    assert raw["legs"] == [{"side": "left", "length": 1}, {"side": "right", "length": 9}]


def test_array_filters_pick_the_elements_to_update(db: Any, server_kind: str) -> None:
    marmot = UpAnimal(genus="Marmota", tags=["a", "bb", "ccc"]).save()
    matched = UpAnimal.objects(id=marmot.id)
    filters = [{"long": {"$in": ["bb", "ccc"]}}]
    change = {"__raw__": {"$set": {"tags.$[long]": "x"}}, "array_filters": filters}
    if not array_filters_supported(server_kind):
        with pytest.raises(OperationError, match=ARRAY_FILTERS_ERROR):
            matched.update(**change)
        with pytest.raises(OperationError, match=ARRAY_FILTERS_ERROR):
            matched.modify(**change)
        assert (db.up_animals.find_one({"_id": marmot.id}))["tags"] == ["a", "bb", "ccc"]
        return
    matched.update(**change)
    assert (db.up_animals.find_one({"_id": marmot.id}))["tags"] == ["a", "x", "x"]
    found = matched.modify(new=True, **{**change, "array_filters": [{"long": "a"}]})
    assert found is not None and found.tags == ["x", "x", "x"]


def test_a_write_concern_is_passed_on(db: Any) -> None:
    three(db)
    result = UpAnimal.objects(genus="Sciurus").update(
        set__age=2, write_concern={"w": 1}, full_result=True
    )
    assert result.acknowledged and result.matched_count == 1
    assert UpAnimal.objects(genus="Sciurus").update(set__age=3, write_concern={"w": 1}) == 1
    assert (db.up_animals.find_one({"genus": "Sciurus"}))["age"] == 3


def test_update_one_changes_only_the_first_document(db: Any) -> None:
    three(db)
    assert UpAnimal.objects(genus="Marmota").order_by("age").update_one(set__age=0) == 1
    assert sorted(d["age"] for d in stored(db)) == [0, 1, 5]


def test_update_with_upsert_inserts_when_nothing_matches(db: Any) -> None:
    result = UpAnimal.objects(genus="Tamias").update(set__age=2, upsert=True, full_result=True)
    assert isinstance(result.upserted_id, ObjectId)
    assert stored(db) == [{"genus": "Tamias", "age": 2}]


def test_upsert_one_returns_the_document_updated_or_inserted(db: Any) -> None:
    three(db)
    updated = UpAnimal.objects(genus="Sciurus").upsert_one(set__age=7)
    assert (updated.genus, updated.age) == ("Sciurus", 7)
    inserted = UpAnimal.objects(genus="Tamias").upsert_one(set__age=1)
    assert (inserted.genus, inserted.age) == ("Tamias", 1)
    assert UpAnimal.objects.count() == 4


def test_an_upsert_on_an_inheriting_class_stores_the_class(db: Any) -> None:
    dog = UpDog.objects(name="rex").upsert_one(set__barks=3)
    assert isinstance(dog, UpDog)
    raw = db.up_pets.find_one({"_id": dog.id})
    assert raw["_cls"] == "UpPet.UpDog"
    assert [type(p) for p in UpPet.objects.to_list()] == [UpDog]


def test_modify_returns_the_document_before_or_after(db: Any) -> None:
    three(db)
    before = UpAnimal.objects(genus="Sciurus").modify(inc__age=1)
    assert before is not None and before.age == 1
    after = UpAnimal.objects(genus="Sciurus").modify(inc__age=1, new=True)
    assert after is not None and after.age == 3
    assert UpAnimal.objects(genus="Tamias").modify(inc__age=1) is None
    oldest = UpAnimal.objects(genus="Marmota").order_by("-age").modify(set__tags=[], new=True)
    assert oldest is not None and (oldest.age, oldest.tags) == (5, [])


def test_modify_upserts_and_removes(db: Any) -> None:
    made = UpAnimal.objects(genus="Tamias").modify(upsert=True, new=True, set__age=1)
    assert made is not None and made.genus == "Tamias" and made.id is not None
    gone = UpAnimal.objects(genus="Tamias").modify(remove=True)
    assert gone is not None and gone.id == made.id
    assert UpAnimal.objects.count() == 0
    with pytest.raises(OperationError, match="Conflicting parameters"):
        UpAnimal.objects.modify(remove=True, new=True)


def test_an_update_without_changes_is_refused(db: Any) -> None:
    three(db)
    with pytest.raises(OperationError, match="No update parameters"):
        UpAnimal.objects.update()
    with pytest.raises(OperationError, match="No update parameters"):
        UpAnimal.objects.modify()


# -- inserts ----------------------------------------------------------------------------------


def test_create_inserts_one_document(db: Any) -> None:
    made = UpAnimal.objects.create(genus="Marmota", age=2)
    assert isinstance(made.id, ObjectId) and not made._created
    assert stored(db) == [{"genus": "Marmota", "age": 2, "tags": [], "legs": []}]


def test_insert_stores_many_documents_in_one_command(db: Any) -> None:
    docs = [UpAnimal(genus=g, age=n) for n, g in enumerate(["Marmota", "Sciurus", "Castor"])]
    heard: list[tuple[str, int, bool]] = []

    def before(sender: Any, documents: list[Any], **kwargs: Any) -> None:
        heard.append(("pre", len(documents), False))

    def after(sender: Any, documents: list[Any], loaded: bool, **kwargs: Any) -> None:
        heard.append(("post", len(documents), loaded))

    signals.pre_bulk_insert.connect(before, sender=UpAnimal)
    signals.post_bulk_insert.connect(after, sender=UpAnimal)
    try:
        inserted = UpAnimal.objects.insert(docs)
        ids = UpAnimal.objects.insert(UpAnimal(genus="Vulpes"), load_bulk=False)
    finally:
        signals.pre_bulk_insert.disconnect(before, sender=UpAnimal)
        signals.post_bulk_insert.disconnect(after, sender=UpAnimal)
    assert [(a.genus, a.age) for a in inserted] == [("Marmota", 0), ("Sciurus", 1), ("Castor", 2)]
    assert all(isinstance(a, UpAnimal) and a.id is not None for a in inserted)
    assert isinstance(ids, ObjectId)
    assert heard == [("pre", 3, False), ("post", 3, True), ("pre", 1, False), ("post", 1, False)]
    assert len(stored(db)) == 4


def test_insert_refuses_stored_or_foreign_documents_and_writes_nothing(db: Any) -> None:
    marmot = UpAnimal(genus="Marmota").save()
    with pytest.raises(OperationError, match=r"use doc\.update"):
        UpAnimal.objects.insert([UpAnimal(genus="Sciurus"), marmot])
    with pytest.raises(OperationError, match="aren't instances of UpAnimal"):
        UpAnimal.objects.insert([UpPet(name="rex")])
    assert len(stored(db)) == 1


# -- bad input: MongoEngine's own errors, nothing written ----------------------------------


@pytest.mark.parametrize(
    ("update", "error", "says"),
    [
        ({"set__nothere": 1}, InvalidQueryError, 'Cannot resolve field "nothere"'),
        ({"frobnicate__age": 1}, InvalidQueryError, 'Cannot resolve field "frobnicate"'),
        ({"set__age__S__x": 1}, InvalidQueryError, "Cannot resolve subfield or operator S"),
        ({"inc__age": "one"}, ValueError, "invalid literal for int"),  # the field's own check
    ],
)
def test_an_unknown_field_or_operator_raises_mongoengines_error_and_writes_nothing(
    db: Any, update: dict[str, Any], error: type[Exception], says: str
) -> None:
    three(db)
    before = stored(db)
    marmot = UpAnimal.objects(genus="Sciurus").get()
    with pytest.raises(error, match=says):
        UpAnimal.objects.update(**update)
    with pytest.raises(error, match=says):
        UpAnimal.objects.modify(**update)
    with pytest.raises(error, match=says):
        marmot.update(**update)
    with pytest.raises(error, match=says):
        marmot.modify(**update)
    assert stored(db) == before


# -- one document ---------------------------------------------------------------------------


def test_document_update_changes_the_stored_document_not_the_instance(db: Any) -> None:
    marmot, other, _ = three(db)
    assert marmot.update(inc__age=10, push__tags="z") == 1
    assert marmot.age == 3  # as MongoEngine: reload() to see the change
    marmot.reload()
    assert (marmot.age, marmot.tags) == (13, ["a", "z"])
    assert (db.up_animals.find_one({"_id": other.id}))["age"] == 5


def test_document_update_of_an_unsaved_document(db: Any) -> None:
    with pytest.raises(OperationError, match="not yet saved"):
        UpAnimal(genus="Marmota").update(set__age=1)
    assert UpAnimal(genus="Marmota", age=2).update(upsert=True, set__tags=["u"]) == 1
    assert stored(db) == [{"genus": "Marmota", "age": 2, "tags": ["u"], "legs": []}]


def test_document_modify_refreshes_the_instance_and_says_whether_it_matched(
    db: Any,
) -> None:
    marmot, *_ = three(db)
    db.up_animals.update_one({"_id": marmot.id}, {"$set": {"tags": ["theirs"]}})
    assert marmot.modify(query={"age": 3}, inc__age=1) is True
    assert (marmot.age, marmot.tags) == (4, ["theirs"])
    assert marmot._get_changed_fields() == []
    assert marmot.modify(query={"age": 99}, inc__age=1) is False
    assert marmot.age == 4
    assert marmot.modify(Q(genus="Marmota"), set__genus="M") is True
    assert marmot.genus == "M"


def test_document_modify_refuses_another_documents_id(db: Any) -> None:
    marmot, other, _ = three(db)
    with pytest.raises(InvalidQueryError, match="only this document"):
        marmot.modify(query={"id": other.id}, set__age=0)
    assert (db.up_animals.find_one({"_id": other.id}))["age"] == 5


# -- files held by updated fields ------------------------------------------------------------


def files_stored(db: Any) -> set[Any]:
    return {doc["_id"] for doc in db["fs.files"].find({})}


def test_a_file_replaced_or_unset_by_an_update_is_deleted_after_it(db: Any) -> None:
    album = UpAlbum(title="a")
    album.cover.put(b"old cover")
    album.save()
    fresh = UpAlbum(title="spare")
    fresh.cover.put(b"new cover")
    new = fresh.cover.grid_id

    UpAlbum.objects(id=album.id).update(set__cover=new)
    assert files_stored(db) == {new}  # the old cover was released: deleted
    album.reload()
    assert album.cover.read() == b"new cover"

    album.update(unset__cover=True)
    assert files_stored(db) == set()


def test_a_file_assigned_to_a_proxy_is_stored_by_the_update(db: Any) -> None:
    album = UpAlbum(title="a")
    album.cover.put(b"old cover")
    album.save()
    old = album.cover.grid_id
    spare = UpAlbum(title="spare")
    spare.cover = b"new cover"  # assigned: stored when something saves it
    UpAlbum.objects(id=album.id).update(set__cover=spare.cover)
    album.reload()
    assert album.cover.grid_id not in (None, old)
    assert album.cover.read() == b"new cover"
    assert files_stored(db) == {album.cover.grid_id}  # the old cover was released
    other = UpAlbum(title="other")
    other.cover.put(b"other cover")
    found = UpAlbum.objects(id=album.id).modify(set__cover=other.cover, new=True)
    assert found is not None and found.cover.grid_id == other.cover.grid_id


def test_an_update_that_keeps_the_file_deletes_nothing(db: Any) -> None:
    album = UpAlbum(title="a")
    album.cover.put(b"cover")
    album.save()
    album.update(set__title="b")
    album.update(set__cover=album.cover.grid_id)
    assert files_stored(db) == {album.cover.grid_id}


def test_files_in_embedded_documents_and_modify_follow_the_same_rule(db: Any) -> None:
    album = UpAlbum(title="a", scan=UpScan())
    album.scan.image.put(b"scan")
    album.save()
    old = album.scan.image.grid_id
    found = UpAlbum.objects(id=album.id).modify(set__scan=UpScan(), new=True)
    assert found is not None and not found.scan.image
    assert old not in files_stored(db)


def test_a_field_that_keeps_its_files_keeps_them_through_updates(db: Any) -> None:
    album = UpAlbum(title="a")
    album.shared.put(b"shared")
    album.save()
    album.update(unset__shared=True)
    assert files_stored(db) == {album.shared.grid_id}


def test_modify_remove_deletes_the_files_of_the_removed_document(db: Any) -> None:
    album = UpAlbum(title="a")
    album.cover.put(b"cover")
    album.save()
    gone = UpAlbum.objects(title="a").modify(remove=True)
    assert gone is not None and gone.id == album.id
    assert files_stored(db) == set()

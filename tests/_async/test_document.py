"""Document: save, delete and reload on MongoEngine's machinery, and what file holders hear."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mongoengine
import pytest
from bson import ObjectId
from mongoengine.errors import (
    InvalidDocumentError,
    NotUniqueError,
    SaveConditionError,
    ValidationError,
)

from gridfield._async.connection import ConnectionFailure, get_db
from gridfield._async.document import Document
from gridfield.plain_fields import (
    DictField,
    EmbeddedDocument,
    EmbeddedDocumentField,
    IntField,
    ListField,
    StringField,
)

ALIAS = "gridfield-test-document"

# What Label values heard: (event, label, documents of its owner's class then stored).
calls: list[tuple[str, Any, int]] = []


class Label(str):
    """A value that, like a FileField's proxy, hears of its owner's writes (a FileHolder)."""

    async def after_owner_delete(self) -> None:
        stored = await get_db(ALIAS).doc_critters.count_documents({})
        calls.append(("delete", str(self), stored))
        if self == "explode":
            raise RuntimeError(f"hook failed on {self}")

    async def before_owner_save(self) -> None:
        pass  # nothing assigned: nothing to store

    async def owner_save_failed(self) -> None:
        pass

    async def after_owner_save(self) -> None:
        calls.append(("save", str(self), -1))

    def held_file_ids(self) -> list[Any]:
        return []


class HookedField(StringField):  # type: ignore[misc]
    """A field whose values are Labels, made on assignment and on load."""

    holds_files = True

    def to_python(self, value: Any) -> Any:
        return Label(value) if isinstance(value, str) else value


class DocBurrow(EmbeddedDocument):
    depth = IntField()
    label = HookedField()


class DocCritter(Document):
    genus = StringField(required=True)
    family = StringField()
    age = IntField(min_value=0)
    tags = ListField(StringField())
    tag = HookedField()
    burrow = EmbeddedDocumentField(DocBurrow)
    burrows = ListField(EmbeddedDocumentField(DocBurrow))
    labels = ListField(HookedField())
    by_name = DictField(field=EmbeddedDocumentField(DocBurrow))
    meta = {"db_alias": ALIAS, "collection": "doc_critters"}


class DocNamed(Document):
    """Its own primary key, and a unique field."""

    name = StringField(primary_key=True)
    code = StringField(unique=True)
    meta = {"db_alias": ALIAS, "collection": "doc_named"}


class DocElsewhere(Document):
    genus = StringField()
    meta = {"db_alias": "gridfield-test-never-connected"}


@pytest.fixture
def db(connected: Callable[..., Any]) -> Any:
    calls.clear()
    return connected(ALIAS)


async def test_save_inserts_a_new_document_and_sets_its_id(db: Any) -> None:
    marmot = DocCritter(genus="Marmota", family="Sciuridae", age=3)
    assert marmot._created and marmot.id is None

    assert await marmot.save() is marmot

    assert isinstance(marmot.id, ObjectId)
    assert marmot.pk == marmot.id
    assert not marmot._created
    assert marmot._get_changed_fields() == []
    raw = await db.doc_critters.find_one({"_id": marmot.id})
    assert raw == {
        "_id": marmot.id,
        "genus": "Marmota",
        "family": "Sciuridae",
        "age": 3,
        "tags": [],
        "burrows": [],
        "labels": [],
        "by_name": {},
    }


async def test_save_sends_only_the_changed_fields(db: Any) -> None:
    marmot = await DocCritter(genus="Marmota", family="Sciuridae", age=3).save()
    loaded = await DocCritter.objects(id=marmot.id).first()
    assert loaded is not None
    # someone else changes another field meanwhile
    await db.doc_critters.update_one({"_id": marmot.id}, {"$set": {"family": "Other"}})

    loaded.age = 4
    loaded.tags.append("fat")
    assert loaded._delta() == ({"age": 4, "tags": ["fat"]}, {})
    await loaded.save()

    raw = await db.doc_critters.find_one({"_id": marmot.id})
    assert raw["family"] == "Other"  # untouched by this save
    assert (raw["age"], raw["tags"]) == (4, ["fat"])
    assert loaded._get_changed_fields() == []


async def test_saving_a_new_copy_again_updates_only_its_changes(db: Any) -> None:
    marmot = await DocCritter(genus="Marmota", age=1).save()
    await db.doc_critters.update_one({"_id": marmot.id}, {"$set": {"family": "Theirs"}})
    marmot.age = 2
    await marmot.save()  # saved once, so now an update of the one change
    raw = await db.doc_critters.find_one({"_id": marmot.id})
    assert (raw["family"], raw["age"]) == ("Theirs", 2)
    assert await db.doc_critters.count_documents({}) == 1


async def test_a_new_document_given_its_id_after_creation_is_stored_whole(db: Any) -> None:
    marmot = DocCritter(genus="Marmota", age=3)
    marmot.id = ObjectId()  # MongoEngine then clears _created
    await marmot.save()
    raw = await db.doc_critters.find_one({"_id": marmot.id})
    assert (raw["genus"], raw["age"]) == ("Marmota", 3)


async def test_a_field_set_to_none_is_unset(db: Any) -> None:
    marmot = await DocCritter(genus="Marmota", family="Sciuridae").save()
    marmot.family = None
    await marmot.save()
    raw = await db.doc_critters.find_one({"_id": marmot.id})
    assert "family" not in raw


async def test_an_invalid_document_is_refused_and_nothing_is_written(db: Any) -> None:
    with pytest.raises(ValidationError, match="genus"):
        await DocCritter(age=3).save()
    with pytest.raises(ValidationError, match="age"):
        await DocCritter(genus="Marmota", age=-1).save()
    assert await db.doc_critters.count_documents({}) == 0

    marmot = await DocCritter(genus="Marmota", age=1).save()
    marmot.age = -5
    with pytest.raises(ValidationError):
        await marmot.save()
    assert (await db.doc_critters.find_one({"_id": marmot.id}))["age"] == 1
    await marmot.save(validate=False)  # asked for: stored as it is
    assert (await db.doc_critters.find_one({"_id": marmot.id}))["age"] == -5


async def test_saving_a_document_deleted_meanwhile_stores_it_again_whole(db: Any) -> None:
    marmot = await DocCritter(genus="Marmota", family="Sciuridae", age=1).save()
    await db.doc_critters.delete_one({"_id": marmot.id})
    saved: list[bool] = []

    def heard(sender: Any, document: Any, created: bool, **kwargs: Any) -> None:
        saved.append(created)

    marmot.age = 2
    mongoengine.signals.post_save.connect(heard, sender=DocCritter)
    try:
        await marmot.save()  # MongoEngine's save() upserts
    finally:
        mongoengine.signals.post_save.disconnect(heard, sender=DocCritter)
    raw = await db.doc_critters.find_one({"_id": marmot.id})
    assert raw == {
        "_id": marmot.id,
        "genus": "Marmota",
        "family": "Sciuridae",
        "age": 2,
        "tags": [],
        "burrows": [],
        "labels": [],
        "by_name": {},
    }
    assert saved == [True]  # stored anew


async def test_a_save_condition_never_upserts_a_document_deleted_meanwhile(db: Any) -> None:
    marmot = await DocCritter(genus="Marmota", age=1).save()
    await db.doc_critters.delete_one({"_id": marmot.id})
    marmot.age = 2
    with pytest.raises(SaveConditionError, match="save condition"):
        await marmot.save(save_condition={"age": 1})
    assert await db.doc_critters.count_documents({}) == 0


async def test_a_save_condition_guards_the_update(db: Any) -> None:
    marmot = await DocCritter(genus="Marmota", age=1).save()
    marmot.age = 2
    with pytest.raises(SaveConditionError, match="save condition"):
        await marmot.save(save_condition={"age": 7})
    assert (await db.doc_critters.find_one({"_id": marmot.id}))["age"] == 1
    await marmot.save(save_condition={"age": 1})
    assert (await db.doc_critters.find_one({"_id": marmot.id}))["age"] == 2


async def test_a_document_with_its_own_id_replaces_or_must_be_new(db: Any) -> None:
    await DocNamed(name="ann", code="a").save()
    await DocNamed(name="ann", code="b").save()  # new object, same id: takes its place
    assert await db.doc_named.find({}).to_list(None) == [{"_id": "ann", "code": "b"}]
    with pytest.raises(NotUniqueError):
        await DocNamed(name="ann", code="c").save(force_insert=True)


async def test_unique_fields_get_their_index_and_duplicates_are_refused(db: Any) -> None:
    await DocNamed(name="ann", code="x").save()
    with pytest.raises(NotUniqueError, match="duplicate"):
        await DocNamed(name="bob", code="x").save()
    indexes = await db.doc_named.index_information()
    assert any(spec.get("unique") for spec in indexes.values())
    assert await db.doc_named.count_documents({}) == 1


async def test_delete_removes_the_document(db: Any) -> None:
    marmot = await DocCritter(genus="Marmota").save()
    other = await DocCritter(genus="Other").save()
    await marmot.delete()
    assert await db.doc_critters.count_documents({}) == 1
    assert await db.doc_critters.find_one({"_id": other.id}) is not None
    await marmot.delete()  # already gone: nothing more to do


async def test_delete_hooks_run_after_the_document_is_gone_on_every_hooked_value(
    db: Any,
) -> None:
    marmot = DocCritter(
        genus="Marmota",
        tag="top",
        burrow=DocBurrow(depth=1, label="embedded"),
        burrows=[DocBurrow(label="in-list-1"), DocBurrow(depth=3)],
        labels=["list-a", "list-b"],
        by_name={"k": DocBurrow(label="in-dict")},
    )
    await marmot.save()
    calls.clear()

    await marmot.delete()

    deleted = sorted(value for hook, value, _ in calls if hook == "delete")
    assert deleted == ["embedded", "in-dict", "in-list-1", "list-a", "list-b", "top"]
    assert {stored for _, _, stored in calls} == {0}  # each hook ran after the delete


async def test_every_delete_hook_runs_and_the_first_failure_is_raised(db: Any) -> None:
    marmot = await DocCritter(genus="Marmota", tag="explode", labels=["after"]).save()
    with pytest.raises(RuntimeError, match="hook failed on explode"):
        await marmot.delete()
    assert ("delete", "after", 0) in calls
    assert await db.doc_critters.count_documents({}) == 0


async def test_save_hooks_run_after_the_write(db: Any) -> None:
    marmot = DocCritter(genus="Marmota", tag="top", burrow=DocBurrow(label="down"))
    await marmot.save()
    assert sorted(value for hook, value, _ in calls if hook == "save") == ["down", "top"]


async def test_reload_reads_the_stored_values_again(db: Any) -> None:
    marmot = await DocCritter(genus="Marmota", family="Sciuridae", age=1).save()
    await db.doc_critters.update_one({"_id": marmot.id}, {"$set": {"age": 9, "family": "Theirs"}})
    marmot.genus = "Unsaved"

    assert await marmot.reload("age") is marmot
    assert (marmot.age, marmot.family, marmot.genus) == (9, "Sciuridae", "Unsaved")
    assert marmot._get_changed_fields() == ["genus"]  # the unsaved change is kept

    await marmot.reload()
    assert (marmot.age, marmot.family, marmot.genus) == (9, "Theirs", "Marmota")
    assert marmot._get_changed_fields() == []


async def test_reload_of_a_gone_or_unsaved_document_raises_does_not_exist(db: Any) -> None:
    marmot = await DocCritter(genus="Marmota").save()
    await db.doc_critters.delete_one({"_id": marmot.id})
    with pytest.raises(DocCritter.DoesNotExist, match="no stored document"):
        await marmot.reload()
    with pytest.raises(DocCritter.DoesNotExist, match="never saved"):
        await DocCritter(genus="New").reload()
    assert issubclass(DocCritter.DoesNotExist, mongoengine.DoesNotExist)


async def test_a_document_on_an_alias_never_connected_says_so(db: Any) -> None:
    with pytest.raises(ConnectionFailure, match="gridfield-test-never-connected"):
        await DocElsewhere(genus="x").save()
    with pytest.raises(ConnectionFailure, match="connect"):
        await DocElsewhere.objects.first()


async def test_mongoengines_own_query_set_is_refused_for_ours(db: Any) -> None:
    marmot = await DocCritter(genus="Marmota").save()
    with pytest.raises(NotImplementedError, match=r"DocCritter\.objects"):
        marmot._qs  # noqa: B018


async def test_the_base_class_is_abstract(db: Any) -> None:
    with pytest.raises(InvalidDocumentError, match="abstract"):
        Document._get_collection()


async def test_drop_collection_and_ensure_indexes(db: Any) -> None:
    await DocNamed(name="ann", code="x").save()
    await DocNamed.drop_collection()
    assert "doc_named" not in await db.list_collection_names()
    await DocNamed.ensure_indexes()
    indexes = await db.doc_named.index_information()
    assert any(spec.get("unique") for spec in indexes.values())

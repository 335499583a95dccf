# Generated from tests/_async/test_context.py by scripts/unasync.py: do not edit.
"""Where documents live (using, switch_db, switch_collection), indexes from meta, signals."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from mongoengine import signals
from mongoengine.errors import NotUniqueError

from gridfield._sync.connection import connect, disconnect
from gridfield._sync.document import Document
from gridfield._sync.references import ReferenceField
from gridfield.plain_fields import IntField, StringField

from ..conftest import fresh_db_name

ALIAS = "gridfield-test-context"
ARCHIVE = "gridfield-test-context-archive"


class CxAnimal(Document):
    genus = StringField()
    code = StringField(unique=True, sparse=True)
    age = IntField()
    meta = {
        "db_alias": ALIAS,
        "collection": "cx_animals",
        "indexes": ["genus", ("-age", "genus"), {"fields": ["age"], "name": "by_age"}],
    }


@pytest.fixture
def dbs(connected: Callable[..., Any], sync_client: Any) -> Iterator[tuple[Any, Any]]:
    """The test's database under ALIAS, and a second fresh one under ARCHIVE."""
    main = connected(ALIAS)
    archive_name = fresh_db_name()
    archive = connect(db=archive_name, client=sync_client, alias=ARCHIVE)
    try:
        yield main, archive
    finally:
        disconnect(ARCHIVE)
        sync_client.drop_database(archive_name)


def genera(collection: Any) -> list[str]:
    return sorted([doc["genus"] for doc in collection.find({})])


def test_using_runs_the_query_on_another_connection(dbs: tuple[Any, Any]) -> None:
    main, archive = dbs
    CxAnimal(genus="Marmota").save()
    archive.cx_animals.insert_one({"genus": "Castor"})
    assert [a.genus for a in CxAnimal.objects.to_list()] == ["Marmota"]
    assert [a.genus for a in CxAnimal.objects.using(ARCHIVE).to_list()] == ["Castor"]
    assert CxAnimal.objects.using(ARCHIVE).update(set__age=3) == 1
    assert (archive.cx_animals.find_one({}))["age"] == 3
    assert (main.cx_animals.find_one({})).get("age") is None
    CxAnimal.objects.using(ARCHIVE).delete()
    assert (genera(main.cx_animals), genera(archive.cx_animals)) == (["Marmota"], [])


def test_switch_db_moves_one_document_only(dbs: tuple[Any, Any]) -> None:
    main, archive = dbs
    marmot = CxAnimal(genus="Marmota", age=1).save()
    other = CxAnimal(genus="Castor").save()

    marmot.switch_db(ARCHIVE, keep_created=False)
    marmot.save()  # an insert there: keep_created=False
    assert genera(archive.cx_animals) == ["Marmota"]
    marmot.age = 2
    marmot.save()
    marmot.update(inc__age=10)
    marmot.reload()
    assert marmot.age == 12
    assert (main.cx_animals.find_one({"_id": marmot.id}))["age"] == 1  # untouched
    assert other._switched == (None, None)
    marmot.delete()
    assert genera(archive.cx_animals) == []
    assert genera(main.cx_animals) == ["Castor", "Marmota"]
    # the archive got the class's indexes on its first write there
    assert "by_age" in archive.cx_animals.index_information()


def test_switch_collection_within_the_same_database(dbs: tuple[Any, Any]) -> None:
    main, _ = dbs
    marmot = CxAnimal(genus="Marmota").save()
    marmot.switch_collection("cx_old", keep_created=False)
    marmot.save()
    assert genera(main.cx_old) == ["Marmota"]
    assert genera(main.cx_animals) == ["Marmota"]
    assert marmot.modify(set__age=5) is True
    assert (main.cx_old.find_one({}))["age"] == 5
    assert (main.cx_animals.find_one({})).get("age") is None


def test_ensure_indexes_creates_what_meta_declares(dbs: tuple[Any, Any]) -> None:
    main, _ = dbs
    CxAnimal.ensure_indexes()
    indexes = main.cx_animals.index_information()
    keys = {tuple(spec["key"]) for spec in indexes.values()}
    assert {(("genus", 1),), (("age", -1), ("genus", 1)), (("age", 1),)} <= keys
    assert indexes["by_age"]["key"] == [("age", 1)]
    assert any(spec.get("unique") and spec["key"] == [("code", 1)] for spec in indexes.values())
    CxAnimal(genus="a", code="x").save()
    with pytest.raises(NotUniqueError):
        CxAnimal(genus="b", code="x").save()


def test_mongoengines_signals_are_sent_around_saves_and_deletes(
    dbs: tuple[Any, Any],
) -> None:
    heard: list[tuple[str, Any]] = []

    def hear(name: str) -> Callable[..., None]:
        def receiver(sender: Any, document: Any, **kwargs: Any) -> None:
            heard.append((name, kwargs.get("created", document.genus)))

        return receiver

    receivers = {
        signals.pre_save: hear("pre_save"),
        signals.post_save: hear("post_save"),
        signals.pre_delete: hear("pre_delete"),
        signals.post_delete: hear("post_delete"),
    }
    for signal, receiver in receivers.items():
        signal.connect(receiver, sender=CxAnimal)
    try:
        marmot = CxAnimal(genus="Marmota").save()
        marmot.age = 2
        marmot.save()
        marmot.delete()
        CxAnimal(genus="Castor").save()
        CxAnimal.objects.delete()  # with delete receivers: one document at a time
    finally:
        for signal, receiver in receivers.items():
            signal.disconnect(receiver, sender=CxAnimal)
    assert heard == [
        ("pre_save", "Marmota"),
        ("post_save", True),
        ("pre_save", "Marmota"),
        ("post_save", False),
        ("pre_delete", "Marmota"),
        ("post_delete", "Marmota"),
        ("pre_save", "Castor"),
        ("post_save", True),
        ("pre_delete", "Castor"),
        ("post_delete", "Castor"),
    ]


def test_create_index_and_compare_indexes(dbs: tuple[Any, Any]) -> None:
    main, _ = dbs
    CxAnimal(genus="a").save()  # the declared indexes, made on first write
    assert CxAnimal.compare_indexes() == {"missing": [], "extra": []}
    name = CxAnimal.create_index(["genus", "-age"], name="extra_one")
    assert name == "extra_one"
    info = main.cx_animals.index_information()
    assert info["extra_one"]["key"] == [("genus", 1), ("age", -1)]
    assert CxAnimal.compare_indexes() == {
        "missing": [],
        "extra": [[("genus", 1), ("age", -1)]],
    }
    main.cx_animals.drop_index("by_age")
    assert (CxAnimal.compare_indexes())["missing"] == [[("age", 1)]]


class CxKeeper(Document):
    name = StringField()
    meta = {"db_alias": ALIAS, "collection": "cx_keepers"}


class CxPen(Document):
    keeper = ReferenceField(CxKeeper)
    meta = {"db_alias": ALIAS, "collection": "cx_pens"}


def test_cascade_saves_the_changed_documents_references_hold(dbs: tuple[Any, Any]) -> None:
    main, _ = dbs
    keeper = CxKeeper(name="ann").save()
    pen = CxPen(keeper=keeper).save()
    keeper.name = "anna"
    pen.save()  # no cascade: the keeper's change stays unsaved
    assert (main.cx_keepers.find_one({}))["name"] == "ann"
    pen.save(cascade=True)
    assert (main.cx_keepers.find_one({}))["name"] == "anna"
    keeper.name = "annie"
    pen.cascade_save()
    assert (main.cx_keepers.find_one({}))["name"] == "annie"

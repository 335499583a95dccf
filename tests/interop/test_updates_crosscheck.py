"""The same writes through a plain mongoengine.Document and gridfield's sync Document store
the same documents: saves, MongoEngine's update keywords, modify, upserts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import mongoengine
import pytest
from bson import ObjectId
from pymongo import MongoClient

import gridfield.sync
from gridfield.plain_fields import (
    EmbeddedDocument,
    EmbeddedDocumentField,
    IntField,
    ListField,
    StringField,
)
from tests.conftest import fresh_db_name


class XcLeg(EmbeddedDocument):
    side = StringField()
    length = IntField()


def fields() -> dict[str, Any]:
    return {
        "genus": StringField(),
        "age": IntField(default=0),
        "tags": ListField(StringField()),
        "legs": ListField(EmbeddedDocumentField(XcLeg)),
        "family": StringField(db_field="fam"),
    }


XcTheirs = type(
    "XcTheirs", (mongoengine.Document,), {**fields(), "meta": {"collection": "animals"}}
)
OURS = "gridfield-crosscheck"
XcOurs = type(
    "XcOurs",
    (gridfield.sync.Document,),
    {**fields(), "meta": {"collection": "animals", "db_alias": OURS}},
)


@pytest.fixture
def both(mongo_uri: str) -> Iterator[tuple[Any, Any]]:
    """MongoEngine connected to one fresh database, gridfield to another: (theirs, ours)."""
    theirs, ours = fresh_db_name(), fresh_db_name()
    mongoengine.connect(db=theirs, host=mongo_uri, uuidRepresentation="standard")
    gridfield.sync.connect(db=ours, host=mongo_uri, alias=OURS)
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        yield client[theirs].animals, client[ours].animals
    finally:
        mongoengine.disconnect()
        gridfield.sync.disconnect(OURS)
        client.drop_database(theirs)
        client.drop_database(ours)
        client.close()


def same_everywhere(
    both: tuple[Any, Any], steps: Callable[[type[Any]], Any]
) -> list[dict[str, Any]]:
    """Run ``steps`` on each class; assert both databases hold the same; return what they hold."""
    results = [steps(XcTheirs), steps(XcOurs)]
    theirs, ours = ([without_new_ids(doc) for doc in c.find({}).sort("_id", 1)] for c in both)
    assert ours == theirs
    assert results[0] == results[1]
    return ours


IDS = [ObjectId() for _ in range(3)]


def without_new_ids(doc: dict[str, Any]) -> dict[str, Any]:
    """The document, its id replaced by "new" when the server made it (an upsert)."""
    return {**doc, "_id": doc["_id"] if doc["_id"] in IDS else "new"}


def three(cls: type[Any]) -> None:
    for n, (genus, age) in enumerate([("Marmota", 3), ("Marmota", 5), ("Sciurus", 1)]):
        cls(id=IDS[n], genus=genus, age=age, tags=[genus[0]], family="Sciuridae").save()


def test_saves_and_query_set_updates(both: tuple[Any, Any]) -> None:
    def steps(cls: type[Any]) -> Any:
        three(cls)
        counts = [
            cls.objects(genus="Marmota").update(inc__age=1, push__tags="fat"),
            cls.objects(age__lt=3).update(set__family="Tiny", add_to_set__tags="fat"),
            cls.objects.update(pull__tags="M"),
            cls.objects(genus="Sciurus").update_one(push_all__tags=["x", "y"], dec__age=1),
            cls.objects(genus="Sciurus").update(pop__tags=-1),
            cls.objects(genus="Tamias").update(upsert=True, set__age=9),
        ]
        loaded = cls.objects(genus="Marmota").order_by("age").first()
        loaded.legs.append(XcLeg(side="left", length=2))
        loaded.family = None
        loaded.save()
        return counts

    stored = same_everywhere(both, steps)
    assert len(stored) == 4
    assert stored[0]["legs"] == [{"side": "left", "length": 2}]


def test_modify_and_upsert_one(both: tuple[Any, Any]) -> None:
    def steps(cls: type[Any]) -> Any:
        three(cls)
        before = cls.objects(genus="Sciurus").modify(inc__age=10)
        after = cls.objects(genus="Marmota").order_by("-age").modify(set__tags=[], new=True)
        made = cls.objects(genus="Tamias").modify(upsert=True, new=True, set__age=2)
        one = cls.objects.get(id=IDS[0])
        matched = one.modify(query={"age": 3}, unset__family=True)
        missed = one.modify(query={"age": 99}, set__age=0)
        upserted = cls.objects(genus="Castor").upsert_one(set__age=4)
        updated = one.update(set__genus="M")
        return (
            before.age,
            (after.age, after.tags),
            (made.genus, made.age),
            (matched, missed, one.family),
            (upserted.genus, upserted.age),
            updated,
        )

    assert len(same_everywhere(both, steps)) == 5


def test_saving_a_document_deleted_meanwhile_stores_it_again(both: tuple[Any, Any]) -> None:
    """Both upsert; MongoEngine stores only the changed fields, gridfield the whole document."""
    for cls, collection in zip((XcTheirs, XcOurs), both, strict=True):
        three(cls)
        loaded = cls.objects.get(id=IDS[0])
        collection.delete_one({"_id": IDS[0]})
        loaded.age = 30
        loaded.save()
    theirs, ours = (c.find_one({"_id": IDS[0]}) for c in both)
    assert theirs == {"_id": IDS[0], "age": 30}
    assert ours == {
        "_id": IDS[0],
        "genus": "Marmota",
        "age": 30,
        "tags": ["M"],
        "legs": [],
        "fam": "Sciuridae",
    }


def reference_classes(base: type[Any], reference: type[Any], prefix: str) -> tuple[Any, ...]:
    """A zoo, and keepers referring to it under CASCADE, NULLIFY and PULL, on ``base``."""
    meta = {} if base is mongoengine.Document else {"db_alias": OURS}
    zoo = type(
        f"{prefix}Zoo", (base,), {"name": StringField(), "meta": {**meta, "collection": "zoos"}}
    )
    keeper = type(
        f"{prefix}Keeper",
        (base,),
        {
            "name": StringField(),
            "cascade": reference(zoo, reverse_delete_rule=mongoengine.CASCADE),
            "nullify": reference(zoo, reverse_delete_rule=mongoengine.NULLIFY),
            "pull": ListField(reference(zoo, reverse_delete_rule=mongoengine.PULL)),
            "meta": {**meta, "collection": "keepers"},
        },
    )
    return zoo, keeper


XcZooTheirs, XcKeeperTheirs = reference_classes(
    mongoengine.Document, mongoengine.ReferenceField, "XcT"
)
XcZooOurs, XcKeeperOurs = reference_classes(
    gridfield.sync.Document, gridfield.sync.ReferenceField, "XcO"
)


def test_reverse_delete_rules(both: tuple[Any, Any]) -> None:
    """Deleting referenced documents does the same to what refers to them."""
    zoo_ids = [ObjectId() for _ in range(3)]
    keeper_ids = [ObjectId() for _ in range(4)]
    stored = []
    for zoo_cls, keeper_cls, animals in zip(
        (XcZooTheirs, XcZooOurs), (XcKeeperTheirs, XcKeeperOurs), both, strict=True
    ):
        zoos = [zoo_cls(id=i, name=f"z{n}").save() for n, i in enumerate(zoo_ids)]
        keeper_cls(id=keeper_ids[0], name="a", cascade=zoos[0]).save()
        keeper_cls(id=keeper_ids[1], name="b", nullify=zoos[0], pull=zoos).save()
        keeper_cls(id=keeper_ids[2], name="c", cascade=zoos[1], nullify=zoos[2]).save()
        keeper_cls(id=keeper_ids[3], name="d", pull=[zoos[2], zoos[0]]).save()
        zoos[0].delete()
        zoo_cls.objects(name__in=["z1", "z2"]).delete()
        database = animals.database
        stored.append(
            (
                list(database.zoos.find({}).sort("_id", 1)),
                list(database.keepers.find({}).sort("_id", 1)),
            )
        )
    theirs, ours = stored
    assert ours == theirs
    assert theirs[0] == []
    assert [k["name"] for k in theirs[1]] == ["b", "d"]

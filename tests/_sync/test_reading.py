# Generated from tests/_async/test_reading.py by scripts/unasync.py: do not edit.
"""Reading helpers of the query set: distinct, in_bulk, exists, scalars, aggregate, options."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from mongoengine.errors import InvalidQueryError, LookUpError
from pymongo import MongoClient
from pymongo.collation import Collation
from pymongo.errors import OperationFailure

from gridfield._sync.connection import connect, disconnect
from gridfield._sync.document import Document
from gridfield.plain_fields import (
    EmbeddedDocument,
    EmbeddedDocumentField,
    IntField,
    ListField,
    StringField,
)

from ..commands import Commands
from ..server_differences import COLLATION_ERROR, collation_supported

ALIAS = "gridfield-test-reading"


class RdHome(EmbeddedDocument):
    place = StringField()


class RdAnimal(Document):
    genus = StringField()
    family = StringField(db_field="fam")
    age = IntField()
    tags = ListField(StringField())
    home = EmbeddedDocumentField(RdHome)
    meta = {"db_alias": ALIAS, "collection": "rd_animals"}


ANIMALS = [
    ("Marmota", "Sciuridae", 3, ["fat", "alpine"], "Alps"),
    ("Sciurus", "Sciuridae", 1, ["tree"], "Park"),
    ("Castor", "Castoridae", 7, ["dam", "fat"], "River"),
    ("Vulpes", "Canidae", 5, [], "Park"),
]


@pytest.fixture
def commands(sync_db: Any, mongo_uri: str) -> Iterator[Commands]:
    """The test's database under ALIAS, on a client whose every command is recorded."""
    heard = Commands()
    client: Any = MongoClient(mongo_uri, event_listeners=[heard])
    connect(db=sync_db.name, client=client, alias=ALIAS)
    try:
        for genus, family, age, tags, place in ANIMALS:
            RdAnimal(
                genus=genus, family=family, age=age, tags=tags, home=RdHome(place=place)
            ).save()
        heard.clear()
        yield heard
    finally:
        disconnect(ALIAS)
        client.close()


def test_distinct_values_of_a_field(commands: Commands) -> None:
    assert sorted(RdAnimal.objects.distinct("family")) == [
        "Canidae",
        "Castoridae",
        "Sciuridae",
    ]
    assert sorted(RdAnimal.objects(age__gt=2).distinct("tags")) == ["alpine", "dam", "fat"]
    assert sorted(RdAnimal.objects.distinct("home.place")) == ["Alps", "Park", "River"]
    homes = RdAnimal.objects(genus="Marmota").distinct("home")
    assert homes == [RdHome(place="Alps")]
    assert isinstance(homes[0], RdHome)
    assert commands.named("distinct")[0]["key"] == "fam"  # the stored name


def test_in_bulk_maps_ids_to_documents(commands: Commands) -> None:
    everyone = RdAnimal.objects.order_by("age").to_list()
    wanted = [everyone[0].id, everyone[2].id]
    found = RdAnimal.objects.in_bulk(wanted)
    assert set(found) == set(wanted)
    assert found[everyone[0].id].genus == "Sciurus"
    assert isinstance(found[everyone[2].id], RdAnimal)
    assert RdAnimal.objects.in_bulk([]) == {}


def test_exists_fetches_one_id(commands: Commands) -> None:
    assert RdAnimal.objects(genus="Castor").exists() is True
    assert RdAnimal.objects(genus="Felis").exists() is False
    finds = commands.named("find")
    assert [f.get("projection") for f in finds] == [{"_id": 1}, {"_id": 1}]
    assert all(f.get("limit") == 1 for f in finds)


def test_scalar_and_values_list_yield_values(commands: Commands) -> None:
    by_age = RdAnimal.objects.order_by("age")
    assert [g for g in by_age.scalar("genus")] == ["Sciurus", "Marmota", "Vulpes", "Castor"]
    pairs = by_age.values_list("genus", "home__place").to_list()
    assert pairs[:2] == [("Sciurus", "Park"), ("Marmota", "Alps")]
    assert by_age.scalar("family").first() == "Sciuridae"
    (first, *_) = commands.named("find")
    assert set(first["projection"]) == {"genus"}  # only what is asked for is fetched


def test_aggregate_runs_after_the_query_sets_own_stages(commands: Commands) -> None:
    pipeline = [{"$group": {"_id": "$fam", "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}]
    results = [r for r in RdAnimal.objects(age__gt=2).aggregate(pipeline)]
    assert results == [
        {"_id": "Canidae", "n": 1},
        {"_id": "Castoridae", "n": 1},
        {"_id": "Sciuridae", "n": 1},
    ]
    oldest = RdAnimal.objects.order_by("-age").limit(2).only("genus")
    assert [r["genus"] for r in oldest.aggregate([])] == ["Castor", "Vulpes"]


def test_explain_returns_the_servers_plan(commands: Commands) -> None:
    plan = RdAnimal.objects(genus="Marmota").explain()
    assert "queryPlanner" in plan
    assert commands.named("explain")


def test_cursor_options_reach_the_server(commands: Commands) -> None:
    query = (
        RdAnimal.objects(genus="Marmota")
        .hint([("_id", 1)])
        .max_time_ms(5000)
        .comment("marmots please")
        .batch_size(2)
    )
    assert [a.genus for a in query.to_list()] == ["Marmota"]
    (find,) = commands.named("find")
    assert find["hint"] == {"_id": 1}
    assert find["maxTimeMS"] == 5000
    assert find["comment"] == "marmots please"
    assert find["batchSize"] == 2
    assert query.count() == 1
    (count,) = commands.named("aggregate")  # count_documents
    assert (count["hint"], count["maxTimeMS"], count["comment"]) == (
        {"_id": 1},
        5000,
        "marmots please",
    )


def test_a_collation_compares_as_asked(commands: Commands, server_kind: str) -> None:
    caseless = RdAnimal.objects(genus="marmota").collation(Collation("en", strength=2))
    if not collation_supported(server_kind):
        with pytest.raises(OperationFailure, match=COLLATION_ERROR):
            caseless.to_list()
    else:
        assert [a.genus for a in caseless.to_list()] == ["Marmota"]
        assert RdAnimal.objects(genus="marmota").to_list() == []
    (find, *_) = commands.named("find")
    assert find["collation"] == {"locale": "en", "strength": 2}


def test_iteration_keeps_no_documents_and_fetches_in_batches(
    commands: Commands,
) -> None:
    RdAnimal.objects.delete()
    RdAnimal._get_collection().insert_many([{"genus": f"g{n}", "age": n} for n in range(250)])
    commands.clear()
    alive: weakref.WeakSet[RdAnimal] = weakref.WeakSet()
    seen = 0
    for animal in RdAnimal.objects.no_cache().batch_size(50):
        alive.add(animal)
        seen += 1
        del animal
        if seen % 50 == 0:
            gc.collect()
            assert len(alive) <= 1  # none but the one just handed out is held
    assert seen == 250
    get_mores = commands.named("getMore")
    assert len(get_mores) >= 4
    assert all(g["batchSize"] == 50 for g in get_mores)


def test_bad_input_to_reading_helpers(commands: Commands) -> None:
    with pytest.raises(TypeError, match="batch_size"):
        RdAnimal.objects.batch_size("10")  # type: ignore[arg-type]
    with pytest.raises(LookUpError):
        RdAnimal.objects.scalar("nothere")
    with pytest.raises(InvalidQueryError, match="with_id"):
        RdAnimal.objects(genus="Marmota").with_id(None)
    assert commands.named("find") == []

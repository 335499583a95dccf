"""References: no I/O on attribute access, fetch(), select_related(), reverse_delete_rule."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from bson import DBRef
from mongoengine.errors import DoesNotExist, OperationError
from pymongo import AsyncMongoClient

from gridfield._async.connection import connect, disconnect
from gridfield._async.document import Document
from gridfield._async.fields import FileField
from gridfield._async.references import (
    GenericReferenceField,
    LazyReferenceField,
    Reference,
    ReferenceField,
)
from gridfield.plain_fields import (
    CASCADE,
    DENY,
    NULLIFY,
    PULL,
    DictField,
    ListField,
    StringField,
)

from ..commands import Commands
from ..server_differences import DBREF_ERROR, dbrefs_supported

ALIAS = "gridfield-test-references"


class RfPerson(Document):
    name = StringField()
    meta = {"db_alias": ALIAS, "collection": "rf_people"}


class RfBurrow(Document):
    name = StringField()
    meta = {"db_alias": ALIAS, "collection": "rf_burrows"}


class RfAnimal(Document):
    genus = StringField()
    owner = ReferenceField(RfPerson)
    vet = LazyReferenceField(RfPerson)
    burrow = ReferenceField(RfBurrow)
    friends = ListField(ReferenceField(RfPerson))
    by_role = DictField(field=ReferenceField(RfPerson))
    meta = {"db_alias": ALIAS, "collection": "rf_animals"}


class RfPet(Document):
    name = StringField()
    meta = {"db_alias": ALIAS, "collection": "rf_pets", "allow_inheritance": True}


class RfDog(RfPet):
    pass


class RfPetOwner(Document):
    pet = ReferenceField(RfPet)
    dog = ReferenceField(RfDog)
    meta = {"db_alias": ALIAS, "collection": "rf_pet_owners"}


class RfNest(Document):
    """A generic reference: stored as {_cls, _ref: DBRef}."""

    thing = GenericReferenceField()
    things = ListField(GenericReferenceField())
    meta = {"db_alias": ALIAS, "collection": "rf_nests"}


class RfZoo(Document):
    name = StringField()
    meta = {"db_alias": ALIAS, "collection": "rf_zoos"}


class RfKeeper(Document):
    """Who refers to an RfZoo, under each delete rule."""

    name = StringField()
    cascade = ReferenceField(RfZoo, reverse_delete_rule=CASCADE)
    nullify = ReferenceField(RfZoo, reverse_delete_rule=NULLIFY)
    pull = ListField(ReferenceField(RfZoo, reverse_delete_rule=PULL))
    badge = FileField()
    meta = {"db_alias": ALIAS, "collection": "rf_keepers"}


class RfGuard(Document):
    zoo = ReferenceField(RfZoo, reverse_delete_rule=DENY)
    meta = {"db_alias": ALIAS, "collection": "rf_guards"}


@pytest.fixture
async def commands(async_db: Any, mongo_uri: str) -> AsyncIterator[Commands]:
    """The test's database under ALIAS and "default", on a client recording its commands."""
    heard = Commands()
    client: Any = AsyncMongoClient(mongo_uri, event_listeners=[heard])
    connect(db=async_db.name, client=client, alias=ALIAS)
    connect(db=async_db.name, client=client)  # FileField's files
    try:
        yield heard
    finally:
        disconnect(ALIAS)
        disconnect()
        await client.close()


async def stored(collection: str) -> int:
    counted: int = await RfZoo._get_db()[collection].count_documents({})
    return counted


# -- reading a reference does no I/O; fetch() loads it --------------------------------------


async def test_a_loaded_reference_is_fetched_when_asked(commands: Commands) -> None:
    ann, bob = await RfPerson(name="ann").save(), await RfPerson(name="bob").save()
    await RfAnimal(genus="Marmota", owner=ann, vet=bob, friends=[ann, bob]).save()
    marmot = await RfAnimal.objects.get(genus="Marmota")
    commands.clear()

    owner, vet = marmot.owner, marmot.vet
    friends = list(marmot.friends)
    assert commands.sent == []  # no command for reading the attributes
    assert all(isinstance(r, Reference) for r in (owner, vet, *friends))
    assert (owner.pk, vet.pk) == (ann.id, bob.id)
    assert owner == DBRef("rf_people", ann.id)  # a DBRef, as MongoEngine's references
    with pytest.raises(AttributeError, match="not loaded; fetch"):
        owner.name  # noqa: B018

    assert (await owner.fetch()).name == "ann"
    assert (await vet.fetch()).name == "bob"
    assert [(await f.fetch()).name for f in friends] == ["ann", "bob"]
    assert await owner.fetch() is await owner.fetch()  # loaded once
    assert len(commands.named("find")) == 4


async def test_generic_references(commands: Commands, server_kind: str) -> None:
    ann, den = await RfPerson(name="ann").save(), await RfBurrow(name="den").save()
    nest = RfNest(thing=den, things=[ann, den])
    if not dbrefs_supported(server_kind):
        with pytest.raises(OperationError, match=DBREF_ERROR):
            await nest.save()
        assert await stored("rf_nests") == 0
        return
    await nest.save()
    loaded = await RfNest.objects.get(id=nest.id)
    assert isinstance(loaded.thing, Reference) and loaded.thing.document_type is RfBurrow
    assert (await loaded.thing.fetch()).name == "den"
    commands.clear()
    related = await RfNest.objects.select_related().first()
    assert related is not None
    assert isinstance(related.thing, RfBurrow)
    assert [type(t) for t in related.things] == [RfPerson, RfBurrow]
    assert len(commands.named("find")) == 3  # the nests, the people, the burrows


async def test_a_reference_to_a_deleted_document_says_so(commands: Commands) -> None:
    ann = await RfPerson(name="ann").save()
    await RfAnimal(genus="Marmota", owner=ann).save()
    await RfPerson._get_collection().delete_one({"_id": ann.id})
    marmot = await RfAnimal.objects.get(genus="Marmota")
    with pytest.raises(DoesNotExist, match="referenced but no stored document"):
        await marmot.owner.fetch()


async def test_an_assigned_document_is_the_value_and_saving_stores_its_id(
    commands: Commands,
) -> None:
    ann = await RfPerson(name="ann").save()
    marmot = await RfAnimal(genus="Marmota", owner=ann, vet=ann).save()
    assert marmot.owner is ann
    assert await marmot.owner.fetch() is ann  # a loaded document fetches itself
    raw = await RfAnimal._get_collection().find_one({"_id": marmot.id})
    assert (raw["owner"], raw["vet"]) == (ann.id, ann.id)


async def test_passthrough_would_load_on_access_and_is_refused() -> None:
    with pytest.raises(NotImplementedError, match="fetch"):
        LazyReferenceField(RfPerson, passthrough=True)


# -- select_related: one query per referenced class ------------------------------------------


async def test_select_related_on_100_documents_sends_one_query_per_referenced_class(
    commands: Commands,
) -> None:
    people = [await RfPerson(name=f"p{n}").save() for n in range(10)]
    burrows = [await RfBurrow(name=f"b{n}").save() for n in range(5)]
    animals = [
        RfAnimal(
            genus=f"g{n:03}",
            owner=people[n % 10],
            vet=people[(n + 1) % 10],
            burrow=burrows[n % 5],
            friends=[people[(n + 2) % 10], people[(n + 3) % 10]],
            by_role={"keeper": people[(n + 4) % 10]},
        )
        for n in range(100)
    ]
    await RfAnimal._get_collection().insert_many([a.to_mongo() for a in animals])
    commands.clear()

    animals = await RfAnimal.objects.order_by("genus").select_related().to_list()

    finds = commands.named("find", "getMore")
    by_collection = sorted(f.get("find", f.get("collection")) for f in finds)
    # the animals, then one query for RfPerson (owner, vet, friends, by_role) and one for
    # RfBurrow: at most one per referenced collection
    assert by_collection == ["rf_animals", "rf_burrows", "rf_people"]
    assert len(animals) == 100
    first = next(a for a in animals if a.genus == "g000")
    assert isinstance(first.owner, RfPerson) and first.owner.name == "p0"
    assert isinstance(first.burrow, RfBurrow) and first.burrow.name == "b0"
    assert [f.name for f in first.friends] == ["p2", "p3"]
    assert first.by_role["keeper"].name == "p4"
    assert isinstance(first.vet, Reference)  # a lazy reference stays one, already loaded
    assert (await first.vet.fetch()).name == "p1"
    commands.clear()
    assert first._get_changed_fields() == []  # loading is not a change
    await first.save()
    assert commands.sent == []  # nothing to save


async def test_classes_of_one_collection_are_loaded_by_one_query(commands: Commands) -> None:
    cat, dog = await RfPet(name="cat").save(), await RfDog(name="rex").save()
    await RfPetOwner(pet=cat, dog=dog).save()
    await RfPetOwner(pet=dog, dog=dog).save()
    commands.clear()
    owners = await RfPetOwner.objects.select_related().to_list()
    assert [(type(o.pet), o.pet.name) for o in owners] == [(RfPet, "cat"), (RfDog, "rex")]
    assert all(isinstance(o.dog, RfDog) for o in owners)
    assert [f["find"] for f in commands.named("find")] == ["rf_pet_owners", "rf_pets"]


async def test_select_related_on_one_document_and_dangling_references(
    commands: Commands,
) -> None:
    ann, gone = await RfPerson(name="ann").save(), await RfPerson(name="gone").save()
    await RfAnimal(genus="Marmota", owner=ann, friends=[ann, gone]).save()
    await RfPerson._get_collection().delete_one({"_id": gone.id})
    marmot = await RfAnimal.objects.get(genus="Marmota")
    assert await marmot.select_related() is marmot
    assert marmot.owner.name == "ann"
    assert marmot.friends[0].name == "ann"
    assert isinstance(marmot.friends[1], Reference)  # gone: stays a reference
    with pytest.raises(DoesNotExist):
        await marmot.friends[1].fetch()


# -- reverse_delete_rule ---------------------------------------------------------------------


async def test_cascade_nullify_and_pull_apply_when_a_document_is_deleted(
    commands: Commands,
) -> None:
    zoo, other = await RfZoo(name="zoo").save(), await RfZoo(name="other").save()
    cascaded = RfKeeper(name="cascaded", cascade=zoo)
    await cascaded.badge.put(b"badge")
    await cascaded.save()
    nullified = await RfKeeper(name="nullified", nullify=zoo).save()
    pulled = await RfKeeper(name="pulled", pull=[zoo, other]).save()

    await zoo.delete()

    keepers = {k.name: k for k in await RfKeeper.objects.to_list()}
    assert set(keepers) == {"nullified", "pulled"}  # the cascaded keeper went with the zoo
    assert await stored("fs.files") == 0  # and so did its file
    raw = await RfKeeper._get_collection().find_one({"_id": nullified.id})
    assert "nullify" not in raw
    assert [r.pk for r in keepers["pulled"].pull] == [other.id]
    assert pulled.id in {k.id for k in keepers.values()}


async def test_query_set_delete_applies_the_rules_too(commands: Commands) -> None:
    zoos = [await RfZoo(name=f"z{n}").save() for n in range(3)]
    for zoo in zoos:
        await RfKeeper(name=f"k-{zoo.name}", cascade=zoo).save()
    assert await RfZoo.objects(name__in=["z0", "z1"]).delete() == 2
    assert [k.name for k in await RfKeeper.objects.to_list()] == ["k-z2"]


async def test_deny_refuses_the_delete_and_deletes_nothing(commands: Commands) -> None:
    zoo = await RfZoo(name="zoo").save()
    await RfKeeper(name="cascaded", cascade=zoo).save()
    await RfGuard(zoo=zoo).save()
    with pytest.raises(OperationError, match=r"RfGuard\.zoo refers to it"):
        await zoo.delete()
    with pytest.raises(OperationError, match=r"RfGuard\.zoo refers to it"):
        await RfZoo.objects.delete()
    assert (await stored("rf_zoos"), await stored("rf_keepers")) == (1, 1)
    await RfGuard.objects.delete()
    await zoo.delete()
    assert (await stored("rf_zoos"), await stored("rf_keepers")) == (0, 0)

"""Document.objects: filters, ordering, paging, projections, and what comes back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mongoengine
import pytest
from mongoengine.base import BaseField
from mongoengine.errors import InvalidQueryError, LookUpError
from mongoengine.queryset.visitor import Q

from gridfield._async import queryset as queryset_module
from gridfield._async.connection import get_db
from gridfield._async.document import Document
from gridfield._async.queryset import AsyncQuerySet
from gridfield.plain_fields import EmbeddedDocument, EmbeddedDocumentField, IntField, ListField
from gridfield.plain_fields import StringField as PlainStringField

ALIAS = "gridfield-test-queryset"

# (label, stored documents still holding it) for every after_owner_delete call
deleted_values: list[tuple[str, int]] = []


class QsLabel:
    """A value that holds files by gridfield.odm's FileHolder protocol, recording deletes."""

    def __init__(self, text: str) -> None:
        self.text = text

    async def before_owner_save(self) -> None:
        pass  # nothing assigned: nothing to store

    async def owner_save_failed(self) -> None:
        pass

    async def after_owner_save(self) -> None:
        pass  # nothing replaced: nothing to drop

    async def after_owner_delete(self) -> None:
        holders = await get_db(ALIAS).qs_holders.count_documents({"den.label": self.text})
        deleted_values.append((self.text, holders))

    def held_file_ids(self) -> list[Any]:
        return []


class QsHookedField(BaseField):  # type: ignore[misc]
    """A field whose stored strings load as QsLabel file holders."""

    holds_files = True

    def to_python(self, value: Any) -> Any:
        return QsLabel(value) if isinstance(value, str) else value

    def to_mongo(self, value: Any) -> Any:
        return value.text if isinstance(value, QsLabel) else value


class QsAnimal(Document):
    genus = PlainStringField()
    family = PlainStringField(db_field="fam")
    age = IntField()
    tags = ListField(PlainStringField())
    meta = {"db_alias": ALIAS, "collection": "qs_animals"}


class QsDen(EmbeddedDocument):
    label = QsHookedField()


class QsHolder(Document):
    """Documents whose deletion must reach their fields' hooks."""

    name = PlainStringField()
    den = EmbeddedDocumentField(QsDen)
    meta = {"db_alias": ALIAS, "collection": "qs_holders"}


class QsOrdered(Document):
    rank = IntField()
    meta = {"db_alias": ALIAS, "collection": "qs_ordered", "ordering": ["-rank"]}


class QsPet(Document):
    name = PlainStringField()
    meta = {"db_alias": ALIAS, "collection": "qs_pets", "allow_inheritance": True}


class QsDog(QsPet):
    bark = PlainStringField()


ANIMALS = [
    ("Marmota", "Sciuridae", 3, ["fat", "alpine"]),
    ("Sciurus", "Sciuridae", 1, ["tree"]),
    ("Castor", "Castoridae", 7, ["dam", "fat"]),
    ("Vulpes", "Canidae", 5, []),
]


@pytest.fixture
async def db(connected: Callable[..., Any]) -> Any:
    database = connected(ALIAS)
    for genus, family, age, tags in ANIMALS:
        await QsAnimal(genus=genus, family=family, age=age, tags=tags).save()
    deleted_values.clear()
    return database


def genera(animals: list[QsAnimal]) -> list[str]:
    return [animal.genus for animal in animals]


async def test_the_seeds_retrieval_line(db: Any) -> None:
    marmot = await QsAnimal.objects(genus="Marmota").first()
    assert marmot is not None
    assert (marmot.genus, marmot.family, marmot.age) == ("Marmota", "Sciuridae", 3)
    assert not marmot._created  # loaded: a later save updates


async def test_filters_use_mongoengines_query_keywords(db: Any) -> None:
    by = QsAnimal.objects
    assert sorted(genera(await by(family="Sciuridae").to_list())) == ["Marmota", "Sciurus"]
    assert sorted(genera(await by.filter(age__gt=3).to_list())) == ["Castor", "Vulpes"]
    assert sorted(genera(await by(tags__in=["dam", "tree"]).to_list())) == ["Castor", "Sciurus"]
    assert genera(await by(family="Sciuridae").filter(age__lt=2).to_list()) == ["Sciurus"]
    either = Q(age__lt=2) | Q(genus="Vulpes")
    assert sorted(genera(await by(either).to_list())) == ["Sciurus", "Vulpes"]
    assert await by(genus="Nothing").to_list() == []


async def test_a_bad_filter_is_refused_clearly(db: Any) -> None:
    with pytest.raises(InvalidQueryError, match="is not a query"):
        QsAnimal.objects({"genus": "Marmota"})  # type: ignore[arg-type]
    with pytest.raises(InvalidQueryError, match="no_such_field"):
        await QsAnimal.objects(no_such_field=1).first()


async def test_refining_returns_a_new_query_set(db: Any) -> None:
    everyone = QsAnimal.objects
    fat = everyone(tags="fat")
    first_fat = fat.order_by("age").limit(1)
    assert isinstance(first_fat, AsyncQuerySet)
    assert len(await everyone.to_list()) == 4
    assert len(await fat.to_list()) == 2
    assert genera(await first_fat.to_list()) == ["Marmota"]
    only_genus = fat.only("genus")
    assert (await fat.order_by("age").first()).age == 3  # type: ignore[union-attr]
    assert (await only_genus.order_by("age").first()).age is None  # type: ignore[union-attr]
    assert genera(await everyone.all().order_by("genus").to_list())[0] == "Castor"


async def test_order_by_sorts_ascending_and_descending_on_stored_names(db: Any) -> None:
    by_age = await QsAnimal.objects.order_by("age").to_list()
    assert genera(by_age) == ["Sciurus", "Marmota", "Vulpes", "Castor"]
    oldest = await QsAnimal.objects.order_by("-age").to_list()
    assert genera(oldest) == ["Castor", "Vulpes", "Marmota", "Sciurus"]
    # 'family' is stored as 'fam': sorting translates the name
    by_family = await QsAnimal.objects.order_by("+family", "-age").to_list()
    assert genera(by_family) == ["Vulpes", "Castor", "Marmota", "Sciurus"]


async def test_meta_ordering_applies_until_order_by_clears_it(db: Any) -> None:
    for rank in (2, 9, 5):
        await QsOrdered(rank=rank).save()
    assert [d.rank for d in await QsOrdered.objects.to_list()] == [9, 5, 2]
    assert [d.rank for d in await QsOrdered.objects.order_by("rank").to_list()] == [2, 5, 9]
    assert sorted(d.rank for d in await QsOrdered.objects.order_by().to_list()) == [2, 5, 9]


async def test_limit_and_skip_page_through_the_results(db: Any) -> None:
    ordered = QsAnimal.objects.order_by("age")
    assert genera(await ordered.limit(2).to_list()) == ["Sciurus", "Marmota"]
    assert genera(await ordered.skip(1).limit(2).to_list()) == ["Marmota", "Vulpes"]
    assert genera(await ordered.skip(3).to_list()) == ["Castor"]
    assert len(await ordered.limit(0).to_list()) == 4  # 0: no limit, as in MongoDB
    assert await ordered.skip(10).to_list() == []


async def test_limit_and_skip_refuse_what_is_not_a_count(db: Any) -> None:
    with pytest.raises(ValueError, match=r"limit\(\) must be >= 0, not -1"):
        QsAnimal.objects.limit(-1)
    with pytest.raises(TypeError, match=r"skip\(\) must be an int, not str"):
        QsAnimal.objects.skip("2")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"limit\(\) must be an int, not bool"):
        QsAnimal.objects.limit(True)


async def test_only_and_exclude_choose_the_loaded_fields(db: Any) -> None:
    marmot = await QsAnimal.objects(genus="Marmota").only("genus", "family").first()
    assert marmot is not None
    assert (marmot.genus, marmot.family, marmot.age, marmot.tags) == (
        "Marmota",
        "Sciuridae",
        None,
        [],
    )
    assert marmot.id is not None
    marmot = await QsAnimal.objects(genus="Marmota").exclude("family", "tags").first()
    assert marmot is not None
    assert (marmot.genus, marmot.family, marmot.age, marmot.tags) == ("Marmota", None, 3, [])
    with pytest.raises(LookUpError):
        QsAnimal.objects.only("no_such_field")


async def test_saving_a_partly_loaded_document_keeps_the_fields_not_loaded(db: Any) -> None:
    marmot = await QsAnimal.objects(genus="Marmota").only("age").first()
    assert marmot is not None
    marmot.age = 4
    await marmot.save()
    raw = await db.qs_animals.find_one({"_id": marmot.id})
    assert (raw["genus"], raw["fam"], raw["age"], raw["tags"]) == (
        "Marmota",
        "Sciuridae",
        4,
        ["fat", "alpine"],
    )


async def test_first_is_none_when_nothing_matches(db: Any) -> None:
    assert await QsAnimal.objects(genus="Nothing").first() is None
    youngest = await QsAnimal.objects.order_by("age").first()
    assert youngest is not None and youngest.genus == "Sciurus"


async def test_get_returns_the_one_match_or_raises(db: Any) -> None:
    castor = await QsAnimal.objects.get(genus="Castor")
    assert castor.age == 7
    assert (await QsAnimal.objects(family="Canidae").get()).genus == "Vulpes"
    with pytest.raises(QsAnimal.DoesNotExist, match="QsAnimal matching query does not exist"):
        await QsAnimal.objects.get(genus="Nothing")
    with pytest.raises(QsAnimal.MultipleObjectsReturned, match="2 or more QsAnimal"):
        await QsAnimal.objects.get(family="Sciuridae")
    assert issubclass(QsAnimal.DoesNotExist, mongoengine.DoesNotExist)
    assert issubclass(QsAnimal.MultipleObjectsReturned, mongoengine.MultipleObjectsReturned)


async def test_count_counts_the_matches(db: Any) -> None:
    assert await QsAnimal.objects.count() == 4
    assert await QsAnimal.objects(family="Sciuridae").count() == 2
    paged = QsAnimal.objects.skip(1).limit(2)
    assert await paged.count() == 4  # as MongoEngine: limit and skip only when asked
    assert await paged.count(with_limit_and_skip=True) == 2
    assert await QsAnimal.objects.skip(3).count(with_limit_and_skip=True) == 1


async def test_to_list_and_async_for_give_documents(db: Any) -> None:
    listed = await QsAnimal.objects.order_by("genus").to_list()
    iterated = [animal async for animal in QsAnimal.objects.order_by("genus")]
    assert all(isinstance(animal, QsAnimal) for animal in iterated)
    assert genera(listed) == genera(iterated) == ["Castor", "Marmota", "Sciurus", "Vulpes"]
    seen = []
    async for animal in QsAnimal.objects(age__gte=5).order_by("age"):
        seen.append(animal.genus)
    assert seen == ["Vulpes", "Castor"]


async def test_delete_deletes_the_matches_and_returns_how_many(db: Any) -> None:
    assert await QsAnimal.objects(family="Sciuridae").delete() == 2
    assert sorted(genera(await QsAnimal.objects.to_list())) == ["Castor", "Vulpes"]
    assert await QsAnimal.objects(genus="Nothing").delete() == 0


async def test_delete_respects_limit_skip_and_order(db: Any) -> None:
    assert await QsAnimal.objects.order_by("-age").skip(1).limit(2).delete() == 2
    assert sorted(genera(await QsAnimal.objects.to_list())) == ["Castor", "Sciurus"]


async def test_delete_hands_each_deleted_documents_values_to_its_hooks(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(5):
        await QsHolder(name=f"h{n}", den=QsDen(label=f"den{n}")).save()
    await QsHolder(name="bare").save()
    monkeypatch.setattr(queryset_module, "DELETE_BATCH", 2)  # several batches

    assert await QsHolder.objects(name__ne="h4").delete() == 5

    assert sorted(deleted_values) == [("den0", 0), ("den1", 0), ("den2", 0), ("den3", 0)]
    assert [h.name for h in await QsHolder.objects.to_list()] == ["h4"]


async def test_a_subclass_queries_only_its_own_documents(db: Any) -> None:
    await QsPet(name="generic").save()
    await QsDog(name="rex", bark="woof").save()
    assert sorted(p.name for p in await QsPet.objects.to_list()) == ["generic", "rex"]
    dogs = await QsDog.objects.to_list()
    assert [(type(d), d.name, d.bark) for d in dogs] == [(QsDog, "rex", "woof")]
    rex = await QsPet.objects.get(name="rex")
    assert isinstance(rex, QsDog)
    assert (await QsDog.objects.only("name").first()).bark is None  # type: ignore[union-attr]
    assert await QsDog.objects.delete() == 1
    assert [p.name for p in await QsPet.objects.to_list()] == ["generic"]

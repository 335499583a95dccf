"""transaction(): document writes committed together or not at all, where the server can."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from mongoengine.errors import OperationError

from gridfield._async.document import Document
from gridfield._async.transactions import in_session, transaction
from gridfield.plain_fields import IntField, StringField

from ..server_differences import transactions_supported

ALIAS = "gridfield-test-transactions"


class TxAccount(Document):
    name = StringField()
    balance = IntField()
    meta = {"db_alias": ALIAS, "collection": "tx_accounts"}


@pytest.fixture
async def db(connected: Callable[..., Any]) -> Any:
    database = connected(ALIAS)
    await database.create_collection("tx_accounts")  # no implicit creation in a transaction
    return database


async def balances(db: Any) -> dict[str, int]:
    return {doc["name"]: doc["balance"] async for doc in db.tx_accounts.find({})}


async def has_transactions(db: Any) -> bool:
    hello: dict[str, Any] = await db.client.admin.command("hello")
    return transactions_supported(hello)


async def test_writes_in_a_transaction_commit_together(db: Any) -> None:
    if not await has_transactions(db):
        # MongoDB's behaviour is checked where the server allows; here, the error a user
        # gets, before anything is written
        with pytest.raises(OperationError, match=r"transactions need a replica set.*standalone"):
            async with transaction(ALIAS):
                await TxAccount(name="ann", balance=1).save()
        assert await balances(db) == {}
        assert in_session() == {}
        return
    ann = await TxAccount(name="ann", balance=10).save()
    async with transaction(ALIAS) as session:
        assert in_session() == {"session": session}
        await ann.update(inc__balance=-5)
        await TxAccount(name="bob", balance=5).save()
        assert await balances(db) == {"ann": 10}  # not visible outside before the commit
    assert await balances(db) == {"ann": 5, "bob": 5}
    assert in_session() == {}


async def test_an_error_in_the_block_aborts_every_write(db: Any) -> None:
    if not await has_transactions(db):
        with pytest.raises(OperationError, match="replica set or a sharded cluster"):
            async with transaction(ALIAS):
                pass
        return
    ann = await TxAccount(name="ann", balance=10).save()
    with pytest.raises(RuntimeError, match="changed my mind"):
        async with transaction(ALIAS):
            await ann.update(inc__balance=-5)
            await TxAccount(name="bob", balance=5).save()
            await TxAccount.objects(name="ann").delete()
            raise RuntimeError("changed my mind")
    assert await balances(db) == {"ann": 10}


async def test_transactions_do_not_nest(db: Any) -> None:
    if not await has_transactions(db):
        with pytest.raises(OperationError, match="transactions need a replica set"):
            async with transaction(ALIAS):
                pass
        return
    async with transaction(ALIAS):
        with pytest.raises(OperationError, match="already in a transaction"):
            async with transaction(ALIAS):
                pass

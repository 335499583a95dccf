# Generated from tests/_async/test_transactions.py by scripts/unasync.py: do not edit.
"""transaction(): document writes committed together or not at all, where the server can."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from mongoengine.errors import OperationError

from gridfield._sync.document import Document
from gridfield._sync.transactions import in_session, transaction
from gridfield.plain_fields import IntField, StringField

from ..server_differences import transactions_supported

ALIAS = "gridfield-test-transactions"


class TxAccount(Document):
    name = StringField()
    balance = IntField()
    meta = {"db_alias": ALIAS, "collection": "tx_accounts"}


@pytest.fixture
def db(connected: Callable[..., Any]) -> Any:
    database = connected(ALIAS)
    database.create_collection("tx_accounts")  # no implicit creation in a transaction
    return database


def balances(db: Any) -> dict[str, int]:
    return {doc["name"]: doc["balance"] for doc in db.tx_accounts.find({})}


def has_transactions(db: Any) -> bool:
    hello: dict[str, Any] = db.client.admin.command("hello")
    return transactions_supported(hello)


def test_writes_in_a_transaction_commit_together(db: Any) -> None:
    if not has_transactions(db):
        # MongoDB's behaviour is checked where the server allows; here, the error a user
        # gets, before anything is written
        with pytest.raises(OperationError, match=r"transactions need a replica set.*standalone"):
            with transaction(ALIAS):
                TxAccount(name="ann", balance=1).save()
        assert balances(db) == {}
        assert in_session() == {}
        return
    ann = TxAccount(name="ann", balance=10).save()
    with transaction(ALIAS) as session:
        assert in_session() == {"session": session}
        ann.update(inc__balance=-5)
        TxAccount(name="bob", balance=5).save()
        assert balances(db) == {"ann": 10}  # not visible outside before the commit
    assert balances(db) == {"ann": 5, "bob": 5}
    assert in_session() == {}


def test_an_error_in_the_block_aborts_every_write(db: Any) -> None:
    if not has_transactions(db):
        with pytest.raises(OperationError, match="replica set or a sharded cluster"):
            with transaction(ALIAS):
                pass
        return
    ann = TxAccount(name="ann", balance=10).save()
    with pytest.raises(RuntimeError, match="changed my mind"):
        with transaction(ALIAS):
            ann.update(inc__balance=-5)
            TxAccount(name="bob", balance=5).save()
            TxAccount.objects(name="ann").delete()
            raise RuntimeError("changed my mind")
    assert balances(db) == {"ann": 10}


def test_transactions_do_not_nest(db: Any) -> None:
    if not has_transactions(db):
        with pytest.raises(OperationError, match="transactions need a replica set"):
            with transaction(ALIAS):
                pass
        return
    with transaction(ALIAS):
        with pytest.raises(OperationError, match="already in a transaction"):
            with transaction(ALIAS):
                pass

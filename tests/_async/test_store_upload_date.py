"""``upload_date``: a file stored with a date of the caller's (a copy keeping its source's)
instead of the moment it is stored; refusals that store nothing; expiry still counts from
the moment of storing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import gridfs
import pytest
from bson.codec_options import CodecOptions
from pymongo import MongoClient

from gridfield._async import AsyncFileStore

WHEN = datetime(2019, 3, 14, 15, 9, 26, 535_897, tzinfo=timezone.utc)
STORED = WHEN.replace(microsecond=535_000)  # BSON keeps milliseconds


async def _census(db: Any) -> tuple[int, int]:
    return await db["fs.files"].count_documents({}), await db["fs.chunks"].count_documents({})


async def test_a_given_upload_date_is_stored_as_it_is_and_ranks_the_revision(
    async_db: Any, mongo_uri: str
) -> None:
    store = AsyncFileStore(async_db, chunk_size=1024)
    newer = await store.put(b"written today", filename="r.txt")
    older = await store.put(b"copied from 2019" * 200, filename="r.txt", upload_date=WHEN)
    assert older.upload_date is not None
    assert older.upload_date.replace(tzinfo=timezone.utc) == STORED
    raw = await async_db["fs.files"].find_one({"_id": older.file_id})
    assert raw["uploadDate"].replace(tzinfo=timezone.utc) == STORED
    # Revisions follow the dates: the file from 2019 is the original, today's the newest.
    assert await store.read_by_name("r.txt") == b"written today"
    assert (await store.get_info_by_name("r.txt", 0)).file_id == older.file_id
    assert (await store.get_info_by_name("r.txt")).file_id == newer.file_id
    # Other readers see the date too.
    with MongoClient(mongo_uri) as plain:
        out = gridfs.GridFSBucket(plain[async_db.name]).open_download_stream(older.file_id)
        assert out.upload_date.replace(tzinfo=timezone.utc) == STORED


async def test_open_upload_takes_it_and_another_zone_is_stored_in_utc(async_db: Any) -> None:
    store = AsyncFileStore(async_db)
    east = WHEN.astimezone(timezone(timedelta(hours=9)))
    async with store.open_upload(filename="s.bin", upload_date=east) as stream:
        await stream.write(b"streamed")
    assert stream.info is not None and stream.info.upload_date is not None
    assert stream.info.upload_date.replace(tzinfo=timezone.utc) == STORED


async def test_a_tz_aware_database_reads_the_date_back_in_its_zone(async_db: Any) -> None:
    zone = timezone(timedelta(hours=-5))
    aware = async_db.client.get_database(
        async_db.name, codec_options=CodecOptions(tz_aware=True, tzinfo=zone)
    )
    info = await AsyncFileStore(aware).put(b"x", filename="z", upload_date=WHEN)
    assert info.upload_date == STORED.astimezone(zone)
    assert (await AsyncFileStore(aware).get_info(info.file_id)).upload_date == info.upload_date


async def test_expire_after_counts_from_the_moment_of_storing(async_db: Any) -> None:
    store = AsyncFileStore(async_db)
    before = datetime.now(timezone.utc)
    info = await store.put(
        b"kept a day", filename="e", upload_date=WHEN, expire_after=timedelta(days=1)
    )
    assert info.expire_at is not None
    expire_at = info.expire_at.replace(tzinfo=timezone.utc)
    assert before + timedelta(days=1) - timedelta(seconds=1) <= expire_at
    assert await store.get(info.file_id) == b"kept a day"  # not expired at once


@pytest.mark.parametrize(
    ("value", "error", "words"),
    [
        (datetime(2019, 3, 14), ValueError, "has no time zone"),
        ("2019-03-14", TypeError, "must be a datetime.datetime, not str"),
        (1552576166, TypeError, "must be a datetime.datetime, not int"),
    ],
)
async def test_a_bad_upload_date_is_refused_before_anything_is_stored(
    async_db: Any, value: Any, error: type[Exception], words: str
) -> None:
    store = AsyncFileStore(async_db)
    with pytest.raises(error, match=words):
        await store.put(b"nothing of this is stored", filename="bad", upload_date=value)
    with pytest.raises(error, match=words):
        store.open_upload(filename="bad", upload_date=value)
    assert await _census(async_db) == (0, 0)

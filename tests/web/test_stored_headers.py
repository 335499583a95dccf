"""Files written by raw PyMongo with values no header can carry as they are (a content type
with an emoji, a line break, a NUL; a filename that is no str; an uploadDate that is a str):
every adapter answers them, through its real server, with headers it can send."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from bson import Binary, ObjectId
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from ..server_differences import NUL_IN_STRING_ERROR, nul_in_strings_supported
from .apps import TARGETS
from .conftest import Samples

BODY = b"hello"
OCTETS = "application/octet-stream"

# name: (files document fields, the Content-Type served, the Content-Disposition served)
STORED: dict[str, tuple[dict[str, Any], str, str | None]] = {
    "emoji type": ({"contentType": "image/\U0001f600"}, OCTETS, None),
    "CR LF injection": ({"contentType": "text/plain\r\nX-Injected: 1"}, OCTETS, None),
    "NUL in type": ({"contentType": "text/plain\x00"}, OCTETS, None),
    "empty type": ({"contentType": ""}, OCTETS, None),  # no type: sniffed, nothing found
    "no slash": ({"contentType": "textplain"}, OCTETS, None),
    "over-long type": ({"contentType": "text/" + "a" * 20_000}, OCTETS, None),
    "bad metadata.contentType": ({"metadata": {"contentType": "a\r\nb: c"}}, OCTETS, None),
    "bad metadata.content_type": ({"metadata": {"content_type": "x/\U0001f600"}}, OCTETS, None),
    "valid type with a parameter": (
        {"contentType": "text/plain; charset=utf-8"},
        "text/plain; charset=utf-8",
        None,
    ),
    "filename with CR LF and NUL": (
        {"filename": "a\r\nX-Injected: 1\x00.bin", "contentType": "text/plain"},
        "text/plain",
        'inline; filename="aX-Injected: 1.bin"',
    ),
    "filename that is no str": ({"filename": 42, "contentType": "text/plain"}, "text/plain", None),
    "emoji filename": (
        {"filename": "\U0001f600.txt", "contentType": "text/plain"},
        "text/plain",
        "inline; filename=\"_.txt\"; filename*=UTF-8''%F0%9F%98%80.txt",
    ),
    "uploadDate that is a str": (
        {"uploadDate": "yesterday", "contentType": "text/plain"},
        "text/plain",
        None,
    ),
}


def holds_nul(fields: dict[str, Any]) -> bool:
    return any(isinstance(value, str) and "\x00" in value for value in fields.values())


@pytest.fixture(scope="module")
def stored(mongo_uri: str, samples: Samples, server_backend: str) -> Iterator[dict[str, ObjectId]]:
    """The files above, written beside the samples every adapter serves (those the server
    cannot store are refused: see server_differences.FERRETDB_POSTGRESQL_NO_NUL_IN_STRINGS)."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    db = client[samples.db_name]
    ids = {}
    try:
        for name, (fields, _, _) in STORED.items():
            file_id = ObjectId()
            db["fs.chunks"].insert_one({"files_id": file_id, "n": 0, "data": Binary(BODY)})
            doc = {
                "_id": file_id,
                "length": len(BODY),
                "chunkSize": 261120,
                "uploadDate": datetime.now(timezone.utc),
                **fields,
            }
            if holds_nul(fields) and not nul_in_strings_supported(server_backend):
                with pytest.raises(OperationFailure, match=NUL_IN_STRING_ERROR):
                    db["fs.files"].insert_one(doc)
                assert db["fs.files"].count_documents({"_id": file_id}) == 0
            else:
                db["fs.files"].insert_one(doc)
            ids[name] = file_id
        yield ids
    finally:
        client.close()


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("name", list(STORED))
def test_stored_values_reach_headers_only_when_safe(
    name: str,
    target: str,
    servers: dict[str, str],
    stored: dict[str, ObjectId],
    client: httpx.Client,
    server_backend: str,
) -> None:
    url = f"{servers[target]}{TARGETS[target]}{stored[name]}"
    fields, kind, disposition = STORED[name]
    if holds_nul(fields) and not nul_in_strings_supported(server_backend):
        # Not stored (no files document), so not served.
        assert client.get(url).status_code == 404
        return
    for method in ("GET", "HEAD"):
        response = client.request(method, url)
        assert response.status_code == 200, response.text[:200]
        assert response.headers["content-type"] == kind
        assert response.headers.get("content-disposition") == disposition
        assert "x-injected" not in response.headers
        assert response.content == (BODY if method == "GET" else b"")
        if name == "uploadDate that is a str":
            assert "last-modified" not in response.headers

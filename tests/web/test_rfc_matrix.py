"""The RFC 9110 matrix, run identically against every adapter through its real server, over
a store in clear and over one encrypting every file (the ``served`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pymongo import MongoClient

from .apps import INLINE_TARGETS, TARGETS
from .conftest import Samples
from .matrix import CASES, NAMED_CASES, Case, NamedCase

Served = tuple[dict[str, str], Samples]


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def _url(servers: dict[str, str], target: str, case: Case, samples: Samples) -> str:
    sample = case.file(samples)
    segment = case.path if sample is None else str(sample.file_id)
    return f"{servers[target]}{TARGETS[target]}{segment}{case.query}"


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rfc9110_case(case: Case, target: str, served: Served, client: httpx.Client) -> None:
    servers, samples = served
    sample = case.file(samples)
    headers = case.headers(sample) if sample is not None else {}
    response = client.request(case.method, _url(servers, target, case, samples), headers=headers)
    assert response.status_code == case.status, response.text[:200]
    if case.status != 304:  # a 304 revalidates a cached answer that said it already
        assert response.headers.get("x-content-type-options") == "nosniff"
    for name, value in case.extra.items():
        assert response.headers.get(name) == value, name
    if case.body is not None:
        assert sample is not None
        assert response.content == case.body(sample.data)
    if case.check is not None:
        assert sample is not None
        case.check(response, sample)
    if case.status in (304, 412, 416) or case.method == "HEAD":
        assert response.content == b""


def test_the_matrix_has_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("ranged", [False, True], ids=["whole", "range"])
def test_corrupt_chunk_never_sends_other_bytes(
    target: str, ranged: bool, served: Served, client: httpx.Client
) -> None:
    """Chunk 2 of 5 is gone. Once the headers are out the server must cut the connection
    rather than send other bytes or end the body early as if complete; a server that has
    not sent them yet (WSGI servers send headers with the first body bytes) answers 500."""
    servers, samples = served
    sample = samples.corrupt
    url = f"{servers[target]}{TARGETS[target]}{sample.file_id}"
    headers = {"Range": "bytes=100-16000"} if ranged else {}
    expected = sample.data[100:16001] if ranged else sample.data
    received = bytearray()
    cut = False
    try:
        with client.stream("GET", url, headers=headers) as response:
            status = response.status_code
            for piece in response.iter_raw():
                received += piece
    except httpx.RemoteProtocolError:
        cut = True
    if status == 500:
        assert expected[:16] not in received
    else:
        assert cut, "the body ended as if complete"
        assert status == (206 if ranged else 200)
        assert len(received) < len(expected)
        assert bytes(received) == expected[: len(received)]  # a true prefix, never other bytes


BUCKET_APPS = ["asgi-app", "aiohttp-handler", "wsgi-app", "django-view"]


@pytest.mark.parametrize("target", BUCKET_APPS)
@pytest.mark.parametrize("case", NAMED_CASES, ids=[c.name for c in NAMED_CASES])
def test_bucket_app_by_filename(
    case: NamedCase, target: str, served: Served, client: httpx.Client
) -> None:
    servers, samples = served
    sample = case.file(samples)
    response = client.get(f"{servers[target]}/byname/{case.segment}")
    assert response.status_code == 200, response.text[:200]
    assert response.content == sample.data
    assert response.headers["etag"] == sample.etag


@pytest.mark.parametrize("target", BUCKET_APPS)
def test_bucket_app_by_filename_answers_404_for_no_such_name(
    target: str, served: Served, client: httpx.Client
) -> None:
    servers, _ = served
    base = servers[target]
    assert client.get(f"{base}/byname/no-such-file.txt").status_code == 404
    # The name decoded twice ("%41" taken for "A") names no file.
    assert client.get(f"{base}/byname/100A%20a%2Bb%20%C3%BC.txt").status_code == 404


@pytest.mark.parametrize("target", list(INLINE_TARGETS))
def test_active_content_is_inline_in_a_sandbox_only_when_the_app_opts_in(
    target: str, served: Served, client: httpx.Client
) -> None:
    servers, samples = served
    base = f"{servers[target]}{INLINE_TARGETS[target]}"
    svg = client.get(f"{base}{samples.active.file_id}")
    assert svg.status_code == 200 and svg.content == samples.active.data
    assert svg.headers["content-disposition"] == 'inline; filename="drawing.svg"'
    assert svg.headers["content-security-policy"] == "sandbox"
    assert svg.headers["x-content-type-options"] == "nosniff"
    saved = client.get(f"{base}{samples.active.file_id}?download=1")
    assert saved.headers["content-disposition"] == 'attachment; filename="drawing.svg"'
    assert "content-security-policy" not in saved.headers
    clip = client.get(f"{base}{samples.clip.file_id}")
    assert clip.headers["content-disposition"] == 'inline; filename="clip.webm"'
    assert "content-security-policy" not in clip.headers  # not active content


def test_the_encrypted_store_serves_files_stored_encrypted(
    mongo_uri: str, encrypted_samples: Samples
) -> None:
    """The matrix over the encrypting store is not the clear one again: every sample but
    PyMongo's is encrypted, and no chunk of the clip holds a 16-byte window of its bytes."""
    with MongoClient(mongo_uri) as mongo:
        db = mongo[encrypted_samples.db_name]
        clear = {doc["filename"] for doc in db["fs.files"].find({"gridfield.encryption": None})}
        assert clear == {"legacy-photo"}
        clip = encrypted_samples.clip
        chunks = list(db["fs.chunks"].find({"files_id": clip.file_id}))
        assert len(chunks) == -(-len(clip.data) // 16384)
        stored = b"".join(bytes(doc["data"]) for doc in chunks)
        for start in range(0, len(clip.data) - 16, 997):
            assert clip.data[start : start + 16] not in stored

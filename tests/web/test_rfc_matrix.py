"""The RFC 9110 matrix, run identically against every adapter through its real server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .apps import TARGETS
from .conftest import Samples
from .matrix import CASES, Case


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
def test_rfc9110_case(
    case: Case, target: str, servers: dict[str, str], samples: Samples, client: httpx.Client
) -> None:
    sample = case.file(samples)
    headers = case.headers(sample) if sample is not None else {}
    response = client.request(case.method, _url(servers, target, case, samples), headers=headers)
    assert response.status_code == case.status, response.text[:200]
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
    target: str, ranged: bool, servers: dict[str, str], samples: Samples, client: httpx.Client
) -> None:
    """Chunk 2 of 5 is gone. Once the headers are out the server must cut the connection
    rather than send other bytes or end the body early as if complete; a server that has
    not sent them yet (WSGI servers send headers with the first body bytes) answers 500."""
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


@pytest.mark.parametrize("target", ["asgi-app", "aiohttp-handler", "wsgi-app", "django-view"])
def test_bucket_app_by_filename_serves_the_newest_revision(
    target: str, servers: dict[str, str], samples: Samples, client: httpx.Client
) -> None:
    base = servers[target]
    response = client.get(f"{base}/byname/notes.txt")
    assert response.status_code == 200
    assert response.content == samples.named_new.data
    assert response.headers["etag"] == samples.named_new.etag
    assert client.get(f"{base}/byname/no-such-file.txt").status_code == 404
    # A filename that is not ASCII travels percent-encoded and comes back whole.
    response = client.get(f"{base}/byname/Zo%C3%AB%20r%C3%A9sum%C3%A9.pdf")
    assert response.status_code == 200
    assert response.content == samples.unicode.data

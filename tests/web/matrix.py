"""RFC 9110 cases every adapter must answer alike: a request, and checks on the response."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

import httpx

from gridfield.core.http import format_http_date, parse_http_date

if TYPE_CHECKING:
    from .conftest import Sample, Samples


def earlier(stamp: str, seconds: int = 3600) -> str:
    when = parse_http_date(stamp)
    assert when is not None
    return format_http_date(when - timedelta(seconds=seconds))


def later(stamp: str, seconds: int = 3600) -> str:
    return earlier(stamp, -seconds)


def multipart(response: httpx.Response) -> list[tuple[str, bytes]]:
    """The (Content-Range, bytes) of each part of a multipart/byteranges body."""
    kind = response.headers["content-type"]
    assert kind.startswith("multipart/byteranges; boundary=")
    boundary = kind.split("boundary=", 1)[1].encode()
    body = response.content
    assert body.endswith(b"\r\n--" + boundary + b"--\r\n")
    parts = []
    for raw in body.split(b"--" + boundary)[1:-1]:
        head, _, data = raw.partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode("latin-1").strip().split("\r\n"))
        assert data.endswith(b"\r\n")
        parts.append((headers["Content-Range"], data[:-2]))
    return parts


@dataclass(frozen=True)
class Case:
    """One request and what the answer must be."""

    name: str
    file: Callable[[Samples], Sample | None]
    status: int
    headers: Callable[[Sample], dict[str, str]] = lambda s: {}
    method: str = "GET"
    query: str = ""
    body: Callable[[bytes], bytes] | None = None  # expected body from the file's bytes
    check: Callable[[httpx.Response, Sample], None] | None = None
    path: str | None = None  # a raw path segment instead of the file's id
    extra: dict[str, str] = field(default_factory=dict)  # response headers, exact


def _clip(s: Samples) -> Sample:
    return s.clip


def _whole(data: bytes) -> bytes:
    return data


def _validators(r: httpx.Response, s: Sample) -> None:
    assert r.headers["etag"] == s.etag
    assert not r.headers["etag"].startswith("W/")
    assert r.headers["last-modified"] == s.last_modified


def _full_200(r: httpx.Response, s: Sample) -> None:
    _validators(r, s)
    assert r.headers["accept-ranges"] == "bytes"
    assert int(r.headers["content-length"]) == len(s.data)


def _no_body_304(r: httpx.Response, s: Sample) -> None:
    assert r.headers["etag"] == s.etag
    # RFC 9110 15.4.5: no representation metadata beyond the validators the cache needs.
    assert "content-type" not in r.headers
    assert r.content == b""
    assert "content-range" not in r.headers


def _two_parts(r: httpx.Response, s: Sample) -> None:
    n = len(s.data)
    assert multipart(r) == [
        (f"bytes 0-9/{n}", s.data[0:10]),
        (f"bytes 200-299/{n}", s.data[200:300]),
    ]
    assert int(r.headers["content-length"]) == len(r.content)


def _reverse_order_parts(r: httpx.Response, s: Sample) -> None:
    n = len(s.data)
    assert multipart(r) == [
        (f"bytes {n - 10}-{n - 1}/{n}", s.data[-10:]),
        (f"bytes 0-4/{n}", s.data[:5]),
    ]


def _head(r: httpx.Response, s: Sample) -> None:
    _full_200(r, s)
    assert r.content == b""
    assert r.headers["content-type"] == "video/webm"


def _strong_etag_without_hash(r: httpx.Response, s: Sample) -> None:
    _full_200(r, s)
    assert r.headers["content-type"] == "image/jpeg"


def _no_sandbox(r: httpx.Response, s: Sample) -> None:
    assert "content-security-policy" not in r.headers  # an attachment is never rendered


N = 100_000  # the clip's length
MANY = ",".join(f"{i * 10}-{i * 10 + 1}" for i in range(17))

CASES = [
    Case(
        "full GET",
        _clip,
        200,
        body=_whole,
        check=_full_200,
        extra={"content-type": "video/webm", "content-disposition": 'inline; filename="clip.webm"'},
    ),
    Case("HEAD", _clip, 200, method="HEAD", check=_head),
    Case(
        "single range",
        _clip,
        206,
        lambda s: {"Range": "bytes=0-99"},
        body=lambda d: d[0:100],
        extra={"content-range": f"bytes 0-99/{N}", "content-length": "100"},
    ),
    Case(
        "range across a chunk boundary",
        _clip,
        206,
        lambda s: {"Range": "bytes=16380-16390"},
        body=lambda d: d[16380:16391],
        extra={"content-range": f"bytes 16380-16390/{N}"},
    ),
    Case(
        "suffix range",
        _clip,
        206,
        lambda s: {"Range": "bytes=-500"},
        body=lambda d: d[-500:],
        extra={"content-range": f"bytes {N - 500}-{N - 1}/{N}"},
    ),
    Case(
        "open range",
        _clip,
        206,
        lambda s: {"Range": "bytes=99000-"},
        body=lambda d: d[99000:],
        extra={"content-range": f"bytes 99000-{N - 1}/{N}"},
    ),
    Case(
        "last-pos past the end",
        _clip,
        206,
        lambda s: {"Range": "bytes=99990-500000"},
        body=lambda d: d[99990:],
        extra={"content-range": f"bytes 99990-{N - 1}/{N}"},
    ),
    Case(
        "suffix longer than the file",
        _clip,
        206,
        lambda s: {"Range": "bytes=-200000"},
        body=_whole,
        extra={"content-range": f"bytes 0-{N - 1}/{N}"},
    ),
    Case(
        "two ranges: multipart",
        _clip,
        206,
        lambda s: {"Range": "bytes=0-9, 200-299"},
        check=_two_parts,
    ),
    Case(
        "multipart keeps request order",
        _clip,
        206,
        lambda s: {"Range": "bytes=-10,0-4"},
        check=_reverse_order_parts,
    ),
    Case(
        "overlapping ranges merged",
        _clip,
        206,
        lambda s: {"Range": "bytes=0-99,50-149"},
        body=lambda d: d[0:150],
        extra={"content-range": f"bytes 0-149/{N}"},
    ),
    Case(
        "unsatisfiable range",
        _clip,
        416,
        lambda s: {"Range": f"bytes={N}-"},
        extra={"content-range": f"bytes */{N}"},
    ),
    Case(
        "zero suffix: unsatisfiable",
        _clip,
        416,
        lambda s: {"Range": "bytes=-0"},
        extra={"content-range": f"bytes */{N}"},
    ),
    Case(
        "one satisfiable range among others",
        _clip,
        206,
        lambda s: {"Range": f"bytes={N + 5}-,10-19"},
        body=lambda d: d[10:20],
    ),
    Case("too many ranges", _clip, 416, lambda s: {"Range": f"bytes={MANY}"}),
    Case("garbage Range ignored", _clip, 200, lambda s: {"Range": "bytes=abc"}, body=_whole),
    Case("reversed range ignored", _clip, 200, lambda s: {"Range": "bytes=100-50"}, body=_whole),
    Case("other unit ignored", _clip, 200, lambda s: {"Range": "items=0-5"}, body=_whole),
    Case(
        "If-None-Match match: 304",
        _clip,
        304,
        lambda s: {"If-None-Match": s.etag},
        check=_no_body_304,
    ),
    Case(
        "If-None-Match list",
        _clip,
        304,
        lambda s: {"If-None-Match": f'"nope", {s.etag}'},
        check=_no_body_304,
    ),
    Case(
        "If-None-Match weak comparison",
        _clip,
        304,
        lambda s: {"If-None-Match": "W/" + s.etag},
        check=_no_body_304,
    ),
    Case("If-None-Match star", _clip, 304, lambda s: {"If-None-Match": "*"}),
    Case("If-None-Match mismatch", _clip, 200, lambda s: {"If-None-Match": '"other"'}, body=_whole),
    Case(
        "If-Modified-Since equal: 304",
        _clip,
        304,
        lambda s: {"If-Modified-Since": s.last_modified},
        check=_no_body_304,
    ),
    Case(
        "If-Modified-Since earlier",
        _clip,
        200,
        lambda s: {"If-Modified-Since": earlier(s.last_modified)},
        body=_whole,
    ),
    Case(
        "If-Modified-Since garbage ignored",
        _clip,
        200,
        lambda s: {"If-Modified-Since": "yesterday"},
        body=_whole,
    ),
    Case(
        "If-None-Match wins over If-Modified-Since",
        _clip,
        200,
        lambda s: {"If-None-Match": '"other"', "If-Modified-Since": later(s.last_modified)},
        body=_whole,
    ),
    Case("If-Match match", _clip, 200, lambda s: {"If-Match": s.etag}, body=_whole),
    Case("If-Match mismatch: 412", _clip, 412, lambda s: {"If-Match": '"other"'}),
    Case("If-Match weak never matches: 412", _clip, 412, lambda s: {"If-Match": "W/" + s.etag}),
    Case(
        "If-Unmodified-Since earlier: 412",
        _clip,
        412,
        lambda s: {"If-Unmodified-Since": earlier(s.last_modified)},
    ),
    Case(
        "If-Unmodified-Since later",
        _clip,
        200,
        lambda s: {"If-Unmodified-Since": later(s.last_modified)},
        body=_whole,
    ),
    Case(
        "If-Range etag match: 206",
        _clip,
        206,
        lambda s: {"If-Range": s.etag, "Range": "bytes=5-9"},
        body=lambda d: d[5:10],
    ),
    Case(
        "If-Range etag mismatch: 200",
        _clip,
        200,
        lambda s: {"If-Range": '"other"', "Range": "bytes=5-9"},
        body=_whole,
    ),
    Case(
        "If-Range weak etag: 200",
        _clip,
        200,
        lambda s: {"If-Range": "W/" + s.etag, "Range": "bytes=5-9"},
        body=_whole,
    ),
    Case(
        "If-Range date match: 206",
        _clip,
        206,
        lambda s: {"If-Range": s.last_modified, "Range": "bytes=5-9"},
        body=lambda d: d[5:10],
    ),
    Case(
        "If-Range older date: 200",
        _clip,
        200,
        lambda s: {"If-Range": earlier(s.last_modified), "Range": "bytes=5-9"},
        body=_whole,
    ),
    Case(
        "HEAD ignores Range",
        _clip,
        200,
        lambda s: {"Range": "bytes=0-9"},
        method="HEAD",
        check=_head,
    ),
    Case("HEAD conditional: 304", _clip, 304, lambda s: {"If-None-Match": s.etag}, method="HEAD"),
    Case(
        "download: attachment",
        _clip,
        200,
        query="?download=1",
        body=_whole,
        extra={"content-disposition": 'attachment; filename="clip.webm"'},
    ),
    Case(
        "non-ASCII filename",
        lambda s: s.unicode,
        200,
        body=_whole,
        extra={
            "content-type": "application/pdf",
            "content-disposition": 'inline; filename="Zo_ r_sum_.pdf";'
            " filename*=UTF-8''Zo%C3%AB%20r%C3%A9sum%C3%A9.pdf",
        },
    ),
    Case(
        "file from PyMongo's gridfs: strong ETag, metadata.content_type",
        lambda s: s.legacy,
        200,
        body=_whole,
        check=_strong_etag_without_hash,
    ),
    Case(
        "file from PyMongo's gridfs: 304",
        lambda s: s.legacy,
        304,
        lambda s: {"If-None-Match": s.etag},
    ),
    Case(
        "content type sniffed",
        lambda s: s.untyped,
        200,
        body=_whole,
        extra={"content-type": "image/png"},
    ),
    Case("empty file", lambda s: s.empty, 200, body=_whole, extra={"content-length": "0"}),
    Case(
        "empty file ignores Range",
        lambda s: s.empty,
        200,
        lambda s: {"Range": "bytes=0-"},
        body=_whole,
    ),
    Case(
        "active content (SVG): attachment, nosniff, no sandbox needed",
        lambda s: s.active,
        200,
        body=_whole,
        check=_no_sandbox,
        extra={
            "content-type": "image/svg+xml",
            "content-disposition": 'attachment; filename="drawing.svg"',
            "x-content-type-options": "nosniff",
        },
    ),
    Case(
        "active content ranged: attachment",
        lambda s: s.active,
        206,
        lambda s: {"Range": "bytes=0-3"},
        body=lambda d: d[:4],
        extra={"content-disposition": 'attachment; filename="drawing.svg"'},
    ),
    Case(
        "active content HEAD: attachment",
        lambda s: s.active,
        200,
        method="HEAD",
        extra={"content-disposition": 'attachment; filename="drawing.svg"'},
    ),
    Case("unknown id: 404", lambda s: None, 404, path="5f0000000000000000000000"),
    Case("not an ObjectId: 404", lambda s: None, 404, path="not-an-id"),
]


@dataclass(frozen=True)
class NamedCase:
    """A request to a bucket app serving by filename: the URL's path segment (as a client
    sends it) and the file that must answer."""

    name: str
    segment: str
    file: Callable[[Samples], Sample]


# "%41" must reach the lookup as the three characters, not as "A": a path is decoded once.
NAMED_CASES = [
    NamedCase("newest revision", "notes.txt", lambda s: s.named_new),
    NamedCase("non-ASCII, percent-encoded", "Zo%C3%AB%20r%C3%A9sum%C3%A9.pdf", lambda s: s.unicode),
    NamedCase("%, space, + and non-ASCII", "100%2541%20a%2Bb%20%C3%BC.txt", lambda s: s.odd_name),
    NamedCase("a + sent as it is", "100%2541%20a+b%20%C3%BC.txt", lambda s: s.odd_name),
    NamedCase("two revisions in one millisecond: the greater _id", "tie.txt", lambda s: s.tie_new),
]

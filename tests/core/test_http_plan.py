"""The response plan: for any file and any request, the body it describes is the file's bytes,
framed as RFC 9110 says."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import unquote

import pytest
from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.content_types import is_active_content
from gridfield.core.files_document import FileInfo
from gridfield.core.http import (
    ResponsePlan,
    content_disposition,
    decide,
    download_asked,
    not_found,
    plan_response,
    serve_options,
    stored_content_type,
)
from gridfield.core.http.options import ServeOptions

WHEN = datetime(2024, 3, 1, 12, 0, 0)
specs = st.one_of(
    st.tuples(st.integers(0, 4000), st.integers(0, 4000)).map(lambda t: f"{t[0]}-{t[1]}"),
    st.integers(0, 4000).map(lambda n: f"{n}-"),
    st.integers(0, 4000).map(lambda n: f"-{n}"),
)
range_headers = st.one_of(
    st.none(), st.lists(specs, min_size=1, max_size=5).map(lambda s: "bytes=" + ",".join(s))
)


def _info(data: bytes, **kwargs: object) -> FileInfo:
    return FileInfo(ObjectId(), len(data), 255, upload_date=WHEN, **kwargs)  # type: ignore[arg-type]


def _body(plan: ResponsePlan, data: bytes) -> bytes:
    return b"".join(p if isinstance(p, bytes) else data[p.start : p.end] for p in plan.pieces())


def _parts(plan: ResponsePlan, body: bytes) -> list[tuple[str, bytes]]:
    boundary = plan.header("Content-Type").split("boundary=")[1].encode()  # type: ignore[union-attr]
    parts = []
    for raw in body.split(b"--" + boundary)[1:-1]:
        head, _, rest = raw.partition(b"\r\n\r\n")
        fields = dict(line.split(": ", 1) for line in head.decode().strip().split("\r\n"))
        parts.append((fields["Content-Range"], rest[:-2]))
    return parts


@given(data=st.binary(max_size=3000), header=range_headers)
def test_the_planned_body_is_the_files_bytes(data: bytes, header: str | None) -> None:
    info = _info(data, content_type="video/webm")
    headers = {} if header is None else {"range": header}
    plan = plan_response(decide(info, "GET", headers))
    body = _body(plan, data)
    assert plan.header("Content-Length") == str(len(body)) == str(plan.content_length)
    assert plan.header("ETag") is not None
    if plan.status == 200:
        assert body == data
    elif plan.status == 416:
        assert body == b"" and plan.header("Content-Range") == f"bytes */{len(data)}"
    elif plan.header("Content-Type") == "video/webm":
        assert plan.status == 206
        first, last = plan.header("Content-Range")[6:].split("/")[0].split("-")  # type: ignore[index]
        assert body == data[int(first) : int(last) + 1]
    else:
        assert plan.status == 206
        parts = _parts(plan, body)
        assert len(parts) >= 2
        for content_range, piece in parts:
            first, last = content_range[6:].split("/")[0].split("-")
            assert piece == data[int(first) : int(last) + 1]


def test_head_has_the_headers_of_get_and_no_body() -> None:
    data = b"x" * 1000
    info = _info(data, content_type="text/plain")
    get = plan_response(decide(info, "GET", {}), boundary="b")
    head = plan_response(decide(info, "HEAD", {"range": "bytes=0-1"}), boundary="b")
    assert head.headers == get.headers and head.status == 200
    assert list(head.pieces()) == []


def test_other_methods_and_missing_files() -> None:
    plan = plan_response(decide(_info(b"x"), "POST", {}))
    assert plan.status == 405 and plan.header("Allow") == "GET, HEAD"
    missing = not_found("GET")
    assert missing.status == 404 and _body(missing, b"") == b"Not Found"
    assert list(not_found("HEAD").pieces()) == []


def test_304_says_only_what_a_cache_needs() -> None:
    info = _info(b"abc", content_type="text/plain")
    etag = plan_response(decide(info, "GET", {})).header("ETag")
    plan = plan_response(decide(info, "GET", {"if-none-match": etag}), cache_control="max-age=60")
    assert plan.status == 304
    assert dict(plan.headers) == {"ETag": etag, "Cache-Control": "max-age=60"}


def test_content_type_sources() -> None:
    assert stored_content_type(_info(b"", content_type="image/png")) == "image/png"
    assert stored_content_type(_info(b"", metadata={"content_type": "image/gif"})) == "image/gif"
    assert stored_content_type(_info(b"", filename="a.pdf")) == "application/pdf"
    assert stored_content_type(_info(b"")) is None


def test_a_stored_type_no_header_can_carry_is_served_as_octet_stream() -> None:
    """Another writer may store anything: it is never sent as it is, nor sniffed over."""
    for bad in ["image/\U0001f600", "text/plain\r\nX-Injected: 1", "text/plain\x00", "png"]:
        for info in (
            _info(b"", content_type=bad),
            _info(b"", metadata={"content_type": bad}, filename="a.pdf"),
        ):
            assert stored_content_type(info) == "application/octet-stream"
            plan = plan_response(decide(info, "GET", {}))
            assert plan.header("Content-Type") == "application/octet-stream"
            for name, value in plan.headers:
                (name + value).encode("latin-1")
    # Empty is no type at all: the filename, else a sniff, decides.
    assert stored_content_type(_info(b"", content_type="", filename="a.pdf")) == "application/pdf"


def test_other_stored_values_that_reach_headers_are_made_safe() -> None:
    """A filename that is no str, one with a line break or a NUL, an uploadDate that is a str."""
    info = _info(b"abc", filename=42, content_type="text/plain")
    plan = plan_response(decide(info, "GET", {}))
    assert plan.header("Content-Disposition") is None
    assert content_disposition(42, download=True) == "attachment"
    odd = _info(b"abc", filename="a\r\nX-Injected: 1\x00.txt")
    disposition = plan_response(decide(odd, "GET", {})).header("Content-Disposition")
    assert disposition == 'inline; filename="aX-Injected: 1.txt"'
    undated = FileInfo(ObjectId(), 3, 255, upload_date="yesterday")  # type: ignore[arg-type]
    plan = plan_response(decide(undated, "GET", {}))
    assert plan.status == 200
    assert plan.header("Last-Modified") is None


def test_an_overriding_content_type_is_checked_when_the_options_are_made() -> None:
    assert ServeOptions(content_type="text/plain; charset=utf-8").content_type is not None
    with pytest.raises(ValueError, match="is not a media type"):
        ServeOptions(content_type="text/plain\r\nX-Injected: 1")


@given(name=st.text(max_size=40), download=st.booleans())
def test_content_disposition_is_safe_ascii_and_names_the_file(name: str, download: bool) -> None:
    value = content_disposition(name, download=download)
    if value is None:
        assert not download
        return
    assert value.isascii() and "\r" not in value and "\n" not in value
    assert value.startswith("attachment" if download else "inline")
    shown = "".join(c for c in name.replace("\\", "/").rsplit("/", 1)[-1] if c.isprintable())
    if "filename*=UTF-8''" in value:
        assert unquote(value.split("filename*=UTF-8''")[1]) == shown
    elif shown:
        assert value.endswith(f'filename="{shown}"')


def test_download_asked() -> None:
    assert download_asked("download=1") and download_asked("a=b&download")
    assert not download_asked("") and not download_asked("download=0")


def test_sha256_etag_is_what_the_plan_sends() -> None:
    info = FileInfo(ObjectId(), 3, 255, upload_date=datetime.now(timezone.utc), sha256="0" * 64)
    assert plan_response(decide(info, "GET", {})).header("ETag") == '"' + "0" * 64 + '"'


ACTIVE = ["image/svg+xml", "text/html; charset=utf-8", "application/xhtml+xml", "TEXT/XML"]
ACTIVE += ["application/javascript", "text/javascript", "application/rss+xml", "text/xsl"]
PASSIVE = ["image/png", "video/webm", "text/plain", "application/pdf", "application/json"]


@given(
    kind=st.sampled_from(ACTIVE + PASSIVE),
    download=st.booleans(),
    inline_active=st.booleans(),
    header=range_headers,
    method=st.sampled_from(["GET", "HEAD", "POST"]),
    etag_matches=st.booleans(),
)
def test_active_content_is_an_attachment_unless_opted_in_and_nosniff_always(
    kind: str,
    download: bool,
    inline_active: bool,
    header: str | None,
    method: str,
    etag_matches: bool,
) -> None:
    info = _info(b"x" * 500, content_type=kind, filename="f")
    headers = {} if header is None else {"range": header}
    if etag_matches:
        headers["if-none-match"] = decide(info, "GET", {}).etag
    decision = decide(info, method, headers)
    plan = plan_response(decision, download=download, inline_active=inline_active)
    assert (plan.header("X-Content-Type-Options") == "nosniff") == (plan.status != 304)
    if plan.status not in (200, 206):
        return
    active = is_active_content(kind)
    assert active == (kind in ACTIVE)
    disposition = plan.header("Content-Disposition") or ""
    attached = download or (active and not inline_active)
    assert disposition.startswith("attachment" if attached else "inline")
    sandboxed = active and inline_active and not download
    assert plan.header("Content-Security-Policy") == ("sandbox" if sandboxed else None)


def test_not_found_and_not_allowed_say_nosniff() -> None:
    assert not_found().header("X-Content-Type-Options") == "nosniff"
    info = _info(b"abc", content_type="image/svg+xml")
    assert plan_response(decide(info, "PUT", {})).header("X-Content-Type-Options") == "nosniff"


def test_serve_options_take_shorthands_in_one_place() -> None:
    base = ServeOptions(cache_control="max-age=60", inline_active=True)
    got = serve_options(base, download=True, filename="a.svg", content_type="image/png")
    assert got == ServeOptions(
        download=True,
        filename="a.svg",
        content_type="image/png",
        cache_control="max-age=60",
        inline_active=True,
    )
    assert serve_options(None) == ServeOptions()
    assert serve_options(base) is base
    with pytest.raises(TypeError, match="options must be a ServeOptions, not dict"):
        serve_options({"download": True})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ServeOptions(True)  # type: ignore[misc]  # keywords only: no positional construction

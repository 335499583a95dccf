"""tus 1.0 headers, creation requests, an upload's stages and the answers, sans I/O."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.tus import (
    Concat,
    Event,
    FileNaming,
    Stage,
    TusError,
    TusOptions,
    UploadState,
    check_declared_type,
    check_version,
    created,
    default_naming,
    discovery,
    effective_method,
    error_response,
    format_expires,
    parse_checksum,
    parse_concat,
    parse_creation,
    parse_expires,
    parse_metadata,
    parse_number,
    parse_patch,
    patched,
    status_of_upload,
    terminated,
    tus_options,
)

NOW = datetime(2030, 1, 1, 12, tzinfo=timezone.utc)


def _refusal(call: object, *args: object) -> tuple[int, str]:
    with pytest.raises(TusError) as err:
        call(*args)  # type: ignore[operator]
    return err.value.status, str(err.value)


def test_a_request_without_tus_1_0_0_is_a_412_naming_the_version() -> None:
    with pytest.raises(TusError) as err:
        check_version("PATCH", {"Tus-Resumable": "0.2.2"})
    assert err.value.status == 412
    assert str(err.value) == "Tus-Resumable '0.2.2': this server speaks tus 1.0.0"
    assert err.value.headers == (("Tus-Version", "1.0.0"),)
    assert _refusal(check_version, "HEAD", {})[1] == (
        "no Tus-Resumable header: this server speaks tus 1.0.0"
    )
    check_version("OPTIONS", {})  # exempt
    check_version("POST", {"Tus-Resumable": "1.0.0"})


def test_method_override() -> None:
    assert effective_method("POST", {"X-HTTP-Method-Override": "patch"}) == "PATCH"
    assert effective_method("head", {}) == "HEAD"


@given(st.integers(0, 2**63 - 1))
def test_numbers_round_trip(value: int) -> None:
    assert parse_number(str(value), "Upload-Offset") == value


@pytest.mark.parametrize("text", ["-1", "1.5", "", "0x10", "+3", "1 2", str(2**63), "\u0661"])
def test_a_number_that_is_not_digits_is_a_400(text: str) -> None:
    assert _refusal(parse_number, text, "Upload-Offset") == (
        400,
        f"Upload-Offset must be a non-negative integer, not {text!r}",
    )


keys = st.text(
    st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=","), min_size=1
)


@given(st.dictionaries(keys, st.binary(max_size=40), max_size=6), st.booleans())
def test_metadata_round_trips(pairs: dict[str, bytes], bare_empty: bool) -> None:
    items = []
    for key, value in pairs.items():
        if not value and bare_empty:
            items.append(key)
        else:
            items.append(f"{key} {base64.b64encode(value).decode()}")
    assert parse_metadata(",".join(items)) == pairs


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("a YQ==,a Yg==", "Upload-Metadata: key 'a' is given twice"),
        ("a YQ==, ,b", "Upload-Metadata: an empty key in 'a YQ==, ,b'"),
        ("a Y", "Upload-Metadata: the value of 'a' is not Base64"),
        ("a Y!==", "Upload-Metadata: the value of 'a' is not Base64"),
        ("ü YQ==", "Upload-Metadata: key 'ü' must be visible ASCII"),
    ],
)
def test_bad_metadata_is_a_400(header: str, message: str) -> None:
    assert _refusal(parse_metadata, header) == (400, message)


def test_checksums() -> None:
    digest = hashlib.sha256(b"x").digest()
    parsed = parse_checksum("sha256 " + base64.b64encode(digest).decode())
    assert parsed is not None and parsed.algorithm == "sha256" and parsed.digest == digest
    assert parse_checksum(None) is None
    assert _refusal(parse_checksum, "crc32 AAAAAA==") == (
        400,
        "Upload-Checksum: algorithm 'crc32' is not supported (supported: sha1,sha256,md5)",
    )
    assert _refusal(parse_checksum, "sha1 AAAA") == (
        400,
        "Upload-Checksum: 'AAAA' is not a Base64 sha1 digest",
    )


def test_concat_headers() -> None:
    assert parse_concat("partial") == Concat(partial=True)
    final = parse_concat("final;/files/a https://x/files/b")
    assert final == Concat(False, ("/files/a", "https://x/files/b"))
    assert final.header == "final;/files/a https://x/files/b"
    assert _refusal(parse_concat, "final;")[0] == 400


def test_expires_is_an_http_date_both_ways() -> None:
    assert format_expires(NOW) == "Tue, 01 Jan 2030 12:00:00 GMT"
    assert parse_expires(format_expires(NOW)) == NOW


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        ({}, 400, "a new upload needs Upload-Length or Upload-Defer-Length: 1"),
        (
            {"Upload-Length": "3", "Upload-Defer-Length": "1"},
            400,
            "Upload-Length and Upload-Defer-Length cannot both be given",
        ),
        ({"Upload-Defer-Length": "2"}, 400, "Upload-Defer-Length must be 1, not '2'"),
        (
            {"Upload-Length": "101"},
            413,
            "Upload-Length 101 is over this server's limit of 100 bytes",
        ),
        (
            {"Upload-Length": "3", "Content-Length": "3", "Content-Type": "text/plain"},
            415,
            "Content-Type 'text/plain': upload bytes must be sent as"
            " application/offset+octet-stream",
        ),
        (
            {"Upload-Concat": "partial"},
            400,
            "a new upload needs Upload-Length or Upload-Defer-Length: 1",
        ),
        (
            {"Upload-Concat": "final;/a /b", "Upload-Length": "3"},
            400,
            "a final upload (Upload-Concat: final) takes no Upload-Length: its parts'",
        ),
        (
            {"Upload-Concat": "final;/a", "Content-Length": "3"},
            400,
            "a final upload (Upload-Concat: final) takes no bytes",
        ),
        (
            {"Upload-Concat": "middle;/a"},
            400,
            "Upload-Concat must be 'partial' or 'final;' and upload URLs, not 'middle;/a'",
        ),
    ],
)
def test_refused_creations(headers: dict[str, str], status: int, message: str) -> None:
    assert _refusal(parse_creation, headers, TusOptions(max_size=100)) == (status, message)


def test_a_creation_with_its_first_bytes() -> None:
    creation = parse_creation(
        {
            "Upload-Length": "10",
            "Content-Length": "4",
            "Content-Type": "application/offset+octet-stream",
            "Upload-Metadata": "filename YS50eHQ=",
        },
        TusOptions(),
    )
    assert creation.length == 10 and creation.body and creation.content_length == 4
    assert creation.metadata == {"filename": b"a.txt"}
    assert creation.first_patch().offset == 0
    deferred = parse_creation({"Upload-Defer-Length": "1"}, TusOptions())
    assert deferred.length is None and not deferred.body


def test_patch_headers() -> None:
    ok = {"Content-Type": "application/offset+octet-stream", "Upload-Offset": "5"}
    assert parse_patch(ok).offset == 5
    assert _refusal(parse_patch, {"Upload-Offset": "5"}) == (
        415,
        "no Content-Type: upload bytes must be sent as application/offset+octet-stream",
    )
    assert _refusal(parse_patch, {"Content-Type": "application/offset+octet-stream"}) == (
        400,
        "a PATCH needs an Upload-Offset header",
    )


def test_naming_and_content_types() -> None:
    naming = default_naming(
        {"filename": "clip é.webm".encode(), "filetype": b"video/webm", "x": b"1"}
    )
    assert naming == FileNaming("clip é.webm", "video/webm", {"x": "1"})
    assert _refusal(default_naming, {"filename": b"\xff"}) == (
        400,
        "Upload-Metadata: the value of 'filename' is not UTF-8 text",
    )
    videos = TusOptions(content_types=("video/*",))
    assert check_declared_type(naming, videos) == "video/webm"
    assert check_declared_type(FileNaming("a.mp4"), videos) is None  # guessed from the name
    status, message = _refusal(check_declared_type, FileNaming("a.exe"), videos)
    assert status == 415 and "is not allowed (allowed: video/*)" in message
    assert _refusal(check_declared_type, FileNaming(), videos) == (
        415,
        "tus upload: an unknown content type is not allowed (allowed: video/*)",
    )


def test_stages_and_transitions() -> None:
    fresh = UploadState("u", ObjectId(), 4, 10, expires=NOW)
    assert fresh.stage(NOW - timedelta(seconds=1)) is Stage.CREATED
    assert fresh.stage(NOW) is Stage.EXPIRED
    assert fresh.check(Event.PATCH, NOW - timedelta(1)) is Stage.RECEIVING
    assert _refusal(fresh.check, Event.PATCH, NOW) == (
        410,
        "upload u has expired: start a new upload",
    )
    assert fresh.check(Event.TERMINATE, NOW) is Stage.TERMINATED
    done = UploadState("u", ObjectId(), 4, 10, offset=10, complete=True, expires=NOW)
    assert done.stage(NOW + timedelta(1)) is Stage.COMPLETE  # a stored file never expires
    assert done.check(Event.TERMINATE, NOW) is Stage.TERMINATED
    assert _refusal(done.check, Event.COMPLETE, NOW)[0] == 409
    with pytest.raises(ValueError, match="a tail of 0 bytes does not end 5 bytes"):
        UploadState("u", 1, 4, 10, offset=5)
    with pytest.raises(ValueError, match="offset 11 is outside an upload of 10 bytes"):
        UploadState("u", 1, 4, 10, offset=11, tail=b"abc")


def test_registry_documents_round_trip() -> None:
    state = UploadState(
        "u",
        ObjectId(),
        4,
        None,
        6,
        b"ef",
        False,
        "filename YQ==",
        "a",
        "text/plain",
        {"k": "v"},
        NOW,
        NOW + timedelta(1),
    )
    doc = state.to_document()
    naive = {**doc, "created": NOW.replace(tzinfo=None), "expires": None}  # as PyMongo reads it
    assert UploadState.from_document(doc) == state
    assert UploadState.from_document(naive).created == NOW
    with pytest.raises(ValueError, match="not a resumable upload's document"):
        UploadState.from_document({"_id": "x"})


def test_answers() -> None:
    options = TusOptions(max_size=100, expire_after=timedelta(hours=1))
    assert dict(discovery(options).headers) == {
        "Tus-Resumable": "1.0.0",
        "Tus-Version": "1.0.0",
        "Tus-Extension": "creation,creation-with-upload,creation-defer-length,termination,"
        "checksum,expiration,concatenation",
        "Tus-Checksum-Algorithm": "sha1,sha256,md5",
        "Tus-Max-Size": "100",
    }
    no_expiry = dict(discovery(TusOptions(expire_after=None)).headers)
    assert "expiration" not in no_expiry["Tus-Extension"] and "Tus-Max-Size" not in no_expiry
    state = UploadState("u", 1, 4, None, 5, b"e", metadata_header="a YQ==", expires=NOW)
    head = dict(status_of_upload(state).headers)
    assert head == {
        "Tus-Resumable": "1.0.0",
        "Cache-Control": "no-store",
        "Upload-Offset": "5",
        "Upload-Defer-Length": "1",
        "Upload-Metadata": "a YQ==",
        "Upload-Expires": "Tue, 01 Jan 2030 12:00:00 GMT",
    }
    post = created(state, "/files/u", with_body=True)
    assert post.status == 201 and ("Location", "/files/u") in post.headers
    assert ("Upload-Offset", "5") in post.headers
    assert patched(state).status == 204 and ("Upload-Offset", "5") in patched(state).headers
    # Every PATCH answer says when the upload expires while it will: the completing one too,
    # of a plain upload or of a partial one.
    for concat in (None, "partial"):
        done = UploadState("u", 1, 4, 5, 5, complete=True, expires=NOW, concat=concat)
        assert ("Upload-Expires", "Tue, 01 Jan 2030 12:00:00 GMT") in patched(done).headers
    forever = UploadState("u", 1, 4, 5, 5, complete=True)
    assert all(name != "Upload-Expires" for name, _ in patched(forever).headers)
    assert terminated().status == 204
    refused = error_response(TusError(409, "nope"), offset_of=state)
    assert refused.status == 409 and refused.body == b"nope"
    assert ("Upload-Offset", "5") in refused.headers


def test_tus_options_are_one_value_with_two_shorthands() -> None:
    base = TusOptions(content_types=["video/*"], expire_after=None, max_parts=8)  # type: ignore[arg-type]
    assert base.content_types == ("video/*",)
    got = tus_options(base, max_size=100, content_types=["image/png"])
    assert got == TusOptions(100, ("image/png",), None, base.lease, 8)
    assert tus_options(base) is base and tus_options(None) == TusOptions()
    with pytest.raises(TypeError, match="options must be a TusOptions, not dict"):
        tus_options({"max_size": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="a single str given"):
        TusOptions(content_types="video/*")  # type: ignore[arg-type]

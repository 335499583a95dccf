"""Signed URLs, sans I/O: a good signature passes until its expiry (and the skew), and a change
of any byte of the path, the query or the signature, another file, another method, a retired
key or an unknown one is refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import unquote, urlsplit

import pytest
from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.files_document import FileInfo
from gridfield.core.http import decide, plan_response
from gridfield.core.http.signing import (
    MIN_SECRET_BYTES,
    FileRef,
    SignatureCheck,
    SigningKey,
    UrlSigning,
    canonical_path,
    forbidden,
)

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=timezone.utc)
SECRET_A = b"a" * MIN_SECRET_BYTES
SECRET_B = bytes(range(40))
SIGNING = UrlSigning([SigningKey("a", SECRET_A), SigningKey("b", SECRET_B)], skew=timedelta(0))

refs = st.one_of(
    st.builds(ObjectId).map(lambda oid: FileRef(file_id=oid)),
    st.text(min_size=1, max_size=20).map(lambda s: FileRef(file_id=s)),
    st.integers(-(2**40), 2**40).map(lambda n: FileRef(file_id=n)),
    st.builds(
        FileRef,
        filename=st.text(min_size=1, max_size=30),
        revision=st.none() | st.integers(-5, 5),
    ),
)
paths = st.text(min_size=0, max_size=30).map(lambda s: "/" + s)
lifetimes = st.integers(1, 10**7).map(lambda s: timedelta(seconds=s))
method_sets = st.sampled_from([("GET", "HEAD"), ("GET",), ("HEAD",)])


def _check(
    url: str,
    ref: FileRef,
    method: str = "GET",
    now: datetime = NOW,
    signing: UrlSigning = SIGNING,
) -> SignatureCheck:
    parts = urlsplit(url)
    plain = FileRef(ref.file_id, ref.filename)  # the server knows no revision: the URL says it
    return signing.check(method, unquote(parts.path), parts.query, plain, now=now)


@given(refs, paths, lifetimes, st.booleans(), method_sets)
def test_a_signed_url_is_answered_until_it_expires(
    ref: FileRef, path: str, life: timedelta, download: bool, methods: tuple[str, ...]
) -> None:
    url = SIGNING.sign(path, ref, NOW + life, download=download, methods=methods)
    for method in methods:
        checked = _check(url, ref, method)
        assert checked.ok, checked.reason
        assert checked.download is download
        assert checked.revision == ref.revision
        assert checked.expires == datetime.fromtimestamp(
            int((NOW + life).timestamp()), timezone.utc
        )
        last = _check(url, ref, method, now=checked.expires)
        assert last.ok
        late = _check(url, ref, method, now=checked.expires + timedelta(seconds=1))
        assert not late.ok and "expired" in late.reason
    for method in {"GET", "HEAD"} - set(methods):
        assert not _check(url, ref, method).ok
    assert not _check(url, ref, "POST").ok


@given(refs, paths, lifetimes, st.data())
def test_a_change_of_any_byte_is_refused(
    ref: FileRef, path: str, life: timedelta, data: st.DataObject
) -> None:
    url = SIGNING.sign(path, ref, NOW + life, download=data.draw(st.booleans()))
    at = data.draw(st.integers(1, len(url) - 1))  # the leading "/" stays: a path is absolute
    byte = data.draw(
        st.characters(min_codepoint=33, max_codepoint=126).filter(lambda c: c != url[at])
    )
    tampered = url[:at] + byte + url[at + 1 :]
    checked = _check(tampered, ref)
    if checked.ok:
        # Only another spelling of the same path (a %-escape's hex digit in the other case)
        # passes: the server decodes both to the same path, which names the same file.
        old, new = urlsplit(url), urlsplit(tampered)
        assert old.query == new.query
        assert unquote(old.path) == unquote(new.path) and old.path.lower() == new.path.lower()


@given(refs, refs, lifetimes)
def test_a_url_names_one_file(ref: FileRef, other: FileRef, life: timedelta) -> None:
    url = SIGNING.sign("/f", ref, NOW + life)
    same = (ref.file_id, ref.filename) == (other.file_id, other.filename) and (
        type(ref.file_id) is type(other.file_id)
    )
    # The revision lives in the query: _check gives the server's ref, without one.
    assert _check(url, other).ok is same


def test_extra_or_reordered_query_parameters_are_refused() -> None:
    ref = FileRef(file_id=ObjectId())
    url = SIGNING.sign("/files/x?size=small", ref, NOW + timedelta(hours=1))
    assert _check(url, ref).ok
    path, query = url.split("?")
    head, sig = query.rsplit("&sig=", 1)
    for changed in (
        f"{head}&download=1&sig={sig}",
        f"download=1&{head}&sig={sig}",
        "&".join(reversed(head.split("&"))) + f"&sig={sig}",
        f"{head}&sig={sig}&sig={sig}",
        head,
        f"{head}&sig=",
        f"sig={sig}",
    ):
        assert not _check(f"{path}?{changed}", ref).ok, changed


def test_rotation_one_key_signs_all_verify_and_a_retired_key_is_refused() -> None:
    ref = FileRef(file_id=ObjectId())
    old = UrlSigning({"old": SECRET_A})
    both = UrlSigning({"new": SECRET_B, "old": SECRET_A})
    new_only = UrlSigning({"new": SECRET_B})
    signed_old = old.sign("/f", ref, NOW + timedelta(hours=1))
    signed_new = both.sign("/f", ref, NOW + timedelta(hours=1))
    assert "kid=new" in signed_new
    assert _check(signed_old, ref, signing=both).ok
    assert _check(signed_new, ref, signing=both).ok
    assert _check(signed_new, ref, signing=new_only).ok
    refused = _check(signed_old, ref, signing=new_only)
    assert not refused.ok and "retired" in refused.reason
    # Same id, another secret: the signature does not match.
    impostor = UrlSigning({"old": SECRET_B})
    assert not _check(signed_old, ref, signing=impostor).ok


def test_the_skew_is_an_option() -> None:
    ref = FileRef(filename="a.txt")
    lenient = UrlSigning({"k": SECRET_A}, skew=timedelta(seconds=60))
    url = lenient.sign("/a.txt", ref, NOW)
    assert _check(url, ref, now=NOW + timedelta(seconds=60), signing=lenient).ok
    assert not _check(url, ref, now=NOW + timedelta(seconds=61), signing=lenient).ok
    assert UrlSigning({"k": SECRET_A}).skew == timedelta(seconds=30)


def test_a_url_ends_with_a_file_that_expires_sooner() -> None:
    ref = FileRef(file_id=ObjectId())
    soon = NOW + timedelta(minutes=5)
    url = SIGNING.sign("/f", ref, NOW + timedelta(days=1), file_expires=soon)
    assert f"expires={int(soon.timestamp())}" in url
    assert not _check(url, ref, now=soon + timedelta(seconds=1)).ok
    later = SIGNING.sign("/f", ref, NOW + timedelta(minutes=1), file_expires=soon)
    assert f"expires={int((NOW + timedelta(minutes=1)).timestamp())}" in later


@pytest.mark.parametrize(
    ("keys", "error", "words"),
    [
        ({}, ValueError, "no default key"),
        ({"k": b"short"}, ValueError, "at least 32 bytes"),
        ({"k": "x" * 31}, ValueError, "at least 32 bytes"),
        ({"bad id": SECRET_A}, ValueError, "key id"),
        ({"k": 12345}, TypeError, "bytes or str"),
        (SECRET_A, TypeError, "bare secret"),
        ([SigningKey("k", SECRET_A), SigningKey("k", SECRET_B)], ValueError, "two signing keys"),
    ],
)
def test_a_bad_key_is_refused_when_made(keys: object, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        UrlSigning(keys)  # type: ignore[arg-type]


def test_a_key_hides_its_secret() -> None:
    assert "aaaa" not in repr(SigningKey("k", SECRET_A))
    assert "aaaa" not in repr(UrlSigning({"k": SECRET_A}))


def test_signing_refuses_what_it_cannot_sign() -> None:
    with pytest.raises(ValueError, match="GET, HEAD"):
        SIGNING.sign("/f", FileRef(file_id=1), NOW, methods=["POST"])
    with pytest.raises(ValueError, match="already has"):
        SIGNING.sign("/f?sig=1", FileRef(file_id=1), NOW)
    with pytest.raises(ValueError, match="time zone"):
        SIGNING.sign("/f", FileRef(file_id=1), NOW.replace(tzinfo=None))
    with pytest.raises(TypeError, match="ObjectId, str or int"):
        SIGNING.sign("/f", FileRef(file_id=1.5), NOW)
    with pytest.raises(ValueError, match="one of them"):
        FileRef()


def test_an_unsigned_or_unparseable_url_is_refused() -> None:
    ref = FileRef(file_id=1)
    for query in ("", "expires=1", "sig=abc", "expires=x&kid=a&sig=abc", "kid=zz&sig=a"):
        assert not SIGNING.check("GET", "/f", query, ref, now=NOW).ok


@given(lifetimes, st.integers(0, 10**7), st.sampled_from([None, "public, max-age=31536000"]))
def test_a_signed_answer_is_cached_no_longer_than_its_signature(
    life: timedelta, file_left: int, cache_control: str | None
) -> None:
    expire_at = NOW + timedelta(seconds=file_left) if file_left else None
    info = FileInfo.from_document(
        {"_id": ObjectId(), "length": 3, "chunkSize": 255, "uploadDate": NOW}
        | ({"gridfield": {"expireAt": expire_at}} if expire_at else {})
    )
    until = NOW + life
    for headers in ({}, {"if-none-match": "*"}):
        plan = plan_response(
            decide(info, "GET", headers), cache_control=cache_control, now=NOW, until=until
        )
        control = plan.header("Cache-Control")
        assert control is not None
        ends = min(until, expire_at) if expire_at else until
        max_age = int(control.split("max-age=")[1].split(",")[0])
        assert max_age <= (ends - NOW).total_seconds()
        assert plan.header("Expires") is not None


def test_a_refusal_is_a_403_no_cache_keeps() -> None:
    plan = forbidden("GET", "the URL expired")
    assert plan.status == 403 and plan.header("Cache-Control") == "no-store"
    assert b"expired" in plan.tail
    assert not forbidden("HEAD", "x").send_body


def test_the_canonical_path_is_one_spelling() -> None:
    assert canonical_path("/a b/ü+%") == "/a%20b/%C3%BC+%25"


def test_serve_options_take_the_signing_whole() -> None:
    from gridfield.core.http import ServeOptions

    assert ServeOptions(signing=SIGNING).signing is SIGNING
    assert ServeOptions().signing is None  # no default key: nothing is signed unless asked
    with pytest.raises(TypeError, match="UrlSigning"):
        ServeOptions(signing={"k": SECRET_A})  # type: ignore[arg-type]

"""Content types: guessed from a name, sniffed from the first bytes, declared; media types."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.content_types import (
    FALLBACK_CONTENT_TYPE,
    MAX_CONTENT_TYPE_LENGTH,
    check_content_type,
    content_type_of,
    guess_content_type,
    header_safe_content_type,
    is_media_type,
    sniff_content_type,
)

# --------------------------------------------------------------------------- media types

_TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
tokens = st.text(alphabet=_TCHARS, min_size=1, max_size=12)
quoted = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters='"\\'),
    max_size=12,
).map(lambda t: f'"{t}"')
ows = st.sampled_from(["", " ", "\t", "  "])
parameters = st.tuples(ows, ows, tokens, st.one_of(tokens, quoted)).map(
    lambda p: f"{p[0]};{p[1]}{p[2]}={p[3]}"
)
media_types = st.tuples(tokens, tokens, st.lists(parameters, max_size=3)).map(
    lambda t: f"{t[0]}/{t[1]}{''.join(t[2])}"
)


@given(media_types)
def test_every_rfc9110_media_type_is_accepted_and_encodes_as_latin1(kind: str) -> None:
    assert is_media_type(kind)
    assert check_content_type(kind) == kind
    assert header_safe_content_type(kind, "application/octet-stream") == kind
    kind.encode("latin-1")


@given(media_types, st.integers(0, 40), st.characters(max_codepoint=0x10FFFF))
def test_a_control_or_non_ascii_character_anywhere_is_refused(
    kind: str, at: int, char: str
) -> None:
    if 0x20 <= ord(char) < 0x7F:
        return  # printable ASCII may or may not be valid here: checked elsewhere
    spoiled = kind[:at] + char + kind[at:]
    assert not is_media_type(spoiled)
    assert header_safe_content_type(spoiled, "application/octet-stream") == (
        "application/octet-stream"
    )
    with pytest.raises(ValueError, match="is not a media type like 'image/png'"):
        check_content_type(spoiled)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "textplain",
        "text/",
        "/plain",
        "text/plain/x",
        "text /plain",
        "text/plain ",
        "text/plain; charset",
        "text/plain; charset=",
        'text/plain; a="unterminated',
        "text/plain; a=b c",
        "text/plain\r\nX-Injected: 1",
        "text/plain\x00",
        "image/\U0001f600",
        "a" * 128 + "/b",
        "text/" + "a" * 128,
        "text/plain; a=" + "b" * MAX_CONTENT_TYPE_LENGTH,
        "text/plain" + "; " * 200 + "\x00",  # long, refused at once (no backtracking)
    ],
)
def test_not_a_media_type(bad: str) -> None:
    assert not is_media_type(bad)
    with pytest.raises(ValueError, match=re.escape(f"content_type {bad[:80]!r}"[:40])):
        check_content_type(bad)


def test_check_content_type_names_what_it_checks_and_allows_none() -> None:
    assert check_content_type(None) is None
    assert check_content_type("text/plain;") == "text/plain;"
    with pytest.raises(ValueError, match=r"^metadata.contentType 'x' is not a media type"):
        check_content_type("x", "metadata.contentType")
    with pytest.raises(TypeError, match="content_type must be a str, not int"):
        check_content_type(3)
    long = "text/" + "a" * 300
    with pytest.raises(ValueError, match=re.escape(f"{long[:80]}...")):
        check_content_type(long)
    assert header_safe_content_type(None, "x/y") == "x/y"
    assert header_safe_content_type(42, "x/y") == "x/y"


# --- content type -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"GIF87a", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wav"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"PK\x03\x04\x14\x00", "application/zip"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00", "video/mp4"),
        (b"\x00\x00\x00\x18ftypisom", "video/mp4"),
        (b"\x00\x00\x00\x18ftypqt  ", "video/quicktime"),
        (b"\x1f\x8b\x08\x00", "application/gzip"),
        (b"hello world", None),
        (b"", None),
        (b"RIFF\x00\x00\x00\x00XXXX", None),
    ],
)
def test_sniff(head: bytes, kind: str | None) -> None:
    assert sniff_content_type(head) == kind


def test_guess_from_filename() -> None:
    assert guess_content_type("marmot.jpg") == "image/jpeg"
    assert guess_content_type("MARMOT.PNG") == "image/png"
    assert guess_content_type("a.webp") == "image/webp"
    assert guess_content_type("notes") is None
    assert guess_content_type(None) is None
    assert guess_content_type("") is None


def test_an_upload_s_type_is_declared_else_guessed_else_sniffed() -> None:
    png = b"\x89PNG\r\n\x1a\n"
    assert content_type_of("text/x-mine", "a.jpg", png) == "text/x-mine"
    assert content_type_of(None, "a.jpg", png) == "image/jpeg"
    assert content_type_of(None, "noext", png) == "image/png"
    assert content_type_of(None, None, png) == "image/png"
    assert content_type_of(None, None, b"plain") is None


def test_an_upload_sniffs_a_name_that_only_says_octet_stream() -> None:
    png = b"\x89PNG\r\n\x1a\n"
    assert content_type_of(None, "a.bin", png) == "image/png"
    assert content_type_of(None, "a.bin", b"plain") == "application/octet-stream"
    assert content_type_of(None, "noext", b"") is None  # a tus upload: no bytes yet


def test_a_stored_type_is_header_safe_and_a_stored_name_is_final() -> None:
    png = b"\x89PNG\r\n\x1a\n"
    assert content_type_of("image/gif", "a.jpg", png, stored=True) == "image/gif"
    assert content_type_of("bad\ntype", "a.jpg", png, stored=True) == FALLBACK_CONTENT_TYPE
    assert content_type_of("", "a.jpg", png, stored=True) == "image/jpeg"
    assert content_type_of(None, "a.bin", png, stored=True) == "application/octet-stream"
    assert content_type_of(None, 42, png, stored=True) == "image/png"  # another writer's name
    assert content_type_of(None, "noext", None, stored=True) is None  # the bytes are needed
    assert content_type_of(None, "noext", b"plain", stored=True) is None


@given(media_types, st.sampled_from([None, "a.jpg", "a.bin", "noext"]), st.binary(max_size=16))
def test_a_declared_media_type_wins_in_both_modes(
    kind: str, filename: str | None, head: bytes
) -> None:
    assert content_type_of(kind, filename, head) == kind
    assert content_type_of(kind, filename, head, stored=True) == kind

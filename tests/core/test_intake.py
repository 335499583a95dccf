"""The sans-I/O side of receiving files: limits, the Content-Length decision, part headers and
names, and the status each refusal answers."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.content_types import is_media_type
from gridfield.core.errors import ContentTypeRefused, FileTooLarge, FormTooLarge, MalformedBody
from gridfield.core.http import content_disposition
from gridfield.core.http.intake import (
    MAX_PART_HEADER_BYTES,
    FormTally,
    IntakeLimits,
    check_declared_length,
    claimed_type,
    clean_filename,
    error_status,
    intake_limits,
    multipart_boundary,
    parse_content_disposition,
    parse_part_head,
    raw_body_filename,
)

names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40).filter(
    lambda s: clean_filename(s) is not None
)


# -- limits ---------------------------------------------------------------------------------


def test_limits_refuse_bad_values_when_made() -> None:
    with pytest.raises(TypeError, match="max_size must be an int, not str"):
        IntakeLimits(max_size="10")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_parts must not be negative, got -1"):
        IntakeLimits(max_parts=-1)
    with pytest.raises(TypeError, match="a single str given"):
        IntakeLimits(content_types="image/png")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'png' is not a content type"):
        IntakeLimits(content_types=("png",))
    with pytest.raises(TypeError, match="limits must be an IntakeLimits, not dict"):
        intake_limits({"max_size": 1})  # type: ignore[arg-type]


def test_a_calls_keywords_take_over_the_limits_given() -> None:
    base = IntakeLimits(max_size=10, max_parts=5)
    merged = intake_limits(base, max_size=20, content_types=["image/*"])
    assert (merged.max_size, merged.max_parts, merged.content_types) == (20, 5, ("image/*",))
    assert intake_limits(base) is base
    assert intake_limits(None) == IntakeLimits()
    with pytest.raises(TypeError):  # the other limits are the value's, not keywords
        intake_limits(base, max_parts=3)  # type: ignore[call-arg]


@given(
    size=st.integers(0, 2**40),
    files=st.integers(0, 1000),
    parts=st.integers(0, 10_000),
    fields=st.integers(0, 2**30),
    boundary=st.binary(min_size=1, max_size=70),
)
def test_the_multipart_bound_holds_a_full_form(
    size: int, files: int, parts: int, fields: int, boundary: bytes
) -> None:
    limits = IntakeLimits(max_size=size, max_files=files, max_parts=parts, max_fields_size=fields)
    bound = limits.multipart_bound(boundary)
    assert bound is not None
    # Every file at its limit, every field byte, every part's headers full, the delimiters.
    full = files * size + fields + parts * (MAX_PART_HEADER_BYTES + len(boundary) + 8)
    assert bound >= full + len(boundary) + 6
    assert check_declared_length(str(bound), bound) == bound
    with pytest.raises(FileTooLarge):
        check_declared_length(str(bound + 1), bound)


@given(st.integers(0, 2**40), st.integers(0, 2**40))
def test_max_body_caps_every_bound(size: int, body: int) -> None:
    limits = IntakeLimits(max_size=size, max_body=body)
    assert limits.raw_bound() == min(size, body)
    bound = limits.multipart_bound(b"b")
    assert bound is not None and bound <= body
    assert IntakeLimits().multipart_bound(b"b") is None  # no file limit: no bound
    assert IntakeLimits().raw_bound() is None


def test_the_declared_length_is_checked_before_the_body() -> None:
    assert check_declared_length(None, 10) is None  # chunked: counted as it comes
    assert check_declared_length(" 7 ", 10) == 7
    with pytest.raises(FileTooLarge) as caught:
        check_declared_length("11", 10)
    assert str(caught.value) == "the request body is 11 bytes, over the limit of 10 bytes"
    assert (caught.value.limit, caught.value.seen) == (10, 11)
    for bad in ("-1", "1e3", "ten", "", "١٢"):
        with pytest.raises(MalformedBody, match="is not a number of bytes"):
            check_declared_length(bad, None)


def test_max_body_is_checked_as_the_body_passes() -> None:
    IntakeLimits(max_body=5).check_body(5)
    with pytest.raises(FileTooLarge, match="over the limit of 5 bytes \\(6 bytes seen\\)"):
        IntakeLimits(max_body=5).check_body(6)


# -- the form's tally ----------------------------------------------------------------------------


@given(st.lists(st.sampled_from(["part", "file", "field"]), max_size=60), st.integers(0, 20))
def test_the_tally_refuses_exactly_past_each_limit(steps: list[str], limit: int) -> None:
    tally = FormTally(
        IntakeLimits(max_parts=limit, max_files=limit, max_field_size=limit, max_fields_size=limit)
    )
    parts = files = fields = field = 0
    for step in steps:
        try:
            if step == "part":
                parts, field = parts + 1, 0
                tally.part_begins()
            elif step == "file":
                files += 1
                tally.file_begins()
            else:
                field, fields = field + 1, fields + 1
                tally.field_bytes("f", 1)
        except FormTooLarge as exc:
            over = {"part": parts, "file": files, "field": max(field, fields)}[step]
            assert over == limit + 1
            assert exc.limit == limit
            return
        assert max(parts, files, field, fields) <= limit


def test_the_tally_names_what_went_over() -> None:
    tally = FormTally(IntakeLimits(max_field_size=3, max_fields_size=8))
    tally.part_begins()
    with pytest.raises(FormTooLarge, match="form field 'title' is over the limit of 3 bytes"):
        tally.field_bytes("title", 4)
    tally.part_begins()
    tally.field_bytes("a", 3)
    tally.part_begins()
    with pytest.raises(FormTooLarge, match="the form's fields are over the limit of 8 bytes"):
        tally.field_bytes("b", 3)
    with pytest.raises(FormTooLarge, match=f"over {MAX_PART_HEADER_BYTES} bytes of headers"):
        tally.header_bytes(MAX_PART_HEADER_BYTES + 1)


# -- boundaries and types --------------------------------------------------------------------


def test_the_boundary_comes_from_a_form_data_content_type() -> None:
    assert multipart_boundary("multipart/form-data; boundary=abc") == b"abc"
    assert multipart_boundary('Multipart/Form-Data; charset=utf-8; boundary="a b"') == b"a b"
    with pytest.raises(MalformedBody, match="names no boundary"):
        multipart_boundary("multipart/form-data")
    with pytest.raises(MalformedBody, match="names no boundary"):
        multipart_boundary('multipart/form-data; boundary=""')
    with pytest.raises(MalformedBody, match="not 1 to 70 ASCII characters"):
        multipart_boundary("multipart/form-data; boundary=" + "x" * 71)
    with pytest.raises(ContentTypeRefused, match="'application/json', not multipart/form-data"):
        multipart_boundary("application/json")
    with pytest.raises(ContentTypeRefused, match="has no Content-Type"):
        multipart_boundary(None)


def test_a_claimed_octet_stream_says_nothing() -> None:
    assert claimed_type(None) is None
    assert claimed_type("application/octet-stream") is None
    assert claimed_type("Application/Octet-Stream; x=1") is None
    assert claimed_type("") is None
    assert claimed_type("garbage") is None
    assert claimed_type(" image/png ") == "image/png"


# -- names ------------------------------------------------------------------------------------


@given(names.filter(str.isprintable))
def test_a_name_our_responses_send_parses_back(name: str) -> None:
    header = content_disposition(name, download=True)
    assert header is not None
    kind, params = parse_content_disposition(header)
    assert kind == "attachment"
    assert clean_filename(params["filename"]) == clean_filename(name)


@given(names)
def test_rfc_5987_and_raw_utf8_names_decode_alike(name: str) -> None:
    star = f"form-data; name=f; filename=fallback; filename*=UTF-8''{quote(name, safe='')}"
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    raw = f'form-data; name=f; filename="{escaped}"'
    assert parse_content_disposition(star)[1]["filename"] == name
    assert parse_content_disposition(raw)[1]["filename"] == name


@given(st.lists(names, min_size=1, max_size=4), st.sampled_from(["/", "\\"]))
def test_a_path_sent_with_a_name_is_dropped(folders: list[str], sep: str) -> None:
    last = clean_filename(folders[-1].replace("/", "_").replace("\\", "_"))
    assume_path = sep.join([*folders[:-1], folders[-1].replace("/", "_").replace("\\", "_")])
    cleaned = clean_filename(assume_path)
    assert cleaned == last
    assert cleaned is None or ("/" not in cleaned and "\\" not in cleaned)


def test_names_are_cleaned() -> None:
    assert clean_filename("C:\\Users\\zoe\\photo.jpg") == "photo.jpg"
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("a\x00b\r\n.txt") == "ab.txt"
    assert clean_filename("  spaced.txt ") == "spaced.txt"
    assert clean_filename("e\u0301te\u0301.txt") == "été.txt"  # NFC
    for nothing in ("", "..", ".", "dir/", "\x07", None):
        assert clean_filename(nothing) is None


def test_a_browser_windows_path_keeps_its_backslashes_as_separators() -> None:
    _, params = parse_content_disposition('form-data; name="f"; filename="C:\\Users\\a.png"')
    assert params["filename"] == "C:\\Users\\a.png"
    _, params = parse_content_disposition('form-data; name="f"; filename="say \\"hi\\".txt"')
    assert params["filename"] == 'say "hi".txt'


def test_a_bad_extended_name_falls_back_to_the_plain_one() -> None:
    _, params = parse_content_disposition(
        "form-data; name=f; filename=plain.txt; filename*=UTF-8''%FF%FE"
    )
    assert params["filename"] == "plain.txt"
    _, params = parse_content_disposition("form-data; name=f; filename*=ISO-8859-1''caf%E9.txt")
    assert params["filename"] == "café.txt"


def test_part_heads() -> None:
    head = parse_part_head(
        [
            (b"Content-Disposition", 'form-data; name="photo"; filename="Zoë.png"'.encode()),
            (b"content-type", b"application/octet-stream"),
        ]
    )
    assert (head.name, head.is_file, head.filename, head.content_type) == (
        "photo",
        True,
        "Zoë.png",
        None,
    )
    field = parse_part_head([(b"Content-Disposition", b"form-data; name=title")])
    assert (field.name, field.is_file) == ("title", False)
    latin = parse_part_head([(b"Content-Disposition", b'form-data; name=f; filename="caf\xe9"')])
    assert latin.filename == "café"
    with pytest.raises(MalformedBody, match="has no Content-Disposition header"):
        parse_part_head([(b"Content-Type", b"text/plain")])
    with pytest.raises(MalformedBody, match="not form-data; name="):
        parse_part_head([(b"Content-Disposition", b"attachment; filename=a")])


def test_a_raw_body_is_named_by_the_app_the_header_or_the_path() -> None:
    assert raw_body_filename("given.txt", "attachment; filename=h.txt", "p.txt") == "given.txt"
    assert raw_body_filename(None, "attachment; filename*=UTF-8''%C3%A9.txt", "p") == "é.txt"
    assert raw_body_filename(None, "inline", "r%C3%A9sum%C3%A9.pdf") == "résumé.pdf"
    assert raw_body_filename(None, None, "..%2F..%2Fsecret") == "secret"
    assert raw_body_filename(None, None, "") is None


# -- statuses ------------------------------------------------------------------------------------


def test_each_refusal_has_its_status() -> None:
    assert error_status(FileTooLarge("x", limit=1, seen=2)) == 413
    assert error_status(FormTooLarge("x", limit=1, seen=2)) == 413
    assert error_status(ContentTypeRefused("x")) == 415
    assert error_status(MalformedBody("x")) == 400
    assert error_status(ValueError("x")) is None
    assert error_status(RuntimeError("x")) is None


def test_a_quote_a_browser_sent_as_pct22_is_a_quote_again() -> None:
    head = parse_part_head(
        [(b"Content-Disposition", b'form-data; name="f"; filename="say %22hi%22.txt"')]
    )
    assert head.filename == 'say "hi".txt'
    star = parse_part_head(
        [(b"Content-Disposition", b"form-data; name=f; filename*=UTF-8''100%2522.txt")]
    )
    assert star.filename == "100%22.txt"  # an RFC 5987 name says exactly what it means


NOT_MEDIA_TYPES = (
    "text/html, image/png",
    "image/png\x00text/html",
    "image/\N{GRINNING FACE}",
    "image/" + "x" * 300,
)


@pytest.mark.parametrize("kind", NOT_MEDIA_TYPES)
def test_a_claim_that_is_no_media_type_is_malformed_naming_the_part(kind: str) -> None:
    head = [
        (b"Content-Disposition", b'form-data; name="photo"; filename="a.png"'),
        (b"Content-Type", kind.encode()),
    ]
    with pytest.raises(MalformedBody, match=r"^multipart part 'photo' \('a.png'\): Content-Type"):
        parse_part_head(head)
    with pytest.raises(MalformedBody, match=r"^the request body: Content-Type .* not a media type"):
        claimed_type(kind)


@given(st.text(max_size=300))
def test_any_claim_is_none_a_media_type_or_malformed(claim: str) -> None:
    try:
        got = claimed_type(claim)
    except MalformedBody:
        return
    assert got is None or is_media_type(got)

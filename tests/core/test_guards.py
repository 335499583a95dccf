"""Upload guards and progress bookkeeping, without a server."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.errors import ContentTypeRefused, FileTooLarge
from gridfield.core.guards import (
    Progress,
    UploadLimits,
    content_type_allowed,
    part_content_type,
)


@pytest.mark.parametrize(
    ("kind", "allowed", "ok"),
    [
        ("image/png", ["image/png"], True),
        ("image/png", ["image/*"], True),
        ("IMAGE/PNG; q=1", ["image/png"], True),
        ("image/png", ["*/*"], True),
        ("image/png", ["image/jpeg", "text/*"], False),
        ("imagex/png", ["image/*"], False),
        (None, ["*/*"], False),
    ],
)
def test_content_types_match_exactly_or_by_major_type(
    kind: str | None, allowed: list[str], ok: bool
) -> None:
    assert content_type_allowed(kind, allowed) is ok


@given(st.integers(0, 10**9), st.integers(0, 10**9))
def test_the_size_limit_refuses_exactly_past_it(limit: int, seen: int) -> None:
    limits = UploadLimits(max_size=limit, label="Animal.photo")
    if seen <= limit:
        limits.check_size(seen)
    else:
        with pytest.raises(FileTooLarge) as caught:
            limits.check_size(seen)
        assert str(caught.value) == (
            f"Animal.photo: the file is over the limit of {limit} bytes ({seen} bytes seen)"
        )


def test_no_list_allows_every_type_and_a_list_refuses_others() -> None:
    UploadLimits().check_type(None)
    with pytest.raises(ContentTypeRefused, match=r"'text/html' is not allowed \(allowed: a/b\)"):
        UploadLimits(content_types=("a/b",)).check_type("text/html")


def test_a_call_tightens_or_keeps_the_store_limits() -> None:
    base = UploadLimits(max_size=10, content_types=("image/*",), label="fs")
    assert base.merged(None, None) is base
    assert base.merged(5, None) == UploadLimits(5, ("image/*",), "fs")
    assert base.merged(None, ["a/b"]) == UploadLimits(10, ("a/b",), "fs")


@given(st.lists(st.integers(0, 1000)))
def test_progress_never_goes_back(points: list[int]) -> None:
    seen: list[int] = []
    progress = Progress(lambda done, total: seen.append(done), 1000)
    for point in points:
        progress.reached(point)
    progress.finished()
    assert seen == sorted(set(seen))
    if any(points):
        assert seen[-1] == max(points)
    else:
        assert seen == [0]


@pytest.mark.parametrize(
    "claim", [None, "", "  ", "application/octet-stream", "Application/Octet-Stream; x=1"]
)
def test_a_part_that_claims_nothing_useful_has_its_type_guessed(claim: str | None) -> None:
    assert part_content_type(claim) is None


@given(st.from_regex(r"[a-z]{1,8}/[a-z0-9.+-]{1,12}", fullmatch=True), st.sampled_from(["", " "]))
def test_a_part_claiming_a_type_keeps_it(kind: str, pad: str) -> None:
    claimed = part_content_type(pad + kind + pad)
    assert claimed == (kind if kind != "application/octet-stream" else None)

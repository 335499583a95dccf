"""Conditional requests (RFC 9110 section 13): the preconditions of a GET or HEAD, evaluated
in the order of 13.2.2, and ``If-Range``."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from .validators import parse_entity_tags, parse_http_date

__all__ = ["Headers", "if_range_holds", "precondition_status"]


class Headers(Protocol):
    """Request headers looked up by name, case-insensitively (what every framework offers)."""

    def get(self, name: str, /) -> str | None: ...


def _opaque(tag: str) -> tuple[bool, str]:
    weak = tag.startswith("W/")
    return weak, tag[2:] if weak else tag


def _matches(header: str, etag: str, *, weak: bool) -> bool:
    """Whether ``etag`` is in the header's list (``*`` matches any current file).

    Strong comparison: both tags strong and equal; weak comparison ignores ``W/``.
    """
    tags = parse_entity_tags(header)
    if tags is None:
        return True
    ours_weak, ours = _opaque(etag)
    for their_weak, theirs in tags:
        if theirs == ours and (weak or not (their_weak or ours_weak)):
            return True
    return False


def precondition_status(
    method: str, headers: Headers, etag: str, modified: datetime | None
) -> int | None:
    """304 or 412 when a precondition says so, else None (go on and serve).

    RFC 9110 13.2.2: ``If-Match`` (strong comparison), else ``If-Unmodified-Since``; then
    ``If-None-Match`` (weak comparison: 304 for GET and HEAD), else ``If-Modified-Since``
    (GET and HEAD only). A date that does not parse is ignored, as the RFC says.
    """
    if_match = headers.get("if-match")
    if if_match is not None:
        if not _matches(if_match, etag, weak=False):
            return 412
    else:
        since = parse_http_date(headers.get("if-unmodified-since"))
        if since is not None and modified is not None and modified > since:
            return 412
    safe = method in ("GET", "HEAD")
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        if _matches(if_none_match, etag, weak=True):
            return 304 if safe else 412
    elif safe:
        since = parse_http_date(headers.get("if-modified-since"))
        if since is not None and modified is not None and modified <= since:
            return 304
    return None


def if_range_holds(header: str | None, etag: str, modified: datetime | None) -> bool:
    """Whether ``Range`` applies given ``If-Range`` (RFC 9110 13.1.5): true without one; an
    entity tag must match strongly (a weak one never does); a date must equal
    ``Last-Modified`` exactly."""
    if header is None:
        return True
    value = header.strip()
    if value.startswith('"') or value.startswith("W/"):
        their_weak, theirs = _opaque(value)
        ours_weak, ours = _opaque(etag)
        return not their_weak and not ours_weak and theirs == ours
    when = parse_http_date(value)
    return when is not None and modified is not None and when == modified

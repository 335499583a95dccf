"""The answer to a GET or HEAD of a stored file, decided without I/O: status, headers, and
which bytes of the file go where in the body (multipart/byteranges framing included)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..content_types import is_active_content
from ..expiry import earliest, expiry_cache_headers
from ..files_document import FileInfo
from .conditions import Headers, if_range_holds, precondition_status
from .ranges import MAX_RANGES, ByteSpan, parse_range
from .representation import FALLBACK_CONTENT_TYPE, content_disposition, stored_content_type
from .validators import entity_tag, format_http_date, last_modified

__all__ = ["Decision", "Part", "ResponsePlan", "decide", "not_found", "plan_response"]

ALLOWED_METHODS = "GET, HEAD"
NOSNIFF = ("X-Content-Type-Options", "nosniff")
"""On every answer: a browser takes the Content-Type as sent, never guesses a runnable one."""
SANDBOX = ("Content-Security-Policy", "sandbox")
"""On active content an app serves inline: the browser shows it in a sandbox of its own,
no scripts, no forms, no access to the app's origin."""


@dataclass(frozen=True)
class Part:
    """A piece of the body: ``head`` (framing bytes), then the file's bytes in ``span``."""

    head: bytes
    span: ByteSpan


@dataclass(frozen=True)
class ResponsePlan:
    """Everything an adapter sends: the status, the headers, and the body as parts (file
    bytes with their framing) followed by ``tail``. For HEAD, ``send_body`` is False: the
    headers are those of the GET."""

    status: int
    headers: list[tuple[str, str]]
    parts: tuple[Part, ...] = ()
    tail: bytes = b""
    send_body: bool = True

    @property
    def content_length(self) -> int:
        """The body's length in bytes (what ``Content-Length`` says)."""
        return sum(len(p.head) + p.span.size for p in self.parts) + len(self.tail)

    def header(self, name: str) -> str | None:
        """The value of a header of the plan (case-insensitive), or None."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    def pieces(self) -> Iterator[bytes | ByteSpan]:
        """The body in order: framing bytes, and the spans of the file to read between them."""
        if not self.send_body:
            return
        for part in self.parts:
            if part.head:
                yield part.head
            if part.span.size:
                yield part.span
        if self.tail:
            yield self.tail


@dataclass(frozen=True)
class Decision:
    """The outcome of a request's method, preconditions and ``Range`` for one file.

    ``status`` is 200, 206, 304, 405, 412 or 416; ``spans`` are what a 200 or 206 sends.
    """

    info: FileInfo
    method: str
    status: int
    etag: str
    modified: str | None
    spans: tuple[ByteSpan, ...] = field(default=())

    @property
    def needs_content_type(self) -> bool:
        """Whether the response names the file's content type (a 200 or 206)."""
        return self.status in (200, 206)


def decide(
    info: FileInfo, method: str, headers: Headers, *, max_ranges: int = MAX_RANGES
) -> Decision:
    """Decide the status of a request for the file ``info`` describes.

    Only GET and HEAD are served (405 otherwise). Preconditions come first (304, 412),
    then ``Range`` (206 or 416), honoured for GET only and only if ``If-Range`` holds.
    """
    method = method.upper()
    etag = entity_tag(info)
    modified = last_modified(info)
    stamp = format_http_date(modified) if modified is not None else None
    if method not in ("GET", "HEAD"):
        return Decision(info, method, 405, etag, stamp)
    blocked = precondition_status(method, headers, etag, modified)
    if blocked is not None:
        return Decision(info, method, blocked, etag, stamp)
    whole = (ByteSpan(0, info.length),)
    header = headers.get("range")
    if (
        method != "GET"
        or header is None
        or not if_range_holds(headers.get("if-range"), etag, modified)
    ):
        return Decision(info, method, 200, etag, stamp, whole)
    asked = parse_range(header, info.length, max_ranges=max_ranges)
    if asked.ignored:
        return Decision(info, method, 200, etag, stamp, whole)
    if asked.unsatisfiable:
        return Decision(info, method, 416, etag, stamp)
    return Decision(info, method, 206, etag, stamp, asked.spans)


def _multipart(
    spans: tuple[ByteSpan, ...], length: int, content_type: str, boundary: str
) -> tuple[tuple[Part, ...], bytes]:
    parts = []
    for i, span in enumerate(spans):
        head = (
            ("\r\n" if i else "")
            + f"--{boundary}\r\nContent-Type: {content_type}\r\n"
            + f"Content-Range: {span.content_range(length)}\r\n\r\n"
        )
        parts.append(Part(head.encode("latin-1"), span))
    return tuple(parts), f"\r\n--{boundary}--\r\n".encode("latin-1")


def plan_response(
    decision: Decision,
    *,
    content_type: str | None = None,
    download: bool = False,
    filename: str | None = None,
    cache_control: str | None = None,
    boundary: str | None = None,
    now: datetime | None = None,
    inline_active: bool = False,
    until: datetime | None = None,
) -> ResponsePlan:
    """The full response for a decision.

    ``content_type`` defaults to what the files document says (see
    ``stored_content_type``), else ``application/octet-stream``: an adapter sniffs the
    first bytes before calling this when neither gives one. ``filename`` overrides the
    stored one in ``Content-Disposition``; ``download`` makes it ``attachment``. A file that
    expires gets ``Expires`` at its expiry and a ``max-age`` no longer than the time left
    (``now``, by default the current time): no cache serves it after it expired. ``until``
    (a signed URL's expiry) caps them the same way, when it comes sooner.

    Every answer but a 304 (whose cached answer has it) carries ``X-Content-Type-Options:
    nosniff``. A type that can carry active
    content (``is_active_content``: HTML, SVG, XML, JavaScript...) is sent as an
    ``attachment`` unless ``inline_active``; then, inline, with a ``Content-Security-Policy:
    sandbox`` that keeps its scripts from running on the app's origin.
    """
    info = decision.info
    headers: list[tuple[str, str]] = [NOSNIFF]
    if decision.status == 405:
        return ResponsePlan(405, [NOSNIFF, ("Allow", ALLOWED_METHODS), ("Content-Length", "0")])
    headers.append(("ETag", decision.etag))
    moment = datetime.now(timezone.utc) if now is None else now
    ends = earliest(info.expire_at, until)
    headers.extend(expiry_cache_headers(cache_control, ends, moment))
    if decision.status == 304:
        # RFC 9110 15.4.5: ETag and Cache-Control, but no other representation metadata
        # (Last-Modified included: the ETag already guides the cache). The cached answer it
        # revalidates carries nosniff already.
        return ResponsePlan(304, [h for h in headers if h != NOSNIFF], send_body=False)
    if decision.modified is not None:
        headers.append(("Last-Modified", decision.modified))
    headers.append(("Accept-Ranges", "bytes"))
    if decision.status in (412, 416):
        if decision.status == 416:
            headers.append(("Content-Range", f"bytes */{info.length}"))
        headers.append(("Content-Length", "0"))
        return ResponsePlan(decision.status, headers, send_body=decision.method == "GET")
    kind = content_type or stored_content_type(info) or FALLBACK_CONTENT_TYPE
    active = is_active_content(kind)
    disposition = content_disposition(
        filename if filename is not None else info.filename,
        download=download or (active and not inline_active),
    )
    if disposition is not None:
        headers.append(("Content-Disposition", disposition))
    if active and inline_active and not download:
        headers.append(SANDBOX)
    spans = decision.spans
    if len(spans) > 1:
        tag = boundary or secrets.token_hex(16)
        parts, tail = _multipart(spans, info.length, kind, tag)
        headers.append(("Content-Type", f"multipart/byteranges; boundary={tag}"))
    else:
        parts, tail = (Part(b"", spans[0]),), b""
        headers.append(("Content-Type", kind))
        if decision.status == 206:
            headers.append(("Content-Range", spans[0].content_range(info.length)))
    plan = ResponsePlan(decision.status, headers, parts, tail, send_body=decision.method == "GET")
    headers.append(("Content-Length", str(plan.content_length)))
    return plan


def not_found(method: str = "GET") -> ResponsePlan:
    """404 for a file that does not exist (or an id that cannot name one)."""
    body = b"Not Found"
    return ResponsePlan(
        404,
        [
            NOSNIFF,
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ],
        tail=body,
        send_body=method.upper() != "HEAD",
    )

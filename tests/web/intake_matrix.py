"""Upload cases every receiving adapter must answer alike: each sends a request over a real
socket, checks the answer, and ends with a census of the bucket (files, chunks)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from bson import ObjectId
from pymongo.database import Database

import gridfield.sync

from .intake_apps import LIMIT, PUT_LIMIT

BOUNDARY = "gridfield-test-boundary-7f3a"
CHUNK = 255 * 1024


@dataclass
class Target:
    """One adapter behind its server, and the bucket it writes to."""

    name: str
    base: str
    db: Database[dict[str, Any]]
    buffers_body: bool  # the server reads the whole body before the app runs (waitress)

    @property
    def store(self) -> gridfield.sync.FileStore:
        return gridfield.sync.FileStore(self.db)

    def census(self) -> tuple[int, int]:
        return self.db["fs.files"].count_documents({}), self.db["fs.chunks"].count_documents({})

    def settled_census(self, want: tuple[int, int], timeout: float = 15) -> tuple[int, int]:
        """The census once it is ``want``, or what it is after ``timeout`` (a server cleans up
        after a client that left in its own time)."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.census()
            if seen == want or time.monotonic() > deadline:
                return seen
            time.sleep(0.1)


def chunks_of(length: int) -> int:
    return -(-length // CHUNK)


def part(
    name: str,
    data: bytes,
    *,
    filename: str | None = None,
    type: str | None = None,
    raw_filename: bytes | None = None,
    star: str | None = None,
) -> bytes:
    """One multipart part: ``filename`` quoted as is (raw UTF-8), ``star`` as ``filename*``."""
    head = f'Content-Disposition: form-data; name="{name}"'.encode()
    if filename is not None:
        head += b'; filename="' + filename.encode() + b'"'
    if raw_filename is not None:
        head += b'; filename="' + raw_filename + b'"'
    if star is not None:
        head += f"; filename*={star}".encode()
    if type is not None:
        head += f"\r\nContent-Type: {type}".encode()
    return b"--" + BOUNDARY.encode() + b"\r\n" + head + b"\r\n\r\n" + data + b"\r\n"


def form(*parts: bytes) -> bytes:
    return b"".join(parts) + b"--" + BOUNDARY.encode() + b"--\r\n"


FORM_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def post_form(target: Target, path: str, body: bytes | Iterable[bytes]) -> httpx.Response:
    with httpx.Client(base_url=target.base, timeout=60) as client:
        return client.post(path, content=body, headers={"Content-Type": FORM_TYPE})


def answer(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, (response.status_code, response.text)
    found: dict[str, Any] = response.json()
    return found


def stored(target: Target, entry: dict[str, Any]) -> bytes:
    return target.store.get(ObjectId(entry["id"]))


# -- a raw socket, for what httpx will not send ------------------------------------------------


def _host_port(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


def raw_request(
    target: Target,
    head: str,
    body: Iterable[bytes] = (),
    *,
    close_early: bool = False,
    wait_before_body: float = 0.0,
) -> tuple[int | None, bytes, bool]:
    """Send ``head`` (request line and headers, without the blank line) and ``body``, reading
    the answer while sending. Returns (status or None, what came back, whether the answer came
    before the body was sent). ``close_early``: leave after the body without reading.
    ``wait_before_body``: give the server that long to answer before the body is sent."""
    sock = socket.create_connection(_host_port(target.base), timeout=60)
    got = bytearray()
    done = threading.Event()

    def read() -> None:
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                got.extend(data)
                if b"\r\n\r\n" in got:
                    done.set()
        except OSError:
            pass
        done.set()

    reader = threading.Thread(target=read, daemon=True)
    try:
        sock.sendall(head.encode("latin-1") + b"\r\n\r\n")
        if close_early:
            for piece in body:
                sock.sendall(piece)
            return None, b"", False
        reader.start()
        early = done.wait(wait_before_body) if wait_before_body else False
        if not early:
            try:
                for piece in body:
                    if done.is_set():
                        break
                    sock.sendall(piece)
            except OSError:
                pass  # the server stopped reading: its answer is what counts
        done.wait(60)
        time.sleep(0.05)  # the rest of a short answer
    finally:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
    status = int(got.split(b" ", 2)[1]) if got.startswith(b"HTTP/1.") else None
    return status, bytes(got), early


def chunked(pieces: Iterable[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def request_head(method: str, path: str, target: Target, headers: dict[str, str]) -> str:
    host = target.base.removeprefix("http://")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return "\r\n".join(lines)


# -- the cases ------------------------------------------------------------------------------------


def one_file(t: Target) -> None:
    data = os.urandom(LIMIT - 5)
    got = answer(
        post_form(
            t, "/form", form(part("photo", data, filename="x.bin", type="application/x-thing"))
        )
    )
    [entry] = got["files"]
    assert (entry["field"], entry["filename"], entry["content_type"], entry["length"]) == (
        "photo",
        "x.bin",
        "application/x-thing",
        len(data),
    )
    assert stored(t, entry) == data
    assert t.census() == (1, chunks_of(len(data)))


def files_and_fields(t: Target) -> None:
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(1000)
    text = "line one\r\nline two --" + BOUNDARY[:-1]  # a near-boundary inside the data
    pdf = b"%PDF-1.4 " + os.urandom(2000)
    body = form(
        part("title", "Zoë's marmots".encode()),
        part("photo", png, filename="p.png", type="application/octet-stream"),
        part("notes", text.encode()),
        part("doc", pdf, filename="report", type="application/octet-stream"),
        part("title", b"second value"),
    )
    got = answer(post_form(t, "/form", body))
    assert got["form"] == {"title": "Zoë's marmots", "notes": text}
    by_field = {entry["field"]: entry for entry in got["files"]}
    assert by_field["photo"]["content_type"] == "image/png"  # sniffed: octet-stream says nothing
    assert by_field["doc"]["content_type"] == "application/pdf"
    assert stored(t, by_field["photo"]) == png and stored(t, by_field["doc"]) == pdf
    assert t.census() == (2, 2)


def unicode_names(t: Target) -> None:
    body = form(
        part(
            "a",
            b"one",
            star="UTF-8''%E6%97%A5%E6%9C%AC%20r%C3%A9sum%C3%A9.txt",
            filename="fallback.txt",
        ),
        part("b", b"two", raw_filename="Zoë Ω.txt".encode()),
        part("c", b"three", filename="C:\\Users\\zoe\\Desktop\\..\\évier.txt"),
        part("d", b"four", filename="../../etc/passwd"),
    )
    got = answer(post_form(t, "/form", body))
    names = [entry["filename"] for entry in got["files"]]
    assert names == ["日本 résumé.txt", "Zoë Ω.txt", "évier.txt", "passwd"]
    stored_names = sorted(info.filename for info in t.store.find())
    assert stored_names == sorted(names)
    assert t.census() == (4, 4)


def empty_file(t: Target) -> None:
    body = form(
        part("f", b"", filename="empty.txt", type="text/plain"),
        part("unchosen", b"", filename="", type="application/octet-stream"),
    )
    got = answer(post_form(t, "/form", body))
    [entry] = got["files"]  # an input left empty stores nothing
    assert (entry["filename"], entry["length"]) == ("empty.txt", 0)
    assert stored(t, entry) == b""
    assert t.census() == (1, 0)


def missing_boundary(t: Target) -> None:
    with httpx.Client(base_url=t.base, timeout=60) as client:
        response = client.post(
            "/form",
            content=form(part("f", b"x", filename="a")),
            headers={"Content-Type": "multipart/form-data"},
        )
    assert response.status_code == 400
    assert "names no boundary" in response.text
    assert t.census() == (0, 0)


def not_multipart(t: Target) -> None:
    with httpx.Client(base_url=t.base, timeout=60) as client:
        response = client.post("/form", json={"a": 1})
    assert response.status_code == 415
    assert "'application/json', not multipart/form-data" in response.text
    assert t.census() == (0, 0)


def truncated_body(t: Target) -> None:
    # The first file whole, the second cut before the closing boundary.
    body = part("a", os.urandom(3000), filename="a.bin") + part("b", b"x" * 5000, filename="b")
    body = body[:-100]
    response = post_form(t, "/form", body)
    assert response.status_code == 400
    assert "before its closing boundary" in response.text
    assert t.census() == (0, 0)


def disconnect_mid_body(t: Target) -> None:
    whole = form(
        part("a", os.urandom(3000), filename="a.bin"),
        part("b", os.urandom(LIMIT - 10), filename="b.bin"),
    )
    head = request_head(
        "POST", "/form", t, {"Content-Type": FORM_TYPE, "Content-Length": str(len(whole))}
    )
    raw_request(t, head, [whole[: len(whole) - 1000]], close_early=True)
    assert t.settled_census((0, 0)) == (0, 0)


def over_limit_by_length(t: Target) -> None:
    declared = 50 * 2**20
    head = request_head("PUT", "/raw/big.bin", t, {"Content-Length": str(declared)})
    pieces = (b"\0" * 2**20 for _ in range(50))
    status, got, early = raw_request(t, head, pieces, wait_before_body=5.0)
    assert status == 413, got[:300]
    assert f"the request body is {declared} bytes, over the limit of {LIMIT}".encode() in got
    assert early == (not t.buffers_body)  # answered before a byte of the body was sent
    assert t.census() == (0, 0)


def over_limit_streaming(t: Target) -> None:
    head = request_head("PUT", "/raw/big.bin", t, {"Transfer-Encoding": "chunked"})
    pieces = chunked(b"\1" * 65536 for _ in range(40))  # 2.5 MiB, no length
    status, got, _ = raw_request(t, head, pieces)
    assert status == 413, got[:300]
    assert f"over the limit of {LIMIT} bytes".encode() in got
    assert t.census() == (0, 0)


def over_limit_streaming_form(t: Target) -> None:
    def body() -> Iterator[bytes]:
        yield part("a", b"small", filename="a.txt")[:-2] + b"\r\n"
        yield f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=b; filename=b\r\n\r\n".encode()
        for _ in range(40):
            yield os.urandom(65536)

    response = post_form(t, "/form", body())  # httpx sends it chunked
    assert response.status_code == 413, response.text
    assert t.census() == (0, 0)  # the first file, stored whole, is gone too


def lying_length(t: Target) -> None:
    body = form(part("a", os.urandom(4000), filename="a.bin"))
    head = request_head(
        "POST", "/form", t, {"Content-Type": FORM_TYPE, "Content-Length": str(len(body) - 50)}
    )
    status, got, _ = raw_request(t, head, [body])
    assert status == 400, got[:300]
    assert t.census() == (0, 0)


def refused_type(t: Target) -> None:
    text = b"just some text, no magic number"
    response = post_form(t, "/images", form(part("f", text, filename="a.txt", type="text/plain")))
    assert response.status_code == 415
    assert "content type 'text/plain' is not allowed (allowed: image/*)" in response.text
    response = post_form(
        t, "/images", form(part("f", text, type="application/octet-stream", filename="upload"))
    )
    assert response.status_code == 415
    assert "an unknown content type is not allowed" in response.text
    assert t.census() == (0, 0)
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(100)
    got = answer(
        post_form(
            t, "/images", form(part("f", png, filename="upload", type="application/octet-stream"))
        )
    )
    assert got["files"][0]["content_type"] == "image/png"
    assert t.census() == (1, 1)


NOT_MEDIA_TYPES = (
    "text/html, image/png",
    "image/png\x00text/html",
    "image/\N{GRINNING FACE}",
    "image/" + "x" * 300,
)
"""Content types a client may send that are no media type: each is the client's mistake."""


def not_media_types(t: Target) -> None:
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(100)
    for kind in NOT_MEDIA_TYPES:
        for path in ("/form", "/images"):  # without and with a list of allowed types
            body = form(part("ok", data, filename="first.png"), part("f", data, filename="a.png"))
            bad = body.replace(b'a.png"', b'a.png"\r\nContent-Type: ' + kind.encode())
            response = post_form(t, path, bad)
            assert response.status_code == 400, (kind, response.status_code, response.text)
            assert "multipart part 'f' ('a.png'): Content-Type" in response.text, response.text
            assert "is not a media type" in response.text
        # The raw body's Content-Type, sent as the client's bytes (UTF-8) over a socket.
        head = request_head(
            "PUT",
            "/raw/a.png",
            t,
            {"Content-Type": kind.encode().decode("latin-1"), "Content-Length": str(len(data))},
        )
        status, got, _ = raw_request(t, head, [data])
        assert status == 400, (kind, got[:300])
        if kind.isascii() and kind.isprintable():  # else the server may refuse the header first
            assert b"the request body: Content-Type" in got and b"not a media type" in got, got
    assert t.census() == (0, 0)


def limits_as_a_value(t: Target) -> None:
    data = os.urandom(1000)  # over ONE_FILE's own 5 bytes, under the route's max_size
    got = answer(post_form(t, "/one", form(part("f", data, filename="a.bin"))))
    assert stored(t, got["files"][0]) == data
    two = form(part("f", data, filename="a.bin"), part("g", data, filename="b.bin"))
    response = post_form(t, "/one", two)
    assert response.status_code == 413
    assert "the form has more than 1 files" in response.text
    with httpx.Client(base_url=t.base, timeout=60) as client:
        assert answer(client.put("/tiny/ok.bin", content=b"0123456789"))["files"][0]["length"] == 10
        over = client.put("/tiny/over.bin", content=b"0123456789A")
    assert over.status_code == 413 and "over the limit of 10 bytes" in over.text
    assert t.census() == (2, 2)


def many_parts(t: Target) -> None:
    empty = part("f", b"")
    body = b"".join([empty] * 100_000) + f"--{BOUNDARY}--\r\n".encode()
    response = post_form(t, "/form", body)
    assert response.status_code == 413
    assert "the form has more than 1000 parts" in response.text
    assert t.census() == (0, 0)


def huge_field(t: Target) -> None:
    def body() -> Iterator[bytes]:
        yield f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=text\r\n\r\n".encode()
        for _ in range(64):  # 64 MiB of text, sent as it is made
            yield b"a" * 2**20
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    response = post_form(t, "/form", body())
    assert response.status_code == 413
    if t.buffers_body:  # the server has counted the body it read whole: its length decides
        assert "the request body is 67108977 bytes, over the limit of" in response.text
    else:
        assert "form field 'text' is over the limit of 1048576 bytes" in response.text
    assert t.census() == (0, 0)


def route_fails_after_storing(t: Target) -> None:
    body = form(part("a", os.urandom(LIMIT), filename="a.bin"), part("b", b"x", filename="b"))
    response = post_form(t, "/explode", body)
    assert response.status_code == 500
    assert t.census() == (0, 0)


def route_raises_file_too_large(t: Target) -> None:
    with httpx.Client(base_url=t.base, timeout=60) as client:
        response = client.put("/put/a.bin", content=os.urandom(PUT_LIMIT + 1))
        assert response.status_code == 413
        assert f"over the limit of {PUT_LIMIT} bytes" in response.text
        ok = client.put("/put/b.bin", content=b"small")
        assert ok.status_code == 200
    assert t.census() == (1, 1)


def raw_body(t: Target) -> None:
    data = b"%PDF-1.4 " + os.urandom(LIMIT - 100)
    with httpx.Client(base_url=t.base, timeout=60) as client:
        got = answer(
            client.put(
                "/raw/r%C3%A9sum%C3%A9.pdf",
                content=data,
                headers={"Content-Type": "application/octet-stream"},
            )
        )
        named = answer(
            client.put(
                "/raw/ignored",
                content=b"hello",
                headers={
                    "Content-Disposition": "attachment; filename*=UTF-8''%C3%A9t%C3%A9.txt",
                    "Content-Type": "text/plain",
                },
            )
        )
    [entry] = got["files"]
    assert (entry["filename"], entry["content_type"], entry["length"]) == (
        "résumé.pdf",
        "application/pdf",
        len(data),
    )
    assert stored(t, entry) == data
    [entry] = named["files"]
    assert (entry["filename"], entry["content_type"]) == ("été.txt", "text/plain")
    assert t.census() == (2, chunks_of(len(data)) + 1)


CASES: dict[str, Callable[[Target], None]] = {
    case.__name__: case
    for case in (
        one_file,
        files_and_fields,
        unicode_names,
        empty_file,
        missing_boundary,
        not_multipart,
        truncated_body,
        disconnect_mid_body,
        over_limit_by_length,
        over_limit_streaming,
        over_limit_streaming_form,
        lying_length,
        refused_type,
        not_media_types,
        limits_as_a_value,
        many_parts,
        huge_field,
        route_fails_after_storing,
        route_raises_file_too_large,
        raw_body,
    )
}

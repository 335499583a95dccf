"""Real HTTP servers on free loopback ports, each in a thread of its own: uvicorn (ASGI),
aiohttp's own server, and waitress (WSGI)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
import waitress.server
from aiohttp import web

STARTUP_TIMEOUT = 30


def _listening_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(64)
    return sock


def _url(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


def _wait(ready: threading.Event, thread: threading.Thread, what: str) -> None:
    if not ready.wait(STARTUP_TIMEOUT) or not thread.is_alive():
        raise RuntimeError(f"{what} did not start within {STARTUP_TIMEOUT} s")


async def _close(clients: Iterable[Any]) -> None:
    for client in clients:
        await client.close()


@contextmanager
def run_uvicorn(
    app: Any, clients: Iterable[Any] = (), port: int = 0, lifespan: str = "off"
) -> Iterator[str]:
    """Serve an ASGI app with uvicorn; yield its base URL. ``clients`` (async MongoDB clients
    the app uses) are closed on the server's loop when it stops. ``port``: 0 for any free
    one, or the port of a server that stopped (a restart); ``lifespan="on"`` runs the app's
    startup and shutdown."""
    sock = _listening_socket(port)
    server = uvicorn.Server(uvicorn.Config(app, lifespan=lifespan, log_level="warning"))

    async def main() -> None:
        try:
            await server.serve(sockets=[sock])
        finally:
            await _close(clients)

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        raise RuntimeError("uvicorn did not start")
    try:
        yield _url(sock)
    finally:
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT)
        sock.close()


@contextmanager
def run_aiohttp(make_app: Any, clients: Iterable[Any] = ()) -> Iterator[str]:
    """Serve the aiohttp app ``make_app()`` builds (in the server's own loop); yield its URL.
    ``clients`` are closed on that loop when it stops."""
    sock = _listening_socket()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def start() -> None:
        runner = web.AppRunner(await make_app(), access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        holder["runner"] = runner

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(holder["runner"].cleanup())
        loop.run_until_complete(_close(clients))
        loop.close()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    _wait(ready, thread, "aiohttp")
    try:
        yield _url(sock)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(STARTUP_TIMEOUT)
        sock.close()


@contextmanager
def run_waitress(app: Any, port: int = 0) -> Iterator[str]:
    """Serve a WSGI app with waitress; yield its base URL (``port`` as for run_uvicorn)."""
    sock = _listening_socket(port)
    server = waitress.server.create_server(
        app, sockets=[sock], threads=4, clear_untrusted_proxy_headers=True
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield _url(sock)
    finally:
        server.close()
        server.task_dispatcher.shutdown()
        thread.join(STARTUP_TIMEOUT)
        sock.close()


@contextmanager
def run_werkzeug(app: Any) -> Iterator[str]:
    """Serve a WSGI app with werkzeug's threaded server, which hands the app the request body
    as it arrives (waitress reads it whole first); yield its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(STARTUP_TIMEOUT)
        server.server_close()


@contextmanager
def run_django_server(app: Any) -> Iterator[str]:
    """Serve a WSGI app with Django's own threaded server (the one ``runserver`` uses), which
    hands the app the request body as it comes off the socket; yield its base URL."""
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    server = ThreadedWSGIServer(("127.0.0.1", 0), WSGIRequestHandler, allow_reuse_address=True)
    server.set_app(app)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(STARTUP_TIMEOUT)

"""A loopback TCP proxy between a client and the test server that can cut or stall traffic.

It runs its own asyncio loop in a thread, so tests of either twin drive it the same way and
the loop of an async test is never blocked by it. Only connections through the proxy are
affected: the server behind it, shared by other test runs, never is.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

Direction = Literal["up", "down"]  # up: client to server; down: server to client

_T = TypeVar("_T")

_CONTROL_TIMEOUT = 10.0  # seconds a control call may take before the test fails
_READ_SIZE = 64 * 1024


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target``; a context manager that starts and stops it.

    ``cut()`` closes every connection now; ``cut_after(n, direction)`` closes them all once
    ``n`` more bytes have gone that way (the bytes past ``n`` are dropped); ``stall()`` holds
    every byte in both directions until ``resume()``; ``stall_after(n, direction)`` stalls
    once ``n`` more bytes have gone that way. New connections are accepted all the while
    (a stalled proxy stalls them too).
    """

    def __init__(self, target_uri: str) -> None:
        parts = urlsplit(target_uri)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"the target URI names no host and port: {target_uri!r}")
        self._target_uri = target_uri
        self._target = (parts.hostname, parts.port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._flowing: asyncio.Event | None = None
        self._budget: dict[Direction, int | None] = {"up": None, "down": None}
        self._on_budget: Literal["cut", "stall"] = "cut"
        self.port = 0
        self.forwarded: dict[Direction, int] = {"up": 0, "down": 0}
        """Bytes forwarded each way since the proxy started."""

    # -- life ------------------------------------------------------------------------------------

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        self._call(self._start())
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(_CONTROL_TIMEOUT)
        self._loop.close()

    def uri(self, **options: object) -> str:
        """The target URI with the proxy's address instead, plus query ``options``."""
        parts = urlsplit(self._target_uri)
        netloc = parts.netloc.rsplit("@", 1)
        host = f"127.0.0.1:{self.port}"
        netloc_out = f"{netloc[0]}@{host}" if len(netloc) == 2 else host
        query = "&".join(
            [parts.query] * bool(parts.query) + [f"{key}={value}" for key, value in options.items()]
        )
        return urlunsplit((parts.scheme, netloc_out, parts.path or "/", query, ""))

    # -- faults ----------------------------------------------------------------------------------

    def cut(self) -> None:
        """Close every open connection now."""
        self._call(self._cut())

    def cut_after(self, nbytes: int, direction: Direction) -> None:
        """Close every connection once ``nbytes`` more bytes have gone ``direction``."""
        self._call(self._arm(nbytes, direction, "cut"))

    def stall(self) -> None:
        """Hold every byte, both ways, until ``resume()``."""
        self._call(self._set_flowing(False))

    def stall_after(self, nbytes: int, direction: Direction) -> None:
        """Stall once ``nbytes`` more bytes have gone ``direction``."""
        self._call(self._arm(nbytes, direction, "stall"))

    def resume(self) -> None:
        """Let bytes flow again (a stall only: a cut connection stays cut)."""
        self._call(self._set_flowing(True))

    # -- inside the proxy's loop -----------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(_CONTROL_TIMEOUT)

    async def _start(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._set_flowing(True)
        await self._cut()
        await self._server.wait_closed()

    async def _cut(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()  # a reset, as a dropped network or a dead peer gives
        self._writers.clear()

    async def _arm(
        self, nbytes: int, direction: Direction, action: Literal["cut", "stall"]
    ) -> None:
        self._budget = {"up": None, "down": None}
        self._budget[direction] = nbytes
        self._on_budget = action

    async def _set_flowing(self, flowing: bool) -> None:
        assert self._flowing is not None
        if flowing:
            self._budget = {"up": None, "down": None}
            self._flowing.set()
        else:
            self._flowing.clear()

    async def _serve(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        try:
            server_reader, server = await asyncio.open_connection(*self._target)
        except OSError:
            client.transport.abort()
            return
        self._writers.update((client, server))
        try:
            await asyncio.gather(
                self._pump(client_reader, server, "up"),
                self._pump(server_reader, client, "down"),
            )
        finally:
            for writer in (client, server):
                self._writers.discard(writer)
                writer.transport.abort()

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, direction: Direction
    ) -> None:
        assert self._flowing is not None
        try:
            while True:
                data = await reader.read(_READ_SIZE)
                if not data:
                    break
                await self._flowing.wait()
                budget = self._budget[direction]
                if budget is not None and len(data) >= budget:
                    data, rest = data[:budget], data[budget:]
                    self._forward(writer, data, direction)
                    self._budget[direction] = None
                    if self._on_budget == "cut":
                        await self._cut()
                        return
                    self._flowing.clear()
                    await self._flowing.wait()
                    data = rest
                elif budget is not None:
                    self._budget[direction] = budget - len(data)
                self._forward(writer, data, direction)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()

    def _forward(self, writer: asyncio.StreamWriter, data: bytes, direction: Direction) -> None:
        if data and not writer.transport.is_closing():
            writer.write(data)
            self.forwarded[direction] += len(data)

"""Every deliberate difference between the async and the sync twin, as small named pairs.

The async source in ``_async/`` calls the first member of a pair; ``scripts/unasync.py`` maps
its name to the second (its ``OUR_NAMES`` table) in the generated ``_sync/``. Shared code calls
a pair and never tests types to learn which twin it is in; a difference that is not here (or
in that table) is a bug. Each sync member does what its async member does, the sync way.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Iterator
from typing import Any, TypeVar

from mongoengine import connection as mongoengine_connection
from mongoengine.connection import ConnectionFailure

from .core.errors import FileNotLoaded

_T = TypeVar("_T")
_U = TypeVar("_U")
_Self = TypeVar("_Self", bound="AwaitableSelf")

# -- work that must not stop halfway when its caller is cancelled ---------------------------
# A cancelled caller returns promptly: it never waits on a stalled server. What it started
# goes on in tasks of its own (held here so they are not collected), bounded in time; what
# they cannot finish is left for the bucket check. Cancellation delivered again and again
# (a second task.cancel(), anyio's cancel scopes) reaches only the caller, never these tasks.

CLEANUP_GRACE = 0.5
"""Seconds a failed or cancelled caller waits for its clean-up before it returns and leaves
the clean-up running in the background."""

CLEANUP_TIMEOUT = 60.0
"""Seconds a clean-up (and the write in flight it waits for) may run in the background."""

_background: set[asyncio.Future[Any]] = set()


def _detach(work: Awaitable[_T]) -> asyncio.Future[_T]:
    task = asyncio.ensure_future(asyncio.wait_for(work, CLEANUP_TIMEOUT))
    _background.add(task)
    task.add_done_callback(_background.discard)
    task.add_done_callback(_seen)
    return task


def _seen(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # reported to a caller still waiting, else dropped: never "unretrieved"


async def finish_despite_cancel(operation: Awaitable[_T], in_flight: set[Any]) -> _T:
    """Await ``operation`` (a write); if the awaiting task is cancelled meanwhile, raise the
    cancellation at once and let the operation go on, noted in ``in_flight`` until it ends.

    A cancelled insert may still reach the server: a clean-up first waits for the writes
    ``in_flight`` (``wait_in_flight``), so that nothing lands after it.
    """
    task = asyncio.ensure_future(operation)
    task.add_done_callback(_seen)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.done():
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        raise


def finish(result: _T, in_flight: set[Any]) -> _T:
    """Sync twin of ``finish_despite_cancel``: a sync call has run to its end when it returns."""
    return result


async def wait_in_flight(in_flight: set[Any]) -> None:
    """Wait until the writes a cancellation left running have ended, however they ended."""
    if in_flight:
        await asyncio.wait(list(in_flight))


def nothing_in_flight(in_flight: set[Any]) -> None:
    """Sync twin of ``wait_in_flight``: no write outlives its call."""


async def clean_up(work: Callable[[], Awaitable[None]], cause: BaseException) -> None:
    """Run the clean-up ``work()`` after ``cause`` in a task of its own, and wait for it.

    A caller that failed waits for the clean-up to end (within CLEANUP_TIMEOUT) and gets its
    error raised here. A cancelled caller waits at most CLEANUP_GRACE: if the clean-up runs
    longer, TimeoutError says it goes on in the background. A cancellation arriving while the
    caller waits never stops the clean-up.
    """
    task = _detach(work())
    grace = CLEANUP_GRACE if isinstance(cause, asyncio.CancelledError) else None
    done, _ = await asyncio.wait([task], timeout=grace)
    if not done:
        raise TimeoutError(
            f"still running after {CLEANUP_GRACE} s; it goes on in the background for up to"
            f" {CLEANUP_TIMEOUT:.0f} s, and what it leaves the bucket check finds"
        )
    task.result()


def clean_up_now(work: Callable[[], None], cause: BaseException) -> None:
    """Sync twin of ``clean_up``: run ``work()`` here, to its end."""
    work()


async def carry_on_despite_cancel(work: Awaitable[_T]) -> _T:
    """Await ``work`` run in a task of its own: a cancellation of the caller is raised at
    once and the work goes on to its end in the background (up to CLEANUP_TIMEOUT)."""
    return await asyncio.shield(_detach(work))


def carried(result: _T) -> _T:
    """Sync twin of ``carry_on_despite_cancel``: the work has run when the call returns."""
    return result


async def wait_for_background_work(timeout: float = CLEANUP_TIMEOUT) -> None:
    """Wait (up to ``timeout`` seconds) for the clean-ups and writes that cancelled callers
    left running, for example before an application's event loop ends."""
    pending = list(_background)
    if pending:
        await asyncio.wait(pending, timeout=timeout)


def no_background_work(timeout: float = CLEANUP_TIMEOUT) -> None:
    """Sync twin of ``wait_for_background_work``: nothing outlives its call."""


# -- two independent queries ----------------------------------------------------------------


async def both_at_once(first: Awaitable[_T], second: Awaitable[_U]) -> tuple[_T, _U]:
    """Await two independent calls at the same time (two queries for the time of one).

    Both run to their end, however the other ends; then the first error, if any, is raised.
    A cancellation stops both. ``second`` runs in a task of its own, ``first`` in the
    caller's: one task per pair, not two.
    """
    other = asyncio.ensure_future(second)
    try:
        one = await first
    except asyncio.CancelledError:
        other.cancel()
        await asyncio.gather(other, return_exceptions=True)
        raise
    except BaseException:
        await asyncio.gather(other, return_exceptions=True)
        raise
    try:
        two = await other
    except asyncio.CancelledError:
        other.cancel()
        await asyncio.gather(other, return_exceptions=True)
        raise
    return one, two


def one_then_other(first: _T, second: _U) -> tuple[_T, _U]:
    """Sync twin of ``both_at_once``: the calls ran in turn (the second not at all when the
    first raised), as the arguments were evaluated."""
    return first, second


# -- CPU-bound work -----------------------------------------------------------------------


async def run_off_loop(func: Callable[..., _T], *args: Any) -> _T:
    """Run ``func(*args)`` in a worker thread, so the event loop keeps serving others."""
    return await asyncio.to_thread(func, *args)


def run_here(func: Callable[..., _T], *args: Any) -> _T:
    """Sync twin of ``run_off_loop``: the caller's thread is the one to use."""
    return func(*args)


# -- several pieces of work at once ---------------------------------------------------------


async def work_through(
    items: Iterable[_T], work: Callable[[_T], Awaitable[None]], workers: int
) -> None:
    """Run ``work(item)`` for every item, ``workers`` of them at a time, as tasks of this
    event loop; the first error raised cancels the others and is raised here."""
    queue = iter(items)

    async def worker() -> None:
        for item in queue:  # one thread: the tasks take turns at the shared iterator
            await work(item)

    tasks = [asyncio.ensure_future(worker()) for _ in range(max(1, workers))]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def work_through_in_threads(items: Iterable[_T], work: Callable[[_T], None], workers: int) -> None:
    """Sync twin of ``work_through``: ``workers`` threads take the items in turn; the first
    error raised stops the others taking more, and is raised here."""
    queue = iter(items)
    lock = threading.Lock()
    failed: list[BaseException] = []

    def worker() -> None:
        while not failed:
            with lock:
                item = next(queue, _NO_MORE)
            if item is _NO_MORE:
                return
            try:
                work(item)  # type: ignore[arg-type]
            except BaseException as exc:
                failed.append(exc)
                return

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failed:
        raise failed[0]


_NO_MORE = object()


# -- waiting ----------------------------------------------------------------------------------


async def wait_seconds(seconds: float) -> None:
    """Let ``seconds`` pass, the event loop serving others meanwhile."""
    await asyncio.sleep(seconds)


def sleep_seconds(seconds: float) -> None:
    """Sync twin of ``wait_seconds``: the caller's thread sleeps."""
    time.sleep(seconds)


# -- what write() returns -------------------------------------------------------------------


class FlushOnAwait:
    """What the async twin's ``write()`` returns.

    Awaiting it writes the full chunks buffered so far. Dropping it un-awaited is allowed
    and silent (it is not a coroutine): the buffer is written when the file is closed.
    That is what lets ``doc.photo.write(b'...')`` work without awaiting it inside the
    context manager of ``doc.photo.new_file()``.
    """

    __slots__ = ("_flush",)

    def __init__(self, flush: Callable[[], Awaitable[None]]) -> None:
        self._flush = flush

    def __await__(self) -> Generator[Any, None, None]:
        return (yield from self._flush().__await__())

    def __repr__(self) -> str:
        return "<pending flush: await it, or let close() write it>"


class Flushed:
    """Sync twin of ``FlushOnAwait``: the full chunks are written before ``write()`` returns."""

    __slots__ = ()

    def __init__(self, flush: Callable[[], None]) -> None:
        flush()

    def __repr__(self) -> str:
        return "<flushed>"


# -- what new_file() returns ----------------------------------------------------------------


class AwaitableSelf:
    """A base letting ``await obj`` hand back ``obj`` itself.

    For calls like ``new_file()`` that the seed both awaits and enters as an async context
    manager: the call does its work at once (no I/O) and returns an object that is an
    awaitable and an async context manager at once.
    """

    def __await__(self: _Self) -> Generator[Any, None, _Self]:
        return self
        yield  # a generator, so that awaiting it finishes at once


class NothingToAwait:
    """Sync twin of ``AwaitableSelf``: a sync result is ready when the call returns."""


# -- reading what a caller gives put() ---------------------------------------------------------


async def read_any_file(file: Any, size: int) -> Any:
    """``file.read(size)`` of a sync file object or an async one (aiofiles, a stream...)."""
    block = file.read(size)
    if inspect.isawaitable(block):
        block = await block
    return block


def read_file(file: Any, size: int) -> Any:
    """Sync twin of ``read_any_file``: the sync API reads sync file objects."""
    return file.read(size)


def any_iterable(data: object) -> bool:
    """Whether ``data`` can be iterated, with ``async for`` or with ``for``."""
    return hasattr(data, "__aiter__") or isinstance(data, Iterable)


def sync_iterable(data: object) -> bool:
    """Sync twin of ``any_iterable``: the sync API iterates with ``for`` only."""
    return isinstance(data, Iterable)


async def pieces_of_any(data: Any) -> AsyncIterator[Any]:
    """The items of an async or a sync iterable, in order."""
    if hasattr(data, "__aiter__"):
        async for piece in data:
            yield piece
    else:
        for piece in data:
            yield piece


def pieces_of(data: Any) -> Iterator[Any]:
    """Sync twin of ``pieces_of_any``: the items of a sync iterable."""
    return iter(data)


# -- writing what download_to_stream reads ------------------------------------------------------


def refuse_unwritable(destination: Any) -> None:
    """TypeError unless ``destination`` has a ``write`` method, sync or async."""
    if not callable(getattr(destination, "write", None)):
        raise TypeError(
            f"destination must have a write(bytes) method, not {type(destination).__name__}"
        )


def refuse_unwritable_here(destination: Any) -> None:
    """Sync twin of ``refuse_unwritable``: the sync API cannot await an ``async def write``,
    which would take no byte; refused before any I/O, as a sync put refuses an async source."""
    refuse_unwritable(destination)
    if inspect.iscoroutinefunction(destination.write):
        raise TypeError(
            f"destination {type(destination).__name__} has an async write(): the sync API "
            "cannot await it; use gridfield's async API, or a destination with a plain write()"
        )


async def write_to_any(destination: Any, data: bytes) -> None:
    """``destination.write(data)``, awaited when it is an async file object's."""
    done = destination.write(data)
    if inspect.isawaitable(done):
        await done


def write_to(destination: Any, data: bytes) -> None:
    """Sync twin of ``write_to_any``: a write that hands back a coroutine wrote nothing, and
    is an error, never bytes reported as written."""
    done = destination.write(data)
    if inspect.iscoroutine(done):
        done.close()  # never to be awaited: no "never awaited" warning on top
        raise TypeError(
            f"{type(destination).__name__}.write() returned a coroutine: the sync API "
            "cannot await it, and nothing was written"
        )


# -- code in messages ---------------------------------------------------------------------


def awaited_call(code: str) -> str:
    """How a message shows a call a user should make: awaited in the async API."""
    return f"await {code}"


def plain_call(code: str) -> str:
    """Sync twin of ``awaited_call``: the call as it is."""
    return code


# -- closing a client connect() built --------------------------------------------------------

# Closes of PyMongo async clients still running: held so the tasks are not collected early.
_closing: set[asyncio.Future[Any]] = set()


def start_closing(client: Any, alias: str | None) -> None:
    """Start closing a PyMongo async client on the running loop; ``wait_for_closes`` waits.

    ``alias`` None: the client never ran, so with no loop it is simply dropped. Otherwise a
    missing loop is a RuntimeError and the client stays open: it closes only on its loop.
    """
    closing = client.close()
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        closing.close()  # a coroutine, never started: drop it without a warning
        if alias is None:
            return
        raise RuntimeError(
            f"disconnect({alias!r}): the client connect() built closes on the event loop "
            "it ran on; call disconnect() while that loop runs (e.g. at the end of main())"
        ) from None
    task = loop.create_task(closing)
    _closing.add(task)
    task.add_done_callback(_closing.discard)


def close_now(client: Any, alias: str | None) -> None:
    """Sync twin of ``start_closing``: a sync client is closed when ``close()`` returns."""
    client.close()


async def wait_for_closes() -> None:
    """Wait until the client closes ``start_closing`` started have finished."""
    pending = list(_closing)
    if pending:
        await asyncio.gather(*pending)


def no_closes_pending() -> None:
    """Sync twin of ``wait_for_closes``: every close finished within ``close_now``."""


# -- MongoEngine's connection registry -------------------------------------------------------
# MongoEngine registers sync MongoClients only. The sync twin hands its client to that
# registry under the same alias, so plain mongoengine.Document classes (and MongoEngine's
# FileField) share it, and answers for aliases only MongoEngine knows. The async twin can
# neither give MongoEngine its client nor use one of MongoEngine's, so it leaves the registry
# alone: asking it for a database would make MongoEngine build a client.


def _nothing_to_undo() -> None:
    return None


def share_nothing_with_mongoengine(alias: str, client: Any, database: Any) -> Callable[[], None]:
    """Async twin: MongoEngine cannot use an async client; returns what disconnect() undoes."""
    return _nothing_to_undo


def share_with_mongoengine(alias: str, client: Any, database: Any) -> Callable[[], None]:
    """Register ``client`` and ``database`` with MongoEngine under ``alias`` too.

    Returns what disconnect() calls to take them out again. An alias MongoEngine's own
    connect() registered with this very client is left to MongoEngine; any other alias
    MongoEngine has is refused with ConnectionFailure.
    """
    theirs = mongoengine_connection._connection_settings.get(alias)
    if theirs is not None:
        if (
            mongoengine_connection._connections.get(alias) is client
            and theirs.get("name") == database.name
        ):
            return _nothing_to_undo  # MongoEngine's own connect() made it: leave it be
        raise ConnectionFailure(
            f"MongoEngine already has a connection under alias {alias!r}: "
            f"call mongoengine.disconnect({alias!r}) first or pass client=its client"
        )
    # get_db() and get_connection() answer from these without building a client
    mongoengine_connection._connection_settings[alias] = {"name": database.name, "host": None}
    mongoengine_connection._connections[alias] = client
    mongoengine_connection._dbs[alias] = database

    def unshare() -> None:
        if mongoengine_connection._connections.get(alias) is client:
            # Taken out first so that MongoEngine's disconnect, which detaches the
            # collections its documents cached, does not close a client that is not its own.
            del mongoengine_connection._connections[alias]
            mongoengine_connection.disconnect(alias)

    return unshare


def no_db_from_mongoengine(alias: str) -> Any:
    """Async twin: MongoEngine's databases are sync ones, of no use here; None, asking nothing."""
    return None


def db_from_mongoengine(alias: str) -> Any:
    """MongoEngine's database for ``alias`` (its client built if need be), else None."""
    if alias not in mongoengine_connection._connection_settings:
        return None
    return mongoengine_connection.get_db(alias)


# -- driver calls that are coroutines in one async driver and not in the other -------------
# PyMongo's async API and Motor differ on these; each async member asks the driver (not the
# twin) by looking at what the call returned.


async def await_aggregate(collection: Any, pipeline: list[Any], **options: Any) -> Any:
    """The cursor of an aggregation: PyMongo's async ``aggregate()`` is a coroutine, Motor's
    returns its cursor at once."""
    cursor = collection.aggregate(pipeline, **options)
    return await cursor if inspect.isawaitable(cursor) else cursor


def run_aggregate(collection: Any, pipeline: list[Any], **options: Any) -> Any:
    """Sync twin of ``await_aggregate``: PyMongo's ``aggregate()`` returns its cursor."""
    return collection.aggregate(pipeline, **options)


async def await_session(client: Any) -> Any:
    """A new client session: PyMongo's async ``start_session()`` returns it, Motor's is a
    coroutine."""
    session = client.start_session()
    return await session if inspect.isawaitable(session) else session


def run_session(client: Any) -> Any:
    """Sync twin of ``await_session``: PyMongo's ``start_session()``."""
    return client.start_session()


async def await_transaction_start(session: Any, **options: Any) -> None:
    """Start a transaction: a coroutine in PyMongo's async API, done at once in Motor's."""
    started = session.start_transaction(**options)
    if inspect.isawaitable(started):
        await started


def run_transaction_start(session: Any, **options: Any) -> None:
    """Sync twin of ``await_transaction_start``: PyMongo's ``start_transaction()``."""
    session.start_transaction(**options)


# -- attributes of a stored file read before it was loaded -------------------------------------


def refuse_unloaded(load: Callable[[], Awaitable[_T]], message: str) -> _T:
    """Async twin: an attribute cannot await, so reading one before a load is FileNotLoaded."""
    raise FileNotLoaded(message)


def load_now(load: Callable[[], _T], message: str) -> _T:
    """Sync twin of ``refuse_unloaded``: load on first access, as MongoEngine does."""
    return load()


# -- data assigned to a field of a document that will not store it at save ------------------------


def refuse_upload_outside_save(upload: Callable[[], Awaitable[Any]], message: str) -> None:
    """Async twin: assignment cannot await an upload; only a gridfield Document's save can."""
    raise TypeError(message)


def upload_now(upload: Callable[[], Any], message: str) -> None:
    """Sync twin of ``refuse_upload_outside_save``: store it at once, as MongoEngine does."""
    upload()


# Every pair above, async member -> sync member: the one table the generator maps them by
# (``scripts/unasync.py`` reads it from here), checked against the members by the tests.
PAIRS: dict[str, str] = {
    "any_iterable": "sync_iterable",
    "AwaitableSelf": "NothingToAwait",
    "await_aggregate": "run_aggregate",
    "await_session": "run_session",
    "await_transaction_start": "run_transaction_start",
    "both_at_once": "one_then_other",
    "awaited_call": "plain_call",
    "carry_on_despite_cancel": "carried",
    "clean_up": "clean_up_now",
    "finish_despite_cancel": "finish",
    "FlushOnAwait": "Flushed",
    "no_db_from_mongoengine": "db_from_mongoengine",
    "pieces_of_any": "pieces_of",
    "refuse_unloaded": "load_now",
    "refuse_upload_outside_save": "upload_now",
    "read_any_file": "read_file",
    "work_through": "work_through_in_threads",
    "refuse_unwritable": "refuse_unwritable_here",
    "run_off_loop": "run_here",
    "share_nothing_with_mongoengine": "share_with_mongoengine",
    "start_closing": "close_now",
    "wait_for_background_work": "no_background_work",
    "wait_for_closes": "no_closes_pending",
    "write_to_any": "write_to",
    "wait_in_flight": "nothing_in_flight",
    "wait_seconds": "sleep_seconds",
}

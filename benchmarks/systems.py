"""The systems compared: one adapter per way of storing files in GridFS, same operations for all.

Each adapter imports its libraries in `setup`, so a worker process loads only its own system
(mongomotor patches MongoEngine on import and must not meet the other systems). Methods may
be coroutines; the worker awaits whatever is awaitable.
"""

from __future__ import annotations

import inspect
import math
import time
from typing import Any, ClassVar

from bson import ObjectId

from probes import MiB, PieceReader, pieces

FILENAME = "bench.bin"
FLOOR_CHUNK = 255 * 1024  # GridFS's default chunk size
FLOOR_BATCH_BYTES = 48_000_000  # what PyMongo's gridfs buffers per insert_many (its max message)
FLOOR_READ_BATCH = 64  # chunk documents per reply: 16 MiB, MongoDB's own cap on a batch


async def resolve(value: Any) -> Any:
    """Await `value` if awaitable: the same call is sync on one system, async on another."""
    if inspect.isawaitable(value):
        return await value
    return value


class System:
    """One way of storing files; subclasses fill in the operations they support."""

    key: ClassVar[str]
    label: ClassVar[str]
    twin: ClassVar[str] = "sync"  # "sync" or "async": which twin of gridfield it compares with
    measures: ClassVar[frozenset[str]] = frozenset({"large", "small", "memory"})
    notes: ClassVar[str] = ""
    stores_checksum: ClassVar[bool] = False  # True: upload stores a SHA-256, upload_plain not

    def __init__(self, uri: str, db_name: str, counter: Any) -> None:
        self.uri = uri
        self.db_name = db_name
        self.counter = counter
        self.bucket = "b_" + self.key.replace("-", "_")
        self.files: Any = None  # raw collection handles, for clean-up only
        self.chunks: Any = None
        self.versions: dict[str, str] = {}

    # set-up and clean-up (never timed) -------------------------------------------------

    def setup(self) -> Any:
        raise NotImplementedError

    async def remove_all_but(self, keep: list[Any]) -> None:
        """Delete every file of this system's bucket except those in `keep`."""
        await resolve(self.files.delete_many({"_id": {"$nin": keep}}))
        await resolve(self.chunks.delete_many({"files_id": {"$nin": keep}}))

    async def reset(self) -> None:
        """Empty the bucket: drop both collections and make GridFS's indexes again.

        On FerretDB a delete reads every document it removes, which for large files costs
        as much as a download; a drop does not.
        """
        await resolve(self.files.drop())
        await resolve(self.chunks.drop())
        await resolve(self.files.create_index([("filename", 1), ("uploadDate", 1)]))
        await resolve(self.chunks.create_index([("files_id", 1), ("n", 1)], unique=True))

    def close(self) -> Any:
        return None

    # operations (timed) ---------------------------------------------------------------

    def upload(self, size: int) -> Any:
        """Stream `size` bytes of benchmark data in; return the new file's id."""
        raise NotImplementedError

    def upload_plain(self, size: int) -> Any:
        """Like `upload`, storing no checksum (the same thing for a system that stores none)."""
        return self.upload(size)

    def download(self, file_id: Any, deadline: float = math.inf) -> Any:
        """Stream the file out; return the number of bytes read.

        A streaming reader stops once `deadline` (a `time.perf_counter()` value) has passed.
        """
        raise NotImplementedError

    def put_small(self, data: bytes) -> Any:
        """Store a small file in one call; return its id."""
        raise NotImplementedError

    def read_small(self, file_id: Any) -> Any:
        """Read a small file whole; return its bytes."""
        raise NotImplementedError

    def open_ranged(self, file_id: Any) -> Any:
        raise NotImplementedError

    def ranged_read(self, offset: int, length: int) -> Any:
        raise NotImplementedError

    def close_ranged(self) -> Any:
        return None


def _version(module_name: str) -> str:
    from importlib.metadata import version

    try:
        return version(module_name)
    except Exception:
        return "?"


# --------------------------------------------------------------------------- gridfield stores


class GridfieldAsyncStore(System):
    key = "gridfield-async"
    label = "gridfield AsyncFileStore (PyMongo async)"
    twin = "async"
    measures = frozenset({"large", "small", "ranged", "memory"})

    def _client(self) -> Any:
        from pymongo import AsyncMongoClient

        return AsyncMongoClient(self.uri, event_listeners=[self.counter])

    async def setup(self) -> None:
        from gridfield._async.store import AsyncFileStore

        self.client = self._client()
        db = self.client[self.db_name]
        self.store = AsyncFileStore(db, self.bucket)
        self.files, self.chunks = self.store.files, self.store.chunks
        self.versions = {"gridfield": _version("gridfield"), "pymongo": _version("pymongo")}

    async def close(self) -> None:
        await resolve(self.client.close())

    async def upload(self, size: int) -> Any:
        stream = self.store.open_upload(filename=FILENAME)
        try:
            for piece in pieces(size):
                await stream.write(piece)
        except BaseException:
            await stream.abort()
            raise
        info = await stream.close()
        return info.file_id

    async def download(self, file_id: Any, deadline: float = math.inf) -> int:
        stream = await self.store.open_download(file_id)
        total = 0
        while True:
            data = await stream.read(MiB)
            if not data:
                break
            total += len(data)
            if time.perf_counter() > deadline:
                break
        await stream.close()
        return total

    async def put_small(self, data: bytes) -> Any:
        info = await self.store.put(data, filename=FILENAME)
        return info.file_id

    async def read_small(self, file_id: Any) -> bytes:
        data: bytes = await self.store.get(file_id)
        return data

    async def open_ranged(self, file_id: Any) -> None:
        self.ranged = await self.store.open_download(file_id)

    async def ranged_read(self, offset: int, length: int) -> bytes:
        self.ranged.seek(offset)
        data: bytes = await self.ranged.read(length)
        return data

    async def close_ranged(self) -> None:
        await self.ranged.close()


class GridfieldMotorStore(GridfieldAsyncStore):
    key = "gridfield-motor"
    label = "gridfield AsyncFileStore (Motor)"

    def _client(self) -> Any:
        from motor.motor_asyncio import AsyncIOMotorClient

        return AsyncIOMotorClient(self.uri, event_listeners=[self.counter])

    async def setup(self) -> None:
        await super().setup()
        self.versions["motor"] = _version("motor")

    async def close(self) -> None:
        self.client.close()


class GridfieldSyncStore(System):
    key = "gridfield-sync"
    label = "gridfield FileStore (sync)"
    measures = frozenset({"large", "small", "ranged", "memory", "cpu"})
    stores_checksum = True

    def setup(self) -> None:
        from pymongo import MongoClient

        from gridfield._sync.store import FileStore

        self.client = MongoClient(self.uri, event_listeners=[self.counter])
        self.store = FileStore(self.client[self.db_name], self.bucket)
        self.files, self.chunks = self.store.files, self.store.chunks
        self.versions = {"gridfield": _version("gridfield"), "pymongo": _version("pymongo")}

    def close(self) -> None:
        self.client.close()

    def upload(self, size: int) -> Any:
        return self._upload(size, checksum=True)

    def upload_plain(self, size: int) -> Any:
        return self._upload(size, checksum=False)

    def _upload(self, size: int, checksum: bool) -> Any:
        stream = self.store.open_upload(filename=FILENAME, checksum=checksum)
        try:
            for piece in pieces(size):
                stream.write(piece)
        except BaseException:
            stream.abort()
            raise
        return stream.close().file_id

    def download(self, file_id: Any, deadline: float = math.inf) -> int:
        stream = self.store.open_download(file_id)
        total = 0
        while True:
            data = stream.read(MiB)
            if not data:
                break
            total += len(data)
            if time.perf_counter() > deadline:
                break
        stream.close()
        return total

    def put_small(self, data: bytes) -> Any:
        return self.store.put(data, filename=FILENAME).file_id

    def read_small(self, file_id: Any) -> bytes:
        data: bytes = self.store.get(file_id)
        return data

    def open_ranged(self, file_id: Any) -> None:
        self.ranged = self.store.open_download(file_id)

    def ranged_read(self, offset: int, length: int) -> bytes:
        self.ranged.seek(offset)
        data: bytes = self.ranged.read(length)
        return data

    def close_ranged(self) -> None:
        self.ranged.close()


class GridfieldSyncProgress(GridfieldSyncStore):
    """The sync store with an ``on_progress`` callback on every large transfer: against
    ``gridfield-sync``, what the callbacks cost (a counter; the app's own work is not ours)."""

    key = "gridfield-sync-progress"
    label = "gridfield FileStore (sync) with on_progress"
    measures = frozenset({"large"})

    def _count(self, done: int, total: int | None) -> None:
        self.progress_calls += 1

    def setup(self) -> None:
        super().setup()
        self.progress_calls = 0

    def upload(self, size: int) -> Any:
        stream = self.store.open_upload(filename=FILENAME, on_progress=self._count, total=size)
        try:
            for piece in pieces(size):
                stream.write(piece)
        except BaseException:
            stream.abort()
            raise
        return stream.close().file_id

    def download(self, file_id: Any, deadline: float = math.inf) -> int:
        stream = self.store.open_download(file_id, on_progress=self._count)
        total = 0
        while True:
            data = stream.read(MiB)
            if not data:
                break
            total += len(data)
            if time.perf_counter() > deadline:
                break
        stream.close()
        return total


# --------------------------------------------------------------------------- gridfield async field


def _proxy_file_id(proxy: Any) -> Any:
    for name in ("grid_id", "file_id"):
        value = getattr(proxy, name, None)
        if value is not None:
            return value
    raise RuntimeError(f"{type(proxy).__name__} has no grid_id/file_id after put")


def _accepts_size(method: Any) -> bool:
    try:
        return "size" in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


class GridfieldAsyncField(System):
    key = "gridfield-async-field"
    label = "gridfield Document + FileField (async)"
    twin = "async"
    notes = "proxy put/read on a new document; the document itself is not saved"

    async def setup(self) -> None:
        from pymongo import AsyncMongoClient

        import gridfield

        alias = f"bench-{self.key}-{self.db_name}"
        docs = self.bucket + "_docs"
        gridfield.connect(self.db_name, alias=alias, host=self.uri, event_listeners=[self.counter])

        class BenchFile(gridfield.Document):
            meta: ClassVar[dict[str, Any]] = {"db_alias": alias, "collection": docs}
            data = gridfield.FileField(db_alias=alias, collection_name=self.bucket)

        self.doc_class = BenchFile
        # Clean-up goes through a client of its own, so it never counts.
        self.cleanup_client = AsyncMongoClient(self.uri)
        db = self.cleanup_client[self.db_name]
        self.files, self.chunks = db[self.bucket + ".files"], db[self.bucket + ".chunks"]
        self.versions = {"gridfield": _version("gridfield"), "pymongo": _version("pymongo")}

    async def close(self) -> None:
        await self.cleanup_client.close()

    def _loaded(self, file_id: Any) -> Any:
        """A document as a query would return it, holding `file_id` (no round trip)."""
        return self.doc_class._from_son({"_id": ObjectId(), "data": file_id})

    async def upload(self, size: int) -> Any:
        doc = self.doc_class()
        await doc.data.put(PieceReader(size), filename=FILENAME)
        return _proxy_file_id(doc.data)

    async def download(self, file_id: Any, deadline: float = math.inf) -> int:
        proxy = self._loaded(file_id).data
        if not _accepts_size(proxy.read):
            return len(await proxy.read())
        total = 0
        while True:
            data = await proxy.read(MiB)
            if not data:
                break
            total += len(data)
            if time.perf_counter() > deadline:
                break
        return total

    async def put_small(self, data: bytes) -> Any:
        doc = self.doc_class()
        await doc.data.put(data, filename=FILENAME)
        return _proxy_file_id(doc.data)

    async def read_small(self, file_id: Any) -> bytes:
        data: bytes = await self._loaded(file_id).data.read()
        return data


# --------------------------------------------------------------------------- PyMongo and Motor


class PyMongoBucket(System):
    key = "pymongo-bucket"
    label = "PyMongo GridFSBucket"
    measures = frozenset({"large", "small", "ranged", "memory", "cpu"})

    def setup(self) -> None:
        from gridfs import GridFSBucket
        from pymongo import MongoClient

        self.client = MongoClient(self.uri, event_listeners=[self.counter])
        db = self.client[self.db_name]
        self.fs = GridFSBucket(db, bucket_name=self.bucket)
        self.files, self.chunks = db[self.bucket + ".files"], db[self.bucket + ".chunks"]
        self.versions = {"pymongo": _version("pymongo")}

    def close(self) -> None:
        self.client.close()

    def upload(self, size: int) -> Any:
        stream = self.fs.open_upload_stream(FILENAME)
        for piece in pieces(size):
            stream.write(piece)
        stream.close()
        return stream._id

    def download(self, file_id: Any, deadline: float = math.inf) -> int:
        stream = self.fs.open_download_stream(file_id)
        total = 0
        while True:
            data = stream.read(MiB)
            if not data:
                break
            total += len(data)
            if time.perf_counter() > deadline:
                break
        stream.close()
        return total

    def put_small(self, data: bytes) -> Any:
        return self.fs.upload_from_stream(FILENAME, data)

    def read_small(self, file_id: Any) -> bytes:
        data: bytes = self.fs.open_download_stream(file_id).read()
        return data

    def open_ranged(self, file_id: Any) -> None:
        self.ranged = self.fs.open_download_stream(file_id)

    def ranged_read(self, offset: int, length: int) -> bytes:
        self.ranged.seek(offset)
        data: bytes = self.ranged.read(length)
        return data

    def close_ranged(self) -> None:
        self.ranged.close()


class PyMongoAsyncBucket(System):
    key = "pymongo-async-bucket"
    label = "PyMongo AsyncGridFSBucket"
    twin = "async"
    measures = frozenset({"large", "small", "ranged", "memory"})

    def _client(self) -> Any:
        from pymongo import AsyncMongoClient

        return AsyncMongoClient(self.uri, event_listeners=[self.counter])

    def _bucket(self, db: Any) -> Any:
        from gridfs import AsyncGridFSBucket

        return AsyncGridFSBucket(db, bucket_name=self.bucket)

    async def setup(self) -> None:
        self.client = self._client()
        db = self.client[self.db_name]
        self.fs = self._bucket(db)
        self.files, self.chunks = db[self.bucket + ".files"], db[self.bucket + ".chunks"]
        self.versions = {"pymongo": _version("pymongo")}

    async def close(self) -> None:
        await resolve(self.client.close())

    async def upload(self, size: int) -> Any:
        stream = await resolve(self.fs.open_upload_stream(FILENAME))
        for piece in pieces(size):
            await stream.write(piece)
        await stream.close()
        return stream._id

    async def download(self, file_id: Any, deadline: float = math.inf) -> int:
        stream = await resolve(self.fs.open_download_stream(file_id))
        total = 0
        while True:
            data = await stream.read(MiB)
            if not data:
                break
            total += len(data)
            if time.perf_counter() > deadline:
                break
        await resolve(stream.close())
        return total

    async def put_small(self, data: bytes) -> Any:
        return await self.fs.upload_from_stream(FILENAME, data)

    async def read_small(self, file_id: Any) -> bytes:
        stream = await resolve(self.fs.open_download_stream(file_id))
        data: bytes = await stream.read()
        return data

    async def open_ranged(self, file_id: Any) -> None:
        self.ranged = await resolve(self.fs.open_download_stream(file_id))

    async def ranged_read(self, offset: int, length: int) -> bytes:
        await resolve(self.ranged.seek(offset))
        data: bytes = await self.ranged.read(length)
        return data

    async def close_ranged(self) -> None:
        await resolve(self.ranged.close())


class MotorBucket(PyMongoAsyncBucket):
    key = "motor-bucket"
    label = "Motor AsyncIOMotorGridFSBucket"

    def _client(self) -> Any:
        from motor.motor_asyncio import AsyncIOMotorClient

        return AsyncIOMotorClient(self.uri, event_listeners=[self.counter])

    def _bucket(self, db: Any) -> Any:
        from motor.motor_asyncio import AsyncIOMotorGridFSBucket

        return AsyncIOMotorGridFSBucket(db, bucket_name=self.bucket)

    async def setup(self) -> None:
        await super().setup()
        self.versions["motor"] = _version("motor")

    async def close(self) -> None:
        self.client.close()


# -------------------------------------- FileFields on mongoengine.Document; mongomotor


class DocumentFieldSync(System):
    """A FileField on a plain ``mongoengine.Document``; subclasses name the FileField class."""

    notes = "proxy put/read on a new document; the document itself is not saved"
    packages: ClassVar[tuple[str, ...]] = ("mongoengine", "pymongo")
    reads_in_pieces: ClassVar[bool] = True  # False: download calls read() once, for the whole

    def field_class(self) -> Any:
        raise NotImplementedError

    def setup(self) -> None:
        import mongoengine
        from pymongo import MongoClient

        alias = f"bench-{self.key}-{self.db_name}"
        docs = self.bucket + "_docs"
        mongoengine.connect(
            self.db_name, alias=alias, host=self.uri, event_listeners=[self.counter]
        )
        field_class = self.field_class()

        class BenchFile(mongoengine.Document):
            meta: ClassVar[dict[str, Any]] = {"db_alias": alias, "collection": docs}
            data = field_class(db_alias=alias, collection_name=self.bucket)

        self.doc_class = BenchFile
        self.cleanup_client: Any = MongoClient(self.uri)
        db = self.cleanup_client[self.db_name]
        self.files, self.chunks = db[self.bucket + ".files"], db[self.bucket + ".chunks"]
        self.versions = {name: _version(name) for name in self.packages}

    def close(self) -> None:
        self.cleanup_client.close()

    def _loaded(self, file_id: Any) -> Any:
        """A document as a query would return it, holding `file_id` (no round trip)."""
        return self.doc_class._from_son({"_id": ObjectId(), "data": file_id})

    def upload(self, size: int) -> Any:
        doc = self.doc_class()
        doc.data.put(PieceReader(size), filename=FILENAME)
        return _proxy_file_id(doc.data)

    def download(self, file_id: Any, deadline: float = math.inf) -> int:
        proxy = self._loaded(file_id).data
        if not self.reads_in_pieces:
            return len(proxy.read())
        total = 0
        while True:
            data = proxy.read(MiB)
            if not data:
                break
            total += len(data)
            if time.perf_counter() > deadline:
                break
        return total

    def put_small(self, data: bytes) -> Any:
        doc = self.doc_class()
        doc.data.put(data, filename=FILENAME)
        return _proxy_file_id(doc.data)

    def read_small(self, file_id: Any) -> bytes:
        data: bytes = self._loaded(file_id).data.read()
        return data


class GridfieldSyncField(DocumentFieldSync):
    key = "gridfield-sync-field"
    label = "gridfield.sync FileField on mongoengine.Document"
    packages = ("gridfield", "mongoengine", "pymongo")

    def field_class(self) -> Any:
        from gridfield.sync import FileField

        return FileField


class MongoEngineField(DocumentFieldSync):
    key = "mongoengine-field"
    label = "MongoEngine FileField"
    notes = "proxy put/read on a new document; read() returns the whole file"
    reads_in_pieces = False

    def field_class(self) -> Any:
        import mongoengine

        return mongoengine.FileField


class MongomotorField(System):
    key = "mongomotor-field"
    label = "mongomotor FileField"
    twin = "async"
    notes = "proxy put/read on a new document; read() returns the whole file"

    async def setup(self) -> None:
        import mongomotor
        from mongomotor.fields import FileField
        from pymongo import AsyncMongoClient

        alias = f"bench-{self.key}-{self.db_name}"
        docs = self.bucket + "_docs"
        mongomotor.connect(self.db_name, alias=alias, host=self.uri, event_listeners=[self.counter])

        class BenchFile(mongomotor.Document):
            meta: ClassVar[dict[str, Any]] = {"db_alias": alias, "collection": docs}
            data = FileField(db_alias=alias, collection_name=self.bucket)

        self.doc_class = BenchFile
        self.cleanup_client = AsyncMongoClient(self.uri)
        db = self.cleanup_client[self.db_name]
        self.files, self.chunks = db[self.bucket + ".files"], db[self.bucket + ".chunks"]
        self.versions = {"mongomotor": _version("mongomotor"), "pymongo": _version("pymongo")}

    async def close(self) -> None:
        await self.cleanup_client.close()

    def _loaded(self, file_id: Any) -> Any:
        return self.doc_class._from_son({"_id": ObjectId(), "data": file_id})

    async def upload(self, size: int) -> Any:
        doc = self.doc_class()
        await doc.data.put(PieceReader(size), filename=FILENAME)
        return doc.data.grid_id

    async def download(self, file_id: Any, deadline: float = math.inf) -> int:
        data = await self._loaded(file_id).data.read()
        if data is None:  # mongomotor answers None when the file cannot be fetched
            raise RuntimeError(f"mongomotor read() returned None for file {file_id}")
        return len(data)

    async def put_small(self, data: bytes) -> Any:
        doc = self.doc_class()
        await doc.data.put(data, filename=FILENAME)
        return doc.data.grid_id

    async def read_small(self, file_id: Any) -> bytes:
        data: bytes = await self._loaded(file_id).data.read()
        return data


# --------------------------------------------------------------------------- the floor


def _chunk_docs(file_id: Any, size: int) -> Any:
    """Yield lists of chunk documents (255 KiB each) of at most FLOOR_BATCH_BYTES."""
    buffer = bytearray()
    n = 0
    batch: list[dict[str, Any]] = []
    batch_bytes = 0
    for piece in pieces(size):
        buffer += piece
        while len(buffer) >= FLOOR_CHUNK:
            batch.append({"files_id": file_id, "n": n, "data": bytes(buffer[:FLOOR_CHUNK])})
            del buffer[:FLOOR_CHUNK]
            n += 1
            batch_bytes += FLOOR_CHUNK
            if batch_bytes >= FLOOR_BATCH_BYTES:
                yield batch
                batch, batch_bytes = [], 0
    if buffer:
        batch.append({"files_id": file_id, "n": n, "data": bytes(buffer)})
    if batch:
        yield batch


class FloorSync(System):
    key = "floor-sync"
    label = "floor: raw insert_many/find (sync)"
    notes = "chunk documents only, no files document, no checks"

    def setup(self) -> None:
        from pymongo import MongoClient

        self.client = MongoClient(self.uri, event_listeners=[self.counter])
        db = self.client[self.db_name]
        self.files, self.chunks = db[self.bucket + ".files"], db[self.bucket + ".chunks"]
        self.chunks.create_index([("files_id", 1), ("n", 1)], unique=True)
        self.versions = {"pymongo": _version("pymongo")}

    def close(self) -> None:
        self.client.close()

    def upload(self, size: int) -> Any:
        file_id = ObjectId()
        for batch in _chunk_docs(file_id, size):
            self.chunks.insert_many(batch)
        return file_id

    def download(self, file_id: Any, deadline: float = math.inf) -> int:
        cursor = self.chunks.find({"files_id": file_id}).sort("n", 1).batch_size(FLOOR_READ_BATCH)
        total = 0
        for doc in cursor:
            total += len(doc["data"])
            if time.perf_counter() > deadline:
                break
        cursor.close()
        return total

    def put_small(self, data: bytes) -> Any:
        file_id = ObjectId()
        self.chunks.insert_many([{"files_id": file_id, "n": 0, "data": data}])
        return file_id

    def read_small(self, file_id: Any) -> bytes:
        return b"".join(doc["data"] for doc in self.chunks.find({"files_id": file_id}).sort("n", 1))


class FloorAsync(System):
    key = "floor-async"
    label = "floor: raw insert_many/find (PyMongo async)"
    twin = "async"
    notes = "chunk documents only, no files document, no checks"

    async def setup(self) -> None:
        from pymongo import AsyncMongoClient

        self.client = AsyncMongoClient(self.uri, event_listeners=[self.counter])
        db = self.client[self.db_name]
        self.files, self.chunks = db[self.bucket + ".files"], db[self.bucket + ".chunks"]
        await self.chunks.create_index([("files_id", 1), ("n", 1)], unique=True)
        self.versions = {"pymongo": _version("pymongo")}

    async def close(self) -> None:
        await self.client.close()

    async def upload(self, size: int) -> Any:
        file_id = ObjectId()
        for batch in _chunk_docs(file_id, size):
            await self.chunks.insert_many(batch)
        return file_id

    async def download(self, file_id: Any, deadline: float = math.inf) -> int:
        cursor = self.chunks.find({"files_id": file_id}).sort("n", 1).batch_size(FLOOR_READ_BATCH)
        total = 0
        async for doc in cursor:
            total += len(doc["data"])
            if time.perf_counter() > deadline:
                break
        await cursor.close()
        return total

    async def put_small(self, data: bytes) -> Any:
        file_id = ObjectId()
        await self.chunks.insert_many([{"files_id": file_id, "n": 0, "data": data}])
        return file_id

    async def read_small(self, file_id: Any) -> bytes:
        cursor = self.chunks.find({"files_id": file_id}).sort("n", 1)
        return b"".join([doc["data"] async for doc in cursor])


SYSTEMS: list[type[System]] = [
    GridfieldAsyncStore,
    GridfieldAsyncField,
    GridfieldMotorStore,
    GridfieldSyncStore,
    GridfieldSyncProgress,
    GridfieldSyncField,
    PyMongoBucket,
    PyMongoAsyncBucket,
    MotorBucket,
    MongoEngineField,
    MongomotorField,
    FloorSync,
    FloorAsync,
]
BY_KEY = {system.key: system for system in SYSTEMS}
REFERENCE = PyMongoBucket.key  # ratios in the tables are to this system

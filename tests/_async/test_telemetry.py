"""OpenTelemetry: one span per file operation, parenting PyMongo's command spans; errors
recorded with status ERROR; a served range is one span with its range; the metrics count
bytes, durations, refusals and damaged reads; nothing is observed while no provider is set."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from pymongo import AsyncMongoClient

from gridfield._async.intake import receive_raw
from gridfield._async.serving import serve, stream_body
from gridfield._async.store import AsyncFileStore
from gridfield.core.errors import CorruptFile, FileTooLarge
from gridfield.core.http import ServeOptions
from gridfield.core.http.intake import IntakeLimits
from tests.otel_memory import METRICS, SPANS, install

UPLOAD_MIB = 64


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The in-memory exporter, emptied, with PyMongo's command spans on."""
    install()
    PymongoInstrumentor().instrument()
    SPANS.clear()
    try:
        yield SPANS
    finally:
        PymongoInstrumentor().uninstrument()
        SPANS.clear()


@pytest.fixture
async def store(async_db: Any, mongo_uri: str, spans: Any) -> AsyncIterator[AsyncFileStore]:
    """A store on a PyMongo client made once the instrumentation listens."""
    client: Any = AsyncMongoClient(mongo_uri)
    try:
        yield AsyncFileStore(client[async_db.name])
    finally:
        await client.close()


def ours(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == name]


def commands(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if not s.name.startswith("gridfield.")]


def metric_points(name: str) -> list[Any]:
    data = METRICS.get_metrics_data()
    found = []
    for resource in data.resource_metrics if data is not None else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    found.extend(metric.data.data_points)
    return found


def total(name: str, **labels: Any) -> float:
    points = metric_points(name)
    return sum(
        getattr(p, "value", getattr(p, "count", 0))
        for p in points
        if all(p.attributes.get(k) == v for k, v in labels.items())
    )


async def test_an_upload_is_one_span_parenting_every_command_it_sends(
    store: AsyncFileStore, spans: InMemorySpanExporter
) -> None:
    size = UPLOAD_MIB * 1024 * 1024
    before = total("gridfield.bytes.uploaded")
    info = await store.put(os.urandom(size), filename="big.bin")
    (upload,) = ours(spans, "gridfield.upload")
    sent = commands(spans)
    inserts = [s for s in sent if s.name.endswith(".insert")]
    assert len(inserts) >= size // (8 * 1024 * 1024)  # a batch of chunks per command
    assert upload.context is not None
    assert all(s.parent is not None and s.parent.span_id == upload.context.span_id for s in sent)
    assert upload.status.status_code != StatusCode.ERROR
    attributes = dict(upload.attributes or {})
    assert attributes["gridfield.file_id"] == str(info.file_id)
    assert (attributes["gridfield.length"], attributes["gridfield.bytes"]) == (size, size)
    assert (attributes["gridfield.outcome"], attributes["gridfield.encrypted"]) == ("ok", False)
    assert attributes["gridfield.bucket"] == "fs"
    assert total("gridfield.bytes.uploaded") - before == size


async def test_a_failed_upload_has_status_error_and_counts_as_refused(
    store: AsyncFileStore, spans: InMemorySpanExporter
) -> None:
    before = total("gridfield.files.refused", **{"gridfield.reason": "FileTooLarge"})
    with pytest.raises(FileTooLarge):
        await store.put(os.urandom(300_000), max_size=100_000)
    (upload,) = ours(spans, "gridfield.upload")
    assert upload.status.status_code == StatusCode.ERROR
    assert dict(upload.attributes or {})["gridfield.outcome"] == "error"
    assert [e.name for e in upload.events] == ["exception"]
    after = total("gridfield.files.refused", **{"gridfield.reason": "FileTooLarge"})
    assert after - before == 1
    # The clean-up's deletes are children of the failed upload too.
    assert upload.context is not None
    assert all(s.parent and s.parent.span_id == upload.context.span_id for s in commands(spans))


async def test_a_served_range_is_one_span_with_the_range(
    store: AsyncFileStore, spans: InMemorySpanExporter
) -> None:
    data = os.urandom(600_000)
    info = await store.put(data, content_type="video/mp4")
    spans.clear()
    served = await serve(store, info.file_id, "GET", {"range": "bytes=1000-300999"}, ServeOptions())
    body = b"".join([piece async for piece in stream_body(served)])
    assert body == data[1000:301000]
    (span,) = ours(spans, "gridfield.serve")
    attributes = dict(span.attributes or {})
    assert (attributes["gridfield.range.start"], attributes["gridfield.range.end"]) == (
        1000,
        301000,
    )
    assert (attributes["gridfield.status"], attributes["gridfield.bytes"]) == (206, 300_000)
    assert attributes["gridfield.outcome"] == "ok"
    assert [s.name for s in spans.get_finished_spans() if s.name.startswith("gridfield.")] == [
        "gridfield.serve"
    ]
    assert span.context is not None
    sent = commands(spans)
    assert sent and all(s.parent and s.parent.span_id == span.context.span_id for s in sent)


async def test_a_stream_opened_by_hand_is_one_download_span_until_closed(
    store: AsyncFileStore, spans: InMemorySpanExporter
) -> None:
    data = os.urandom(700_000)
    info = await store.put(data)
    spans.clear()
    async with await store.open_download(info.file_id) as stream:
        assert await stream.read(1000) == data[:1000]
        stream.seek(500_000)
        assert await stream.read(10) == data[500_000:500_010]
        assert ours(spans, "gridfield.download") == []  # open until closed
    (download,) = ours(spans, "gridfield.download")
    assert dict(download.attributes or {})["gridfield.bytes"] == 1010
    assert download.context is not None
    sent = [s for s in commands(spans) if s.name.endswith(".find")]
    assert sent and all(s.parent and s.parent.span_id == download.context.span_id for s in sent[1:])


async def test_each_file_operation_has_its_span_and_metrics(
    store: AsyncFileStore, spans: InMemorySpanExporter
) -> None:
    info = await store.put(b"x" * 5000, filename="a")
    downloaded = total("gridfield.bytes.downloaded")
    assert await store.get(info.file_id) == b"x" * 5000
    assert await store.read_range(info.file_id, 10, 20) == b"x" * 10
    await store.rename(info.file_id, "b")
    await store.check()
    await store.sweep()
    await store.delete(info.file_id)
    names = [s.name for s in spans.get_finished_spans() if s.name.startswith("gridfield.")]
    assert names == [
        "gridfield.upload",
        "gridfield.download",
        "gridfield.download",
        "gridfield.rename",
        "gridfield.check",
        "gridfield.sweep",
        "gridfield.delete",
    ]
    (ranged,) = [
        s
        for s in ours(spans, "gridfield.download")
        if s.attributes and "gridfield.range.start" in s.attributes
    ]
    assert dict(ranged.attributes or {})["gridfield.bytes"] == 10
    assert total("gridfield.bytes.downloaded") - downloaded == 5010
    assert total("gridfield.operation.duration", **{"gridfield.operation": "gridfield.delete"})


async def test_a_damaged_file_read_is_an_error_span_and_a_corrupt_read(
    store: AsyncFileStore, spans: InMemorySpanExporter
) -> None:
    info = await store.put(os.urandom(1000))
    await store.chunks.update_one({"files_id": info.file_id}, {"$set": {"data": b"short"}})
    before = total("gridfield.reads.corrupt")
    with pytest.raises(CorruptFile):
        await store.get(info.file_id)
    (download,) = ours(spans, "gridfield.download")
    assert download.status.status_code == StatusCode.ERROR
    assert total("gridfield.reads.corrupt") - before == 1


PROGRAM = """
import importlib.abc, sys
class NoOpenTelemetry(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "opentelemetry" and BLOCK:
            raise ImportError(name)
        return None
sys.meta_path.insert(0, NoOpenTelemetry())
from gridfield import telemetry
op = telemetry.begin("upload", bucket="fs", file_id=1)
with op.current():
    pass
with telemetry.begin("download") as inner:
    inner.moved(10, "downloaded")
print(op is telemetry.NO_OPERATION and inner is telemetry.NO_OPERATION)
"""


@pytest.mark.parametrize("installed", [True, False], ids=["no provider", "not installed"])
def test_nothing_is_observed_without_a_provider_or_without_opentelemetry(
    installed: bool,
) -> None:
    program = f"BLOCK = {not installed}\n{PROGRAM}"
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


async def _body(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 50_000):
        yield data[start : start + 50_000]


async def test_a_received_upload_is_a_child_of_its_request_and_a_refusal_counts_once(
    store: AsyncFileStore, spans: InMemorySpanExporter
) -> None:
    data = os.urandom(200_000)
    received = await receive_raw(
        _body(data), store, filename="a.bin", content_type=None, content_length=None
    )
    assert received.files[0].info.length == len(data)
    (intake,) = ours(spans, "gridfield.intake")
    (upload,) = ours(spans, "gridfield.upload")
    assert intake.context is not None and upload.parent is not None
    assert upload.parent.span_id == intake.context.span_id
    spans.clear()
    before = total("gridfield.files.refused", **{"gridfield.reason": "FileTooLarge"})
    with pytest.raises(FileTooLarge):
        await receive_raw(
            _body(data),
            store,
            filename="b.bin",
            content_type=None,
            content_length=None,
            limits=IntakeLimits(max_size=100_000),
        )
    assert [s.status.status_code for s in ours(spans, "gridfield.intake")] == [StatusCode.ERROR]
    after = total("gridfield.files.refused", **{"gridfield.reason": "FileTooLarge"})
    assert after - before == 1

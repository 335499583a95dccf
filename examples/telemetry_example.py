"""gridfield's spans and metrics, seen through the OpenTelemetry SDK's in-memory exporter.

Run with $MONGODB_URI set: python examples/telemetry_example.py
"""

import asyncio
import os
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pymongo import AsyncMongoClient

from gridfield import AsyncFileStore

# The app's own set-up, once per process (an exporter to your collector in real life).
spans = InMemorySpanExporter()
tracing = TracerProvider()
tracing.add_span_processor(SimpleSpanProcessor(spans))
trace.set_tracer_provider(tracing)
readings = InMemoryMetricReader()
metrics.set_meter_provider(MeterProvider(metric_readers=[readings]))
PymongoInstrumentor().instrument()  # PyMongo's command spans, for the clients made from now on


async def main() -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(os.environ["MONGODB_URI"])
    store = AsyncFileStore(client["telemetry_example"])
    try:
        info = await store.put(os.urandom(20 * 1024 * 1024), filename="video.mp4")
        upload = next(s for s in spans.get_finished_spans() if s.name == "gridfield.upload")
        print(upload.name, dict(upload.attributes or {}))
        children = [
            s
            for s in spans.get_finished_spans()
            if s.parent is not None and s.parent.span_id == upload.context.span_id
        ]
        print(
            len(children), "commands under it:", sorted({s.name.split(".")[-1] for s in children})
        )

        spans.clear()
        try:
            await store.put(os.urandom(300_000), max_size=100_000)
        except Exception as refused:
            failed = next(s for s in spans.get_finished_spans() if s.name == "gridfield.upload")
            print(type(refused).__name__, "->", failed.status.status_code)

        spans.clear()
        await store.read_range(info.file_id, 1000, 5000)
        (ranged,) = [s for s in spans.get_finished_spans() if s.name == "gridfield.download"]
        attributes = dict(ranged.attributes or {})
        print("range", attributes["gridfield.range.start"], attributes["gridfield.range.end"])

        data = readings.get_metrics_data()
        names = {
            m.name
            for r in (data.resource_metrics if data is not None else [])
            for s in r.scope_metrics
            for m in s.metrics
        }
        print(sorted(n for n in names if n.startswith("gridfield.")))
    finally:
        await client.drop_database("telemetry_example")
        await client.close()


if __name__ == "__main__":
    asyncio.run(main())

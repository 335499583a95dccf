"""OpenTelemetry spans and metrics of file operations (the ``telemetry`` extra:
``pip install "gridfield[telemetry]"``, the API alone; the app brings the SDK and exporters).

One span per file operation, named ``gridfield.<operation>`` (``gridfield.upload``,
``gridfield.download``, ``gridfield.delete``, ``gridfield.rename``, ``gridfield.serve``,
``gridfield.intake``, ``gridfield.tus.<method>``, ``gridfield.tus.complete``,
``gridfield.sweep``, ``gridfield.check``), with the attributes ``gridfield.bucket``,
``gridfield.file_id``, ``gridfield.length``, ``gridfield.bytes`` (moved),
``gridfield.range.start``/``gridfield.range.end``, ``gridfield.encrypted`` and
``gridfield.outcome`` (``ok``, ``error``, ``cancelled``); an error is recorded on the span,
whose status is then ERROR. The server commands an operation sends (PyMongo's own spans,
when its instrumentation is on) are its children.

Metrics (meter ``gridfield``): ``gridfield.bytes.uploaded`` and
``gridfield.bytes.downloaded`` (counters, By), ``gridfield.operation.duration``
(histogram, s, by operation and outcome), ``gridfield.files.refused`` (files refused by a
limit, by reason), ``gridfield.reads.corrupt`` (reads that met a damaged file) and
``gridfield.sweep.deleted`` (files a sweep removed).

Without OpenTelemetry installed, or while no tracer or meter provider is set, every
operation gets the same do-nothing object: no span, no clock read, no allocation.
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Any

from .core.errors import ContentTypeRefused, CorruptFile, FileTooLarge, FormTooLarge

__all__ = ["NO_OPERATION", "Operation", "begin"]

try:
    from opentelemetry import metrics as _metrics
    from opentelemetry import trace as _trace
except ImportError:  # the extra is not installed: nothing is ever observed
    _trace = None  # type: ignore[assignment]
    _metrics = None  # type: ignore[assignment]

try:  # where the API keeps the providers an app set (None until then)
    from opentelemetry.metrics import _internal as _metrics_state
    from opentelemetry.metrics._internal import _ProxyMeterProvider as _UNSET_METERS
except ImportError:  # pragma: no cover - an API laid out otherwise: ask it the public way
    _metrics_state = None  # type: ignore[assignment]
    _UNSET_METERS = None  # type: ignore[assignment,misc]

_UNKNOWN = object()

if _trace is not None:
    # A provider named by the environment is loaded the first time the API is asked for
    # one: ask once now, so that the cheap look below sees it.
    _trace.get_tracer_provider()
    _metrics.get_meter_provider()

_NAME = "gridfield"
_REFUSALS = (FileTooLarge, ContentTypeRefused, FormTooLarge)
_COUNTED = "gridfield_refusal_counted"  # set on a refusal once a metric has counted it
_CANCELLED = (asyncio.CancelledError, GeneratorExit, KeyboardInterrupt)


class _Instruments:
    """The metrics' instruments on one meter provider."""

    def __init__(self, provider: Any) -> None:
        meter = provider.get_meter(_NAME)
        self.uploaded = meter.create_counter(
            "gridfield.bytes.uploaded", unit="By", description="File bytes stored"
        )
        self.downloaded = meter.create_counter(
            "gridfield.bytes.downloaded", unit="By", description="File bytes read back"
        )
        self.duration = meter.create_histogram(
            "gridfield.operation.duration", unit="s", description="Duration of file operations"
        )
        self.refused = meter.create_counter(
            "gridfield.files.refused", description="Files refused by a limit"
        )
        self.corrupt = meter.create_counter(
            "gridfield.reads.corrupt", description="Reads that met a damaged file"
        )
        self.swept = meter.create_counter(
            "gridfield.sweep.deleted", description="Files a deleting sweep removed"
        )


_tracers: tuple[Any, Any] | None = None  # (provider, tracer) last used
_meters: tuple[Any, _Instruments] | None = None  # (provider, instruments) last used


def _tracer() -> Any:
    """The tracer of the provider set now, or None while none is set."""
    global _tracers
    if _trace is None:
        return None
    # The API's own getter reads the environment on each call (microseconds): the global
    # it sets is read instead, so that no provider costs nothing.
    provider: Any = getattr(_trace, "_TRACER_PROVIDER", _UNKNOWN)
    if provider is None:
        return None
    if provider is _UNKNOWN:  # pragma: no cover - an API laid out otherwise
        provider = _trace.get_tracer_provider()
        if isinstance(provider, _trace.ProxyTracerProvider):
            return None
    if _tracers is None or _tracers[0] is not provider:
        _tracers = (provider, provider.get_tracer(_NAME))
    return _tracers[1]


def _instruments() -> _Instruments | None:
    """The instruments of the meter provider set now, or None while none is set."""
    global _meters
    if _metrics is None:
        return None
    provider: Any = getattr(_metrics_state, "_METER_PROVIDER", _UNKNOWN)
    if provider is None:
        return None
    if provider is _UNKNOWN:  # pragma: no cover - an API laid out otherwise
        provider = _metrics.get_meter_provider()
        if _UNSET_METERS is not None and isinstance(provider, _UNSET_METERS):
            return None
    if _meters is None or _meters[0] is not provider:
        _meters = (provider, _Instruments(provider))
    return _meters[1]


class _Quiet:
    """The context of an operation nobody observes."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_QUIET = _Quiet()


class Operation:
    """One file operation being observed: a span (when tracing) and its metrics.

    ``current()`` makes it the current span for a stretch of code (the commands sent then
    are its children); ``end()`` closes it once, with the error that ended it, if any.
    """

    def __init__(self, name: str, tracer: Any, instruments: _Instruments | None) -> None:
        self.name = name
        """The span's name."""
        self._span = None if tracer is None else tracer.start_span(name)
        self._instruments = instruments
        self._started = time.perf_counter()
        self._moved = 0
        self._direction: str | None = None
        self._attributes: dict[str, Any] = {}
        self._ended = False

    def set(self, **attributes: Any) -> None:
        """Set span attributes, named without their ``gridfield.`` prefix (``file_id``,
        ``length``, ``range_start``...); None values are left out, ids become text.
        Ignored once the operation has ended."""
        if not self._ended:
            self._put(attributes)

    def _put(self, attributes: dict[str, Any]) -> None:
        for key, value in attributes.items():
            if value is None:
                continue
            if not isinstance(value, (str, bool, int, float)):
                value = str(value)
            name = f"gridfield.{key.replace('range_', 'range.')}"
            self._attributes[name] = value
            if self._span is not None:
                self._span.set_attribute(name, value)

    def moved(self, size: int, direction: str) -> None:
        """Count ``size`` file bytes moved (``"uploaded"`` or ``"downloaded"``)."""
        self._moved += size
        self._direction = direction

    def corrupt(self) -> None:
        """Note that this operation met a damaged file."""
        if self._instruments is not None:
            self._instruments.corrupt.add(1, {"gridfield.operation": self.name})

    def current(self) -> Any:
        """A context in which this operation's span is the current one."""
        if self._span is None:
            return _QUIET
        # The error that ends an operation is recorded once, by end(); not here too.
        return _trace.use_span(
            self._span, end_on_exit=False, record_exception=False, set_status_on_exception=False
        )

    def end(self, error: BaseException | None = None) -> None:
        """Close the operation (once): outcome, status, duration and bytes recorded."""
        if self._ended:
            return
        self._ended = True
        if error is None:
            outcome = "ok"
        elif isinstance(error, _CANCELLED):
            outcome = "cancelled"
        else:
            outcome = "error"
        self._put({"outcome": outcome, "bytes": self._moved})
        if isinstance(error, CorruptFile):
            self.corrupt()
        elif (
            isinstance(error, _REFUSALS)
            and self._instruments is not None
            and not getattr(error, _COUNTED, False)
        ):
            # Counted once, by the innermost operation it ends (an upload inside a request).
            setattr(error, _COUNTED, True)
            bucket = self._attributes.get("gridfield.bucket", "")
            reason = {"gridfield.reason": type(error).__name__, "gridfield.bucket": bucket}
            self._instruments.refused.add(1, reason)
        if self._span is not None:
            if outcome == "error":
                assert error is not None
                self._span.record_exception(error)
                self._span.set_status(_trace.Status(_trace.StatusCode.ERROR, str(error)))
            self._span.end()
        if self._instruments is not None:
            labels = {"gridfield.operation": self.name, "gridfield.outcome": outcome}
            bucket = self._attributes.get("gridfield.bucket")
            if bucket is not None:
                labels["gridfield.bucket"] = bucket
            elapsed = time.perf_counter() - self._started
            self._instruments.duration.record(elapsed, labels)
            if self._moved and self._direction == "uploaded":
                self._instruments.uploaded.add(self._moved, {"gridfield.bucket": bucket or ""})
            elif self._moved and self._direction == "downloaded":
                self._instruments.downloaded.add(self._moved, {"gridfield.bucket": bucket or ""})

    def swept(self, count: int) -> None:
        """Count the files a deleting sweep removed."""
        if self._instruments is not None and count:
            self._instruments.swept.add(count, {"gridfield.operation": self.name})

    def __enter__(self) -> Operation:
        self._context = self.current()
        self._context.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.end(exc)
        finally:
            self._context.__exit__(None, None, None)


class _NoOperation(Operation):
    """What every operation gets while nothing observes: each method does nothing."""

    def __init__(self) -> None:  # no span, no clock
        self.name = ""

    def set(self, **attributes: Any) -> None:
        return None

    def moved(self, size: int, direction: str) -> None:
        return None

    def corrupt(self) -> None:
        return None

    def current(self) -> Any:
        return _QUIET

    def end(self, error: BaseException | None = None) -> None:
        return None

    def swept(self, count: int) -> None:
        return None

    def __enter__(self) -> Operation:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


NO_OPERATION: Operation = _NoOperation()
"""The operation handed out while nothing observes."""


def begin(name: str, **attributes: Any) -> Operation:
    """Start the operation ``gridfield.<name>`` (not yet current: see ``current()``);
    NO_OPERATION while no tracer or meter provider is set. ``with begin(...) as op:``
    makes it current inside the block and ends it with the block (recording its error)."""
    tracer = _tracer()
    instruments = _instruments()
    if tracer is None and instruments is None:
        return NO_OPERATION
    op = Operation(f"gridfield.{name}", tracer, instruments)
    op.set(**attributes)
    return op

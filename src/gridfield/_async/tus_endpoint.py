"""One tus request answered, what every tus web adapter calls: the protocol checks
(``core.tus``), the application's hooks, the resumable store, and the serving of a completed
upload's file (``serving``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from .. import telemetry
from ..core.http import Headers, ServeOptions
from ..core.tus import (
    TusError,
    TusResponse,
    check_part_ids,
    check_version,
    created,
    default_naming,
    discovery,
    effective_method,
    error_response,
    parse_creation,
    parse_patch,
    part_ids,
    patched,
    status_of_upload,
    terminated,
)
from .interfaces import STORE_CLASS
from .resumable import AsyncResumableStore
from .serving import Served, serve
from .store import AsyncFileStore

__all__ = ["TusHooks", "answer"]

_ALLOWED = "OPTIONS, POST, HEAD, PATCH, DELETE, GET"


@dataclass(frozen=True)
class TusHooks:
    """What an application decides about its uploads (each optional; in the async API each
    is a coroutine function, in the sync API a plain function):

    - ``authorise(method, upload_id, headers) -> bool``: False answers 403 (``upload_id`` is
      None for OPTIONS and creation). A final upload (``Upload-Concat: final;...``) consumes
      the partial uploads it names, so each of them is asked about too, as a ``PATCH`` of it
      would be: one refusal answers 403 and consumes nothing;
    - ``name_file(metadata, headers) -> FileNaming``: the stored file's filename, content type
      and metadata from the client's decoded ``Upload-Metadata`` (default: ``filename`` and
      ``filetype``, the rest as text metadata);
    - ``on_complete(state, headers)``: called once the file is stored, with the upload's
      state (``state.file_id`` names the file), for instance to set ``doc.video`` to it.
    """

    authorise: Any = None
    name_file: Any = None
    on_complete: Any = None


async def _name(hooks: TusHooks, metadata: dict[str, bytes], headers: Headers) -> Any:
    if hooks.name_file is None:
        return default_naming(metadata)
    return await hooks.name_file(metadata, headers)


async def answer(
    resumable: AsyncResumableStore,
    hooks: TusHooks,
    method: str,
    upload_id: str | None,
    location: str,
    headers: Headers,
    body: AsyncIterator[bytes],
) -> TusResponse | Served:
    """Answer one request to the endpoint (``upload_id`` None) or to one upload.

    ``location`` is the URL of the endpoint, the base of a new upload's ``Location``. A GET
    (or a HEAD without ``Tus-Resumable``) of a completed upload serves its file, with Range
    and conditional requests; everything else speaks tus.
    """
    method = effective_method(method, headers)
    store = resumable.store
    with telemetry.begin(
        f"tus.{method.lower()}", bucket=store.collection_name, upload_id=upload_id
    ) as op:
        answered = await _answer(resumable, hooks, method, upload_id, location, headers, body)
        op.set(status=answered.status if isinstance(answered, TusResponse) else None)
        return answered


async def _answer(
    resumable: AsyncResumableStore,
    hooks: TusHooks,
    method: str,
    upload_id: str | None,
    location: str,
    headers: Headers,
    body: AsyncIterator[bytes],
) -> TusResponse | Served:
    offset_of = None
    try:
        if hooks.authorise is not None and not await hooks.authorise(method, upload_id, headers):
            raise TusError(403, "this request is not allowed")
        if method == "OPTIONS":
            return discovery(resumable.options)
        if upload_id is not None and (
            method == "GET" or (method == "HEAD" and headers.get("Tus-Resumable") is None)
        ):
            state = await resumable.get(upload_id)
            if state.is_partial:
                raise TusError(
                    404, f"upload {upload_id} is a partial upload: only its final upload is a file"
                )
            if not state.complete:
                raise TusError(404, f"upload {upload_id} is not complete")
            store = resumable.store
            # The resumable store knows the store's parts only (it sits below the store);
            # serving needs the store itself, which is what every endpoint is built on.
            if not isinstance(store, AsyncFileStore):
                raise TypeError(f"expected {STORE_CLASS}, not {type(store).__name__}")
            return await serve(store, state.file_id, method, headers, ServeOptions())
        check_version(method, headers)
        if upload_id is None:
            if method != "POST":
                raise TusError(405, f"{method} is not allowed here", (("Allow", "OPTIONS, POST"),))
            return await _create(resumable, hooks, location, headers, body)
        if method == "HEAD":
            state = await resumable.get(upload_id)
            state.check_alive(datetime.now(timezone.utc))
            return status_of_upload(state)
        if method == "PATCH":
            request = parse_patch(headers)
            offset_of = await resumable.get(upload_id)
            state = await resumable.patch(upload_id, request, body)
            newly = state.complete and not offset_of.complete and not state.is_partial
            if newly and hooks.on_complete is not None:
                await hooks.on_complete(state, headers)
            return patched(state)
        if method == "DELETE":
            await resumable.terminate(upload_id)
            return terminated()
        raise TusError(405, f"{method} is not allowed here", (("Allow", _ALLOWED),))
    except TusError as exc:
        shown = offset_of if exc.status in (409, 460) else None
        if shown is not None:
            try:
                shown = await resumable.get(shown.upload_id)
            except TusError:
                shown = None
        refused = error_response(exc, offset_of=shown)
        if method == "HEAD":  # a HEAD answer has no body
            return TusResponse(refused.status, refused.headers)
        return refused


async def _authorise_parts(hooks: TusHooks, ids: tuple[str, ...], headers: Headers) -> None:
    """403 unless the app would let this request PATCH every partial upload a final one
    joins: joining consumes them, so it is writing to them (a URL that leaked is no key)."""
    if hooks.authorise is None:
        return
    for upload_id in ids:
        if not await hooks.authorise("PATCH", upload_id, headers):
            raise TusError(403, f"Upload-Concat: partial upload {upload_id} is not yours to join")


async def _create(
    resumable: AsyncResumableStore,
    hooks: TusHooks,
    location: str,
    headers: Headers,
    body: AsyncIterator[bytes],
) -> TusResponse:
    creation = parse_creation(headers, resumable.options)
    if creation.concat is not None and not creation.concat.partial:
        ids = part_ids(creation.concat, urlsplit(location).path)
        check_part_ids(ids, resumable.options)
        await _authorise_parts(hooks, ids, headers)
        naming = await _name(hooks, creation.metadata, headers)
        state = await resumable.concatenate(ids, creation.concat.header, naming)
        url = f"{location.rstrip('/')}/{state.upload_id}"
        if hooks.on_complete is not None:
            await hooks.on_complete(state, headers)
        return created(state, url, with_body=False)
    naming = await _name(hooks, creation.metadata, headers)
    state = await resumable.create(creation, naming)
    url = f"{location.rstrip('/')}/{state.upload_id}"
    if creation.body:
        try:
            state = await resumable.patch(state.upload_id, creation.first_patch(), body)
        except TusError as exc:
            refused = error_response(exc)
            return TusResponse(refused.status, (*refused.headers, ("Location", url)), refused.body)
    if state.complete and not state.is_partial and hooks.on_complete is not None:
        await hooks.on_complete(state, headers)
    return created(state, url, with_body=creation.body)

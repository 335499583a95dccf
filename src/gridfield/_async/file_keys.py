"""The data key of an encrypted file: made and wrapped for an upload, unwrapped for a read
(or for a resumable upload's next request, which seals under the key made at its creation).

Wrapping through a key vault or a KMS talks to a server with PyMongo's sync
``ClientEncryption``: the async API runs it off the event loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._twins import run_off_loop
from ..core.encryption import (
    Encryption,
    EncryptionRecord,
    FileCipher,
    KeyUnavailable,
    WrappedFileKey,
    WrappedKey,
    new_file_key,
)
from ..core.files_document import FileInfo

__all__ = [
    "NewFileKey",
    "cipher_for",
    "new_file_key_for",
    "recorded_file_key",
    "rewrapped",
    "rewrapped_file_key",
]


class NewFileKey:
    """A new file's cipher and its wrapped data key; ``record(length)`` is what its files
    document stores once the length is known."""

    def __init__(self, algorithm: str, cipher: FileCipher, wrapped: WrappedKey) -> None:
        self.cipher = cipher
        self._algorithm = algorithm
        self._wrapped = wrapped

    def record(self, length: int) -> dict[str, Any]:
        """The ``gridfield.encryption`` subdocument of the file, sealed to ``length``."""
        seal = self.cipher.seal_length(length)
        return EncryptionRecord(self._algorithm, self._wrapped, seal).to_document()

    def wrapped_document(self) -> dict[str, Any]:
        """The wrapped data key alone (no seal), for a file whose length is not known yet:
        what a resumable upload's registry entry keeps."""
        return WrappedFileKey(self._algorithm, self._wrapped).to_document()


async def _call(encryption: Encryption, method: Any, value: Any) -> Any:
    if encryption.keys.does_io:
        return await run_off_loop(method, value)
    return method(value)


async def _unwrapped(encryption: Encryption | None, wrapped: WrappedKey, owner: str) -> bytes:
    """The data key ``wrapped`` holds for ``owner`` (a file, named in errors):
    KeyUnavailable naming the key id when there are no keys or these cannot unwrap it."""
    if encryption is None:
        raise KeyUnavailable(
            f"{owner} is encrypted (its data key wrapped by {wrapped.kind} key"
            f" {wrapped.key_id!r}) and this store has no keys: give it"
            " encryption=Encryption(...)"
        )
    try:
        data_key: bytes = await _call(encryption, encryption.keys.unwrap, wrapped)
    except KeyUnavailable as exc:
        raise KeyUnavailable(f"{owner}: {exc}") from None
    return data_key


async def new_file_key_for(encryption: Encryption, file_id: Any, chunk_size: int) -> NewFileKey:
    """A fresh data key for file ``file_id``, wrapped by the current key-encryption key."""
    data_key = new_file_key()
    wrapped = await _call(encryption, encryption.keys.wrap, data_key)
    cipher = FileCipher(encryption.algorithm, data_key, file_id, chunk_size)
    return NewFileKey(encryption.algorithm, cipher, wrapped)


async def recorded_file_key(
    encryption: Encryption | None, recorded: Mapping[str, Any], file_id: Any, chunk_size: int
) -> NewFileKey:
    """The key of file ``file_id``, still being written, whose wrapped data key was recorded
    when it began (``recorded``: ``NewFileKey.wrapped_document()``). KeyUnavailable naming
    the key id when these keys cannot unwrap it; CorruptFile when the record is malformed."""
    owner = f"file {file_id!r}"
    found = WrappedFileKey.from_document(recorded, owner)
    data_key = await _unwrapped(encryption, found.key, owner)
    cipher = FileCipher(found.algorithm, data_key, file_id, chunk_size)
    return NewFileKey(found.algorithm, cipher, found.key)


async def cipher_for(encryption: Encryption | None, info: FileInfo) -> FileCipher | None:
    """The cipher that opens the chunks of the file ``info`` describes (None: the file is
    not encrypted). KeyUnavailable naming the key id when the store cannot unwrap its data
    key; CorruptFile when the files document's length or chunk size was altered."""
    if info.encryption is None:
        return None
    record = EncryptionRecord.from_document(info.encryption, info.file_id)
    data_key = await _unwrapped(encryption, record.key, f"file {info.file_id!r}")
    cipher = FileCipher(record.algorithm, data_key, info.file_id, info.chunk_size)
    cipher.check_length(info.length, record.seal)
    return cipher


async def rewrapped(encryption: Encryption, info: FileInfo) -> dict[str, Any] | None:
    """The ``gridfield.encryption`` subdocument of ``info``'s file with its data key wrapped
    by the current key-encryption key, or None when that key wrapped it already."""
    assert info.encryption is not None
    record = EncryptionRecord.from_document(info.encryption, info.file_id)
    if encryption.keys.wrapping_key == (record.key.kind, record.key.key_id):
        return None
    data_key = await _unwrapped(encryption, record.key, f"file {info.file_id!r}")
    wrapped = await _call(encryption, encryption.keys.wrap, data_key)
    return EncryptionRecord(record.algorithm, wrapped, record.seal).to_document()


async def rewrapped_file_key(
    encryption: Encryption, recorded: Mapping[str, Any], owner: str
) -> dict[str, Any] | None:
    """A resumable upload's recorded data key (``recorded``) wrapped by the current
    key-encryption key, or None when that key wrapped it already."""
    found = WrappedFileKey.from_document(recorded, owner)
    if encryption.keys.wrapping_key == (found.key.kind, found.key.key_id):
        return None
    data_key = await _unwrapped(encryption, found.key, owner)
    wrapped = await _call(encryption, encryption.keys.wrap, data_key)
    return WrappedFileKey(found.algorithm, wrapped).to_document()

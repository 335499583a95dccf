"""Files encrypted on the client: a data key per file, each chunk sealed with an AEAD cipher,
and the record of it in the files document (no key material in clear).

Layout of an encrypted file (``gridfield.encryption`` in its files document):

- ``length`` and ``chunkSize`` are the plaintext's, as for any file, so ranges map onto
  chunks as usual;
- each chunk's ``data`` is ``nonce (12 bytes) + ciphertext + tag (16 bytes)``: 28 bytes
  longer than the GridFS layout says it should be, so PyMongo's gridfs (and MongoEngine,
  mongofiles) refuse it as a corrupt chunk instead of handing out ciphertext as the file;
- the associated data of chunk ``n`` binds it to the file's id, its chunk size and ``n``:
  a chunk moved to another file, put at another place, or cut short fails its tag;
- a ``seal`` binds the same to the file's length: a files document whose length was
  changed (say, to drop the last chunk) fails before any byte is handed out.

Nonces are the chunk number (4 bytes) followed by 8 random bytes: two chunks of one file
never share one, and the random part keeps a chunk written again at the same place (a
resumed upload, a PATCH written again after one that was refused) from repeating the nonce
under the file's key. The seal uses chunk number ``2**32 - 1``, which no chunk may have.

A resumable (tus) upload gets its data key when it is created, wrapped (``WrappedFileKey``)
in its registry entry, so whichever process serves a later request seals under the same key.
The partial last chunk it keeps there between requests (its tail) is sealed too, bound to
the file and to the upload's offset (``seal_tail``), with a nonce of the chunk number it will
become and 8 random bytes, as a chunk's.

The key that wraps each file's data key (the key-encryption key) is the app's:
``LocalKeys`` here (keys the app holds, by id), or ``gridfield.key_vault.KeyVaultKeys``
(PyMongo's ``ClientEncryption`` and its key vault: local master key, AWS, Azure, GCP,
KMIP). Both answer the ``KeyEncryptionKeys`` protocol.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import bson
from bson.binary import Binary

from .errors import CorruptFile, GridFSError
from .extras import missing_extra

__all__ = [
    "ALGORITHMS",
    "CHUNK_OVERHEAD",
    "ENCRYPTION_FIELD",
    "Encryption",
    "EncryptionRecord",
    "FileCipher",
    "KeyEncryptionKeys",
    "KeyUnavailable",
    "LocalKeys",
    "WrappedFileKey",
    "WrappedKey",
    "new_file_key",
]

ALGORITHMS = ("AES-256-GCM", "ChaCha20-Poly1305")
"""The AEAD ciphers a file may be sealed with (both from the ``cryptography`` package)."""

_NONCE = 12
_TAG = 16
CHUNK_OVERHEAD = _NONCE + _TAG
"""Bytes a sealed chunk holds beyond its plaintext."""

ENCRYPTION_FIELD = "gridfield.encryption"
"""Where a files document records that (and how) its chunks are encrypted."""

_FORMAT = 1
_SEAL_N = 2**32 - 1
_MAX_CHUNKS = _SEAL_N  # chunk numbers 0 .. 2**32 - 2
_KEY_BYTES = 32


class KeyUnavailable(GridFSError):
    """An encrypted file's data key cannot be unwrapped: its key id is not among the keys
    this store was given, or the key under that id is not the one that wrapped it."""


class _Aead(Protocol):
    """What both ciphers of the cryptography package offer."""

    def encrypt(
        self, nonce: bytes | memoryview, data: bytes | memoryview, associated_data: bytes
    ) -> bytes: ...

    def decrypt(
        self, nonce: bytes | memoryview, data: bytes | memoryview, associated_data: bytes
    ) -> bytes: ...


def _aead(algorithm: str, key: bytes) -> _Aead:
    """The cipher object for ``algorithm``; ImportError naming the extra without it."""
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
    except ImportError as exc:  # the extra is missing: say which one
        raise missing_extra(__name__, exc, "encryption") from exc
    if algorithm == "AES-256-GCM":
        return AESGCM(key)
    if algorithm == "ChaCha20-Poly1305":
        return ChaCha20Poly1305(key)
    raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, not {algorithm!r}")


def _invalid_tag() -> type[Exception]:
    from cryptography.exceptions import InvalidTag

    return InvalidTag


def new_file_key() -> bytes:
    """A fresh random data key (32 bytes), one per file."""
    return os.urandom(_KEY_BYTES)


@dataclasses.dataclass(frozen=True)
class WrappedKey:
    """A file's data key as a key-encryption key wrapped it: which key (``key_id``, a str
    for ``LocalKeys``, the key vault's UUID for ``KeyVaultKeys``), by what (``kind``), and
    the wrapped bytes."""

    kind: str
    key_id: Any
    wrapped: bytes


@runtime_checkable
class KeyEncryptionKeys(Protocol):
    """What wraps and unwraps the data keys of files: the app's key-encryption keys.

    ``does_io`` says whether wrapping talks to a server (a key vault, a KMS): the async API
    then runs it off the event loop.
    """

    does_io: bool

    @property
    def wrapping_key(self) -> tuple[str, Any]:
        """The kind and id of the key that wraps new data keys (what ``wrap`` records)."""
        ...

    def wrap(self, data_key: bytes) -> WrappedKey:
        """Wrap a new file's data key with the current key."""
        ...

    def unwrap(self, wrapped: WrappedKey) -> bytes:
        """The data key of a stored file; KeyUnavailable naming the key id if it cannot."""
        ...


def _wrap_context(key_id: str) -> bytes:
    return b"gridfield data key\x00" + key_id.encode("utf-8")


class LocalKeys:
    """Key-encryption keys the app holds: 32-byte keys by id (``{"2026-12": key}``), the
    ``current`` one wrapping new files' data keys (default: the last one given).

    Keep the older keys in the ring while files wrapped by them remain, or re-wrap them
    with the store's ``rewrap_keys()`` (no chunk is rewritten).
    """

    does_io = False

    def __init__(self, keys: Mapping[str, bytes], current: str | None = None) -> None:
        if not isinstance(keys, Mapping) or not keys:
            raise ValueError("keys must be a non-empty mapping of key id -> 32-byte key")
        for key_id, key in keys.items():
            if not isinstance(key_id, str) or not key_id:
                raise TypeError(f"a key id must be a non-empty str, not {key_id!r}")
            if not isinstance(key, (bytes, bytearray)) or len(key) != _KEY_BYTES:
                raise ValueError(
                    f"key {key_id!r} must be {_KEY_BYTES} bytes (os.urandom({_KEY_BYTES}))"
                )
        self._keys = {key_id: bytes(key) for key_id, key in keys.items()}
        self.current = list(keys)[-1] if current is None else current
        """The id of the key that wraps new files' data keys."""
        if self.current not in self._keys:
            raise ValueError(f"current key id {self.current!r} is not among the keys given")

    def __repr__(self) -> str:  # never the keys themselves
        return f"LocalKeys(ids={list(self._keys)!r}, current={self.current!r})"

    @property
    def wrapping_key(self) -> tuple[str, Any]:
        """``("local", current)``."""
        return ("local", self.current)

    @property
    def key_ids(self) -> list[str]:
        """The ids of the keys held."""
        return list(self._keys)

    def wrap(self, data_key: bytes) -> WrappedKey:
        """Wrap ``data_key`` with the current key (AES-256-GCM, bound to the key id)."""
        nonce = os.urandom(_NONCE)
        sealed = _aead("AES-256-GCM", self._keys[self.current]).encrypt(
            nonce, data_key, _wrap_context(self.current)
        )
        return WrappedKey("local", self.current, nonce + sealed)

    def unwrap(self, wrapped: WrappedKey) -> bytes:
        """The data key ``wrapped`` holds; KeyUnavailable if its key is not here or wrong."""
        key_id = wrapped.key_id
        if wrapped.kind != "local" or key_id not in self._keys:
            raise KeyUnavailable(
                f"the data key was wrapped by {wrapped.kind} key {key_id!r}, which is not"
                f" among this store's local keys ({', '.join(map(repr, self._keys))})"
            )
        blob = wrapped.wrapped
        try:
            return bytes(
                _aead("AES-256-GCM", self._keys[key_id]).decrypt(
                    blob[:_NONCE], blob[_NONCE:], _wrap_context(key_id)
                )
            )
        except _invalid_tag():
            raise KeyUnavailable(
                f"local key {key_id!r} does not unwrap the data key: it is not the key of"
                " that id that wrapped it (or the wrapped key was altered)"
            ) from None


@dataclasses.dataclass(frozen=True)
class Encryption:
    """How a store encrypts files: with ``keys`` (``LocalKeys`` or ``KeyVaultKeys``) and
    ``algorithm`` (``"AES-256-GCM"``, the default, or ``"ChaCha20-Poly1305"``).

    A store given one encrypts every new file (a call may say ``encrypt=False``) and reads
    every encrypted file whose key it holds.
    """

    keys: KeyEncryptionKeys
    algorithm: str = "AES-256-GCM"

    def __post_init__(self) -> None:
        if not isinstance(self.keys, KeyEncryptionKeys):
            raise TypeError(
                "keys must be a LocalKeys or KeyVaultKeys (wrap/unwrap/does_io),"
                f" not {type(self.keys).__name__}"
            )
        if self.algorithm not in ALGORITHMS:
            raise ValueError(
                f"algorithm must be one of {', '.join(ALGORITHMS)}, not {self.algorithm!r}"
            )
        _aead(self.algorithm, bytes(_KEY_BYTES))  # ImportError here, not at the first upload


@dataclasses.dataclass(frozen=True)
class EncryptionRecord:
    """What the files document of an encrypted file says under ``gridfield.encryption``."""

    algorithm: str
    key: WrappedKey
    seal: bytes

    def to_document(self) -> dict[str, Any]:
        """The subdocument stored (binary values as BSON binary): the wrapped file key's,
        and the seal of the length."""
        wrapped = WrappedFileKey(self.algorithm, self.key).to_document()
        return {**wrapped, "seal": Binary(self.seal)}

    @classmethod
    def from_document(cls, value: object, file_id: Any) -> EncryptionRecord:
        """Read the subdocument; CorruptFile if it is not one this version can read."""
        if not isinstance(value, Mapping):
            raise CorruptFile(f"file {file_id!r}: gridfield.encryption is not a document")
        if value.get("v") != _FORMAT:
            raise CorruptFile(
                f"file {file_id!r}: encryption format {value.get('v')!r} is not {_FORMAT}"
            )
        seal = value.get("seal")
        key = _wrapped_file_key(value)
        if key is None or not isinstance(seal, bytes) or len(seal) != CHUNK_OVERHEAD:
            raise CorruptFile(f"file {file_id!r}: gridfield.encryption is malformed")
        return cls(key.algorithm, key.key, bytes(seal))


def _wrapped_file_key(value: Mapping[str, Any]) -> WrappedFileKey | None:
    """The cipher and wrapped data key a record names (None if they are malformed)."""
    algorithm, kind, wrapped = value.get("alg"), value.get("kek"), value.get("wrappedKey")
    if (
        algorithm not in ALGORITHMS
        or not isinstance(kind, str)
        or "keyId" not in value
        or not isinstance(wrapped, bytes)
    ):
        return None
    return WrappedFileKey(str(algorithm), WrappedKey(kind, value["keyId"], bytes(wrapped)))


@dataclasses.dataclass(frozen=True)
class WrappedFileKey:
    """The cipher and the wrapped data key of a file still being written: what a resumable
    upload's registry entry holds from its creation on (its file's record, once stored,
    adds the seal of the length)."""

    algorithm: str
    key: WrappedKey

    def to_document(self) -> dict[str, Any]:
        """The subdocument stored (the wrapped key as BSON binary; no key in clear)."""
        return {
            "v": _FORMAT,
            "alg": self.algorithm,
            "kek": self.key.kind,
            "keyId": self.key.key_id,
            "wrappedKey": Binary(self.key.wrapped),
        }

    @classmethod
    def from_document(cls, value: object, owner: str) -> WrappedFileKey:
        """Read the subdocument; CorruptFile naming ``owner`` (what holds it) if it is not
        one this version can read."""
        if not isinstance(value, Mapping) or value.get("v") != _FORMAT:
            raise CorruptFile(f"{owner}: its data key record is not one of format {_FORMAT}")
        key = _wrapped_file_key(value)
        if key is None:
            raise CorruptFile(f"{owner}: its data key record is malformed")
        return key


class FileCipher:
    """Seals and opens the chunks of one file under its data key."""

    def __init__(self, algorithm: str, data_key: bytes, file_id: Any, chunk_size: int) -> None:
        self.algorithm = algorithm
        self.file_id = file_id
        self.chunk_size = chunk_size
        self._aead = _aead(algorithm, data_key)
        self._bound = bson.encode({"f": file_id, "c": chunk_size})
        self._chunk_context = b"gridfield chunk\x00" + self._bound
        self._invalid = _invalid_tag()

    def _corrupt(self, message: str) -> CorruptFile:
        return CorruptFile(f"file {self.file_id!r}: {message}")

    def seal_chunk(self, n: int, data: bytes | memoryview) -> bytes:
        """The stored form of chunk ``n`` holding ``data``."""
        if not 0 <= n < _MAX_CHUNKS:
            raise ValueError(f"an encrypted file has at most {_MAX_CHUNKS} chunks, not {n + 1}")
        nonce = n.to_bytes(4, "big") + os.urandom(_NONCE - 4)
        return nonce + self._aead.encrypt(nonce, data, self._chunk_context + n.to_bytes(8, "big"))

    def open_chunk(self, n: int, stored: bytes) -> bytes:
        """The plaintext of chunk ``n`` from its stored form; CorruptFile if it was not
        sealed as chunk ``n`` of this file by its key, or was altered."""
        if len(stored) < CHUNK_OVERHEAD or not 0 <= n < _MAX_CHUNKS:
            raise self._corrupt(f"chunk {n} is too short to be an encrypted chunk")
        view = memoryview(stored)
        try:
            return bytes(
                self._aead.decrypt(
                    view[:_NONCE], view[_NONCE:], self._chunk_context + n.to_bytes(8, "big")
                )
            )
        except self._invalid:
            raise self._corrupt(
                f"chunk {n} fails authentication: it was altered, or belongs to another file"
                " or another place in this one"
            ) from None

    def _tail_context(self, offset: int) -> bytes:
        return b"gridfield tail\x00" + self._bound + offset.to_bytes(8, "big")

    def seal_tail(self, offset: int, data: bytes | memoryview) -> bytes:
        """The stored form of the partial last chunk ``data`` of an unfinished upload whose
        first ``offset`` bytes are received (``data`` their last ``offset % chunk_size``)."""
        n = offset // self.chunk_size
        if not 0 <= n < _MAX_CHUNKS:
            raise ValueError(f"an encrypted file has at most {_MAX_CHUNKS} chunks, not {n + 1}")
        nonce = n.to_bytes(4, "big") + os.urandom(_NONCE - 4)
        return nonce + self._aead.encrypt(nonce, data, self._tail_context(offset))

    def open_tail(self, offset: int, stored: bytes) -> bytes:
        """The partial last chunk of an unfinished upload at ``offset`` from its stored
        form; CorruptFile if it was not sealed for this file at this offset, or was
        altered."""
        if len(stored) < CHUNK_OVERHEAD or offset < 0:
            raise self._corrupt(f"the partial chunk at offset {offset} is too short")
        view = memoryview(stored)
        try:
            return bytes(
                self._aead.decrypt(view[:_NONCE], view[_NONCE:], self._tail_context(offset))
            )
        except self._invalid:
            raise self._corrupt(
                f"the partial chunk kept at offset {offset} fails authentication: it was"
                " altered, or belongs to another upload or another offset"
            ) from None

    def _length_context(self, length: int) -> bytes:
        return b"gridfield length\x00" + self._bound + length.to_bytes(8, "big")

    def seal_length(self, length: int) -> bytes:
        """The seal binding the file to ``length`` (stored in its record)."""
        nonce = _SEAL_N.to_bytes(4, "big") + os.urandom(_NONCE - 4)
        return nonce + self._aead.encrypt(nonce, b"", self._length_context(length))

    def check_length(self, length: int, seal: bytes) -> None:
        """CorruptFile unless ``seal`` binds this file to ``length``."""
        try:
            self._aead.decrypt(seal[:_NONCE], seal[_NONCE:], self._length_context(length))
        except self._invalid:
            raise self._corrupt(
                f"its length ({length}) or chunk size ({self.chunk_size}) is not the one it"
                " was encrypted with (the files document was altered)"
            ) from None

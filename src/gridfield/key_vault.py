"""Data keys of encrypted files wrapped through PyMongo's ``ClientEncryption`` and its key
vault (the ``key-vault`` extra: ``pip install "gridfield[key-vault]"``).

The key vault holds the key-encryption key, itself wrapped by a master key in a KMS (a
local master key, AWS, Azure, GCP or KMIP: whatever ``ClientEncryption`` was given). A
file's data key is encrypted with it by explicit encryption
(``AEAD_AES_256_CBC_HMAC_SHA_512-Random``) and stored, so encrypted, in the file's files
document. Rotating the master key is ``ClientEncryption.rewrap_many_data_key``: nothing of
gridfield's changes. Moving files to another key vault key is the store's
``rewrap_keys()`` with a ``KeyVaultKeys`` of that key.

``ClientEncryption`` is PyMongo's sync class in both APIs: it talks to the key vault and
the KMS, and the async API runs it off the event loop.
"""

from __future__ import annotations

import importlib
from typing import Any

from bson.binary import Binary

from .core.encryption import KeyUnavailable, WrappedKey
from .core.extras import missing_extra

__all__ = ["KeyVaultKeys"]

_KIND = "keyVault"
_ENCRYPTED_SUBTYPE = 6


def _encryption_module() -> Any:
    try:
        import pymongo.encryption as encryption

        importlib.import_module("pymongocrypt")  # what ClientEncryption needs at run time
    except ImportError as exc:  # the extra is missing: say which one
        raise missing_extra(__name__, exc, "key-vault") from exc
    return encryption


class KeyVaultKeys:
    """Key-encryption keys in a MongoDB key vault, used through ``client_encryption`` (a
    ``pymongo.encryption.ClientEncryption``): ``key_id`` (the data key's UUID, a
    ``bson.Binary`` of subtype 4) or ``key_alt_name`` names the one that wraps new files'
    data keys; any key of the vault unwraps (the wrapped value names its own key)."""

    does_io = True

    def __init__(
        self,
        client_encryption: Any,
        key_id: Binary | None = None,
        *,
        key_alt_name: str | None = None,
    ) -> None:
        module = _encryption_module()
        if not isinstance(client_encryption, module.ClientEncryption):
            raise TypeError(
                "client_encryption must be a pymongo.encryption.ClientEncryption,"
                f" not {type(client_encryption).__name__}"
            )
        if (key_id is None) == (key_alt_name is None):
            raise ValueError("give key_id or key_alt_name (one of them)")
        if key_id is not None and not isinstance(key_id, Binary):
            raise TypeError(f"key_id must be a bson.Binary UUID, not {type(key_id).__name__}")
        if key_alt_name is not None and not isinstance(key_alt_name, str):
            raise TypeError(f"key_alt_name must be a str, not {type(key_alt_name).__name__}")
        self._client_encryption = client_encryption
        self._algorithm = module.Algorithm.AEAD_AES_256_CBC_HMAC_SHA_512_Random
        self._errors = (module.EncryptionError,)
        self.key_id = key_id
        self.key_alt_name = key_alt_name

    def __repr__(self) -> str:
        return f"KeyVaultKeys({self._named!r})"

    @property
    def _named(self) -> Any:
        return self.key_id if self.key_id is not None else self.key_alt_name

    @property
    def wrapping_key(self) -> tuple[str, Any]:
        """``("keyVault", key_id or key_alt_name)``."""
        return (_KIND, self._named)

    def wrap(self, data_key: bytes) -> WrappedKey:
        """Encrypt ``data_key`` with the key vault's key (one key vault lookup, cached by
        libmongocrypt)."""
        try:
            wrapped = self._client_encryption.encrypt(
                Binary(data_key),
                self._algorithm,
                key_id=self.key_id,
                key_alt_name=self.key_alt_name,
            )
        except self._errors as exc:
            raise KeyUnavailable(f"key vault key {self._named!r} cannot wrap: {exc}") from exc
        return WrappedKey(_KIND, self._named, bytes(wrapped))

    def unwrap(self, wrapped: WrappedKey) -> bytes:
        """The data key ``wrapped`` holds; KeyUnavailable naming its key otherwise."""
        if wrapped.kind != _KIND:
            raise KeyUnavailable(
                f"the data key was wrapped by {wrapped.kind} key {wrapped.key_id!r}, not by a"
                " key vault key"
            )
        try:
            value = self._client_encryption.decrypt(Binary(wrapped.wrapped, _ENCRYPTED_SUBTYPE))
        except self._errors as exc:
            raise KeyUnavailable(
                f"key vault key {wrapped.key_id!r} does not unwrap the data key: {exc}"
            ) from None
        if not isinstance(value, bytes) or len(value) != 32:
            raise KeyUnavailable(
                f"key vault key {wrapped.key_id!r} unwrapped something other than a data key"
            )
        return bytes(value)

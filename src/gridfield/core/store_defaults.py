"""A store's defaults as one value: what every file coming into a bucket through that store
gets unless its upload says otherwise.

A store (and a FileField, which makes its store from it) holds one ``StoreDefaults``; each
upload's ``UploadOptions`` are resolved against it once, in ``resolve``, whatever the way in:
``put``/``open_upload``, a field, an image field, a web intake, Django storage, a tus
completion or concatenation.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from .dedup import check_scope
from .encryption import Encryption
from .expiry import check_expiry
from .files_document import DEFAULT_CHUNK_SIZE, check_chunk_size
from .guards import UploadLimits
from .upload_options import ENCRYPTED_DEDUP_REFUSED, UploadOptions

__all__ = ["FieldDefaults", "StoreDefaults"]


@dataclasses.dataclass(frozen=True)
class StoreDefaults:
    """``chunk_size`` of new files; ``limits`` every upload gets (a call may tighten them);
    ``expire_after``: how long files live unless a call gives its own expiry (None: for
    ever); ``dedup_scope``: the scope every upload deduplicates in unless a call says
    ``dedup=False`` or names another (None: no deduplication); ``encryption``: the keys and
    cipher every file is encrypted with unless a call says ``encrypt=False``, and that open
    the encrypted files whose keys it holds (None: nothing is encrypted). An encrypted file
    is never deduplicated: the store's ``dedup_scope`` gives way to it."""

    chunk_size: int = DEFAULT_CHUNK_SIZE
    limits: UploadLimits = dataclasses.field(default_factory=UploadLimits)
    expire_after: timedelta | None = None
    dedup_scope: str | None = None
    encryption: Encryption | None = None

    def __post_init__(self) -> None:
        check_chunk_size(self.chunk_size)
        if not isinstance(self.limits, UploadLimits):
            raise TypeError(f"limits must be an UploadLimits, not {type(self.limits).__name__}")
        check_expiry(expire_after=self.expire_after)
        check_scope(self.dedup_scope, "dedup_scope")
        if self.encryption is not None and not isinstance(self.encryption, Encryption):
            raise TypeError(
                f"encryption must be an Encryption, not {type(self.encryption).__name__}"
            )

    def but(self, **changes: Any) -> StoreDefaults:
        """These defaults with ``changes`` (checked as any new value)."""
        return dataclasses.replace(self, **changes)

    def resolve(self, options: UploadOptions) -> tuple[UploadOptions, UploadLimits]:
        """``options`` with these defaults applied where the call gave none (chunk size,
        expiry, scope) and ``dedup`` decided, and the limits the upload gets (these, with
        the call's own taking over). ValueError for deduplication with no scope to do it in,
        or declared bytes without deduplication."""
        changes: dict[str, Any] = {}
        if options.chunk_size is None:
            changes["chunk_size"] = self.chunk_size
        if options.expiry is None and self.expire_after is not None:
            changes["expire_after"] = self.expire_after
        scope = options.scope if options.scope is not None else self.dedup_scope
        encrypt = options.encrypt if options.encrypt is not None else self.encryption is not None
        if encrypt and self.encryption is None:
            raise ValueError(
                "encrypt=True needs a store with keys: FileStore(..., encryption=Encryption(...))"
            )
        # An encrypted file is never deduplicated: the store's default gives way to it.
        dedup = (
            options.dedup
            if options.dedup is not None
            else (self.dedup_scope is not None and not encrypt)
        )
        if dedup and encrypt:
            raise ValueError(ENCRYPTED_DEDUP_REFUSED)
        if dedup and scope is None:
            raise ValueError(
                "dedup=True needs a scope: scope= (or the store's dedup_scope=) names who may "
                "share stored files, e.g. a tenant or a user ('' for the whole bucket)"
            )
        if options.sha256 is not None and not dedup:
            raise ValueError(
                "sha256 and length declare a file to deduplicate: give dedup=True and a scope"
            )
        changes.update(scope=scope, dedup=dedup, encrypt=encrypt)
        return options.but(**changes), options.limits_over(self.limits)


class FieldDefaults:
    """The defaults of a FileField and of its values, read one by one: what every file
    stored through the field gets. A mixin over a ``defaults`` attribute (a
    ``StoreDefaults``), so the field and its proxy answer the same from one place."""

    defaults: StoreDefaults

    @property
    def limits(self) -> UploadLimits | None:
        """Upload guards for every file stored through the field (None: none)."""
        return self.defaults.limits if self.defaults.limits.active else None

    @property
    def expire_after(self) -> timedelta | None:
        """How long files stored through the field live (None: for ever)."""
        return self.defaults.expire_after

    @property
    def dedup_scope(self) -> str | None:
        """The scope uploads through the field deduplicate in (None: none)."""
        return self.defaults.dedup_scope

    @property
    def encryption(self) -> Encryption | None:
        """How files stored through the field are encrypted, and opened (None: they are
        not)."""
        return self.defaults.encryption

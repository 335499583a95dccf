"""Signed, expiring URLs, sans I/O: the keys, the signature a URL carries and its check.

A signed URL names one file (by id, or by name and revision), an expiry, and optionally a
download disposition and the methods allowed; an HMAC-SHA256 over all of them, the URL's
path and every byte of its query before the signature is the last query parameter, with the
id of the key that made it::

    /media/report.pdf?expires=1767225600&kid=k2&download=1&sig=3vQ...

Several keys verify, the first one signs (key rotation): a URL signed with a key no longer
listed (retired) is refused. There is no default key, and a key shorter than
``MIN_SECRET_BYTES`` is refused when the ``UrlSigning`` value is made.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

from bson import ObjectId

from ..expiry import earliest
from .plan import ResponsePlan

__all__ = [
    "DEFAULT_SKEW",
    "MIN_SECRET_BYTES",
    "SIGNED_METHODS",
    "FileRef",
    "RequestUrl",
    "SignatureCheck",
    "SigningKey",
    "UrlSigning",
    "canonical_path",
    "forbidden",
]

MIN_SECRET_BYTES = 32
"""The shortest secret a signing key may have (256 bits, the size of the HMAC-SHA256 output)."""

DEFAULT_SKEW = timedelta(seconds=30)
"""How long past its expiry a signed URL is still answered by default (clocks differ)."""

SIGNED_METHODS = ("GET", "HEAD")
"""The methods a signed URL may allow."""

_VERSION = "gridfield-signed-url-1"
_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_OWN = ("expires", "kid", "download", "methods", "rev", "sig")
# Kept unencoded in the canonical path: RFC 3986 pchar minus what a server would decode.
_PATH_SAFE = "/!$&'()*+,;=:@-._~"


@dataclass(frozen=True, repr=False)
class SigningKey:
    """One key: ``key_id`` (letters, digits, ``_ . -``; it goes in the URL) and ``secret``
    (bytes, or a str taken as UTF-8), at least ``MIN_SECRET_BYTES`` long. Its repr hides the
    secret."""

    key_id: str
    secret: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.key_id, str) or not _KEY_ID.fullmatch(self.key_id):
            raise ValueError(
                f"a signing key id must be 1 to 64 letters, digits, '_', '.' or '-',"
                f" not {self.key_id!r}"
            )
        secret: Any = self.secret
        if isinstance(secret, str):
            secret = secret.encode("utf-8")
            object.__setattr__(self, "secret", secret)
        if not isinstance(secret, bytes):
            raise TypeError(
                f"signing key {self.key_id!r}: the secret must be bytes or str,"
                f" not {type(secret).__name__}"
            )
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(
                f"signing key {self.key_id!r} is {len(secret)} bytes: a secret of at least"
                f" {MIN_SECRET_BYTES} bytes is needed (secrets.token_bytes(32) makes one)"
            )

    def __repr__(self) -> str:
        return f"SigningKey({self.key_id!r}, <{len(self.secret)} bytes>)"


@dataclass(frozen=True)
class FileRef:
    """The file a URL names: by ``file_id``, or by ``filename`` and ``revision`` (None: the
    newest, as serving by filename answers; 0 the first, -1 the newest, -2 the one before)."""

    file_id: Any = None
    filename: str | None = None
    revision: int | None = None

    def __post_init__(self) -> None:
        if (self.file_id is None) == (self.filename is None):
            raise ValueError("a FileRef names a file by file_id or by filename, one of them")
        if self.revision is not None and (
            isinstance(self.revision, bool) or not isinstance(self.revision, int)
        ):
            raise TypeError(f"revision must be an int, not {type(self.revision).__name__}")

    def text(self) -> str:
        """What the signature covers of this reference, typed so no two refs share it."""
        if self.filename is not None:
            return f"name:{self.filename}"
        value = self.file_id
        if isinstance(value, ObjectId):
            return f"oid:{value}"
        if isinstance(value, str):
            return f"str:{value}"
        if isinstance(value, int) and not isinstance(value, bool):
            return f"int:{value}"
        raise TypeError(
            f"a signed URL names files by ObjectId, str or int id, not {type(value).__name__}"
        )


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no time zone: give an aware datetime")
    return moment.astimezone(timezone.utc)


def canonical_path(path: str) -> str:
    """A decoded request path as the signature covers it: percent-encoded one way only, so
    the signer's spelling and the server's decoded path give the same text."""
    return quote(path, safe=_PATH_SAFE)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class RequestUrl:
    """Where a request went, as a signature covers it: the ``path`` as the app sees it
    (decoded once, by the server, mount prefix included) and the ``query`` as sent."""

    path: str
    query: str


@dataclass(frozen=True)
class SignatureCheck:
    """What the check of a request's signature found: ``ok``, else ``reason`` (for the 403
    body); for a good one the moment it ``expires`` (responses are cached no longer), whether
    it asks for a ``download`` and the ``revision`` it names."""

    ok: bool
    reason: str = ""
    expires: datetime | None = None
    download: bool = False
    revision: int | None = None


@dataclass(frozen=True)
class UrlSigning:
    """The keys that sign and verify URLs: ``keys`` (``SigningKey`` values, or a mapping of
    key id -> secret), the first signs, every one verifies; a URL made with a key not listed
    is refused, which is how a key is retired. ``skew``: how long past its expiry a URL is
    still answered (clocks differ). Checked once, when made."""

    keys: tuple[SigningKey, ...]
    skew: timedelta = DEFAULT_SKEW
    _by_id: dict[str, SigningKey] = field(init=False, repr=False, compare=False)

    def __init__(
        self,
        keys: Iterable[SigningKey] | Mapping[str, bytes | str],
        *,
        skew: timedelta = DEFAULT_SKEW,
    ) -> None:
        if isinstance(keys, (bytes, str)):
            raise TypeError(
                "UrlSigning takes keys with their ids: [SigningKey('k1', secret)] or"
                " {'k1': secret}, not a bare secret"
            )
        if isinstance(keys, Mapping):
            listed = tuple(SigningKey(kid, secret) for kid, secret in keys.items())  # type: ignore[arg-type]
        else:
            listed = tuple(keys)
        if not listed:
            raise ValueError("UrlSigning needs at least one key: there is no default key")
        for key in listed:
            if not isinstance(key, SigningKey):
                raise TypeError(f"expected SigningKey values, not {type(key).__name__}")
        by_id: dict[str, SigningKey] = {}
        for key in listed:
            if key.key_id in by_id:
                raise ValueError(f"two signing keys have the id {key.key_id!r}")
            by_id[key.key_id] = key
        if not isinstance(skew, timedelta) or skew < timedelta(0):
            raise ValueError(f"skew must be a timedelta of zero or more, not {skew!r}")
        object.__setattr__(self, "keys", listed)
        object.__setattr__(self, "skew", skew)
        object.__setattr__(self, "_by_id", by_id)

    # -- signing ---------------------------------------------------------------------------

    def sign(
        self,
        url: str,
        ref: FileRef,
        expires: datetime,
        *,
        download: bool = False,
        methods: Iterable[str] = SIGNED_METHODS,
        file_expires: datetime | None = None,
    ) -> str:
        """``url`` (a path, or an absolute URL; a query of its own stays, signed) signed for
        the file ``ref`` names until ``expires`` (an aware datetime), or ``file_expires``
        when the file expires sooner: the URL ends with the file. ``download`` asks for an
        attachment; ``methods`` are those allowed (GET, HEAD or both)."""
        allowed = _methods(methods)
        until = earliest(_utc(expires), file_expires)
        assert until is not None
        parts = urlsplit(url)
        if any(name in _OWN for name, _ in parse_qsl(parts.query, keep_blank_values=True)):
            raise ValueError(f"the URL's query already has one of {_OWN}: {url!r}")
        params = [parts.query] if parts.query else []
        params += [f"expires={int(until.timestamp())}", f"kid={self.keys[0].key_id}"]
        if download:
            params.append("download=1")
        if allowed != SIGNED_METHODS:
            params.append(f"methods={','.join(allowed)}")
        if ref.revision is not None:
            params.append(f"rev={ref.revision}")
        signed = "&".join(params)
        path = canonical_path(unquote(parts.path) or "/")
        sig = self._mac(self.keys[0], path, ref, signed)
        return urlunsplit((parts.scheme, parts.netloc, path, f"{signed}&sig={sig}", ""))

    def sign_for(
        self,
        url: str,
        ref: FileRef,
        expires_in: timedelta,
        *,
        now: datetime | None = None,
        **options: Any,
    ) -> str:
        """``sign`` with an expiry ``expires_in`` from ``now`` (by default the current time)."""
        if not isinstance(expires_in, timedelta) or expires_in <= timedelta(0):
            raise ValueError(f"expires_in must be a positive timedelta, not {expires_in!r}")
        moment = datetime.now(timezone.utc) if now is None else _utc(now)
        return self.sign(url, ref, moment + expires_in, **options)

    def _mac(self, key: SigningKey, path: str, ref: FileRef, signed_query: str) -> str:
        message = "\n".join((_VERSION, key.key_id, path, ref.text(), signed_query))
        return _b64(hmac.new(key.secret, message.encode("utf-8"), hashlib.sha256).digest())

    # -- checking --------------------------------------------------------------------------

    def check(
        self,
        method: str,
        path: str,
        query: str,
        ref: FileRef,
        *,
        now: datetime | None = None,
    ) -> SignatureCheck:
        """Whether a request (``method``, its decoded ``path``, its raw ``query``) for the file
        ``ref`` names carries a good signature, unexpired at ``now`` (give ``ref`` without a
        revision: the one the URL signs is read from it)."""
        signed, sep, sig = query.rpartition("&sig=")
        if not sep:
            signed, sig = ("", query[4:]) if query.startswith("sig=") else ("", "")
        if not sig:
            return SignatureCheck(False, "the URL is not signed")
        values: dict[str, list[str]] = {}
        for name, value in parse_qsl(signed, keep_blank_values=True):
            values.setdefault(name, []).append(value)
        if any(len(values.get(name, ())) > 1 for name in _OWN):
            return SignatureCheck(False, "the URL's signature parameters are repeated")
        kid = values.get("kid", [""])[0]
        key = self._by_id.get(kid)
        if key is None:
            return SignatureCheck(False, "the URL was signed with an unknown or retired key")
        revision = _int(values.get("rev", [None])[0])
        if "rev" in values and (revision is None or ref.filename is None):
            return SignatureCheck(False, "the URL's signature does not match")
        try:
            expected = self._mac(key, canonical_path(path or "/"), ref, signed)
        except TypeError:
            return SignatureCheck(False, "the URL's signature does not match")
        if not hmac.compare_digest(expected.encode("ascii"), sig.encode("ascii", "replace")):
            return SignatureCheck(False, "the URL's signature does not match")
        stamp = _int(values.get("expires", [None])[0])
        if stamp is None:
            return SignatureCheck(False, "the URL has no expiry")
        expires = datetime.fromtimestamp(stamp, timezone.utc)
        moment = datetime.now(timezone.utc) if now is None else _utc(now)
        if moment > expires + self.skew:
            return SignatureCheck(False, f"the URL expired at {expires.isoformat()}")
        allowed = values.get("methods", [",".join(SIGNED_METHODS)])[0].split(",")
        if method.upper() not in allowed:
            return SignatureCheck(False, f"the URL allows {', '.join(allowed)}, not {method}")
        download = values.get("download", ["0"])[0] == "1"
        return SignatureCheck(True, expires=expires, download=download, revision=revision)


def _int(text: str | None) -> int | None:
    if text is None or not re.fullmatch(r"-?[0-9]{1,19}", text):
        return None
    return int(text)


def _methods(methods: Iterable[str]) -> tuple[str, ...]:
    if isinstance(methods, str):
        methods = [methods]
    chosen = {m.upper() for m in methods}
    if not chosen or not chosen <= set(SIGNED_METHODS):
        raise ValueError(f"a signed URL allows GET, HEAD or both, not {sorted(chosen)}")
    return tuple(m for m in SIGNED_METHODS if m in chosen)


def forbidden(method: str, reason: str) -> ResponsePlan:
    """403 for a request whose signature is missing, wrong, expired or for another method:
    the reason as plain text, stored by no cache."""
    body = f"Forbidden: {reason}\n".encode()
    return ResponsePlan(
        403,
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Cache-Control", "no-store"),
            ("Content-Length", str(len(body))),
        ],
        tail=body,
        send_body=method.upper() != "HEAD",
    )

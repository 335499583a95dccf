"""Key files for the command line: the key-encryption keys a command reads encrypted files
with, or encrypts new ones with, as ``LocalKeys`` (see docs/encryption.md).

A key file holds one key a line, ``KEYID:KEY`` with the 32-byte key in base64 (``openssl
rand -base64 32`` makes one); blank lines and lines starting with ``#`` are skipped. The
last key is the current one: it wraps the data keys of files written. The keys never
appear in a message.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

import click

from ..core.encryption import Encryption, LocalKeys

__all__ = ["parse_keys", "read_key_file"]

KEY_BYTES = 32


def parse_keys(text: str, where: str) -> Encryption:
    """The ``Encryption`` of a key file's text; ValueError naming the line at fault (never
    the key)."""
    keys: dict[str, bytes] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key_id, sep, encoded = line.partition(":")
        key_id = key_id.strip()
        if not sep or not key_id:
            raise ValueError(f"{where}, line {number}: write KEYID:KEY (KEY in base64)")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"{where}, line {number}: key {key_id!r} is not base64") from None
        if len(key) != KEY_BYTES:
            raise ValueError(
                f"{where}, line {number}: key {key_id!r} is {len(key)} bytes, not {KEY_BYTES}"
                " (openssl rand -base64 32 makes one)"
            )
        if key_id in keys:
            raise ValueError(f"{where}, line {number}: key {key_id!r} is given twice")
        keys[key_id] = key
    if not keys:
        raise ValueError(f"{where} holds no key (one KEYID:KEY a line)")
    return Encryption(LocalKeys(keys))


def read_key_file(path: str | None) -> Encryption | None:
    """The ``Encryption`` of the key file at ``path`` (None for none); a ClickException
    saying what is wrong with it."""
    if path is None:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"key file {path}: {exc}") from exc
    try:
        return parse_keys(text, f"key file {path}")
    except (ValueError, ImportError) as exc:
        raise click.ClickException(str(exc)) from exc

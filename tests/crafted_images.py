"""Images made to attack an ImageField: small files whose headers promise many pixels."""

from __future__ import annotations

import io
import os
import struct
import zlib

from PIL import Image


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A valid RGBA PNG of ``width`` x ``height`` transparent pixels: its rows of zeros are
    compressed as they are made, so 13000 x 13000 (676 MB decoded) is a 0.6 MB file."""
    row = b"\0" * (1 + 4 * width)  # filter byte, then the pixels
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def noise(size: tuple[int, int], image_format: str, mode: str = "RGB", **save: object) -> bytes:
    """An image of random pixels: no encoder shrinks it, so decoding costs all it can."""
    width, height = size
    img = Image.frombytes(mode, size, os.urandom(width * height * len(mode)))
    out = io.BytesIO()
    img.save(out, image_format, **save)  # type: ignore[arg-type]
    return out.getvalue()


def animated_gif(frames: int, size: tuple[int, int]) -> bytes:
    """A GIF of ``frames`` frames of random palette pixels."""
    width, height = size
    images = [Image.frombytes("P", size, os.urandom(width * height)) for _ in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:])
    return out.getvalue()

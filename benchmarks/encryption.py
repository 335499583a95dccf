"""Encryption and telemetry costs: the same file uploaded and downloaded encrypted
(AES-256-GCM, a local key) and in clear, interleaved round after round after a warm-up
(wall time and the client's CPU per MiB); and what the telemetry hooks cost when no
OpenTelemetry provider is set (per operation, against a small put).

    ./dev bench -- --measures encryption     (or: .venv/bin/python benchmarks/encryption.py)

The server is --uri, else $MONGODB_URI, else ``python -m scripts.mongo_server``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MiB = 2**20
KINDS = ("clear", "clear-no-sha256", "encrypted")
"""The same file stored in clear (with its SHA-256, the default), in clear without it, and
encrypted (which stores no SHA-256 of the plaintext)."""


def _timed(work: Any) -> tuple[float, float]:
    """Wall and CPU seconds of ``work()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure_encryption(uri: str, quick: bool, rounds: int | None = None) -> dict[str, Any]:
    """The measures of the module's docstring: seconds per round, every round's."""
    from pymongo import MongoClient

    from gridfield import telemetry
    from gridfield.core.encryption import Encryption, LocalKeys
    from gridfield.sync import FileStore

    mib = 16 if quick else 64
    rounds = rounds or (2 if quick else 5)
    name = f"bench_crypto_{uuid.uuid4().hex[:8]}"
    client: MongoClient[dict[str, object]] = MongoClient(uri)
    db = client[name]
    stores = {
        "clear": FileStore(db, "clear"),
        "clear-no-sha256": FileStore(db, "nosum"),
        "encrypted": FileStore(
            db, "sealed", encryption=Encryption(LocalKeys({"bench": os.urandom(32)}))
        ),
    }
    data = os.urandom(mib * MiB)
    times: dict[str, list[float]] = {
        f"{label}_{what}": []
        for label in stores
        for what in ("up_s", "up_cpu", "down_s", "down_cpu")
    }
    try:
        for store in stores.values():  # warm-up: indexes, connections, the key
            assert store.get(store.put(data[: 4 * MiB]).file_id) == data[: 4 * MiB]
        for _ in range(rounds):
            for label, store in stores.items():
                sha256 = label == "clear"  # the default; an encrypted file stores none
                wall, cpu = _timed(
                    lambda s=store, i=label, c=sha256: s.put(data, file_id=i, checksum=c)
                )
                times[f"{label}_up_s"].append(wall)
                times[f"{label}_up_cpu"].append(cpu)
                wall, cpu = _timed(lambda s=store, i=label: s.get(i))
                times[f"{label}_down_s"].append(wall)
                times[f"{label}_down_cpu"].append(cpu)
                store.delete(label)
        # The telemetry hooks with no provider: one quiet operation, begun, made current
        # and ended, as every store call does, timed over many.
        assert telemetry.begin("upload") is telemetry.NO_OPERATION, "a provider is set"
        count = 200_000
        start = time.perf_counter()
        for _ in range(count):
            op = telemetry.begin("upload", bucket="fs", file_id=1, encrypted=False)
            with op.current():
                op.moved(10, "uploaded")
            op.end()
        quiet_s = (time.perf_counter() - start) / count
        small = [os.urandom(8192) for _ in range(200)]
        plain = stores["clear"]
        start = time.perf_counter()
        for piece in small:
            plain.put(piece)
        small_put_s = (time.perf_counter() - start) / len(small)
    finally:
        client.drop_database(name)
        client.close()
    return {
        "size": mib * MiB,
        "rounds": rounds,
        **times,
        "quiet_operation_s": quiet_s,
        "small_put_s": small_put_s,
    }


def _mib_s(size: int, seconds: list[float]) -> float:
    return size / MiB / statistics.median(seconds)


def _ms_per_mib(size: int, seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000 / (size / MiB)


def summary(result: dict[str, Any]) -> list[str]:
    """The figures as lines of text."""
    size = result["size"]
    lines = [
        f"{size // MiB} MiB file, {result['rounds']} rounds interleaved after a warm-up (medians):"
    ]
    for way in ("up", "down"):
        for kind in KINDS:
            seconds, cpu = result[f"{kind}_{way}_s"], result[f"{kind}_{way}_cpu"]
            lines.append(
                f"  {'upload' if way == 'up' else 'download':8} {kind:16}"
                f" {_mib_s(size, seconds):7.1f} MiB/s {_ms_per_mib(size, cpu):6.2f} ms CPU/MiB"
            )
        added = _ms_per_mib(size, result[f"encrypted_{way}_cpu"]) - _ms_per_mib(
            size, result[f"clear-no-sha256_{way}_cpu"]
        )
        lines.append(f"  CPU the cipher adds to an unhashed clear file: {added:+.2f} ms/MiB")
    quiet, small = result["quiet_operation_s"], result["small_put_s"]
    lines.append(
        f"  telemetry with no provider: {quiet * 1e9:.0f} ns per operation,"
        f" {quiet / small * 100:.4f} % of an 8 KiB put ({small * 1000:.2f} ms)"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", default=os.environ.get("MONGODB_URI"))
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    uri = args.uri
    if not uri:
        from scripts.mongo_server import server_uri

        uri = server_uri()
    result = measure_encryption(uri, args.quick, args.rounds)
    print(f"server {uri}")
    print("\n".join(summary(result)))


if __name__ == "__main__":
    main()

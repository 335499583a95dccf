"""Benchmark gridfield against PyMongo, Motor, MongoEngine and mongomotor; write BENCHMARKS.md.

    python benchmarks/run.py            # the full run (see benchmarks/README.md), about 20 min
    python benchmarks/run.py --quick    # a smoke run: small sizes, two rounds
    python benchmarks/run.py --report-only   # rewrite BENCHMARKS.md and the chart from results.json

Each system runs in a worker process of its own; the coordinator interleaves them
(A B C ... A B C ...) round after round, after a warm-up. Memory is measured in a fresh
process per system and direction. The server is --uri, $MONGODB_URI (`./dev bench` exports
it), or else `python -m scripts.mongo_server`.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import platform
import random
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psutil
from bson import json_util

from probes import KiB, MiB
from systems import BY_KEY, FLOOR_CHUNK, SYSTEMS

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RANGED_SEED = 7
# Measured by gridfield alone, in benchmarks/serving.py, intake.py, django_intake.py,
# django_storage.py and tus_upload.py
OWN_MEASURES = (
    "serving",
    "intake",
    "checksum",
    "dedup",
    "encryption",
    "django_intake",
    "django_storage",
    "tus",
    "server_scale",
    "fsspec",
    "copy",
)
MEASURES = ("large", "small", "ranged", "cpu", "memory", *OWN_MEASURES)


@dataclasses.dataclass(frozen=True)
class Plan:
    """How much of everything one run does."""

    rounds: int
    large: tuple[tuple[int, int], ...]  # (file size, files per sample)
    small_total: int  # puts (and reads) per system, spread over the rounds
    small_size: int
    small_group: int  # files put, read back and removed together (see worker.small)
    ranged_file: int
    ranged_total: int  # reads per system, spread over the rounds
    ranged_length: int
    ranged_cap: float  # seconds a system may spend on one round of ranged reads
    memory_size: int
    memory_rounds: int
    memory_cap: float  # seconds a streaming download may take in the memory measure
    cpu_sizes: tuple[int, ...]  # file sizes of the client CPU measure
    slow_rate: float = 4.0  # MiB/s: a large download slower than this is stopped (min 10 s)

    def down_cap(self, size: int, count: int) -> float:
        return max(10.0, size * count / MiB / self.slow_rate)

    @classmethod
    def full(cls) -> Plan:
        return cls(
            rounds=5,
            large=((1 * MiB, 4), (16 * MiB, 1), (128 * MiB, 1)),
            small_total=2000,
            small_size=8 * KiB,
            small_group=5,
            ranged_file=64 * MiB,
            ranged_total=1000,
            ranged_length=64 * KiB,
            ranged_cap=3.0,
            memory_size=256 * MiB,
            memory_rounds=1,
            memory_cap=40.0,
            cpu_sizes=(16 * MiB, 64 * MiB),
        )

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            rounds=2,
            large=((1 * MiB, 2), (8 * MiB, 1)),
            small_total=100,
            small_size=8 * KiB,
            small_group=5,
            ranged_file=16 * MiB,
            ranged_total=60,
            ranged_length=64 * KiB,
            ranged_cap=2.0,
            memory_size=32 * MiB,
            memory_rounds=1,
            memory_cap=10.0,
            cpu_sizes=(4 * MiB, 16 * MiB),
        )


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- workers


class WorkerError(Exception):
    """A worker process died or answered nonsense."""


class Worker:
    """The coordinator's end of one system's worker process."""

    def __init__(self, key: str, uri: str, db_name: str, log_dir: Path) -> None:
        self.key = key
        self.log_path = log_dir / f"{key}.log"
        self.log = open(self.log_path, "ab")  # noqa: SIM115 (lives as long as the worker)
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "worker.py"), key, uri, db_name, "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            cwd=ROOT,
        )
        self.hello = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            raise WorkerError(
                f"worker {self.key} exited with status {self.process.returncode}; "
                f"see {self.log_path}"
            )
        reply: dict[str, Any] = json_util.loads(line)
        return reply

    def request(self, op: str, **arguments: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json_util.dumps({"op": op, **arguments}) + "\n")
        self.process.stdin.flush()
        return self._read()

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.request("quit")
            except (WorkerError, OSError):
                pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def run_once(key: str, uri: str, db_name: str, log_dir: Path, *args: str) -> dict[str, Any]:
    """Run a worker in a one-shot mode (a fresh process) and return its reply."""
    with open(log_dir / f"{key}.{args[0]}.log", "ab") as log:
        done = subprocess.run(
            [sys.executable, str(HERE / "worker.py"), key, uri, db_name, *args],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=ROOT,
            check=False,
        )
    lines = done.stdout.strip().splitlines()
    if not lines:
        return {"error": f"worker exited with status {done.returncode}; see {log.name}"}
    reply: dict[str, Any] = json_util.loads(lines[-1])
    return reply


# --------------------------------------------------------------------------- environment


def server_uri(given: str | None) -> str:
    """--uri, else $MONGODB_URI (`./dev bench` exports it), else what the server script prints."""
    uri = given or os.environ.get("MONGODB_URI", "").strip()
    if uri:
        return uri
    # Run alone (profile_op.py, say): the script prints the URI and nothing else on stdout.
    done = subprocess.run(
        [sys.executable, "-m", "scripts.mongo_server"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit("no server: see the server script's error above")
    return done.stdout.strip()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def server_info(uri: str) -> dict[str, Any]:
    from pymongo import MongoClient

    client: Any = MongoClient(uri, serverSelectionTimeoutMS=15000)
    try:
        build = client.admin.command("buildInfo")
    finally:
        client.close()
    info: dict[str, Any] = {"version": build.get("version"), "uri_host": uri.split("@")[-1]}
    if "ferretdbVersion" in build:
        info["ferretdb"] = build["ferretdbVersion"]
    # The server script knows the backend of a server it started; any other server is the
    # user's, and its status line does not name the URI measured here.
    done = subprocess.run(
        [sys.executable, "-m", "scripts.mongo_server", "status"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        check=False,
    )
    status = done.stdout.strip() if f" at {uri} " in done.stdout else ""
    info["status"] = status
    info["backend"] = "SQLite" if "ferretdb" in status and "ferretdb" in info else ""
    return info


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("gridfield", "pymongo", "motor", "mongoengine", "mongomotor", "matplotlib"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def environment(uri: str, plan: Plan, command: str) -> dict[str, Any]:
    memory = psutil.virtual_memory()
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "machine": {
            "cpu": cpu_model(),
            "logical_cores": psutil.cpu_count(logical=True),
            "physical_cores": psutil.cpu_count(logical=False),
            "memory_gib": round(memory.total / 2**30, 1),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_start": [round(x, 2) for x in os.getloadavg()],
        },
        "server": server_info(uri),
        "packages": package_versions(),
        "plan": dataclasses.asdict(plan),
    }


# --------------------------------------------------------------------------- measurements


def chunks_covered(offset: int, length: int) -> int:
    return (offset + length - 1) // FLOOR_CHUNK - offset // FLOOR_CHUNK + 1


class Run:
    """One benchmark run: its workers, its plan and the results it gathers."""

    def __init__(self, plan: Plan, uri: str, keys: list[str], measures: set[str]) -> None:
        self.plan = plan
        self.uri = uri
        self.measures = measures
        self.db_name = f"gridfield_bench_{int(time.time())}"
        self.log_dir = Path(tempfile.mkdtemp(prefix="gridfield-bench-"))
        self.keys = keys
        self.workers: dict[str, Worker] = {}
        self.results: dict[str, Any] = {
            "systems": {},
            "large": {},
            "small": {},
            "ranged": {},
            "memory": {},
            "cpu": {},
        }

    def system_entry(self, key: str) -> dict[str, Any]:
        cls = BY_KEY[key]
        entry: dict[str, Any] = self.results["systems"].setdefault(
            key,
            {"label": cls.label, "twin": cls.twin, "notes": cls.notes, "available": False},
        )
        return entry

    def fail(self, key: str, why: str) -> None:
        say(f"{key}: {why}")
        self.system_entry(key)["error"] = why
        self.drop_worker(key)

    def drop_worker(self, key: str) -> None:
        worker = self.workers.pop(key, None)
        if worker is not None:
            worker.stop()

    def ask(self, key: str, op: str, **arguments: Any) -> dict[str, Any] | None:
        """Send a request; a dead worker takes its system out of the rest of the run."""
        worker = self.workers.get(key)
        if worker is None:
            return None
        try:
            return worker.request(op, **arguments)
        except (WorkerError, OSError) as exc:
            self.fail(key, f"worker died during {op}: {exc}")
            return None

    def start(self) -> None:
        say(f"worker logs in {self.log_dir}; database {self.db_name}")
        for key in self.keys:
            entry = self.system_entry(key)
            try:
                worker = Worker(key, self.uri, self.db_name, self.log_dir)
            except WorkerError as exc:
                entry["error"] = str(exc)
                say(f"{key}: not available: {exc}")
                continue
            if not worker.hello.get("available"):
                entry["error"] = worker.hello.get("error", "?")
                say(f"{key}: not available: {entry['error']}")
                worker.stop()
                continue
            entry["available"] = True
            entry["versions"] = worker.hello.get("versions", {})
            self.workers[key] = worker
        for key in list(self.workers):
            reply = self.ask(key, "warmup")
            if reply is not None and "error" in reply:
                self.fail(key, f"warm-up failed: {reply['error']}")
        say(f"ready: {', '.join(self.workers)}")

    def stop(self) -> None:
        for key in list(self.workers):
            self.drop_worker(key)
        from pymongo import MongoClient

        client: Any = MongoClient(self.uri)
        try:
            client.drop_database(self.db_name)
        finally:
            client.close()

    def active(self, measure: str) -> list[str]:
        return [key for key in self.workers if measure in BY_KEY[key].measures]

    # ------------------------------------------------------------------ large files

    def large(self) -> None:
        for size, count in self.plan.large:
            table: dict[str, Any] = {}
            self.results["large"][str(size)] = table
            no_download: set[str] = set()
            for round_no in range(1, self.plan.rounds + 1):
                for key in self.active("large"):
                    row = table.setdefault(key, {"up": [], "down": []})
                    if "up_error" in row:
                        continue
                    reply = self.ask(
                        key,
                        "large",
                        size=size,
                        count=count,
                        download=key not in no_download,
                        down_cap=self.plan.down_cap(size, count),
                    )
                    if reply is None:
                        continue
                    text = []
                    if "up_s" in reply:
                        row["up"].append(size * count / MiB / reply["up_s"])
                        row["up_commands"] = reply["up_commands"]
                        row.setdefault("up_cpu", []).append(
                            reply["up_cpu"] * 1000 / (size * count / MiB)
                        )
                        text.append(f"up {row['up'][-1]:.1f} MiB/s")
                    if "up_error" in reply or "error" in reply:
                        row["up_error"] = reply.get("up_error") or reply["error"]
                        text.append(f"up FAILED {row['up_error']}")
                    if "down_s" in reply:
                        row["down"].append(reply["down_bytes"] / MiB / reply["down_s"])
                        row["down_commands"] = reply["down_commands"]
                        row.setdefault("down_cpu", []).append(
                            reply["down_cpu"] * 1000 / (reply["down_bytes"] / MiB)
                        )
                        text.append(f"down {row['down'][-1]:.1f} MiB/s")
                    if reply.get("down_partial"):
                        row["down_partial"] = (
                            f"stopped after {reply['down_s']:.0f} s with "
                            f"{reply['down_bytes'] / MiB:.0f} of {size * count // MiB} MiB read"
                        )
                        no_download.add(key)
                        text.append(row["down_partial"])
                    if "down_error" in reply:
                        row["down_error"] = reply["down_error"]
                        no_download.add(key)
                        text.append(f"down FAILED {row['down_error']}")
                    say(f"large {size // MiB} MiB round {round_no}: {key}: {', '.join(text)}")

    # ------------------------------------------------------------------ small files

    def small(self) -> None:
        per_round = self.plan.small_total // self.plan.rounds
        table = self.results["small"]
        table["size"] = self.plan.small_size
        for round_no in range(1, self.plan.rounds + 1):
            for key in self.active("small"):
                row = table.setdefault(key, {"put": [], "read": []})
                if "put_error" in row:
                    continue
                first = 1000 + round_no * per_round
                reply = self.ask(
                    key,
                    "small",
                    count=per_round,
                    size=self.plan.small_size,
                    first=first,
                    group=self.plan.small_group,
                )
                if reply is None:
                    continue
                text = []
                for op in ("put", "read"):
                    if f"{op}_s" in reply:
                        row[op].append(per_round / reply[f"{op}_s"])
                        row.setdefault(f"{op}_cpu", []).append(
                            reply[f"{op}_cpu"] * 1000 / per_round
                        )
                        row[f"{op}_commands"] = reply[f"{op}_commands"]
                        row[f"{op}_command_names"] = reply[f"{op}_command_names"]
                        text.append(f"{op} {row[op][-1]:.0f}/s ({reply[f'{op}_commands']:.2f} cmd)")
                    if f"{op}_error" in reply or "error" in reply:
                        row[f"{op}_error"] = reply.get(f"{op}_error") or reply["error"]
                        text.append(f"{op} FAILED {row[f'{op}_error']}")
                        break
                say(f"small round {round_no}: {key}: {', '.join(text)}")

    # ------------------------------------------------------------------ ranged reads

    def ranged(self) -> None:
        plan = self.plan
        rng = random.Random(RANGED_SEED)
        offsets = [
            rng.randrange(0, plan.ranged_file - plan.ranged_length)
            for _ in range(plan.ranged_total)
        ]
        per_round = plan.ranged_total // plan.rounds
        table = self.results["ranged"]
        table["file_size"] = plan.ranged_file
        table["length"] = plan.ranged_length
        table["cap"] = plan.ranged_cap
        keys = self.active("ranged")
        for key in keys:
            reply = self.ask(key, "ranged_prepare", size=plan.ranged_file)
            if reply is not None and "error" in reply:
                table[key] = {"error": reply["error"], "rate": []}
        for round_no in range(plan.rounds):
            chosen = offsets[round_no * per_round : (round_no + 1) * per_round]
            for key in keys:
                row = table.setdefault(
                    key, {"rate": [], "reads": 0, "commands": 0, "chunk_docs": 0, "covered": 0}
                )
                if "error" in row:
                    continue
                reply = self.ask(
                    key,
                    "ranged",
                    offsets=chosen,
                    length=plan.ranged_length,
                    time_cap=plan.ranged_cap,
                )
                if reply is None:
                    continue
                if "error" in reply:
                    row["error"] = reply["error"]
                    say(f"ranged round {round_no + 1}: {key}: FAILED {reply['error']}")
                    continue
                done = reply["reads"]
                row["rate"].append(done / reply["seconds"])
                row["reads"] += done
                row["commands"] += reply["commands"]
                row["chunk_docs"] += reply["chunk_docs"]
                row["covered"] += sum(chunks_covered(o, plan.ranged_length) for o in chosen[:done])
                row["command_names"] = reply["command_names"]
                say(
                    f"ranged round {round_no + 1}: {key}: {row['rate'][-1]:.1f} reads/s "
                    f"({done} reads, {reply['chunk_docs'] / max(done, 1):.1f} chunk docs each)"
                )

    # ------------------------------------------------------------------ client CPU

    def cpu(self) -> None:
        """Client CPU ms per MiB of uploads and downloads (with and without a stored
        checksum), and of hashlib's SHA-256 in the same workers: the systems interleaved,
        each round at each size, the order of the two downloads alternating."""
        table = self.results["cpu"]
        table["sizes"] = list(self.plan.cpu_sizes)
        table["rounds"] = self.plan.rounds
        for size in self.plan.cpu_sizes:
            rows: dict[str, Any] = table.setdefault(str(size), {})
            for round_no in range(1, self.plan.rounds + 1):
                for key in self.active("cpu"):
                    row = rows.setdefault(key, {})
                    if "error" in row:
                        continue
                    reply = self.ask(key, "cpu", size=size, flip=round_no % 2 == 0)
                    if reply is None:
                        continue
                    if "error" in reply:
                        row["error"] = reply["error"]
                        say(f"cpu {size // MiB} MiB round {round_no}: {key}: FAILED {row['error']}")
                        continue
                    for name, value in reply.items():
                        row.setdefault(name, []).append(value)
                    text = ", ".join(
                        f"{name} {value:.2f}"
                        for name, value in reply.items()
                        if not name.endswith("_faults")
                    )
                    say(f"cpu {size // MiB} MiB round {round_no}: {key}: ms/MiB {text}")

    # ------------------------------------------------------------------ memory

    def memory(self) -> None:
        size = self.plan.memory_size
        table = self.results["memory"]
        table["size"] = size
        table["cap"] = self.plan.memory_cap
        keys = [k for k in self.keys if self.system_entry(k).get("available")]
        keys = [k for k in keys if "memory" in BY_KEY[k].measures]
        failed_before = {
            key: f"{int(at) // MiB} MiB"
            for at, rows in self.results["large"].items()
            for key, row in rows.items()
            if "down_error" in row and int(at) <= size
        }
        cap = str(self.plan.memory_cap)
        for _ in range(self.plan.memory_rounds):
            for key in keys:
                row = table.setdefault(key, {"up": [], "down": []})
                up = run_once(
                    key, self.uri, self.db_name, self.log_dir, "memory-up", str(size), cap
                )
                if "error" in up:
                    row["up_error"] = up["error"]
                    say(f"memory {key}: upload FAILED {up['error']}")
                    continue
                row["up"].append(up["growth"] / MiB)
                text = f"memory {key}: up +{row['up'][-1]:.1f} MiB"
                if key in failed_before:
                    row["down_skipped"] = f"not run: its {failed_before[key]} download failed [1]"
                    say(f"{text}, down {row['down_skipped']}")
                    continue
                file_arg = json_util.dumps({"id": up["file_id"]})
                down = run_once(
                    key,
                    self.uri,
                    self.db_name,
                    self.log_dir,
                    "memory-down",
                    str(size),
                    cap,
                    file_arg,
                )
                if "error" in down:
                    row["down_error"] = down["error"]
                    text += f", down FAILED {down['error']}"
                if "growth" in down:
                    row["down"].append(down["growth"] / MiB)
                    text += f", down +{down['growth'] / MiB:.1f} MiB"
                if down.get("bytes", size) < size and "error" not in down:
                    row["down_partial"] = (
                        f"stopped after {down['seconds']:.0f} s with "
                        f"{down['bytes'] / MiB:.0f} of {size // MiB} MiB read"
                    )
                    text += f" ({row['down_partial']})"
                say(text)


# --------------------------------------------------------------------------- main


def measure_own(
    measure: str, uri: str, quick: bool, command: str, rounds: int | None = None
) -> dict[str, Any]:
    """HTTP serving, receiving uploads or the upload checksum (benchmarks/serving.py,
    benchmarks/intake.py), Django uploads (benchmarks/django_intake.py), GridFSStorage
    (benchmarks/django_storage.py) or tus uploads (benchmarks/tus_upload.py), timed and
    labelled."""
    import copying
    import dedup
    import django_intake
    import django_storage
    import encryption
    import fsspec_reads
    import intake
    import server_scale
    import serving
    import tus_upload

    say(f"{measure}: starting")
    started = time.monotonic()
    measures = {
        "serving": functools.partial(serving.measure_serving, rounds=rounds),
        "intake": intake.measure_intake,
        "checksum": serving.measure_checksum,
        "dedup": dedup.measure_dedup,
        "encryption": encryption.measure_encryption,
        "copy": copying.measure_copy,
        "django_intake": django_intake.measure_django_intake,
        "django_storage": django_storage.measure_django_storage,
        "tus": functools.partial(tus_upload.measure_tus, rounds=rounds),
        "server_scale": server_scale.measure_server_scale,
        "fsspec": fsspec_reads.measure_fsspec,
    }
    result = measures[measure](uri, quick)
    result["duration_s"] = time.monotonic() - started
    result["command"] = command
    result["date"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    result["quick"] = quick
    result.setdefault("load", [round(x, 2) for x in os.getloadavg()])
    say(f"{measure} done in {result['duration_s']:.0f} s")
    return result


def stamp(command: str, quick: bool, started: float) -> dict[str, Any]:
    """When and how a measure that may run alone was taken, for its section of the report."""
    return {
        "command": command,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": quick,
        "duration_s": time.monotonic() - started,
        "load": [round(x, 2) for x in os.getloadavg()],
    }


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: small sizes, 2 rounds")
    parser.add_argument(
        "--uri", help="server URI (default: $MONGODB_URI, else python -m scripts.mongo_server)"
    )
    parser.add_argument(
        "--systems", help="comma-separated system keys (default: all): " + ", ".join(BY_KEY)
    )
    parser.add_argument(
        "--measures",
        default=",".join(MEASURES),
        help="comma-separated subset of " + ",".join(MEASURES),
    )
    parser.add_argument("--rounds", type=int, help="override the number of rounds")
    parser.add_argument(
        "--output",
        type=Path,
        default=ROOT,
        help="folder for BENCHMARKS.md (the chart and results.json go to benchmarks/)",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the report from results.json"
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    import report

    args = parse(argv)
    results_path = HERE / "results.json"
    if args.report_only:
        results = json.loads(results_path.read_text())
        report.write(results, args.output / "BENCHMARKS.md", HERE / "chart.png")
        say(f"wrote {args.output / 'BENCHMARKS.md'} and {HERE / 'chart.png'}")
        return 0
    plan = Plan.quick() if args.quick else Plan.full()
    if args.rounds:
        plan = dataclasses.replace(plan, rounds=args.rounds)
    keys = args.systems.split(",") if args.systems else [s.key for s in SYSTEMS]
    unknown = [k for k in keys if k not in BY_KEY]
    if unknown:
        raise SystemExit(f"unknown systems {unknown}; known: {', '.join(BY_KEY)}")
    measures = set(args.measures.split(","))
    unknown_measures = sorted(measures - set(MEASURES))
    if unknown_measures:
        raise SystemExit(f"unknown measures {unknown_measures}; known: {', '.join(MEASURES)}")
    command = os.environ.get("GRIDFIELD_BENCH_COMMAND") or shlex.join(
        ["python", "benchmarks/run.py", *argv]
    )
    uri = server_uri(args.uri)
    started = time.monotonic()
    meta = environment(uri, plan, command)
    say(f"server {meta['server']}; plan {plan}")
    # gridfield alone (benchmarks/serving.py, django_intake.py, django_storage.py); with the
    # client CPU measure only, the other measures keep their last results.
    own = measures & set(OWN_MEASURES)
    alone = not measures - own - {"cpu"}
    run = Run(plan, uri, keys, measures)
    try:
        if measures - own:
            run.start()
        for measure in ("large", "small", "ranged", "cpu"):
            if measure in measures:
                measure_started = time.monotonic()
                getattr(run, measure)()
                say(f"{measure} done in {time.monotonic() - measure_started:.0f} s")
                meta.setdefault("durations", {})[measure] = time.monotonic() - measure_started
                if measure == "cpu":
                    run.results["cpu"].update(stamp(command, args.quick, measure_started))
        for key in list(run.workers):
            run.drop_worker(key)
        if "memory" in measures:
            measure_started = time.monotonic()
            run.memory()
            meta.setdefault("durations", {})["memory"] = time.monotonic() - measure_started
            say(f"memory done in {time.monotonic() - measure_started:.0f} s")
    finally:
        run.stop()
    if alone:
        # Only measures that stand alone: the others keep their last results.
        results = json.loads(results_path.read_text()) if results_path.exists() else {"meta": meta}
        results.setdefault("systems", {}).update(run.results["systems"])
        if "cpu" in measures:
            results["cpu"] = run.results["cpu"]
        for measure in sorted(own):
            results[measure] = measure_own(measure, uri, args.quick, command, args.rounds)
        results_path.write_text(json.dumps(results, indent=1, default=str) + "\n")
        report.write(results, args.output / "BENCHMARKS.md", HERE / "chart.png")
        say(f"wrote {args.output / 'BENCHMARKS.md'}")
        return 0
    own_results = {m: measure_own(m, uri, args.quick, command, args.rounds) for m in sorted(own)}
    meta["duration_s"] = time.monotonic() - started
    meta["machine"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
    meta["quick"] = args.quick
    results = {"meta": meta, **run.results, **own_results}
    results_path.write_text(json.dumps(results, indent=1, default=str) + "\n")
    report.write(results, args.output / "BENCHMARKS.md", HERE / "chart.png")
    say(f"done in {meta['duration_s'] / 60:.1f} min; wrote {args.output / 'BENCHMARKS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

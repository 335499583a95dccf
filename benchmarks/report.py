"""BENCHMARKS.md and benchmarks/chart.png from a run's results."""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

from probes import MiB
from systems import REFERENCE

ASYNC_TWINS = ["gridfield-async", "gridfield-async-field", "gridfield-motor"]
SYNC_TWINS = ["gridfield-sync", "gridfield-sync-field"]
GRIDFIELD = ASYNC_TWINS + SYNC_TWINS
# Like for like: each gridfield system against the bucket and the floor of its own kind.
BUCKET_OF = {
    "gridfield-async": "pymongo-async-bucket",
    "gridfield-async-field": "pymongo-async-bucket",
    "gridfield-motor": "motor-bucket",
    "gridfield-sync": "pymongo-bucket",
    "gridfield-sync-field": "pymongo-bucket",
}
FLOOR_OF = {key: ("floor-async" if key in ASYNC_TWINS else "floor-sync") for key in GRIDFIELD}
FIELD_RIVAL = {
    "gridfield-sync-field": "mongoengine-field",
    "gridfield-async-field": "mongomotor-field",
}
STORE_FOR_FIELD = {
    "gridfield-sync-field": "gridfield-sync",
    "gridfield-async-field": "gridfield-async",
}
# The client CPU measure: gridfield's sync store against PyMongo's bucket.
CPU_MINE = "gridfield-sync"
CPU_OPERATIONS = (  # (gridfield's row, what it is, PyMongo's row, SHA-256 allowed on top)
    ("up", "upload, storing a SHA-256 (gridfield's default)", "up", True),
    ("up_plain", "upload, storing no checksum", "up", False),
    ("down_plain", "download of a file without a stored checksum", "down_plain", False),
    ("down_sha", "download of a file with a stored SHA-256 (verified)", "down_plain", True),
    ("whole_plain", "whole read() of a file without a stored checksum", "whole_plain", False),
    ("whole_sha", "whole read() of a file with a stored SHA-256 (verified)", "whole_plain", True),
)
CPU_TARGETS = ("up", "down_plain", "down_sha", "whole_plain", "whole_sha")
NOTES = "benchmarks/NOTES.md"  # the hand-written explanations; never generated
MEMORY_LIMIT_MIB = 64
TUS_MEMORY_LIMIT_MIB = 32  # the tus measure's target for the server's peak RSS growth
FLOOR_SHARE = 0.85
FIELD_SPEEDUP = 1.3


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if value >= 100:
        text = f"{value:,.0f}"
    elif value >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return text + unit


def spread(values: list[float]) -> str:
    if not values:
        return ""
    return f"{number(min(values))}-{number(max(values))}"


def ratio(value: float | None, reference: float | None) -> str:
    if value is None or not reference:
        return "n/a"
    return f"{value / reference:.2f}x"


FAILED = "failed [1]"
STOPPED = " [2]"
NOT_RUN = "not run [3]"


def cell(values: list[float], error: str | None, partial: str | None = None) -> str:
    if error and not values:
        return FAILED
    if not values:
        return "n/a"
    if len(values) == 1:
        text = f"**{number(values[0])}**"
    else:
        text = f"**{number(median(values))}** ({spread(values)})"
    return text + (STOPPED if partial else "") + (" " + FAILED if error else "")


class Report:
    def __init__(self, results: dict[str, Any]) -> None:
        self.r = results
        self.meta = results["meta"]
        self.systems: dict[str, Any] = results["systems"]
        self.errors: dict[str, list[str]] = {}
        self.lines: list[str] = []

    def label(self, key: str) -> str:
        return str(self.systems.get(key, {}).get("label", key))

    def available(self) -> list[str]:
        return [key for key, entry in self.systems.items() if entry.get("available")]

    def note_error(self, error: str | None, where: str) -> None:
        if error:
            self.errors.setdefault(error, []).append(where)

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def spreads(self) -> list[float]:
        """(max - min) / median of the rounds of each large- and small-file rate."""
        rates: list[list[float]] = [
            row.get(direction, [])
            for table in self.r.get("large", {}).values()
            for row in table.values()
            for direction in ("up", "down")
        ]
        rates += [
            row.get(op, [])
            for row in self.r.get("small", {}).values()
            if isinstance(row, dict)
            for op in ("put", "read")
        ]
        return [
            (max(values) - min(values)) / middle
            for values in rates
            if len(values) > 1 and (middle := statistics.median(values))
        ]

    def noise(self) -> list[str]:
        spreads = self.spreads()
        if not spreads:
            return []
        return [
            f"Noise, measured in this run: the rounds of one system spread (max - min over the "
            f"median) by {statistics.median(spreads):.0%} for the median rate, and up to "
            f"{max(spreads):.0%}; weigh a difference between medians against that.",
            "",
        ]

    # ------------------------------------------------------------------ sections

    def header(self) -> None:
        meta = self.meta
        machine = meta["machine"]
        server = meta["server"]
        plan = meta["plan"]
        if server.get("ferretdb"):
            kind = f"FerretDB {server['ferretdb']}"
            kind += f" on {server['backend']}" if server.get("backend") else ""
            kind += f" (buildInfo reports MongoDB {server['version']} compatibility)"
        else:
            kind = f"MongoDB {server['version']}"
        packages = ", ".join(f"{k} {v}" for k, v in meta["packages"].items())
        quick = (
            " **Smoke run (`--quick`): sizes and rounds cut; not for quoting.**"
            if meta.get("quick")
            else ""
        )
        self.add(
            "# Benchmarks",
            "",
            f"Generated by `{meta['command']}` on {meta['date']}; do not edit by hand.{quick} "
            f"What explains these numbers is written by hand in [{NOTES}]({NOTES}).",
            "",
            "![gridfield against PyMongo, Motor, MongoEngine and mongomotor](benchmarks/chart.png)",
            "",
            "## Setup",
            "",
            f"- Machine: {machine['cpu']}, {machine['logical_cores']} logical cores "
            f"({machine['physical_cores']} physical), {machine['memory_gib']} GiB memory; "
            f"{machine['platform']}; Python {machine['python']}.",
            f"- Load average (1, 5, 15 min): {machine['load_start']} at the start, "
            f"{machine.get('load_end', '?')} at the end.",
            f"- Server: {kind}, on the same machine over loopback ({server['uri_host']}).",
            f"- Packages: {packages}.",
            f"- Duration: {meta.get('duration_s', 0) / 60:.1f} min.",
            "",
            "How it is measured: every system runs in a worker process of its own; after a "
            "warm-up (20 small files and a 1 MiB file each, not counted) the coordinator "
            f"interleaves the systems, A B C … A B C …, for {plan['rounds']} rounds. Tables "
            "give the **median** of the rounds and the min-max range; `x` is the median's ratio "
            f"to {self.label(REFERENCE)}. Uploads are fed in 1 MiB pieces (a generator for "
            "streams, a file object for the fields' `put`); downloads read 1 MiB at a time "
            "where the system streams, and whole where it cannot (MongoEngine's and mongomotor's "
            "`read()`). Commands are counted with a PyMongo `CommandListener` on each client, "
            "leaving out those the driver sends on its own (`hello`, `endSessions`, "
            "authentication). *Client CPU* is the benchmark process's CPU time (all its "
            f"threads) per MiB or per file: on this {machine['logical_cores']}-core machine the "
            "server runs beside the client, so it tells apart what wall time blurs. The floor "
            "writes and reads the "
            "same 255 KiB chunk documents with bare `insert_many` (48 MB batches, as PyMongo's "
            "gridfs) and `find` (sorted by `n`, 64 per batch), with no files document and no "
            "checks.",
            "",
            *self.noise(),
        )

    def targets(self) -> None:
        rows: list[tuple[str, str, str, str]] = []
        large = self.r.get("large", {})
        for key in GRIDFIELD:
            if key not in self.available():
                continue
            for rival, share, what in (
                (BUCKET_OF[key], 1.0, "≥ 1.0x " + self.label(BUCKET_OF[key])),
                (FLOOR_OF[key], FLOOR_SHARE, f"≥ {FLOOR_SHARE:.2f}x the floor ({FLOOR_OF[key]})"),
            ):
                worst: tuple[float, str, bool] | None = None
                missing = []
                for size, table in large.items():
                    for direction in ("up", "down"):
                        mine = median(table.get(key, {}).get(direction, []))
                        theirs = median(table.get(rival, {}).get(direction, []))
                        where = f"{int(size) // MiB} MiB {direction}"
                        if mine is None or not theirs:
                            missing.append(where)
                            continue
                        value = mine / theirs
                        # Noise when this system's best round reaches the rival's median.
                        best = max(table[key][direction])
                        if worst is None or value < worst[0]:
                            worst = (value, where, best >= theirs * share)
                if worst is None:
                    continue
                measured = f"lowest {worst[0]:.2f}x ({worst[1]})"
                if worst[0] < share and worst[2]:
                    measured += ", within the spread of the rounds"
                if missing:
                    measured += f"; no ratio at {', '.join(missing)}"
                met = "yes" if worst[0] >= share else "**no**"
                rows.append((f"large files, {what}", self.label(key), measured, met))
        small = self.r.get("small", {})
        for key in GRIDFIELD:
            row = small.get(key)
            if not row or "put_commands" not in row:
                continue
            commands = row["put_commands"]
            met = "yes" if commands <= 2.0 else "**no**"
            names = ", ".join(
                f"{n} {c:.2g}" for n, c in sorted(row.get("put_command_names", {}).items())
            )
            rows.append(
                (
                    "2 server commands per small put",
                    self.label(key),
                    f"{commands:.2f} ({names})",
                    met,
                )
            )
        for field, rival in FIELD_RIVAL.items():
            key = field if small.get(field, {}).get("put") else STORE_FOR_FIELD[field]
            mine = median(small.get(key, {}).get("put", []))
            theirs = median(small.get(rival, {}).get("put", []))
            if mine is None or not theirs:
                continue
            stand_in = "" if key == field else " (store: the field is not available)"
            met = "yes" if mine / theirs >= FIELD_SPEEDUP else "**no**"
            rows.append(
                (
                    f"small puts/s ≥ {FIELD_SPEEDUP}x {self.label(rival)}",
                    self.label(key) + stand_in,
                    f"{mine / theirs:.2f}x ({number(mine)} vs {number(theirs)} puts/s)",
                    met,
                )
            )
        ranged = self.r.get("ranged", {})
        for key in GRIDFIELD:
            row = ranged.get(key)
            if not isinstance(row, dict) or not row.get("reads"):
                continue
            docs = row["chunk_docs"] / row["reads"]
            covered = row["covered"] / row["reads"]
            met = "yes" if row["chunk_docs"] <= row["covered"] else "**no**"
            rows.append(
                (
                    "ranged reads fetch only the chunks they cover",
                    self.label(key),
                    f"{docs:.2f} chunk docs per read, {covered:.2f} covered",
                    met,
                )
            )
        rows += self.cpu_targets()
        memory = self.r.get("memory", {})
        size_mib = memory.get("size", 0) // MiB
        for key in GRIDFIELD:
            row = memory.get(key)
            if not row:
                continue
            peaks = row.get("up", []) + row.get("down", [])
            if not peaks or "up_error" in row or "down_error" in row:
                rows.append(
                    (
                        f"peak RSS growth ≤ {MEMORY_LIMIT_MIB} MiB for {size_mib} MiB streamed",
                        self.label(key),
                        "failed: " + str(row.get("up_error") or row.get("down_error")),
                        "**no**",
                    )
                )
                continue
            worst = max(peaks)
            met = "yes" if worst <= MEMORY_LIMIT_MIB else "**no**"
            rows.append(
                (
                    f"peak RSS growth ≤ {MEMORY_LIMIT_MIB} MiB for {size_mib} MiB streamed",
                    self.label(key),
                    f"up +{number(max(row['up']))} MiB, "
                    f"down +{number(max(row['down'] or [0]))} MiB",
                    met,
                )
            )
        self.add("## Targets", "")
        if not rows:
            self.add("No gridfield system was available, so no target could be checked.", "")
            return
        self.add("| target | system | measured | met |", "|---|---|---|---|")
        self.add(*(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows))
        self.add("")
        if any(met != "yes" for *_, met in rows):
            self.add(
                f"Where a target is missed, the explanation found so far is in [{NOTES}]({NOTES}).",
                "",
            )

    def cpu_rows(self) -> list[tuple[int, str, str, str, str, str]]:
        """(size, what, gridfield, PyMongo, target, met) for each operation of the CPU measure."""
        cpu = self.r.get("cpu", {})
        out = []
        for size in cpu.get("sizes", []):
            table = cpu.get(str(size), {})
            mine, theirs = table.get(CPU_MINE, {}), table.get(REFERENCE, {})
            self.note_error(
                mine.get("error"), f"{self.label(CPU_MINE)}, client CPU {size // MiB} MiB"
            )
            self.note_error(
                theirs.get("error"), f"{self.label(REFERENCE)}, client CPU {size // MiB} MiB"
            )
            sha = median(mine.get("sha256", []) + theirs.get("sha256", []))
            for name, what, rival, hashes in CPU_OPERATIONS:
                values, reference = mine.get(name, []), median(theirs.get(rival, []))
                if not values or reference is None or sha is None:
                    continue
                limit = reference + (sha if hashes else 0.0)
                target = (
                    f"≤ {number(reference)} + {number(sha)} = {number(limit)}"
                    if hashes
                    else f"≤ {number(limit)}"
                )
                got = median(values) or 0.0
                if name not in CPU_TARGETS:
                    target, met = "-", ""
                elif got <= limit:
                    met = "yes"
                else:
                    met = f"**no** (+{number(got - limit)}"
                    met += ", within the spread of the rounds)" if min(values) <= limit else ")"
                out.append(
                    (size, what, cell(values, None), cell(theirs.get(rival, []), None), target, met)
                )
        return out

    def cpu_targets(self) -> list[tuple[str, str, str, str]]:
        rows = []
        for size, what, mine, _, target, met in self.cpu_rows():
            if met:
                rows.append(
                    (
                        f"client CPU ms/MiB, {what}, {size // MiB} MiB: {target} "
                        f"({self.label(REFERENCE)}{' + SHA-256' if '+' in target else ''})",
                        self.label(CPU_MINE),
                        mine.replace("**", ""),
                        met,
                    )
                )
        return rows

    def cpu(self) -> None:
        cpu = self.r.get("cpu", {})
        rows = self.cpu_rows()
        if not rows:
            return
        shas = [
            value
            for size in cpu["sizes"]
            for row in cpu.get(str(size), {}).values()
            for value in row.get("sha256", [])
        ]
        quick = " (quick sizes)" if cpu.get("quick") else ""
        self.add(
            "## Client CPU per MiB (sync API)",
            "",
            f"CPU time of the client process (`time.process_time`, all its threads) per MiB, "
            f"ms: one upload fed in 1 MiB pieces, then downloads read 1 MiB at a time, then "
            "the same files read whole in one `read()` call (`FileStore.get(id)` against "
            "`GridFSBucket.open_download_stream(id).read()`), "
            f"{self.label(CPU_MINE)} against {self.label(REFERENCE)}, each in its worker "
            f"process, on the same server, interleaved for {cpu['rounds']} rounds at each "
            "size (the order of gridfield's two downloads, and of its two whole reads, "
            "alternating). gridfield stores one "
            "file with its SHA-256 and one without and reads back both; PyMongo stores no "
            "checksum, so its one download is the reference for both. *SHA-256* is hashlib's "
            "over the same 1 MiB pieces in the same workers, once per round: the cost of the "
            "hash on this machine, which the targets allow on top of PyMongo's figure. "
            f"Measured {cpu['date']} with `{cpu['command']}`{quick}, in "
            f"{cpu.get('duration_s', 0):.0f} s; load average at the end {cpu.get('load', '?')}.",
            "",
            f"hashlib.sha256: **{number(median(shas))}** ms/MiB ({spread(shas)}), "
            f"{len(shas)} samples.",
            "",
            "| size | operation | gridfield ms/MiB | PyMongo ms/MiB | target | met |",
            "|---|---|---|---|---|---|",
        )
        self.add(
            *(
                f"| {size // MiB} MiB | {what} | {mine} | {theirs} | {target} | {met or '-'} |"
                for size, what, mine, theirs, target, met in rows
            )
        )
        self.add("")

    def large(self) -> None:
        large = self.r.get("large", {})
        if not large:
            return
        per_sample = ", ".join(
            f"{count} file{'s' if count > 1 else ''} of {size // MiB} MiB"
            for size, count in self.meta["plan"]["large"]
        )
        self.add("## Large files", "", f"Throughput in MiB/s; one sample is {per_sample}.", "")
        for size, table in large.items():
            ref = table.get(REFERENCE, {})
            ref_up, ref_down = median(ref.get("up", [])), median(ref.get("down", []))
            self.add(
                f"### {int(size) // MiB} MiB",
                "",
                "| system | upload MiB/s | x | download MiB/s | x | commands up / down "
                "| client CPU ms/MiB up / down |",
                "|---|---|---|---|---|---|---|",
            )
            for key, row in table.items():
                self.note_error(
                    row.get("up_error"), f"{self.label(key)}, {int(size) // MiB} MiB upload"
                )
                self.note_error(
                    row.get("down_error"), f"{self.label(key)}, {int(size) // MiB} MiB download"
                )
                up, down = row.get("up", []), row.get("down", [])
                commands = f"{number(row.get('up_commands'))} / {number(row.get('down_commands'))}"
                cpu = (
                    f"{number(median(row.get('up_cpu', [])))} / "
                    f"{number(median(row.get('down_cpu', [])))}"
                )
                self.add(
                    f"| {self.label(key)} | {cell(up, row.get('up_error'))} | "
                    f"{ratio(median(up), ref_up)} | "
                    f"{cell(down, row.get('down_error'), row.get('down_partial'))} | "
                    f"{ratio(median(down), ref_down)} | {commands} | {cpu} |"
                )
            self.add("")

    def small(self) -> None:
        small = self.r.get("small", {})
        keys = [k for k, v in small.items() if isinstance(v, dict)]
        if not keys:
            return
        ref = small.get(REFERENCE, {})
        ref_put, ref_read = median(ref.get("put", [])), median(ref.get("read", []))
        total = self.meta["plan"]["small_total"]
        self.add(
            f"## Small files ({small['size'] // 1024} KiB)",
            "",
            f"{total:,} puts and {total:,} reads per system, "
            f"{total // self.meta['plan']['rounds']:,} per round, by groups of "
            f"{self.meta['plan'].get('small_group', 5)} (see Notes); files per second. Field "
            "systems call the proxy's `put` on a new document (the document itself is not "
            "saved) and `read()` on a document built as a query would return it.",
            "",
            "| system | puts/s | x | reads/s | x | commands per put | per read "
            "| commands of a put | client CPU ms per put / read |",
            "|---|---|---|---|---|---|---|---|---|",
        )
        for key in keys:
            row = small[key]
            self.note_error(row.get("put_error"), f"{self.label(key)}, small put")
            self.note_error(row.get("read_error"), f"{self.label(key)}, small read")
            names = ", ".join(
                f"{n} {c:.2g}" for n, c in sorted(row.get("put_command_names", {}).items())
            )
            self.add(
                f"| {self.label(key)} | {cell(row['put'], row.get('put_error'))} | "
                f"{ratio(median(row['put']), ref_put)} | "
                f"{cell(row['read'], row.get('read_error'))} | "
                f"{ratio(median(row['read']), ref_read)} | {number(row.get('put_commands'))} | "
                f"{number(row.get('read_commands'))} | {names} | "
                f"{number(median(row.get('put_cpu', [])))} / "
                f"{number(median(row.get('read_cpu', [])))} |"
            )
        self.add("")

    def ranged(self) -> None:
        ranged = self.r.get("ranged", {})
        keys = [k for k, v in ranged.items() if isinstance(v, dict)]
        if not keys:
            return
        ref = median(ranged.get(REFERENCE, {}).get("rate", []))
        plan = self.meta["plan"]
        self.add(
            f"## Ranged reads ({ranged['length'] // 1024} KiB at random offsets in a "
            f"{ranged['file_size'] // MiB} MiB file)",
            "",
            f"Seek, then read, on one open download stream; {plan['ranged_total']:,} offsets per "
            f"system in {plan['rounds']} rounds, the same offsets for every system. A system's "
            f"round stops after {ranged['cap']:.0f} s: `reads` says how many were done. "
            "*Covered* is the number of chunks the bytes asked for lie in, the least a reader "
            "must fetch.",
            "",
            "| system | reads/s | x | reads | chunk docs per read | covered | commands per read |",
            "|---|---|---|---|---|---|---|",
        )
        for key in keys:
            row = ranged[key]
            self.note_error(row.get("error"), f"{self.label(key)}, ranged reads")
            reads = row.get("reads", 0)

            def per(value: float, reads: int = reads) -> str:
                return number(value / reads) if reads else "n/a"

            self.add(
                f"| {self.label(key)} | {cell(row['rate'], row.get('error'))} | "
                f"{ratio(median(row['rate']), ref)} | {reads:,} | "
                f"{per(row.get('chunk_docs', 0))} | "
                f"{per(row.get('covered', 0))} | {per(row.get('commands', 0))} |"
            )
        self.add("")

    def memory(self) -> None:
        memory = self.r.get("memory", {})
        keys = [k for k, v in memory.items() if isinstance(v, dict)]
        if not keys:
            return
        self.add(
            f"## Memory ({memory['size'] // MiB} MiB streamed up, then down)",
            "",
            "Peak growth of the resident set size over the operation, sampled every 2 ms by a "
            "thread, in a fresh process per system and direction, after each operation has "
            "run once through a throwaway instance of the system on another database (so "
            "imports and first-use allocations are not counted). A streaming download would "
            f"be stopped after {memory.get('cap', 0):.0f} s [2]; the peak is then that of "
            "the part read.",
            "",
            "| system | upload: peak RSS growth MiB | download: peak RSS growth MiB |",
            "|---|---|---|",
        )
        for key in keys:
            row = memory[key]
            self.note_error(row.get("up_error"), f"{self.label(key)}, memory upload")
            self.note_error(row.get("down_error"), f"{self.label(key)}, memory download")
            up = FAILED if row.get("up_error") else number(max(row["up"], default=None))
            if row.get("down_skipped"):
                down = NOT_RUN
            elif row.get("down_error"):
                down = FAILED
            else:
                down = number(max(row["down"], default=None))
                down += STOPPED if row.get("down_partial") else ""
            self.add(f"| {self.label(key)} | {up} | {down} |")
        self.add("")

    def stopped(self) -> list[str]:
        """Where a download was stopped for being slow: '[2]' in the tables."""
        places = []
        for size, table in self.r.get("large", {}).items():
            for key, row in table.items():
                if row.get("down_partial"):
                    places.append(
                        f"{self.label(key)}, {int(size) // MiB} MiB download: {row['down_partial']}"
                    )
        for key, row in self.r.get("memory", {}).items():
            if isinstance(row, dict) and row.get("down_partial"):
                places.append(f"{self.label(key)}, memory download: {row['down_partial']}")
        return places

    def footnotes(self) -> None:
        missing = [
            (key, entry.get("error", "?"))
            for key, entry in self.systems.items()
            if not entry.get("available")
        ]
        if missing:
            self.add("## Not available", "")
            self.add(*(f"- {self.label(key)}: {why}" for key, why in missing))
            self.add("")
        self.add("## Notes", "")
        if self.errors:
            self.add("[1] Failed: the operations that raised, and the error:", "")
            for error, places in self.errors.items():
                self.add(f"- {'; '.join(places)}: `{error}`")
            self.add("")
            if any("larger than server max message size" in e for e in self.errors):
                self.add(
                    f"Why downloads of large files fail on FerretDB: see [{NOTES}]({NOTES}).", ""
                )
        silent = [
            self.label(key)
            for size, table in self.r.get("large", {}).items()
            for key, row in table.items()
            if key in ("mongoengine-field", "mongomotor-field")
            and " 0 read back" in str(row.get("down_error", ""))
        ]
        if silent:
            self.add(
                "MongoEngine's and mongomotor's `read()` catch the driver's error and return an "
                "empty result, so for them the failure shows only as a file read back with 0 "
                f"bytes ({', '.join(sorted(set(silent)))}).",
                "",
            )
        stopped = self.stopped()
        plan = self.meta["plan"]
        if stopped:
            self.add(
                f"[2] Stopped: a large-file download may take max(10 s, its size at "
                f"{plan.get('slow_rate', 4):.0f} MiB/s); one that runs longer is stopped, its "
                "rate is that of the bytes read so far, and it is not run again at that size "
                "(so it has one sample, not a median). This keeps the full run under half an "
                "hour.",
                "",
            )
            self.add(*(f"- {place}" for place in stopped))
            self.add("")
        skipped = [
            f"- {self.label(key)}: {row['down_skipped']}"
            for key, row in self.r.get("memory", {}).items()
            if isinstance(row, dict) and row.get("down_skipped")
        ]
        if skipped:
            self.add(
                "[3] Not run: a system whose large-file download failed [1] at a size no "
                "larger than the memory measure's is not asked to download that again.",
                "",
                *skipped,
                "",
            )
        self.add(
            f"Small files go by groups of {plan.get('small_group', 5)} (put, read back, "
            f"removed), each system in a bucket of its own: see [{NOTES}]({NOTES}) for why.",
            "",
        )

    def serving(self) -> None:
        served = self.r.get("serving")
        if not served or "ttlb" not in served:
            return
        sizes = served["sizes"]
        small = served["small_8k"]
        rng = served["range_64k"]
        names = ("gridfield-app", "gridfield-response", "hand-streamed", "hand-whole")
        self.add(
            "## Serving files over HTTP",
            "",
            "`GridFSApp` and `GridFSResponse` (`gridfield.web.asgi`) under uvicorn in a process "
            "of its own, driven by httpx over a socket, against two hand-written handlers on the "
            "same server, interleaved: `hand-streamed`, a Starlette `StreamingResponse` over "
            "PyMongo's `AsyncGridFSBucket.open_download_stream().readchunk()`; `hand-whole`, the "
            "whole file read, then one `Response`. Server commands and the chunk documents they "
            "bring back are counted on the server's client; the ratio is gridfield-app's against "
            "the better hand-written handler (above 1: gridfield faster). "
            f"Measured {served['date']} with `{served['command']}`"
            f" in {served['duration_s']:.0f} s"
            + (" (quick sizes)" if served["quick"] else "")
            + (f"; load average at the end {served['load']}." if served.get("load") else "."),
            "",
            "| what | gridfield |",
            "|---|---|",
            "| 304 (If-None-Match): commands, chunk docs per request | "
            f"{served['304']['commands']:.1f}, {served['304']['chunk_docs']:.1f} |",
            f"| HEAD: commands, chunk docs per request | {served['HEAD']['commands']:.1f}, "
            f"{served['HEAD']['chunk_docs']:.1f} |",
            f"| 64 KiB range at random offsets in a {sizes['ranged'] // MiB} MiB file: commands "
            f"(median, max), chunk docs (max) | {rng['commands_median']:.0f}, "
            f"{rng['commands_max']}, {rng['chunk_docs_max']} |",
            f"| full GET of {sizes['stream'] // MiB} MiB: server peak RSS growth | "
            f"{served['stream']['server_rss_growth_mib']:.1f} MiB |",
            "",
            "| median | " + " | ".join(names) + " | ratio | ratio round by round |",
            "|---|" + "---|" * (len(names) + 2),
        )

        def rounds(figures: dict[str, Any]) -> str:
            each = figures.get("ratio_rounds")
            return ", ".join(f"{r:.2f}" for r in each) if each else "-"

        for key in ("ttfb", "mid"):
            t = served["ttlb"][key]
            self.add(
                f"| time to last byte, {sizes[key] // MiB} MiB (ms) | "
                + " | ".join(f"{t['last_byte_ms'][n]:.0f}" for n in names)
                + f" | {t['ratio']:.2f}x | {rounds(t)} |"
            )
        per = small["systems"]
        self.add(
            f"| 8 KiB files, {served['concurrency']} in flight: requests/s | "
            + " | ".join(f"{per[n]['requests_per_s']:.0f}" for n in names)
            + f" | {small['ratio']:.2f}x | {rounds(small)} |",
            "| 8 KiB files: commands per request | "
            + " | ".join(f"{per[n]['commands']:.1f}" for n in names)
            + " | | |",
            "",
        )

    def checksum(self) -> None:
        sha = self.r.get("checksum")
        if not sha:
            return
        self.add(
            "## Upload checksum",
            "",
            f"Uploads of {sha['size'] // MiB} MiB through `AsyncFileStore.put`, fed in 1 MiB "
            f"pieces, with the streaming SHA-256 (the default) and without, interleaved, "
            f"{sha['rounds']} each. Measured {sha['date']} with `{sha['command']}`.",
            "",
            "| | with SHA-256 | without |",
            "|---|---|---|",
            f"| upload MiB/s (median) | {sha['with_sha256_mib_s']:.1f} |"
            f" {sha['without_mib_s']:.1f} |",
            f"| client CPU s per upload (median) | {sha['client_cpu_s_with']:.2f} | "
            f"{sha['client_cpu_s_without']:.2f} |",
            "",
            f"Throughput cost of the checksum, from the medians: {sha['throughput_cost_pct']:.1f}%;"
            f" the rounds ranged {min(sha['with_sha256_all']):.1f}-"
            f"{max(sha['with_sha256_all']):.1f} MiB/s with it and "
            f"{min(sha['without_all']):.1f}-{max(sha['without_all']):.1f} without, so a"
            " difference smaller than that spread is the machine's noise. The client CPU time"
            " per upload is the steadier measure of what hashing adds.",
            "",
        )

    def intake(self) -> None:
        got = self.r.get("intake")
        if not got:
            return
        sizes = got["sizes"]
        asgi, wsgi = got["asgi"], got["wsgi"]
        self.add(
            "## Receiving uploads over HTTP",
            "",
            "`receive_files` and `receive_body` behind Starlette on uvicorn (ASGI) and a plain "
            "WSGI app on werkzeug's threaded server (WSGI; waitress reads a whole body first), "
            "each in a process of its own with a fresh temporary folder, driven over a socket. "
            "The hand-written handler lets Starlette parse the form into an `UploadFile`, "
            "then stores `await file.read()` with `AsyncGridFSBucket.upload_from_stream`. "
            f"Measured {got['date']} with `{got['command']}`"
            f" in {got['duration_s']:.0f} s" + (" (quick sizes)." if got["quick"] else "."),
            "",
            "| what | ASGI | WSGI |",
            "|---|---|---|",
            f"| {sizes['upload'] // MiB} MiB multipart upload: server peak RSS growth | "
            f"{asgi['server_rss_growth_mib']:.1f} MiB | {wsgi['server_rss_growth_mib']:.1f} MiB |",
            f"| {sizes['upload'] // MiB} MiB multipart upload: temporary files made | "
            f"{asgi['temp_files']} | {wsgi['temp_files']} |",
            *(
                [
                    "| ... through the hand-written `UploadFile` handler: RSS growth, temporary "
                    f"files | {asgi['hand_written_rss_growth_mib']:.1f} MiB, "
                    f"{asgi['hand_written_temp_files']} | |"
                ]
                if "hand_written_rss_growth_mib" in asgi
                else []
            ),
            f"| {sizes['overflow'] // MiB} MiB raw body (chunked) into a 10 MiB limit: status, "
            f"MiB read before it | {asgi['limit']['status']}, "
            f"{asgi['limit']['read_before_413_mib']:.2f} | {wsgi['limit']['status']}, "
            f"{wsgi['limit']['read_before_413_mib']:.2f} |",
            "| ... files, chunks left | "
            f"{asgi['limit']['files_left']}, {asgi['limit']['chunks_left']} | "
            f"{wsgi['limit']['files_left']}, {wsgi['limit']['chunks_left']} |",
            f"| {sizes['timed'] // MiB} MiB upload through the adapter, MiB/s (median) | "
            f"{asgi['adapter_mib_s']:.1f} | {wsgi['adapter_mib_s']:.1f} |",
            f"| ... hand-written `UploadFile` handler, MiB/s (median) | "
            f"{asgi['hand_written_mib_s']:.1f} | |",
            "",
        )

    def django_intake(self) -> None:
        intake = self.r.get("django_intake")
        if not intake:
            return
        ours, theirs = intake["gridfield"], intake["django_default"]
        size = intake["size"] // MiB
        self.add(
            "## Django uploads",
            "",
            f"One multipart upload of {size} MiB, sent by httpx over a socket to a Django app "
            "under Django's own threaded WSGI server (the `runserver` one, which hands the app "
            "the body as it arrives) in a process of its own, its RSS sampled from outside with "
            "psutil: through `GridFSUploadHandler` (`gridfield.web.django_uploads`), straight "
            "into GridFS; and through Django's default upload handlers followed by "
            '`FileStore.upload_from_stream(name, request.FILES["f"])`. Temporary entries: '
            "names that appeared in the server's temporary folder during the request. "
            f"Measured {intake['date']} with `{intake['command']}`"
            f" in {intake['duration_s']:.0f} s" + (" (quick sizes)." if intake["quick"] else "."),
            "",
            "| | gridfield's handler | Django's handlers, then a copy |",
            "|---|---|---|",
            f"| server peak RSS growth | {ours['server_rss_growth_mib']:.1f} MiB | "
            f"{theirs['server_rss_growth_mib']:.1f} MiB |",
            f"| temporary files | {ours['temp_entries']} | {theirs['temp_entries']} |",
            f"| request to response | {ours['seconds']:.1f} s ({ours['mib_s']:.1f} MiB/s) | "
            f"{theirs['seconds']:.1f} s ({theirs['mib_s']:.1f} MiB/s) |",
            "",
        )

    def fsspec(self) -> None:
        measured = self.r.get("fsspec")
        if not measured:
            return
        own = median(measured["store_s"])
        ratio = {key: own / median(measured[key]) for key in ("cat_file_s", "open_read_s")}
        fetched, total = measured["parquet_fetched"], measured["parquet_chunks"]
        self.add(
            "## fsspec (`gridfs://`)",
            "",
            f"A {measured['size'] // MiB} MiB file read through `gridfield.fsspec`'s"
            " `GridFSFileSystem` against the store's own `FileStore.read_by_name`, interleaved"
            f" for {measured['rounds']} rounds after a warm-up (`fsspec_reads.py`); the"
            " ratio is the store's median time over fsspec's (target: at least 0.9).",
            "",
            "| read | seconds, median (min-max) | against the store |",
            "|---|---|---|",
            f"| `FileStore.read_by_name` | {cell(measured['store_s'], None)} | 1.00 |",
            f"| `fs.cat_file` | {cell(measured['cat_file_s'], None)} | {ratio['cat_file_s']:.2f} |",
            f"| `fs.open()` then `read(1 MiB)` to the end |"
            f" {cell(measured['open_read_s'], None)} | {ratio['open_read_s']:.2f} |",
            "",
            f"The streamed read's peak RSS growth: {measured['stream_rss_growth'] / MiB:.1f} MiB"
            f" (block size {measured['block_size'] // MiB} MiB); the store's own streaming"
            f" of the same file (a chunk at a time, its cursor's batches of 16 MiB):"
            f" {measured['store_stream_rss_growth'] / MiB:.1f} MiB. pyarrow reading one"
            " column of ten from a"
            f" {measured['parquet_size'] / MiB:.1f} MiB uncompressed Parquet file fetched"
            f" {fetched} of its {total} chunks ({100 * fetched / total:.1f}%; target under"
            f" 15%) in {measured['parquet_s']:.2f} s.",
            "",
        )

    def dedup(self) -> None:
        measured = self.r.get("dedup")
        if not measured:
            return
        plain, dedup = measured["small_plain_s"], measured["small_dedup_s"]
        ms = [t * 1000 for t in plain], [t * 1000 for t in dedup]
        hits = [t * 1000 for t in measured.get("small_hit_s", [])]
        filled = measured.get("files_in_bucket", 0)
        rows = [
            "| what | median (min-max) |",
            "|---|---|",
            f"| new chunks left by the dedup puts of the stored file | {measured['new_chunks']} |",
            f"| dedup put of the stored file, s | {cell(measured['stored_put_s'], None)} |",
            f"| new 8 KiB file, plain put, ms | {cell(ms[0], None)} |",
            f"| new 8 KiB file, put(dedup=True), ms | {cell(ms[1], None)} |",
            f"| added by dedup=True, ms per file | {median(ms[1]) - median(ms[0]):.2f} |",
            "| added by dedup=True, ms per file (median of the rounds' differences) |"
            f" {median([d - p for d, p in zip(ms[1], ms[0], strict=True)]):.2f} |",
        ]
        if hits:
            rows += [
                f"| stored 8 KiB file, put(dedup=True) (a hit), ms | {cell(hits, None)} |",
                f"| a hit against a plain put, ms per file | {median(hits) - median(ms[0]):+.2f} |",
            ]
        self.add(
            "## Deduplication",
            "",
            f"`FileStore.put(data, dedup=True, scope=...)` (sync API): a {measured['size'] // MiB}"
            " MiB file put again with deduplication once it is stored (its chunks are written,"
            " then removed: the stored file is the answer), and, in a bucket holding"
            f" {filled} files of the scope, new 8 KiB files with `dedup=True` (the lookup is"
            " one insert: the claim on the file's digest key in `<bucket>.digests`) and 8 KiB"
            " files stored already (a hit: the claim refused, read by `_id`, its file checked"
            " and marked by `_id`; no chunk written) against plain puts, interleaved file by"
            f" file for {measured['rounds']} rounds of {measured['small_per_round']} files each"
            " after a warm-up.",
            "",
            *rows,
            "",
            "Every command of the lookup names an `_id`: on FerretDB, where only `_id` equality"
            " uses an index, it costs the same in an empty bucket and a full one; on MongoDB a"
            " new file's lookup is one indexed write.",
            "",
        )

    def encryption(self) -> None:
        measured = self.r.get("encryption")
        if not measured:
            return
        size = measured["size"] // MiB
        rows = []
        for way, label in (("up", "upload"), ("down", "download")):
            for kind in ("clear", "clear-no-sha256", "encrypted"):
                seconds = measured[f"{kind}_{way}_s"]
                cpu = [t * 1000 / size for t in measured[f"{kind}_{way}_cpu"]]
                speed = [size / t for t in seconds]
                rows.append(f"| {label}, {kind} | {cell(speed, None)} | {cell(cpu, None)} |")
        quiet, small = measured["quiet_operation_s"], measured["small_put_s"]
        self.add(
            "## Encryption and telemetry",
            "",
            f"`FileStore.put` and `get` of a {size} MiB file (sync API) with"
            " `encryption=Encryption(LocalKeys(...))` (AES-256-GCM, which stores no SHA-256),"
            " in clear (with the SHA-256 stored and checked, the default) and in clear with"
            " `checksum=False`, interleaved"
            f" for {measured['rounds']} rounds after a warm-up: throughput and the client's CPU"
            " time per MiB.",
            "",
            "| what | MiB/s, median (min-max) | client CPU ms/MiB, median (min-max) |",
            "|---|---|---|",
            *rows,
            "",
            f"Telemetry with no OpenTelemetry provider set: {quiet * 1e9:.0f} ns per file"
            f" operation (begun, made current, ended), {quiet / small * 100:.4f} % of an 8 KiB"
            f" put ({small * 1000:.2f} ms).",
            "",
        )

    def server_scale(self) -> None:
        measured = self.r.get("server_scale")
        if not measured:
            return
        from server_scale import table

        fills = ", ".join(
            f"{backend} {label} {seconds:.0f} s" if seconds else f"{backend} {label} reused"
            for backend, by_label in measured["fill_s"].items()
            for label, seconds in by_label.items()
        )
        self.add(
            "## The embedded server as a bucket grows",
            "",
            "FerretDB on SQLite against FerretDB on PostgreSQL (`scripts/mongo_server`), the"
            " same binary: a 1 MiB file read whole (`FileStore.get`) and a 64 KiB range at a"
            " random offset of a 16 MiB file (`read_range`), in buckets of each size, interleaved"
            f" for {measured['rounds']} rounds after a warm-up. Filling the buckets (16 MiB"
            f" files of random bytes, once, then reused): {fills}. Measured {measured['date']}"
            f" with `{measured['command']}` in {measured['duration_s']:.0f} s.",
            "",
            *table(measured),
            "",
            "Neither backend answers a chunks query from an index (see `explain` in"
            " benchmarks/NOTES.md): SQLite scans and decodes every chunk of the collection in"
            " FerretDB, PostgreSQL scans the table itself with the `files_id` filter pushed"
            " down, so both grow with the bucket, PostgreSQL far more slowly.",
            "",
        )

    def copy(self) -> None:
        measured = self.r.get("copy")
        if not measured:
            return
        runs = measured["runs"]

        def speeds(system: str) -> list[float]:
            total = 2 * measured["bytes"] / MiB
            return [total / (run["in_s"] + run["out_s"]) for run in runs[system]]

        ours, theirs = speeds("gridfield-copy"), speeds("pymongo-loop")
        rss = {s: max(run["rss_growth_mib"] for run in runs[s]) for s in runs}
        self.add(
            "## Copying a folder into a bucket and back",
            "",
            f"{measured['files']} files of mixed sizes ({measured['smallest'] // 1024} KiB to"
            f" {measured['largest'] / MiB:.1f} MiB, {measured['bytes'] / MiB:.0f} MiB in all)"
            " from a folder into a bucket and back into another folder: `gridfield.sync."
            "copy_files` (4 files in flight, each verified against its SHA-256) against a loop"
            " over PyMongo's `GridFSBucket` (`upload_from_stream`, then `download_to_stream`,"
            f" one file at a time), interleaved for {measured['rounds']} rounds after a warm-up,"
            " each run in a fresh process (`copying.py`). Throughput counts the folder's bytes"
            " both ways.",
            "",
            "| system | MiB/s, median (min-max) | peak RSS growth, MiB (max) |",
            "|---|---|---|",
            f"| gridfield copy | {cell(ours, None)} | {rss['gridfield-copy']:.1f} |",
            f"| PyMongo GridFSBucket loop | {cell(theirs, None)} | {rss['pymongo-loop']:.1f} |",
            f"| ratio of medians | {median(ours) / median(theirs):.2f}x | |",
            "",
        )

    def django_storage(self) -> None:
        measured = self.r.get("django_storage")
        if not measured:
            return
        reads, uploads = measured["read"], measured["admin_upload"]
        ours, theirs = uploads["gridfield"], uploads["django_default"]

        def values(runs: list[dict[str, Any]], key: str) -> list[float]:
            return [run[key] for run in runs]

        def row(what: str, key: str, unit: str = "") -> str:
            def text(runs: list[dict[str, Any]]) -> str:
                got = values(runs, key)
                if key == "temp_files":  # counts: every round's, as counted
                    return ", ".join(str(n) for n in got)
                return cell(got, None) + unit

            return f"| {what} | {text(ours)} | {text(theirs)} |"

        rss_worst = max(values(ours, "server_rss_growth_mib"))
        temp_worst = max(values(ours, "temp_files"))

        def names(runs: list[dict[str, Any]]) -> str:
            seen = sorted({Path(path).name for run in runs for path in run["temp_seen"]})
            return ", ".join(f"`{name}`" for name in seen) or "none"

        self.add(
            "## Django storage",
            "",
            f"Reads: `GridFSStorage.open(name).read()` (`gridfield.django`) of one "
            f"{reads['size'] // MiB} MiB file against PyMongo's "
            "`GridFSBucket.open_download_stream_by_name(name).read()` of the same file, in the "
            f"bench's process, interleaved for {reads['rounds']} rounds after a warm-up.",
            "",
            f"| {reads['size'] // MiB} MiB read, MiB/s | GridFSStorage | GridFSBucket | ratio |",
            "|---|---|---|---|",
            f"| median (min-max) | {cell(reads['storage_mib_s'], None)} | "
            f"{cell(reads['bucket_mib_s'], None)} | "
            f"{ratio(median(reads['storage_mib_s']), median(reads['bucket_mib_s']))} |",
            "",
            f"Uploads: a {uploads['size'] // MiB} MiB file through the Django admin's add form "
            "(the test site's `Animal.document`, a FileField on GridFSStorage), posted as a "
            "browser does (logged in through the admin's login form, the form's CSRF token, "
            "multipart, the file generated as it is sent) by httpx to "
            f"{uploads['server']} in a process of its own per variant, the variants "
            f"interleaved for {uploads['rounds']} round(s) after a 1 MiB warm-up. The variants "
            "differ only in `FILE_UPLOAD_HANDLERS`: gridfield's `GridFSUploadHandler` (the "
            "storage then adopts the stored file, a rename), or Django's defaults (a temporary "
            "file, which the storage then copies into GridFS). That server hands Django the "
            "body as it comes off the socket; waitress would spool any body over 512 KiB to a "
            "temporary file of its own first. The server's RSS is sampled from outside with "
            "psutil; temporary files are the entries that appeared in its `TMPDIR` (an empty "
            "folder of its own) and the deleted files it held open (`/proc/<pid>/fd`) during "
            "the request. Each stored file's length and SHA-256, from its files document, "
            "matched the stream sent, and each upload left one files document. "
            f"Measured {measured['date']} with `{measured['command']}`"
            f" in {measured['duration_s']:.0f} s"
            + (" (quick sizes)." if measured["quick"] else "."),
            "",
            "| median (min-max) of the rounds | gridfield's handler | Django's handlers |",
            "|---|---|---|",
            row("server peak RSS growth", "server_rss_growth_mib", " MiB"),
            row("temporary files, each round", "temp_files"),
            row("request to response, s", "seconds"),
            row("request to response, MiB/s", "mib_s"),
            "",
            f"Targets for gridfield's handler: peak RSS growth ≤ {MEMORY_LIMIT_MIB} MiB "
            f"(worst round +{rss_worst:.1f} MiB: "
            + ("met" if rss_worst <= MEMORY_LIMIT_MIB else "**not met**")
            + f"); no temporary file (worst round {temp_worst}: "
            + ("met" if temp_worst == 0 else "**not met**")
            + ")."
            + f" Temporary files seen, gridfield's handler: {names(ours)}; Django's handlers:"
            f" {names(theirs)}.",
            "",
        )

    def tus(self) -> None:
        measured = self.r.get("tus")
        if not measured:
            return
        names = {"tus": "tus upload", "stream": "one streamed upload"}
        runs = {variant: measured[variant] for variant in names}

        def values(variant: str, key: str) -> list[float]:
            return [run[key] for run in runs[variant]]

        def row(what: str, key: str, unit: str = "") -> str:
            def text(variant: str) -> str:
                got = values(variant, key)
                if key == "temp_files":  # counts: every round's, as counted
                    return ", ".join(str(n) for n in got)
                return cell(got, None) + unit

            return f"| {what} | " + " | ".join(text(v) for v in names) + " |"

        def verdict(met: bool) -> str:
            return "met" if met else "**not met**"

        size = measured["size"] // MiB
        patches = math.ceil(measured["size"] / measured["patch_size"])
        rate = {v: median(values(v, "mib_s")) for v in names}
        targets = []
        for variant, label in names.items():
            rss = max(values(variant, "server_rss_growth_mib"))
            temp = max(values(variant, "temp_files"))
            targets += [
                f"- {label}: server peak RSS growth ≤ {TUS_MEMORY_LIMIT_MIB} MiB: worst round "
                f"+{rss:.1f} MiB, {verdict(rss <= TUS_MEMORY_LIMIT_MIB)}.",
                f"- {label}: no temporary file: worst round {temp}, {verdict(temp == 0)}.",
            ]
        self.add(
            "## Resumable uploads (tus)",
            "",
            f"One {size} MiB file sent to one server, {measured['server']}, in a process of "
            "its own (its `TMPDIR` an empty folder of its own), whose Starlette app serves "
            "`gridfield.web.asgi.TusApp` and a plain route doing "
            "`await store.put(request.stream(), filename=...)` over the same `AsyncFileStore`: "
            f"as a tus upload (the creation POST, then {patches} PATCHes of "
            f"{measured['patch_size'] // MiB} MiB, each with its Content-Length), and as one "
            "streamed POST; sent by httpx, the file generated as it is sent, interleaved with "
            f"each other and the joins below for {measured['rounds']} rounds after a warm-up "
            "of each. Time: from "
            "the first request sent to the last response. The server's RSS and CPU time are "
            "sampled from outside with psutil; temporary files are the entries that appeared "
            "in its `TMPDIR` and the deleted files it held open (`/proc/<pid>/fd`) during the "
            "upload. After each upload the bucket held one files document whose length and "
            "SHA-256 matched the stream sent, with its full count of chunks, and the chunks "
            "read back hashed to the same SHA-256. "
            f"Measured {measured['date']} with `{measured['command']}`"
            f" in {measured['duration_s']:.0f} s"
            + (" (quick sizes)." if measured["quick"] else "."),
            "",
            "| median (min-max) of the rounds | tus upload | one streamed upload |",
            "|---|---|---|",
            row("MiB/s", "mib_s"),
            row("first request to last response, s", "seconds"),
            row("server peak RSS growth", "server_rss_growth_mib", " MiB"),
            row("server CPU, s", "server_cpu_s"),
            row("temporary files, each round", "temp_files"),
            "",
            f"The tus upload's median throughput is {ratio(rate['tus'], rate['stream'])} the "
            "streamed upload's (target ≥ 0.9x). Targets:",
            "",
            *targets,
            "",
        )
        self.tus_joins(measured)

    def tus_joins(self, measured: dict[str, Any]) -> None:
        """Joins against their parts, tus-js-client in parallel against one sequence."""
        if "join" not in measured:
            return
        joins = measured["join"]
        parts = [run["parts_s"] for run in joins]
        joined = [run["join_s"] for run in joins]
        per_round = [run["join_s"] / run["parts_s"] for run in joins]
        names = {
            "tusjs-1": "one sequence, to `/files`",
            "tusjs-2": "`parallelUploads: 2`, to `/files` (parts copied)",
            "tusjs-2-joins": "`parallelUploads: 2`, to `/joins` (parts joined in place)",
        }
        seconds = {v: [run["seconds"] for run in measured[v]] for v in names}
        rows = names.items()
        one = median(seconds["tusjs-1"])
        part = measured["part_size"] // MiB
        self.add(
            "### Joins and tus-js-client",
            "",
            f"In the same rounds, on the same server: two partial uploads of {part} MiB (each "
            f"a whole number of {measured['join_chunk'] // 1024} KiB chunks) sent one after the "
            f"other in {measured['patch_size'] // MiB} MiB PATCHes to a second `TusApp` "
            "(`/joins`, over a store of those chunks), then the final upload's POST, which "
            "joins them in place; and npm's tus-js-client (node) sending a "
            f"{2 * part} MiB file in one sequence and with `parallelUploads: 2`. Each stored "
            "file was checked as above.",
            "",
            "| median (min-max) of the rounds | s |",
            "|---|---|",
            f"| the two partial uploads | {cell(parts, None)} |",
            f"| the final POST (the join) | {cell(joined, None)} |",
            *(f"| tus-js-client, {label} | {cell(seconds[v], None)} |" for v, label in rows),
            "",
            f"The join took {median(per_round):.2f}x the time of the parts it joined (median of "
            "the rounds' ratios; target ≤ 2x); tus-js-client with `parallelUploads: 2` took "
            f"{median(seconds['tusjs-2']) / one:.2f}x one sequence's time to `/files` and "
            f"{median(seconds['tusjs-2-joins']) / one:.2f}x to `/joins` (target ≤ 2x).",
            "",
        )

    def render(self) -> str:
        self.header()
        self.targets()
        self.large()
        self.small()
        self.ranged()
        self.memory()
        self.cpu()
        self.serving()
        self.intake()
        self.checksum()
        self.dedup()
        self.encryption()
        self.server_scale()
        self.copy()
        self.django_intake()
        self.django_storage()
        self.tus()
        self.fsspec()
        self.footnotes()
        return "\n".join(self.lines).rstrip() + "\n"


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = results["systems"]
    keys = [k for k, v in systems.items() if v.get("available")]
    labels = {k: systems[k]["label"] for k in keys}
    fig, axes = plt.subplots(2, 2, figsize=(15, 10.5))
    colours = ["#4c72b0", "#dd8452"]

    def bars(ax: Any, rows: dict[str, dict[str, float | None]], title: str, unit: str) -> None:
        shown = [k for k in keys if k in rows]
        names = list(next(iter(rows.values())).keys()) if rows else []
        height = 0.8 / max(len(names), 1)
        for i, name in enumerate(names):
            values = [rows[k].get(name) or 0 for k in shown]
            positions = [y + i * height for y in range(len(shown))]
            ax.barh(positions, values, height=height, label=name, color=colours[i])
            for pos, value in zip(positions, values, strict=True):
                text = number(value) if value else "failed / n.a."
                ax.text(value, pos, " " + text, va="center", fontsize=7)
        ax.set_yticks([y + 0.4 - height / 2 for y in range(len(shown))])
        ax.set_yticklabels([labels[k] for k in shown], fontsize=8)
        for tick, key in zip(ax.get_yticklabels(), shown, strict=True):
            if key.startswith("gridfield"):
                tick.set_fontweight("bold")
        ax.invert_yaxis()
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(unit, fontsize=8)
        if len(names) > 1:  # below the axis: never over a bar
            ax.legend(
                fontsize=8, loc="upper right", bbox_to_anchor=(1.0, -0.09), ncol=2, frameon=False
            )
        ax.margins(x=0.18)

    large = results.get("large", {})
    if large:
        # The largest size the reference system read back: at bigger ones there is no ratio.
        complete = [s for s, t in large.items() if t.get(REFERENCE, {}).get("down")]
        size = max(complete or list(large), key=int)
        rows = {
            k: {"upload": median(v.get("up", [])), "download": median(v.get("down", []))}
            for k, v in large[size].items()
        }
        bars(axes[0][0], rows, f"Large files: {int(size) // MiB} MiB (median)", "MiB/s")
    small = {k: v for k, v in results.get("small", {}).items() if isinstance(v, dict)}
    if small:
        rows = {k: {"puts": median(v["put"]), "reads": median(v["read"])} for k, v in small.items()}
        size_kib = results["small"]["size"] // 1024
        bars(axes[0][1], rows, f"Small files: {size_kib} KiB (median)", "files/s")
    ranged = {
        k: v for k, v in results.get("ranged", {}).items() if isinstance(v, dict) and v.get("reads")
    }
    if ranged:
        rows = {k: {"chunk docs per read": v["chunk_docs"] / v["reads"]} for k, v in ranged.items()}
        length_kib = results["ranged"]["length"] // 1024
        ax = axes[1][0]
        bars(ax, rows, f"Ranged reads of {length_kib} KiB: chunk documents fetched per read", "")
        ax.set_xscale("log")
        covered = sum(v["covered"] for v in ranged.values()) / sum(
            v["reads"] for v in ranged.values()
        )
        ax.axvline(covered, color="grey", linestyle="--", linewidth=0.8)
        ax.text(
            covered,
            0.01,
            " chunks covered",
            fontsize=7,
            color="grey",
            transform=ax.get_xaxis_transform(),
        )
    memory = {k: v for k, v in results.get("memory", {}).items() if isinstance(v, dict)}
    if memory:
        rows = {
            k: {
                "upload": max(v["up"], default=None),
                "download": None if v.get("down_error") else max(v["down"], default=None),
            }
            for k, v in memory.items()
        }
        size_mib = results["memory"]["size"] // MiB
        ax = axes[1][1]
        bars(ax, rows, f"Peak RSS growth streaming {size_mib} MiB", "MiB")
        ax.axvline(MEMORY_LIMIT_MIB, color="grey", linestyle="--", linewidth=0.8)
        ax.text(
            MEMORY_LIMIT_MIB,
            0.01,
            f" {MEMORY_LIMIT_MIB} MiB",
            fontsize=7,
            color="grey",
            transform=ax.get_xaxis_transform(),
        )
    for ax in axes.flat:
        if not ax.has_data():
            ax.set_visible(False)
    server = results["meta"]["server"]
    where = (
        f"FerretDB {server['ferretdb']}"
        if server.get("ferretdb")
        else f"MongoDB {server['version']}"
    )
    fig.suptitle(f"gridfield benchmarks against {where}, {results['meta']['date']}", fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)


def write(results: dict[str, Any], markdown: Path, chart_path: Path) -> None:
    markdown.write_text(Report(results).render())
    chart(results, chart_path)

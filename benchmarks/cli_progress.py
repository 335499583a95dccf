"""What the command line's progress bar costs: its CPU time per second of a transfer.

Whole-command timings of ``gridfield put/get`` against a shared server are too noisy to
resolve a 2% difference, so this isolates the bar: the same simulated 128 MiB transfer
(255 KiB chunks reported at a steady rate, as the store's ``on_progress`` reports them)
runs with the bar drawn on a pseudo-terminal and with it hidden, and the process's CPU
time is compared. The terminal side is read by a ``cat``
child, so its CPU is not counted. The cost, as a share of one core over the transfer's
wall time, bounds the throughput a CPU-bound transfer would lose.

    .venv/bin/python benchmarks/cli_progress.py [--rate MIB_PER_S] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import pty
import statistics
import subprocess
import sys
import time

from gridfield.cli.progress import TransferBar

TOTAL = 128 * 1024 * 1024
BLOCK = 255 * 1024


def _transfer(rate: float, quiet: bool) -> tuple[float, float]:
    """Move TOTAL bytes through a bar at ``rate`` bytes/s; return (cpu s, wall s)."""
    interval = BLOCK / rate
    cpu, wall = time.process_time(), time.perf_counter()
    with TransferBar("put", TOTAL, quiet=quiet) as bar:
        bar.name("big.bin")
        moved = bar.for_file()  # what the store's on_progress calls (None when hidden)
        sent, due = 0, time.perf_counter()
        while sent < TOTAL:
            sent += min(BLOCK, TOTAL - sent)
            if moved is not None:
                moved(sent, TOTAL)
            due += interval
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=16.0, help="MiB/s (default 16)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    leader, follower = pty.openpty()
    reader = subprocess.Popen(
        ["cat"], stdin=leader, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    saved = os.dup(2)
    os.dup2(follower, 2)  # the bar's console sees a terminal on stderr
    costs: list[float] = []
    try:
        for _ in range(args.rounds):
            shown_cpu, _ = _transfer(args.rate * 1024 * 1024, quiet=False)
            quiet_cpu, quiet_wall = _transfer(args.rate * 1024 * 1024, quiet=True)
            costs.append((shown_cpu - quiet_cpu) / quiet_wall)
    finally:
        os.dup2(saved, 2)
        os.close(follower)
        reader.wait(timeout=10)
        os.close(leader)
    mib = TOTAL // (1024 * 1024)
    print(
        f"bar on a terminal, {mib} MiB at {args.rate:g} MiB/s, {args.rounds} rounds:"
        f" CPU cost {statistics.median(costs):.2%} of one core over the transfer"
        f" (min {min(costs):.2%}, max {max(costs):.2%})",
        file=sys.stdout,
    )


if __name__ == "__main__":
    main()

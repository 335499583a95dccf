"""Draw docs/cli-progress.png: the gridfield command's progress bar as a terminal shows it.

Runs ``gridfield put`` of a 64 MiB file in a detached tmux window, captures the pane with
its colours mid-transfer (``tmux capture-pane -e``) and draws the captured text with Pillow.
Needs tmux, the ``cli`` extra and Pillow; the server comes from ``scripts/mongo-server``.

    .venv/bin/python scripts/cli_screenshot.py [OUT.png]
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from pymongo import MongoClient
from rich.console import Console
from rich.terminal_theme import MONOKAI
from rich.text import Text

ROOT = Path(__file__).resolve().parent.parent
GRIDFIELD = Path(sys.executable).with_name("gridfield")
COLUMNS, ROWS = 96, 5
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BOLD_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
SIZE, PAD = 18, 16


def capture(uri: str, folder: Path) -> str:
    """The pane's text with its escape sequences, once the bar is about a third along."""
    source = folder / "video.mp4"
    with open(source, "wb") as out:
        for _ in range(16):
            out.write(os.urandom(4 * 1024 * 1024))
    db = f"gridfield_screenshot_{uuid.uuid4().hex}"
    command = [str(GRIDFIELD), "--uri", uri, "--db", db, "put", "video.mp4", "--type", "video/mp4"]
    shown = "gridfield put video.mp4 --type video/mp4"
    script = f"printf '%s\\n' {shlex.quote('$ ' + shown)}; {shlex.join(command)}; sleep 60"
    session = f"shot-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        [
            *("tmux", "new-session", "-d", "-s", session),
            *("-x", str(COLUMNS), "-y", str(ROWS), "-c", str(folder)),
            *("sh", "-c", script),
        ],
        check=True,
        env={**os.environ, "TERM": "xterm-256color"},
    )
    shot = ""
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            time.sleep(0.2)
            pane = _pane(session)
            plain = Text.from_ansi(pane).plain
            if not shot and any(f" {p}%" in plain for p in range(30, 60)):
                shot = pane
            if "added video.mp4" in plain:  # finished: nothing is left half-written
                break
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
        client: MongoClient[dict[str, Any]] = MongoClient(uri)
        client.drop_database(db)
        client.close()
    if not shot:
        raise SystemExit("no progress bar between 30% and 60% was seen in the tmux pane")
    return shot


def _pane(session: str) -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-e", "-p", "-t", session],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def draw(ansi: str, out: Path) -> None:
    """Draw the captured text, cell by cell, in the Monokai terminal colours."""
    regular = ImageFont.truetype(FONT, SIZE)
    bold = ImageFont.truetype(BOLD_FONT, SIZE)
    cell_w, cell_h = regular.getlength("M"), int(SIZE * 1.35)
    lines = ansi.rstrip("\n").split("\n")
    width = int(PAD * 2 + cell_w * COLUMNS)
    height = PAD * 2 + cell_h * len(lines)
    image = Image.new("RGB", (width, height), MONOKAI.background_color)
    pen = ImageDraw.Draw(image)
    console = Console(width=COLUMNS, color_system="truecolor", force_terminal=True)
    for row, line in enumerate(lines):
        x = float(PAD)
        y = PAD + row * cell_h
        for segment in Text.from_ansi(line).render(console):
            style = segment.style
            colour = MONOKAI.foreground_color
            if style is not None and style.color is not None:
                colour = style.color.get_truecolor(MONOKAI)
            font = bold if style is not None and style.bold else regular
            for char in segment.text:
                pen.text((x, y), char, font=font, fill=tuple(colour))
                x += cell_w
    image.save(out)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "cli-progress.png"
    uri = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "mongo-server")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as folder:
        ansi = capture(uri, Path(folder))
    draw(ansi, out)
    print(out)


if __name__ == "__main__":
    main()

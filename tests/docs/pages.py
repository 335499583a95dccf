"""The documentation's pages and their python blocks, as the examples runner reads them."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<ticks>`{3,}|~{3,})\s*(?P<info>[^\n`]*)$")
SNIPPET = re.compile(r"""^--8<--\s+["']?(?P<path>[^"'\s]+)["']?$""")


@dataclass(frozen=True)
class Block:
    """One python block of a page: its code, the line it starts on, and the file it shows
    when it is nothing but a snippet line (``--8<-- "examples/x.py"``)."""

    page: Path
    line: int
    code: str

    @property
    def shown_file(self) -> str | None:
        match = SNIPPET.match(self.code.strip())
        return match.group("path") if match else None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def pages() -> list[Path]:
    """README.md, then every Markdown page under docs/, in path order."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def python_blocks(page: Path) -> list[Block]:
    """The page's fenced blocks whose language is python (``python``, or ``py``), in order,
    dedented when they sit inside a list item."""
    blocks = []
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        ticks = opening.group("ticks")
        language = opening.group("info").split()[0].lstrip(".{") if opening.group("info") else ""
        start = index + 1
        index = start
        while index < len(lines):
            closing = FENCE.match(lines[index])
            if closing and closing.group("ticks").startswith(ticks) and not closing.group("info"):
                break
            index += 1
        if language in ("python", "py"):
            code = textwrap.dedent("\n".join(lines[start:index]))
            blocks.append(Block(page, start, code + "\n"))
        index += 1
    return blocks

"""MkDocs hooks of the documentation site (mkdocs.yml names this file).

- A line ``<!-- api: gridfield -->`` (or ``gridfield.sync``) in a page becomes one
  mkdocstrings entry per public name of that API that gridfield defines, in ``__all__``
  order: the reference follows the API as names are added, with no list to keep.
- A line ``<!-- include: PATH -->`` becomes that file of the repository (less its first
  heading), its links to other files of the repository turned into links to their pages:
  the benchmark report and notes stay where ``./dev bench`` writes and reads them.
- Pictures the rest of the repository keeps (the benchmark chart) are published at the same
  path in the site, so a page shows them without a copy in docs/.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
PICTURES = ["benchmarks/chart.png"]
API_LINE = re.compile(r"^<!-- api: ([\w.]+) -->$", re.M)
INCLUDE_LINE = re.compile(r"^<!-- include: ([\w./-]+) -->$", re.M)
# Where an included file's links to the repository's files point in the site.
SITE_LINKS = {
    "benchmarks/NOTES.md": "benchmark-notes.md",
    "../BENCHMARKS.md": "benchmarks.md",
    "BENCHMARKS.md": "benchmarks.md",
}
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def api_entries(module_name: str) -> str:
    """The mkdocstrings entries of one API's own public names (not MongoEngine's)."""
    module = importlib.import_module(module_name)
    entries = []
    for name in module.__all__:
        value = getattr(module, name)
        home = getattr(value, "__module__", "") or ""
        if not home.startswith("gridfield"):
            continue
        if module_name == "gridfield.sync" and not home.startswith("gridfield._sync"):
            # Shared by both APIs (errors, options, the core's values): documented once, on
            # the async page, so each name has one home a cross-reference can point at.
            continue
        entries.append(f"::: {home}.{name}\n    options:\n      show_root_full_path: false\n")
    return "\n".join(entries)


def included(path: str) -> str:
    """A repository file as a part of a page: its first heading dropped, its links mapped."""
    text = (ROOT / path).read_text(encoding="utf-8")
    first, _, rest = text.partition("\n")
    if first.startswith("# "):
        text = rest

    def site_link(match: re.Match[str]) -> str:
        target = SITE_LINKS.get(match.group(1), match.group(1))
        return f"]({target}{match.group(2) or ''})"

    return LINK.sub(site_link, text)


def on_page_markdown(markdown: str, **_: Any) -> str:
    markdown = INCLUDE_LINE.sub(lambda match: included(match.group(1)), markdown)
    return API_LINE.sub(lambda match: api_entries(match.group(1)), markdown)


def on_files(files: Files, config: Any, **_: Any) -> Files:
    for picture in PICTURES:
        if (ROOT / picture).exists():
            files.append(
                File(
                    picture,
                    src_dir=str(ROOT),
                    dest_dir=config["site_dir"],
                    use_directory_urls=False,
                )
            )
    return files

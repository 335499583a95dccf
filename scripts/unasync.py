"""Generate the sync twin of gridfield from its async source, or check that it is in step.

    python scripts/unasync.py           # rewrite src/gridfield/_sync and tests/_sync
    python scripts/unasync.py --check   # exit 1 with a diff: a twin file stale, missing or orphan
                                        # (or its text telling a sync user to await)

The rewrite is token based (the ``unasync`` package): ``async``/``await`` go, the package's own
names (``__aenter__``, ``AsyncIterator``...) are mapped, and so is every entry of ``REPLACEMENTS``
below. Any ``Async[A-Z]...`` name in the sources that the tables do not map is an error, and so is
an entry of ``OUR_NAMES`` that no source uses: the table says exactly what the twins differ by.
The hand-written pairs behind most of its entries live in ``src/gridfield/_twins.py``.

The rewrite leaves strings alone, so a message or docstring written for the async API would
tell a sync user to ``await``: ``--check`` also fails when a string or docstring of a generated
file holds the word ``await``, or ``async with``, ``async for`` or ``async def``. Word such text
for both APIs, or build it with a pair.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import os
import re
import subprocess
import sys
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# This file is called unasync.py: with its own folder first on sys.path, ``import unasync``
# would import this script instead of the package.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import tokenize_rt  # noqa: E402

import unasync  # noqa: E402

ROOT = Path(_HERE).parent

# (async source folder, generated sync folder), relative to the repository root.
TWINS = (
    ("src/gridfield/_async", "src/gridfield/_sync"),
    ("tests/_async", "tests/_sync"),
)


def twin_pairs() -> dict[str, str]:
    """The ``PAIRS`` table of ``src/gridfield/_twins.py`` (async member -> sync member), read
    from its source without importing it: the pairs are written down once, beside their code."""
    tree = ast.parse((ROOT / "src" / "gridfield" / "_twins.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == "PAIRS":
            assert node.value is not None
            table = ast.literal_eval(node.value)
            assert isinstance(table, dict)
            return {str(k): str(v) for k, v in table.items()}
    raise SystemExit("src/gridfield/_twins.py has no PAIRS table")


# Our own names the twins differ by. Each must be used by some source: a stale entry is an error.
OUR_NAMES: dict[str, str] = {
    "_async": "_sync",
    "async_client": "sync_client",
    "AsyncBucket": "Bucket",
    "AsyncChunkWriter": "ChunkWriter",
    "AsyncFieldLeases": "FieldLeases",
    "AsyncLeases": "Leases",
    "async_db": "sync_db",
    "AsyncBucketSide": "BucketSide",
    "AsyncChunkReader": "ChunkReader",
    "AsyncDigestClaims": "DigestClaims",
    "AsyncClosing": "Closing",
    "AsyncDownloadStream": "DownloadStream",
    "AsyncFileStore": "FileStore",
    "AsyncGridFiles": "GridFiles",
    "AsyncNewFile": "NewFile",
    "AsyncQuerySet": "QuerySet",
    "AsyncQuerySetManager": "QuerySetManager",
    "AsyncReceived": "Received",
    "AsyncResumableStore": "ResumableStore",
    "AsyncStoreParts": "StoreParts",
    "AsyncTreeSide": "TreeSide",
    "AsyncUploadRegistry": "UploadRegistry",
    "AsyncUploadStream": "UploadStream",
    "lands_in_async_sink": "refused_by_the_sync_api",  # tests/sinks.py
    # the pairs of src/gridfield/_twins.py, read from its PAIRS table (see twin_pairs)
    **twin_pairs(),
    # the pairs of tests/concurrency.py and tests/readers.py
    "run_together": "run_in_threads",
    "TaskReader": "ThreadReader",
}

# Names of the drivers and the standard library: a fixed vocabulary, used or not.
DRIVER_NAMES: dict[str, str] = {
    # PyMongo's async API -> its sync API
    "AsyncClientSession": "ClientSession",
    "AsyncCollection": "Collection",
    "AsyncCommandCursor": "CommandCursor",
    "AsyncCursor": "Cursor",
    "AsyncDatabase": "Database",
    "AsyncGridFSBucket": "GridFSBucket",
    "AsyncMongoClient": "MongoClient",
    # Motor -> PyMongo's sync API
    "AsyncIOMotorClient": "MongoClient",
    "AsyncIOMotorCollection": "Collection",
    "AsyncIOMotorDatabase": "Database",
    "AsyncIOMotorGridFSBucket": "GridFSBucket",
    # builtins and contextlib
    "aclose": "close",
    "aclosing": "closing",
    "aiter": "iter",
    "anext": "next",
    "AsyncExitStack": "ExitStack",
}

REPLACEMENTS = {**DRIVER_NAMES, **OUR_NAMES}

_ASYNC_NAME = re.compile(r"^Async[A-Z]")
# What a sync user cannot do, in the text of a generated file.
_ASYNC_TEXT = re.compile(r"\bawait\b|\basync\s+(?:with|for|def)\b")
# Python 3.12 splits f-strings into parts; their text is in FSTRING_MIDDLE tokens.
_TEXT_TOKENS = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
HEADER = "# Generated from {source} by scripts/unasync.py: do not edit.\n"


@dataclass
class Generation:
    """What one run would write: the expected content of every twin file."""

    expected: dict[Path, str] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    unmapped: list[str] = field(default_factory=list)


def _python_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*.py")):
        if "__pycache__" not in path.parts:
            yield path


def _ruff(args: list[str], source: str, dest: Path, root: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--stdin-filename", str(dest), "-"],
        input=source,
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
    )
    if done.returncode not in (0, 1) or not done.stdout:
        raise SystemExit(f"ruff {' '.join(args)} failed on {dest}:\n{done.stderr}")
    return done.stdout


def _rewrite(source: Path, dest: Path, root: Path, rule: unasync.Rule, gen: Generation) -> str:
    text = source.read_text(encoding="utf-8")
    tokens = tokenize_rt.src_to_tokens(text)
    rel = source.relative_to(root).as_posix()
    for token in tokens:
        names = []
        if token.name == "NAME":
            names.append(token.src)
        elif token.name == "STRING":
            names.append(token.src[1:-1])
        for name in names:
            if name in OUR_NAMES:
                gen.used.add(name)
            elif _ASYNC_NAME.match(name) and name not in rule.token_replacements:
                gen.unmapped.append(f"{rel}:{token.line}: {name}")
    body = tokenize_rt.tokens_to_src(list(rule._unasync_tokens(tokens)))
    out = HEADER.format(source=rel) + body
    # isort first: a renamed import may now sort elsewhere; then the project's formatting.
    out = _ruff(["check", "--fix-only", "--select", "I", "--quiet"], out, dest, root)
    return _ruff(["format", "--quiet"], out, dest, root)


def generate(root: Path) -> Generation:
    """Compute every twin file from its async source under ``root``."""
    rule = unasync.Rule("/_async/", "/_sync/", additional_replacements=REPLACEMENTS)
    gen = Generation()
    for src_dir, dst_dir in TWINS:
        for source in _python_files(root / src_dir):
            dest = root / dst_dir / source.relative_to(root / src_dir)
            gen.expected[dest] = _rewrite(source, dest, root, rule, gen)
    return gen


def _existing(root: Path) -> set[Path]:
    return {p for _, dst in TWINS for p in _python_files(root / dst)}


def _unmapped(gen: Generation) -> list[str]:
    return [f"unmapped async name (add it to OUR_NAMES or DRIVER_NAMES): {u}" for u in gen.unmapped]


def _unused(gen: Generation) -> list[str]:
    return [f"OUR_NAMES entry used by no source: {n}" for n in sorted(set(OUR_NAMES) - gen.used)]


def async_text(source: str) -> list[tuple[int, str]]:
    """(line, words) for each string or docstring of ``source`` that says the word ``await``, or
    ``async with``, ``async for`` or ``async def``.

    Token based: comments and code are not text a user reads, and are left alone.
    """
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in _TEXT_TOKENS:
            said = _ASYNC_TEXT.search(token.string)
            if said:
                found.append((token.start[0], " ".join(said.group().split())))
    return found


def _async_text_problems(root: Path, gen: Generation) -> list[str]:
    # The text as generated (a source to fix) and as on disk (a twin edited by hand).
    texts = [(dest, text) for dest, text in gen.expected.items()]
    texts += [(dest, dest.read_text(encoding="utf-8")) for dest in _existing(root)]
    found = {(dest, line, words) for dest, text in texts for line, words in async_text(text)}
    return [
        f"async words in sync text: {dest.relative_to(root).as_posix()}:{line}: says "
        f"{words!r}: word it for both APIs or build it with a pair of src/gridfield/_twins.py"
        for dest, line, words in sorted(found)
    ]


def check(root: Path, gen: Generation) -> list[str]:
    """Return one problem per stale, missing or orphan twin file, with a diff for stale ones."""
    problems = []
    for dest, want in sorted(gen.expected.items()):
        rel = dest.relative_to(root).as_posix()
        if not dest.exists():
            problems.append(f"missing: {rel}")
            continue
        have = dest.read_text(encoding="utf-8")
        if have != want:
            diff = difflib.unified_diff(
                have.splitlines(keepends=True),
                want.splitlines(keepends=True),
                f"{rel} (on disk)",
                f"{rel} (generated)",
            )
            problems.append(f"stale: {rel}\n{''.join(diff)}")
    for orphan in sorted(_existing(root) - set(gen.expected)):
        problems.append(f"orphan (its async source is gone): {orphan.relative_to(root).as_posix()}")
    return problems


def write(root: Path, gen: Generation) -> list[str]:
    """Bring the twin folders in step; return what changed."""
    changed = []
    for dest, want in sorted(gen.expected.items()):
        if not dest.exists() or dest.read_text(encoding="utf-8") != want:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(want, encoding="utf-8")
            changed.append(f"wrote {dest.relative_to(root).as_posix()}")
    for orphan in sorted(_existing(root) - set(gen.expected)):
        orphan.unlink()
        changed.append(f"removed {orphan.relative_to(root).as_posix()}")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if any twin file is out of step")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root (for tests)")
    args = parser.parse_args(argv)
    root = args.root.resolve()

    gen = generate(root)
    unmapped = _unmapped(gen)
    if unmapped:
        # the output would hold a wrong name: write nothing
        print("\n".join(unmapped), file=sys.stderr)
        return 2
    if args.check:
        problems = _unused(gen) + _async_text_problems(root, gen) + check(root, gen)
        if problems:
            print("\n".join(problems), file=sys.stderr)
            print(
                f"{len(problems)} problem(s) with the sync twin: fix the async source where "
                "one is named, then run python scripts/unasync.py",
                file=sys.stderr,
            )
            return 1
        print(f"sync twin in step ({len(gen.expected)} files)")
        return 0
    for line in write(root, gen):
        print(line)
    unusable = _unused(gen) + _async_text_problems(root, gen)
    if unusable:
        print("\n".join(unusable), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

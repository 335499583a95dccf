"""What the two APIs share and how they differ: the public names, the imports, the pairs."""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import gridfield
import gridfield.sync
from gridfield._sync.store import FileStore
from gridfield._twins import run_off_loop

SRC = Path(gridfield.__file__).parent
_ASYNC_PREFIX = re.compile(r"^Async(?=[A-Z])")


def sync_name(name: str) -> str:
    """The rule of docs/sync.md: a name that differs starts ``Async`` in the async API only."""
    return _ASYNC_PREFIX.sub("", name)


def test_both_apis_export_the_same_names_by_the_async_prefix_rule() -> None:
    async_names = set(gridfield.__all__)
    sync_names = set(gridfield.sync.__all__)
    assert {sync_name(n) for n in async_names} == sync_names
    assert len(async_names) == len(sync_names)  # no two async names fold into one
    for name in async_names:
        assert hasattr(gridfield, name), name
        assert hasattr(gridfield.sync, sync_name(name)), name


def test_names_of_the_twins_are_their_own_and_shared_names_are_shared() -> None:
    for name in gridfield.__all__:
        ours, theirs = getattr(gridfield, name), getattr(gridfield.sync, sync_name(name))
        module = getattr(ours, "__module__", "") or ""
        if module.startswith("gridfield._async"):
            assert theirs.__module__ == module.replace("_async", "_sync"), name
        else:  # the core, and MongoEngine's plain fields: one object serves both
            assert ours is theirs, name


def _imported_modules(path: Path) -> set[str]:
    """Absolute names of the gridfield modules ``path`` imports."""
    here = list(path.relative_to(SRC.parent).parts[:-1])  # the package holding the module
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            found.add(".".join([*base, *(node.module or "").split(".")]).strip("."))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("gridfield")}


def _sources(folder: str) -> list[Path]:
    return sorted((SRC / folder).rglob("*.py"))


def test_core_and_odm_import_no_twin_and_twins_never_import_each_other() -> None:
    no_twin = ("gridfield._async", "gridfield._sync", "gridfield._twins")
    rules = {"core": no_twin, "odm": no_twin}
    rules["_async"] = ("gridfield._sync",)
    rules["_sync"] = ("gridfield._async",)
    for folder, forbidden in rules.items():
        assert _sources(folder), folder  # a package that moved would pass unseen
        for path in _sources(folder):
            bad = {m for m in _imported_modules(path) if m.startswith(forbidden)}
            assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"
    pairs = _imported_modules(SRC / "_twins.py")
    assert not {m for m in pairs if m.startswith(("gridfield._async", "gridfield._sync"))}


_CHUNK_READERS = {SRC / "_async" / "chunk_reader.py", SRC / "_sync" / "chunk_reader.py"}
_READS = {"find", "find_one", "find_raw_batches", "aggregate", "aggregate_raw_batches"}


def _chunk_reads(path: Path) -> list[str]:
    """The calls in ``path`` that query a chunks collection (``<...>.chunks.find(...)``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _READS
            and ast.unparse(node.func.value).split(".")[-1] in {"chunks", "_chunk_reads"}
        ):
            found.append(f"{path.relative_to(SRC)}:{node.lineno}: {ast.unparse(node.func)}")
    return found


def test_only_the_chunk_reader_queries_chunks() -> None:
    """Every read of chunk documents goes through the one chunk reader and its checks."""
    sources = [p for p in SRC.rglob("*.py") if p not in _CHUNK_READERS]
    assert [call for path in sources for call in _chunk_reads(path)] == []
    assert _chunk_reads(SRC / "_async" / "chunk_reader.py") == []  # it names its collection
    assert "self.collection.find(" in (SRC / "_async" / "chunk_reader.py").read_text()


def test_the_import_reader_resolves_relative_imports() -> None:
    # the check above is only as good as this: a known import of each kind is seen
    assert "gridfield._twins" in _imported_modules(SRC / "_async" / "connection.py")
    assert "gridfield.core.errors" in _imported_modules(SRC / "_async" / "proxy.py")
    assert "gridfield._async.store" in _imported_modules(SRC / "_async" / "__init__.py")
    assert "gridfield.odm.classes" in _imported_modules(SRC / "odm" / "holders.py")
    assert "gridfield.core.numbers" in _imported_modules(SRC / "_async" / "queryset.py")


async def test_cpu_work_runs_off_the_event_loop() -> None:
    loop_thread = threading.get_ident()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    started, release = threading.Event(), threading.Event()

    def work() -> int:
        started.set()
        release.wait(timeout=30)
        return threading.get_ident()

    ticker = asyncio.create_task(tick())
    running = asyncio.ensure_future(run_off_loop(work))
    try:
        while not started.is_set():
            await asyncio.sleep(0.001)
        before = ticks
        await asyncio.sleep(0.01)
        assert ticks > before  # the loop kept running while the work waited
        release.set()
        assert await running != loop_thread
    finally:
        release.set()
        ticker.cancel()


def test_the_sync_api_refuses_an_async_iterable_before_writing(sync_db: Any) -> None:
    async def pieces() -> Any:
        yield b"never read"

    source = pieces()
    with pytest.raises(TypeError, match="cannot store async_generator"):
        FileStore(sync_db).put(source)
    assert sync_db["fs.files"].count_documents({}) == 0
    assert sync_db["fs.chunks"].count_documents({}) == 0


# What an extra brings, and so what ``import gridfield`` must not need.
EXTRAS_ONLY = [
    "PIL",
    "aiohttp",
    "beanie",
    "click",
    "cryptography",
    "django",
    "fastapi",
    "flask",
    "multipart",
    "opentelemetry",
    "pydantic",
    "pymongocrypt",
    "python_multipart",
    "rich",
    "starlette",
    "uvicorn",
    "waitress",
    "werkzeug",
]


def test_both_apis_import_with_the_runtime_dependencies_alone() -> None:
    # In a fresh interpreter where every extra's package fails to import, as on a plain
    # `pip install gridfield`.
    program = f"""
import importlib.abc, sys
class NoExtras(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {EXTRAS_ONLY!r}:
            raise ImportError(f"{{name}} is not installed")
        return None
sys.meta_path.insert(0, NoExtras())
import gridfield, gridfield.sync, gridfield.core.tus, gridfield.odm
print(len(gridfield.__all__))
"""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 0


_BUCKET_COLLECTIONS = ("files", "chunks", "uploads", "holds", "resumable", "digests")
_BUCKET_MODULES = {"_async/bucket.py", "_sync/bucket.py"}


def _literal_text(node: ast.AST) -> str | None:
    """The literal text of a str constant, or of an f-string with its fields left out."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
        )
    return None


def _chain(node: ast.AST) -> list[str]:
    """``self._store.bucket`` as ``["self", "_store", "bucket"]`` (calls and subscripts end
    the chain)."""
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        names.append(node.id)
    return names[::-1]


def collections_named(tree: ast.AST) -> list[tuple[int, str]]:
    """Where a module names a bucket's collection itself: a collection name built from a
    suffix (``db[f"{name}.chunks"]``, ``"fs.holds"``), or a store's collection reached
    without its bucket (``store.chunks``)."""
    found: list[tuple[int, str]] = []
    inner = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    for node in ast.walk(tree):
        text = None if id(node) in inner else _literal_text(node)
        if text is not None and text.endswith(tuple(f".{c}" for c in _BUCKET_COLLECTIONS)):
            found.append((getattr(node, "lineno", 0), repr(text)))
        if isinstance(node, ast.Attribute) and node.attr in _BUCKET_COLLECTIONS:
            chain = _chain(node.value)
            if chain and chain[-1] in {"store", "_store"}:
                found.append((node.lineno, ".".join([*chain, node.attr])))
    return found


def test_only_the_bucket_module_names_a_bucket_collection() -> None:
    sources = [p for p in SRC.rglob("*.py") if p.relative_to(SRC).as_posix() not in _BUCKET_MODULES]
    assert len(sources) > 50  # the whole package is read, not a folder that moved
    offences = [
        f"{path.relative_to(SRC)}:{line}: {what}"
        for path in sources
        for line, what in collections_named(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not offences, "\n".join(offences)


def test_the_collection_finder_sees_each_way_of_naming_one() -> None:
    planted = """
db[f"{store.collection_name}.resumable"]
db["fs.chunks"]
store.bucket.chunks.find({})
self._store.holds.insert_one({})
received.files.append(1)
"""
    found = [what for _, what in collections_named(ast.parse(planted))]
    assert found == ["'{}.resumable'", "'fs.chunks'", "self._store.holds"]
    bucket = (SRC / "_async" / "bucket.py").read_text(encoding="utf-8")
    assert len(collections_named(ast.parse(bucket))) == len(_BUCKET_COLLECTIONS)


_CHUNK_WRITES = {"insert_one", "insert_many", "delete_one", "delete_many", "update_one"}
_CHUNK_WRITES |= {"update_many", "replace_one", "bulk_write", "find_one_and_update"}
_WRITER_MODULES = {"_async/chunk_writer.py", "_sync/chunk_writer.py"}


def chunk_and_file_writes(tree: ast.AST) -> list[tuple[int, str]]:
    """Where a module writes chunks (any write on a ``chunks`` collection) or inserts a
    files document (an insert on a ``files`` collection) itself."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        chain = _chain(node.func.value)
        if not chain:
            continue
        method = node.func.attr
        chunks = chain[-1] in {"chunks", "chunk_reads"} and method in _CHUNK_WRITES
        files = chain[-1] in {"files", "files_recheck"} and method.startswith("insert")
        if chunks or files:
            found.append((node.lineno, ".".join([*chain, method])))
    return found


def test_only_the_chunk_writer_writes_chunks_and_inserts_files_documents() -> None:
    sources = [p for p in SRC.rglob("*.py") if p.relative_to(SRC).as_posix() not in _WRITER_MODULES]
    offences = [
        f"{path.relative_to(SRC)}:{line}: {what}"
        for path in sources
        for line, what in chunk_and_file_writes(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not offences, "\n".join(offences)
    planted = "store.bucket.chunks.delete_many({})\nbucket.files.insert_one({})\nx.files.find({})"
    assert [w for _, w in chunk_and_file_writes(ast.parse(planted))] == [
        "store.bucket.chunks.delete_many",
        "bucket.files.insert_one",
    ]
    writer = (SRC / "_async" / "chunk_writer.py").read_text(encoding="utf-8")
    assert chunk_and_file_writes(ast.parse(writer))  # the finder sees the writer's own


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_names_defined(tree: ast.AST) -> set[str]:
    """The private names a module defines: functions, classes, module globals, and the
    attributes its methods set on ``self`` or ``cls``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and _chain(node.value) in (["self"], ["cls"])
        ):
            names.add(node.attr)
    return {name for name in names if _private(name)}


def private_names_used(tree: ast.AST) -> list[tuple[int, str]]:
    """The private names a module reaches on something not its own ``self``/``cls``, and
    those it imports."""
    used: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            if _chain(node.value) not in (["self"], ["cls"]):
                used.append((node.lineno, node.attr))
        elif isinstance(node, ast.ImportFrom):
            used.extend((node.lineno, a.name) for a in node.names if _private(a.name))
    return used


def _third_party_privates() -> set[str]:
    """Private names the libraries gridfield builds on define on the objects it is handed
    (a MongoEngine document's ``_meta``, a Django model's ``_state``...): theirs to use."""
    import django.db.models
    import mongoengine
    import mongoengine.base
    import mongoengine.connection
    import mongoengine.queryset

    names = set(dir(mongoengine.connection)) | set(dir(django.db.models.Model))
    for kind in (
        mongoengine.Document,
        mongoengine.DynamicDocument,
        mongoengine.EmbeddedDocument,
        mongoengine.queryset.QuerySet,
        mongoengine.base.BaseField,
        mongoengine.fields.FileField,
        mongoengine.fields.GridFSProxy,
    ):
        names |= set(dir(kind))
    # Set on instances by MongoEngine's and Django's constructors, so absent from dir() of
    # the class.
    names |= {"_data", "_document", "_created", "_initialised", "_changed_fields", "_state"}
    return {name for name in names if _private(name)}


def test_no_module_uses_another_modules_private_names() -> None:
    sources = [p for p in SRC.rglob("*.py") if "_sync" not in p.parts]
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in sources}
    defined = {path: private_names_defined(tree) for path, tree in trees.items()}
    ours = set().union(*defined.values()) - _third_party_privates()
    offences = []
    for path, tree in trees.items():
        own = set(defined[path])
        for line, name in private_names_used(tree):
            if name in ours and name not in own:
                offences.append(f"{path.relative_to(SRC)}:{line}: {name}")
    assert not offences, "\n".join(offences)


def test_the_private_name_finder_sees_reach_ins_and_imports() -> None:
    tree = ast.parse("from .store import _hidden\nself._mine\nstore._theirs\nself._a._b\n")
    assert private_names_used(tree) == [(1, "_hidden"), (3, "_theirs"), (4, "_b")]
    defined = ast.parse("class A:\n    def f(self):\n        self._x = 1\n_y = 2\ndef _z(): pass")
    assert private_names_defined(defined) == {"_x", "_y", "_z"}


def test_every_pair_of_the_twins_module_is_in_its_one_table() -> None:
    """``_twins.PAIRS`` is the one list of pairs (the generator reads it): each member is
    defined there, and every public function or class there is a member of some pair."""
    from gridfield import _twins

    members = set(_twins.PAIRS) | set(_twins.PAIRS.values())
    assert all(hasattr(_twins, name) for name in members), members
    tree = ast.parse((SRC / "_twins.py").read_text(encoding="utf-8"))
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    defined = {n.name for n in tree.body if isinstance(n, kinds) and not n.name.startswith("_")}
    assert defined - members == set()
    for second in _twins.PAIRS.values():  # a sync member is never awaited
        assert not inspect.iscoroutinefunction(getattr(_twins, second)), second

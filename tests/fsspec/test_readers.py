"""Real readers of the data stack through ``gridfs://``: pandas, pyarrow, DuckDB and dask, on
the real server, with the storage options a user passes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import fsspec
from gridfield.fsspec import GridFSFileSystem
from tests.conftest import fresh_db_name
from tests.fsspec.chunk_counter import ChunkCounter
from tests.fsspec.conftest import close_fs, make_fs

# The Parquet file of the chunk-count test: 10 float64 columns (plus a sorted id) of 750,000
# rows, uncompressed, in 75 row groups: 77 MiB in 64 KiB chunks (1,231 chunks). Sized to
# stay under a minute on FerretDB on a loaded machine (every chunks query scans the whole
# chunks collection there); the reads are the same for a bigger file.
ROWS = 750_000
ROW_GROUPS = 75
PARQUET_CHUNK = 64 * 1024
COLUMNS = [f"c{i}" for i in range(10)]


@pytest.fixture
def storage_options(mongo_uri: str) -> Iterator[dict[str, Any]]:
    """What a user passes as ``storage_options=``: a URI and a fresh database."""
    options = {"uri": mongo_uri, "database": fresh_db_name()}
    yield options
    fs = fsspec.filesystem("gridfs", **options)
    close_fs(fs)
    GridFSFileSystem.clear_instance_cache()


def test_pandas_reads_and_writes_through_storage_options(storage_options: dict[str, Any]) -> None:
    frame = pd.DataFrame({"animal": ["marmot", "pika", "vole"], "weight": [4.2, 0.15, 0.03]})
    frame.to_csv("gridfs://zoo/animals.csv", index=False, storage_options=storage_options)
    back = pd.read_csv("gridfs://zoo/animals.csv", storage_options=storage_options)
    pd.testing.assert_frame_equal(back, frame)
    frame.to_parquet("gridfs://zoo/animals.parquet", storage_options=storage_options)
    read = pd.read_parquet(
        "gridfs://zoo/animals.parquet", columns=["weight"], storage_options=storage_options
    )
    pd.testing.assert_frame_equal(read, frame[["weight"]])
    fs = fsspec.filesystem("gridfs", **storage_options)
    assert fs.ls("zoo", detail=False) == ["zoo/animals.csv", "zoo/animals.parquet"]


def _column_chunk_range(column: Any) -> tuple[int, int]:
    start = column.data_page_offset
    if column.has_dictionary_page and column.dictionary_page_offset is not None:
        start = min(start, column.dictionary_page_offset)
    return start, start + column.total_compressed_size


def _chunks_of(start: int, end: int) -> set[int]:
    return set(range(start // PARQUET_CHUNK, (end - 1) // PARQUET_CHUNK + 1))


def test_pyarrow_fetches_only_the_footer_and_the_selected_row_groups(mongo_uri: str) -> None:
    rng = np.random.default_rng(26)
    table = pa.table({"id": np.arange(ROWS), **{name: rng.random(ROWS) for name in COLUMNS}})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=ROWS // ROW_GROUPS, compression="none")
    data = buffer.getvalue()
    counter = ChunkCounter()
    fs = make_fs("sync", mongo_uri, fresh_db_name(), [counter], chunk_size=PARQUET_CHUNK)
    try:
        fs.pipe_file("big/table.parquet", data)
        total_chunks = -(-len(data) // PARQUET_CHUNK)
        assert total_chunks > 250
        per_group = ROWS // ROW_GROUPS
        low, high = 10 * per_group, 13 * per_group  # row groups 10, 11 and 12
        counter.clear()
        got = pq.read_table(
            "big/table.parquet",
            filesystem=fs,
            columns=["c4"],
            filters=[("id", ">=", low), ("id", "<", high)],
        )
        assert got.column("c4").to_pylist() == table.column("c4").to_pylist()[low:high]

        meta = pq.ParquetFile(io.BytesIO(data)).metadata
        footer_start = len(data) - max(64 * 1024, meta.serialized_size + 8)
        allowed = _chunks_of(footer_start, len(data))
        needed: set[int] = set()
        id_index, c4_index = 0, 1 + COLUMNS.index("c4")
        for group in range(ROW_GROUPS):
            for index in (id_index, c4_index):
                chunks = _chunks_of(*_column_chunk_range(meta.row_group(group).column(index)))
                if 10 <= group <= 12:
                    needed |= chunks if index == c4_index else set()
                    allowed |= chunks
        fetched = set(counter.fetched)
        assert needed <= fetched, "the selected row groups' column was not read"
        assert fetched <= allowed, (
            f"chunks fetched outside the footer and row groups: {sorted(fetched - allowed)}"
        )
        assert len(fetched) < total_chunks * 0.15
    finally:
        close_fs(fs)


# DuckDB runs in a process of its own: its native threads hold the Python filesystem it is
# given, and a fault in them must not take the test process (and every test after) with it.
DUCKDB_READ = """
import json, sys
import duckdb
import fsspec

fs = fsspec.filesystem("gridfs", **json.loads(sys.argv[1]))
connection = duckdb.connect()
try:
    connection.register_filesystem(fs)
    rows = connection.sql(
        "select animal from read_csv('gridfs://db/animals.csv') where weight > 0.1 order by 1"
    ).fetchall()
    total = connection.sql("select sum(n) from 'gridfs://db/numbers.parquet'").fetchall()
finally:
    connection.close()
print(json.dumps({"rows": rows, "total": total}))
"""


def test_duckdb_reads_through_register_filesystem(storage_options: dict[str, Any]) -> None:
    fs = fsspec.filesystem("gridfs", **storage_options)
    fs.pipe_file("db/animals.csv", b"animal,weight\nmarmot,4.2\npika,0.15\nvole,0.03\n")
    pd.DataFrame({"n": range(100)}).to_parquet(
        "gridfs://db/numbers.parquet", storage_options=storage_options
    )
    done = subprocess.run(
        [sys.executable, "-c", DUCKDB_READ, json.dumps(storage_options)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    read = json.loads(done.stdout)
    assert read["rows"] == [["marmot"], ["pika"]]
    assert read["total"] == [[4950]]


def test_dask_reads_a_folder_of_csv_files_in_parallel(storage_options: dict[str, Any]) -> None:
    fs = fsspec.filesystem("gridfs", **storage_options)
    for part in range(6):
        rows = "".join(f"{part},{i},{part * 100 + i}\n" for i in range(50))
        fs.pipe_file(f"logs/part-{part}.csv", ("part,i,value\n" + rows).encode())
    fs.pipe_file("logs/readme.txt", b"not a csv")
    frame = dd.read_csv("gridfs://logs/*.csv", storage_options=storage_options)
    assert frame.npartitions == 6
    with dask.config.set(scheduler="threads", num_workers=3):
        result = frame.groupby("part")["value"].sum().compute()
    assert result.to_dict() == {p: sum(p * 100 + i for i in range(50)) for p in range(6)}

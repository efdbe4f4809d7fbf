"""Bulk loading into a fresh DuckDB archive: Arrow chunks in, keys and indexes built once at the end.

DuckDB maintains primary keys, foreign keys and indexes row by row on INSERT, which makes loading 50M usage
rows several times slower than the data itself. A demo archive is written once by one process from data
that is correct by construction, so the child tables are created without constraints, filled, and then
given the same primary keys (`ALTER TABLE .. ADD PRIMARY KEY`) and indexes as `archive/schema.py`.
Foreign keys are not re-added (DuckDB cannot add them to an existing table); see docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import duckdb
import pyarrow as pa
from icp_mcp.archive.schema import metadata
from sqlalchemy import Engine
from sqlalchemy.schema import CreateIndex, CreateTable

#: Tables the generator fills in bulk (children of accounts), created bare and keyed after loading.
BULK_TABLES: tuple[str, ...] = (
    "account_technologies", "opportunities", "arr_snapshots", "contacts", "opportunity_contacts",
    "conversations", "feature_usage", "signals",
)
BATCH_ROWS = 122_880
_CONSTRAINT_LINE = re.compile(r"^\s*(PRIMARY KEY|FOREIGN KEY|CONSTRAINT)\b")


def bare_ddl(engine: Engine, table: str) -> str:
    """CREATE TABLE for `table` as in the schema, minus its key and foreign-key constraints."""
    ddl = str(CreateTable(metadata.tables[table]).compile(engine)).strip()
    lines = [line for line in ddl.splitlines() if not _CONSTRAINT_LINE.match(line)]
    return re.sub(r",\s*\n\)$", "\n)", "\n".join(lines))


def prepare(con: duckdb.DuckDBPyConnection, engine: Engine) -> None:
    """Replace the bulk tables of a freshly created schema with unconstrained twins."""
    for table in reversed(metadata.sorted_tables):
        if table.name in BULK_TABLES:
            con.execute(f"DROP TABLE {table.name}")
    for table in metadata.sorted_tables:
        if table.name in BULK_TABLES:
            con.execute(bare_ddl(engine, table.name))


def finish(con: duckdb.DuckDBPyConnection, engine: Engine) -> None:
    """Add the schema's primary keys and indexes to the bulk tables (one sort each, not one insert per row)."""
    for name in BULK_TABLES:
        table = metadata.tables[name]
        keys = ", ".join(c.name for c in table.primary_key.columns)
        con.execute(f"ALTER TABLE {name} ADD PRIMARY KEY ({keys})")
        for index in table.indexes:
            con.execute(str(CreateIndex(index).compile(engine)))


def insert(con: duckdb.DuckDBPyConnection, table: str, chunks: Iterable[pa.Table]) -> int:
    """Append Arrow tables to `table` (columns matched by name); return the rows written."""
    rows = 0
    for chunk in chunks:
        # Several record batches let DuckDB scan the Arrow table on every core.
        chunk = pa.Table.from_batches(chunk.to_batches(max_chunksize=BATCH_ROWS), chunk.schema)
        con.register("_demo_chunk", chunk)
        try:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _demo_chunk")
        finally:
            con.unregister("_demo_chunk")
        rows += chunk.num_rows
    return rows

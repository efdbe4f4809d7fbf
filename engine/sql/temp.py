"""Computing a selectable once per answer: a DuckDB temporary table, or a CTE elsewhere.

Several statements of one answer (voice: the page and the counts; drift: four aggregates over the same
deals) read the same filtered set. On DuckDB it is filled once into a temporary table and dropped after the
answer (temporary tables pass the read-only guard); other dialects get a CTE (PostgreSQL plans it per
statement, as before). Values stay bound parameters (SQLAlchemy's CREATE TABLE AS would inline them).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Column, Connection, FromClause, MetaData, Select, Table


def can_materialize(conn: Connection) -> bool:
    """True on DuckDB with numbered parameters (the dialect this fast path is written for)."""
    return conn.dialect.name == "duckdb" and conn.dialect.paramstyle == "numeric_dollar"


@contextmanager
def once(conn: Connection, stmt: Select, prefix: str, *, materialize: bool = True) -> Iterator[FromClause]:
    """`stmt` as a temporary table on `conn` for the duration of the block (DuckDB, when `materialize`),
    else as a CTE named `prefix`."""
    if not (materialize and can_materialize(conn)):
        yield stmt.cte(prefix)
        return
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    values = compiled.construct_params()
    params = tuple(values[key] for key in (compiled.positiontup or ()))
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} AS {compiled.string}", params)
    try:
        yield Table(name, MetaData(), *(Column(c.name, c.type) for c in stmt.selected_columns))
    finally:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")

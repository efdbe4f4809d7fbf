"""The archive generation: one number that changes whenever what answers depend on changes.

Every ingest that changes rows, `init`, a demo build and every ICP activation / rollback / import bump it
in their own transaction (`bump`). Readers key caches and stored ICP state by it (`read`: one keyed query).
A random `archive_id` stored with it tells apart two archives that were created at the same path.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, Engine, insert, inspect, select, update

from icp_mcp.archive.clock import utc_now
from icp_mcp.archive.schema import STATE_TABLES, archive_generation, metadata

_ROW = 1
_bumps = [0]  # bumps made by this process (committed or not): a reader's memo is void once this moves


def local_bumps() -> int:
    """How many bumps this process has made (cheap; lets readers skip re-reading a DuckDB file they hold)."""
    return _bumps[0]


def read(conn: Connection) -> tuple[str, int] | None:
    """(archive_id, generation), or None when the archive has no generation yet (e.g. an empty table)."""
    g = archive_generation.c
    row = conn.execute(select(g.archive_id, g.generation).where(g.id == _ROW)).first()
    return None if row is None else (str(row[0]), int(row[1]))


def bump(conn: Connection, *, archive_id: str | None = None, stamped: bool = True) -> int:
    """Add one to the generation inside the caller's transaction (creating the row when missing).

    A new row gets `archive_id` (default: random); `stamped=False` leaves `bumped_at` empty, so that a demo
    archive built twice from one seed is identical row for row.
    """
    g = archive_generation.c
    _bumps[0] += 1
    archive_generation.create(conn, checkfirst=True)  # archives made before the generation existed
    at = utc_now() if stamped else None
    done = conn.execute(update(archive_generation).where(g.id == _ROW)
                        .values(generation=g.generation + 1, bumped_at=at))
    if not done.rowcount:
        conn.execute(insert(archive_generation).values(
            id=_ROW, generation=1, archive_id=archive_id or uuid.uuid4().hex, bumped_at=at))
    return int(conn.execute(select(g.generation).where(g.id == _ROW)).scalar_one())


def ensure_state_tables(engine: Engine) -> list[str]:
    """Create the derived tables (generation, stored ICP state) an older archive lacks; their names.

    Called where a process opens an archive for writing; the tables hold nothing a reader cannot recompute.
    """
    present = set(inspect(engine).get_table_names())
    missing = [metadata.tables[name] for name in STATE_TABLES if name not in present]
    if missing:
        metadata.create_all(engine, tables=missing)
    with engine.begin() as conn:
        if read(conn) is None:
            bump(conn)
    return [t.name for t in missing]

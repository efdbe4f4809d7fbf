"""Open a buyer archive: a DuckDB file path or any SQLAlchemy URL.

Every part of icp-mcp gets its `Engine` from `open_archive`, so the DuckDB specifics (the offline FTS
extension, read-only opening, no network extension installs) live in this one module.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateTable

from icp_mcp.archive.errors import ArchiveError  # noqa: F401  (re-exported)
from icp_mcp.archive.schema import STATE_TABLES, metadata


def archive_url(target: str | os.PathLike[str]) -> str:
    """Turn a path into a DuckDB URL; pass URLs (anything with '://') through unchanged."""
    text = str(target)
    if "://" in text:
        return text
    return f"duckdb:///{Path(text).expanduser().resolve()}"


@lru_cache(maxsize=1)
def fts_extension_path() -> str:
    """Path of the FTS extension shipped in the `duckdb-extension-fts` wheel (no network needed)."""
    import duckdb_extension_fts

    base = os.path.dirname(duckdb_extension_fts.__file__)
    found = glob.glob(os.path.join(base, "extensions", f"v{duckdb.__version__}", "*.duckdb_extension"))
    found = found or glob.glob(os.path.join(base, "extensions", "**", "*.duckdb_extension"), recursive=True)
    if not found:
        raise ArchiveError(f"the FTS extension is missing from {base}; reinstall duckdb-extension-fts")
    return found[0]


def load_fts(dbapi_connection: object) -> None:
    """Load the offline FTS extension into a raw DuckDB connection (idempotent)."""
    raw = getattr(dbapi_connection, "driver_connection", None) or dbapi_connection
    execute = getattr(raw, "execute")
    execute("SET autoinstall_known_extensions = false")
    execute("SET autoload_known_extensions = false")
    execute(f"LOAD '{fts_extension_path()}'")


class _KnownMissing:
    """A meta path finder that fails the import of a module known to be absent at once (no sys.path scan)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == self.name:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def remember_missing_pandas() -> None:
    """DuckDB's Python binding tries `import pandas` for every bound parameter. Without pandas each try
    searches sys.path under the import lock (a third of a busy server's CPU, and a 12k-id list took ~1 s);
    a finder that knows pandas is absent makes every later try fail at once. Nothing changes when pandas
    is installed. (Not a None in sys.modules: pyarrow's shim would take that for pandas itself.)"""
    if any(isinstance(f, _KnownMissing) for f in sys.meta_path) or "pandas" in sys.modules:
        return
    if importlib.util.find_spec("pandas") is None:
        sys.meta_path.insert(0, _KnownMissing("pandas"))


def open_archive(target: str | os.PathLike[str], *, read_only: bool = False, create: bool = False) -> Engine:
    """Open the archive at `target` and return a SQLAlchemy engine.

    `read_only` opens a DuckDB file so that other readers may share it; `create` allows a missing file.
    """
    url = archive_url(target)
    if url.startswith("duckdb:///"):
        path = Path(url.removeprefix("duckdb:///"))
        if not create and not path.exists():
            raise ArchiveError(f"archive not found: {path} (create it with `icp-mcp init --archive {path}`)")
        remember_missing_pandas()
        # a pool as large as the server's concurrent queries (x2: a tool may hold a nested connection), so
        # busy moments reuse connections instead of opening (and loading FTS into) overflow ones
        engine = create_engine(url, connect_args={"read_only": read_only}, pool_size=16, max_overflow=32)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: object, _record: object) -> None:
            load_fts(dbapi_connection)

        return engine
    return create_engine(url, pool_pre_ping=True)


@compiles(CreateTable, "duckdb")
def _create_table_without_foreign_keys(element: CreateTable, compiler: Any, **kw: Any) -> str:
    """On DuckDB, foreign keys stay declared in `metadata` but are not created as constraints.

    Ingest checks them set-based before loading. DuckDB checks them row by row, which made loads several
    times slower, and it cannot update an indexed column (accounts.domain) of a row that one references.
    PostgreSQL gets the constraints.
    """
    element.include_foreign_key_constraints = []
    return compiler.visit_create_table(element, **kw)


def create_schema(engine: Engine) -> list[str]:
    """Create every missing table; return the names of the tables that were created.

    A fresh archive is stamped with the current schema revision; an existing one is first migrated to it
    (`archive.schema_version`), so that tables created here never collide with a migration.
    """
    from icp_mcp.archive import schema_version

    with engine.connect() as conn:
        before = set(inspect(conn).get_table_names())
        revision = schema_version.current_revision(conn)
    if revision is not None:
        schema_version.migrate(engine)
    with engine.begin() as conn:
        metadata.create_all(conn)
        if revision is None:
            schema_version.stamp_head(conn)
    return [t.name for t in metadata.sorted_tables if t.name not in before]


def check_schema(engine: Engine) -> None:
    """Raise `ArchiveError` when the archive lacks any icp-mcp table (derived state tables are made on write)."""
    present = set(inspect(engine).get_table_names())
    missing = [t.name for t in metadata.sorted_tables if t.name not in present and t.name not in STATE_TABLES]
    if missing:
        raise ArchiveError(f"not an icp-mcp archive (missing tables: {', '.join(missing)}); run `icp-mcp init`")

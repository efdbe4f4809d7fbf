"""The archive's schema version (Alembic's `alembic_version` table) and the migrations that move it forward.

`HEAD` is the revision this release writes; `tests/test_schema_version.py` checks that it is the head of
`archive/migrations`. Reading the version is one small query (no Alembic import); Alembic is loaded only
to migrate. Rules, applied by `archive.opening.open_checked`:

- no version table and no icp-mcp tables: a fresh archive (`create_schema` stamps it `HEAD`);
- no version table but the baseline tables: an archive from before schema versions, treated as `0001`;
- a revision this release does not know: made by a newer release, refused (upgrade icp-mcp);
- an older revision: migrated in one transaction when opened for writing, else `icp-mcp migrate` is named.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

HEAD = "0011"
#: Every revision this release knows, oldest first.
KNOWN: tuple[str, ...] = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0011")
BASELINE = "0001"
VERSION_TABLE = "alembic_version"
MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaVersionError(Exception):
    """The archive's schema is newer than this release, or older and opened read-only."""


def current_revision(conn: Connection) -> str | None:
    """The archive's revision; `BASELINE` for an unversioned archive with icp-mcp tables, None when empty."""
    names = set(inspect(conn).get_table_names())
    if VERSION_TABLE in names:
        row = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).first()
        if row is not None:
            return str(row[0])
    return BASELINE if "accounts" in names and "audit_log" in names else None


def pending(revision: str | None) -> list[str]:
    """The revisions after `revision` up to `HEAD` (all of them for None)."""
    if revision is None:
        return list(KNOWN)
    return list(KNOWN[KNOWN.index(revision) + 1:])


def check(conn: Connection, *, target: str, writable: bool) -> str | None:
    """Raise `SchemaVersionError` when the archive cannot be used as it is; return the revision found.

    An older archive opened for writing is fine here: `migrate` brings it forward.
    """
    revision = current_revision(conn)
    if revision is not None and revision not in KNOWN:
        raise SchemaVersionError(
            f"{target} was made by a newer icp-mcp (schema revision {revision}; this release knows up to {HEAD}); "
            "upgrade icp-mcp (pip install -U icp-mcp)")
    if revision is not None and revision != HEAD and not writable:
        raise SchemaVersionError(
            f"{target} has an older schema (revision {revision}, this release needs {HEAD}); "
            f"run `icp-mcp migrate --archive {target}` once")
    return revision


def _alembic_config(conn: Connection):  # -> alembic.config.Config
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def migrate(engine: Engine) -> tuple[str | None, str]:
    """Bring the archive to `HEAD` in one transaction; (revision before, revision after)."""
    from alembic import command

    with engine.begin() as conn:
        before = check(conn, target=_shown(engine), writable=True)
        if before is None:
            raise SchemaVersionError("not an icp-mcp archive (no tables); create it with `icp-mcp init`")
        config = _alembic_config(conn)
        if before != HEAD:
            if VERSION_TABLE not in set(inspect(conn).get_table_names()):
                command.stamp(config, before)
            command.upgrade(config, HEAD)
    _restore_indexes(engine)  # `icp-mcp migrate` also mends a run that stopped between the two steps
    return before, HEAD


def _restore_indexes(engine: Engine) -> None:
    """Create every index the schema declares that the archive lacks. A revision that alters a table drops
    the table's indexes first (DuckDB alters no table an index depends on, and aborts when one transaction
    drops, alters and re-creates), so they come back here, in a transaction of their own."""
    from icp_mcp.archive.schema import metadata

    with engine.begin() as conn:
        present = set(inspect(conn).get_table_names())
        for table in metadata.sorted_tables:
            if table.name in present:
                for index in table.indexes:
                    index.create(conn, checkfirst=True)


def _shown(engine: Engine) -> str:
    """The archive as the user named it: the file path of a DuckDB URL, else the URL without password."""
    url = engine.url
    if url.get_backend_name() == "duckdb":
        return str(url.database)
    return url.render_as_string(hide_password=True)


def stamp_head(conn: Connection) -> None:
    """Record `HEAD` on an archive just created from the current schema (no Alembic import)."""
    conn.execute(text(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
    conn.execute(text(f"DELETE FROM {VERSION_TABLE}"))
    conn.execute(text(f"INSERT INTO {VERSION_TABLE} (version_num) VALUES (:v)"), {"v": HEAD})

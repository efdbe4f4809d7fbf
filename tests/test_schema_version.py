"""Schema versions (issue 13): the archive records its revision; an archive made with the baseline schema
(before versions existed) is migrated by the first writer, in one transaction; a newer one is refused."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from sqlalchemy import inspect, text

from icp_mcp.archive import schema_version
from icp_mcp.archive.db import ArchiveError, create_schema, open_archive
from icp_mcp.archive.opening import open_checked


def test_head_is_the_head_of_the_migration_scripts() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(schema_version.MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    assert script.get_current_head() == schema_version.HEAD
    assert [r.revision for r in reversed(list(script.walk_revisions()))] == list(schema_version.KNOWN)


#: The archive generation and the stored ICP state (revision 0003; icp_best_values became icp_best_profiles
#: in 0005, which also adds icp_rule_state).
STATE_TABLES = ("icp_best_profiles", "icp_rule_state", "icp_customer_state", "icp_account_state", "icp_state",
                "archive_generation")


def _baseline(target: str) -> None:
    """Turn a fresh archive into one made by the baseline release: no version table, no revision-0002 index,
    none of the revision-0003 tables (archive generation and stored ICP state), no audit_log.reason (0004)."""
    engine = open_archive(target, create=True)
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("DROP INDEX ix_audit_log_subject"))
        for table in STATE_TABLES:
            conn.execute(text(f"DROP TABLE {table}"))
        conn.execute(text("ALTER TABLE audit_log DROP COLUMN reason"))  # revision 0004
    engine.dispose()


def _state(target: str) -> tuple[str | None, list[str]]:
    engine = open_archive(target)
    with engine.connect() as conn:
        revision = schema_version.current_revision(conn)
        indexes = [i["name"] for i in inspect(conn).get_indexes("audit_log")]
        tables = set(inspect(conn).get_table_names())
        audit_columns = {c["name"] for c in inspect(conn).get_columns("audit_log")}
    engine.dispose()
    if revision == schema_version.HEAD:
        assert tables >= set(STATE_TABLES), "the migration did not create the state tables"
        assert "reason" in audit_columns, "the migration did not add audit_log.reason"
    return revision, indexes


def test_a_new_archive_records_the_current_revision(archive_path: Path) -> None:
    assert _state(str(archive_path)) == (schema_version.HEAD, ["ix_audit_log_subject"])


def test_a_baseline_archive_is_migrated_when_opened_for_writing(tmp_path: Path) -> None:
    target = str(tmp_path / "old.duckdb")
    _baseline(target)
    assert _state(target) == ("0001", [])
    with pytest.raises(ArchiveError, match=r"older schema \(revision 0001.*icp-mcp migrate --archive"):
        open_checked(target, read_only=True)
    open_checked(target).dispose()  # a writer (serve, ingest, icp derive) migrates
    assert _state(target) == (schema_version.HEAD, ["ix_audit_log_subject"])
    open_checked(target, read_only=True).dispose()


def _migrated_from(target: str, revision: str, *undo: str) -> tuple[set[tuple[str, str]], int]:
    """Make a fresh archive look like one of `revision` (the statements `undo` take the later schema back and a
    stored state's header is present), let a writer migrate it, and return (table, column) pairs and the number
    of state headers left."""
    engine = open_archive(target, create=True)
    create_schema(engine)
    with engine.begin() as conn:
        for statement in undo:
            conn.execute(text(statement))
        conn.execute(text("INSERT INTO icp_state (version, digest, weights_digest, generation, as_of, built_at, "
                          "accounts, customers, seconds) VALUES (1, 'd', 'w', 1, DATE '2026-01-01', "
                          "TIMESTAMP '2026-01-01 00:00:00', 0, 0, 0)"))
        conn.execute(text(f"UPDATE alembic_version SET version_num = '{revision}'"))
    engine.dispose()
    open_checked(target).dispose()  # a writer migrates
    engine = open_archive(target)
    with engine.connect() as conn:
        columns = {(t, c["name"]) for t in inspect(conn).get_table_names() for c in inspect(conn).get_columns(t)}
        headers = conn.execute(text("SELECT count(*) FROM icp_state")).scalar_one()
        assert schema_version.current_revision(conn) == schema_version.HEAD
    engine.dispose()
    return columns, headers


def test_an_archive_of_revision_0004_gets_the_best_profiles_and_rebuilds_its_state(tmp_path: Path) -> None:
    """0005 replaces the derived icp_best_values by icp_best_profiles and forgets the stored state's header,
    so the next build fills the new table."""
    columns, headers = _migrated_from(
        str(tmp_path / "r4.duckdb"), "0004", "DROP TABLE icp_best_profiles",
        "CREATE TABLE icp_best_values (version INTEGER, account_id VARCHAR, attribute VARCHAR, value VARCHAR)")
    tables = {t for t, _ in columns}
    assert {"icp_best_profiles", "icp_rule_state"} <= tables and "icp_best_values" not in tables
    assert headers == 0


def test_an_archive_of_revision_0005_gets_the_reshaped_state_and_rebuilds_it(tmp_path: Path) -> None:
    """0006 gives stored customers their name, industry and territory, best profiles their technology bits and
    the header the names behind the bits: the derived tables are recreated and the next build fills them."""
    added = {("icp_customer_state", "territory"), ("icp_customer_state", "industry"), ("icp_customer_state", "name"),
             ("icp_best_profiles", "tech_bits"), ("icp_state", "technology_bits")}
    columns, headers = _migrated_from(str(tmp_path / "r5.duckdb"), "0005",
                                      *(f"ALTER TABLE {t} DROP COLUMN {c}" for t, c in sorted(added)))
    assert added <= columns
    assert headers == 0


def test_an_archive_of_revision_0009_gets_similar_candidates_and_keeps_its_state(tmp_path: Path) -> None:
    """0010 adds the similar candidates and the header's similar_key (NULL: none stored) and keeps the stored
    state, which answers as before (its best profiles are scanned) until the next build fills the candidates."""
    columns, headers = _migrated_from(str(tmp_path / "r9.duckdb"), "0009", "DROP TABLE icp_similar_candidates",
                                      "ALTER TABLE icp_state DROP COLUMN similar_key")
    assert {("icp_state", "similar_key"), ("icp_similar_candidates", "tech_bits")} <= columns
    assert headers == 1


def test_an_archive_of_revision_0010_gets_persona_facts_and_keeps_its_state(tmp_path: Path) -> None:
    """0011 adds the persona counts per day and the header's persona_facts (NULL: none stored) and keeps the
    stored state; derivations count from the deals until the next build fills the facts."""
    columns, headers = _migrated_from(str(tmp_path / "r10.duckdb"), "0010", "DROP TABLE icp_persona_facts",
                                      "ALTER TABLE icp_state DROP COLUMN persona_facts")
    assert {("icp_state", "persona_facts"), ("icp_persona_facts", "on_day")} <= columns
    assert headers == 1


def test_a_failing_migration_leaves_the_archive_as_it_was(tmp_path: Path) -> None:
    """The migration runs in one transaction: when it fails, neither the stamp nor anything else remains."""
    target = str(tmp_path / "old.duckdb")
    _baseline(target)
    con = duckdb.connect(target)
    con.execute("CREATE INDEX ix_audit_log_subject ON ingest_rejects (table_name)")  # the name is taken
    con.close()
    with pytest.raises(Exception):
        schema_version.migrate(open_archive(target))
    engine = open_archive(target)
    with engine.connect() as conn:
        assert "alembic_version" not in inspect(conn).get_table_names()
    engine.dispose()


def test_a_newer_archive_is_refused(archive_path: Path) -> None:
    con = duckdb.connect(str(archive_path))
    con.execute("UPDATE alembic_version SET version_num = '0999'")
    con.close()
    for read_only in (True, False):
        with pytest.raises(ArchiveError, match="made by a newer icp-mcp"):
            open_checked(archive_path, read_only=read_only)


@pytest.mark.postgres
def test_postgres_archives_are_versioned_and_migrated(pg_url: str) -> None:
    _baseline(pg_url)
    assert _state(pg_url) == ("0001", [])
    open_checked(pg_url).dispose()
    assert _state(pg_url) == (schema_version.HEAD, ["ix_audit_log_subject"])

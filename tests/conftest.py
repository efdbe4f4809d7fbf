"""Shared fixtures: real archive files on disk and, where the environment has one, a real PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from icp_mcp.archive.db import create_schema, open_archive

SHARED = Path(__file__).resolve().parents[2] / "shared"
DATASETS = SHARED / "datasets"


@pytest.fixture
def archive_path(tmp_path: Path) -> Path:
    """A fresh, initialised DuckDB archive file."""
    path = tmp_path / "archive.duckdb"
    engine = open_archive(path, create=True)
    create_schema(engine)
    engine.dispose()
    return path


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema on the test server; skipped locally without one, failed in CI."""
    base = os.environ.get("ICP_MCP_TEST_PG_URL")
    if not base:
        if os.environ.get("ICP_MCP_REQUIRE_PG"):
            pytest.fail("ICP_MCP_TEST_PG_URL is not set but CI requires the PostgreSQL tests")
        pytest.skip("no PostgreSQL server (set ICP_MCP_TEST_PG_URL, or run .ci/postgres.sh start)")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin: Engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- the MCP server tests' demo archive (tests/server_demo.py) --------------------------------------


@pytest.fixture(scope="session")
def icp_demo(tmp_path_factory: pytest.TempPathFactory):
    """The demo archive (size S, seed 7, fixed as_of) with its ICP derived and activated; shared, read-only."""
    from server_demo import build

    try:
        return build(tmp_path_factory.mktemp("icp_demo"))
    except (ImportError, NotImplementedError) as exc:  # while the demo generator / engine are landing
        pytest.skip(f"demo archive unavailable: {exc!r}")


@pytest.fixture
def icp_demo_copy(icp_demo, tmp_path: Path) -> Path:
    """A private copy of the demo archive for tests that write (derive, activate)."""
    return icp_demo.copy_to(tmp_path)

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

"""Shared fixtures: real archive files on disk and, where the environment has one, a real PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
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
def icp_demo(tmp_path_factory: pytest.TempPathFactory, demo_archive: Path):
    """A copy of `demo_archive` with its ICP derived and activated; shared, read-only."""
    from server_demo import build

    return build(tmp_path_factory.mktemp("icp_demo"), source=demo_archive)


@pytest.fixture
def icp_demo_copy(icp_demo, tmp_path: Path) -> Path:
    """A private copy of the demo archive for tests that write (derive, activate)."""
    return icp_demo.copy_to(tmp_path)


# --- plain demo archives (archive/demo): built once per session and arguments; treat them as read-only --


DEMO_SEED = 7
DEMO_AS_OF = date(2026, 11, 1)


@pytest.fixture(scope="session")
def demo_archive_factory(tmp_path_factory: pytest.TempPathFactory):
    """`build(seed=7, drift=False, as_of=DEMO_AS_OF, size="S") -> Path`: a demo archive, cached per arguments.

    The manifest is next to it (`read_manifest(path)`). Copy the file before writing to it.
    """
    from icp_mcp.archive.demo import build_demo

    cache: dict[tuple, Path] = {}

    def build(seed: int = DEMO_SEED, drift: bool = False, as_of: date = DEMO_AS_OF, size: str = "S") -> Path:
        key = (seed, drift, as_of, size)
        if key not in cache:
            folder = tmp_path_factory.mktemp(f"demo_{size}_{seed}{'_drift' if drift else ''}")
            cache[key] = folder / "demo.duckdb"
            build_demo(cache[key], size=size, seed=seed, drift=drift, as_of=as_of)
        return cache[key]

    return build


@pytest.fixture(scope="session")
def demo_archive(demo_archive_factory) -> Path:
    """The S demo archive (seed 7, as_of 2026-11-01, no drift); shared and read-only."""
    return demo_archive_factory()

"""The demo archive the server tests share: built once (size S, fixed seed and as_of), ICP derived and activated.

Used by the `icp_demo` / `icp_demo_copy` fixtures in conftest.py.
"""

from __future__ import annotations

import shutil
from datetime import date
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from icp_mcp.archive.db import open_archive
from icp_mcp.archive.schema import accounts

SEED = 7
AS_OF = date(2026, 11, 1)


@dataclass
class DemoArchive:
    """A built demo archive, its manifest and a few look-ups the tests need."""

    path: Path
    manifest: object

    @property
    def best_customer_ids(self) -> list[str]:
        return list(self.manifest.best_customer_ids)

    def _query(self, stmt):
        engine = open_archive(self.path, read_only=True)
        try:
            with engine.connect() as conn:
                return conn.execute(stmt).all()
        finally:
            engine.dispose()

    def account_name(self, account_id: str) -> str:
        return self._query(select(accounts.c.name).where(accounts.c.account_id == account_id))[0][0]

    def disqualified_account(self):
        """An account hitting a planted disqualifier, and that disqualifier (from the manifest)."""
        for planted in self.manifest.disqualifiers:
            column = accounts.c[planted.attribute] if planted.attribute in accounts.c else None
            if column is None:
                continue
            rows = self._query(select(accounts.c.account_id).where(column.in_(planted.values)).limit(1))
            if rows:
                return rows[0][0], planted
        raise AssertionError("no account hits a planted disqualifier")

    def copy_to(self, folder: Path) -> Path:
        target = folder / self.path.name
        shutil.copy(self.path, target)
        return target


def build(folder: Path, source: Path | None = None) -> DemoArchive:
    """Copy (or build) the demo archive, derive its ICP, activate it and store its ICP state."""
    from icp_mcp.archive.demo import build_demo
    from icp_mcp.archive.demo.manifest import manifest_path, read_manifest
    from icp_mcp.engine.derivation import derive
    from icp_mcp.engine.scoring import state
    from icp_mcp.engine.sql import versions

    path = folder / "demo.duckdb"
    if source is not None:
        shutil.copy(source, path)
        shutil.copy(manifest_path(source), manifest_path(path))
    else:
        build_demo(path, size="S", seed=SEED, drift=False, as_of=AS_OF)
    engine = open_archive(path)
    try:
        definition = derive.derive_icp(engine)
        version = versions.save_version(engine, definition, "tests")
        versions.activate(engine, version, "tests")
        state.build(engine)  # as `icp-mcp icp activate` does: the ICP state stored for the new version
    finally:
        engine.dispose()
    return DemoArchive(path=path, manifest=read_manifest(path))

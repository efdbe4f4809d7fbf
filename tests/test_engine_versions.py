"""Versions: save, list, get, activate and roll back (at most one active)."""

from __future__ import annotations

import pytest

from icp_mcp.archive.db import open_archive
from icp_mcp.engine.model.errors import NoActiveICP, NotFound
from icp_mcp.engine.model.profile import ICPDefinition
from icp_mcp.engine.sql.versions import (
    activate,
    active_icp,
    get_version,
    list_versions,
    rollback,
    save_version,
)


def _d(name: str) -> ICPDefinition:
    return ICPDefinition(name=name, criteria=[{"attribute": "industry", "value": "Software", "points": 20}])


def test_activate_and_rollback_walk_the_history(archive_path):
    engine = open_archive(archive_path)
    assert active_icp(engine, required=False) is None
    with pytest.raises(NoActiveICP):
        get_version(engine)
    v1 = save_version(engine, _d("one"), "alice")
    v2 = save_version(engine, _d("two"), "bob", note="second")
    v3 = save_version(engine, _d("three"), "carol", status="active")
    assert (v1, v2, v3) == (1, 2, 3)
    assert get_version(engine).version == 3 and active_icp(engine, required=False).name == "three"
    activate(engine, 1, "alice")
    activate(engine, 2, "bob")
    statuses = {v.version: v.status for v in list_versions(engine)}
    assert statuses == {1: "retired", 2: "active", 3: "retired"}
    assert rollback(engine, "ops").version == 1
    assert rollback(engine, "ops").version == 3
    assert [v.version for v in list_versions(engine)] == [3, 2, 1]
    assert sum(v.status == "active" for v in list_versions(engine)) == 1
    with pytest.raises(NotFound) as info:
        activate(engine, 42, "x")
    assert info.value.field == "version" and info.value.candidates
    assert get_version(engine, 2).note == "second"

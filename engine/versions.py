"""ICP versions in `icp_versions`: save, list, get, activate, roll back; YAML/JSON export and import.

At most one version is active. Activations are recorded in `audit_log` (tool `icp.activate`), so that
`rollback` can walk back through the versions that were active before, in order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import Engine

from icp_mcp.engine.profile import ICPDefinition

Format = Literal["yaml", "json"]


class VersionInfo(BaseModel):
    version: int
    created_at: datetime
    created_by: str
    status: str
    name: str
    note: str | None = None
    criteria: int = 0
    disqualifiers: int = 0


class StoredVersion(VersionInfo):
    definition: ICPDefinition


def save_version(
    engine: Engine, definition: ICPDefinition, created_by: str, status: str = "draft", note: str | None = None
) -> int:
    """Store a definition as a new version (draft by default) and return its number."""
    raise NotImplementedError


def list_versions(engine: Engine) -> list[VersionInfo]:
    """Every stored version, newest first."""
    raise NotImplementedError


def get_version(engine: Engine, version: int | None = None) -> StoredVersion:
    """One version, or the active one when `version` is None (raises NoActiveICP / NotFound)."""
    raise NotImplementedError


def active_definition(engine: Engine) -> ICPDefinition | None:
    """The active definition, or None."""
    raise NotImplementedError


def activate(engine: Engine, version: int, by: str) -> VersionInfo:
    """Make `version` the active one (the previous active one becomes retired)."""
    raise NotImplementedError


def rollback(engine: Engine, by: str) -> VersionInfo:
    """Reactivate the version that was active before the current one."""
    raise NotImplementedError


def export_definition(definition: ICPDefinition, fmt: Format = "yaml") -> str:
    """The definition as YAML or JSON text."""
    raise NotImplementedError


def import_definition(text: str, fmt: Format | None = None) -> ICPDefinition:
    """Parse and validate YAML or JSON text; errors name the offending field."""
    raise NotImplementedError

"""Readable markdown of an ICP definition, with its evidence (CLI `icp show`, resource icp://current)."""

from __future__ import annotations

from icp_mcp.engine.profile import ICPDefinition


def to_markdown(definition: ICPDefinition) -> str:
    """The definition as markdown: segments, scorecard, disqualifiers, personas, tiers, unsupported."""
    raise NotImplementedError

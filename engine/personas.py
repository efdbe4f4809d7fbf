"""Personas: buying roles and normalized titles on won vs lost deals, their lift and the topics they raise."""

from __future__ import annotations

from sqlalchemy import Engine

from icp_mcp.engine.profile import ICPDefinition, Persona


def personas(engine: Engine, definition: ICPDefinition) -> list[Persona]:
    """Roles and titles with their win-rate lift and topics, over the definition's derivation window."""
    raise NotImplementedError

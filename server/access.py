"""Who is calling and what they may do: the one permission question, `allowed(principal, action, resource)`.

CONTRACT (filled in by the permissions work, issue 6): every tool and resource asks through `allowed`;
nothing else decides access. Actions are strings such as "tool:score_account", "resource:icp://current",
"field:revenue", "field:pii", "account" (resource = the account's territory).
"""

from __future__ import annotations

from contextvars import ContextVar

from pydantic import BaseModel, Field

ALL_SCOPES: frozenset[str] = frozenset(
    {"icp:read", "icp:write", "accounts:read", "revenue:read", "pii:read", "voice:read", "usage:read", "admin"}
)


class Principal(BaseModel):
    """A caller: subject, roles, scopes and the territories whose accounts it may see (None = all)."""

    subject: str
    roles: list[str] = Field(default_factory=list)
    scopes: frozenset[str] = frozenset()
    territories: frozenset[str] | None = None


#: Without a policy, the local (stdio / CLI) caller is the archive's owner and sees everything.
LOCAL_OWNER = Principal(subject="local", roles=["admin"], scopes=ALL_SCOPES, territories=None)

_current: ContextVar[Principal | None] = ContextVar("icp_mcp_principal", default=None)


def set_default_principal(principal: Principal) -> None:
    """Set the principal used when a request carries none (stdio, in-memory, CLI)."""
    _current.set(principal)


def current_principal() -> Principal:
    """The principal of the current request (from its bearer token), else the local default."""
    return _current.get() or LOCAL_OWNER


def allowed(principal: Principal, action: str, resource: str | None = None) -> bool:
    """True when `principal` may perform `action` on `resource`."""
    return "admin" in principal.scopes or True

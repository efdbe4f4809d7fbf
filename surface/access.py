"""Who is calling and what they may do: the one permission question, `allowed(principal, action, resource)`.

Every tool and resource asks through `allowed`; nothing else decides access (DESIGN section 6).
Actions:

- ``"tool:<name>"``        the scope named for the tool in `TOOL_SCOPES`;
- ``"resource:<uri>"``     the scope named for the URI's prefix in `RESOURCE_SCOPES`;
- ``"account"``            resource = the account's territory: row level, needs ``accounts:read`` and the
                           territory among the caller's (or all territories);
- ``"field:revenue"``      needs ``revenue:read``; ``"field:pii"`` needs ``pii:read``;
- ``"aggregate"``          resource = ``str(n)`` accounts behind the figure: callers without account-level
                           access see it only when ``n >= principal.min_group`` (k, default 5).

Unknown actions, tools and resources are refused unless the caller holds ``admin`` (fail closed).

Over HTTP the principal travels inside the SDK's `AccessToken` (see `server/auth.py`), so `current_principal`
reads the request's auth context; on stdio, in-memory and the CLI it is the process default: the policy's
``local`` entry, or `LOCAL_OWNER` when the server runs without a policy. `filter_listings` (SDK middleware)
shows each caller only the tools and resources it may use.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from icp_mcp.surface.roles import ALL_SCOPES, ROLE_SCOPES, ROLES  # noqa: F401  (re-exported)

#: The one table of what each tool needs. A tool missing here is refused to everyone but admin.
TOOL_SCOPES: dict[str, str] = {
    "score_account": "icp:read",
    "best_customers": "icp:read",
    "explain_disqualifier": "icp:read",
    "check_drift": "icp:read",
    "derive_icp": "icp:write",
    "activate_icp": "icp:write",
    "customer_voice": "voice:read",
    "feature_adoption": "usage:read",
}

#: Resource URI prefixes and the scope each needs (longest prefix wins).
RESOURCE_SCOPES: dict[str, str] = {
    "icp://": "icp:read",
    "archive://schema": "icp:read",
}

#: Field families and the scope that reveals them.
FIELD_SCOPES: dict[str, str] = {"revenue": "revenue:read", "pii": "pii:read"}

#: Aggregates over fewer accounts than this are suppressed for callers without account-level access.
DEFAULT_MIN_GROUP = 5

#: Key under which `server/auth.py` stores the principal inside the SDK's `AccessToken.claims`.
PRINCIPAL_CLAIM = "icp_mcp_principal"


class Principal(BaseModel):
    """A caller: subject, roles, scopes and the territories whose accounts it may see (None = all)."""

    model_config = ConfigDict(frozen=True)

    subject: str
    roles: list[str] = Field(default_factory=list)
    scopes: frozenset[str] = frozenset()
    territories: frozenset[str] | None = None
    min_group: int = Field(default=DEFAULT_MIN_GROUP, ge=1)


class AccessDenied(PermissionError):
    """A permission check failed; the message says what was needed (safe to show to the caller)."""


#: Without a policy, the local (stdio / CLI) caller is the archive's owner and sees everything.
LOCAL_OWNER = Principal(subject="local", roles=["admin"], scopes=ALL_SCOPES, territories=None)

_default: Principal = LOCAL_OWNER
_override: ContextVar[Principal | None] = ContextVar("icp_mcp_principal", default=None)


def scopes_for_roles(roles: list[str], overrides: dict[str, frozenset[str]] | None = None) -> frozenset[str]:
    """The union of the scopes of `roles` (policy overrides first, then `ROLE_SCOPES`)."""
    table = {**ROLE_SCOPES, **(overrides or {})}
    out: set[str] = set()
    for role in roles:
        out |= table.get(role, frozenset())
    return frozenset(out)


def set_default_principal(principal: Principal) -> None:
    """Set the principal used when a request carries none (stdio, in-memory, CLI) for the whole process."""
    global _default
    _default = principal


def default_principal() -> Principal:
    """The process-wide principal for requests without a bearer token."""
    return _default


@contextmanager
def acting_as(principal: Principal) -> Iterator[Principal]:
    """Run a block (and the tasks it starts) as `principal`; for in-process callers and tests."""
    token = _override.set(principal)
    try:
        yield principal
    finally:
        _override.reset(token)


def principal_from_access_token(access_token: Any) -> Principal | None:
    """The principal carried by an SDK `AccessToken`; a foreign token yields a principal of its scopes only."""
    if access_token is None:
        return None
    claims = getattr(access_token, "claims", None) or {}
    carried = claims.get(PRINCIPAL_CLAIM)
    if isinstance(carried, Principal):
        return carried
    if isinstance(carried, dict):
        return Principal.model_validate(carried)
    subject = getattr(access_token, "subject", None) or getattr(access_token, "client_id", "unknown")
    # A token from another verifier: trust its scopes, but never its territories (none = no account rows).
    return Principal(subject=str(subject), scopes=frozenset(access_token.scopes) & ALL_SCOPES, territories=frozenset())


def current_principal() -> Principal:
    """The principal of the current request (from its bearer token), else the override, else the default."""
    from mcp.server.auth.middleware.auth_context import get_access_token

    from_token = principal_from_access_token(get_access_token())
    if from_token is not None:
        return from_token
    return _override.get() or _default


def has_account_level_access(principal: Principal) -> bool:
    """Account-level access: may read accounts in every territory (so small groups reveal nothing new)."""
    return "admin" in principal.scopes or ("accounts:read" in principal.scopes and principal.territories is None)


def required_scope(action: str) -> str | None:
    """The scope `action` needs, or None when the action is unknown (then only admin may)."""
    kind, _, name = action.partition(":")
    if kind == "tool":
        return TOOL_SCOPES.get(name)
    if kind == "resource":
        matches = [prefix for prefix in RESOURCE_SCOPES if name.startswith(prefix)]
        return RESOURCE_SCOPES[max(matches, key=len)] if matches else None
    if kind == "field":
        return FIELD_SCOPES.get(name)
    if action == "account":
        return "accounts:read"
    return None


def allowed(principal: Principal, action: str, resource: str | None = None) -> bool:
    """True when `principal` may perform `action` on `resource` (see the module docstring)."""
    if "admin" in principal.scopes:
        return True
    if action == "aggregate":
        if has_account_level_access(principal):
            return True
        try:
            n = int(resource) if resource is not None else 0
        except ValueError:
            return False
        return n >= principal.min_group
    scope = required_scope(action)
    if scope is None or scope not in principal.scopes:
        return False
    if action == "account":
        return principal.territories is None or (resource is not None and resource in principal.territories)
    return True


def denial_message(principal: Principal, action: str, resource: str | None = None) -> str:
    """A sentence saying why `action` was refused, naming what would allow it (no data leaks)."""
    if action == "aggregate":
        return (
            f"suppressed: this figure covers fewer than {principal.min_group} accounts "
            "and your access is not account-level"
        )
    if action == "account":
        if "accounts:read" not in principal.scopes:
            return "account-level detail needs the accounts:read scope"
        territories = ", ".join(sorted(principal.territories or [])) or "none"
        return f"this account is outside your territories ({territories})"
    scope = required_scope(action)
    if scope is None:
        return f"{action} is not permitted (unknown to the access table; admin only)"
    return f"{action} needs the {scope} scope (you have: {', '.join(sorted(principal.scopes)) or 'none'})"


def require(principal: Principal, action: str, resource: str | None = None) -> None:
    """Raise `AccessDenied` with a clear message unless `allowed(principal, action, resource)`."""
    if not allowed(principal, action, resource):
        raise AccessDenied(denial_message(principal, action, resource))


def visible_tools(principal: Principal) -> set[str]:
    """The tools `principal` may call (the server lists only these)."""
    return {name for name in TOOL_SCOPES if allowed(principal, f"tool:{name}")}


async def filter_listings(ctx: Any, call_next: Any) -> Any:
    """SDK server middleware: ``tools/list`` and ``resources/list`` show only what the caller may use.

    Install with ``server.middleware.append(filter_listings)``; a hidden tool called anyway is still
    refused by the tool runner's own `allowed` check.
    """
    result = await call_next(ctx)
    method = getattr(ctx, "method", None)
    if method not in ("tools/list", "resources/list") or result is None:
        return result
    principal = current_principal()
    key, action = ("tools", "tool:{}") if method == "tools/list" else ("resources", "resource:{}")
    field = "name" if key == "tools" else "uri"

    def keep(item: Any) -> bool:
        value = item.get(field) if isinstance(item, dict) else getattr(item, field, None)
        return allowed(principal, action.format(value))

    if isinstance(result, dict):
        return {**result, key: [item for item in result.get(key, []) if keep(item)]}
    items = getattr(result, key, None)
    if items is None:
        return result
    return result.model_copy(update={key: [item for item in items if keep(item)]})

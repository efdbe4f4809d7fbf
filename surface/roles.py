"""Scopes and the default scopes of each role; free of imports so that `icp-mcp token --help` stays fast."""

ALL_SCOPES: frozenset[str] = frozenset(
    {"icp:read", "icp:write", "accounts:read", "revenue:read", "pii:read", "voice:read", "usage:read", "admin"}
)

#: Default scopes of each role (a policy may override them). Sales sees accounts only in its territories.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "sales": frozenset({"icp:read", "accounts:read"}),
    "marketing": frozenset({"icp:read", "voice:read"}),
    "product": frozenset({"icp:read", "usage:read"}),
    "revops": frozenset({"icp:read", "icp:write", "accounts:read", "revenue:read", "voice:read", "usage:read"}),
    "admin": ALL_SCOPES,
}
ROLES: tuple[str, ...] = tuple(ROLE_SCOPES)

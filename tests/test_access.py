"""The one permission question: `allowed(principal, action, resource)` and the tool/resource table."""

from __future__ import annotations

import pytest

from icp_mcp.surface.access import (
    ALL_SCOPES,
    LOCAL_OWNER,
    ROLE_SCOPES,
    TOOL_SCOPES,
    AccessDenied,
    Principal,
    acting_as,
    allowed,
    current_principal,
    default_principal,
    require,
    scopes_for_roles,
    set_default_principal,
    visible_tools,
)


def role(name: str, territories: list[str] | None = None) -> Principal:
    return Principal(subject=name, roles=[name], scopes=ROLE_SCOPES[name],
                     territories=None if territories is None else frozenset(territories))


def test_role_defaults_match_the_brief() -> None:
    assert ROLE_SCOPES["admin"] == ALL_SCOPES
    assert "revenue:read" not in ROLE_SCOPES["marketing"] and "pii:read" not in ROLE_SCOPES["marketing"]
    assert {"icp:read", "voice:read"} <= ROLE_SCOPES["marketing"]
    assert ROLE_SCOPES["product"] == {"icp:read", "usage:read"}
    assert "pii:read" not in ROLE_SCOPES["revops"] and "revenue:read" in ROLE_SCOPES["revops"]
    assert all(scopes <= ALL_SCOPES for scopes in ROLE_SCOPES.values())


def test_tool_table_names_the_scopes_of_the_brief() -> None:
    assert TOOL_SCOPES["score_account"] == "icp:read"
    assert TOOL_SCOPES["derive_icp"] == TOOL_SCOPES["activate_icp"] == "icp:write"
    assert TOOL_SCOPES["customer_voice"] == "voice:read"
    assert TOOL_SCOPES["feature_adoption"] == "usage:read"


@pytest.mark.parametrize(
    ("who", "tools"),
    [
        ("sales", {"score_account", "best_customers", "explain_disqualifier", "check_drift"}),
        ("marketing", {"score_account", "best_customers", "explain_disqualifier", "check_drift", "customer_voice"}),
        ("product", {"score_account", "best_customers", "explain_disqualifier", "check_drift", "feature_adoption"}),
        ("revops", set(TOOL_SCOPES)),
        ("admin", set(TOOL_SCOPES)),
    ],
)
def test_visible_tools_per_role(who: str, tools: set[str]) -> None:
    assert visible_tools(role(who)) == tools


def test_unknown_tool_and_resource_are_admin_only() -> None:
    assert not allowed(role("revops"), "tool:drop_everything")
    assert allowed(role("admin"), "tool:drop_everything")
    assert not allowed(role("revops"), "resource:file:///etc/passwd")
    assert not allowed(role("revops"), "whatever")


def test_resources() -> None:
    for uri in ("icp://current", "icp://personas", "icp://versions/3", "archive://schema"):
        assert allowed(role("product"), f"resource:{uri}")
    assert not allowed(Principal(subject="x", scopes=frozenset({"voice:read"})), "resource:icp://current")


def test_row_level_account_access() -> None:
    emea = role("sales", ["EMEA"])
    assert allowed(emea, "account", "EMEA")
    assert not allowed(emea, "account", "NA")
    assert not allowed(emea, "account", None)  # an account without a territory is not in EMEA
    assert allowed(role("revops"), "account", "NA") and allowed(role("revops"), "account", None)
    assert not allowed(role("marketing"), "account", "EMEA")  # no accounts:read
    with pytest.raises(AccessDenied, match="outside your territories \\(EMEA\\)"):
        require(emea, "account", "APAC")


def test_fields() -> None:
    assert not allowed(role("marketing"), "field:revenue")
    assert allowed(role("revops"), "field:revenue")
    assert not allowed(role("revops"), "field:pii")
    assert allowed(role("admin"), "field:pii")
    with pytest.raises(AccessDenied, match="revenue:read"):
        require(role("sales", ["EMEA"]), "field:revenue")


def test_small_aggregates_are_suppressed_without_account_level_access() -> None:
    marketing = role("marketing")
    assert not allowed(marketing, "aggregate", "4")
    assert allowed(marketing, "aggregate", "5")
    assert not allowed(marketing, "aggregate", "not a number")
    assert not allowed(role("sales", ["EMEA"]), "aggregate", "2")  # territory-bound: not account-level
    assert allowed(role("revops"), "aggregate", "1")
    k10 = marketing.model_copy(update={"min_group": 10})
    assert not allowed(k10, "aggregate", "9")
    with pytest.raises(AccessDenied, match="fewer than 5 accounts"):
        require(marketing, "aggregate", "3")


def test_scopes_for_roles_union_and_overrides() -> None:
    assert scopes_for_roles(["marketing", "product"]) == {"icp:read", "voice:read", "usage:read"}
    assert scopes_for_roles(["sales"], {"sales": frozenset({"icp:read"})}) == {"icp:read"}
    assert scopes_for_roles(["nobody"]) == frozenset()


def test_current_principal_default_and_override() -> None:
    assert current_principal() == default_principal()
    sales = role("sales", ["EMEA"])
    with acting_as(sales):
        assert current_principal() == sales
    previous = default_principal()
    try:
        set_default_principal(sales)
        assert current_principal() == sales
    finally:
        set_default_principal(previous)
    assert LOCAL_OWNER.scopes == ALL_SCOPES and LOCAL_OWNER.territories is None

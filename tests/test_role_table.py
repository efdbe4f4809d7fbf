"""The role × field table (README "Who may see what", docs/ARCHITECTURE.md "Visibility", the example policy)
is checked against what each role actually receives from the server: one cell, one observation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from icp_mcp.surface.access import ROLE_SCOPES, Principal, acting_as

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ROLES = ("sales", "marketing", "product", "revops", "admin")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def table_in(text: str) -> dict[str, dict[str, str]]:
    """The first markdown table whose header starts with 'what the caller gets': row → role → cell."""
    lines = [line.strip().removeprefix("#").strip() for line in text.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("| what the caller gets"))
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = dict(zip(header[1:], cells[1:]))
    return rows


def documented() -> dict[str, dict[str, str]]:
    tables = [table_in((ROOT / name).read_text(encoding="utf-8"))
              for name in ("README.md", "docs/ARCHITECTURE.md", "examples/policy.example.yaml")]
    assert tables[0] == tables[1] == tables[2], "the three copies of the role table differ"
    assert all(set(cells) == set(ROLES) for cells in tables[0].values())
    return tables[0]


def principal(role: str) -> Principal:
    return Principal(subject=f"t-{role}", roles=[role], scopes=ROLE_SCOPES[role],
                     territories=frozenset({"EMEA"}) if role == "sales" else None)


@pytest.fixture(scope="module")
def server(icp_demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from icp_mcp.server.app import archive_of, build_server

    built = build_server(str(icp_demo.copy_to(tmp_path_factory.mktemp("roles"))))
    try:
        yield built
    finally:
        archive_of(built).close()


def text_of(result: Any) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


async def observe(server: Any, role: str, emea: str, na: str) -> dict[str, str]:
    """What `role` receives, in the table's words."""
    voice_args = {"topic": "pricing", "channel": "email", "since": "2000-01-01", "limit": 50}
    with acting_as(principal(role)):
        async with Client(server) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            best = (await client.call_tool("best_customers", {"limit": 200, "top_n": 400})).structured_content
            own = await client.call_tool("score_account", {"account": emea})
            other = await client.call_tool("score_account", {"account": na})
            voice = await client.call_tool("customer_voice", voice_args)
            usage = await client.call_tool("feature_adoption", {"feature": "sso", "by": "industry"})
            icp = [await client.call_tool("check_drift", {}),
                   await client.call_tool("score_account", {"attributes": {"industry": "Software"}})]
            current = await client.read_resource("icp://current")
    territories = {item["territory"] for item in best["items"]}
    if not own.is_error and not other.is_error and territories - {"EMEA"}:
        identity = "all"
    elif not own.is_error and other.is_error and territories == {"EMEA"}:
        identity = "own territories"
    elif own.is_error and other.is_error and not best["items"]:
        identity = "none"
    else:
        identity = f"inconsistent ({territories}, {own.is_error}, {other.is_error})"
    quotes = voice.structured_content["quotes"] if not voice.is_error else []
    if voice.is_error:
        assert "voice:read" in text_of(voice)
        quoted = "no"
    elif quotes and all(q["account_id"] is None and q["attribution"] for q in quotes):
        quoted = "anonymous"
    elif quotes and all(q["account_id"] for q in quotes):
        quoted = "with account"
    else:
        quoted = "inconsistent"
    small = [s for s in best["shares"] if s["n"] is None or s["n"] < 5]
    assert small, "the demo has no small share to test the small-group rule on"
    return {
        "account identity (id, name, domain) in any answer": identity,
        "revenue figures (ARR, lifetime revenue)": "yes" if best["cohort_revenue"] is not None else "no",
        "contact PII (emails, phones, contact names)":
            "yes" if any(EMAIL.search(q["text"]) for q in quotes) else "no",
        "customer quotes (customer_voice)": quoted,
        "feature usage (feature_adoption)": "no" if usage.is_error else "yes",
        "ICP, disqualifier evidence, drift, prospect scores":
            "yes" if not any(r.is_error for r in icp) and current.contents else "no",
        "figures on groups under k accounts": "withheld" if all(s["n"] is None for s in small) else "shown",
        "derive and activate an ICP": "yes" if {"derive_icp", "activate_icp"} <= tools else "no",
    }


async def test_the_documented_role_table_is_what_each_role_receives(server, icp_demo) -> None:
    from test_permissions_http import account_in

    table = documented()
    emea, na = account_in(icp_demo.path, "EMEA"), account_in(icp_demo.path, "NA")
    for role in ROLES:
        seen = await observe(server, role, emea, na)
        assert set(seen) == set(table), sorted(set(seen) ^ set(table))
        wrong = {row: (table[row][role], got) for row, got in seen.items() if table[row][role] != got}
        assert not wrong, f"{role}: documented vs received: {wrong}"

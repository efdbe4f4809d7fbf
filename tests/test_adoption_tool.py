"""feature_adoption through a real MCP client (in-memory): groups, suppression of small groups, errors."""

from __future__ import annotations

import pytest
from mcp import Client

from icp_mcp.surface.access import Principal, acting_as
from icp_mcp.server.app import archive_of, build_server
from test_adoption_engine import AS_OF
from test_adoption_engine import engine as _engine_fixture  # noqa: F401  (module-scoped archive)


@pytest.fixture(scope="module")
def server(engine):
    url = str(engine.url).removeprefix("duckdb:///")
    engine.dispose()
    srv = build_server(url, read_only=True)
    yield srv
    archive_of(srv).close()


@pytest.fixture(scope="module")
def engine(_engine_fixture):  # noqa: F811
    return _engine_fixture


def text_of(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


async def call(server, args: dict):
    async with Client(server) as client:
        return await client.call_tool("feature_adoption", args)


async def test_adoption_by_industry(server) -> None:
    res = await call(server, {"feature": "sso", "by": "industry", "since": "90d", "as_of": AS_OF})
    assert not res.is_error, text_of(res)
    data = res.structured_content
    assert data["highest"] == "Software" and data["overall"]["adopters"] == 7
    soft = data["groups"][0]
    assert soft["group"] == "Software" and soft["rate"] == 0.75 and len(soft["interval"]) == 2
    assert soft["adopters_retention"]["n"] >= 1 and data["suppressed_groups"] == 0


async def test_small_groups_withheld_for_callers_without_account_access(server) -> None:
    pm = Principal(subject="p", roles=["product"], scopes=frozenset({"icp:read", "usage:read"}),
                   territories=frozenset())
    with acting_as(pm):
        res = await call(server, {"feature": "sso", "by": "industry", "since": "90d", "as_of": AS_OF})
    assert not res.is_error, text_of(res)
    data = res.structured_content
    retail = next(g for g in data["groups"] if g["group"] == "Retail")
    assert retail["suppressed"] is True and retail["rate"] is None and data["suppressed_groups"] == 1


@pytest.mark.parametrize(
    ("args", "needle"),
    [({"feature": "teleport"}, "sso"), ({"feature": "sso", "by": "colour"}, "size_band"),
     ({"feature": "sso", "since": "yesterday-ish"}, "last_quarter")],
)
async def test_errors(server, args, needle) -> None:
    res = await call(server, {"as_of": AS_OF, "by": "industry", **args})
    assert res.is_error and needle in text_of(res) and "Traceback" not in text_of(res)


async def test_denied_without_usage_scope(server) -> None:
    rep = Principal(subject="r", roles=["sales"], scopes=frozenset({"icp:read", "accounts:read"}))
    with acting_as(rep):
        res = await call(server, {"feature": "sso", "by": "industry"})
    assert res.is_error and "feature_adoption" in text_of(res)

"""`build_server(policy=...)` without HTTP (stdio, in-memory): the caller is the policy's `local` entry;
without a policy it is LOCAL_OWNER. Listing and refusals follow that principal."""

from __future__ import annotations

from pathlib import Path

import yaml
from mcp import Client

from icp_mcp.server import audit
from icp_mcp.surface.access import LOCAL_OWNER, current_principal, set_default_principal


async def test_local_entry_of_the_policy_is_the_stdio_caller(icp_demo, tmp_path: Path) -> None:
    from icp_mcp.server.app import archive_of, build_server

    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump({"audit_jsonl": "audit.jsonl",
                                      "local": {"subject": "desk", "roles": ["product"]}}))
    server = build_server(str(icp_demo.path), policy=str(policy), read_only=True)
    try:
        assert current_principal().subject == "desk"
        async with Client(server) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            refused = await client.call_tool("customer_voice", {"topic": "pricing"})
    finally:
        archive_of(server).close()
        set_default_principal(LOCAL_OWNER)
        audit.set_default_jsonl(None)
    assert "feature_adoption" in names and "customer_voice" not in names and "derive_icp" not in names
    assert refused.is_error and "voice:read" in refused.content[0].text
    # the archive is read-only here: the audit entry went to the policy's JSONL file instead
    assert '"subject": "desk"' in (tmp_path / "audit.jsonl").read_text()


async def test_without_a_policy_the_caller_is_the_archive_owner(icp_demo) -> None:
    from icp_mcp.server.app import archive_of, build_server

    server = build_server(str(icp_demo.path), read_only=True)
    try:
        assert current_principal() == LOCAL_OWNER
        async with Client(server) as client:
            names = {t.name for t in (await client.list_tools()).tools}
    finally:
        archive_of(server).close()
    assert {"derive_icp", "activate_icp", "customer_voice", "feature_adoption", "score_account"} <= names


def _money_properties(schema: dict, defs: dict, path: str = "", seen: frozenset = frozenset()) -> list[tuple[str, dict]]:
    from icp_mcp.server.redact import is_money_field

    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return [] if name in seen else _money_properties(defs[name], defs, path, seen | {name})
    found = []
    for key, prop in schema.get("properties", {}).items():
        if is_money_field(key):
            found.append((f"{path}.{key}", prop))
        found += _money_properties(prop, defs, f"{path}.{key}", seen)
    for option in schema.get("anyOf", []) + ([schema["items"]] if isinstance(schema.get("items"), dict) else []):
        found += _money_properties(option, defs, path, seen)
    return found


async def test_every_tool_is_in_the_access_table_and_money_is_nullable(icp_demo) -> None:
    from icp_mcp.surface.access import TOOL_SCOPES
    from icp_mcp.server.app import archive_of, build_server

    server = build_server(str(icp_demo.path), read_only=True)
    try:
        async with Client(server) as client:
            tools = (await client.list_tools()).tools
    finally:
        archive_of(server).close()
    assert {t.name for t in tools} <= set(TOOL_SCOPES), "a tool without a scope is admin-only by accident"
    for tool in tools:
        schema = tool.output_schema or {}
        for where, prop in _money_properties(schema, schema.get("$defs", {})):
            kinds = prop.get("type")
            types = set(kinds if isinstance(kinds, list) else [kinds]) | {o.get("type") for o in prop.get("anyOf", [])}
            assert "null" in types, f"{tool.name}{where} must be nullable: revenue redaction nulls it"

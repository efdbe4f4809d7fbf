"""The tool contract: every tool's inputSchema, outputSchema and annotations, compared with a snapshot.

An accidental change to a tool's surface fails here. After an intended change, regenerate with
`ICP_MCP_UPDATE_SNAPSHOTS=1 pytest tests/test_tools_snapshot.py` and commit tests/snapshots/tools.json.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from mcp import Client

from icp_mcp.server.app import archive_of, build_server

SNAPSHOT = Path(__file__).parent / "snapshots" / "tools.json"
#: Tools this work item owns; tools added by other work items are snapshotted when present.
OWN_TOOLS = {"score_account", "best_customers", "explain_disqualifier", "derive_icp", "activate_icp"}


async def current_contract(archive: Path) -> dict:
    server = build_server(str(archive), read_only=True)
    try:
        async with Client(server) as client:
            tools = (await client.list_tools()).tools
    finally:
        archive_of(server).close()
    return {
        t.name: {
            "title": t.title,
            "inputSchema": t.input_schema,
            "outputSchema": t.output_schema,
            "annotations": t.annotations.model_dump(mode="json", by_alias=True, exclude_none=True),
        }
        for t in sorted(tools, key=lambda t: t.name)
    }


async def test_tool_contract_matches_snapshot(archive_path: Path):
    contract = await current_contract(archive_path)
    if os.environ.get("ICP_MCP_UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(contract, indent=1, sort_keys=True) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    assert set(contract) >= OWN_TOOLS
    assert sorted(contract) == sorted(expected), "tool set changed; regenerate the snapshot if intended"
    for name in expected:
        assert contract[name] == expected[name], f"{name} contract changed; regenerate the snapshot if intended"


async def test_every_tool_is_annotated_and_closed_world(archive_path: Path):
    contract = await current_contract(archive_path)
    for name, tool in contract.items():
        ann = tool["annotations"]
        assert ann["openWorldHint"] is False, name
        assert {"readOnlyHint", "destructiveHint", "idempotentHint", "title"} <= set(ann), name
        assert tool["outputSchema"] and tool["outputSchema"]["type"] == "object", name
    assert contract["derive_icp"]["annotations"]["readOnlyHint"] is False
    assert contract["activate_icp"]["annotations"]["destructiveHint"] is True
    assert contract["score_account"]["annotations"]["readOnlyHint"] is True

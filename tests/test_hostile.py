"""Hostile input: every string argument of every tool gets SQL injection, oversize text, control characters
and unicode confusables; numbers get negative and huge values; dates and enums get nonsense; file arguments
get path traversal. Each call must end in a clear tool error or a (filtered) answer, never a traceback or an
internal error, and read-only tools must leave the archive's content exactly as it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from mcp import Client
from sqlalchemy import text
from typer.testing import CliRunner

from icp_mcp.archive.schema import metadata
from icp_mcp.server.cli import app as cli

pytestmark = pytest.mark.slow

SQL = [
    "' OR '1'='1",
    "'; DROP TABLE accounts; --",
    "\"); DELETE FROM opportunities; --",
    "1 UNION SELECT email, phone FROM contacts --",
]
WEIRD = [
    "x" * 100_000,                      # oversize
    "\x00\x01\x07\x1b[2J\r\nnext",      # control characters, terminal codes
    "ｐｒｉｃｉｎｇ",                       # fullwidth
    "рriсing",                          # Cyrillic look-alikes
    "\u202egnicirp\u200b",              # right-to-left override, zero-width space
    "../../../../etc/passwd",
    "%_*\\",
]
STRINGS = SQL + WEIRD
NUMBERS = [-1, 0, -(2**63), 2**70]
DATES = ["2024-13-45", "0000-00-00", "31/12/2024", "tomorrow", "-5d", "99999999d"]
DATE_FIELDS = {"closed_before", "since", "until", "as_of"}
#: Text that would mean an unanticipated exception reached the caller.
LEAKS = ("Traceback", "File \"/", "internal error", "sqlalchemy.", "duckdb.", "Binder Error", "Parser Error")


def checksum(engine) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent content hash of every archive table but audit_log."""
    sums = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name == "audit_log":
                continue
            row = conn.execute(text(f"SELECT count(*), coalesce(sum(hash(t)), 0) FROM {table.name} t")).one()
            sums[table.name] = (int(row[0]), int(row[1]))
    return sums


@pytest.fixture(scope="module")
def hostile_server(icp_demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from icp_mcp.server.app import archive_of, build_server

    path = icp_demo.copy_to(tmp_path_factory.mktemp("hostile"))
    server = build_server(str(path))  # read-write, as `serve` runs by default: the guard must hold
    try:
        yield server
    finally:
        archive_of(server).close()


def fields_of_type(schema: dict[str, Any], kind: str) -> list[str]:
    """Argument names whose JSON schema admits `kind` (directly or in an anyOf)."""
    out = []
    for name, prop in schema.get("properties", {}).items():
        direct = prop.get("type")  # lean schemas write a nullable string as {"type": ["string", "null"]}
        kinds = set(direct if isinstance(direct, list) else [direct]) | {o.get("type") for o in prop.get("anyOf", [])}
        if kind in kinds:
            out.append(name)
    return out


def baseline(tool: str) -> dict[str, Any]:
    """Arguments that make each tool's call otherwise valid, so the hostile value is what is tested."""
    return {"customer_voice": {"topic": "pricing"}, "feature_adoption": {"feature": "sso"},
            "explain_disqualifier": {}, "score_account": {}}.get(tool, {})


def assert_clean(tool: str, args: dict[str, Any], result: Any) -> None:
    body = " ".join(getattr(c, "text", "") for c in result.content)
    shown = {k: (v[:40] + "…" if isinstance(v, str) and len(v) > 40 else v) for k, v in args.items()}
    assert body.strip(), f"{tool} {shown}: empty answer"
    for leak in LEAKS:
        assert leak not in body, f"{tool} {shown}: {leak!r} in {body[:300]}"
    assert len(body) < 5000 or not result.is_error, f"{tool} {shown}: oversize error ({len(body)} chars)"
    if not result.is_error:
        assert result.structured_content is not None, f"{tool} {shown}: no structured content"
        assert len(body) < 200_000, f"{tool} {shown}: oversize answer"


async def test_hostile_arguments_never_leak_and_never_write(hostile_server) -> None:
    from icp_mcp.server.app import archive_of

    engine = archive_of(hostile_server).engine
    before = checksum(engine)
    calls = 0
    async with Client(hostile_server) as client:
        tools = [t for t in (await client.list_tools()).tools if t.annotations.read_only_hint]
        assert {t.name for t in tools} >= {"score_account", "best_customers", "customer_voice"}
        for tool in tools:
            base = baseline(tool.name)
            cases: list[dict[str, Any]] = []
            for name in fields_of_type(tool.input_schema, "string"):
                values = STRINGS + (DATES if name in DATE_FIELDS else [])
                cases += [{**base, name: value} for value in values]
            for name in fields_of_type(tool.input_schema, "integer"):
                cases += [{**base, name: value} for value in NUMBERS]
            for args in cases:
                result = await client.call_tool(tool.name, args)
                assert_clean(tool.name, args, result)
                calls += 1
    assert calls > 200
    assert checksum(engine) == before


async def test_hostile_structured_arguments(hostile_server) -> None:
    from icp_mcp.server.app import archive_of

    engine = archive_of(hostile_server).engine
    before = checksum(engine)
    cases = [
        ("score_account", {"attributes": {"industry'; DROP TABLE accounts;--": "x"}}),
        ("score_account", {"attributes": {"employees": -1e308, "technology": SQL}}),
        ("score_account", {"attributes": {"industry": {"nested": ["deep"] * 1000}}}),
        ("score_account", {"attributes": {f"k{i}": i for i in range(2000)}}),
        ("score_account", {"account": "A0000001", "attributes": {"industry": "x"}}),
        ("customer_voice", {"topic": "pricing", "cohort": SQL + ["A0000001"] * 5000}),
        ("customer_voice", {"topic": "not-a-topic"}),
        ("customer_voice", {"topic": "pricing", "channel": "carrier pigeon"}),
        ("customer_voice", {"topic": "pricing", "since": "2025-01-01", "until": "2024-01-01"}),
        ("customer_voice", {"topic": "pricing", "cohort": "tier:Z"}),
        ("best_customers", {"top_n": 10**12, "limit": 10**6}),
        ("best_customers", {"cursor": "eyJvIjotNSwiayI6IngifQ"}),
        ("explain_disqualifier", {"rule_id": "dq-nope'--"}),
        ("feature_adoption", {"feature": "sso", "by": "password"}),
    ]
    async with Client(hostile_server) as client:
        for tool, args in cases:
            result = await client.call_tool(tool, args)
            assert_clean(tool, args, result)
        unknown = await client.call_tool("drop_tables", {})
        assert unknown.is_error
    assert checksum(engine) == before


# -- file arguments on the command line --------------------------------------------------------------------

runner = CliRunner()


@pytest.mark.parametrize("policy_value", ["../../../../etc/shadow", "/nonexistent/policy.yaml", "pol\x00icy.yaml"])
def test_policy_path_arguments(tmp_path: Path, archive_path: Path, policy_value: str) -> None:
    listed = runner.invoke(cli, ["token", "list", "--policy", policy_value])
    assert listed.exit_code == 2 and "Traceback" not in listed.output
    served = runner.invoke(cli, ["serve", "--archive", str(archive_path), "--transport", "http",
                                 "--port", "9", "--policy", policy_value])
    assert served.exit_code != 0 and "Traceback" not in served.output


def test_non_policy_files_are_refused_clearly(tmp_path: Path, archive_path: Path) -> None:
    listed = runner.invoke(cli, ["token", "list", "--policy", str(archive_path)])  # a DuckDB file
    assert listed.exit_code == 2 and "policy" in listed.output and "Traceback" not in listed.output
    made = runner.invoke(cli, ["token", "create", "--policy", str(tmp_path / "no" / "dir" / "p.yaml"),
                               "--subject", "x", "--role", "product"])
    assert made.exit_code == 2 and "does not exist" in made.output
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize(
    "entry",
    [{"audit_jsonl": "../../escape.jsonl"}, {"audit_jsonl": "/proc/nope/x.jsonl"},
     {"jwt": {"issuer": "i", "audience": "a", "algorithms": ["RS256"], "public_key_file": "../../etc/ssl/k.pem"}},
     {"jwt": {"issuer": "i", "audience": "a", "algorithms": ["RS256"], "jwks_file": "/etc"}}],
)
def test_path_traversal_inside_the_policy(tmp_path: Path, archive_path: Path, entry: dict) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(entry))
    served = runner.invoke(cli, ["serve", "--archive", str(archive_path), "--transport", "http",
                                 "--port", "9", "--policy", str(policy)])
    assert served.exit_code == 2 and "Traceback" not in served.output
    assert any(word in served.output for word in ("audit_jsonl", "jwt.")), served.output


def test_audit_tail_on_foreign_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"\x00not a database" * 10)
    for target in (str(junk), "../../../../etc/passwd", "postgresql+psycopg://nobody@127.0.0.1:1/x"):
        result = runner.invoke(cli, ["audit", "tail", "--archive", target, "--json"])
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
        assert json.dumps({}) not in result.stdout


def test_http_beyond_loopback_needs_a_policy(archive_path: Path) -> None:
    served = runner.invoke(cli, ["serve", "--archive", str(archive_path), "--transport", "http",
                                 "--host", "0.0.0.0", "--port", "9"])
    assert served.exit_code == 2 and "--policy" in served.output


async def test_injection_does_not_widen_a_territory(hostile_server) -> None:
    from icp_mcp.surface.access import ROLE_SCOPES, Principal, acting_as

    rep = Principal(subject="rep", roles=["sales"], scopes=ROLE_SCOPES["sales"], territories=frozenset({"EMEA"}))
    probes = ["' OR territory='NA", "A0000003' OR '1'='1", "%", "_", "NA", "A000000_"]
    with acting_as(rep):
        async with Client(hostile_server) as client:
            for probe in probes:
                for tool in ("score_account", "explain_disqualifier"):
                    result = await client.call_tool(tool, {"account": probe})
                    body = " ".join(getattr(c, "text", "") for c in result.content)
                    assert_clean(tool, {"account": probe}, result)
                    for other in ("NA", "APAC", "LATAM"):
                        assert f"territory={other}" not in body and f'"territory":"{other}"' not in body, body[:300]

"""Token economy: the five journeys of issue 15 through icp-mcp and through a generic SQL MCP server.

Route (a) is icp-mcp (in-memory SDK client, read-only). Route (b) is `mcp-server-motherduck==1.1.0`, installed
by this script into its own venv (benchmarks/out/motherduck-venv), serving a read-only copy of the same demo
archive over stdio, driven with the SQL a competent assistant would run: schema discovery (list_tables,
list_columns), reading the stored ICP (only the keys it needs), then the queries. Each route is counted in
one conversation (listing and discovery once) and from a fresh conversation per journey. Tokens are o200k_base
(offline `bpe-openai`): the listing a model gets (name, description, input schema of every tool, plus the
server instructions), the arguments the model writes, and the results it reads (text content).
Agreement compares one number both routes can produce per journey.

    .venv/bin/python benchmarks/economy.py            # builds benchmarks/out/economy_s5.duckdb once
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import bpe_openai
from mcp import Client, StdioServerParameters

from icp_mcp.archive.db import open_archive
from icp_mcp.archive.demo import build_demo
from icp_mcp.engine.derivation import derive
from icp_mcp.engine.model.profile import Condition, ICPDefinition
from icp_mcp.engine.sql import versions
from icp_mcp.server.app import archive_of, build_server

OUT = Path(__file__).parent / "out"
ARCHIVE = OUT / "economy_s5.duckdb"
SQL_COPY = OUT / "economy_s5_sql.duckdb"
VENV = OUT / "motherduck-venv"
PEER = "mcp-server-motherduck==1.1.0"
AS_OF = date(2026, 11, 15)
ACCOUNT = "A0000042"
LAST_MONTH = ("2026-10-01", "2026-11-01")  # last_month relative to AS_OF, half-open
QUARTER_START = "2026-10-01"  # this_quarter relative to AS_OF
USAGE_SINCE = "2025-11-16"  # feature_adoption's default window: the 365 days up to AS_OF
ENC = bpe_openai.get_encoding("o200k_base")


def tokens(value: Any) -> int:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return len(ENC.encode(text))


# --- setup ------------------------------------------------------------------------------------------------


def ensure_archive() -> None:
    """Demo S seed 5 with its ICP derived and active (built once), and a copy for the SQL route."""
    OUT.mkdir(exist_ok=True)
    if not ARCHIVE.exists():
        build_demo(ARCHIVE, size="S", seed=5, as_of=AS_OF)
        engine = open_archive(ARCHIVE)
        try:
            version = versions.save_version(engine, derive.derive_icp(engine), "economy")
            versions.activate(engine, version, "economy")
        finally:
            engine.dispose()
    shutil.copy(ARCHIVE, SQL_COPY)


def ensure_peer() -> Path:
    """The peer server's executable, installed into its own venv on first use."""
    exe = VENV / "bin" / "mcp-server-motherduck"
    if not exe.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", PEER], check=True)
    return exe


def active_icp() -> ICPDefinition:
    engine = open_archive(ARCHIVE, read_only=True)
    try:
        definition = versions.active_icp(engine, required=False)
    finally:
        engine.dispose()
    assert definition is not None
    return definition


# --- a conversation's ledger --------------------------------------------------------------------------------


@dataclass
class Call:
    tool: str
    args: dict[str, Any]
    arg_tokens: int
    result_tokens: int
    text: str
    structured: Any = None


@dataclass
class Journey:
    name: str
    calls: list[Call] = field(default_factory=list)

    @property
    def result_tokens(self) -> int:
        return sum(c.result_tokens for c in self.calls)

    @property
    def arg_tokens(self) -> int:
        return sum(c.arg_tokens for c in self.calls)


async def call(client: Client, tool: str, args: dict[str, Any]) -> Call:
    result = await client.call_tool(tool, args)
    text = "".join(getattr(block, "text", "") for block in result.content)
    if result.is_error:
        raise RuntimeError(f"{tool}({args}) failed: {text[:300]}")
    return Call(tool, args, tokens(args), tokens(text), text, result.structured_content)


async def listing(client: Client) -> dict[str, int]:
    listed = await client.list_tools()
    defs = [{"name": t.name, "description": t.description, "input_schema": t.input_schema} for t in listed.tools]
    return {"tools/list": tokens(listed.model_dump(mode="json", by_alias=True, exclude_none=True)),
            "definitions": tokens(defs), "instructions": tokens(client.instructions or "")}


# --- route (a): icp-mcp -----------------------------------------------------------------------------------

ICP_JOURNEYS: list[tuple[str, str, dict[str, Any]]] = [
    ("J1 fit + whom", "score_account", {"account": ACCOUNT}),
    ("J2 best 20 on pricing", "customer_voice",
     {"topic": "pricing", "cohort": "best:20", "since": "last_month", "as_of": AS_OF.isoformat()}),
    ("J3 SSO by segment", "feature_adoption", {"feature": "sso", "as_of": AS_OF.isoformat()}),
    ("J4 drift this quarter", "check_drift", {"window": "this_quarter", "as_of": AS_OF.isoformat()}),
    ("J5 pre-seed rule", "explain_disqualifier", {"rule_id": "pre-seed"}),
]


async def icp_route() -> tuple[dict[str, int], list[Journey]]:
    server = build_server(str(ARCHIVE), read_only=True)
    try:
        async with Client(server) as client:
            listed = await listing(client)
            journeys = []
            for name, tool, args in ICP_JOURNEYS:
                journeys.append(Journey(name, [await call(client, tool, args)]))
    finally:
        archive_of(server).close()
    return listed, journeys


# --- route (b): generic SQL -------------------------------------------------------------------------------

ICP_SQL = ("SELECT version, json_extract(definition, '$.criteria') AS criteria, "
           "json_extract(definition, '$.segments') AS segments, "
           "json_extract(definition, '$.disqualifiers') AS disqualifiers, "
           "json_extract(definition, '$.tiers') AS tiers, json_extract(definition, '$.base_rate') AS base_rate, "
           "json_extract(definition, '$.closed_from') AS closed_from, "
           "json_extract(definition, '$.closed_to') AS closed_to FROM icp_versions WHERE status = 'active'")


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def condition_sql(cond: Condition) -> str:
    """The SQL an assistant writes for one ICP condition after reading it (accounts aliased `a`)."""
    if cond.attribute == "technology":
        values = ", ".join(_q(v) for v in cond.accepted())
        return (f"a.account_id IN (SELECT account_id FROM account_technologies WHERE technology IN ({values}))")
    if cond.range is not None:
        parts = []
        if cond.range.min is not None:
            parts.append(f"a.{cond.attribute} >= {cond.range.min:g}")
        if cond.range.max is not None:
            parts.append(f"a.{cond.attribute} < {cond.range.max:g}")
        return " AND ".join(parts)
    return f"a.{cond.attribute} IN ({', '.join(_q(v) for v in cond.accepted())})"


def sql_plan(definition: ICPDefinition) -> list[tuple[str, list[str], list[tuple[str, dict[str, Any]]]]]:
    """Per journey: (name, tables it needs described, the calls after discovery)."""
    segments = "\n".join(
        f"WHEN {' AND '.join(f'({condition_sql(c)})' for c in s.conditions)} THEN {_q(s.id)}"
        for s in definition.segments)
    customers = "SELECT DISTINCT account_id FROM opportunities WHERE stage = 'won'"
    top20 = ("SELECT account_id FROM arr_snapshots WHERE month = (SELECT max(month) FROM arr_snapshots) "
             "ORDER BY arr DESC LIMIT 20")
    pricing = (f"FROM conversation_snippets s JOIN accounts a USING (account_id) WHERE s.topics LIKE '%,pricing,%' "
               f"AND s.speaker IS DISTINCT FROM 'vendor' AND s.occurred_at >= '{LAST_MONTH[0]}' "
               f"AND s.occurred_at < '{LAST_MONTH[1]}' AND s.account_id IN ({top20})")
    adoption = f"""WITH seg AS (SELECT a.account_id, CASE {segments} ELSE '(no segment)' END AS segment
  FROM accounts a WHERE a.account_id IN ({customers})),
arr AS (SELECT account_id, max(arr) FILTER (WHERE month = (SELECT max(month) FROM arr_snapshots)) AS now,
  max(arr) FILTER (WHERE month = (SELECT max(month) - INTERVAL 12 MONTH FROM arr_snapshots)) AS year_ago
  FROM arr_snapshots GROUP BY account_id),
sso AS (SELECT DISTINCT account_id FROM feature_usage WHERE feature = 'sso' AND day >= '{USAGE_SINCE}'
  AND day <= '{AS_OF.isoformat()}')
SELECT segment, count(*) AS customers, count(sso.account_id) AS adopters,
  round(count(sso.account_id) / count(*), 3) AS adoption,
  count(*) FILTER (WHERE sso.account_id IS NOT NULL AND arr.year_ago > 0) AS adopters_with_arr,
  count(*) FILTER (WHERE sso.account_id IS NOT NULL AND arr.year_ago > 0 AND coalesce(arr.now, 0) = 0) AS adopters_churned,
  count(*) FILTER (WHERE sso.account_id IS NULL AND arr.year_ago > 0) AS others_with_arr,
  count(*) FILTER (WHERE sso.account_id IS NULL AND arr.year_ago > 0 AND coalesce(arr.now, 0) = 0) AS others_churned
FROM seg LEFT JOIN sso USING (account_id) LEFT JOIN arr USING (account_id)
GROUP BY ROLLUP (segment) ORDER BY segment NULLS FIRST"""
    recent = f"o.closed_at >= '{QUARTER_START}' AND o.closed_at <= '{AS_OF.isoformat()}'"
    mix = ("SELECT a.{col}, count(*) FILTER (WHERE {recent}) AS recent_wins, "
           "count(*) FILTER (WHERE o.closed_at < '{start}') AS earlier_wins FROM opportunities o "
           "JOIN accounts a USING (account_id) WHERE o.stage = 'won' GROUP BY 1 ORDER BY 2 DESC")
    rule = next((d for d in definition.disqualifiers if d.value and "seed" in d.value.lower()), None)
    preseed = condition_sql(rule) if rule else "a.funding_stage = 'Pre-seed'"
    return [
        ("J1 fit + whom", ["accounts", "account_technologies", "signals", "contacts", "opportunity_contacts",
                           "icp_versions"], [
            ("execute_query", {"sql": f"SELECT * FROM accounts WHERE account_id = '{ACCOUNT}'"}),
            ("execute_query", {"sql": f"SELECT technology FROM account_technologies WHERE account_id = '{ACCOUNT}'"}),
            ("execute_query", {"sql": f"SELECT kind, occurred_at FROM signals WHERE account_id = '{ACCOUNT}' "
                                      "ORDER BY occurred_at DESC LIMIT 10"}),
            ("execute_query", {"sql": ICP_SQL}),
            ("execute_query", {"sql": "SELECT c.name, c.title, c.seniority, max(oc.role) AS role FROM contacts c "
                                      "LEFT JOIN opportunity_contacts oc USING (contact_id) "
                                      f"WHERE c.account_id = '{ACCOUNT}' GROUP BY 1, 2, 3"}),
        ]),
        ("J2 best 20 on pricing", ["arr_snapshots", "conversation_snippets", "accounts"], [
            ("execute_query", {"sql": f"SELECT count(*) AS snippets, count(DISTINCT s.account_id) AS accounts {pricing}"}),
            ("execute_query", {"sql": f"SELECT s.snippet_id, s.account_id, a.name, CAST(s.occurred_at AS DATE) AS day, "
                                      f"s.text {pricing} ORDER BY s.occurred_at DESC LIMIT 10"}),
        ]),
        ("J3 SSO by segment", ["feature_usage", "arr_snapshots", "opportunities", "accounts", "icp_versions"], [
            ("execute_query", {"sql": ICP_SQL}),
            ("execute_query", {"sql": adoption}),
        ]),
        ("J4 drift this quarter", ["opportunities", "accounts", "icp_versions"], [
            ("execute_query", {"sql": ICP_SQL}),
            ("execute_query", {"sql": f"SELECT o.closed_at >= '{QUARTER_START}' AS recent, "
                                      "count(*) FILTER (WHERE o.stage = 'won') AS wins, count(*) AS closed "
                                      f"FROM opportunities o WHERE o.stage IN ('won', 'lost') "
                                      f"AND o.closed_at <= '{AS_OF.isoformat()}' GROUP BY 1"}),
            ("execute_query", {"sql": mix.format(col="industry", recent=recent, start=QUARTER_START)}),
            ("execute_query", {"sql": mix.format(col="funding_stage", recent=recent, start=QUARTER_START)}),
        ]),
        ("J5 pre-seed rule", ["opportunities", "accounts", "icp_versions"], [
            ("execute_query", {"sql": ICP_SQL}),
            ("execute_query", {"sql": "SELECT (" + preseed + ") AS pre_seed, count(*) AS deals, "
                                      "count(*) FILTER (WHERE o.stage = 'won') AS won FROM opportunities o "
                                      "JOIN accounts a USING (account_id) WHERE o.stage IN ('won', 'lost') "
                                      "AND o.closed_at >= (SELECT max(closed_at) - INTERVAL 180 DAY FROM opportunities) "
                                      "GROUP BY 1"}),
        ]),
    ]


async def sql_route(exe: Path, definition: ICPDefinition) -> tuple[dict[str, int], list[tuple[Journey, Journey]]]:
    """(listing, [(journey as asked in one conversation, journey from a fresh conversation)])."""
    params = StdioServerParameters(command=str(exe), args=["--db-path", str(SQL_COPY)])
    plan = sql_plan(definition)
    async with Client(params) as client:
        listed = await listing(client)
        seen: set[str] = set()
        out = []
        for name, tables, steps in plan:
            discovery = [("list_tables", {}), *(("list_columns", {"table": t}) for t in tables)]
            fresh, chat = Journey(name), Journey(name)
            for tool, args in [*discovery, *steps]:
                done = await call(client, tool, args)
                fresh.calls.append(done)
                key = json.dumps([tool, args], sort_keys=True)
                if key not in seen:
                    chat.calls.append(done)  # in one conversation discovery and the ICP are read once
                seen.add(key)
            out.append((chat, fresh))
        whole = await call(client, "execute_query", {"sql": "SELECT definition FROM icp_versions WHERE status = 'active'"})
        listed["whole ICP read"] = whole.result_tokens
        listed["ICP keys read"] = next(c.result_tokens for c in out[0][1].calls if c.args.get("sql") == ICP_SQL)
    return listed, out


# --- checkable evidence and agreement --------------------------------------------------------------------


def rows(c: Call) -> list[dict[str, Any]]:
    data = json.loads(c.text)
    return [dict(zip(data["columns"], r)) for r in data["rows"]]


def agreement(icp: list[Journey], sql: list[Journey], definition: ICPDefinition) -> list[tuple[str, str, str]]:
    """Per journey: (what is compared, icp-mcp's number, the SQL route's number)."""
    out = []
    s = icp[0].calls[0].structured["score"]
    account = rows(sql[0].calls[-5])[0]
    techs = [r["technology"] for r in rows(sql[0].calls[-4])]
    met = sorted(c.id for c in definition.criteria if c.attribute not in ("trigger",) and (
        any(c.matches(t) for t in techs) if c.attribute == "technology"
        else c.matches(str(account.get(c.attribute)), account.get(c.attribute))))
    out.append(("criteria met (ids; triggers aside)", ",".join(sorted(h["id"] for h in s["met"] if h["attribute"] != "trigger"
                                                                  and h["attribute"] != "segment")), ",".join(met)))
    v = icp[1].calls[0].structured
    count = rows(sql[1].calls[-2])[0]
    out.append(("pricing snippets / accounts", f"{v['total']} / {v['accounts']}", f"{count['snippets']} / {count['accounts']}"))
    a = icp[2].calls[0].structured
    total = next(r for r in rows(sql[2].calls[-1]) if r["segment"] is None)
    out.append(("SSO adopters (eligible: icp-mcp leaves out customers gone before the window)",
                f"{a['overall']['adopters']} (of {a['overall']['n']})", f"{total['adopters']} (of {total['customers']})"))
    d = icp[3].calls[0].structured
    recent = next(r for r in rows(sql[3].calls[-3]) if r["recent"])
    out.append(("wins this quarter", str(d["recent_wins"]), str(recent["wins"])))
    e = icp[4].calls[0].structured["explanation"]["recent"]["evidence"] or {}
    pre = next((r for r in rows(sql[4].calls[-1]) if r["pre_seed"]), {"deals": 0, "won": 0})
    out.append(("pre-seed deals won / closed, last 180 d", f"{e.get('positives')} / {e.get('n')}",
                f"{pre['won']} / {pre['deals']}"))
    return out


EVIDENCE = {  # does the answer carry evidence a person can check (n, rates, intervals, ids)?
    "icp-mcp": ["yes: criteria with n, rate, interval",
                "yes: snippet, conversation and account ids, dates, counts",
                "yes: n, adopters, Wilson intervals, NRR / churn with n",
                "yes: windows, wins, intervals, p values, PSI",
                "yes: n, won, interval vs base; recent n and interval"],
    "sql": ["partly: raw rows and the stored evidence; the score is the assistant's own arithmetic",
            "partly: ids and counts; 'best 20' by ARR, not by value score",
            "partly: counts; no intervals unless the assistant computes them",
            "partly: counts by value; no test, no in-ICP share (needs scoring)",
            "yes: stored evidence plus recent counts; interval by hand"],
}


def table(headers: list[str], body: list[list[Any]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *body)]
    line = lambda r: "| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, body)])


async def main() -> None:
    ensure_archive()
    exe = ensure_peer()
    definition = active_icp()
    icp_list, icp = await icp_route()
    sql_list, sql = await sql_route(exe, definition)
    print(table(["listing (tokens)", "icp-mcp", "generic SQL MCP"],
                [[k, icp_list[k], sql_list[k]] for k in ("tools/list", "definitions", "instructions")]))
    icp_ctx = icp_list["definitions"] + icp_list["instructions"]
    sql_ctx = sql_list["definitions"] + sql_list["instructions"]
    body = []
    totals = {"icp-mcp": [0, 0], "sql one chat": [0, 0], "sql fresh": [0, 0]}
    for i, j in enumerate(icp):
        chat, fresh = sql[i]
        body.append([j.name, len(j.calls), j.arg_tokens + j.result_tokens, len(chat.calls),
                     chat.arg_tokens + chat.result_tokens, len(fresh.calls), fresh.arg_tokens + fresh.result_tokens])
        totals["icp-mcp"][0] += len(j.calls)
        totals["icp-mcp"][1] += j.arg_tokens + j.result_tokens
        totals["sql one chat"][0] += len(chat.calls)
        totals["sql one chat"][1] += chat.arg_tokens + chat.result_tokens
        totals["sql fresh"][0] += len(fresh.calls)
        totals["sql fresh"][1] += fresh.arg_tokens + fresh.result_tokens
    one_icp, one_sql = icp_ctx + totals["icp-mcp"][1], sql_ctx + totals["sql one chat"][1]
    fresh_icp, fresh_sql = 5 * icp_ctx + totals["icp-mcp"][1], 5 * sql_ctx + totals["sql fresh"][1]
    body.append(["all five (calls, args + results)", totals["icp-mcp"][0], totals["icp-mcp"][1],
                 totals["sql one chat"][0], totals["sql one chat"][1], totals["sql fresh"][0], totals["sql fresh"][1]])
    body.append(["+ listing & instructions", "", one_icp, "", one_sql, "", f"{fresh_sql} (icp fresh {fresh_icp})"])
    print()
    print(table(["journey", "icp calls", "icp tokens", "sql calls (1 chat)", "sql tokens (1 chat)",
                 "sql calls (fresh)", "sql tokens (fresh)"], body))
    print(f"\nthe SQL route reads only the ICP keys it needs ({sql_list['ICP keys read']} tokens); reading the whole "
          f"stored ICP costs {sql_list['whole ICP read']} tokens per read")
    print(f"one conversation: icp-mcp {one_icp} vs SQL {one_sql} tokens = {one_sql / one_icp:.1f}x fewer; "
          f"fresh conversations: {fresh_icp} vs {fresh_sql} = {fresh_sql / fresh_icp:.1f}x fewer")
    checks = agreement(icp, [c for c, _ in sql], definition)
    contacts = icp[0].calls[0].structured.get("contacts") or []
    EVIDENCE["icp-mcp"][0] += (f"; whom to call: {len(contacts)} contacts with roles and persona lift"
                               if contacts else "; no contacts in the answer")
    print()
    print(table(["journey", "compared", "icp-mcp", "SQL", "agree", "evidence icp-mcp", "evidence SQL"],
                [[j.name, what, a, b, "yes" if a.split(" (")[0] == b.split(" (")[0] else "no", EVIDENCE["icp-mcp"][i],
                  EVIDENCE["sql"][i]]
                 for i, (j, (what, a, b)) in enumerate(zip(icp, checks))]))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

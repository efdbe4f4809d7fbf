"""The leak suite (issue 11): no account a caller may not see is ever named, over real HTTP.

A policy with a territory-limited sales caller (EMEA, no revenue or PII scope) and a marketing caller
(no accounts:read: may name no account at all). Each calls every tool, resource and prompt with ordinary
and adversarial arguments (hidden ids, names, domains, partial names, cohorts of hidden ids, free-text
questions naming hidden accounts, every page), and every response (structured content, text, errors)
is searched for the id, name and domain of every account the caller may not see. Echoes of the
caller's own arguments are not leaks (a non-existent name is echoed the same way) and are cut first; a
hit inside the name of an account the caller may see (a visible "Nova Systems" holding a hidden "Nova")
is not a leak either. Zero hits are required.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from icp_mcp.archive.db import open_archive
from icp_mcp.archive.schema import accounts
from test_permissions_http import connect, free_port, mint, serving

pytestmark = pytest.mark.slow

TERRITORY = "EMEA"
MIN_CALLS = 150


@dataclass
class Account:
    account_id: str
    name: str
    domain: str | None
    territory: str


@dataclass
class LeakServer:
    base: str
    tokens: dict[str, str]
    accounts: list[Account]
    server: Any
    rules: list[str]
    segments: list[str]


def all_accounts(path: Path) -> list[Account]:
    engine = open_archive(path, read_only=True)
    try:
        with engine.connect() as conn:
            a = accounts.c
            rows = conn.execute(select(a.account_id, a.name, a.domain, a.territory).order_by(a.account_id)).all()
    finally:
        engine.dispose()
    return [Account(*r) for r in rows]


@pytest.fixture(scope="module")
def leak_server(icp_demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LeakServer]:
    from icp_mcp.engine.sql import versions
    from icp_mcp.server.app import build_server

    folder = tmp_path_factory.mktemp("leaks")
    archive = icp_demo.copy_to(folder)
    policy = folder / "policy.yaml"
    tokens = {"sales": mint(policy, "sue.sales", "--role", "sales", "--territory", TERRITORY),
              "marketing": mint(policy, "max.marketing", "--role", "marketing")}
    engine = open_archive(archive, read_only=True)
    try:
        definition = versions.get_version(engine, None).definition
    finally:
        engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = build_server(str(archive), policy=str(policy), base_url=base)
    with serving(server, port):
        yield LeakServer(base=base, tokens=tokens, accounts=all_accounts(archive), server=server,
                         rules=[d.id for d in definition.disqualifiers], segments=[s.id for s in definition.segments])


class LeakSearch:
    """Finds hidden account ids, names and domains in a response, minus echoes and visible names.

    Word n-grams of the text (up to the longest name) are looked up in sets, so ~6,000 marks cost one
    pass over the text; a hit that lies inside a visible account's name is not counted."""

    WORD = re.compile(r"[\w\-]+(?:\.[\w\-]+)*")

    def __init__(self, hidden: list[Account], visible: list[Account]) -> None:
        self.hidden = hidden
        shown = {m.lower() for a in visible for m in (a.account_id, a.name, a.domain) if m}
        # a name that a visible account also bears (the demo has a few twins) identifies no hidden account
        self.marks = {m.lower() for a in hidden for m in (a.account_id, a.name, a.domain) if m} - shown
        self.shown = shown
        self.longest = max(len(m.split()) for m in self.marks | self.shown | {"x"})

    def _spans(self, words: list[re.Match[str]], marks: set[str]) -> list[tuple[int, int, str]]:
        out = []
        lows = [w.group(0).lower() for w in words]
        for i in range(len(words)):
            for n in range(1, self.longest + 1):
                if i + n > len(words):
                    break
                gram = " ".join(lows[i:i + n])
                if gram in marks:
                    out.append((words[i].start(), words[i + n - 1].end(), gram))
        return out

    def hits(self, text: str, echoes: list[str]) -> list[str]:
        for echo in sorted({e for e in echoes if e}, key=len, reverse=True):
            text = text.replace(echo, " ").replace(json.dumps(echo)[1:-1], " ").replace(repr(echo), " ")
        words = list(self.WORD.finditer(text))
        inside = [(lo, hi) for lo, hi, _ in self._spans(words, self.shown)]
        return [gram for lo, hi, gram in self._spans(words, self.marks)
                if not any(a <= lo and hi <= b and (a, b) != (lo, hi) for a, b in inside)]


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value, value.strip()]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings_in(v)] + ([",".join(map(str, value))] if value else [])
    return []


def dump(result: Any) -> str:
    """Every part of a response as one text: structured content, content blocks, error texts."""
    if isinstance(result, BaseException):
        return f"{type(result).__name__}: {result}"
    return json.dumps(result.model_dump(mode="json", by_alias=True), ensure_ascii=False)


def adversarial_calls(srv: LeakServer, hidden: list[Account], visible: list[Account]) -> list[tuple[str, dict]]:
    """(tool, arguments) pairs: ordinary questions and every kind of hidden reference."""
    step = max(1, len(hidden) // 12)
    sample = hidden[::step][:12]
    shown = visible[:6]
    calls: list[tuple[str, dict]] = []
    for a in sample:
        first = a.name.split()[0]
        refs = [a.account_id, a.name, a.name.upper(), a.domain or a.name, f"https://www.{a.domain}/about",
                first, a.name[: max(4, len(a.name) // 2)]]
        calls += [("score_account", {"account": r}) for r in refs]
        calls += [("explain_disqualifier", {"account": r}) for r in refs[:3]]
        calls.append(("customer_voice", {"question": f"what did {a.name} say about pricing?", "since": "2000-01-01"}))
        calls.append(("customer_voice", {"question": a.domain or a.name, "since": "2000-01-01"}))
    ids = [a.account_id for a in sample]
    calls += [("customer_voice", {"topic": "pricing", "cohort": ids, "since": "2000-01-01"}),
              ("customer_voice", {"topic": "pricing", "cohort": ",".join(ids), "since": "2000-01-01"}),
              ("customer_voice", {"topic": "pricing", "cohort": ids[0]}),
              ("customer_voice", {"topic": "pricing", "cohort": ids + [a.account_id for a in shown]})]
    for a in shown:  # ordinary questions about accounts the caller may see
        calls += [("score_account", {"account": a.account_id}), ("score_account", {"account": a.name}),
                  ("explain_disqualifier", {"account": a.account_id})]
    calls += [("score_account", {"account": "Nonexistent Holdings"}), ("score_account", {"account": "A9999999"}),
              ("score_account", {"attributes": {"industry": "Software", "employees": 400}}),
              ("score_account", {"attributes": {"industry": "Government", "funding_stage": "Pre-seed"}}),
              ("score_account", {"attributes": {"industry": "Fintech", "technology": ["Snowflake"]}})]
    calls += [("explain_disqualifier", {"rule_id": r}) for r in srv.rules]
    calls += [("explain_disqualifier", {"rule_id": r, "account": sample[0].account_id}) for r in srv.rules[:2]]
    for topic in ("pricing", "security_compliance", "integrations", "onboarding", "support", "competitors",
                  "roi_value", "product_gaps"):
        calls.append(("customer_voice", {"topic": topic, "since": "2000-01-01", "limit": 50}))
    for cohort in ("all", "customers", "best", "best:5", "best:50", "icp", "tier:A", "tier:D",
                   *[f"segment:{s}" for s in srv.segments]):
        calls.append(("customer_voice", {"topic": "pricing", "cohort": cohort, "since": "2000-01-01"}))
    calls += [("customer_voice", {"topic": "pricing", "persona": p, "since": "2000-01-01"})
              for p in ("champion", "economic_buyer", "CFO")]
    calls += [("best_customers", {}), ("best_customers", {"limit": 200}), ("best_customers", {"top_n": 3}),
              ("best_customers", {"top_n": 500, "limit": 200})]
    calls += [("best_customers", {"segment": s}) for s in srv.segments]
    calls += [("feature_adoption", {"feature": f, "by": by}) for f in ("sso", "api") for by in ("industry", "tier")]
    calls += [("check_drift", {}), ("check_drift", {"window": "30d", "as_of": "2026-11-01"}),
              ("check_drift", {"window": "365d", "as_of": "2026-11-01"})]
    calls += [("derive_icp", {}), ("activate_icp", {"version": 1, "confirm": True})]
    return calls


async def run_role(srv: LeakServer, role: str, visible_of: Any) -> tuple[int, int, int, list[str]]:
    visible = [a for a in srv.accounts if visible_of(a)]
    hidden = [a for a in srv.accounts if not visible_of(a)]
    search = LeakSearch(hidden, visible)
    leaks: list[str] = []
    calls = 0

    def check(what: str, result: Any, args: Any = None) -> None:
        nonlocal calls
        calls += 1
        found = search.hits(dump(result), strings_in(args))
        if found:
            leaks.append(f"{role} {what} {json.dumps(args, default=str)[:120]}: {sorted(set(found))[:5]}")

    async with connect_as(srv, role) as client:
        check("tools/list", await client.list_tools())
        for tool, args in adversarial_calls(srv, hidden, visible):
            result = await client.call_tool(tool, args)
            check(tool, result, args)
            pages = 0
            data = result.structured_content or {}
            while data.get("next_cursor") and pages < 4:  # later pages too
                result = await client.call_tool(tool, {**args, "cursor": data["next_cursor"]})
                check(f"{tool} (page {pages + 2})", result, args)
                data, pages = result.structured_content or {}, pages + 1
        check("resources/list", await client.list_resources())
        check("resources/templates/list", await client.list_resource_templates())
        for uri in ("icp://current", "icp://current.json", "icp://versions", "icp://versions/1", "icp://personas",
                    "archive://schema", f"icp://versions/{hidden[0].account_id}"):
            try:
                check(uri, await client.read_resource(uri))
            except Exception as exc:  # a refused or unknown resource is an error response: searched too
                check(uri, exc, [uri, uri.rsplit("/", 1)[-1]])
        check("prompts/list", await client.list_prompts())
        for name, args in ([("qualify_account", {"account": a.name}) for a in hidden[:3]]
                           + [("quarterly_icp_review", {}), ("voice_of_customer", {"topic": "pricing"}),
                              ("voice_of_customer", {"topic": "pricing", "cohort": hidden[0].account_id})]):
            check(f"prompt {name}", await client.get_prompt(name, args), args)
    return calls, len(hidden), len(search.marks), leaks


def connect_as(srv: LeakServer, role: str):
    from test_permissions_http import Deployment

    return connect(Deployment(base=srv.base, tokens=srv.tokens, server=srv.server, emea_account="",
                              na_account=""), srv.tokens[role])


async def test_no_hidden_account_is_ever_named(leak_server: LeakServer) -> None:
    report = {}
    leaks: list[str] = []
    for role, visible_of in (("sales", lambda a: a.territory == TERRITORY), ("marketing", lambda a: False)):
        calls, searched, marks, found = await run_role(leak_server, role, visible_of)
        report[role] = (calls, searched)
        leaks += found
        print(f"leak suite: {role}: {calls} calls, {searched} hidden accounts searched ({marks} ids, names and "
              f"domains), {len(found)} responses with hits")
    assert not leaks, "\n".join(leaks[:40])
    assert all(calls >= MIN_CALLS for calls, _ in report.values()), report
    assert all(searched > 1000 for _, searched in report.values()), report

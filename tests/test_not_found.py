"""Not found is not found (issue 11): for a caller who may not see an account, a lookup by id, name, domain
or partial name answers exactly as if the account did not exist, and only the audit log knows better.

The proof is a second copy of the archive from which every account the sales caller may not see is
deleted: the same questions must get byte-identical answers on both. For the marketing caller (who may
name no account) a hidden name and a made-up name get the same answer, the name aside."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from sqlalchemy import delete, select

from icp_mcp.archive.db import open_archive
from icp_mcp.archive.schema import accounts
from icp_mcp.server import audit
from icp_mcp.surface.access import ROLE_SCOPES, Principal, acting_as

pytestmark = pytest.mark.slow

REP = Principal(subject="rep", roles=["sales"], scopes=ROLE_SCOPES["sales"], territories=frozenset({"EMEA"}))
MARKETER = Principal(subject="mkt", roles=["marketing"], scopes=ROLE_SCOPES["marketing"])


def hidden_accounts(path: Path, n: int = 8) -> list[tuple[str, str, str]]:
    engine = open_archive(path, read_only=True)
    try:
        with engine.connect() as conn:
            a = accounts.c
            visible = {r[0].lower() for r in conn.execute(select(a.name).where(a.territory == "EMEA"))}
            rows = conn.execute(select(a.account_id, a.name, a.domain).where(a.territory != "EMEA")
                                .order_by(a.account_id)).all()
    finally:
        engine.dispose()
    return [tuple(r) for r in rows if r.name.lower() not in visible][::97][:n]


@pytest.fixture(scope="module")
def twins(icp_demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any, list]]:
    """(server on the archive, server on a copy without the accounts outside EMEA, hidden accounts)."""
    from icp_mcp.server.app import archive_of, build_server

    full = icp_demo.copy_to(tmp_path_factory.mktemp("nf_full"))
    hidden = hidden_accounts(full)
    pruned = icp_demo.copy_to(tmp_path_factory.mktemp("nf_pruned"))
    engine = open_archive(pruned)
    try:
        with engine.begin() as conn:
            conn.execute(delete(accounts).where(accounts.c.territory != "EMEA"))
    finally:
        engine.dispose()
    servers = build_server(str(full)), build_server(str(pruned))
    try:
        yield servers[0], servers[1], hidden
    finally:
        for server in servers:
            archive_of(server).close()


def text_of(result: Any) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def references(account: tuple[str, str, str]) -> list[str]:
    account_id, name, domain = account
    return [account_id, name, name.lower(), domain, f"https://www.{domain}/pricing", name[: len(name) - 2]]


async def answers(server: Any, principal: Principal, calls: list[tuple[str, dict]]) -> list[str]:
    with acting_as(principal):
        async with Client(server) as client:
            return [text_of(await client.call_tool(tool, args)) for tool, args in calls]


async def test_hidden_accounts_answer_like_missing_ones(twins) -> None:
    full, pruned, hidden = twins
    calls = [(tool, {"account": ref}) for account in hidden for ref in references(account)
             for tool in ("score_account", "explain_disqualifier")]
    calls += [("customer_voice", {"topic": "pricing", "cohort": [a[0] for a in hidden]})]
    assert len(hidden) >= 5 and len(calls) > 90
    seen, without = await answers(full, REP, calls), await answers(pruned, REP, calls)
    for (tool, args), a, b in zip(calls, seen, without):
        assert a == b, f"{tool} {args}: the answer reveals that the account exists\n{a[:400]}\n{b[:400]}"
    assert any("no account matches" in a for a in seen)


async def test_marketing_hidden_name_equals_made_up_name(twins) -> None:
    full, _, hidden = twins
    made_up = "Quuxfield Nonesuch"
    for account in hidden[:4]:
        for ref in references(account)[:4]:
            for tool in ("score_account", "explain_disqualifier"):
                real, fake = await answers(full, MARKETER, [(tool, {"account": ref}), (tool, {"account": made_up})])
                assert real.replace(ref.strip(), "X") == fake.replace(made_up, "X"), (tool, ref, real, fake)


async def test_the_audit_log_still_records_the_refusal(twins) -> None:
    from icp_mcp.server.app import archive_of

    full, _, hidden = twins
    account_id, name, _ = hidden[0]
    await answers(full, REP, [("score_account", {"account": name}), ("score_account", {"account": "Quuxfield Nonesuch"})])
    rows = [r for r in audit.tail(archive_of(full).engine, n=500, subject="rep") if r["tool"] == "score_account"]
    by_query = {r["arguments"]["account"]: r for r in rows}
    refused, missing = by_query[name], by_query["Quuxfield Nonesuch"]
    assert refused["outcome"] == "denied" and "outside" in refused["reason"] and "EMEA" in refused["reason"]
    assert missing["outcome"] == "error:NotFound" and missing["reason"] is None

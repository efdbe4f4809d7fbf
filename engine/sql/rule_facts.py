"""A disqualifier's facts as explain_disqualifier reports them: the won accounts that hit the rule (its
exceptions, with name and territory) and the recent window's closed deals, all of them and those hitting it.

They are a function of the data and the rule only (never of the caller): `compute` runs them (two statements
over the rule's accounts, filled once with `temp.once`), `store` writes them into `icp_rule_state` for the
stored ICP state (INSERT … SELECT for the exceptions), `read` reads them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, FromClause, Integer, Select, String, case, func, insert, literal, null, select

from icp_mcp.archive.schema import accounts, icp_rule_state, opportunities
from icp_mcp.engine.model.profile import Disqualifier
from icp_mcp.engine.sql import temp
from icp_mcp.engine.sql.points import condition_members

#: "Recent" deals: closed within this many days before the latest close in the archive.
RECENT_DAYS = 180

Exception_ = tuple[str, str, str | None]  # account_id, name, territory


@dataclass(frozen=True)
class RuleFacts:
    """What the archive says about one rule, for every caller: the won accounts that hit it (account_id,
    name, territory; ordered by account_id), the start of the recent window and its deal counts."""

    exceptions: tuple[Exception_, ...]
    since: date | None
    recent: tuple[int, int, int, int] | None  # closed deals, won, hitting the rule, won hitting the rule


def _exceptions_query(m: FromClause) -> Select:
    """account_id, name, territory of the accounts in `m` with a won deal (won deals joined to `m` first)."""
    o = opportunities
    won = select(o.c.account_id).join(m, m.c.account_id == o.c.account_id).where(o.c.stage == "won")
    return select(accounts.c.account_id, accounts.c.name, accounts.c.territory).where(accounts.c.account_id.in_(won))


def _recent(conn: Connection, m: FromClause) -> tuple[date | None, tuple[int, int, int, int] | None]:
    """The recent window's start and its closed deals: all, won, hitting the rule (in `m`), won and hitting."""
    o = opportunities
    latest = conn.execute(select(func.max(o.c.closed_at))).scalar()
    since = (latest - timedelta(days=RECENT_DAYS)) if latest else None
    if since is None:
        return None, None
    closed = o.c.stage.in_(("won", "lost")) & (o.c.closed_at >= since)
    is_won = func.sum(case((o.c.stage == "won", 1), else_=0))
    in_rule = m.c.account_id.is_not(None)  # one outer join (m has one row per account), not two IN probes
    row = conn.execute(select(
        func.count(), is_won,
        func.sum(case((in_rule, 1), else_=0)), func.sum(case((in_rule & (o.c.stage == "won"), 1), else_=0)),
    ).select_from(o.outerjoin(m, m.c.account_id == o.c.account_id)).where(closed)).one()
    return since, tuple(int(x or 0) for x in row)  # type: ignore[return-value]


def compute(conn: Connection, rule: Disqualifier, window: int) -> RuleFacts:
    """The rule's facts from the archive."""
    with temp.once(conn, condition_members(rule, window=window), "dq_members") as m:
        found = conn.execute(_exceptions_query(m).order_by(accounts.c.account_id)).all()
        since, recent = _recent(conn, m)
    return RuleFacts(tuple((a, n, t) for a, n, t in found), since, recent)


def store(conn: Connection, rule: Disqualifier, window: int, version: int, generation: int) -> None:
    """Write the rule's facts into `icp_rule_state` (inside the state build's transaction)."""
    stamp = [literal(version, Integer).label("version"), literal(rule.id, String).label("rule_id"),
             literal(generation, Integer).label("generation")]
    with temp.once(conn, condition_members(rule, window=window), "dq_members") as m:
        found = _exceptions_query(m).subquery("exc")
        rows = select(*stamp, found.c.account_id, found.c.name, found.c.territory)
        conn.execute(insert(icp_rule_state).from_select(list(rows.selected_columns.keys()), rows))
        since, recent = _recent(conn, m)
    closed, won, closed_hit, won_hit = recent if recent is not None else (None,) * 4
    conn.execute(insert(icp_rule_state).values(
        version=version, rule_id=rule.id, generation=generation, account_id=null(), since=since,
        closed=closed, won=won, closed_hit=closed_hit, won_hit=won_hit))


def read(conn: Connection, version: int, rule_id: str) -> RuleFacts | None:
    """The stored facts of `rule_id` under `version`, or None when they were not stored."""
    r = icp_rule_state.c
    rows = conn.execute(select(r.account_id, r.name, r.territory, r.since, r.closed, r.won, r.closed_hit,
                               r.won_hit).where(r.version == version, r.rule_id == rule_id)
                        .order_by(r.account_id)).all()
    head = next((row for row in rows if row.account_id is None), None)
    if head is None:
        return None
    recent = None if head.closed is None else (head.closed, head.won, head.closed_hit, head.won_hit)
    exceptions = tuple((row.account_id, row.name, row.territory) for row in rows if row.account_id is not None)
    return RuleFacts(exceptions, head.since, recent)  # type: ignore[arg-type]

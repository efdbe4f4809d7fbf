"""Measure the planted truths on a built archive (closed deals only), to fill the manifest's `observed` blocks.

DuckDB SQL over the finished file; also usable by tests to check a manifest against any demo archive.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
from icp_mcp.archive.demo.manifest import Condition, Manifest
from icp_mcp.archive.mappings import sql_str

SEGMENT_ALIAS = "a"


def condition_sql(cond: Condition) -> str:
    """A SQL predicate on `accounts a` for one manifest condition (values are inlined, quoted)."""
    if cond.attribute == "technology":
        return (f"EXISTS (SELECT 1 FROM account_technologies t WHERE t.account_id = a.account_id "
                f"AND t.technology IN ({_list(cond.values or [])}))")
    if cond.values is not None:
        return f"a.{cond.attribute} IN ({_list(cond.values)})"
    parts = []
    if cond.min is not None:
        parts.append(f"a.{cond.attribute} >= {cond.min}")
    if cond.max is not None:
        parts.append(f"a.{cond.attribute} <= {cond.max}")
    return " AND ".join(parts) or "TRUE"


def _list(values: list[str]) -> str:
    return ", ".join(sql_str(str(v)) for v in values)


def win_rate(con: duckdb.DuckDBPyConnection, where: str = "TRUE", deal_where: str = "TRUE") -> dict[str, Any]:
    """Won / closed deals of accounts matching `where` (and deals matching `deal_where`)."""
    won, n = con.execute(f"""
        SELECT count(*) FILTER (WHERE o.stage = 'won'), count(*)
        FROM opportunities o JOIN accounts a USING (account_id)
        WHERE o.stage IN ('won', 'lost') AND ({where}) AND ({deal_where})""").fetchone()
    return {"n": int(n), "won": int(won), "win_rate": round(won / n, 4) if n else None}


def observe(con: duckdb.DuckDBPyConnection, manifest: Manifest) -> Manifest:
    """Return a copy of `manifest` with counts and observed rates measured on `con`."""
    m = manifest.model_copy(deep=True)
    segment_sql = {s.id: " AND ".join(condition_sql(c) for c in s.conditions) for s in m.segments}
    dq_sql = {d.id: condition_sql(Condition(attribute=d.attribute, values=d.values)) for d in m.disqualifiers}
    outside = " AND ".join(f"NOT ({x})" for x in [*segment_sql.values(), *dq_sql.values()])
    m.observed_base = win_rate(con, outside) | {"overall": win_rate(con)}
    for s in m.segments:
        s.observed = win_rate(con, segment_sql[s.id])
    for d in m.disqualifiers:
        d.observed = win_rate(con, dq_sql[d.id])
    m.noise_observed = {attr: _by_value(con, attr) for attr in m.noise_attributes}
    for p in m.personas:
        p.observed = _persona(con, p.role, p.title_variants)
    for t in m.triggers:
        t.observed = _trigger(con, t.kind, t.window_days)
    m.feature_adoption["observed"] = _adoption(con, m.feature_adoption["feature"], segment_sql[m.feature_adoption["segment"]])
    as_of = date.fromisoformat(m.as_of)
    recent = f"o.closed_at > DATE '{as_of - timedelta(days=90)}'"
    m.wins_last_90_days = win_rate(con, deal_where=recent)["won"]
    if m.drift is not None:
        window = f"o.closed_at > DATE '{as_of - timedelta(days=m.drift['window_days'])}'"
        emerging = condition_sql(Condition(attribute=m.drift["attribute"], values=m.drift["emerging_values"]))
        weak = segment_sql[m.drift["weakened_segment"]]
        m.drift["observed"] = {
            "emerging_recent": win_rate(con, emerging, window), "emerging_before": win_rate(con, emerging, f"NOT {window}"),
            "weakened_recent": win_rate(con, weak, window), "weakened_before": win_rate(con, weak, f"NOT {window}"),
        }
    m.counts = {t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in _tables(con)}
    return m


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                       "AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'fts_%' "
                       "AND table_name <> 'alembic_version' ORDER BY 1").fetchall()  # data tables only
    return [r[0] for r in rows]


def _by_value(con: duckdb.DuckDBPyConnection, attribute: str) -> dict[str, Any]:
    key = f"CAST(a.{attribute} // 20 * 20 AS VARCHAR)" if attribute == "founded_year" else f"a.{attribute}"
    rows = con.execute(f"""
        SELECT {key} AS v, count(*) FILTER (WHERE o.stage = 'won'), count(*)
        FROM opportunities o JOIN accounts a USING (account_id)
        WHERE o.stage IN ('won', 'lost') GROUP BY 1 ORDER BY 1""").fetchall()
    return {str(v): {"n": n, "win_rate": round(w / n, 4)} for v, w, n in rows if n}


def _persona(con: duckdb.DuckDBPyConnection, role: str, titles: list[str]) -> dict[str, Any]:
    rows = con.execute(f"""
        SELECT o.stage, count(*), count(*) FILTER (WHERE EXISTS (
            SELECT 1 FROM opportunity_contacts oc JOIN contacts c USING (contact_id)
            WHERE oc.opportunity_id = o.opportunity_id AND oc.role = ? AND c.title IN ({_list(titles)})))
        FROM opportunities o WHERE o.stage IN ('won', 'lost') GROUP BY 1""", [role]).fetchall()
    share = {stage: hit / n for stage, n, hit in rows if n}
    won, lost = share.get("won", 0.0), share.get("lost", 0.0)
    return {"won_share": round(won, 4), "lost_share": round(lost, 4), "lift": round(won / lost, 2) if lost else None}


def _trigger(con: duckdb.DuckDBPyConnection, kind: str, window: int) -> dict[str, Any]:
    hit = (f"EXISTS (SELECT 1 FROM signals s WHERE s.account_id = o.account_id AND s.kind = '{kind}' "
           f"AND s.occurred_at < o.created_at AND s.occurred_at >= o.created_at - INTERVAL {window} DAY)")
    return {"with": win_rate(con, deal_where=hit), "without": win_rate(con, deal_where=f"NOT {hit}")}


def _adoption(con: duckdb.DuckDBPyConnection, feature: str, segment: str) -> dict[str, Any]:
    rows = con.execute(f"""
        WITH cust AS (
            SELECT a.account_id, ({segment}) AS in_segment,
                   EXISTS (SELECT 1 FROM feature_usage u WHERE u.account_id = a.account_id AND u.feature = ?) AS adopted,
                   (SELECT arr FROM arr_snapshots s WHERE s.account_id = a.account_id ORDER BY month DESC LIMIT 1) = 0
                       AS churned
            FROM accounts a WHERE a.account_id IN (SELECT DISTINCT account_id FROM arr_snapshots))
        SELECT in_segment, adopted, count(*), count(*) FILTER (WHERE churned) FROM cust GROUP BY 1, 2""",
                       [feature]).fetchall()
    by = {(bool(s), bool(a)): (n, c) for s, a, n, c in rows}

    def rate(pairs: list[tuple[bool, bool]], index: int, of: list[tuple[bool, bool]]) -> float | None:
        top = sum(by.get(k, (0, 0))[index] for k in pairs)
        bottom = sum(by.get(k, (0, 0))[0] for k in of)
        return round(top / bottom, 4) if bottom else None

    return {
        "adoption_segment": rate([(True, True)], 0, [(True, True), (True, False)]),
        "adoption_other": rate([(False, True)], 0, [(False, True), (False, False)]),
        "churn_adopters": rate([(True, True), (False, True)], 1, [(True, True), (False, True)]),
        "churn_non_adopters": rate([(True, False), (False, False)], 1, [(True, False), (False, False)]),
        "customers": sum(n for n, _ in by.values()),
    }

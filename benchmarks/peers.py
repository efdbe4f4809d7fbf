"""Peers, side by side: each ICP journey (a) through icp-mcp's tool over the in-memory MCP client in a fresh
process, (b) as hand-written raw DuckDB SQL on the same file (the floor), and for derive + score-all (c) the
pandas + scikit-learn pipeline an analyst would write for the same attributes.

    python benchmarks/peers.py --size M            # 100k accounts (archive built into benchmarks/out/ once)
    python benchmarks/peers.py --size L --repeat 10
    python benchmarks/peers.py --size M --only score,best20

Every measurement runs in its own fresh process (first call = the first call of that process; warm = the
next `--repeat` calls). The client lists the tools first, as every client does. Ours is the time the client
waits for the server's answer: the in-memory client's own work on it — importing its output-schema validator
(~120 ms, before the first call) and checking each result against the tool's output schema (compiling the
schema on the first result: 30–150 ms for score_account) — is a desktop client's cost in its own process;
the first call's check is printed apart ("client check"). Prints first, p50, p95 (ms) and the ratios ours/raw and ours/pandas. Goals (issue 12):
warm ≤ 2× raw, first ≤ 3× raw; derive + score-all faster than pandas.

The raw SQL computes the journey's headline numbers the way a person writing SQL by hand would (points
from the active ICP's criteria as CASE lines, the value score with percent ranks, counts and a top-20 page
for voice, the adoption rate per segment, win shares and PSI for drift, a rule's exceptions and recent win
rates); it skips what the tool adds around them (evidence intervals, names, tone, citations, caps, audit).
"""

from __future__ import annotations

import json
import logging
import math
import random
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
#: pandas lives outside the project's environment: with pandas importable, DuckDB's binding imports it on the
#: first bound parameter (~1 s) and checks every parameter against it (4x slower binds), so the project does
#: not depend on it; the analyst's pipeline gets it from here (`pip install --target`, done once).
PANDAS_DIR = OUT / ".pandas"
console = Console(width=150)

JOURNEYS = ("score", "best20", "voice_pricing_best20", "voice_question_icp", "adoption_sso_segment", "drift",
            "explain_disqualifier")
QUESTION = "annual prepay discount"


# ---------------------------------------------------------------------------------------------- helpers

def as_of_of(path: Path) -> date:
    """The demo archive's as-of day (its truth manifest), else today."""
    manifest = Path(str(path) + ".truth.json")
    if manifest.exists():
        return date.fromisoformat(json.loads(manifest.read_text())["as_of"])
    return date.today()


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def definition_of(path: Path):
    from icp_mcp.archive.db import open_archive
    from icp_mcp.engine.sql import versions

    engine = open_archive(path, read_only=True)
    try:
        return versions.active_icp(engine)
    finally:
        engine.dispose()


def sample_ids(path: Path, n: int) -> list[str]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(f"SELECT account_id FROM accounts USING SAMPLE {n} ROWS (reservoir, 7)").fetchall()
    finally:
        con.close()
    return sorted(r[0] for r in rows)


# ------------------------------------------------------------------------------------------- (a) ours

def tool_calls(journey: str, as_of: date, ids: list[str], rules: list[str], repeat: int) -> list[tuple[str, dict]]:
    """The tool and arguments of the first call and each warm call."""
    d = as_of.isoformat()
    if journey == "score":
        return [("score_account", {"account": ids[i % len(ids)]}) for i in range(repeat + 1)]
    spec = {
        "best20": ("best_customers", {"limit": 20}),
        "voice_pricing_best20": ("customer_voice", {"topic": "pricing", "cohort": "best:20", "since": "last_month",
                                                    "as_of": d}),
        "voice_question_icp": ("customer_voice", {"question": QUESTION, "cohort": "icp", "since": "90d", "as_of": d}),
        "adoption_sso_segment": ("feature_adoption", {"feature": "sso", "by": "segment", "as_of": d}),
        "drift": ("check_drift", {"as_of": d}),
        "explain_disqualifier": ("explain_disqualifier", {"rule_id": rules[0] if rules else None}),
    }[journey]
    return [spec] * (repeat + 1)


def worker_ours(path: Path, journey: str, repeat: int, as_of: date, ids: list[str], rules: list[str],
                read_only: bool = False) -> dict:
    import asyncio

    import jsonschema  # noqa: F401  the in-memory client's output-schema validator (~120 ms to import): the
    # client's own start-up, which a desktop client pays in its own process, so kept out of the server's first call
    from mcp import Client

    from icp_mcp.server.app import archive_of, build_server

    calls = tool_calls(journey, as_of, ids, rules, repeat)

    errors: list[str] = []
    checks: list[float] = []  # ms the client spent checking each result (compiling the schema on the first)

    async def go() -> list[float]:
        server = build_server(str(path), read_only=read_only, warm=True)  # as `serve` starts it
        out = []
        try:
            async with Client(server) as client:
                await client.list_tools()  # what every client does first (and every chat pays): session set-up
                session = client.session
                check = session.validate_tool_result
                spent: list[float] = []

                async def timed_check(name, result):  # the client's own check of a result against the schema
                    begun = time.perf_counter()
                    try:
                        return await check(name, result)
                    finally:
                        spent.append((time.perf_counter() - begun) * 1000)

                session.validate_tool_result = timed_check  # type: ignore[method-assign]
                for tool, args in calls:
                    spent.clear()
                    started = time.perf_counter()
                    result = await client.call_tool(tool, {k: v for k, v in args.items() if v is not None})
                    out.append((time.perf_counter() - started) * 1000 - sum(spent))
                    checks.append(sum(spent))
                    if result.is_error:  # e.g. the 10 s timeout of a first call: reported, not fatal
                        errors.append(" ".join(getattr(c, "text", "") for c in result.content)[:120])
        finally:
            archive_of(server).close()
        return out

    samples = asyncio.run(go())
    return {"first": samples[0], "warm": samples[1:], "errors": errors, "client_check_first": checks[0] if checks else 0}


def worker_ours_derive(path: Path) -> dict:
    from icp_mcp.archive.db import open_archive
    from icp_mcp.engine.derivation.derive import derive_icp
    from icp_mcp.engine.scoring.batch import score_all

    engine = open_archive(path, read_only=True)
    started = time.perf_counter()
    definition = derive_icp(engine)
    derived = time.perf_counter()
    summary = score_all(engine, definition)
    done = time.perf_counter()
    engine.dispose()
    return {"derive": (derived - started) * 1000, "score_all": (done - derived) * 1000,
            "first": (done - started) * 1000, "warm": [], "note": f"{summary.n} scored, tiers {summary.tiers}"}


# -------------------------------------------------------------------------------------------- (b) raw

def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _cond(c, as_of: date, window_days: int) -> str:
    """One ICP condition as a hand-written SQL test on `a` (accounts)."""
    from icp_mcp.engine.model.catalogue import kind_of

    kind = kind_of(c.attribute)
    if kind == "technology":
        values = ", ".join(_q(v) for v in c.accepted())
        return (f"EXISTS (SELECT 1 FROM account_technologies t WHERE t.account_id = a.account_id "
                f"AND t.technology IN ({values}))")
    if kind == "trigger":
        values = ", ".join(_q(v) for v in c.accepted())
        return (f"EXISTS (SELECT 1 FROM signals g WHERE g.account_id = a.account_id AND g.kind IN ({values}) "
                f"AND g.occurred_at >= DATE '{as_of - timedelta(days=window_days)}' "
                f"AND g.occurred_at <= DATE '{as_of}')")
    if kind == "numeric":
        tests = ([f"a.{c.attribute} >= {c.range.min}"] if c.range.min is not None else []) + (
            [f"a.{c.attribute} < {c.range.max}"] if c.range.max is not None else [])
        return " AND ".join(tests) or "TRUE"
    values = ", ".join(_q(v.lower()) for v in c.accepted())
    return f"lower(a.{c.attribute}) IN ({values})"


def points_sql(definition, as_of: date, where: str = "TRUE") -> str:
    """account_id, points, disqualified, tier, fit_score from the ICP's criteria as CASE lines."""
    w = definition.trigger_window_days
    terms = [f"CASE WHEN {_cond(c, as_of, w)} THEN {c.points} ELSE 0 END" for c in definition.criteria if c.points]
    terms += [f"CASE WHEN {' AND '.join('(' + _cond(c, as_of, w) + ')' for c in s.conditions)} THEN {s.points} "
              "ELSE 0 END" for s in definition.segments if s.points]
    dq = " OR ".join(f"({_cond(d, as_of, w)})" for d in definition.disqualifiers) or "FALSE"
    lo, hi = definition.min_points(), definition.max_points()
    t = definition.tiers
    return f"""
        SELECT account_id, points, disqualified,
               CASE WHEN disqualified = 1 THEN 'D' WHEN points >= {t.a} THEN 'A' WHEN points >= {t.b} THEN 'B'
                    WHEN points >= {t.c} THEN 'C' ELSE 'D' END AS tier,
               least(100.0, greatest(0.0, 100.0 * (points - ({lo})) / {max(hi - lo, 1e-9)})) AS fit_score
        FROM (SELECT a.account_id, ({' + '.join(terms) or '0'})::DOUBLE AS points,
                     CASE WHEN {dq} THEN 1 ELSE 0 END AS disqualified
              FROM accounts a WHERE {where})"""


def value_sql(today: date) -> str:
    """Customers with the value score (percent ranks of ARR, lifetime revenue, NRR, retained, time to value,
    support load; weights .30/.25/.20/.15/.05/.05), as one would write it by hand."""
    def pr(col: str, invert: bool = False) -> str:
        rank = f"percent_rank() OVER (PARTITION BY {col} IS NULL ORDER BY {col})"
        return f"CASE WHEN {col} IS NULL THEN 0.5 ELSE {'1.0 - ' if invert else ''}{rank} END"

    return f"""
        WITH won AS (SELECT account_id, min(closed_at) AS first_won_at, sum(coalesce(amount, 0)) AS won_amount
                     FROM opportunities WHERE stage = 'won' AND closed_at IS NOT NULL GROUP BY 1),
        span AS (SELECT account_id, max(month) AS last_month, min(month) AS first_month, sum(arr) AS arr_sum
                 FROM arr_snapshots GROUP BY 1),
        ends AS (SELECT s.account_id,
                        max(CASE WHEN s.month = p.last_month THEN s.arr END) AS arr_now,
                        max(CASE WHEN s.month = p.first_month THEN s.arr END) AS arr_first,
                        arg_max(s.arr, s.month) FILTER (WHERE s.month <= p.last_month - INTERVAL 365 DAY) AS arr_then
                 FROM arr_snapshots s JOIN span p USING (account_id) GROUP BY 1),
        usage AS (SELECT u.account_id, min(u.day) AS first_day FROM feature_usage u JOIN won w USING (account_id)
                  WHERE u.day >= w.first_won_at GROUP BY 1),
        tickets AS (SELECT account_id, count(*) AS n FROM conversations WHERE channel = 'ticket' GROUP BY 1),
        base AS (
            SELECT w.account_id, e.arr_now AS arr,
                   coalesce(CASE WHEN p.arr_sum IS NOT NULL THEN p.arr_sum / 12.0 ELSE w.won_amount END, 0)
                       AS lifetime_revenue,
                   CASE WHEN coalesce(e.arr_then, e.arr_first) > 0 THEN e.arr_now / coalesce(e.arr_then, e.arr_first)
                        END AS nrr,
                   CASE WHEN e.arr_now IS NULL THEN NULL WHEN e.arr_now > 0 THEN 1 ELSE 0 END AS retained,
                   (u.first_day - w.first_won_at::DATE)::DOUBLE AS ttv,
                   coalesce(t.n, 0) / greatest((DATE '{today}' - w.first_won_at::DATE) / 30.44, 1.0) AS tpm
            FROM won w LEFT JOIN span p USING (account_id) LEFT JOIN ends e USING (account_id)
                 LEFT JOIN usage u USING (account_id) LEFT JOIN tickets t USING (account_id))
        SELECT account_id, arr, lifetime_revenue, nrr,
               0.30 * ({pr('arr')}) + 0.25 * ({pr('lifetime_revenue')}) + 0.20 * ({pr('nrr')})
               + 0.15 * ({pr('retained')}) + 0.05 * ({pr('ttv', True)}) + 0.05 * ({pr('tpm', True)}) AS value_score
        FROM base"""


def raw_statements(journey: str, definition, as_of: date, ids: list[str], rules: list[str], i: int) -> list[str]:
    """The hand-written SQL of one call of `journey` (the i-th call, for journeys that vary the account)."""
    today = date.today()
    best20 = f"SELECT account_id FROM ({value_sql(today)}) ORDER BY value_score DESC, account_id LIMIT 20"
    not_vendor = "(s.speaker IS NULL OR s.speaker <> 'vendor')"
    if journey == "score":
        return [points_sql(definition, as_of, f"a.account_id = {_q(ids[i % len(ids)])}")]
    if journey == "best20":
        return [f"SELECT * FROM ({value_sql(today)}) ORDER BY value_score DESC, account_id LIMIT 20"]
    if journey == "voice_pricing_best20":
        first_this = as_of.replace(day=1)
        first_last = (first_this - timedelta(days=1)).replace(day=1)
        where = (f"s.account_id IN (SELECT account_id FROM best) AND s.topics LIKE '%,pricing,%' AND {not_vendor} "
                 f"AND s.occurred_at >= TIMESTAMP '{first_last}' AND s.occurred_at < TIMESTAMP '{first_this}'")
        return [f"""WITH best AS ({best20}),
                    hits AS (SELECT s.* FROM conversation_snippets s WHERE {where})
                    SELECT (SELECT count(*) FROM hits), (SELECT count(DISTINCT account_id) FROM hits),
                           (SELECT list(snippet_id ORDER BY occurred_at DESC, snippet_id) FROM
                              (SELECT * FROM hits ORDER BY occurred_at DESC, snippet_id LIMIT 20))"""]
    if journey == "voice_question_icp":
        start = as_of - timedelta(days=89)
        icp = f"SELECT account_id FROM ({points_sql(definition, as_of)}) WHERE tier IN ('A', 'B')"
        return [f"""WITH icp AS ({icp}),
                    hits AS (SELECT s.snippet_id, s.account_id,
                                    fts_main_conversation_snippets.match_bm25(s.snippet_id, {_q(QUESTION)}) AS bm25
                             FROM conversation_snippets s
                             WHERE s.account_id IN (SELECT account_id FROM icp) AND {not_vendor}
                               AND s.occurred_at >= TIMESTAMP '{start}'
                               AND s.occurred_at < TIMESTAMP '{as_of + timedelta(days=1)}')
                    SELECT count(*), count(DISTINCT account_id),
                           (SELECT list(snippet_id) FROM (SELECT snippet_id FROM hits WHERE bm25 IS NOT NULL
                                                          ORDER BY bm25 DESC LIMIT 20))
                    FROM hits WHERE bm25 IS NOT NULL"""]
    if journey == "adoption_sso_segment":
        start = as_of - timedelta(days=364)
        w = definition.trigger_window_days
        seg_cols = ", ".join(
            f"CASE WHEN {' AND '.join('(' + _cond(c, as_of, w) + ')' for c in s.conditions)} THEN 1 ELSE 0 END "
            f"AS seg_{k}" for k, s in enumerate(definition.segments)) or "0 AS seg_0"
        groups = " UNION ALL ".join(
            f"SELECT {_q(s.id)} AS grp, count(*) AS eligible, sum(adopted) AS adopters FROM e WHERE seg_{k} = 1"
            for k, s in enumerate(definition.segments)) or "SELECT 'none', 0, 0"
        return [f"""WITH last_pos AS (SELECT account_id, max(month) AS last_month FROM arr_snapshots WHERE arr > 0
                                  GROUP BY 1),
                    cust AS (SELECT DISTINCT o.account_id FROM opportunities o WHERE o.stage = 'won'),
                    adopt AS (SELECT DISTINCT account_id FROM feature_usage WHERE feature = 'sso'
                              AND day >= DATE '{start}' AND day <= DATE '{as_of}' AND events > 0),
                    e AS (SELECT a.account_id, {seg_cols},
                                 CASE WHEN d.account_id IS NULL THEN 0 ELSE 1 END AS adopted
                          FROM accounts a JOIN cust c USING (account_id) LEFT JOIN last_pos l USING (account_id)
                               LEFT JOIN adopt d USING (account_id)
                          WHERE l.last_month IS NULL OR l.last_month >= DATE '{start}' - INTERVAL 31 DAY)
                    SELECT 'all', count(*), sum(adopted) FROM e UNION ALL {groups}"""]
    if journey == "drift":
        start = as_of - timedelta(days=89)
        base_from = definition.closed_from or date(1900, 1, 1)
        attrs = ("industry", "funding_stage", "region", "country", "business_model")
        shares = " UNION ALL ".join(
            f"SELECT {_q(attr)} AS attribute, CAST({attr} AS VARCHAR) AS value, recent, count(*) AS n "
            f"FROM wins GROUP BY ALL" for attr in attrs)
        icp = f"SELECT account_id, tier FROM ({points_sql(definition, as_of)})"
        return [f"""WITH scored AS ({icp}),
                    wins AS (SELECT a.*, o.closed_at >= DATE '{start}' AS recent, sc.tier IN ('A', 'B') AS in_icp
                             FROM opportunities o JOIN accounts a USING (account_id) JOIN scored sc USING (account_id)
                             WHERE o.stage = 'won' AND o.closed_at >= DATE '{base_from}'
                               AND o.closed_at <= DATE '{as_of}'),
                    shares AS ({shares}),
                    tot AS (SELECT attribute, recent, sum(n) AS t FROM shares GROUP BY ALL),
                    p AS (SELECT s.attribute, s.value,
                                 sum(CASE WHEN s.recent THEN s.n END) / any_value(tr.t) AS r,
                                 sum(CASE WHEN NOT s.recent THEN s.n END) / any_value(tb.t) AS b
                          FROM shares s JOIN tot tr ON tr.attribute = s.attribute AND tr.recent
                               JOIN tot tb ON tb.attribute = s.attribute AND NOT tb.recent GROUP BY ALL)
                    SELECT attribute,
                           sum((coalesce(r, 0.0001) - coalesce(b, 0.0001)) * ln(coalesce(r, 0.0001) / coalesce(b, 0.0001)))
                             AS psi,
                           (SELECT avg(in_icp::INT) FILTER (WHERE recent) FROM wins) AS icp_share_recent,
                           (SELECT avg(in_icp::INT) FILTER (WHERE NOT recent) FROM wins) AS icp_share_base
                    FROM p GROUP BY attribute ORDER BY psi DESC"""]
    if journey == "explain_disqualifier":
        rule = next(d for d in definition.disqualifiers if d.id == rules[0])
        cond = _cond(rule, as_of, definition.trigger_window_days)
        return [f"""WITH hit AS (SELECT a.account_id, a.name FROM accounts a WHERE {cond}),
                    latest AS (SELECT max(closed_at) AS m FROM opportunities),
                    exc AS (SELECT h.* FROM hit h WHERE h.account_id IN
                              (SELECT account_id FROM opportunities WHERE stage = 'won'))
                    SELECT (SELECT count(*) FROM exc),
                           (SELECT list(account_id ORDER BY account_id) FROM (SELECT account_id FROM exc
                                                                             ORDER BY account_id LIMIT 10)),
                           count(*), sum(CASE WHEN o.stage = 'won' THEN 1 ELSE 0 END),
                           sum(CASE WHEN o.account_id IN (SELECT account_id FROM hit) THEN 1 ELSE 0 END),
                           sum(CASE WHEN o.account_id IN (SELECT account_id FROM hit) AND o.stage = 'won'
                                    THEN 1 ELSE 0 END)
                    FROM opportunities o, latest
                    WHERE o.stage IN ('won', 'lost') AND o.closed_at >= latest.m - INTERVAL 180 DAY"""]
    raise SystemExit(f"unknown journey {journey!r}")


def worker_raw(path: Path, journey: str, repeat: int, as_of: date, ids: list[str], rules: list[str]) -> dict:
    import duckdb

    from icp_mcp.archive.db import fts_extension_path

    definition = definition_of(path)
    con = duckdb.connect(str(path), read_only=True)
    con.execute(f"LOAD '{fts_extension_path()}'")
    samples = []
    for i in range(repeat + 1):
        statements = raw_statements(journey, definition, as_of, ids, rules, i)
        started = time.perf_counter()
        for sql in statements:
            con.execute(sql).fetchall()
        samples.append((time.perf_counter() - started) * 1000)
    con.close()
    return {"first": samples[0], "warm": samples[1:]}


# ------------------------------------------------------------------------------------------ (c) pandas

def worker_pandas(path: Path, as_of: date) -> dict:
    """What an analyst would write: load the tables into pandas, build features for the same attributes
    (categoricals one-hot, numeric bands, technologies, recent signals), label worked accounts (retained
    customers = positives), fit a logistic regression, score every account and cut tiers by quantile."""
    if not (PANDAS_DIR / "pandas").exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(PANDAS_DIR), "pandas"],
                       check=True)
    sys.path.insert(0, str(PANDAS_DIR))
    import duckdb
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter()  # imports not counted (ours are not either)
    con = duckdb.connect(str(path), read_only=True)
    acc = con.execute("SELECT account_id, industry, country, region, employees, annual_revenue, founded_year, "
                      "funding_stage, business_model FROM accounts").df()
    opp = con.execute("SELECT account_id, stage, closed_at FROM opportunities").df()
    tech = con.execute("SELECT account_id, technology FROM account_technologies").df()
    sig = con.execute("SELECT account_id, kind, occurred_at FROM signals").df()
    arr = con.execute("SELECT account_id, month, arr FROM arr_snapshots").df()
    con.close()
    loaded = time.perf_counter()

    closed = opp[opp["stage"].isin(["won", "lost"])]
    worked = closed.assign(won=closed["stage"].eq("won")).groupby("account_id")["won"].max()
    latest_arr = arr.sort_values("month").groupby("account_id")["arr"].last()
    labels = worked.to_frame().join(latest_arr.rename("arr_now"))
    labels["y"] = labels["won"] & (labels["arr_now"].isna() | (labels["arr_now"] > 0))

    x = acc.set_index("account_id")
    cats = pd.get_dummies(x[["industry", "country", "region", "funding_stage", "business_model"]].astype("category"),
                          dtype=np.uint8)
    bands = pd.DataFrame(index=x.index)
    bands["employees"] = pd.cut(x["employees"], [0, 10, 50, 200, 1000, 2000, 5000, 10_000, np.inf], right=False)
    bands["annual_revenue"] = pd.cut(x["annual_revenue"], [0, 1e6, 1e7, 5e7, 1e8, 5e8, 1e9, np.inf], right=False)
    bands["founded_year"] = pd.cut(x["founded_year"], [0, 1990, 2000, 2010, 2015, 2020, 3000], right=False)
    bands = pd.get_dummies(bands.astype(str), dtype=np.uint8)
    techs = pd.crosstab(tech["account_id"], tech["technology"]).clip(upper=1).add_prefix("tech_")
    recent = sig[sig["occurred_at"] >= pd.Timestamp(as_of - timedelta(days=120))]
    trig = pd.crosstab(recent["account_id"], recent["kind"]).clip(upper=1).add_prefix("trigger_")
    features = pd.concat([cats, bands], axis=1).join(techs).join(trig).fillna(0).astype(np.float32)
    train = features.loc[labels.index]
    model = LogisticRegression(max_iter=200, C=1.0)
    model.fit(train.to_numpy(), labels["y"].to_numpy())
    fitted = time.perf_counter()

    prob = model.predict_proba(features.to_numpy())[:, 1]
    cut = np.quantile(prob, [0.85, 0.65, 0.35])
    tiers = np.where(prob >= cut[0], "A", np.where(prob >= cut[1], "B", np.where(prob >= cut[2], "C", "D")))
    counts = {str(k): int(v) for k, v in zip(*np.unique(tiers, return_counts=True))}
    done = time.perf_counter()
    return {"derive": (fitted - started) * 1000, "score_all": (done - fitted) * 1000, "first": (done - started) * 1000,
            "warm": [], "note": f"load {loaded - started:.1f}s, {features.shape[1]} features, tiers "
                                f"{counts}"}


# ---------------------------------------------------------------------------------------------- driver

def run_worker(kind: str, journey: str, path: Path, repeat: int, ids: list[str], rules: list[str],
               read_only: bool = False) -> dict:
    """Run one measurement in a fresh interpreter and return its JSON."""
    payload = json.dumps({"kind": kind, "journey": journey, "path": str(path), "repeat": repeat,
                          "ids": ids, "rules": rules, "read_only": read_only})
    proc = subprocess.run([sys.executable, __file__, "worker", payload], capture_output=True, text=True,
                          timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"{kind}/{journey} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def worker(payload: str) -> None:
    logging.disable(logging.WARNING)  # audit notes of a read-only archive are not news here
    spec = json.loads(payload)
    path = Path(spec["path"])
    as_of = as_of_of(path)
    kind, journey = spec["kind"], spec["journey"]
    if kind == "ours" and journey == "derive_score_all":
        result = worker_ours_derive(path)
    elif kind == "pandas":
        result = worker_pandas(path, as_of)
    elif kind == "ours":
        result = worker_ours(path, journey, spec["repeat"], as_of, spec["ids"], spec["rules"],
                             spec.get("read_only", False))
    else:
        result = worker_raw(path, journey, spec["repeat"], as_of, spec["ids"], spec["rules"])
    print(json.dumps(result))


def cells(result: dict) -> tuple[str, str, str]:
    warm = result["warm"]
    if not warm:
        return f"{result['first']:.0f}", "-", "-"
    return f"{result['first']:.0f}", f"{statistics.median(warm):.0f}", f"{pct(warm, 0.95):.0f}"


def main(
    size: str = typer.Option("M", "--size", help="Demo archive size: M (100k accounts) or L (1M)."),
    repeat: int = typer.Option(10, "--repeat", min=1, max=200, help="Warm calls per journey after the first."),
    only: str = typer.Option("", "--only", help="Comma-separated journeys (default: all, plus derive)."),
    derive: bool = typer.Option(True, "--derive/--no-derive", help="Also derive + score-all vs pandas."),
    read_only: bool = typer.Option(False, "--read-only", help="Open the archive read-only (it must exist with "
                                   "an active ICP and its stored state; several processes may share it)."),
) -> None:
    """Run every journey ours vs raw (and derive vs pandas) in fresh processes and print the table."""
    sys.path.insert(0, str(HERE))
    from bench_voice import archive_for

    path = archive_for(size.upper(), with_icp=not read_only)
    definition = definition_of(path)
    rules = [d.id for d in definition.disqualifiers]
    ids = sample_ids(path, 50)
    random.Random(7).shuffle(ids)
    wanted = [j for j in (only.split(",") if only else JOURNEYS) if j]
    table = Table(title=f"peers at {size.upper()} ({path.name}, as of {as_of_of(path)}; fresh process each; "
                        f"ms; warm = {repeat} calls)")
    for col in ("journey", "ours first", "ours p50", "ours p95", "client check", "raw first", "raw p50",
                "raw p95", "first ×raw", "p50 ×raw"):
        table.add_column(col, justify="left" if col == "journey" else "right")
    for journey in wanted:
        ours = run_worker("ours", journey, path, repeat, ids, rules, read_only)
        raw = run_worker("raw", journey, path, repeat, ids, rules)
        of, o50, o95 = cells(ours)
        rf, r50, r95 = cells(raw)
        table.add_row(journey, of, o50, o95, f"{ours.get('client_check_first', 0):.0f}", rf, r50, r95, f"{ours['first'] / raw['first']:.2f}",
                      f"{statistics.median(ours['warm']) / statistics.median(raw['warm']):.2f}")
        console.print(f"  {journey}: ours {of}/{o50}/{o95}  raw {rf}/{r50}/{r95}")
        for error in ours.get("errors", [])[:3]:
            console.print(f"    ours error: {error}")
    console.print(table)
    if derive:
        ours = run_worker("ours", "derive_score_all", path, 0, ids, rules)
        theirs = run_worker("pandas", "derive_score_all", path, 0, ids, rules)
        t2 = Table(title=f"derive + score every account at {size.upper()} (fresh process each; ms)")
        for col in ("pipeline", "derive / fit", "score all", "total", "note"):
            t2.add_column(col, justify="left" if col in ("pipeline", "note") else "right")
        for label, r in (("icp-mcp (derive_icp + score_all)", ours), ("pandas + scikit-learn", theirs)):
            t2.add_row(label, f"{r['derive']:.0f}", f"{r['score_all']:.0f}", f"{r['first']:.0f}", r["note"])
        console.print(t2)
        console.print(f"ours / pandas: {ours['first'] / theirs['first']:.2f}×")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "worker":
        worker(sys.argv[2])
    else:
        typer.run(main)

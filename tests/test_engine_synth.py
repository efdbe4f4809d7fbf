"""A small synthetic archive with planted truths for the engine tests (built with Core inserts).

Planted: Healthcare accounts with 201–1000 employees win and pay far more; Snowflake users win more; a
funding signal before the deal helps; Government almost never wins; `region` is pure noise.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import Engine, insert

from icp_mcp.archive import schema as s
from icp_mcp.archive.db import create_schema, open_archive

INDUSTRIES = ["Healthcare", "Software", "Retail", "Finance", "Manufacturing", "Government"]
TECH = ["Snowflake", "Salesforce", "HubSpot", "Okta", "dbt"]
TITLES = ["VP of Engineering", "Chief Technology Officer", "Director, IT", "Data Engineer", "Head of Procurement",
          "Sales Manager", "CFO"]
ROLES = ["champion", "economic_buyer", "technical_evaluator", "user", "blocker"]
START = date(2023, 1, 1)
END = date(2025, 9, 30)


def build_synthetic(engine: Engine, n_accounts: int = 600, seed: int = 1, won_cap: int | None = None) -> dict:
    """Fill an initialised archive; return a small manifest of what was planted."""
    rng = np.random.default_rng(seed)
    accounts, techs, opps, arr, contacts, roles, convs, snips, usage, sigs = ([] for _ in range(10))
    won_count = 0
    days = (END - START).days - 150
    for i in range(n_accounts):
        aid = f"a{i:05d}"
        industry = INDUSTRIES[rng.choice(6, p=[0.2, 0.2, 0.2, 0.15, 0.15, 0.1])]
        employees = int(np.clip(rng.lognormal(5.5, 1.2), 2, 50000))
        country = ["US", "UK", "DE", "FR"][rng.integers(4)]
        account_techs = [t for t in TECH if rng.random() < 0.3]
        sweet = industry == "Healthcare" and 201 <= employees <= 1000
        accounts.append({
            "account_id": aid, "name": f"{['Northwind', 'Contoso', 'Fabrikam', 'Globex', 'Initech'][i % 5]} "
            f"{industry} {i}", "domain": f"acct{i}.example.com", "industry": industry, "country": country,
            "region": ["North", "South", "East", "West"][rng.integers(4)], "employees": employees,
            "annual_revenue": float(employees * rng.uniform(80e3, 200e3)), "founded_year": int(rng.integers(1960, 2022)),
            "funding_stage": ["Seed", "Series A", "Series B", "Public"][rng.integers(4)],
            "business_model": ["B2B", "B2C"][rng.integers(2)], "territory": {"US": "NA"}.get(country, "EMEA"),
            "owner": f"rep{i % 7}", "created_at": datetime(2022, 6, 1), "attributes": {"plan": "x"},
        })
        techs += [{"account_id": aid, "technology": t} for t in account_techs]
        created = START + timedelta(days=int(rng.integers(days)))
        p = 0.6 if sweet else 0.15
        p += 0.15 if "Snowflake" in account_techs else 0.0
        funded = rng.random() < 0.25
        p += 0.1 if funded else 0.0
        if industry == "Government":
            p = 0.01
        stage = "won" if rng.random() < p else "lost"
        if rng.random() < 0.08:
            stage = "open"
        if stage == "won" and won_cap is not None and won_count >= won_cap:
            stage = "lost"
        closed = created + timedelta(days=int(rng.integers(20, 120))) if stage != "open" else None
        amount = float(rng.uniform(60e3, 120e3) if sweet else rng.uniform(5e3, 30e3))
        oid = f"o{i:05d}"
        opps.append({"opportunity_id": oid, "account_id": aid, "created_at": created, "closed_at": closed,
                     "stage": stage, "amount": amount if stage == "won" else None,
                     "lost_reason": "price" if stage == "lost" else None, "source": "inbound", "product": "core"})
        if funded:
            sigs.append({"signal_id": f"s{i}", "account_id": aid, "kind": "funding", "detail": "round",
                         "occurred_at": datetime.combine(created - timedelta(days=int(rng.integers(5, 60))),
                                                         datetime.min.time())})
        if rng.random() < 0.2:
            sigs.append({"signal_id": f"h{i}", "account_id": aid, "kind": "exec_hire", "detail": "cxo",
                         "occurred_at": datetime(2022, 1, 1) + timedelta(days=int(rng.integers(1200)))})
        if stage == "won":
            won_count += 1
            churn = industry == "Retail" and rng.random() < 0.7
            month = date(closed.year, closed.month, 1)
            k = 0
            while month <= END:
                value = 0.0 if churn and k >= 6 else amount * (1 + 0.01 * k)
                arr.append({"account_id": aid, "month": month, "arr": value})
                month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
                k += 1
            usage.append({"account_id": aid, "feature": "sso", "day": closed + timedelta(days=int(rng.integers(5, 60))),
                          "events": 10, "active_users": 3})
        for j in range(int(rng.integers(1, 4))):
            cid = f"c{i:05d}_{j}"
            title = TITLES[rng.integers(len(TITLES))]
            role = "economic_buyer" if (stage == "won" and j == 0) else ROLES[rng.integers(len(ROLES))]
            contacts.append({"contact_id": cid, "account_id": aid, "name": f"Person {i}-{j}",
                             "email": f"p{i}{j}@x.com", "title": title, "seniority": "senior"})
            roles.append({"opportunity_id": oid, "contact_id": cid, "role": role})
            if rng.random() < 0.5:
                conv = f"v{i:05d}_{j}"
                at = datetime.combine(created, datetime.min.time()) + timedelta(days=3)
                convs.append({"conversation_id": conv, "account_id": aid, "contact_id": cid, "occurred_at": at,
                              "channel": "call", "title": "intro", "body": "We discussed pricing and security."})
                topic = ",pricing," if "Procurement" in title or "CFO" in title else ",security_compliance,"
                snips.append({"snippet_id": len(snips) + 1, "conversation_id": conv, "account_id": aid,
                              "occurred_at": at, "seq": 0, "speaker": "customer", "text": "pricing?", "topics": topic})
        if stage == "won" and rng.random() < 0.3:
            convs.append({"conversation_id": f"t{i}", "account_id": aid, "contact_id": None, "channel": "ticket",
                          "occurred_at": datetime.combine(closed, datetime.min.time()) + timedelta(days=30),
                          "title": "help", "body": "broken"})
    tables = ((s.accounts, accounts), (s.account_technologies, techs), (s.opportunities, opps),
              (s.arr_snapshots, arr), (s.contacts, contacts), (s.opportunity_contacts, roles),
              (s.conversations, convs), (s.conversation_snippets, snips), (s.feature_usage, usage),
              (s.signals, sigs))
    if engine.dialect.name == "duckdb":
        _bulk_duckdb(engine, tables)
    else:
        with engine.begin() as conn:
            for table, rows in tables:
                if rows:
                    conn.execute(insert(table), rows)
    return {"segment": {"industry": "Healthcare", "employees": [201, 1000]}, "disqualifier": "Government",
            "noise": ["region"], "won": won_count}


def _bulk_duckdb(engine: Engine, tables) -> None:
    """Fast path for DuckDB: insert each table from an Arrow table by column name."""
    import json

    import pyarrow as pa

    raw = engine.raw_connection()
    try:
        cur = raw.driver_connection
        for table, rows in tables:
            if not rows:
                continue
            cols = [c.name for c in table.columns if c.name in rows[0]]
            data = {c: [(json.dumps(r.get(c)) if c == "attributes" and r.get(c) is not None else r.get(c))
                        for r in rows] for c in cols}
            arrow = pa.table(data)
            cur.register("_bulk", arrow)
            cur.execute(f"INSERT INTO {table.name} BY NAME SELECT * FROM _bulk")
            cur.unregister("_bulk")
        raw.commit()
    finally:
        raw.close()


def synthetic_archive(path, **kwargs) -> tuple[Engine, dict]:
    """Create a DuckDB file at `path` and fill it."""
    engine = open_archive(path, create=True)
    create_schema(engine)
    return engine, build_synthetic(engine, **kwargs)


def test_synthetic_archive_builds(tmp_path):
    engine, manifest = synthetic_archive(tmp_path / "s.duckdb", n_accounts=50, seed=3)
    assert manifest["won"] > 0

"""Real-data check: the time-split backtest of the ICP engine beside logistic regression and LightGBM.

    python benchmarks/real_data.py

Datasets (read from ../shared/datasets, never copied into the repo; see each SOURCE.md):
- olist_marketing_funnel: B2B seller-acquisition leads. Only lead-source features are fair (firmographics
  exist only for won leads): `origin` and `landing_page_id`, loaded as extras `attributes.origin` and
  `attributes.landing_page_id`. Leads from 2018-01 on; derive on deals closed before 2018-04-01, test on
  leads created 2018-04..05. A lead is one account with one opportunity: won at `won_date`, else lost (its
  close date is its first-contact date, so at the split it counts as lost once seen).
- maven_crm_sales_opportunities: a fictitious pipeline, a NEGATIVE CONTROL with little or no signal.
  Accounts carry sector, revenue, employees, year and country; every closed deal is an opportunity.
  Derive on deals closed before 2017-07-01, test on deals engaged on or after it. All 85 accounts have won
  deals, so "retained customers" cannot contrast anything; the best-customer cohort (by value) is used.

Each dataset is loaded into a temporary archive through the engine's schema (the mapping is below), by the
archive's `ingest_file` from canonical CSVs. The peers train on the same training deals with the same
features and score the same test deals. One rich table: AUC with its 95% interval and n per method.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from icp_mcp.archive.db import create_schema, open_archive
from icp_mcp.engine.model import stats
from icp_mcp.engine.derivation.backtest import BacktestReport, backtest

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
console = Console(width=160)


@dataclass
class Deal:
    """One closed opportunity with the features the peers see (the same ones the engine sees)."""

    account_id: str
    created: date
    closed: date
    won: bool
    features: dict[str, object]


@dataclass
class Loaded:
    name: str
    split: date
    deals: list[Deal]
    accounts: list[dict]
    positives: str | None
    categorical: list[str]
    numeric: list[str]


def _read(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load_olist() -> Loaded:
    """Mapping: account = MQL (features origin, landing_page_id as extras); opportunity = the lead."""
    base = DATASETS / "olist_marketing_funnel"
    won = {r["mql_id"]: r for r in _read(base / "olist_closed_deals_dataset.csv")}
    accounts, deals = [], []
    for r in _read(base / "olist_marketing_qualified_leads_dataset.csv"):
        created = date.fromisoformat(r["first_contact_date"][:10])
        if not date(2018, 1, 1) <= created <= date(2018, 5, 31):
            continue
        feats = {"origin": r["origin"] or "unknown", "landing_page_id": r["landing_page_id"]}
        w = won.get(r["mql_id"])
        closed = datetime.fromisoformat(w["won_date"]).date() if w else created
        accounts.append({"account_id": r["mql_id"], "name": f"lead {r['mql_id'][:10]}",
                         "attributes": json.dumps(feats)})
        deals.append(Deal(r["mql_id"], created, max(closed, created), w is not None, feats))
    return Loaded("olist marketing funnel (real)", date(2018, 4, 1), deals, accounts, None,
                  ["origin", "landing_page_id"], [])


def load_maven() -> Loaded:
    """Mapping: account = company (sector→industry, revenue×1e6→annual_revenue, employees, year_established→
    founded_year, office_location→country); opportunity = each Won/Lost deal (engage→created, close→closed)."""
    base = DATASETS / "maven_crm_sales_opportunities"
    accounts, feats_of = [], {}
    for r in _read(base / "accounts.csv"):
        aid = r["account"].strip()
        feats = {"industry": r["sector"], "country": r["office_location"], "employees": float(r["employees"]),
                 "annual_revenue": float(r["revenue"]) * 1e6, "founded_year": float(r["year_established"])}
        feats_of[aid] = feats
        accounts.append({"account_id": aid, "name": aid, "industry": r["sector"], "country": r["office_location"],
                         "employees": int(r["employees"]), "annual_revenue": float(r["revenue"]) * 1e6,
                         "founded_year": int(r["year_established"])})
    deals = []
    for r in _read(base / "sales_pipeline.csv"):
        if r["deal_stage"] not in ("Won", "Lost") or not r["account"]:
            continue
        created = date.fromisoformat(r["engage_date"])
        deal = Deal(r["account"], created, date.fromisoformat(r["close_date"]), r["deal_stage"] == "Won",
                    feats_of[r["account"]])
        deal.features = {**deal.features, "_id": r["opportunity_id"], "_amount": float(r["close_value"] or 0)}
        deals.append(deal)
    return Loaded("maven CRM pipeline (negative control)", date(2017, 7, 1), deals, accounts, "best",
                  ["industry", "country"], ["employees", "annual_revenue", "founded_year"])


def _write_csv(path: Path, rows: list[dict]) -> Path:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
    return path


def to_archive(data: Loaded, folder: Path) -> object:
    """A temporary DuckDB archive holding the dataset in the canonical tables."""
    path = folder / f"{data.name.split()[0]}.duckdb"
    engine = open_archive(path, create=True)
    create_schema(engine)
    opps = []
    for i, d in enumerate(data.deals):
        oid = str(d.features.get("_id", f"o{i}"))
        amount = d.features.get("_amount")
        opps.append({"opportunity_id": oid, "account_id": d.account_id, "created_at": d.created.isoformat(),
                     "closed_at": d.closed.isoformat(), "stage": "won" if d.won else "lost",
                     "amount": amount if d.won and amount else ""})
    _load(engine, "accounts", _write_csv(folder / "accounts.csv", data.accounts))
    _load(engine, "opportunities", _write_csv(folder / "opportunities.csv", opps))
    return engine


def _load(engine, table: str, path: Path) -> None:
    """Load through the archive's ingest (validation, rejects); Core inserts if ingest is unavailable."""
    try:
        from icp_mcp.archive.ingest import ingest_file
    except ImportError:
        ingest_file = None
    if ingest_file is not None:
        report = ingest_file(engine, table, str(path))
        rejected = getattr(report, "rejected", 0)
        if rejected:
            console.print(f"[yellow]{table}: {rejected} rows rejected by ingest[/yellow]")
        return
    from sqlalchemy import insert

    from icp_mcp.archive.schema import metadata

    with path.open(newline="") as f, engine.begin() as conn:
        rows = [{k: (v or None) for k, v in r.items()} for r in csv.DictReader(f)]
        conn.execute(insert(metadata.tables[table]), rows)


def _design(deals: list[Deal], data: Loaded, vocab: dict[str, list[str]] | None):
    """One-hot categorical (vocabulary from training) + numeric columns."""
    if vocab is None:
        vocab = {c: sorted({str(d.features.get(c)) for d in deals}) for c in data.categorical}
    cols = []
    for c in data.categorical:
        index = {v: i for i, v in enumerate(vocab[c])}
        block = np.zeros((len(deals), len(index)))
        for r, d in enumerate(deals):
            j = index.get(str(d.features.get(c)))
            if j is not None:
                block[r, j] = 1.0
        cols.append(block)
    for c in data.numeric:
        cols.append(np.array([[float(d.features.get(c) or 0.0)] for d in deals]))
    return np.hstack(cols), vocab


def _auc_row(name: str, y: np.ndarray, p: np.ndarray) -> tuple:
    groups = [(float(s), 1, int(t)) for s, t in zip(p, y, strict=True)]
    auc = stats.auc_grouped(groups)
    lo, hi = stats.auc_interval(auc, int(y.sum()), int(len(y) - y.sum())) if auc is not None else (None, None)
    return name, auc, lo, hi, len(y), int(y.sum())


def peers(data: Loaded) -> list[tuple]:
    """Logistic regression and LightGBM on the same split and features."""
    from sklearn.linear_model import LogisticRegression

    train = [d for d in data.deals if d.closed < data.split]
    test = [d for d in data.deals if d.created >= data.split]
    x_train, vocab = _design(train, data, None)
    x_test, _ = _design(test, data, vocab)
    y_train = np.array([d.won for d in train], dtype=int)
    y_test = np.array([d.won for d in test], dtype=int)
    scale = x_train.std(axis=0) + 1e-9
    lr = LogisticRegression(max_iter=2000, C=1.0).fit(x_train / scale, y_train)
    rows = [_auc_row("logistic regression", y_test, lr.predict_proba(x_test / scale)[:, 1])]
    try:
        import lightgbm as lgb

        model = lgb.LGBMClassifier(n_estimators=200, learning_rate=0.05, num_leaves=15, min_child_samples=20,
                                   verbose=-1).fit(x_train, y_train)
        rows.append(_auc_row("LightGBM", y_test, model.predict_proba(x_test)[:, 1]))
    except ImportError:
        rows.append(("LightGBM", None, None, None, len(y_test), int(y_test.sum())))
    return rows


def engine_row(data: Loaded, folder: Path) -> tuple[tuple, BacktestReport]:
    engine = to_archive(data, folder)
    report = backtest(engine, data.split, positives=data.positives)
    engine.dispose()
    lo, hi = report.auc_interval or (None, None)
    return ("icp-mcp engine (scorecard)", report.auc, lo, hi, report.n, report.wins), report


def main() -> None:
    """Run both datasets and print one table, plus what the engine says about the data."""
    table = Table(title="Time-split backtest: AUC on test deals (95% interval, n)")
    for col in ("dataset", "method", "AUC", "95% CI", "n test", "wins", "train/test split"):
        table.add_column(col)
    notes: list[str] = []
    loaders: list[Callable[[], Loaded]] = [load_olist, load_maven]
    with tempfile.TemporaryDirectory(prefix="icp_real_") as tmp:
        for loader in loaders:
            data = loader()
            folder = Path(tmp) / data.name.split()[0]
            folder.mkdir()
            row, report = engine_row(data, folder)
            for name, auc, lo, hi, n, wins in [row, *peers(data)]:
                table.add_row(data.name, name, "n/a" if auc is None else f"{auc:.3f}",
                              "" if lo is None else f"{lo:.3f}–{hi:.3f}", f"{n:,}", f"{wins:,}",
                              f"closed < {data.split} / created ≥ {data.split}")
            notes.append(f"[bold]{data.name}[/bold]: {report.criteria} criteria; "
                         f"top-tier lift {report.top_tier_lift}; positives: {report.positives_rule}")
            notes += [f"  - {n}" for n in report.notes] or ["  - the AUC interval excludes 0.5"]
    console.print(table)
    for n in notes:
        console.print(n)


if __name__ == "__main__":
    main()

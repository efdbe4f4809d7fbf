"""Ingest throughput: M-size CRM files (100k accounts, 300k opportunities) into a fresh archive.

Generates the input files itself with DuckDB SQL (CSV and Parquet, ~1% bad rows so validation and the
rejects path do real work), ingests each into a fresh DuckDB archive (and PostgreSQL with --postgres),
and prints rows/s per format and table, next to a peer: a bare DuckDB INSERT .. SELECT from the same Parquet
file into the same schema (no checks, no rejects). DESIGN target: >= 500k rows/s from Parquet.

    python benchmarks/bench_ingest.py [--accounts 100000] [--opportunities 300000] [--postgres URL]
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb
import typer
from icp_mcp.archive.db import create_schema, open_archive
from icp_mcp.archive.ingest import ingest_file
from rich.console import Console
from rich.table import Table

console = Console(width=140)
T = TypeVar("T")

ACCOUNTS_SQL = """
SELECT 'A' || i AS account_id,
       'Company ' || i AS name,
       'www.company' || i || '.example.com' AS domain,
       (['Software', 'Healthcare', 'Retail', 'Finance', 'Manufacturing'])[1 + i % 5] AS industry,
       (['US', 'DE', 'GB', 'FR', 'CA'])[1 + i % 5] AS country,
       (['NA', 'EMEA', 'EMEA', 'EMEA', 'NA'])[1 + i % 5] AS region,
       CASE WHEN i % 197 = 0 THEN 'many' ELSE CAST(10 + (i * 37) % 5000 AS VARCHAR) END AS employees,
       CAST(100000 + (i * 7919) % 90000000 AS VARCHAR) AS annual_revenue,
       CASE WHEN i % 211 = 0 THEN '2999' ELSE CAST(1950 + i % 70 AS VARCHAR) END AS founded_year,
       (['Seed', 'Series A', 'Series B', 'Public'])[1 + i % 4] AS funding_stage,
       (['B2B', 'B2C'])[1 + i % 2] AS business_model,
       (['West', 'East', 'Central'])[1 + i % 3] AS territory,
       'owner' || (i % 40) AS owner,
       CAST(DATE '2019-01-01' + CAST(i % 1800 AS INTEGER) AS VARCHAR) AS created_at
FROM range({n}) t(i)
"""

OPPORTUNITIES_SQL = """
SELECT 'O' || i AS opportunity_id,
       'A' || CASE WHEN i % 301 = 0 THEN {accounts} + i ELSE i % {accounts} END AS account_id,
       CAST(DATE '2020-01-01' + CAST(i % 1500 AS INTEGER) AS VARCHAR) AS created_at,
       CASE WHEN i % 3 = 2 THEN NULL ELSE CAST(DATE '2020-03-01' + CAST(i % 1500 AS INTEGER) AS VARCHAR) END AS closed_at,
       (['won', 'lost', 'open'])[1 + i % 3] AS stage,
       CASE WHEN i % 401 = 0 THEN '-1' ELSE CAST(1000 + (i * 131) % 200000 AS VARCHAR) END AS amount,
       CASE WHEN i % 3 = 1 THEN 'price' END AS lost_reason,
       (['inbound', 'outbound', 'partner'])[1 + i % 3] AS source,
       (['core', 'plus'])[1 + i % 2] AS product
FROM range({n}) t(i)
"""


def _write_inputs(folder: Path, n_accounts: int, n_opps: int) -> dict[tuple[str, str], Path]:
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    files: dict[tuple[str, str], Path] = {}
    for table, sql in (("accounts", ACCOUNTS_SQL.format(n=n_accounts)),
                       ("opportunities", OPPORTUNITIES_SQL.format(n=n_opps, accounts=n_accounts))):
        for fmt, opts in (("csv", "FORMAT csv, HEADER true"), ("parquet", "FORMAT parquet")):
            path = folder / f"{table}.{fmt}"
            con.execute(f"COPY ({sql}) TO '{path}' ({opts})")
            files[(table, fmt)] = path
    con.close()
    return files


# The peer: a bare INSERT .. SELECT from the Parquet file (casts only; no checks, no rejects, no upsert).
PEER_SQL = {
    "accounts": "INSERT INTO accounts SELECT account_id, name, domain, industry, country, region, "
                "TRY_CAST(employees AS INTEGER), TRY_CAST(annual_revenue AS DOUBLE), TRY_CAST(founded_year AS INTEGER), "
                "funding_stage, business_model, territory, owner, TRY_CAST(created_at AS TIMESTAMP), NULL "
                "FROM read_parquet('{path}') WHERE TRY_CAST(employees AS INTEGER) IS NOT NULL",
    "opportunities": "INSERT INTO opportunities SELECT opportunity_id, account_id, TRY_CAST(created_at AS DATE), "
                     "TRY_CAST(closed_at AS DATE), stage, TRY_CAST(amount AS DOUBLE), lost_reason, source, product "
                     "FROM read_parquet('{path}') WHERE account_id IN (SELECT account_id FROM accounts)",
}


def _timed(action: Callable[[], T]) -> tuple[T, float, float]:
    """Run `action`; return its result, wall seconds and process CPU seconds."""
    started, cpu = time.perf_counter(), time.process_time()
    result = action()
    return result, time.perf_counter() - started, time.process_time() - cpu


def _run(target: str, files: dict[tuple[str, str], Path], fmt: str, label: str, grid: Table) -> dict[str, float]:
    """Ingest each table twice (first load, then the same file again); return first-load seconds per table."""
    engine = open_archive(target, create=True)
    create_schema(engine)
    first: dict[str, float] = {}
    for table in ("accounts", "opportunities"):
        for name in (table, f"{table} again"):
            path = str(files[(table, fmt)])
            report, seconds, cpu = _timed(lambda table=table, path=path: ingest_file(engine, table, path))
            rows = report.read
            first.setdefault(table, seconds)
            loaded = f"{report.loaded:,}" if report.loaded else f"{report.unchanged:,} same"
            grid.add_row(label, fmt, name, f"{rows:,}", loaded, f"{report.rejected:,}",
                         f"{seconds:.2f}", f"{cpu:.2f}", f"{rows / seconds:,.0f}")
    engine.dispose()
    return first


def _peer(target: Path, files: dict[tuple[str, str], Path], grid: Table, ours: dict[str, float]) -> None:
    """Bare DuckDB INSERT .. SELECT from Parquet into a fresh archive with the same schema and keys."""
    engine = open_archive(target, create=True)
    create_schema(engine)
    engine.dispose()
    con = duckdb.connect(str(target))
    for table in ("accounts", "opportunities"):
        path = files[(table, "parquet")]

        def load(table: str = table, path: Path = path) -> int:
            con.execute("BEGIN")
            con.execute(PEER_SQL[table].format(path=path))
            con.execute("COMMIT")
            return int(con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0])

        rows, seconds, cpu = _timed(load)
        grid.add_row("peer: bare INSERT", "parquet", table, f"{rows:,}", "", "", f"{seconds:.2f}", f"{cpu:.2f}",
                     f"{rows / seconds:,.0f}  (ingest takes {ours[table] / seconds:.1f}×)")
    con.close()


def main(
    accounts: int = typer.Option(100_000, help="Accounts to generate."),
    opportunities: int = typer.Option(300_000, help="Opportunities to generate."),
    postgres: str = typer.Option(None, help="Also ingest into this empty PostgreSQL database URL."),
) -> None:
    """Generate M-size inputs and time ingest per format and table."""
    grid = Table(title=f"ingest: {accounts:,} accounts, {opportunities:,} opportunities (target ≥ 500k rows/s from Parquet)")
    for name in ("archive", "format", "table", "read", "loaded", "rejected", "seconds", "cpu s", "rows/s"):
        grid.add_column(name, justify="right" if name not in ("archive", "format", "table") else "left")
    with tempfile.TemporaryDirectory(prefix="icp-bench-ingest-") as tmp:
        folder = Path(tmp)
        with console.status("writing input files"):
            files = _write_inputs(folder, accounts, opportunities)
        with console.status("warming up"):  # imports, extension loading, statement caches: not what we measure
            warm = _write_inputs(folder / "warm", 1_000, 1_000)
            _run(str(folder / "warm" / "warm.duckdb"), warm, "parquet", "warm-up", Table())
        ours: dict[str, float] = {}
        for fmt in ("parquet", "csv"):
            with console.status(f"ingesting {fmt} into DuckDB"):
                first = _run(str(folder / f"bench_{fmt}.duckdb"), files, fmt, "duckdb", grid)
            ours = ours or first
        with console.status("peer run"):
            _peer(folder / "bench_peer.duckdb", files, grid, ours)
        if postgres:
            with console.status("ingesting parquet into PostgreSQL"):
                _run(postgres, files, "parquet", "postgresql", grid)
    console.print(grid)
    console.print("rows/s = rows read / wall seconds; cpu s = process CPU time (all DuckDB threads), which is the "
                  "steadier figure on a shared machine. 'again' = re-ingesting the same file (all unchanged).")


if __name__ == "__main__":
    typer.run(main)

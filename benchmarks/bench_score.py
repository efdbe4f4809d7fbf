"""Benchmark the ICP engine: derivation, batch scoring of every account, single-account scoring, best customers.

    python benchmarks/bench_score.py                  # size M (100k accounts)
    python benchmarks/bench_score.py --sizes M,L      # L: 1M accounts (the build takes many minutes)

Archives are built with the demo generator into benchmarks/out/score_<SIZE>.duckdb and reused when present.
Targets (DESIGN section 8, at L on 2 cores): score all ≤ 1 s, score_account p95 ≤ 20 ms, derivation ≤ 10 s,
best_customers ≤ 300 ms.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from icp_mcp.archive.db import open_archive
from icp_mcp.archive.schema import accounts
from icp_mcp.engine.derivation.derive import derive_icp
from icp_mcp.engine.scoring.one import score_account
from icp_mcp.engine.scoring.batch import score_all
from icp_mcp.engine.questions.value import best_customers

console = Console(width=180)
OUT = Path(__file__).resolve().parent / "out"
AS_OF = date(2026, 11, 1)


def _archive(size: str, seed: int, out_dir: Path) -> Path:
    path = out_dir / f"score_{size}.duckdb"
    if not path.exists():
        from icp_mcp.archive.demo import build_demo

        console.print(f"building the {size} demo archive at {path} …")
        started = time.perf_counter()
        build_demo(path, size=size, seed=seed, as_of=AS_OF)
        console.print(f"built in {time.perf_counter() - started:.0f} s")
    return path


def _timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def bench(
    sizes: str = typer.Option("M", "--sizes", help="Comma-separated sizes (S, M, L)."),
    seed: int = typer.Option(7, "--seed"),
    singles: int = typer.Option(200, "--singles", help="score_account calls to time."),
    out_dir: Path = typer.Option(OUT, "--out-dir"),
) -> None:
    """Time derivation, score_all, score_account and best_customers per archive size."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in [s.strip().upper() for s in sizes.split(",") if s.strip()]:
        engine = open_archive(_archive(size, seed, out_dir), read_only=True)
        with engine.connect() as conn:
            n_accounts = conn.execute(select(func.count()).select_from(accounts)).scalar()
            ids = conn.execute(select(accounts.c.account_id)).scalars().all()
            names = conn.execute(select(accounts.c.name).limit(50)).scalars().all()
        started = time.perf_counter()
        definition = derive_icp(engine)
        derive_s = time.perf_counter() - started
        summary = score_all(engine, definition)  # warm-up
        batch = _timed(lambda: score_all(engine, definition), 5)
        rng = random.Random(seed)
        sample = rng.sample(ids, min(singles, len(ids)))
        score_account(engine, definition, account=sample[0])  # warm-up (best-customer cache)
        single = [t for aid in sample for t in _timed(lambda a=aid: score_account(engine, definition, account=a), 1)]
        by_name = [t for nm in names[:30] for t in _timed(lambda n=nm: score_account(engine, definition, account=n), 1)]
        from icp_mcp.engine.sql import cache

        cache.clear()
        best_cold = _timed(lambda: best_customers(engine, definition=definition, limit=20), 1)[0]
        best = _timed(lambda: best_customers(engine, definition=definition, limit=20), 5)
        rows.append((size, n_accounts, derive_s, statistics.median(batch), _pct(single, 0.5), _pct(single, 0.95),
                     _pct(by_name, 0.5), statistics.median(best), best_cold, summary, len(definition.criteria)))
        engine.dispose()

    table = Table(title="ICP engine timings (in-process, 2 cores; medians unless noted)")
    for col in ("size", "accounts", "criteria", "derive (s)", "score all (s)", "accounts/s",
                "score_account p50 (ms)", "p95 (ms)", "by name p50 (ms)", "best_customers (ms)",
                "best_customers cold (s)"):
        table.add_column(col, justify="right")
    for size, n, d, b, p50, p95, nm, best, cold, _, crit in rows:
        table.add_row(size, f"{n:,}", str(crit), f"{d:.2f}", f"{b:.3f}", f"{n / b:,.0f}", f"{p50 * 1e3:.1f}",
                      f"{p95 * 1e3:.1f}", f"{nm * 1e3:.1f}", f"{best * 1e3:.0f}", f"{cold:.2f}")
    console.print(table)
    tiers = Table(title="Tier counts from score_all")
    for col in ("size", "A", "B", "C", "D", "disqualified"):
        tiers.add_column(col, justify="right")
    for size, *_, summary, _crit in rows:
        tiers.add_row(size, *(f"{summary.tiers[t]:,}" for t in "ABCD"), f"{summary.disqualified:,}")
    console.print(tiers)


if __name__ == "__main__":
    typer.run(bench)

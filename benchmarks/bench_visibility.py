"""What the visibility filter (issue 11) costs: engine calls with the view of an owner (every territory), a
territory-limited sales caller (EMEA) and a caller who may name no account (marketing), p50 / p95.

    python benchmarks/bench_visibility.py               # size S
    python benchmarks/bench_visibility.py --sizes S,M   # M: 100k accounts (the build takes a few minutes)

Archives come from bench_load.ensure_archive (benchmarks/out/demo_<SIZE>.duckdb, ICP active), reused when present.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from icp_mcp.archive.db import open_archive
from icp_mcp.archive.schema import accounts
from icp_mcp.engine.model.errors import EngineError
from icp_mcp.engine.questions import disqualifiers, value
from icp_mcp.engine.scoring.one import score_account
from icp_mcp.engine.sql import versions
from icp_mcp.engine.sql.lookup import find_account

from bench_load import ensure_archive  # benchmarks/: the demo archive with an active ICP, built once

console = Console(width=160)
VIEWS: dict[str, frozenset[str] | None] = {"owner": None, "sales EMEA": frozenset({"EMEA"}), "marketing": frozenset()}


def _timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for i in range(repeat + 1):  # the first call warms caches (best-customer index, cohort) and is not kept
        started = time.perf_counter()
        try:
            fn()
        except EngineError:
            pass  # a hidden account answers NotFound: that is the call being timed
        if i:
            times.append((time.perf_counter() - started) * 1000)
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(sizes: str = typer.Option("S", help="comma-separated demo sizes"), seed: int = 7,
         repeat: int = typer.Option(30, help="timed calls per cell")) -> None:
    table = Table(title="visibility filter: engine calls per caller view (ms, p50 / p95)")
    table.add_column("size")
    table.add_column("call")
    for view in VIEWS:
        table.add_column(view, justify="right")
    for size in sizes.split(","):
        engine = open_archive(ensure_archive(size.strip(), seed), read_only=True)
        try:
            definition = versions.get_version(engine, None).definition
            with engine.connect() as conn:
                a = accounts.c
                emea = conn.execute(select(a.account_id).where(a.territory == "EMEA").limit(1)).scalar_one()
                na_name = conn.execute(select(a.name).where(a.territory == "NA").limit(1)).scalar_one()
            rule = definition.disqualifiers[0].id if definition.disqualifiers else None
            calls: dict[str, Callable[[frozenset[str] | None], object]] = {
                "find_account by id (EMEA account)": lambda t: find_account(engine, emea, t),
                "find_account by name (NA account)": lambda t: find_account(engine, na_name, t),
                "find_account partial name": lambda t: find_account(engine, na_name.split()[0], t),
                "score_account (EMEA account)": lambda t: score_account(
                    engine, definition, account=emea, territories=t, anonymous=t == frozenset()),
                "best_customers page of 200": lambda t: value.best_customers(
                    engine, definition=definition, limit=200, territories=t),
            }
            if rule:
                calls["explain_disqualifier (exceptions)"] = lambda t: disqualifiers.explain_disqualifier(
                    engine, definition, rule_id=rule, territories=t)
            for name, call in calls.items():
                cells = []
                for territories in VIEWS.values():
                    p50, p95 = _timed(lambda: call(territories), repeat)
                    cells.append(f"{p50:.1f} / {p95:.1f}")
                table.add_row(size, name, *cells)
        finally:
            engine.dispose()
    console.print(table)


if __name__ == "__main__":
    typer.run(main)

"""Benchmark check_drift and feature_adoption on demo archives (M by default; L behind --sizes).

    python benchmarks/bench_drift_adoption.py                  # M (built into benchmarks/out/ once, reused)
    python benchmarks/bench_drift_adoption.py --sizes M,L      # L: 1M accounts (build takes minutes)
    python benchmarks/bench_drift_adoption.py --drift          # a --drift archive: the verdict should be refresh

Engine calls in process, `--repeat` times after one warm-up; p50 / p95 in milliseconds.
Target (DESIGN section 8): check_drift ≤ 1 s at L.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bench_voice import AS_OF, OUT, SEED, archive_for, timed
from icp_mcp.archive.db import open_archive
from icp_mcp.engine.sql import versions
from icp_mcp.engine.questions.adoption import feature_adoption
from icp_mcp.engine.questions.drift import check_drift
from icp_mcp.engine.model.windows import resolve_window

console = Console()


def drift_archive_for(size: str) -> Path:
    """A `--drift` demo archive of `size` with an ICP derived before the drift window."""
    from icp_mcp.archive.demo import build_demo
    from icp_mcp.engine.derivation.derive import derive_icp

    path = OUT / f"icp_{size}_drift.duckdb"
    if not path.exists():
        console.print(f"building the {size} --drift demo archive into {path} …")
        build_demo(path, size=size, seed=SEED, drift=True, as_of=AS_OF)
    engine = open_archive(path)
    try:
        if versions.active_icp(engine, required=False) is None:
            definition = derive_icp(engine, closed_before=AS_OF - timedelta(days=89))
            versions.activate(engine, versions.save_version(engine, definition, "bench"), "bench")
    finally:
        engine.dispose()
    return path


def bench(
    sizes: str = typer.Option("M", "--sizes", help="Comma-separated archive sizes (S, M, L)."),
    repeat: int = typer.Option(10, "--repeat", help="Timed calls per case (after one warm-up)."),
    drift: bool = typer.Option(False, "--drift", help="Use a --drift archive (verdict should be refresh)."),
) -> None:
    """Time check_drift and feature_adoption and print p50 / p95 with the answers' headline numbers."""
    table = Table(title=f"check_drift and feature_adoption (as_of {AS_OF}, {repeat} calls each)")
    for col in ("size", "call", "answer", "first call ms", "p50 ms", "p95 ms"):
        table.add_column(col, justify="right" if col.endswith("ms") else "left")
    for size in [s.strip().upper() for s in sizes.split(",") if s.strip()]:
        started = time.perf_counter()
        path = drift_archive_for(size) if drift else archive_for(size)
        console.print(f"{size}: archive ready in {time.perf_counter() - started:.1f} s ({path.name})")
        engine = open_archive(path, read_only=True)
        try:
            definition = versions.active_icp(engine, required=False)
            recent = resolve_window("90d", as_of=AS_OF)
            def drift_call(engine=engine, definition=definition, recent=recent):
                return check_drift(engine, definition, recent=recent)

            p50, p95, report, first = timed(drift_call, repeat)
            table.add_row(size, "check_drift 90d", f"{report.verdict} ({report.recent_wins:,} recent wins, "
                          f"{len(report.reasons)} reasons)", f"{first:.0f}", f"{p50:.0f}", f"{p95:.0f}")
            window = resolve_window("365d", as_of=AS_OF)
            for by in ("segment", "industry", "tier"):
                p50, p95, found, first = timed(
                    lambda by=by, engine=engine, window=window, definition=definition: feature_adoption(
                        engine, feature="sso", by=by, window=window, definition=definition), repeat)
                table.add_row(size, f"feature_adoption sso by {by}",
                              f"{found.overall.adopters:,}/{found.overall.n:,} adopt; highest {found.highest}",
                              f"{first:.0f}", f"{p50:.0f}", f"{p95:.0f}")
        finally:
            engine.dispose()
    console.print(table)
    console.print("target: check_drift ≤ 1000 ms at L (DESIGN §8)")


if __name__ == "__main__":
    typer.run(bench)

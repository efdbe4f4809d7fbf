"""Benchmark the demo generator: build time per size and step, rows per table, file size.

    python benchmarks/bench_demo.py                 # S and M
    python benchmarks/bench_demo.py --sizes S,M,L   # L: 1M accounts, ~50M usage rows (minutes, ~10 GB free disk)
"""

from __future__ import annotations

import tempfile
import time
from datetime import date
from pathlib import Path

import typer
from icp_mcp.archive.demo import build_demo
from rich.console import Console
from rich.table import Table

console = Console()


def bench(
    sizes: str = typer.Option("S,M", "--sizes", help="Comma-separated sizes to build (S, M, L)."),
    seed: int = typer.Option(7, "--seed"),
    as_of: str = typer.Option("2026-11-01", "--as-of", help="Fixed last day, so runs are comparable."),
    out_dir: Path | None = typer.Option(None, "--out-dir", help="Keep the archives here (default: a temp dir)."),
) -> None:
    """Build each size once and print where the time goes."""
    folder = out_dir or Path(tempfile.mkdtemp(prefix="bench_demo_"))
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    for size in [s.strip().upper() for s in sizes.split(",") if s.strip()]:
        out = folder / f"demo_{size}.duckdb"
        results.append(_build_one(out, size, seed, date.fromisoformat(as_of)))
        if out_dir is None and size == "L":
            out.unlink()

    timing = Table(title="Demo build time (seconds)")
    timing.add_column("step")
    for size, *_ in results:
        timing.add_column(size, justify="right")
    for i, (name, _) in enumerate(results[0][2] if results else []):
        timing.add_row(name, *[f"{r[2][i][1]:.1f}" for r in results])
    timing.add_row("[bold]total[/bold]", *[f"[bold]{r[1]:.1f}[/bold]" for r in results])
    timing.add_row("CPU seconds (all threads)", *[f"{r[5]:.1f}" for r in results])
    timing.add_row("file size (MB)", *[f"{r[4] / 1e6:,.0f}" for r in results])
    console.print(timing)

    rows = Table(title="Rows per table")
    rows.add_column("table")
    for size, *_ in results:
        rows.add_column(size, justify="right")
    for table in results[0][3] if results else []:
        rows.add_row(table, *[f"{r[3].get(table, 0):,}" for r in results])
    console.print(rows)


def _build_one(out: Path, size: str, seed: int, as_of: date) -> tuple:
    """Build one archive; return (size, seconds, [(step, seconds)], counts, file bytes, CPU seconds)."""
    steps: list[tuple[str, float]] = []
    cpu = time.process_time()
    started = time.perf_counter()
    last = [started]

    def progress(done: float, total: float | None, message: str) -> None:
        now = time.perf_counter()
        steps.append((message, now - last[0]))
        last[0] = now
        console.log(f"{size}: {message} ({now - started:.1f}s)")

    manifest = build_demo(out, size=size, seed=seed, as_of=as_of, progress=progress)
    wall = time.perf_counter() - started
    return size, wall, steps, manifest.counts, out.stat().st_size, time.process_time() - cpu


if __name__ == "__main__":
    typer.run(bench)

"""Benchmark the derivation's sharpness and speed on demo archives (issue 14 acceptance at M).

    python benchmarks/bench_derive.py                       # S seeds 7, 11, 23 and M seed 7
    python benchmarks/bench_derive.py --runs M:7 --runs L:7 # any size:seed pairs
    python benchmarks/bench_derive.py --runs M:7 --no-auc --phases  # and the time of every derivation step

Per archive: derivation time (and its slowest steps), shown criteria, the smallest |points| shown, segments
with their points and the largest pairwise member overlap, whether the planted segments and disqualifiers are
found, and the time-split backtest AUC (split 300 days before as_of, as tests/test_engine_demo.py).
Archives are built once into benchmarks/out/derive_<SIZE>_<seed>.duckdb and reused.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from icp_mcp.archive.db import open_archive
from icp_mcp.archive.demo import build_demo
from icp_mcp.archive.demo.manifest import Manifest
from icp_mcp.engine.derivation.backtest import backtest
from icp_mcp.engine.derivation.derive import derive_icp
from icp_mcp.engine.model.profile import ICPDefinition
from icp_mcp.engine.sql.labels import labels_query
from icp_mcp.engine.sql.matching import members_query

console = Console(width=200)
OUT = Path(__file__).resolve().parent / "out"
AS_OF = date(2026, 11, 1)


def _archive(size: str, seed: int, out_dir: Path) -> tuple[Path, Manifest]:
    path = out_dir / f"derive_{size}_{seed}.duckdb"
    truth = Path(f"{path}.truth.json")
    if not path.exists() or not truth.exists():
        console.print(f"building the {size} demo archive (seed {seed}) at {path} …")
        build_demo(path, size=size, seed=seed, as_of=AS_OF)
    return path, Manifest.model_validate_json(truth.read_text())


def _shown(d: ICPDefinition) -> list:
    return [c for c in d.criteria if not getattr(c, "minor", False)]


def _max_overlap(engine, d: ICPDefinition) -> float:
    """Largest |A ∩ B| / min(|A|, |B|) over pairs of segments, on the worked accounts."""
    labels = labels_query().subquery("labels")
    members = []
    with engine.connect() as conn:
        for s in d.segments:
            m = members_query(s.conditions).subquery("m")
            members.append(set(conn.execute(select(m.c.account_id).join(
                labels, labels.c.account_id == m.c.account_id)).scalars()))
    worst = 0.0
    for i in range(len(members)):
        for j in range(i + 1, len(members)):
            small = min(len(members[i]), len(members[j]))
            if small:
                worst = max(worst, len(members[i] & members[j]) / small)
    return worst


def _overlaps(a_values, a_min, a_max, c) -> bool:
    if a_values is not None:
        return bool(set(c.accepted()) & set(a_values))
    if c.range is None:
        return False
    lo, hi = c.range.min or 0, c.range.max or float("inf")
    return lo < (a_max or float("inf")) and (a_min or 0) < hi


def _planted(d: ICPDefinition, manifest: Manifest) -> tuple[bool, bool]:
    conds = [c for c in d.criteria if c.points > 0] + [c for s in d.segments for c in s.conditions]
    segs = all(any(c.attribute == p.attribute and _overlaps(p.values, p.min, p.max, c) for c in conds)
               for s in manifest.segments for p in s.conditions)
    dqs = all(any(r.attribute == p.attribute and set(r.accepted()) & set(p.values) for r in d.disqualifiers)
              for p in manifest.disqualifiers)
    return segs, dqs


def bench(
    runs: list[str] = typer.Option(["S:7", "S:11", "S:23", "M:7"], "--runs", help="size:seed pairs."),
    out_dir: Path = typer.Option(OUT, "--out-dir"),
    auc: bool = typer.Option(True, "--auc/--no-auc", help="Also run the time-split backtest."),
    phases: bool = typer.Option(False, "--phases", help="Print every derivation step's time."),
) -> None:
    """Derive on each archive and print one row per archive, plus the slowest derivation steps."""
    out_dir.mkdir(parents=True, exist_ok=True)
    table = Table(title="Derivation on demo archives (2 shared cores)")
    for col in ("archive", "accounts", "derive (s)", "criteria shown", "min |points|", "segments",
                "segment points", "max overlap", "planted seg", "planted dq", "backtest AUC", "slowest steps"):
        table.add_column(col, justify="right")
    for run in runs:
        size, seed = run.split(":")
        path, manifest = _archive(size.upper(), int(seed), out_dir)
        engine = open_archive(path, read_only=True)
        with engine.connect() as conn:
            from icp_mcp.archive.schema import accounts

            n_accounts = conn.execute(select(func.count()).select_from(accounts)).scalar()
        steps: list[tuple[str, float]] = []
        last = [time.perf_counter()]

        def progress(done: float, total: float | None, message: str) -> None:
            now = time.perf_counter()
            steps.append((message, now - last[0]))
            last[0] = now

        started = time.perf_counter()
        d = derive_icp(engine, progress=progress)
        seconds = time.perf_counter() - started
        shown = _shown(d)
        segs, dqs = _planted(d, manifest)
        report = backtest(engine, AS_OF - timedelta(days=300)) if auc else None
        slow = sorted(steps, key=lambda s: -s[1])[:2]
        table.add_row(
            f"{size.upper()} seed {seed}", f"{n_accounts:,}", f"{seconds:.1f}", str(len(shown)),
            str(min((abs(c.points) for c in shown), default=0)), str(len(d.segments)),
            ", ".join(f"{s.points:+d}" for s in d.segments), f"{_max_overlap(engine, d):.0%}",
            "yes" if segs else "NO", "yes" if dqs else "NO",
            f"{report.auc:.4f}" if report and report.auc is not None else "n/a",
            "; ".join(f"{m[:40]} {t:.1f}s" for m, t in slow),
        )
        console.print(f"[bold]{run}[/bold]: " + "; ".join(
            f"{c.describe()} {c.points:+d}" for c in shown))
        if phases:  # each progress step's time: what the step before the message did
            console.print("   phases: " + "; ".join(f"{m[:48]} {t:.2f}s" for m, t in steps))
        for s in d.segments:
            console.print(f"   segment {s.id} {s.name} {s.points:+d}")
        engine.dispose()
    console.print(table)


if __name__ == "__main__":
    typer.run(bench)

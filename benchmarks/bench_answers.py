"""Benchmark what issue 14 added to answers: the buying committee of `score_account` (time and size).

    python benchmarks/bench_answers.py                 # sizes S,M (M: 100k accounts, built once)
    python benchmarks/bench_answers.py --sizes S

Archives are built with the demo generator into benchmarks/out/answers_<SIZE>.duckdb and reused; the ICP
is derived once and stored as the active version. Prints p50 / p95 of scoring one account with and
without its committee, and the compact JSON size of the answer parts (characters).
"""

from __future__ import annotations

import json
import random
import time
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from icp_mcp.archive.db import open_archive
from icp_mcp.archive.schema import accounts
from icp_mcp.engine.derivation.derive import derive_icp
from icp_mcp.engine.questions.committee import buying_committee
from icp_mcp.engine.scoring.one import score_account
from icp_mcp.engine.sql import versions

console = Console(width=160)
OUT = Path(__file__).resolve().parent / "out"
AS_OF = date(2026, 11, 1)


def _archive(size: str, seed: int) -> Path:
    path = OUT / f"answers_{size}.duckdb"
    if not path.exists():
        from icp_mcp.archive.demo import build_demo

        OUT.mkdir(exist_ok=True)
        console.print(f"building the {size} demo archive at {path} …")
        build_demo(path, size=size, seed=seed, as_of=AS_OF)
    return path


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(sizes: str = typer.Option("S,M", help="comma-separated demo sizes"), seed: int = 7,
         n: int = typer.Option(60, help="accounts scored per size")) -> None:
    table = Table(title="score_account with the buying committee (2 cores, warm cache)")
    for col in ("size", "score p50 ms", "score p95 ms", "committee p50 ms", "committee p95 ms",
                "score chars", "committee chars", "contacts listed / known"):
        table.add_column(col, justify="right")
    for size in sizes.split(","):
        engine = open_archive(_archive(size.strip(), seed))
        try:
            definition = versions.active_icp(engine)
            if definition is None:
                definition = derive_icp(engine)
                versions.activate(engine, versions.save_version(engine, definition, "bench"), "bench")
                definition = versions.active_icp(engine)
            with engine.connect() as conn:
                ids = list(conn.execute(select(accounts.c.account_id)).scalars())
            picks = random.Random(seed).sample(ids, min(n, len(ids)))
            score_account(engine, definition, account=picks[0])  # warm the caches (tiers, similarity index)
            s_times, c_times, s_chars, c_chars, listed, known = [], [], [], [], [], []
            for aid in picks:
                started = time.perf_counter()
                scored = score_account(engine, definition, account=aid)
                s_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                committee = buying_committee(engine, definition, aid)
                c_times.append(time.perf_counter() - started)
                s_chars.append(len(json.dumps(scored.model_dump(mode="json"), separators=(",", ":"))))
                c_chars.append(len(json.dumps(committee.model_dump(mode="json"), separators=(",", ":"))))
                listed.append(len(committee.contacts))
                known.append(int(committee.summary.split(' ', 1)[0].replace(',', '')) if committee.contacts else 0)
        finally:
            engine.dispose()
        table.add_row(size, f"{1000 * _pct(s_times, .5):.1f}", f"{1000 * _pct(s_times, .95):.1f}",
                      f"{1000 * _pct(c_times, .5):.1f}", f"{1000 * _pct(c_times, .95):.1f}",
                      f"{_pct(s_chars, .5):,}", f"{_pct(c_chars, .5):,}",
                      f"{_pct(listed, .5)} / {_pct(known, .5)}")
    console.print(table)


if __name__ == "__main__":
    typer.run(main)

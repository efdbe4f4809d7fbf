"""First call vs warm, with and without the stored ICP state; the state build; the generation look-up.

    python benchmarks/bench_state.py --archive benchmarks/out/icp_M.duckdb

The archive needs an active ICP (e.g. `icp-mcp demo build --size M` then `icp-mcp icp derive --activate`).
Each tool runs in a fresh process (a read-only server, in-memory MCP client): its first call, then `--repeat`
warm calls. "stored" answers from the ICP state kept in the archive; "recompute" is the same archive with the
state's header removed (what every fresh process paid before). Work happens on copies next to the archive.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import delete

from icp_mcp.archive.db import open_archive
from icp_mcp.archive.schema import icp_state
from icp_mcp.engine.scoring import state
from icp_mcp.engine.sql import cache

console = Console(width=160)

JOURNEYS = [
    ("score_account", {"account": "A0000018"}),
    ("best_customers", {"limit": 20}),
    ("customer_voice", {"cohort": "best:20", "topic": "pricing"}),
    ("customer_voice", {"cohort": "icp", "topic": "pricing"}),
    ("feature_adoption", {"feature": "sso", "by": "icp"}),
]

_CHILD = """
import asyncio, json, sys, time
from mcp import Client
from icp_mcp.engine.sql import cache
from icp_mcp.server.app import archive_of, build_server

async def main():
    tool, args, repeat = sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
    server = build_server(sys.argv[1], read_only=True)
    times = []
    async with Client(server) as client:
        for _ in range(repeat + 1):
            t = time.perf_counter()
            result = await client.call_tool(tool, args)
            times.append(time.perf_counter() - t)
            if result.is_error:
                print(json.dumps({"error": str(result.content)[:300]})); return
    archive_of(server).close()
    print(json.dumps({"times": times, "computed": cache.computations()}))

asyncio.run(main())
"""


def _run(path: Path, tool: str, args: dict, repeat: int) -> dict:
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path), tool, json.dumps(args), str(repeat)],
                          capture_output=True, text=True, timeout=600)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ms(x: float) -> str:
    return f"{x * 1000:.0f}"


def main(archive: Path = typer.Option(..., help="a DuckDB archive with an active ICP"),
         repeat: int = typer.Option(20, help="warm calls after the first")) -> None:
    stored = archive.with_name(archive.stem + ".stored.duckdb")
    bare = archive.with_name(archive.stem + ".recompute.duckdb")
    shutil.copy(archive, stored)
    engine = open_archive(stored)
    started = time.perf_counter()
    head = state.build(engine, force=True)
    build_s = time.perf_counter() - started
    cache.clear()
    reads = 200
    started = time.perf_counter()
    for _ in range(reads):
        with cache.pinned():
            cache.generation(engine)
    generation_ms = (time.perf_counter() - started) / reads * 1000
    engine.dispose()
    shutil.copy(stored, bare)
    engine = open_archive(bare)
    with engine.begin() as conn:
        conn.execute(delete(icp_state))
    engine.dispose()
    console.print(f"state build: {build_s:.2f} s (version {head.version if head else None}); "
                  f"generation look-up: {generation_ms:.2f} ms per read")

    table = Table(title=f"fresh process, {archive.name}: first call / warm p50 / p95 (ms)")
    for col in ("tool", "arguments", "stored first", "stored p50", "stored p95", "recompute first",
                "recompute p50", "recompute p95", "recomputed (stored run)"):
        table.add_column(col)
    for tool, args in JOURNEYS:
        row = [tool, json.dumps(args)]
        computed = ""
        for path in (stored, bare):
            got = _run(path, tool, args, repeat)
            if "error" in got:
                row += ["error", got["error"][:40], ""]
                continue
            first, warm = got["times"][0], sorted(got["times"][1:])
            row += [_ms(first), _ms(statistics.median(warm)), _ms(warm[int(0.95 * (len(warm) - 1))])]
            if path == stored:
                kinds = {"cohort_ids", "best_ranking", "best_index", "state_build", "tiers"}
                computed = ", ".join(f"{k}={v}" for k, v in got["computed"].items() if k in kinds) or "none"
        table.add_row(*row, computed)
    console.print(table)
    for path in (stored, bare):
        path.unlink(missing_ok=True)
        Path(str(path) + ".wal").unlink(missing_ok=True)


if __name__ == "__main__":
    typer.run(main)

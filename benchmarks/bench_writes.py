"""Serving while the data changes (issue 13): what each way of letting outside writers in costs per request.

    python benchmarks/bench_writes.py                 # demo M archive in benchmarks/out/icp_M.duckdb
    python benchmarks/bench_writes.py --requests 40

Compared, per request, on the same archive and the same questions:

- held      the server keeps one engine open (today's default; writers go through its control channel);
- reopen    a short-lived read-only connection per request, closed between requests (mcp-server-motherduck's
            --read-only mode, which lets an outside writer take the file between requests): open + load the
            FTS extension + the query with cold in-process caches;
- channel   the same questions as MCP calls over the control channel (socket + JSON-RPC), vs in-memory;
- writes    a small write command (activate the active version) directly and through the channel;
- audit     one committed audit row (done before every answer now).

The archive is built with `icp-mcp demo build --size M` when missing (~100-150 s) and an ICP derived once.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from icp_mcp.archive.db import open_archive
from icp_mcp.archive.schema import accounts
from icp_mcp.engine.derivation.derive import derive_icp
from icp_mcp.engine.questions.value import best_customers
from icp_mcp.engine.scoring.one import score_account
from icp_mcp.engine.sql import cache
from icp_mcp.engine.sql.versions import get_version, save_version

console = Console(width=160)
OUT = Path(__file__).resolve().parent / "out"


def _ms(samples: list[float]) -> tuple[str, str, str]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"{statistics.median(ordered) * 1000:.1f}", f"{p95 * 1000:.1f}", f"{len(ordered)}"


def _timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _prepare(path: Path) -> tuple[list[str], int]:
    if not path.exists():
        console.print(f"building {path} (demo M)…")
        subprocess.run([sys.executable, "-m", "icp_mcp.server.cli", "demo", "build", "--size", "M", "--out", str(path)],
                       check=True)
    engine = open_archive(path)
    try:
        try:
            version = get_version(engine).version
        except Exception:  # no active ICP yet
            version = save_version(engine, derive_icp(engine), "bench", status="active")
        with engine.connect() as conn:
            ids = list(conn.execute(select(accounts.c.account_id).limit(5000)).scalars())
    finally:
        engine.dispose()
    return random.Random(7).sample(ids, 200), version


def _questions(engine, definition, ids):
    it = iter(ids * 10)
    return {
        "score_account": lambda: score_account(engine, definition, account=next(it)),
        "best_customers": lambda: best_customers(engine, definition=definition, limit=20),
    }


def bench_held(path: Path, ids: list[str], n: int) -> dict[str, list[float]]:
    engine = open_archive(path, read_only=True)
    definition = get_version(engine).definition
    qs = _questions(engine, definition, ids)
    for q in qs.values():
        q()  # warm: the held server's caches are warm after the first request
    out = {name: _timed(q, n) for name, q in qs.items()}
    engine.dispose()
    return out


def bench_reopen(path: Path, ids: list[str], n: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"open+close only": [], "score_account": [], "best_customers": []}
    for i in range(n):
        t = time.perf_counter()
        engine = open_archive(path, read_only=True)
        with engine.connect():
            pass
        engine.dispose()
        out["open+close only"].append(time.perf_counter() - t)
        for name in ("score_account", "best_customers"):
            cache.clear()  # a new engine per request: nothing cached survives (its key is the engine)
            t = time.perf_counter()
            engine = open_archive(path, read_only=True)
            definition = get_version(engine).definition
            _questions(engine, definition, ids[i:])[name]()
            engine.dispose()
            out[name].append(time.perf_counter() - t)
    return out


def bench_channel(path: Path, ids: list[str], n: int, version: int) -> dict[str, list[float]]:
    from mcp import Client

    from icp_mcp.server import control
    from icp_mcp.server.app import archive_of, build_server
    from icp_mcp.server.write_ops import run_op

    server = build_server(str(path))
    handle = archive_of(server)
    channel = control.ControlServer(handle, server, str(path), "bench").start()
    holder = control.find_holder(path)
    assert holder is not None
    out: dict[str, list[float]] = {}

    async def calls(target, label: str) -> None:
        async with Client(target) as client:
            await client.call_tool("score_account", {"account": ids[0]})
            samples = []
            for aid in ids[:n]:
                t = time.perf_counter()
                result = await client.call_tool("score_account", {"account": aid})
                samples.append(time.perf_counter() - t)
                assert not result.is_error, result.content
            out[label] = samples

    try:
        asyncio.run(calls(server, "MCP score_account, in-memory"))
        asyncio.run(calls(control.channel_transport(holder), "MCP score_account, over the channel"))
        out["ping round trip"] = _timed(lambda: control.find_holder(path), n)
        args = {"version": version, "by": "bench"}
        out["activate, direct (held engine)"] = _timed(lambda: handle.write(run_op, "icp.activate", args), n)
        out["activate, through the channel"] = _timed(
            lambda: control.request(holder, "icp.activate", args, client="bench"), n)
        from icp_mcp.server import audit

        out["one audit row committed"] = _timed(
            lambda: audit.record(handle.engine, subject="bench", tool="bench", arguments={}, outcome="ok"), n)
    finally:
        channel.stop()
        handle.close()
    return out


def main(requests: int = typer.Option(30, help="Requests per measurement."),
         archive: Path = typer.Option(OUT / "icp_M.duckdb", help="Demo archive (built when missing).")) -> None:
    OUT.mkdir(exist_ok=True)
    ids, version = _prepare(archive)
    size = archive.stat().st_size / 1e6
    table = Table(title=f"per request on {archive.name} ({size:,.0f} MB), {os.cpu_count()} cores; ms",
                  show_lines=False)
    for col in ("mode", "request", "p50", "p95", "n"):
        table.add_column(col, justify="right" if col in ("p50", "p95", "n") else "left")
    for name, samples in bench_held(archive, ids, requests).items():
        table.add_row("held engine", name, *_ms(samples))
    for name, samples in bench_reopen(archive, ids, max(5, requests // 3)).items():
        table.add_row("reopen per request", name, *_ms(samples))
    for name, samples in bench_channel(archive, ids, requests, version).items():
        table.add_row("channel", name, *_ms(samples))
    console.print(table)


if __name__ == "__main__":
    typer.run(main)

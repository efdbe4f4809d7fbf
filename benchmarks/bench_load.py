"""Load benchmark: N concurrent MCP clients over streamable HTTP (bearer tokens, policy, audit on) against
one `icp-mcp serve` process on loopback, for a fixed number of tool calls.

    python benchmarks/bench_load.py                          # M archive, 8 clients, 400 calls
    python benchmarks/bench_load.py --size S --clients 4 --calls 200
    python benchmarks/bench_load.py --archive my.duckdb      # any archive with an active ICP

Builds `benchmarks/out/demo_<SIZE>.duckdb` with the demo generator (and derives and activates its ICP) when
absent. Prints p50/p95/p99 latency per tool and overall, calls/s, errors (must be 0) and the server's RSS
before and after the run. Loopback only; every loop is bounded by --calls.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

OUT = Path(__file__).resolve().parent / "out"
AS_OF = date(2026, 11, 1)
console = Console()


def ensure_archive(size: str, seed: int) -> Path:
    """The demo archive of `size` with an active ICP, built once into benchmarks/out/."""
    path = OUT / f"demo_{size}.duckdb"
    if path.exists():
        return path
    from icp_mcp.archive.db import open_archive
    from icp_mcp.archive.demo import build_demo
    from icp_mcp.engine.derivation import derive
    from icp_mcp.engine.sql import versions

    OUT.mkdir(parents=True, exist_ok=True)
    tmp = OUT / f".demo_{size}.building.duckdb"
    tmp.unlink(missing_ok=True)
    started = time.perf_counter()
    build_demo(tmp, size=size, seed=seed, as_of=AS_OF)
    engine = open_archive(tmp)
    try:
        version = versions.save_version(engine, derive.derive_icp(engine), "bench_load")
        versions.activate(engine, version, "bench_load")
    finally:
        engine.dispose()
    for suffix in ("", ".truth.json"):
        src = Path(str(tmp) + suffix)
        if src.exists():
            shutil.move(src, Path(str(path) + suffix))
    console.log(f"built {path} with an active ICP in {time.perf_counter() - started:.0f}s")
    return path


def write_policy(folder: Path) -> tuple[Path, str]:
    """A policy with one revops token (revenue visible, PII masked: the redaction path runs)."""
    from icp_mcp.server.policy import hash_token, write_raw

    token = "icp_" + secrets.token_urlsafe(32)
    path = folder / "bench_policy.yaml"
    write_raw(path, {"version": 1, "principals": [
        {"subject": "bench-revops", "roles": ["revops"], "token_sha256": hash_token(token)}]})
    return path, token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident set size of a process (Linux /proc), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sample_archive(archive: Path, n: int, seed: int) -> tuple[list[str], list[str]]:
    """Account ids to score and the active ICP's disqualifier ids (read before the server takes the file)."""
    from sqlalchemy import select

    from icp_mcp.archive.db import open_archive
    from icp_mcp.archive.schema import accounts
    from icp_mcp.engine.sql import versions

    engine = open_archive(archive, read_only=True)
    try:
        with engine.connect() as conn:
            ids = [r[0] for r in conn.execute(select(accounts.c.account_id).order_by(accounts.c.account_id))]
        definition = versions.active_icp(engine, required=False)
    finally:
        engine.dispose()
    if definition is None:
        raise SystemExit(f"{archive} has no active ICP: run `icp-mcp icp derive` and activate it first")
    rules = [rule.id for rule in definition.disqualifiers]
    return random.Random(seed).sample(ids, min(n, len(ids))), rules


def workload(account_ids: list[str], rules: list[str], calls: int, seed: int, only: str = ""
             ) -> list[tuple[str, dict[str, Any]]]:
    """A fixed mix: 45% score_account, 20% best_customers, 20% customer_voice, 10% explain_disqualifier,
    5% check_drift; only the calls of the tools named in `only` (comma-separated) when given, as many."""
    if only:
        wanted = set(only.split(","))
        mixed = workload(account_ids, rules, calls * 50, seed)
        plan = [c for c in mixed if c[0] in wanted][:calls]
        if len(plan) < calls:
            raise SystemExit(f"--only {only}: no such tool in the mix")
        return plan
    rng = random.Random(seed)
    topics = ["pricing", "security_compliance", "integrations", "onboarding", "support"]
    plan = []
    for i in range(calls):
        roll = rng.random()
        if roll < 0.45:
            plan.append(("score_account", {"account": rng.choice(account_ids)}))
        elif roll < 0.5:
            plan.append(("check_drift", {}))
        elif roll < 0.7:
            plan.append(("best_customers", {"limit": 20, "cursor": None}))
        elif roll < 0.9:
            plan.append(("customer_voice", {"topic": rng.choice(topics), "cohort": "best:50", "limit": 10}))
        elif rules:
            plan.append(("explain_disqualifier", {"rule_id": rng.choice(rules)}))
        else:
            plan.append(("score_account", {"account": rng.choice(account_ids)}))
    return plan


async def run_clients(url: str, token: str | None, plan: list[tuple[str, dict[str, Any]]], clients: int
                      ) -> tuple[list[tuple[str, float, bool, str]], float]:
    """Run `plan` with `clients` concurrent MCP sessions; return (tool, seconds, ok, error text) per call."""
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    results: list[tuple[str, float, bool, str]] = []

    async def worker() -> None:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"} if token else None)
        async with http, Client(streamable_http_client(url, http_client=http)) as client:
            while True:
                try:
                    tool, args = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                try:
                    result = await client.call_tool(tool, {k: v for k, v in args.items() if v is not None})
                    ok = not result.is_error
                    error = "" if ok else " ".join(getattr(c, "text", "") for c in result.content)[:200]
                except Exception as exc:  # a transport failure is an error of the run, not a crash
                    ok, error = False, f"{type(exc).__name__}: {exc}"[:200]
                results.append((tool, time.perf_counter() - started, ok, error))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return results, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def wait_ready(url: str, proc: subprocess.Popen, deadline_s: float = 300) -> None:
    """Poll until the server answers (401 without a token) or the process dies; bounded."""
    stop = time.monotonic() + deadline_s
    while time.monotonic() < stop:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx.post(url, json={}, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("server did not start in time")


def main(
    size: str = typer.Option("M", "--size", help="Demo archive size when --archive is not given (S, M, L)."),
    archive: Path | None = typer.Option(None, "--archive", help="An archive with an active ICP."),
    clients: int = typer.Option(8, "--clients", min=1, max=64, help="Concurrent MCP sessions."),
    calls: int = typer.Option(400, "--calls", min=1, max=100_000, help="Total tool calls."),
    warmup: int = typer.Option(20, "--warmup", min=0, max=1000, help="Calls before measuring (not counted)."),
    seed: int = typer.Option(7, "--seed"),
    no_policy: bool = typer.Option(False, "--no-policy", help="Peer run: no tokens, no redaction (owner)."),
    only: str = typer.Option("", "--only", help="Only these tools of the mix (comma-separated): e.g. "
                                                "best_customers, whose answers are kept, for the cost of a call "
                                                "outside the query."),
) -> None:
    """Serve the archive over HTTP with a policy and hammer it with concurrent clients."""
    path = archive or ensure_archive(size.upper(), seed)
    policy, token = write_policy(OUT if archive is None else Path(path).parent)
    policy_args = [] if no_policy else ["--policy", str(policy)]
    account_ids, rules = sample_archive(path, 2000, seed)
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    exe = Path(sys.executable).parent / "icp-mcp"
    server_log = OUT / "bench_load_server.log"  # a file, not a pipe: an undrained pipe blocks the server's logging
    OUT.mkdir(parents=True, exist_ok=True)
    log_file = server_log.open("w")
    proc = subprocess.Popen([str(exe), "serve", "--archive", str(path), "--transport", "http", "--host",
                             "127.0.0.1", "--port", str(port), *policy_args],
                            stdout=subprocess.DEVNULL, stderr=log_file, text=True)
    try:
        wait_ready(url, proc)
        rss_before = rss_mb(proc.pid)
        if no_policy:
            token = None
        if warmup:
            asyncio.run(run_clients(url, token, workload(account_ids, rules, warmup, seed + 1, only), min(clients, warmup)))
        cpu_before, client_before = cpu_seconds(proc.pid), time.process_time()
        results, wall = asyncio.run(run_clients(url, token, workload(account_ids, rules, calls, seed, only), clients))
        cpu, client_cpu = cpu_seconds(proc.pid) - cpu_before, time.process_time() - client_before
        rss_after = rss_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log_file.close()
        warnings = [line for line in server_log.read_text().splitlines() if "WARNING" in line or "ERROR" in line]
        if warnings:
            console.print(f"server log ({server_log}): {len(warnings)} warnings/errors; first: {warnings[0].strip()[:200]}")
    report(results, wall, clients, path, rss_before, rss_after, "no policy" if no_policy else "policy, revops token")
    console.print(f"server CPU: {cpu:.1f} s for {len(results)} calls = {1000 * cpu / max(1, len(results)):.1f} ms per call "
                  f"({cpu / wall:.2f} cores busy; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    console.print(f"client CPU: {1000 * client_cpu / max(1, len(results)):.1f} ms per call (the {clients} MCP clients of "
                  "this process on the same machine, their output-schema validation included)")
    if any(not ok for _, _, ok, _ in results):
        raise typer.Exit(1)


def report(results: list[tuple[str, float, bool, str]], wall: float, clients: int, path: Path,
           rss_before: float, rss_after: float, mode: str) -> None:
    """Print the latency table and the run's totals."""
    table = Table(title=f"bench_load: {len(results)} calls, {clients} clients, {path.name}, {mode} (ms)")
    for column in ("tool", "calls", "errors", "p50", "p95", "p99", "max"):
        table.add_column(column, justify="left" if column == "tool" else "right")
    by_tool: dict[str, list[tuple[float, bool]]] = {}
    for tool, seconds, ok, _ in results:
        by_tool.setdefault(tool, []).append((seconds, ok))
    for tool, rows in [*sorted(by_tool.items()), ("all", [(s, ok) for _, s, ok, _ in results])]:
        ms = [s * 1000 for s, _ in rows]
        table.add_row(tool, str(len(rows)), str(sum(not ok for _, ok in rows)),
                      *(f"{percentile(ms, q):.1f}" for q in (50, 95, 99)), f"{max(ms):.1f}")
    console.print(table)
    errors = [e for _, _, ok, e in results if not ok]
    console.print(f"throughput: {len(results) / wall:.1f} calls/s over {wall:.1f}s; errors: {len(errors)}")
    console.print(f"server RSS: {rss_before:.0f} MB before, {rss_after:.0f} MB after")
    for error in errors[:5]:
        console.print(f"  error: {error}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    typer.run(main)

"""The MCP SDK's own floor for bench_load: a server with one tool that does nothing, over the same streamable
HTTP transport (uvicorn, one process), hammered by the same concurrent clients. What icp-mcp cannot beat.

    python benchmarks/bench_mcp_floor.py --clients 50 --calls 1000
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

import typer
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import cpu_seconds, free_port, percentile, run_clients  # noqa: E402

console = Console()


def _serve(port: int) -> None:
    import uvicorn
    from mcp.server import MCPServer

    server = MCPServer("floor")

    @server.tool()
    def ping(n: int = 0) -> dict:
        """Answer at once."""
        return {"n": n}

    uvicorn.run(server.streamable_http_app(streamable_http_path="/mcp", host="127.0.0.1"), host="127.0.0.1",
                port=port, log_level="warning")


def main(clients: int = typer.Option(50, "--clients", min=1, max=64),
         calls: int = typer.Option(1000, "--calls", min=1, max=100_000)) -> None:
    """Serve the no-op tool and report calls/s, p50 / p95 and the server's CPU per call."""
    port = free_port()
    proc = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    proc.start()
    try:
        time.sleep(3)
        url = f"http://127.0.0.1:{port}/mcp"
        asyncio.run(run_clients(url, None, [("ping", {"n": i}) for i in range(50)], min(clients, 50)))
        before = cpu_seconds(proc.pid)
        results, wall = asyncio.run(run_clients(url, None, [("ping", {"n": i}) for i in range(calls)], clients))
        cpu = cpu_seconds(proc.pid) - before
    finally:
        proc.terminate()
    ms = [s * 1000 for _, s, _, _ in results]
    console.print(f"MCP SDK floor (no-op tool, streamable HTTP, {clients} clients): {len(results) / wall:.0f} calls/s, "
                  f"p50 {statistics.median(ms):.0f} ms, p95 {percentile(ms, 95):.0f} ms, "
                  f"errors {sum(not ok for _, _, ok, _ in results)}; server CPU {1000 * cpu / len(results):.1f} ms "
                  f"per call; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    typer.run(main)

"""How far a tool's code path travels: the files between each tool function and the SQL it runs.

    python benchmarks/hops.py                 # demo S (seed 7), built into benchmarks/out/hops_S.duckdb

For every tool it calls the tool once through the SDK's in-memory client (after one warm-up call, so
caches do not hide or add work) and records, at every function call of the project's code in the tool's
worker thread, the chain of source files on the stack from the tool's module down. It prints per tool:
the longest chain (files from the tool function to the deepest call, e.g. the SQL builder), the files
entered at all, and how many distinct paths enter a file that is already on them (A -> B -> A, a
"return into a caller").
Version-agnostic: it only uses the CLI and `icp_mcp.server.app.build_server`, so it runs on older commits.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

OUT = Path(__file__).resolve().parent / "out"
CALLS = {
    "score_account": {"account": "A0000042"},
    "best_customers": {"limit": 5},
    "explain_disqualifier": {"account": "A0000042"},
    "customer_voice": {"topic": "pricing", "cohort": "best:20"},
    "feature_adoption": {"feature": "sso"},
    "check_drift": {},
    "derive_icp": {},
}


def _archive() -> Path:
    path = OUT / "hops_S.duckdb"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        cli = [str(Path(sys.executable).with_name("icp-mcp"))]
        subprocess.run([*cli, "demo", "build", "--out", str(path), "--size", "S", "--seed", "7",
                        "--as-of", "2026-11-01"], check=True, capture_output=True)
        subprocess.run([*cli, "icp", "derive", "--archive", str(path), "--activate"], check=True,
                       capture_output=True)
    return path


def _chain(frame, root: str) -> list[str]:
    """The icp_mcp files on the stack of `frame`, outermost first (consecutive repeats folded)."""
    files: list[str] = []
    f = frame
    while f is not None:
        name = f.f_code.co_filename
        if name.startswith(root) and "/.venv/" not in name and "/benchmarks/" not in name:
            rel = name[len(root) + 1:]
            if not files or files[-1] != rel:
                files.append(rel)
        f = f.f_back
    files.reverse()
    return files


async def _measure(path: Path) -> list[tuple[str, int, int, int]]:
    import anyio.to_thread
    from mcp import Client

    from icp_mcp.server.app import build_server

    root = os.environ.get("HOPS_ROOT") or str(Path(__file__).resolve().parents[1])  # source root
    record: list[list[str]] | None = None
    real_run_sync = anyio.to_thread.run_sync

    def hook(frame, event, arg):  # noqa: ARG001
        if event == "call" and record is not None and frame.f_code.co_filename.startswith(root):
            chain = _chain(frame, root)
            start = next((i for i, n in enumerate(chain) if n.startswith("tools/")), None)
            if start is not None:
                record.append(chain[start:])

    async def traced_run_sync(func, *args, **kwargs):
        def run():
            sys.setprofile(hook)
            try:
                return func(*args)
            finally:
                sys.setprofile(None)
        return await real_run_sync(run, **kwargs)

    anyio.to_thread.run_sync = traced_run_sync  # the tool's engine work runs in a worker thread
    server = build_server(str(path))
    rows = []
    async with Client(server) as client:
        for tool, args in CALLS.items():
            await client.call_tool(tool, args)  # warm-up
            record = []
            await client.call_tool(tool, args)
            chains, record = record, None
            longest = max((len(c) for c in chains), default=0)
            files = {f for c in chains for f in c}
            returns = len({tuple(c) for c in chains if len(c) != len(set(c))})
            rows.append((tool, longest, len(files), returns))
            if os.environ.get("HOPS_VERBOSE"):
                print(tool, "longest:", " -> ".join(max(chains, key=len)) if chains else "-")
                for c in {tuple(c) for c in chains if len(c) != len(set(c))}:
                    print("   returns:", " -> ".join(c))
    return rows


def main() -> None:
    rows = asyncio.run(_measure(_archive()))
    table = Table(title="Files from the tool function to its SQL (demo S, one warm call)")
    for col in ("tool", "longest call chain (files)", "files entered", "paths returning into a caller"):
        table.add_column(col, justify="right" if col != "tool" else "left")
    for tool, longest, distinct, returns in rows:
        table.add_row(tool, str(longest), str(distinct), str(returns))
    Console(width=140).print(table)


if __name__ == "__main__":
    main()

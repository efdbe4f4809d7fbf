"""CLI start-up: wall and CPU time of `icp-mcp` commands in fresh processes (hyperfine-style repeats), and
where the import time of `icp_mcp.server.cli` goes (`python -X importtime`).

    python benchmarks/bench_cli.py                 # --help, `icp --help`, and `call` on the S demo archive
    python benchmarks/bench_cli.py --repeat 20

Target (issue 12): `icp-mcp --help` ≤ 0.3 s; `icp-mcp call` pays only for its own work (the MCP SDK, the
server's tools, the query). CPU time (user + sys) is shown beside wall time because the machine is shared.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()
EXE = str(Path(sys.executable).parent / "icp-mcp")


def run_once(argv: list[str]) -> tuple[float, float]:
    """(wall s, CPU s of the child) of one run of `argv`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_top(module: str, n: int) -> list[tuple[str, float]]:
    """The `n` top-level imports of `module` with the largest cumulative import time (ms)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                         capture_output=True, text=True, check=True).stderr
    rows = []
    for line in out.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        if name.startswith("   ") and not name.startswith("     "):  # direct children of the module only
            rows.append((name.strip(), int(cumulative) / 1000))
        elif name.strip() == module:
            rows.append((f"= {module} (total)", int(cumulative) / 1000))
    return sorted(rows, key=lambda r: -r[1])[:n]


def main(repeat: int = typer.Option(10, "--repeat", min=1, max=100, help="Runs per command (after one warm-up).")
         ) -> None:
    """Time the CLI commands and print the table."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_load import ensure_archive

    archive = str(ensure_archive("S", 7))
    commands = {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "icp-mcp --help": [EXE, "--help"],
        "icp-mcp icp --help": [EXE, "icp", "--help"],
        "icp-mcp call best_customers (S)": [EXE, "call", "best_customers", "--archive", archive, "--arg", "limit=5"],
        "  of which: import icp_mcp.server.app": [sys.executable, "-c", "import icp_mcp.server.app"],
    }
    table = Table(title=f"CLI start-up, fresh process each run ({repeat} runs after one warm-up; seconds)")
    for column in ("command", "wall p50", "wall min", "CPU p50", "CPU min"):
        table.add_column(column, justify="left" if column == "command" else "right")
    for label, argv in commands.items():
        run_once(argv)
        samples = [run_once(argv) for _ in range(repeat)]
        walls, cpus = [w for w, _ in samples], [c for _, c in samples]
        table.add_row(label, f"{statistics.median(walls):.3f}", f"{min(walls):.3f}",
                      f"{statistics.median(cpus):.3f}", f"{min(cpus):.3f}")
    console.print(table)
    top = Table(title="python -X importtime: import icp_mcp.server.cli, largest direct imports (ms)")
    top.add_column("module")
    top.add_column("cumulative ms", justify="right")
    for name, ms in import_top("icp_mcp.server.cli", 8):
        top.add_row(name, f"{ms:.1f}")
    console.print(top)
    console.print(f"load average now: {', '.join(f'{x:.1f}' for x in os.getloadavg())} (wall times include waiting "
                  "for a core); target: icp-mcp --help ≤ 0.3 s")


if __name__ == "__main__":
    typer.run(main)

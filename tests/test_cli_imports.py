"""The CLI imports only what a command uses: loading the `icp-mcp` app (what `--help` pays for) pulls in
neither the MCP SDK, anthropic, uvicorn, numpy, SQLAlchemy, DuckDB nor pydantic; each command imports its
own. Checked in a fresh interpreter through sys.modules (no timings here: those are in benchmarks/)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("anthropic", "uvicorn", "mcp", "mcp.client", "numpy", "sqlalchemy", "duckdb", "pydantic", "yaml", "rich")


def loaded_after(statement: str) -> set[str]:
    """Which of HEAVY are in sys.modules after running `statement` in a fresh interpreter."""
    code = f"import json, sys\n{statement}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_cli_app_imports_nothing_heavy() -> None:
    assert loaded_after("import icp_mcp.server.cli") == set()


def test_help_renders_without_heavy_imports() -> None:
    """Plain help (no rich panels, no rich at all) for the app and a command group; typer 0.29 builds a
    pydantic adapter per parameter (pyproject keeps typer below it)."""
    for argv in (["--help"], ["icp", "--help"]):
        statement = ("from icp_mcp.server.cli import app\n"
                     f"try:\n    app({argv!r})\nexcept SystemExit:\n    pass")
        assert loaded_after(statement) == set(), argv


def test_the_check_sees_a_heavy_import() -> None:
    """The probe itself can fail: importing the server wiring does load the MCP SDK."""
    assert {"mcp", "sqlalchemy", "pydantic"} <= loaded_after("import icp_mcp.server.app")

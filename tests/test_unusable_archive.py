"""Every unusable archive gives one line and an exit code, never a traceback (issue 13), for every entry
point, as real processes: `serve` (stdio and HTTP), `call`, `ask`, `ingest`, `icp derive`, `icp list`.

A stdio server that cannot open its archive exits at once (its stdin stays open: a desktop client would
keep it open and wait forever otherwise).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from icp_mcp.archive.db import create_schema, open_archive
from test_server_transports import ICP_MCP, free_port

pytestmark = pytest.mark.slow

ENV = {**os.environ, "COLUMNS": "200", "ICP_MCP_WRITE_WAIT": "0", "ANTHROPIC_API_KEY": "sk-test",
       "ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}


def _commands(archive: Path, csv: Path) -> dict[str, list[str]]:
    a = str(archive)
    return {
        "serve-stdio": ["serve", "--archive", a],
        "serve-http": ["serve", "--archive", a, "--transport", "http", "--port", str(free_port())],
        "call": ["call", "best_customers", "--archive", a],
        "ask": ["ask", "who are our best customers?", "--archive", a],
        "ingest": ["ingest", "accounts", str(csv), "--archive", a],
        "icp-derive": ["icp", "derive", "--archive", a],
        "icp-list": ["icp", "list", "--archive", a],
    }


def run(args: list[str], timeout: float = 60, prefix: list[str] | None = None) -> subprocess.CompletedProcess:
    """One CLI process; stdin stays open (a pipe nobody writes to) so a stdio server must exit by itself."""
    proc = subprocess.Popen([*(prefix or []), *ICP_MCP, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"{args[0]} did not exit within {timeout} s; stderr: {err[-500:]}")
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def assert_one_line(result: subprocess.CompletedProcess, *needles: str, code: int = 2) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr + result.stdout, result.stderr[-2000:]
    assert result.returncode == code, (result.args, result.returncode, result.stderr)
    assert len(lines) == 1, (result.args, lines)
    for needle in needles:
        assert needle in lines[0], (result.args, lines[0])
    return lines[0]


def _initialised(path: Path) -> Path:
    engine = open_archive(path, create=True)
    create_schema(engine)
    engine.dispose()
    return path


def _make(case: str, folder: Path) -> tuple[Path, str, subprocess.Popen | None]:
    """An archive broken in the way `case` says, the words its error line must contain, and a holder."""
    path = folder / "archive.duckdb"
    if case == "missing":
        return path, "archive not found", None
    if case == "not-duckdb":
        path.write_text("account_id,name\nA1,Acme\n" * 200)
        return path, "is not a DuckDB file", None
    if case == "empty-file":
        path.write_bytes(b"")
        return path, "is not a DuckDB file", None
    if case == "directory":
        path.mkdir()
        return path, "is a directory", None
    if case == "truncated":
        _initialised(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
        return path, "is truncated", None
    if case == "corrupt-header":
        _initialised(path)
        data = bytearray(path.read_bytes())
        data[:8192] = b"\x00" * 8192
        path.write_bytes(bytes(data))
        return path, "header is damaged", None
    if case == "corrupt-checksum":  # one byte of the main header changed: its checksum no longer matches
        _initialised(path)
        data = bytearray(path.read_bytes())
        data[12] ^= 0xFF
        path.write_bytes(bytes(data))
        return path, "is corrupt", None
    if case == "newer-release":
        _initialised(path)
        con = duckdb.connect(str(path))
        con.execute("UPDATE alembic_version SET version_num = '9999'")
        con.close()
        return path, "made by a newer icp-mcp (schema revision 9999", None
    if case == "not-icp":
        con = duckdb.connect(str(path))
        con.execute("CREATE TABLE something_else (x INTEGER)")
        con.close()
        return path, "not an icp-mcp archive", None
    if case == "locked":
        _initialised(path)
        holder = subprocess.Popen(
            [sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('ok', flush=True); "
             "sys.stdin.read()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "ok"
        return path, f"is in use by PID {holder.pid}", holder
    raise AssertionError(case)


CASES = ("missing", "not-duckdb", "empty-file", "directory", "truncated", "corrupt-header", "corrupt-checksum",
         "newer-release",
         "not-icp", "locked")


@pytest.mark.parametrize("case", CASES)
def test_unusable_archive_is_one_line_for_every_entry_point(case: str, tmp_path: Path) -> None:
    csv = tmp_path / "accounts.csv"
    csv.write_text("account_id,name\nA1,Acme\n")
    path, needle, holder = _make(case, tmp_path)
    before = path.read_bytes() if path.is_file() else None
    try:
        for name, args in _commands(path, csv).items():
            line = assert_one_line(run(args), needle)
            if case == "locked":
                assert "wait until it finishes, or stop it" in line, line
    finally:
        if holder is not None:
            holder.communicate("")
    if before is not None:
        assert path.read_bytes() == before, "a failed open changed the file"


def test_older_schema_is_migrated_by_writers_and_named_by_readers(tmp_path: Path) -> None:
    """An archive with the baseline schema (no version table, revision 0001): read-only commands name the
    one command that migrates; `migrate` (or any writer) brings it to the current revision."""
    path = _initialised(tmp_path / "archive.duckdb")
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE alembic_version")
    con.execute("DROP INDEX ix_audit_log_subject")
    con.close()
    assert_one_line(run(["icp", "list", "--archive", str(path)]), "older schema (revision 0001",
                    f"icp-mcp migrate --archive {path}")
    done = run(["migrate", "--archive", str(path)])
    from icp_mcp.archive.schema_version import HEAD

    assert done.returncode == 0 and f"schema revision 0001 → {HEAD}" in done.stderr, done.stderr
    assert run(["icp", "list", "--archive", str(path)]).returncode == 0


def _without_root_powers() -> list[str]:
    """A command prefix under which file permissions hold (root ignores them: drop its DAC capabilities)."""
    if os.getuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a file read-only for the child")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def test_read_only_archive(tmp_path: Path) -> None:
    """A file this user cannot write: writers and the read-write server say so in one line; readers work."""
    folder = tmp_path / "ro"
    folder.mkdir()
    path = _initialised(folder / "archive.duckdb")
    csv = folder / "accounts.csv"
    csv.write_text("account_id,name\nA1,Acme\n")
    for p in (path, csv):
        os.chmod(p, 0o444)
    os.chmod(folder, 0o555)
    prefix = _without_root_powers()
    try:
        commands = _commands(path, csv)
        for name in ("serve-stdio", "serve-http", "ingest", "icp-derive"):
            assert_one_line(run(commands[name], prefix=prefix), "is read-only for this user")
        listed = run(commands["icp-list"], prefix=prefix)
        assert listed.returncode == 0, listed.stderr
        called = run(commands["call"], prefix=prefix)  # falls back to read-only; its audit entry goes to the log
        assert called.returncode == 0 and "Traceback" not in called.stderr, called.stderr
    finally:
        os.chmod(folder, 0o755)

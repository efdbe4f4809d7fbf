"""How a CLI write command reaches the archive: through the server holding it (control channel), or by
writing itself, waiting in line while another process holds the file (issue 13).

Either way the command prints the same result and exits with the same codes: 0 done, 2 bad input or an
unusable archive, 1 the holder went away mid-command (nothing committed).
"""

from __future__ import annotations

import getpass
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import typer

from icp_mcp.archive.db import ArchiveError
from icp_mcp.archive.opening import ArchiveLocked, open_checked
from icp_mcp.server import control
from icp_mcp.server.cli_console import LazyConsole
from icp_mcp.server.write_ops import OPS, OpError, run_op

#: How long a write command waits for another process to release the archive (seconds).
WAIT_SECONDS = float(os.environ.get("ICP_MCP_WRITE_WAIT", "3600"))
_POLL = 0.25


def who(by: str | None = None) -> str:
    """The `created_by` of a CLI write: `--by`, else `cli:<user>`."""
    if by:
        return by
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "cli"


def fail(err: LazyConsole, message: str, code: int = 2, candidates: list[str] | None = None,
         label: str = "error") -> typer.Exit:
    """Print one red line (and candidates) and return the exit to raise."""
    err.print(f"[red]{label}:[/red] {message}", highlight=False, soft_wrap=True)
    for c in candidates or []:
        err.print(f"  candidate: {c}", highlight=False)
    return typer.Exit(code)


def _client_label() -> str:
    return f"icp-mcp {' '.join(sys.argv[1:3])} (PID {os.getpid()})"


def said_state(console: LazyConsole, result: dict[str, Any]) -> None:
    """Say that a write stored the active ICP's state (`result["state"]`, from write_ops._store_state)."""
    state = result.get("state") or {}
    if state.get("version") is not None:
        console.print(f"ICP state of version {state['version']} stored (generation {state['generation']})")


def run_write(archive: str, op: str, args: dict[str, Any], err: LazyConsole, *, show_progress: bool = True) -> dict[str, Any]:
    """Carry out write command `op` and return its result; print one line and exit on failure."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err.real, transient=True,
                   disable=not show_progress)
    task = bar.add_task(OPS.get(op, op), total=None)

    def progress(done: float, total: float | None, message: str) -> None:
        bar.update(task, completed=done, total=total, description=message)

    def notice(message: str) -> None:
        err.print(message, highlight=False, soft_wrap=True)

    try:
        with bar:
            return _run(archive, op, args, progress, notice)
    except OpError as exc:
        raise fail(err, str(exc), exc.code, exc.candidates, exc.label) from None
    except control.ChannelLost as exc:
        raise fail(err, str(exc), 1) from None
    except ArchiveError as exc:
        raise fail(err, str(exc)) from None


def _run(archive: str, op: str, args: dict[str, Any], progress: Callable[[float, float | None, str], None],
         notice: Callable[[str], None]) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    told: int | None = None
    while True:
        holder = control.find_holder(archive)
        if holder is not None:
            notice(f"the archive is held by {holder}; it carries out this command")
            return control.request(holder, op, args, client=_client_label(), on_progress=progress, on_notice=notice)
        try:
            engine = open_checked(archive)
        except ArchiveLocked as exc:
            if exc.by_server:  # a read-only server does not let go of the file: waiting would not end
                raise
            if time.monotonic() > deadline:
                raise ArchiveError(f"{exc} (waited {WAIT_SECONDS:.0f} s)") from None
            if told != exc.pid:
                notice(f"queued: {exc.holder} is using the archive; this command runs when it is done "
                       "(Ctrl-C to give up)")
                told = exc.pid
            time.sleep(_POLL)
            continue
        try:
            return run_op(engine, op, args, progress)
        finally:
            engine.dispose()

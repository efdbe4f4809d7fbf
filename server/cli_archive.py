"""`icp-mcp ingest` and `icp-mcp rejects`: load CRM exports into the archive and look at what was refused."""

from __future__ import annotations

import json

from typing import TYPE_CHECKING

import typer

from icp_mcp.archive.errors import ArchiveError
from icp_mcp.archive.names import INGESTIBLE_TABLES, MAPPINGS
from icp_mcp.server.cli_console import LazyConsole
from icp_mcp.surface.settings import ARCHIVE_HELP

if TYPE_CHECKING:  # the commands import what they use, so `icp-mcp --help` stays fast
    from icp_mcp.archive.ingest import IngestReport
    from sqlalchemy import Engine

console = LazyConsole(stderr=True)
out = LazyConsole()


def _fail(message: str, code: int = 2) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}", soft_wrap=True)
    return typer.Exit(code)


def _print_report(report: IngestReport) -> None:
    from rich.table import Table
    table = Table(title=f"{report.table} ← {report.source}", show_header=True)
    for name in ("read", "loaded", "updated", "unchanged", "rejected"):
        table.add_column(name, justify="right")
    table.add_row(*(f"{getattr(report, n):,}" for n in ("read", "loaded", "updated", "unchanged", "rejected")))
    out.print(table)
    if report.rejected:
        out.print(f"{report.rejects_recorded:,} new reject(s) recorded; see `icp-mcp rejects --table {report.table}`")
    if report.reasons:
        reasons = Table(title="top reasons", show_header=True)
        reasons.add_column("reason")
        reasons.add_column("rows", justify="right")
        for reason, n in report.reasons.items():
            reasons.add_row(reason, f"{n:,}")
        out.print(reasons)
    if report.stages:
        stages = Table(title="stages (every source value and what it was stored as)", show_header=True)
        for name in ("source stage", "stored as", "rows"):
            stages.add_column(name, justify="right" if name == "rows" else "left")
        for s in report.stages:
            stored = s.stage if s.stage in ("open", "won", "lost") else f"rejected ({s.stage})"
            stages.add_row("(empty)" if s.source is None else s.source, stored, f"{s.rows:,}")
        out.print(stages)
    for warning in report.warnings:
        out.print(f"[yellow]warning:[/yellow] {warning}", soft_wrap=True, highlight=False)
    if report.ignored_columns:
        out.print(f"ignored columns: {', '.join(report.ignored_columns)}")
    if report.snippets is not None:
        out.print(f"snippets rebuilt: {report.snippets:,}; topics: {report.topics}")


def ingest(
    table: str = typer.Argument(..., help=f"Target table: {', '.join(INGESTIBLE_TABLES)}."),
    file: str = typer.Argument(..., help="A .csv, .csv.gz, .parquet or .jsonl file."),
    archive: str = typer.Option(..., "--archive", help=ARCHIVE_HELP),
    mapping: str = typer.Option("generic", "--mapping", help=f"Column mapping: {', '.join(MAPPINGS)}."),
    topics: str = typer.Option(None, "--topics", help="Topic taxonomy YAML for conversations (default: shipped)."),
    stage_map: list[str] = typer.Option(
        None, "--stage-map", help="Map a custom deal stage: 'SOURCE VALUE=won' (or lost / open); repeat."),
) -> None:
    """Validate FILE and load it into TABLE; bad rows are kept in ingest_rejects with a reason.

    While a server holds the archive, that server carries the load out (and its next answers see it)."""
    from pathlib import Path

    from icp_mcp.archive.ingest import IngestReport
    from icp_mcp.archive.mappings import MappingError, parse_stage_map
    from icp_mcp.server.write_client import run_write, said_state

    try:
        stages = parse_stage_map(stage_map)
    except MappingError as exc:
        raise _fail(str(exc)) from exc
    args = {"table": table, "file": str(Path(file).expanduser().absolute()), "mapping": mapping,
            "topics": str(Path(topics).expanduser().absolute()) if topics else None, "stage_map": stages}
    result = run_write(archive, "ingest", args, console)
    report = IngestReport.model_validate({k: v for k, v in result.items() if k != "state"})
    _print_report(report)
    said_state(console, result)


def rejects(
    archive: str = typer.Option(..., "--archive", help=ARCHIVE_HELP),
    table: str = typer.Option(None, "--table", help="Only rejects for this table."),
    limit: int = typer.Option(20, "--limit", min=1, help="Show at most this many (by file, then line)."),
    source: str = typer.Option(None, "--source", help="Only rejects from files whose path contains this."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line instead of a table."),
) -> None:
    """List rows that ingest refused, with their file, line, reason and raw content."""
    from rich.table import Table
    from icp_mcp.archive.schema import ingest_rejects
    from sqlalchemy import select
    from sqlalchemy.exc import DBAPIError

    if table is not None and table not in INGESTIBLE_TABLES:
        raise _fail(f"unknown table {table!r}; allowed: {', '.join(INGESTIBLE_TABLES)}")
    try:
        engine = _open_for_reading(archive)
    except ArchiveError as exc:
        raise _fail(str(exc)) from exc
    r = ingest_rejects.c
    query = (select(r.table_name, r.source, r.line, r.reason, r.raw)
             .order_by(r.table_name, r.source, r.line.nulls_last(), r.id).limit(limit))
    if table is not None:
        query = query.where(r.table_name == table)
    if source:
        query = query.where(r.source.contains(source, autoescape=True))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    engine.dispose()
    if as_json:
        for row in rows:
            typer.echo(json.dumps(dict(row._mapping)))
        return
    if not rows:
        out.print("no rejects" + (f" for {table}" if table else ""))
        return
    grid = Table(show_header=True, show_lines=False)
    for name in ("table", "source", "line", "reason", "raw"):
        grid.add_column(name, overflow="fold")
    for row in rows:
        raw = row.raw or ""
        grid.add_row(row.table_name, row.source, str(row.line), row.reason, raw if len(raw) <= 200 else raw[:199] + "…")
    out.print(grid)


def _open_for_reading(archive: str) -> Engine:
    """Open read-only (so other readers may share the file); one-line `ArchiveError` when it is unusable."""
    from icp_mcp.archive.opening import open_checked

    return open_checked(archive, read_only=True)


def register(app: typer.Typer) -> None:
    """Add the archive commands (ingest, rejects) to the `icp-mcp` app."""
    app.command("ingest")(ingest)
    app.command("rejects")(rejects)

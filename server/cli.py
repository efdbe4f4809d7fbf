"""The `icp-mcp` command line: one typer app; each command group lives in its own `cli_*` module."""

from __future__ import annotations

import typer

from icp_mcp.archive.errors import ArchiveError
from icp_mcp.server.cli_console import LazyConsole
from icp_mcp.surface.settings import ARCHIVE_HELP

app = typer.Typer(
    name="icp-mcp",
    help="Your Ideal Customer Profile as a live query over your own buyer archive, served over MCP.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: rich's panels cost ~0.15 s of every --help
)
console = LazyConsole(stderr=True)


@app.callback()
def _root() -> None:
    """icp-mcp: build, query and serve your ICP from your buyer archive."""


@app.command()
def init(archive: str = typer.Option(..., "--archive", help=ARCHIVE_HELP)) -> None:
    """Create the archive (every table of the buyer archive schema); safe to run twice."""
    from icp_mcp.archive import generation
    from icp_mcp.archive.db import create_schema
    from icp_mcp.archive.opening import open_checked
    from icp_mcp.archive.schema_version import SchemaVersionError

    try:
        engine = open_checked(archive, create=True)
        created = create_schema(engine)
        with engine.begin() as conn:
            generation.bump(conn)  # a (re)initialised archive starts a new generation
        engine.dispose()
    except (ArchiveError, SchemaVersionError) as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    console.print(f"archive ready at {archive}: {len(created)} table(s) created")


@app.command()
def migrate(archive: str = typer.Option(..., "--archive", help=ARCHIVE_HELP)) -> None:
    """Bring an archive made by an older icp-mcp to this release's schema (one transaction)."""
    from icp_mcp.archive.db import check_schema
    from icp_mcp.archive.opening import open_checked
    from icp_mcp.archive.schema_version import SchemaVersionError
    from icp_mcp.archive.schema_version import migrate as migrate_schema

    try:
        engine = open_checked(archive, migrate=False)  # connect and diagnose only; the migration is below
        before, after = migrate_schema(engine)
        check_schema(engine)
    except (ArchiveError, SchemaVersionError) as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    engine.dispose()
    if before == after:
        console.print(f"{archive} is at schema revision {after}; nothing to do", highlight=False)
    else:
        console.print(f"{archive}: schema revision {before} → {after}", highlight=False)


def _register_groups() -> None:
    """Attach the command groups that live in their own modules (each imports its heavy parts, such as
    SQLAlchemy, the engine, the MCP SDK, anthropic or uvicorn, inside the command that uses them)."""
    import importlib

    for module_name in ("cli_archive", "cli_demo", "cli_icp", "cli_serve", "cli_auth"):
        importlib.import_module(f"icp_mcp.server.{module_name}").register(app)


_register_groups()


def main() -> None:
    """Console-script entry point."""
    app()

"""`icp-mcp icp …`: derive, show, export, import, activate, roll back, backtest and score ICP versions."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from icp_mcp.archive.errors import ArchiveError
from icp_mcp.engine.model.errors import EngineError
from icp_mcp.server.cli_console import LazyConsole
from icp_mcp.surface.settings import ARCHIVE_HELP

if TYPE_CHECKING:  # rich is imported by the commands that draw
    from rich.progress import Progress

icp = typer.Typer(rich_markup_mode=None, help="Derive, inspect, version and test the ICP.", no_args_is_help=True)
out = LazyConsole(soft_wrap=True)
err = LazyConsole(stderr=True, soft_wrap=True)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn bad input into one red line and exit code 2, never a traceback."""
    try:
        yield
    except EngineError as exc:
        err.print(f"[red]error:[/red] {exc}")
        candidates = getattr(exc, "candidates", None)
        for c in candidates or []:
            err.print(f"  candidate: {c}")
        raise typer.Exit(2) from None
    except ArchiveError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def _fail_line(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


@contextmanager
def _archive(target: str, *, read_only: bool = False) -> Iterator:
    """Open the archive for one command and release it afterwards (DuckDB allows one configuration per file
    and process); an unusable archive is one `ArchiveError` line (`_errors`)."""
    from icp_mcp.archive.opening import open_checked

    engine = open_checked(target, read_only=read_only)
    try:
        yield engine
    finally:
        engine.dispose()


def _progress() -> tuple[Progress, Callable[[float, float | None, str], None]]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err.real, transient=True)
    task = bar.add_task("deriving", total=None)

    def report(done: float, total: float | None, message: str) -> None:
        bar.update(task, completed=done, total=total, description=message)

    return bar, report


@icp.command()
def derive(
    archive: str = typer.Option(..., "--archive", help=ARCHIVE_HELP),
    closed_before: str | None = typer.Option(None, help="Only deals closed before this date (YYYY-MM-DD)."),
    best_top_n: int | None = typer.Option(None, help="Positives = the top N customers by value."),
    positives: str | None = typer.Option(None, help="retained (default) or best (the best-customer cohort)."),
    name: str | None = typer.Option(None, help="Name of the ICP."),
    activate: bool = typer.Option(False, "--activate", help="Activate the new version at once."),
    by: str | None = typer.Option(None, help="Who derives (recorded with the version)."),
    note: str | None = typer.Option(None, help="A note stored with the version."),
) -> None:
    """Derive a new ICP from the archive and store it as a draft version (or active with --activate).

    Exits with code 3, storing nothing, when the archive has fewer closed deals than a derivation needs."""
    from icp_mcp.server.write_client import run_write, said_state, who

    args = {"closed_before": closed_before, "best_top_n": best_top_n, "positives": positives, "name": name,
            "activate": activate, "by": who(by), "note": note}
    r = run_write(archive, "icp.derive", args, err)
    said_state(err, r)
    minor = f" (+{r['minor']} minor)" if r["minor"] else ""
    out.print(f"ICP version {r['version']} ({r['status']}): {r['criteria']} criteria{minor}, "
              f"{r['segments']} segments, {r['disqualifiers']} disqualifiers, "
              f"{r['unsupported']} unsupported statements")
    if not activate:
        out.print(f"activate it with: icp-mcp icp activate {r['version']} --archive {archive}")


@icp.command()
def show(
    archive: str = typer.Option(..., "--archive", help=ARCHIVE_HELP),
    version: int | None = typer.Option(None, help="Version number (default: the active one)."),
    raw: bool = typer.Option(False, "--raw", help="Print the markdown source instead of rendering it."),
) -> None:
    """Print an ICP version as readable markdown with its evidence."""
    from icp_mcp.engine.model.render import to_markdown
    from icp_mcp.engine.sql.versions import get_version

    with _errors(), _archive(archive, read_only=True) as engine:
        stored = get_version(engine, version)
    text = f"_version {stored.version}, {stored.status}, by {stored.created_by} at {stored.created_at:%Y-%m-%d %H:%M}_\n\n"
    text += to_markdown(stored.definition)
    if raw:
        print(text)
    else:
        from rich.markdown import Markdown

        out.print(Markdown(text))


@icp.command("list")
def list_(archive: str = typer.Option(..., "--archive", help=ARCHIVE_HELP)) -> None:
    """List the stored ICP versions, newest first."""
    from rich.table import Table
    from icp_mcp.engine.sql.versions import list_versions

    with _errors(), _archive(archive, read_only=True) as engine:
        versions = list_versions(engine)
    table = Table("version", "status", "name", "criteria", "disqualifiers", "created", "by", "note")
    for v in versions:
        table.add_row(str(v.version), v.status, v.name, str(v.criteria), str(v.disqualifiers),
                      f"{v.created_at:%Y-%m-%d %H:%M}", v.created_by, v.note or "")
    out.print(table)


@icp.command()
def export(
    archive: str = typer.Option(..., "--archive", help=ARCHIVE_HELP),
    version: int | None = typer.Option(None, help="Version number (default: the active one)."),
    format: str = typer.Option("yaml", "--format", help="yaml or json."),
    output: Path | None = typer.Option(None, "--out", help="Write to this file instead of stdout."),
) -> None:
    """Export an ICP version as YAML or JSON (hand-edit it and `icp import` it back)."""
    from icp_mcp.engine.sql.versions import export_definition, get_version

    with _errors():
        if format not in ("yaml", "json"):
            raise EngineError("format", f"unknown format {format!r}", ["yaml", "json"])
        with _archive(archive, read_only=True) as engine:
            text = export_definition(get_version(engine, version).definition, format)
    if output:
        output.write_text(text)
        err.print(f"wrote {output}")
    else:
        print(text, end="")


@icp.command("import")
def import_(
    path: Path = typer.Argument(..., help="A YAML or JSON ICP definition."),
    archive: str = typer.Option(..., "--archive", help=ARCHIVE_HELP),
    activate: bool = typer.Option(False, "--activate", help="Activate the imported version at once."),
    by: str | None = typer.Option(None, help="Who imports (recorded with the version)."),
    note: str | None = typer.Option(None, help="A note stored with the version."),
) -> None:
    """Import a (hand-written) ICP definition as a new version; tier cut-offs are computed when missing."""
    from icp_mcp.server.write_client import run_write, said_state, who

    if not path.exists():
        raise _fail_line(f"path: no such file: {path}")
    args = {"path": str(path.expanduser().absolute()), "activate": activate, "by": who(by), "note": note}
    r = run_write(archive, "icp.import", args, err)
    said_state(err, r)
    out.print(f"imported {path} as ICP version {r['version']} ({r['status']})")


@icp.command()
def activate(
    version: int = typer.Argument(..., help="The version to activate."),
    archive: str = typer.Option(..., "--archive", help=ARCHIVE_HELP),
    by: str | None = typer.Option(None, help="Who activates."),
) -> None:
    """Make a version the active ICP (the previous one is retired)."""
    from icp_mcp.server.write_client import run_write, said_state, who

    r = run_write(archive, "icp.activate", {"version": version, "by": who(by)}, err)
    said_state(err, r)
    out.print(f"ICP version {r['version']} ({r['name']}) is active")


@icp.command()
def rollback(
    archive: str = typer.Option(..., "--archive", help=ARCHIVE_HELP),
    by: str | None = typer.Option(None, help="Who rolls back."),
) -> None:
    """Reactivate the version that was active before the current one."""
    from icp_mcp.server.write_client import run_write, said_state, who

    r = run_write(archive, "icp.rollback", {"by": who(by)}, err)
    said_state(err, r)
    out.print(f"rolled back: ICP version {r['version']} ({r['name']}) is active")


@icp.command()
def refresh(archive: str = typer.Option(..., "--archive", help=ARCHIVE_HELP)) -> None:
    """Store the active ICP's state for today (activation and ingest do it; on a large archive run it daily,
    e.g. from cron after midnight, so the first question of the day is answered from stored state)."""
    from icp_mcp.server.write_client import run_write, said_state

    r = run_write(archive, "icp.refresh", {}, err)
    if r["state"]["version"] is not None:
        said_state(out, r)
    else:
        out.print("no active ICP: nothing to store")


@icp.command()
def backtest(
    archive: str = typer.Option(..., "--archive", help=ARCHIVE_HELP),
    split_date: str = typer.Option(..., "--split-date", help="Derive on deals closed before it, test on deals "
                                   "created on or after it (YYYY-MM-DD)."),
    positives: str | None = typer.Option(None, help="retained (default) or best."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Time-split backtest: AUC, tier table, top-tier lift and Brier score."""
    from rich.table import Table
    from icp_mcp.engine.derivation.backtest import backtest as run
    from icp_mcp.server.write_ops import parse_date

    with _errors(), _archive(archive, read_only=True) as engine:
        bar, report = _progress()
        with bar:
            result = run(engine, parse_date(split_date, "split_date"), positives=positives, progress=report)
    if as_json:
        print(json.dumps(result.model_dump(mode="json"), indent=2))
        return
    ci = f" (95% CI {result.auc_interval[0]:.3f}–{result.auc_interval[1]:.3f})" if result.auc_interval else ""
    out.print(f"split {result.split_date}: {result.train_deals} training deals, {result.criteria} criteria; "
              f"{result.n} test deals, {result.wins} won")
    out.print(f"AUC {result.auc if result.auc is not None else 'n/a'}{ci}; Brier {result.brier}; "
              f"top-tier lift {result.top_tier_lift}")
    table = Table("tier", "deals", "share of deals", "wins", "share of wins", "win rate", "95% CI")
    for t in result.tiers:
        table.add_row(t.tier, str(t.deals), f"{t.share_deals:.1%}", str(t.wins), f"{t.share_wins:.1%}",
                      "n/a" if t.win_rate is None else f"{t.win_rate:.1%}",
                      f"{t.interval[0]:.0%}–{t.interval[1]:.0%}")
    out.print(table)
    for note in result.notes:
        out.print(f"note: {note}")


@icp.command()
def score(
    account: str | None = typer.Argument(None, help="Account id, domain or name."),
    archive: str = typer.Option(..., "--archive", help=ARCHIVE_HELP),
    all_accounts: bool = typer.Option(False, "--all", help="Score every account and print the tier counts."),
    version: int | None = typer.Option(None, help="Version number (default: the active one)."),
) -> None:
    """Score one account (or --all) against an ICP version."""
    from icp_mcp.engine.scoring.results import AccountCandidates
    from icp_mcp.engine.scoring.one import score_account
    from icp_mcp.engine.scoring.batch import score_all
    from icp_mcp.engine.sql.versions import get_version

    with _errors(), _archive(archive, read_only=True) as engine:
        definition = get_version(engine, version).definition
        if all_accounts:
            out.print_json(score_all(engine, definition).model_dump_json())
            return
        if account is None:
            raise EngineError("account", "give an account id, domain or name, or --all")
        result = score_account(engine, definition, account=account)
    if isinstance(result, AccountCandidates):
        out.print(result.message)
        for c in result.candidates:
            out.print(f"  {c.account_id}  {c.name}  {c.domain or ''}")
        return
    out.print_json(result.model_dump_json())


def register(app: typer.Typer) -> None:
    """Attach the `icp` command group to the main CLI."""
    app.add_typer(icp, name="icp")

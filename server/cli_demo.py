"""`icp-mcp demo build|summary`: write a synthetic archive with planted truths, and show what is in one."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from icp_mcp.archive.errors import ArchiveError
from icp_mcp.server.cli_console import LazyConsole

console = LazyConsole()
demo_app = typer.Typer(rich_markup_mode=None, help="Build a demo archive with planted ICP truths, or summarise one.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Attach the `demo` command group to the root CLI."""
    app.add_typer(demo_app, name="demo")


@demo_app.command("build")
def build(
    out: Path = typer.Option(..., "--out", help="DuckDB file to write (replaced atomically when it exists)."),
    size: str = typer.Option("S", "--size", help="S = 2k accounts, M = 100k, L = 1M."),
    seed: int = typer.Option(7, "--seed", help="Random seed; same seed and as-of give identical rows."),
    drift: bool = typer.Option(False, "--drift", help="Shift who wins in the last 90 days (for check_drift)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Last day with data, YYYY-MM-DD (default: today, UTC)."),
) -> None:
    """Generate a demo archive and its truth manifest `<out>.truth.json`."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from icp_mcp.archive.demo import SIZES, build_demo
    from icp_mcp.archive.demo.manifest import manifest_path

    size = size.upper()
    if size not in SIZES:
        raise typer.BadParameter(f"must be one of {', '.join(SIZES)}", param_hint="--size")
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError as exc:
        raise typer.BadParameter("expected YYYY-MM-DD", param_hint="--as-of") from exc
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
               TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"building {size} demo", total=1.0)

        def progress(done: float, total: float | None, message: str) -> None:
            bar.update(task, completed=done / (total or 1.0), description=f"{size}: {message}")

        manifest = build_demo(out, size=size, seed=seed, drift=drift, as_of=day, progress=progress)
    console.print(
        f"wrote {out} ({manifest.counts.get('accounts', 0):,} accounts, "
        f"{manifest.counts.get('opportunities', 0):,} opportunities, "
        f"{manifest.counts.get('conversations', 0):,} conversations) in {manifest.build_seconds:.1f}s; "
        f"truths in {manifest_path(out)}"
    )


@demo_app.command("summary")
def summary(archive: Path = typer.Option(..., "--archive", help="A demo DuckDB file.")) -> None:
    """Row counts, win rate, ARR, date ranges and the planted truths of a demo archive."""
    from rich.table import Table
    from icp_mcp.archive.demo.manifest import manifest_path, read_manifest
    from icp_mcp.archive.demo.summary import summarize

    try:
        facts = summarize(archive)
    except ArchiveError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc

    counts = Table(title=f"{archive}", show_lines=False)
    counts.add_column("table")
    counts.add_column("rows", justify="right")
    for name, rows in facts.counts.items():
        counts.add_row(name, f"{rows:,}")
    console.print(counts)

    headline = Table(title="Headline", show_header=False)
    headline.add_column("what")
    headline.add_column("value", justify="right")
    rate = f"{facts.win_rate:.1%}" if facts.win_rate is not None else "n/a"
    headline.add_row("win rate (closed deals)", f"{rate}  ({facts.won_deals:,} won / {facts.closed_deals:,} closed)")
    headline.add_row("open deals", f"{facts.open_deals:,}")
    headline.add_row("current ARR", f"${facts.current_arr:,.0f}")
    headline.add_row("customers (retained / ever)", f"{facts.retained_customers:,} / {facts.customers:,}")
    for label, (lo, hi) in facts.ranges.items():
        headline.add_row(label, f"{lo} → {hi}")
    console.print(headline)

    if not manifest_path(archive).exists():
        console.print(f"[yellow]no manifest at {manifest_path(archive)}: not a demo archive[/yellow]")
        return
    _print_truths(read_manifest(archive))


def _rate(observed: dict) -> str:
    if not observed or observed.get("win_rate") is None:
        return "n/a"
    return f"{observed['win_rate']:.1%} (n={observed['n']:,})"


def _print_truths(m) -> None:
    from rich.table import Table
    console.print(f"[bold]Planted truths[/bold] (seed {m.seed}, size {m.size}, as of {m.as_of}, "
                  f"drift {'on' if m.drift_enabled else 'off'})")
    truths = Table(show_lines=False)
    for col in ("kind", "id", "definition", "planted", "observed"):
        truths.add_column(col)
    truths.add_row("base", "outside segments", "", f"{m.base_win_rate:.0%}", _rate(m.observed_base))
    for s in m.segments:
        definition = " and ".join(
            f"{c.attribute} in {c.values}" if c.values is not None else f"{c.attribute} {c.min:g}–{c.max:g}"
            for c in s.conditions
        )
        truths.add_row("segment", s.id, definition, f"{s.win_rate:.0%}", _rate(s.observed))
    for d in m.disqualifiers:
        truths.add_row("disqualifier", d.id, f"{d.attribute} in {d.values}", f"{d.win_rate:.0%}", _rate(d.observed))
    for p in m.personas:
        truths.add_row("persona", p.role, ", ".join(p.titles), f"lift {p.lift:g}", f"lift {p.observed.get('lift')}")
    for t in m.triggers:
        truths.add_row("trigger", t.kind, f"within {t.window_days} days before a deal",
                       f"×{t.win_rate_multiplier:g}", f"{_rate(t.observed.get('with', {}))} vs "
                       f"{_rate(t.observed.get('without', {}))}")
    fa = m.feature_adoption
    obs = fa.get("observed", {})
    truths.add_row("adoption", fa["feature"], f"in {fa['segment']}",
                   f"{fa['rates']['segment']:.0%} vs {fa['rates']['other']:.0%}",
                   f"{obs.get('adoption_segment', 0):.0%} vs {obs.get('adoption_other', 0):.0%}; churn "
                   f"{obs.get('churn_adopters', 0):.1%} vs {obs.get('churn_non_adopters', 0):.1%}")
    for theme in m.pricing_themes:
        truths.add_row("pricing theme", theme.id, theme.label, ", ".join(theme.keywords),
                       f"{len(m.best_customer_ids)} best customers")
    if m.drift:
        o = m.drift.get("observed", {})
        truths.add_row("drift", m.drift["attribute"], f"last {m.drift['window_days']} days: "
                       f"{m.drift['emerging_values']} up, {m.drift['weakened_segment']} down",
                       f"{m.drift['emerging_win_rate']:.0%} / {m.drift['weakened_win_rate']:.0%}",
                       f"{_rate(o.get('emerging_recent', {}))} / {_rate(o.get('weakened_recent', {}))}")
    console.print(truths)
    console.print(f"noise attributes (no signal): {', '.join(m.noise_attributes)}; "
                  f"won deals closed in the last 90 days: {m.wins_last_90_days:,}")

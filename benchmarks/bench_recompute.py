"""Warm recomputation of check_drift and a free-text customer_voice, in process, nothing kept.

    python benchmarks/bench_recompute.py --archive benchmarks/out/icp_L.duckdb            # read-only
    python benchmarks/bench_recompute.py --archive ... --only drift --repeat 5 --statements 3

peers.py's warm figures are kept answers (cache hits); this measures what a call costs when it must compute:
the engine's cache is cleared before every call and each call asks something new (drift: a recent window one
week longer each time; voice: another question). Per call it prints wall and process CPU time (DuckDB's
threads included: steadier than wall on a shared machine), the statements run, and the slowest of them
(SQLAlchemy before/after_cursor_execute). The first call of the process also pays DuckDB's first touch of
the columns it reads.
"""

from __future__ import annotations

import json
import logging
import resource
import statistics
import time
from datetime import date, timedelta
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy import event

from icp_mcp.archive.db import open_archive
from icp_mcp.engine.model.windows import resolve_window
from icp_mcp.engine.questions import drift, voice
from icp_mcp.engine.questions.cohorts import resolve_cohort
from icp_mcp.engine.sql import cache, versions

console = Console(width=160)
logging.getLogger("icp_mcp").setLevel(logging.ERROR)
QUESTIONS = ("annual prepay discount", "pricing too expensive", "sso integration", "onboarding support slow",
             "renewal contract", "security review", "data export", "migration help")


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(
    archive: Path = typer.Option(..., help="An archive with an active ICP (opened read-only)."),
    only: str = typer.Option("drift,voice", help="Comma-separated: drift, voice."),
    repeat: int = typer.Option(5, min=1, max=50, help="Calls per journey."),
    statements: int = typer.Option(3, min=0, max=20, help="Slowest statements shown per call."),
) -> None:
    manifest = Path(str(archive) + ".truth.json")
    as_of = json.loads(manifest.read_text())["as_of"] if manifest.exists() else date.today().isoformat()
    engine = open_archive(archive, read_only=True)
    seen: list[tuple[float, str]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info["bench_t0"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append((time.perf_counter() - conn.info.pop("bench_t0"), " ".join(statement.split())[:110]))

    definition = versions.active_icp(engine)

    def drift_call(i: int) -> str:
        recent = resolve_window(f"{90 + 7 * i}d", None, as_of, fields=("window", "until"))
        r = drift.check_drift(engine, definition, recent=recent)
        return f"{90 + 7 * i}d: {r.verdict}, {r.recent_wins} / {r.baseline_wins} wins"

    def voice_call(i: int) -> str:
        question = QUESTIONS[i % len(QUESTIONS)]
        window = resolve_window("90d", None, as_of)
        cohort = resolve_cohort(engine, "icp", definition=definition, closed_before=window.as_of + timedelta(days=1))
        with engine.connect() as conn:
            r = voice.customer_voice(conn, window=window, cohort=cohort.ids, cohort_label=cohort.label,
                                     question=question, value=voice.value_selectable(engine), limit=10)
        return f"{question!r}: {r.total} snippets, {r.accounts} accounts"

    calls = {"drift": drift_call, "voice": voice_call}
    for name in [j.strip() for j in only.split(",") if j.strip()]:
        walls = []
        for i in range(repeat):
            cache.clear()
            seen.clear()
            c, t = _cpu(), time.perf_counter()
            what = calls[name](i)
            wall, cpu = time.perf_counter() - t, _cpu() - c
            walls.append(wall)
            console.print(f"{name} #{i}: {wall * 1000:7.0f} ms wall, {cpu * 1000:6.0f} ms CPU, "
                          f"{len(seen)} statements — {what}")
            for took, sql in sorted(seen, reverse=True)[:statements]:
                console.print(f"      {took * 1000:7.0f} ms  {sql}")
        warm = walls[1:] or walls
        console.print(f"[bold]{name}[/bold]: first {walls[0] * 1000:.0f} ms, recomputed p50 "
                      f"{statistics.median(warm) * 1000:.0f} ms, max {max(warm) * 1000:.0f} ms")
    engine.dispose()


if __name__ == "__main__":
    typer.run(main)

"""`check_drift`: has the ICP drifted? Recent wins vs the wins the active ICP was derived from."""

from __future__ import annotations

from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from pydantic import Field

from icp_mcp.engine.questions import drift
from icp_mcp.engine.questions.drift import EmergingValue, Reason, SegmentMove
from icp_mcp.engine.model.windows import resolve_window
from icp_mcp.engine.sql.versions import active_icp
from icp_mcp.surface.visibility import group_k, withheld, withheld_note
from icp_mcp.surface.archive_access import ArchiveHandle
from icp_mcp.surface.arguments import AsOf, Detail, recent_window
from icp_mcp.surface.runner import ToolRun, ToolSpec, register_tool, retype, run_tool

SPEC = ToolSpec(name="check_drift", title="Check the ICP for drift", pure=True)
DEFAULT_WINDOW = "90d"
Window = recent_window(DEFAULT_WINDOW)


class CheckDriftResult(drift.DriftReport):
    """Verdict (stable / watch / refresh / insufficient_data) with the evidence behind it."""


def answer(run: ToolRun, window: str | None, baseline: str | None, as_of: str | None,
           detail: bool = False) -> CheckDriftResult:
    """Resolve the windows and compare against the active ICP. The compact default lists the values behind
    the PSI only for attributes that moved (level watch or shift); `detail` lists them for all."""
    recent = resolve_window(window or DEFAULT_WINDOW, None, as_of, fields=("window", "until"))
    report = drift.check_drift(run.engine, active_icp(run.engine), recent=recent, baseline=baseline)
    segments, emerging, reasons, summary = _suppress_small(run, report)
    psi = report.psi if detail else [p if p.level != "stable" else p.model_copy(update={"top_values": []})
                                     for p in report.psi]
    return retype(CheckDriftResult, report, summary=summary, reasons=reasons, segments=segments, emerging=emerging,
                  psi=psi)


def _suppress_small(run: ToolRun, report: drift.DriftReport
                    ) -> tuple[list[SegmentMove], list[EmergingValue], list[Reason], str]:
    """Small aggregates (issue 6): without account-level access, segment and emerging-value rates resting on
    fewer than k deals are left out (and their reasons made anonymous); the summary says how many."""

    def small(n: int) -> bool:
        return withheld(run.principal, n)

    hidden_segments = {m.segment for m in report.segments
                       if small(m.win_rate.recent.n) or small(m.win_rate.baseline.n)}
    hidden_values = {(e.attribute, e.value) for e in report.emerging if small(e.recent_win_rate.n)}
    segments = [m for m in report.segments if m.segment not in hidden_segments]
    emerging = [e for e in report.emerging if (e.attribute, e.value) not in hidden_values]
    k = group_k(run.principal)
    reasons = []
    for reason in report.reasons:
        named = {(reason.attribute, v) for v in reason.values}
        if (reason.kind == "segment" and hidden_segments & set(reason.values)) or (
                reason.kind == "emerging" and hidden_values & named):
            reason = reason.model_copy(update={
                "attribute": None, "values": [],
                "text": f"a group resting on fewer than {k} deals moved (withheld: figures on small groups need "
                        "account-level access)"})
        reasons.append(reason)
    hidden = len(hidden_segments) + len(hidden_values)
    summary = report.summary
    if hidden:
        summary += " " + withheld_note(run.principal, hidden, unit="deals")
    return segments, emerging, reasons, summary


def register(server: MCPServer, archive: ArchiveHandle) -> None:
    """Add the tool."""

    @register_tool(server, SPEC)
    async def check_drift(
        ctx: Context,
        window: Window = None,
        baseline: Annotated[str | None, Field(
            description="YYYY-MM-DD..YYYY-MM-DD (default: the ICP's derivation window)")] = None,
        as_of: AsOf = None,
        detail: Detail = False,
    ) -> CheckDriftResult:
        """Has the ICP drifted: recent wins vs the ICP's derivation window (in-ICP share, PSI per
        attribute, segments, emerging values, null rates). Verdict stable, watch or refresh with reasons."""
        args = {"window": window, "baseline": baseline, "as_of": as_of}
        return await run_tool(ctx, archive, SPEC, {**args, "detail": detail},
                              lambda run: answer(run, window, baseline, as_of, detail))

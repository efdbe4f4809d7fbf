"""Readable markdown of an ICP definition, with its evidence (CLI `icp show`, resource icp://current)."""

from __future__ import annotations

from icp_mcp.engine.model.numbers import count, pct
from icp_mcp.engine.model.profile import Evidence, ICPDefinition


def _ev(e: Evidence | None, what: str = "best") -> str:
    if e is None:
        return "manual (no evidence)"
    lift = f", lift {e.lift:.2f}" if e.lift is not None else ""
    return (f"{count(e.positives)}/{count(e.n)} {what} = {pct(e.rate)} "
            f"(95% CI {pct(e.interval[0])}–{pct(e.interval[1])}{lift})")


def to_markdown(definition: ICPDefinition) -> str:
    """The definition as markdown: segments, scorecard, disqualifiers, personas, tiers, unsupported."""
    d = definition
    pos = "best" if d.method.get("positives") == "best" else "retained"
    out = [f"# ICP: {d.name}", ""]
    if d.description:
        out += [d.description, ""]
    window = f"{d.closed_from} … {d.closed_to}" if d.closed_from else "n/a"
    base = pct(d.base_rate, 1) if d.base_rate is not None else "n/a"
    out += [
        f"- derived at {d.derived_at:%Y-%m-%d %H:%M} from deals closed {window}",
        f"- worked accounts n = {count(d.population)}, positives {count(d.positives)} (base rate {base})",
        f"- positives: {d.best_rule or 'n/a'}",
        "",
        "## Segments",
    ]
    if not d.segments:
        out.append("_No segment is supported by the data._")
    for s in d.segments:
        conds = " AND ".join(c.describe() for c in s.conditions)
        bonus = f" (+{s.points} bonus points)" if s.points else ""
        shares = ", ".join(f"{pct(x)} of {what}" for x, what in ((s.share_accounts, "accounts"),
                           (s.share_wins, "wins"), (s.share_revenue, "revenue")) if x is not None)
        out.append(f"- **{s.id} {s.name}**: {conds} — {_ev(s.evidence, pos)}{bonus}"
                   + (f"; {shares}" if shares else ""))
    out += ["", "## Scorecard (20 points double the odds)", ""]
    shown = [c for c in d.criteria if not c.minor]
    if shown:
        out += ["| id | criterion | points | evidence | source |", "|---|---|---:|---|---|"]
        for c in shown:
            what = "won deals" if c.attribute == "trigger" else pos
            out.append(f"| {c.id} | {c.describe()} | {c.points:+d} | {_ev(c.evidence, what)} | {c.source} |")
    else:
        out.append("_No criterion clears the base rate._")
    if len(shown) < len(d.criteria):
        out += ["", f"_{len(d.criteria) - len(shown)} minor criteria (weaker lines) also count in the score; "
                "see the JSON export._"]
    out += ["", "## Disqualifiers (force tier D)", ""]
    if not d.disqualifiers:
        out.append("_None._")
    for r in d.disqualifiers:
        what = "won" if r.metric == "win_rate" else "retained"
        out.append(f"- **{r.id}** ({r.describe()}): {r.sentence or _ev(r.evidence, what)}")
    if d.triggers:
        out += ["", "## Triggers", ""]
        for t in d.triggers:
            out.append(f"- {t.kind} within {t.window_days} days before a deal: {t.points:+d} points — "
                       f"{_ev(t.evidence, 'won deals')}")
    if d.personas:
        out += ["", "## Personas (win rate on closed deals)", ""]
        for p in d.personas:
            label = f"role {p.role}" if p.kind == "role" else f"title {p.title}"
            topics = ", ".join(f"{t.topic} ({t.n})" for t in p.topics) or "no tagged snippets"
            flag = "" if p.supported else " _(not distinguishable from base)_"
            out.append(f"- {label}: {_ev(p.evidence, 'won')}{flag}; raises: {topics}")
    out += ["", "## Tiers and calibration", ""]
    if d.tiers:
        out.append(f"- A ≥ {d.tiers.a:g} points, B ≥ {d.tiers.b:g}, C ≥ {d.tiers.c:g}, else D "
                   f"(shares {', '.join(pct(x) for x in d.tiers.shares)}); a disqualifier forces D")
    else:
        out.append("- tier cut-offs not set (computed on the archive when scoring)")
    if d.calibration:
        out.append(f"- win probability = 1 / (1 + exp(-({d.calibration.a:.3g} · points {'+' if d.calibration.b >= 0 else '−'} {abs(d.calibration.b):.3g}))), "
                   f"fitted on n = {count(d.calibration.n)} closed deals")
    if d.unsupported:
        out += ["", "## Not supported by the data", ""]
        out += [f"- {u}" for u in d.unsupported]
    return "\n".join(out) + "\n"

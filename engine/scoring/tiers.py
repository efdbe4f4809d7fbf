"""Tier cut-offs (points quantiles over every account) and Platt calibration of win probability."""

from __future__ import annotations

import math
from datetime import date

from sqlalchemy import Connection, Engine, Float, FromClause, cast, func, select

from icp_mcp.archive.clock import utc_now
from icp_mcp.engine.model import stats
from icp_mcp.engine.model.errors import EngineError
from icp_mcp.engine.model.profile import Calibration, ICPDefinition, Tiers
from icp_mcp.engine.sql.cache import cached
from icp_mcp.engine.sql.points import deal_groups_query, points_query


def points_histogram(engine: Engine, definition: ICPDefinition) -> list[tuple[float, int, int]]:
    """(points, disqualified, accounts) over every account."""
    p = points_query(definition, as_of=utc_now()).subquery("p")
    with engine.connect() as conn:
        rows = conn.execute(
            select(p.c.points, p.c.disqualified, func.count()).group_by(p.c.points, p.c.disqualified)
        ).all()
    return [(float(a), int(b), int(c)) for a, b, c in rows]


def cut_offs(histogram: list[tuple[float, int, int]], shares: tuple[float, float, float] = (0.15, 0.20, 0.30)
             ) -> Tiers:
    """Point cut-offs for A (top 15%), B (next 20%), C (next 30%) of scored accounts; the floor is never C."""
    scored = [(p, n) for p, d, n in histogram if not d]
    if not scored:
        return Tiers(a=math.inf, b=math.inf, c=math.inf, shares=shares)
    floor = min(p for p, _ in scored)
    above = sorted({p for p, _ in scored if p > floor})
    lift_floor = above[0] if above else floor + 1
    cuts = []
    acc = 0.0
    for share in shares:
        acc += share
        cut = stats.quantile_cut(scored, acc)
        cuts.append(cut if cut > floor else lift_floor)
    a, b, c = cuts
    b, c = min(b, a), min(c, b, a)
    return Tiers(a=a, b=b, c=c, shares=shares)


def ensure_tiers(engine: Engine | None, definition: ICPDefinition) -> ICPDefinition:
    """The definition with tier cut-offs (computed on the archive when it has none, e.g. hand-written YAML)."""
    if definition.tiers is not None:
        return definition
    if engine is None:
        raise EngineError("tiers", "the definition has no tier cut-offs; pass the archive engine to compute them")
    key = ("tiers", definition.model_dump_json(exclude={"derived_at"}))
    tiers = cached(engine, key, lambda: cut_offs(points_histogram(engine, definition)))
    return definition.model_copy(update={"tiers": tiers})


def tiers_and_calibration(conn: Connection, definition: ICPDefinition, points: FromClause, *,
                          closed_before: date | None = None, deal_kinds: FromClause | None = None
                          ) -> ICPDefinition:
    """Tier cut-offs (on every account) and Platt calibration (on won/lost deals before the cut), from the
    accounts' `points` scored once by the caller (account_id, points without trigger lines, triggers as of
    now, disqualified; `points.points_parts_query`): the histogram adds the trigger lines, the deal groups
    each deal's own triggers (`deal_kinds`: the closed deals' signal kinds, when the caller holds them)."""
    p = points
    total = cast(p.c.points + p.c.triggers, Float)
    rows = conn.execute(select(total, p.c.disqualified, func.count()).group_by(total, p.c.disqualified)).all()
    groups = conn.execute(deal_groups_query(definition, closed_before=closed_before, points=p,
                                            deal_kinds=deal_kinds)).all()
    tiers = cut_offs([(float(a), int(b), int(c)) for a, b, c in rows])
    # one order on every engine (the fit sums over the groups)
    fit = sorted((float(x), int(n), int(w)) for x, d, n, w in groups if not d)
    calibration = None
    if fit:
        a, b = stats.platt_grouped(fit)
        calibration = Calibration(a=round(a, 6), b=round(b, 6), n=sum(n for _, n, _ in fit))
    return definition.model_copy(update={"tiers": tiers, "calibration": calibration})

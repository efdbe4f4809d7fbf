"""Time-split backtest: derive on deals closed before D, score the closed deals created on or after D."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from pydantic import BaseModel, Field
from sqlalchemy import Engine

from icp_mcp.engine.model import stats
from icp_mcp.engine.derivation.derive import Progress, derive_icp
from icp_mcp.engine.sql.points import deal_groups_query
from icp_mcp.engine.model.profile import TIERS, ICPDefinition
from icp_mcp.engine.scoring.tiers import ensure_tiers


class TierRow(BaseModel):
    tier: str
    deals: int
    share_deals: float
    wins: int
    share_wins: float
    win_rate: float | None
    interval: tuple[float, float]


class BacktestReport(BaseModel):
    split_date: date
    n: int = Field(description="closed test deals scored")
    wins: int
    base_rate: float | None
    auc: float | None
    auc_interval: tuple[float, float] | None
    brier: float | None
    top_tier_lift: float | None = Field(description="win rate in tier A / overall test win rate")
    tiers: list[TierRow]
    train_deals: int
    criteria: int
    positives_rule: str | None = None
    notes: list[str] = Field(default_factory=list)


def _tier_rows(definition: ICPDefinition, groups) -> list[TierRow]:
    per_tier: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for p, d, k, w in groups:
        t = definition.tiers.tier(float(p), bool(d)) if definition.tiers else "D"
        per_tier[t][0] += int(k)
        per_tier[t][1] += int(w)
    n = sum(v[0] for v in per_tier.values())
    wins = sum(v[1] for v in per_tier.values())
    rows = []
    for t in TIERS:
        k, w = per_tier[t]
        rows.append(TierRow(tier=t, deals=k, share_deals=round(k / n, 4) if n else 0.0, wins=w,
                            share_wins=round(w / wins, 4) if wins else 0.0,
                            win_rate=round(w / k, 4) if k else None,
                            interval=tuple(round(x, 4) for x in stats.wilson(w, k))))
    return rows


def tier_table(engine: Engine, definition: ICPDefinition, *, closed_before: date | None = None,
               created_from: date | None = None) -> list[TierRow]:
    """Deals, wins and win rate per tier over closed deals (all, before a cut, or created from a date)."""

    definition = ensure_tiers(engine, definition)
    with engine.connect() as conn:
        groups = conn.execute(deal_groups_query(definition, closed_before=closed_before,
                                                created_from=created_from)).all()
    return _tier_rows(definition, groups)


def backtest(engine: Engine, split_date: date, *, best_top_n: int | None = None, positives: str | None = None,
             progress: Progress | None = None) -> BacktestReport:
    """Derive before `split_date`, score the closed deals created on or after it, report AUC and tiers."""
    definition = derive_icp(engine, closed_before=split_date, best_top_n=best_top_n, progress=progress,
                            positives=positives)
    with engine.connect() as conn:
        groups = conn.execute(deal_groups_query(definition, created_from=split_date)).all()
    train = definition.calibration.n if definition.calibration else 0
    floor = definition.min_points() - 1
    scored = [(floor if d else float(p), int(n), int(w)) for p, d, n, w in groups]
    n = sum(g[1] for g in scored)
    wins = sum(g[2] for g in scored)
    auc = stats.auc_grouped(scored)
    auc_ci = stats.auc_interval(auc, wins, n - wins) if auc is not None else None
    dq_rates = [r.evidence.rate for r in definition.disqualifiers if r.evidence and r.metric == "win_rate"]
    dq_p = min(dq_rates) if dq_rates else 0.0
    cal = definition.calibration
    probs = [((dq_p if d else (cal.probability(float(p)) if cal else 0.5)), int(k), int(w)) for p, d, k, w in groups]
    rows = _tier_rows(definition, groups)
    base = wins / n if n else None
    a_rate = rows[0].win_rate
    notes = []
    if not definition.criteria:
        notes.append("no criterion clears the base rate on the training deals: every test deal scores the same")
    if auc_ci is not None and auc_ci[0] <= 0.5 <= auc_ci[1]:
        notes.append(f"the AUC interval {auc_ci[0]:.2f}–{auc_ci[1]:.2f} includes 0.5: no evidence the ICP ranks "
                     "test deals better than chance")
    if n == 0:
        notes.append(f"no closed deals created on or after {split_date}")
    return BacktestReport(
        split_date=split_date, n=n, wins=wins, base_rate=round(base, 4) if base is not None else None,
        auc=None if auc is None else round(auc, 4),
        auc_interval=None if auc_ci is None else (round(auc_ci[0], 4), round(auc_ci[1], 4)),
        brier=None if not n else round(stats.brier_grouped(probs) or 0.0, 4),
        top_tier_lift=round(a_rate / base, 3) if (a_rate is not None and base) else None,
        tiers=rows, train_deals=train, criteria=len(definition.criteria), notes=notes,
        positives_rule=definition.best_rule,
    )

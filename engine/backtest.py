"""Time-split backtest: derive on deals closed before D, score the closed deals created on or after D."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field
from sqlalchemy import Engine


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
    notes: list[str] = Field(default_factory=list)


def backtest(engine: Engine, split_date: date, *, best_top_n: int | None = None) -> BacktestReport:
    """Derive before `split_date`, score the closed deals created on or after it, report AUC and tiers."""
    raise NotImplementedError

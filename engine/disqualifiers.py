"""Disqualifiers: values whose win rate or retention is far below base, plus manual rules, with evidence."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import Engine

from icp_mcp.engine.profile import Disqualifier, Evidence, ICPDefinition

RECENT_DAYS = 180


class ExceptionAccount(BaseModel):
    account_id: str
    name: str


class RecentSupport(BaseModel):
    window_days: int = RECENT_DAYS
    evidence: Evidence | None = None
    base_rate: float | None = None
    still_supported: bool | None = Field(default=None, description="None when too few recent deals")
    note: str


class DisqualifierExplanation(BaseModel):
    rule: Disqualifier
    evidence: Evidence | None
    sentence: str
    exceptions: list[ExceptionAccount] = Field(description="won accounts that hit the rule (up to 10)")
    n_exceptions: int
    recent: RecentSupport
    account_id: str | None = None
    account_hits: list[str] = Field(default_factory=list, description="rule ids the account hits")


def explain_disqualifier(
    engine: Engine, definition: ICPDefinition, *, rule_id: str | None = None, account: str | None = None
) -> DisqualifierExplanation:
    """Explain one rule (by id) or the rule an account hits: evidence, sentence, exceptions, recent support."""
    raise NotImplementedError

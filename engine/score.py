"""Scoring: one account (by id, domain or name, or raw prospect attributes) or every account in one SQL join.

The same points table serves both paths: `score_account` evaluates it in Python on one account's attribute
rows; `score_all` joins it to the attribute relation in a single statement.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, Select

from icp_mcp.engine.profile import Evidence, ICPDefinition


class CriterionHit(BaseModel):
    id: str
    condition: str = Field(description="readable condition, e.g. 'industry = Healthcare'")
    attribute: str
    account_value: str | None = Field(default=None, description="the account's value for the attribute")
    points: int
    evidence: Evidence | None = None


class DisqualifierHit(BaseModel):
    id: str
    condition: str
    sentence: str
    evidence: Evidence | None = None


class SimilarCustomer(BaseModel):
    account_id: str
    name: str
    shared: int = Field(description="attribute values shared with the scored account")
    shared_values: list[str]


class AccountScore(BaseModel):
    """Fit and win probability of one account or prospect, with the criteria behind them."""

    account_id: str | None = None
    name: str | None = None
    domain: str | None = None
    territory: str | None = None
    icp_name: str
    points: float
    fit_score: float = Field(ge=0, le=100)
    tier: str
    win_probability: float | None = None
    segments: list[str] = Field(default_factory=list, description="ids of the segments the account is in")
    met: list[CriterionHit]
    missed: list[CriterionHit]
    disqualifiers: list[DisqualifierHit]
    similar_best_customers: list[SimilarCustomer] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict, description="the attribute values scored")


class Candidate(BaseModel):
    account_id: str
    name: str
    domain: str | None = None
    territory: str | None = None


class AccountCandidates(BaseModel):
    """The query matched several accounts (or only approximately): pick one and ask again."""

    query: str
    message: str
    candidates: list[Candidate]


class ScoreSummary(BaseModel):
    """Tier counts over every account in the archive."""

    n: int
    tiers: dict[str, int]
    disqualified: int
    mean_fit: float | None = None


def score_account(
    engine: Engine,
    definition: ICPDefinition,
    *,
    account: str | None = None,
    attributes: dict | None = None,
) -> AccountScore | AccountCandidates:
    """Score one archived account (id, domain or name) or a prospect given as raw attributes."""
    raise NotImplementedError


def account_scores_query(definition: ICPDefinition) -> Select:
    """SELECT account_id, points, disqualified, tier over every account (for drift, voice and adoption)."""
    raise NotImplementedError


def score_all(engine: Engine, definition: ICPDefinition) -> ScoreSummary:
    """Score every account in one SQL statement and return the tier counts."""
    raise NotImplementedError

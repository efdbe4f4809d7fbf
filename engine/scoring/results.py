"""What scoring returns: one account's score with the criteria behind it, candidates, and tier counts."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from icp_mcp.engine.model.profile import Evidence


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
    account_id: str | None = None
    name: str | None = None
    profile: str | None = Field(default=None, description="firmographics instead of a name")
    shared: int = Field(description="attribute values shared with the scored account")
    shared_values: list[str] = Field(default_factory=list)


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
    missed: list[CriterionHit]  # criteria not met that would add points
    penalties: list[CriterionHit] = Field(default_factory=list)  # criteria met that take points away
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

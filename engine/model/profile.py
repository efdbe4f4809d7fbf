"""The ICP definition: a pydantic model that is derived, hand-edited, versioned, scored and rendered.

Everything a claim rests on travels with it: each criterion, segment, disqualifier and persona carries its
`Evidence` (n, positives, rate with a Wilson 95% interval, lift, WoE). Hand-written YAML validates against the
same model, with only `name` and `criteria` (attribute, value or range, points) required.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from icp_mcp.archive.clock import utc_now
from icp_mcp.engine.model.catalogue import (
    TRIGGER_WINDOW_DAYS,
    allowed_attributes,
    band_label,
    is_multi_valued,
    is_numeric,
    kind_of,
)

Source = Literal["derived", "manual"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Evidence(_Model):
    """Counts behind a claim: `positives` of `n` accounts, their rate with its Wilson 95% interval."""

    n: int = Field(ge=0, description="accounts (or deals) with this value")
    positives: int = Field(ge=0, description="of which best customers (or wins)")
    rate: float = Field(ge=0, le=1)
    interval: tuple[float, float] = Field(description="Wilson 95% interval of the rate")
    lift: float | None = Field(default=None, description="rate / base rate")
    woe: float | None = Field(default=None, description="weight of evidence, shrunk by n/(n+20)")


class Range(_Model):
    """A numeric range `[min, max)`; either end may be open (None)."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("a range needs min, max or both")
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"range min ({self.min:g}) must be below max ({self.max:g})")
        return self

    def contains(self, x: float | None) -> bool:
        """True when `x` lies in `[min, max)`."""
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return False
        return (self.min is None or x >= self.min) and (self.max is None or x < self.max)

    def label(self) -> str:
        return band_label(self.min, self.max)


class Condition(_Model):
    """`attribute` equals `value`, is one of `values`, or (numeric) lies in `range`."""

    attribute: str
    value: str | None = None
    values: list[str] | None = None
    range: Range | None = None

    @field_validator("attribute")
    @classmethod
    def _known_attribute(cls, v: str) -> str:
        if kind_of(v) is None:
            raise ValueError(f"unknown attribute {v!r}; allowed: {', '.join(allowed_attributes())}")
        return v

    @field_validator("value", mode="before")
    @classmethod
    def _value_text(cls, v: object) -> object:
        return str(v) if isinstance(v, (int, float, bool)) else v

    @field_validator("values", mode="before")
    @classmethod
    def _values_text(cls, v: object) -> object:
        if isinstance(v, list):
            return [str(x) if isinstance(x, (int, float, bool)) else x for x in v]
        return v

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        given = [x for x in (self.value, self.values, self.range) if x is not None]
        if len(given) != 1:
            raise ValueError(f"{self.attribute}: give exactly one of value, values or range")
        numeric = is_numeric(self.attribute)
        if numeric and self.range is None:
            raise ValueError(f"{self.attribute} is numeric: give a range {{min, max}}")
        if not numeric and self.range is not None:
            raise ValueError(f"{self.attribute} is not numeric: give a value or values, not a range")
        if self.values is not None and not self.values:
            raise ValueError(f"{self.attribute}: values must not be empty")
        return self

    def accepted(self) -> list[str]:
        """The accepted categorical values (empty for a range)."""
        if self.value is not None:
            return [self.value]
        return list(self.values or [])

    def matches(self, value: str | None, number: float | None = None) -> bool:
        """Does one attribute value (text, or number for numeric attributes) satisfy the condition?"""
        if is_numeric(self.attribute):
            return self.range is not None and self.range.contains(number)
        if value is None:
            return False
        wanted = {v.casefold() for v in self.accepted()}
        return str(value).casefold() in wanted

    def describe(self) -> str:
        """'industry = Healthcare', 'employees 201–1000', 'technology in {Snowflake, dbt}'."""
        if self.range is not None:
            return f"{self.attribute} {self.range.label()}"
        if self.value is not None:
            return f"{self.attribute} = {self.value}"
        return f"{self.attribute} in {{{', '.join(self.values or [])}}}"


class Criterion(Condition):
    """One scorecard line: a condition and the points it adds (20 points double the odds)."""

    id: str | None = None
    points: int
    evidence: Evidence | None = None
    source: Source = "manual"
    minor: bool = Field(default=False, description="scored, but not shown on the card (beyond the strongest "
                        "lines shown)")


class Segment(_Model):
    """A named ICP segment: a conjunction of conditions with its support and win rate."""

    id: str
    name: str
    conditions: list[Condition] = Field(min_length=1)
    evidence: Evidence | None = None
    points: int = Field(default=0, description="bonus points when every condition holds (the interaction "
                        "its criteria do not already pay for)")
    share_accounts: float | None = Field(default=None, ge=0, le=1, description="members / all accounts")
    share_wins: float | None = Field(default=None, ge=0, le=1, description="members' won deals / all won deals")
    share_revenue: float | None = Field(default=None, ge=0, le=1,
                                        description="members' lifetime revenue / all customers' revenue")


class Disqualifier(Condition):
    """A rule that forces tier D, with the evidence and a sentence a rep can cite."""

    id: str
    metric: Literal["win_rate", "retention"] = "win_rate"
    evidence: Evidence | None = None
    sentence: str = ""
    source: Source = "manual"


class TopicCount(_Model):
    topic: str
    n: int = Field(description="snippets tagged with the topic")


class Persona(_Model):
    """A buying role or normalized title seen on deals, its win rate vs base (lift) and its topics."""

    kind: Literal["role", "title"]
    role: str | None = None
    title: str | None = None
    evidence: Evidence
    topics: list[TopicCount] = Field(default_factory=list)
    supported: bool = Field(default=False, description="interval excludes the base win rate")


class Trigger(_Model):
    """A signal kind within `window_days` before an opportunity, with its evidence."""

    kind: str
    window_days: int = 90
    points: int = 0
    evidence: Evidence | None = None


#: Tier letters, best first (D also holds disqualified accounts).
TIERS: tuple[str, ...] = ("A", "B", "C", "D")
#: The tiers inside the ICP.
IN_ICP_TIERS: tuple[str, ...] = ("A", "B")


class Tiers(_Model):
    """Tier cut-offs in points: A if points >= a, B if >= b, C if >= c, else D (or disqualified)."""

    a: float
    b: float
    c: float
    shares: tuple[float, float, float] = (0.15, 0.20, 0.30)

    @model_validator(mode="after")
    def _ordered(self) -> Tiers:
        if not self.a >= self.b >= self.c:
            raise ValueError("tier cut-offs must satisfy a >= b >= c")
        return self

    def tier(self, points: float, disqualified: bool = False) -> str:
        if disqualified:
            return "D"
        if points >= self.a:
            return "A"
        if points >= self.b:
            return "B"
        if points >= self.c:
            return "C"
        return "D"


class Calibration(_Model):
    """Platt scaling: win_probability = 1 / (1 + exp(-(a * points + b))), fitted on `n` closed deals."""

    a: float
    b: float
    n: int = 0

    def probability(self, points: float) -> float:
        z = self.a * points + self.b
        z = max(-50.0, min(50.0, z))
        return 1.0 / (1.0 + math.exp(-z))


class ValueWeights(_Model):
    """Weights of the value score components (normalised to sum 1 when used)."""

    arr: float = Field(default=0.30, ge=0)
    lifetime_revenue: float = Field(default=0.25, ge=0)
    nrr: float = Field(default=0.20, ge=0)
    retained: float = Field(default=0.15, ge=0)
    time_to_value: float = Field(default=0.05, ge=0)
    support_load: float = Field(default=0.05, ge=0)


class ICPDefinition(_Model):
    """An Ideal Customer Profile: scorecard, segments, disqualifiers, personas, tiers and what is unsupported."""

    schema_version: int = 1
    name: str = Field(min_length=1)
    description: str | None = None
    derived_at: datetime = Field(default_factory=utc_now)
    closed_from: date | None = Field(default=None, description="first close date in the derivation window")
    closed_to: date | None = Field(default=None, description="last close date in the derivation window")
    base_rate: float | None = Field(default=None, ge=0, le=1, description="best customers / worked accounts")
    population: int | None = Field(default=None, description="worked accounts (n)")
    positives: int | None = Field(default=None, description="best customers among them")
    best_rule: str | None = Field(default=None, description="how the best-customer cohort was chosen")
    segments: list[Segment] = Field(default_factory=list, max_length=3)
    criteria: list[Criterion] = Field(default_factory=list)
    disqualifiers: list[Disqualifier] = Field(default_factory=list)
    personas: list[Persona] = Field(default_factory=list)
    triggers: list[Trigger] = Field(default_factory=list)
    trigger_window_days: int = Field(default=TRIGGER_WINDOW_DAYS, ge=1, le=3650)
    tiers: Tiers | None = None
    calibration: Calibration | None = None
    value_weights: ValueWeights = Field(default_factory=ValueWeights)
    unsupported: list[str] = Field(default_factory=list)
    method: dict[str, str | float | int] = Field(default_factory=dict, description="derivation settings")

    @model_validator(mode="after")
    def _ids(self) -> ICPDefinition:
        for i, c in enumerate(self.criteria):
            if c.id is None:
                c.id = f"c{i + 1}"
        ids = [c.id for c in self.criteria]
        if len(set(ids)) != len(ids):
            raise ValueError("criteria ids must be unique")
        rule_ids = [d.id for d in self.disqualifiers]
        if len(set(rule_ids)) != len(rule_ids):
            raise ValueError("disqualifier ids must be unique")
        return self

    def attributes_used(self) -> list[str]:
        """Attribute names the scorecard, segments and disqualifiers use (in first-seen order)."""
        seen: dict[str, None] = {}
        for c in [*self.criteria, *self.disqualifiers, *(x for s in self.segments for x in s.conditions)]:
            seen.setdefault(c.attribute, None)
        return list(seen)

    def _lines_extreme(self, pick: Callable[[float, float], float]) -> float:
        """The scorecard lines' extreme total (`pick` = max or min): the picked line per single-valued
        attribute (an account has one value), every multi-valued line that `pick` prefers to 0."""
        per_attribute: dict[str, float] = {}
        multi = 0.0
        for c in self.criteria:
            if is_multi_valued(c.attribute):
                multi += pick(c.points, 0)
            else:
                per_attribute[c.attribute] = pick(per_attribute.get(c.attribute, 0.0), float(c.points))
        return sum(per_attribute.values()) + multi

    def max_points(self) -> float:
        """The most points an account can get: best line per single-valued attribute, all positive multi-valued."""
        return self._lines_extreme(max) + sum(max(s.points, 0) for s in self.segments)

    def min_points(self) -> float:
        """The fewest points an account can get (negative lines only)."""
        return self._lines_extreme(min)

    def fit_score(self, points: float) -> float:
        """Points rescaled to 0–100 between the fewest and the most an account can get."""
        lo, hi = self.min_points(), self.max_points()
        if hi <= lo:
            return 0.0
        return round(max(0.0, min(100.0, 100.0 * (points - lo) / (hi - lo))), 1)

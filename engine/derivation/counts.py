"""What derivation counts per attribute value: the worked population's counts of one value (or merged band
range, or bin of values) and the totals they are rates of. Shared by derive and the segment search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from icp_mcp.engine.model.profile import Range


@dataclass
class ValueCounts:
    """Counts of one attribute value (or merged band range) over the worked population."""

    attribute: str
    value: str | None
    range: Range | None
    n: int
    best: int
    won: int
    customers: int
    retained: int
    values: list[str] | None = None  # a bin of several categorical values (then `value` is None)

    def condition(self) -> dict:
        if self.range:
            return {"attribute": self.attribute, "range": self.range}
        if self.values:
            return {"attribute": self.attribute, "values": self.values}
        return {"attribute": self.attribute, "value": self.value}

    def label(self) -> str:
        if self.range:
            return f"{self.attribute} {self.range.label()}"
        return f"{self.attribute}={'|'.join(self.values) if self.values else self.value}"


@dataclass
class Totals:
    n: int
    best: int
    won: int
    customers: int
    retained: int
    closed_from: date | None
    closed_to: date | None

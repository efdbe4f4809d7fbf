"""The attribute catalogue: which account attributes the ICP may use, and of what kind.

Kept free of SQL so that the profile model can validate attribute names without touching an archive.
Numeric attributes are banded for derivation; a criterion on them is a range `[min, max)`.
`KINDS` is the one table of what each kind is (multi-valued, numeric, a column of `accounts`) and
`row_value` its Python form; the SQL form of each kind is in `engine/sql/attributes.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["categorical", "numeric", "technology", "trigger", "extra"]

#: Account columns used as categorical attributes. `owner` (the rep) is deliberately absent: it says who
#: worked the deal, not who the customer is.
CATEGORICAL: tuple[str, ...] = (
    "industry", "country", "region", "funding_stage", "business_model", "territory",
)

#: Numeric account columns with their fixed band edges (each band is `[edge_i, edge_i+1)`).
NUMERIC_BANDS: dict[str, tuple[float, ...]] = {
    "employees": (10, 50, 200, 500, 1000, 2000, 5000, 10000),
    "annual_revenue": (1e6, 1e7, 5e7, 1e8, 5e8, 1e9, 1e10),
    "founded_year": (1950, 1980, 1990, 2000, 2005, 2010, 2015, 2020),
}
NUMERIC: tuple[str, ...] = tuple(NUMERIC_BANDS)

TECHNOLOGY = "technology"
TRIGGER = "trigger"
#: Extra firmographics from `accounts.attributes` (JSON) are named `attributes.<key>`.
EXTRA_PREFIX = "attributes."
#: A trigger counts when the signal occurred within this many days before an opportunity was created.
TRIGGER_WINDOW_DAYS = 120

ATTRIBUTES: tuple[str, ...] = CATEGORICAL + NUMERIC + (TECHNOLOGY, TRIGGER)


def kind_of(attribute: str) -> Kind | None:
    """The kind of an attribute name, or None when the catalogue does not know it."""
    if attribute in CATEGORICAL:
        return "categorical"
    if attribute in NUMERIC_BANDS:
        return "numeric"
    if attribute == TECHNOLOGY:
        return "technology"
    if attribute == TRIGGER:
        return "trigger"
    if attribute.startswith(EXTRA_PREFIX) and len(attribute) > len(EXTRA_PREFIX):
        key = attribute[len(EXTRA_PREFIX):]
        if key.replace("_", "").replace("-", "").isalnum():
            return "extra"
    return None


@dataclass(frozen=True)
class KindInfo:
    """What a kind of attribute is: how many values an account has, and how a value is tested."""

    #: An account may have many values (one row per tool or signal kind); a single-valued one has at most one.
    multi_valued: bool
    #: A banded number: criteria on it are ranges `[min, max)`, its value is a band label plus the number.
    numeric: bool
    #: A column of `accounts` (an extra is a key of its `attributes` JSON; multi-valued ones have tables).
    column: bool


#: The one table of attribute kinds.
KINDS: dict[Kind, KindInfo] = {
    "categorical": KindInfo(multi_valued=False, numeric=False, column=True),
    "numeric": KindInfo(multi_valued=False, numeric=True, column=True),
    "extra": KindInfo(multi_valued=False, numeric=False, column=False),
    "technology": KindInfo(multi_valued=True, numeric=False, column=False),
    "trigger": KindInfo(multi_valued=True, numeric=False, column=False),
}


def kind_info(attribute: str) -> KindInfo:
    """The `KINDS` entry of a known attribute (a KeyError names an unknown one)."""
    kind = kind_of(attribute)
    if kind is None:
        raise KeyError(attribute)
    return KINDS[kind]


def is_multi_valued(attribute: str) -> bool:
    """True for technology and trigger: an account may have several values of them."""
    kind = kind_of(attribute)
    return kind is not None and KINDS[kind].multi_valued


def is_numeric(attribute: str) -> bool:
    """True for the banded numeric columns (criteria on them are ranges)."""
    kind = kind_of(attribute)
    return kind is not None and KINDS[kind].numeric


def is_column(attribute: str) -> bool:
    """True for the categorical and numeric columns of `accounts` (an account may lack the value)."""
    kind = kind_of(attribute)
    return kind is not None and KINDS[kind].column


def extra_key(attribute: str) -> str:
    """The JSON key of an extra attribute: `attributes.plan` → `plan`."""
    return attribute[len(EXTRA_PREFIX):]


def band_of(attribute: str, x: float) -> str | None:
    """The band label of a number of a numeric attribute (as the SQL `band_case` gives it)."""
    for lo, hi in bands(attribute):
        if (lo is None or x >= lo) and (hi is None or x < hi):
            return band_label(lo, hi)
    return None


def row_value(attribute: str, raw: object) -> tuple[str | None, float | None]:
    """One raw value as the attribute relation's `(value, num)` pair: a number gives its band label and
    itself, anything else its text (booleans as JSON writes them). Raises ValueError/TypeError for a
    numeric attribute given something that is not a number."""
    if is_numeric(attribute):
        x = float(raw)  # type: ignore[arg-type]
        return band_of(attribute, x), x
    return (("true" if raw else "false") if isinstance(raw, bool) else str(raw)), None


def allowed_attributes() -> list[str]:
    """Every attribute name a criterion, rule or prospect may use (extras as `attributes.<key>`)."""
    return list(ATTRIBUTES) + [f"{EXTRA_PREFIX}<key>"]


def band_label(lo: float | None, hi: float | None) -> str:
    """A readable label for `[lo, hi)`: '51–200', '10001+', '<11'."""
    def fmt(x: float) -> str:
        if abs(x) >= 1e9 and x % 1e9 == 0:
            return f"{x / 1e9:g}B"
        if abs(x) >= 1e6 and x % 1e6 == 0:
            return f"{x / 1e6:g}M"
        return f"{x:g}"

    if lo is None and hi is None:
        return "any"
    if lo is None:
        return f"<{fmt(hi)}"
    if hi is None:
        return f"{fmt(lo)}+"
    if float(lo).is_integer() and float(hi).is_integer() and hi - lo >= 2 and abs(hi) < 1e5:
        return f"{fmt(lo)}–{fmt(hi - 1)}"
    return f"{fmt(lo)}–<{fmt(hi)}"


def bands(attribute: str) -> list[tuple[float | None, float | None]]:
    """The bands of a numeric attribute, open at both ends: [(None, e0), (e0, e1), ..., (en, None)]."""
    edges = NUMERIC_BANDS[attribute]
    out: list[tuple[float | None, float | None]] = [(None, edges[0])]
    out += [(edges[i], edges[i + 1]) for i in range(len(edges) - 1)]
    out.append((edges[-1], None))
    return out

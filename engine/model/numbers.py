"""Plain numbers for people: the one formatter behind every text and markdown field.

Money reads with currency and magnitude (`$366M`, `$12.5k`), counts with thousands separators (`12,345`),
rates as percentages (`12%`, `3.6%`). Structured fields stay numeric; only sentences use these.
"""

from __future__ import annotations

import math

#: Currency symbol of money in the archive (amounts and ARR are recorded in one currency).
CURRENCY = "$"
#: Attributes whose numbers are money (firmographic revenue) and those that are plain counts or years.
MONEY_ATTRIBUTES: frozenset[str] = frozenset({"annual_revenue"})
YEAR_ATTRIBUTES: frozenset[str] = frozenset({"founded_year"})

_MAGNITUDES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def _short(x: float) -> str:
    """366000000 → '366M', 1250000 → '1.25M', 12500 → '12.5k', 950 → '950' (three significant digits)."""
    ax = abs(x)
    for size, suffix in _MAGNITUDES:
        if ax >= size * 0.9995:
            v = x / size
            digits = 0 if abs(v) >= 100 else 1 if abs(v) >= 10 else 2
            return f"{v:.{digits}f}".rstrip("0").rstrip(".") + suffix
    if ax >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:.2f}".rstrip("0").rstrip(".")


def money(x: float | None, currency: str = CURRENCY) -> str:
    """'$366M', '$1.2k', '-$40k'; 'n/a' for None."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    sign = "-" if x < 0 else ""
    return f"{sign}{currency}{_short(abs(float(x)))}"


def count(n: float | None) -> str:
    """'12,345'; 'n/a' for None."""
    if n is None:
        return "n/a"
    return f"{round(float(n)):,}"


def pct(rate: float | None, digits: int | None = None) -> str:
    """A rate (0..1) as a percentage: '12%', '3.6%' (one decimal below 10% unless `digits` says)."""
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return "n/a"
    value = 100.0 * float(rate)
    if digits is None:
        digits = 1 if 0 < abs(value) < 10 and not float(round(value, 1)).is_integer() else 0
    return f"{value:.{digits}f}%"


def number(x: float | None) -> str:
    """A general quantity: separators for whole numbers, magnitude from a million up, 3 digits otherwise."""
    if x is None:
        return "n/a"
    x = float(x)
    if abs(x) >= 1e6:
        return _short(x)
    if x.is_integer():
        return f"{x:,.0f}"
    return f"{x:,.2f}".rstrip("0").rstrip(".") if abs(x) >= 1 else f"{x:.3g}"


def attribute_value(attribute: str, x: float | None) -> str:
    """A numeric attribute value as a person reads it: money for revenue, a bare year, else `number`."""
    if x is None:
        return "n/a"
    if attribute in MONEY_ATTRIBUTES:
        return money(x)
    if attribute in YEAR_ATTRIBUTES and float(x).is_integer():
        return str(int(x))
    return number(x)

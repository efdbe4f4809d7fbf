"""Tone of a snippet (positive / negative / neutral) from a small phrase lexicon.

Deliberately simple and explainable: a snippet's score is the number of positive phrases in it minus the
number of negative ones (case-insensitive; occurrences counted left to right without overlap, longer
phrases first, as a regular-expression alternation finds them). Negated positives ("not happy", "not
worth") weigh 2, so that they outweigh the positive phrase they contain. The same rule runs in SQL
(`score_expression` / `tone_expression`: one regex pass per weight class, fast over many rows) and in
Python (`tone_of`, for tests and single texts); they agree by construction.
"""

from __future__ import annotations

import re
from typing import Literal

from sqlalchemy import ColumnElement, Integer, bindparam, case, func, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

Tone = Literal["positive", "negative", "neutral"]
TONES: tuple[Tone, ...] = ("positive", "negative", "neutral")

#: phrase -> weight. Lower case; matched as substrings, so keep phrases specific.
POSITIVE: dict[str, int] = {
    "love": 1, "great": 1, "excellent": 1, "fantastic": 1, "amazing": 1, "happy with": 1, "pleased": 1,
    "impressed": 1, "easy to": 1, "works well": 1, "worth it": 1, "worth every": 1, "good value": 1,
    "saves us": 1, "saved us": 1, "helpful": 1, "recommend": 1, "smooth": 1, "game changer": 1,
    "fair price": 1, "reasonable": 1, "delighted": 1, "thank": 1, "solved": 1, "faster": 1, "reliable": 1,
    "paid for itself": 1, "roi": 1, "happy to renew": 1, "expanding": 1,
}
NEGATIVE: dict[str, int] = {
    "too expensive": 1, "expensive": 1, "overpriced": 1, "price increase": 1, "pricey": 1, "costly": 1,
    "frustrat": 1, "disappoint": 1, "annoy": 1, "confus": 1, "broken": 1, "bug": 1, "crash": 1,
    "slow": 1, "outage": 1, "downtime": 1, "difficult": 1, "hard to": 1, "painful": 1, "complain": 1,
    "unhappy": 1, "cancel": 1, "churn": 1, "missing": 1, "lacks": 1, "lacking": 1, "doesn't work": 1,
    "does not work": 1, "not working": 1, "worse": 1, "problem": 1, "issue": 1, "concern": 1, "blocker": 1,
    "waiting": 1,
    "not happy": 2, "not worth": 2, "not great": 2, "not easy": 2, "not reliable": 2, "not reasonable": 2,
    "no longer": 1, "switch to": 1, "can't justify": 1, "cannot justify": 1, "budget cut": 1,
}


def sql_constant(value: str) -> ColumnElement[str]:
    """A module constant rendered into the SQL text (not a bound parameter: DuckDB's Python binding pays a
    per-parameter cost, and these values come from the code, never from a caller)."""
    return bindparam(None, value, literal_execute=True)


def _int(value: int) -> ColumnElement[int]:
    return literal_column(str(int(value)), Integer)


def _escape(phrase: str) -> str:
    """Escape regex metacharacters only (the RE2 / PostgreSQL / Python common subset)."""
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", phrase)


def _pattern(phrases: list[str]) -> str:
    """One alternation, longest phrases first (so "too expensive" wins over "expensive")."""
    return "|".join(_escape(p) for p in sorted(phrases, key=lambda p: (-len(p), p)))


#: (weight, pattern): positives +1, negatives -1, negated positives -2.
CLASSES: tuple[tuple[int, str], ...] = tuple(
    (weight, _pattern(phrases))
    for weight, phrases in (
        (1, [p for p, w in POSITIVE.items() if w == 1]),
        (-1, [p for p, w in NEGATIVE.items() if w == 1]),
        (-2, [p for p, w in NEGATIVE.items() if w == 2]),
    )
    if phrases
)
_COMPILED = tuple((weight, re.compile(pattern)) for weight, pattern in CLASSES)


class regex_count(FunctionElement):  # noqa: N801  (a SQL function name)
    """`regex_count(text, pattern)`: non-overlapping matches of `pattern` in `text`."""

    type = Integer()
    inherit_cache = True


@compiles(regex_count, "duckdb")
def _regex_count_duckdb(element, compiler, **kw) -> str:
    text, pattern = list(element.clauses)
    return f"len(regexp_extract_all({compiler.process(text, **kw)}, {compiler.process(pattern, **kw)}))"


@compiles(regex_count)
def _regex_count_default(element, compiler, **kw) -> str:  # PostgreSQL 15+
    text, pattern = list(element.clauses)
    return f"regexp_count({compiler.process(text, **kw)}, {compiler.process(pattern, **kw)})"


def score_expression(text_col: ColumnElement[str]) -> ColumnElement[int]:
    """SQL expression of the weighted phrase score of a text column (label it, then `tone_of_score`)."""
    lowered = func.lower(text_col)
    total: ColumnElement[int] = _int(0)
    for weight, pattern in CLASSES:
        total = total + _int(weight) * regex_count(lowered, sql_constant(pattern))
    return total


def tone_of_score(score: ColumnElement[int]) -> ColumnElement[str]:
    """'positive' / 'negative' / 'neutral' from a score column computed once (see `score_expression`)."""
    zero = _int(0)
    return case(
        (score > zero, sql_constant("positive")),
        (score < zero, sql_constant("negative")),
        else_=sql_constant("neutral"),
    )


def tone_expression(text_col: ColumnElement[str]) -> ColumnElement[str]:
    """SQL expression giving 'positive', 'negative' or 'neutral' for a text column (score inlined twice:
    prefer `score_expression` in a subquery and `tone_of_score` above it on large sets)."""
    return tone_of_score(score_expression(text_col))


def tone_score(text: str) -> int:
    """The phrase score of one text (the rule of the module docstring)."""
    lowered = text.lower()
    return sum(weight * len(pattern.findall(lowered)) for weight, pattern in _COMPILED)


def tone_of(text: str) -> Tone:
    """'positive', 'negative' or 'neutral' for one text (same rule as `tone_expression`)."""
    score = tone_score(text)
    return "positive" if score > 0 else "negative" if score < 0 else "neutral"

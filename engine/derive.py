"""Derivation: contrast best customers with the worked population and keep what the data supports.

One GROUP BY over the (account, attribute, value) relation joined to the labels gives, for every value,
its support and positives; Python turns those counts into rates, Wilson intervals, lift and WoE, keeps the
values whose interval clears the base rate, merges adjacent numeric bands into ranges, searches pairs of
kept criteria for up to 3 segments, and records what the data cannot support.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import Engine

from icp_mcp.engine.profile import ICPDefinition

Progress = Callable[[float, float | None, str], None]


def derive_icp(
    engine: Engine,
    *,
    closed_before: date | None = None,
    best_top_n: int | None = None,
    progress: Progress | None = None,
    name: str | None = None,
    previous: ICPDefinition | None = None,
) -> ICPDefinition:
    """Derive an ICP from deals closed before `closed_before` (all when None); manual rules of `previous`
    (default: the active version) are kept."""
    raise NotImplementedError

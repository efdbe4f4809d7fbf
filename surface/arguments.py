"""Tool argument types shared by several tools: the time-window arguments `since`, `until`, `as_of`.

Defined once here (as `Annotated` types) so every tool that takes a window describes and validates it the
same way; the forms themselves are parsed by `engine.model.windows.resolve_window`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

#: `as_of`: the day relative windows are counted from.
AsOf = Annotated[str | None, Field(
    description="reference day for relative windows (YYYY-MM-DD; default today UTC)")]

#: `until`: the inclusive last day of a window.
Until = Annotated[str | None, Field(
    description="end (inclusive): YYYY-MM-DD, today, 7d, last_month…")]


def since(default: str, head: str = "start: YYYY-MM-DD, 30d, 12w, last_month, last_quarter, this_month…") -> Any:
    """The `since` argument type of a tool whose window starts at `default` when not given."""
    return Annotated[str | None, Field(description=f"{head} (default {default})")]


def recent_window(default: str) -> Any:
    """The `window` argument type of a tool that compares a recent window (default `default`) with a baseline."""
    return Annotated[str | None, Field(
        description=f"recent window: {default} (default), 30d, last_quarter, YYYY-MM-DD…")]

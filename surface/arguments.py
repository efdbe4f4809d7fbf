"""Tool argument types shared by several tools: time windows, paging and the `detail` switch.

Defined once here (as `Annotated` types) so every tool that takes a window, a page or a detail level
describes and validates it the same way, in as few words as a model needs (issue 15: every token of a tool
definition is read on every request); the window forms are parsed by `engine.model.windows.resolve_window`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from icp_mcp.surface.settings import MAX_LIMIT

#: `as_of`: the day relative windows are counted from.
AsOf = Annotated[str | None, Field(description="day relative windows count from (default today UTC)")]

#: `until`: the inclusive last day of a window.
Until = Annotated[str | None, Field(description="inclusive end, same forms as since")]

#: `cursor`: the next page of a paginated answer.
Cursor = Annotated[str | None, Field(description="next_cursor of the previous page")]

#: `limit`: a page size (the schema shows each tool's default).
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]

#: `detail`: the full answer instead of the compact default.
Detail = Annotated[bool, Field(description="full answer instead of the compact default")]


def since(default: str) -> Any:
    """The `since` argument type of a tool whose window starts at `default` when not given."""
    return Annotated[str | None, Field(
        description=f"window start: YYYY-MM-DD, 30d, 12w, last_month, this_quarter… (default {default})")]


def recent_window(default: str) -> Any:
    """The `window` argument type of a tool that compares a recent window (default `default`) with a baseline."""
    return Annotated[str | None, Field(
        description=f"recent window: 30d, last_quarter, this_quarter, YYYY-MM-DD… (default {default})")]

"""Errors the engine raises for bad input; the MCP tools turn them into tool errors naming the field.

Every error carries the argument it is about (`field`) and, when the set is closed, the allowed values,
so that a caller can correct the call without reading a traceback.
"""

from __future__ import annotations


class EngineError(Exception):
    """A bad argument or a question the archive cannot answer, naming the field and what is allowed."""

    def __init__(self, field: str, message: str, allowed: list[str] | None = None) -> None:
        self.field = field
        self.message = message
        self.allowed = list(allowed) if allowed is not None else None
        text = f"{field}: {message}"
        if self.allowed:
            shown = ", ".join(self.allowed[:30]) + (" …" if len(self.allowed) > 30 else "")
            text += f" (allowed: {shown})"
        super().__init__(text)

    def to_dict(self) -> dict:
        """A JSON-ready form for tool errors."""
        return {"field": self.field, "message": self.message, "allowed": self.allowed}


class NotFound(EngineError):
    """Nothing matched (an account, a version, a rule); `candidates` lists the closest matches."""

    def __init__(self, field: str, message: str, candidates: list[dict] | None = None, *,
                 withheld: str | None = None) -> None:
        super().__init__(field, message)
        self.candidates = list(candidates or [])
        #: Why a match exists but is hidden from the caller (for the audit log only; never shown).
        self.withheld = withheld

    def to_dict(self) -> dict:
        return {**super().to_dict(), "candidates": self.candidates}


class NoActiveICP(EngineError):
    """No ICP version is active yet: derive one and activate it first."""

    def __init__(self, message: str = "no active ICP version; run `icp-mcp icp derive` then `icp activate`") -> None:
        super().__init__("version", message)


class InsufficientData(EngineError):
    """Too few closed deals to derive an ICP; carries the counts found (`won`, `lost`) and the message
    saying what is needed. `icp derive` exits with code 3 on it."""

    def __init__(self, message: str, *, won: int, lost: int) -> None:
        super().__init__("deals", message)
        self.won = won
        self.lost = lost

"""Which accounts a caller may see, and which small figures are withheld: the one visibility filter.

Every account reference that leaves the server (list items, exceptions, similar customers, quotes,
candidates, counts by account, error texts, completions) passes through this module, and every answer
here comes from `allowed()` (surface/access.py):

- **named accounts**: an account may be named (id, name, domain) or looked up only when
  ``allowed(principal, "account", territory)``. `named_territories` turns that into the territory set the
  engine pushes into SQL (``None`` = every territory, an empty set = no account at all), so lists, pages
  and counts are computed over what the caller may see; a hidden account answers exactly like one that
  does not exist.
- **small groups**: a figure resting on ``n`` accounts (or deals) is shown only when
  ``allowed(principal, "aggregate", str(n))``; otherwise it is withheld and the answer says so
  (`withheld_note`). One rule for every tool.
- **aggregation scope**: callers who may name accounts in some territories aggregate over those
  territories only; callers who may name none (marketing, product) aggregate over every account but
  see no identity (quotes and examples are attributed by firmographics instead).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from icp_mcp.surface.access import Principal, allowed

T = TypeVar("T")


@dataclass(frozen=True)
class AccountView:
    """What one caller may see of accounts, as the engine needs it (plain data, no MCP types)."""

    #: Territories whose accounts may be named; None = all, empty = none (no account identity at all).
    territories: frozenset[str] | None
    #: Territories aggregates run over; None = all accounts (identity-less callers see figures only).
    scope: frozenset[str] | None
    #: The small-group threshold that applies to this caller (1 with account-level access).
    k: int

    @property
    def names_accounts(self) -> bool:
        """True when the caller may see the identity of at least some accounts."""
        return self.territories is None or bool(self.territories)

    @property
    def everything(self) -> bool:
        """True when no account is hidden from the caller."""
        return self.territories is None

    def shows(self, territory: str | None) -> bool:
        """May an account of `territory` be named? (the same answer as `allowed(…, "account", territory)`)."""
        return self.territories is None or (territory is not None and territory in self.territories)


def named_territories(principal: Principal) -> frozenset[str] | None:
    """Territories whose accounts `principal` may name or look up (None = all; empty = none)."""
    if allowed(principal, "account", None):
        return None
    return frozenset(t for t in (principal.territories or ()) if allowed(principal, "account", t))


def small_group_k(principal: Principal) -> int:
    """The smallest group size whose figures `principal` may see (asked through `allowed`)."""
    if allowed(principal, "aggregate", "1"):
        return 1
    return principal.min_group


def group_k(principal: Principal) -> int:
    """The policy's k for this caller: groups under it are flagged small (and withheld by `withheld`)."""
    return principal.min_group


def account_view(principal: Principal) -> AccountView:
    """The caller's `AccountView` (named territories, aggregation scope, k)."""
    named = named_territories(principal)
    scope = named if (named is None or named) else principal.territories
    return AccountView(territories=named, scope=scope, k=small_group_k(principal))


def can_name(principal: Principal, territory: str | None) -> bool:
    """May `principal` see the identity of an account in `territory`?"""
    return allowed(principal, "account", territory)


def visible_accounts(principal: Principal, items: Iterable[T],
                     territory_of: Callable[[T], str | None] | None = None) -> list[T]:
    """The items (accounts, candidates, completions) `principal` may see; items without a territory
    field are not accounts and pass. `territory_of` reads an item's territory (default: a ``territory``
    key or attribute)."""
    view = named_territories(principal)
    kept = []
    for item in items:
        is_account, territory = _territory(item) if territory_of is None else (True, territory_of(item))
        if not is_account or view is None or (territory is not None and territory in view):
            kept.append(item)
    return kept


def _territory(item: Any) -> tuple[bool, str | None]:
    if isinstance(item, Mapping):
        return "territory" in item, item.get("territory")
    return hasattr(item, "territory"), getattr(item, "territory", None)


ACCOUNT_MASK = "[account]"
EMAIL_MASK = "[email]"
NAME_MASK = "[name]"
#: An e-mail address (also used by server/redact.py for PII masking).
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")


def words_pattern(words: Iterable[str], *, parts: bool = False) -> re.Pattern[str] | None:
    """One whole-word, case-insensitive alternation of `words` (longest first); with `parts`, also every
    word of 3+ letters inside them (for person names). None when there is nothing to match."""
    found: set[str] = set()
    for word in words:
        if not word or not word.strip():
            continue
        found.add(word.strip())
        if parts:
            found.update(p for p in re.split(r"\s+", word.strip()) if len(p) >= 3)
    found = {w for w in found if len(w) >= 3}
    if not found:
        return None
    ordered = sorted(found, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, ordered)) + r")(?!\w)", re.IGNORECASE)


def mask_accounts(text: str, identities: Iterable[str], domains: Iterable[str] = (),
                  people: Sequence[str] = ()) -> str:
    """`text` as shown to a caller who may not name the accounts that said it: e-mail addresses at the
    accounts' `domains` become [email], the accounts' names, domains and ids (`identities`) [account],
    and `people` (contact names, for callers without pii:read) [name], after every e-mail address."""
    if not text:
        return text
    if people:
        text = EMAIL_PATTERN.sub(EMAIL_MASK, text)
    doms = sorted({d.strip() for d in domains if d and d.strip()}, key=len, reverse=True)
    if doms:
        at = re.compile(r"[\w.+\-]+@(?:" + "|".join(map(re.escape, doms)) + r")(?![\w.\-]*\w)", re.IGNORECASE)
        text = at.sub(EMAIL_MASK, text)
    for pattern, mask in ((words_pattern(identities), ACCOUNT_MASK), (words_pattern(people, parts=True), NAME_MASK)):
        if pattern is not None:
            text = pattern.sub(mask, text)
    return text


# -- the small-group rule ---------------------------------------------------------------------------------


def withheld(principal: Principal, n: int | None) -> bool:
    """True when a figure resting on `n` accounts must be withheld from `principal`."""
    return n is not None and not allowed(principal, "aggregate", str(n))


def withheld_note(principal: Principal, count: int, what: str = "group(s)", unit: str = "accounts") -> str:
    """The one sentence every tool adds when it withheld figures under the small-group rule."""
    return (f"{count} {what} resting on fewer than {principal.min_group} {unit} withheld "
            "(figures on small groups need account-level access).")


def outside_note(view: AccountView, count: int, what: str = "more") -> str:
    """How hidden examples are counted, never named: '3 more in other territories' ('' for none)."""
    if not count:
        return ""
    if view.names_accounts:
        return f"{count} {what} in other territories (not named)"
    return f"{count} {what} not named (account identity needs accounts:read)"


__all__ = [
    "ACCOUNT_MASK", "AccountView", "words_pattern", "account_view", "can_name", "group_k", "mask_accounts", "named_territories", "outside_note", "small_group_k",
    "visible_accounts", "withheld", "withheld_note",
]

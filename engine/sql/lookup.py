"""Finding one account by id, domain or name (case-insensitive), with candidates when unsure, within the
caller's view; and the firmographic label that attributes an account without naming it.

`territories` is the caller's view (None = every territory, an empty set = no account): it is part of
every statement, so a hidden account answers exactly like one that does not exist (same message, same
candidates). Only the audit learns that a hidden account matched (`NotFound.withheld`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, Connection, Engine, false, func, or_, select, true

from icp_mcp.archive.domains import normalise_domain
from icp_mcp.archive.schema import accounts, contacts
from icp_mcp.engine.model.catalogue import band_label, bands
from icp_mcp.engine.model.errors import EngineError, NotFound

MAX_CANDIDATES = 10
Territories = Collection[str] | None


def in_territories(territories: Territories, column: ColumnElement | None = None) -> ColumnElement[bool]:
    """SQL condition: the account's territory is in the view (None = all, empty = none)."""
    if territories is None:
        return true()
    if not territories:
        return false()
    col = accounts.c.territory if column is None else column
    return col.in_(sorted(territories))


def _row(r) -> dict:
    return dict(r._mapping)


def _brief(r) -> dict:
    return {"account_id": r.account_id, "name": r.name, "domain": r.domain, "territory": r.territory}


def _exact(conn: Connection, q: str, view: ColumnElement[bool], limit: int, columns: Sequence[str] = ()) -> list:
    """Accounts matching `q` exactly by id, then domain, then name (the first kind that matches), with the
    extra `columns` of accounts."""
    a = accounts
    cols = (a.c.account_id, a.c.name, a.c.domain, a.c.territory,
            *[a.c[c] for c in columns if c not in ("account_id", "name", "domain", "territory")])
    domain = normalise_domain(q)
    by_domain = false() if domain is None else func.lower(a.c.domain) == domain
    hits = conn.execute(select(*cols).where(a.c.account_id == q, view)).all()  # the key: no sort, no limit
    if hits:  # (DuckDB: a sorted, limited keyed read costs ~10x the plain one at 1M accounts)
        return hits
    for cond in (by_domain, func.lower(a.c.name) == q.lower()):
        hits = conn.execute(select(*cols).where(cond, view).order_by(a.c.account_id).limit(limit)).all()
        if hits:
            return hits
    return []


def find_account(engine: Engine, query: str, territories: Territories = None, *,
                 columns: Sequence[str] = ()) -> tuple[dict | None, list[dict]]:
    """(the account, []) when one visible account matches exactly; (None, candidates) when ambiguous or
    only approximate. Raises NotFound (with the closest visible names) when nothing visible resembles it.

    The account comes as account_id, name, domain, territory and the extra accounts `columns` asked for
    (read in the same keyed statement: a scorer needs no second read of the row); candidates carry the four.
    """
    q = (query or "").strip()
    if not q:
        raise EngineError("account", "give an account id, domain or name")
    a = accounts
    cols = (a.c.account_id, a.c.name, a.c.domain, a.c.territory)
    low = q.lower()
    view = in_territories(territories)
    with engine.connect() as conn:
        if territories is not None and not territories:  # a caller who may name no account: nothing matches
            hidden = bool(_exact(conn, q, true(), 1))
            raise NotFound("account", f"no account matches {q!r} by id, domain or name", [],
                           withheld=_outside(territories) if hidden else None)
        hits = _exact(conn, q, view, MAX_CANDIDATES + 1, columns)
        if len(hits) == 1:
            return _row(hits[0]), []
        if hits:
            return None, [_brief(r) for r in hits[:MAX_CANDIDATES]]
        pattern = "%" + low.replace("%", "").replace("_", "") + "%"
        hits = conn.execute(
            select(*cols).where(or_(func.lower(a.c.name).like(pattern), func.lower(a.c.domain).like(pattern)), view)
            .order_by(func.length(a.c.name), a.c.account_id).limit(MAX_CANDIDATES)
        ).all()
        if hits:
            return None, [_brief(r) for r in hits]
        tokens = [t for t in re.split(r"[^a-z0-9]+", low) if len(t) >= 3]
        prefixes = {t[:3] for t in tokens} or {low[:3]}
        near = conn.execute(
            select(*cols).where(or_(*(func.lower(a.c.name).like(f"%{p}%") for p in prefixes)), view)
            .order_by(a.c.account_id).limit(500)
        ).all()
        hidden = territories is not None and bool(_exact(conn, q, true(), 1))
    ranked = sorted(near, key=lambda r: (-difflib.SequenceMatcher(None, low, (r.name or "").lower()).ratio(),
                                         r.account_id))
    raise NotFound("account", f"no account matches {q!r} by id, domain or name",
                   [_brief(r) for r in ranked[:MAX_CANDIDATES]],
                   withheld=_outside(territories) if hidden else None)


def _outside(territories: Territories) -> str:
    """The audit's reason for a hidden match (never shown to the caller)."""
    return f"account outside the caller's territories ({', '.join(sorted(territories or [])) or 'none'})"


def complete_accounts(engine: Engine, prefix: str, territories: frozenset[str] | set[str] | None,
                      limit: int = 100) -> tuple[list[str], int]:
    """Account ids, names and domains starting with `prefix` (case-insensitive) among accounts in
    `territories` (None: all), for argument completion; (values, total matches)."""
    a = accounts
    low = (prefix or "").strip().lower().replace("%", "").replace("_", r"\_")
    pattern = f"{low}%"
    picked = []
    with engine.connect() as conn:
        for col in (a.c.account_id, a.c.name, a.c.domain):
            cond = func.lower(col).like(pattern, escape="\\") & in_territories(territories)
            total = conn.execute(select(func.count()).where(cond)).scalar() or 0
            if total:
                values = conn.execute(select(col).where(cond).order_by(col).limit(limit)).scalars().all()
                picked.append((total, [v for v in values if v]))
    total = sum(t for t, _ in picked)
    values = list(dict.fromkeys(v for _, vs in picked for v in vs))
    return values[:limit], total


# -- attribution without identity -------------------------------------------------------------------------


def profile_label(industry: str | None, funding_stage: str | None, employees: float | None) -> str:
    """'a Series B Fintech company, 200–499 employees': who an account is without saying which one
    (the employee band, not the exact head count)."""
    stage = (funding_stage or "").replace("_", " ").strip()
    kind = f"{industry} company" if industry else "company"
    head = f"a {stage} {kind}" if stage and stage.lower() not in ("unknown", "none") else f"a {kind}"
    if employees is None:
        return head
    for lo, hi in bands("employees"):
        if (lo is None or employees >= lo) and (hi is None or employees < hi):
            return f"{head}, {band_label(lo, hi)} employees"
    return head


def account_profiles(conn: Connection, ids: Sequence[str]) -> dict[str, tuple[str | None, str]]:
    """account_id → (name, `profile_label`) for the few accounts of one answer, in one key look-up."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    a = accounts.c
    rows = conn.execute(select(a.account_id, a.name, a.industry, a.funding_stage, a.employees)
                        .where(a.account_id.in_(wanted))).all()
    return {r.account_id: (r.name, profile_label(r.industry, r.funding_stage, r.employees)) for r in rows}


def account_identities(conn: Connection, ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """(ids and names, domains) of these accounts, to mask them inside quoted text for callers who may
    not name them."""
    wanted = sorted(set(ids))
    if not wanted:
        return [], []
    a = accounts.c
    rows = conn.execute(select(a.account_id, a.name, a.domain).where(a.account_id.in_(wanted))).all()
    return sorted({v for r in rows for v in (r.account_id, r.name) if v}), sorted({r.domain for r in rows if r.domain})


def contact_names(conn: Connection, account_ids: Sequence[str], *, limit: int = 5000) -> list[str]:
    """Names of the contacts of these accounts (bound parameters, chunked), for masking in quoted text."""
    ids = sorted(set(account_ids))
    names: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        query = select(contacts.c.name).where(contacts.c.account_id.in_(chunk), contacts.c.name.is_not(None))
        names.update(row[0] for row in conn.execute(query.limit(limit)))
    return sorted(names)

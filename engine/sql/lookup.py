"""Finding one account by id, domain or name (case-insensitive), with candidates when unsure."""

from __future__ import annotations

import difflib
import re

from sqlalchemy import Engine, func, or_, select

from icp_mcp.archive.domains import normalise_domain
from icp_mcp.archive.schema import accounts
from icp_mcp.engine.model.errors import EngineError, NotFound

MAX_CANDIDATES = 10


def _row(r) -> dict:
    return {"account_id": r.account_id, "name": r.name, "domain": r.domain, "territory": r.territory}


def find_account(engine: Engine, query: str) -> tuple[dict | None, list[dict]]:
    """(the account, []) when one matches exactly; (None, candidates) when ambiguous or only approximate.

    Raises NotFound (with the closest names) when nothing resembles the query.
    """
    q = (query or "").strip()
    if not q:
        raise EngineError("account", "give an account id, domain or name")
    a = accounts
    cols = (a.c.account_id, a.c.name, a.c.domain, a.c.territory)
    low = q.lower()
    with engine.connect() as conn:
        hit = conn.execute(select(*cols).where(a.c.account_id == q)).first()
        if hit:
            return _row(hit), []
        domain = normalise_domain(q)
        hits = [] if domain is None else conn.execute(
            select(*cols).where(func.lower(a.c.domain) == domain).limit(2)).all()
        if len(hits) == 1:
            return _row(hits[0]), []
        hits = conn.execute(select(*cols).where(func.lower(a.c.name) == low).limit(MAX_CANDIDATES + 1)).all()
        if len(hits) == 1:
            return _row(hits[0]), []
        if hits:
            return None, [_row(r) for r in hits[:MAX_CANDIDATES]]
        pattern = "%" + low.replace("%", "").replace("_", "") + "%"
        hits = conn.execute(
            select(*cols).where(or_(func.lower(a.c.name).like(pattern), func.lower(a.c.domain).like(pattern)))
            .order_by(func.length(a.c.name)).limit(MAX_CANDIDATES)
        ).all()
        if hits:
            return None, [_row(r) for r in hits]
        tokens = [t for t in re.split(r"[^a-z0-9]+", low) if len(t) >= 3]
        prefixes = {t[:3] for t in tokens} or {low[:3]}
        near = conn.execute(
            select(*cols).where(or_(*(func.lower(a.c.name).like(f"%{p}%") for p in prefixes))).limit(500)
        ).all()
    ranked = sorted(near, key=lambda r: -difflib.SequenceMatcher(None, low, (r.name or "").lower()).ratio())
    raise NotFound("account", f"no account matches {q!r} by id, domain or name",
                   [_row(r) for r in ranked[:MAX_CANDIDATES]])


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
            cond = func.lower(col).like(pattern, escape="\\")
            if territories is not None:
                cond = cond & a.c.territory.in_(sorted(territories))
            total = conn.execute(select(func.count()).where(cond)).scalar() or 0
            if total:
                values = conn.execute(select(col).where(cond).order_by(col).limit(limit)).scalars().all()
                picked.append((total, [v for v in values if v]))
    total = sum(t for t, _ in picked)
    values = list(dict.fromkeys(v for _, vs in picked for v in vs))
    return values[:limit], total

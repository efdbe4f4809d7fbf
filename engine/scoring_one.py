"""Scoring one account or prospect in Python against the definition (same semantics as the SQL path)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select

from icp_mcp.engine.attributes import attribute_relation
from icp_mcp.engine.catalogue import (
    CATEGORICAL,
    NUMERIC,
    TECHNOLOGY,
    TRIGGER,
    allowed_attributes,
    band_label,
    bands,
    kind_of,
)
from icp_mcp.engine.errors import EngineError
from icp_mcp.engine.lookup import find_account
from icp_mcp.engine.profile import Condition, ICPDefinition
from icp_mcp.engine.score import (
    AccountCandidates,
    AccountScore,
    Candidate,
    CriterionHit,
    DisqualifierHit,
    SimilarCustomer,
    ensure_tiers,
)

Rows = dict[str, list[tuple[str | None, float | None]]]
SIMILAR_ATTRIBUTES = list(CATEGORICAL) + list(NUMERIC) + [TECHNOLOGY]
SIMILAR_POOL = 300
_BEST_CACHE: dict[tuple[int, str], set[str]] = {}


def _band_of(attribute: str, x: float) -> str | None:
    for lo, hi in bands(attribute):
        if (lo is None or x >= lo) and (hi is None or x < hi):
            return band_label(lo, hi)
    return None


def prospect_rows(attributes: dict) -> Rows:
    """Validate raw prospect attributes and turn them into attribute rows."""
    if not isinstance(attributes, dict) or not attributes:
        raise EngineError("attributes", "give a non-empty object of attribute: value", allowed_attributes())
    rows: Rows = defaultdict(list)
    for key, raw in attributes.items():
        kind = kind_of(key)
        if kind is None:
            raise EngineError("attributes", f"unknown attribute {key!r}", allowed_attributes())
        if raw is None:
            continue
        items = raw if isinstance(raw, (list, tuple)) else [raw]
        if kind not in ("technology", "trigger") and len(items) != 1:
            raise EngineError(f"attributes.{key}", "takes one value, not a list")
        for item in items:
            if kind == "numeric":
                try:
                    x = float(item)
                except (TypeError, ValueError):
                    raise EngineError(f"attributes.{key}", f"must be a number, got {item!r}") from None
                rows[key].append((_band_of(key, x), x))
            else:
                if isinstance(item, (dict, list)):
                    raise EngineError(f"attributes.{key}", "must be text")
                rows[key].append((str(item), None))
    return rows


def account_rows(engine: Engine, account_id: str, attributes: list[str], window: int) -> Rows:
    rel = attribute_relation(attributes, as_of=datetime.now(), trigger_window_days=window,
                             account_ids=[account_id]).subquery("rel")
    rows: Rows = defaultdict(list)
    with engine.connect() as conn:
        for attr, value, num in conn.execute(select(rel.c.attribute, rel.c.value, rel.c.num)):
            rows[attr].append((value, num))
    return rows


def _matches(cond: Condition, rows: Rows) -> tuple[bool, str | None]:
    values = rows.get(cond.attribute, [])
    for value, num in values:
        if cond.matches(value, num):
            return True, (f"{num:g}" if num is not None else value)
    shown = ", ".join(f"{n:g}" if n is not None else str(v) for v, n in values[:5]) or None
    return False, shown


def evaluate(definition: ICPDefinition, rows: Rows) -> dict[str, Any]:
    """Points, met/missed criteria, disqualifier hits and segments of one account's rows."""
    met, missed, hits, points = [], [], [], 0.0
    for c in definition.criteria:
        ok, shown = _matches(c, rows)
        hit = CriterionHit(id=c.id or "", condition=c.describe(), attribute=c.attribute, account_value=shown,
                           points=c.points, evidence=c.evidence)
        (met if ok else missed).append(hit)
        points += c.points if ok else 0
    for d in definition.disqualifiers:
        ok, _ = _matches(d, rows)
        if ok:
            hits.append(DisqualifierHit(id=d.id, condition=d.describe(), sentence=d.sentence, evidence=d.evidence))
    segments = [s.id for s in definition.segments if all(_matches(c, rows)[0] for c in s.conditions)]
    for seg in definition.segments:
        if seg.points and seg.id in segments:
            points += seg.points
            met.append(CriterionHit(id=seg.id, condition=f"segment {seg.name}: " + " AND ".join(
                c.describe() for c in seg.conditions), attribute="segment", points=seg.points, evidence=seg.evidence))
    missed.sort(key=lambda h: -h.points)
    return {"points": points, "met": met, "missed": [m for m in missed if m.points > 0] + [
        m for m in missed if m.points <= 0], "disqualifiers": hits, "segments": segments}


def _best_ids(engine: Engine, definition: ICPDefinition) -> set[str]:
    from icp_mcp.engine.value_sql import best_ids_query

    key = (id(engine), definition.value_weights.model_dump_json())
    if key not in _BEST_CACHE:
        with engine.connect() as conn:
            _BEST_CACHE[key] = set(conn.execute(best_ids_query(None, definition.value_weights)).scalars())
    return _BEST_CACHE[key]


def similar_best(engine: Engine, definition: ICPDefinition, rows: Rows, exclude: str | None,
                 k: int = 3) -> list[SimilarCustomer]:
    """The k best customers sharing the most attribute values (band for numbers) with the scored rows."""
    from icp_mcp.archive.schema import accounts

    pairs = [(a, v) for a in SIMILAR_ATTRIBUTES for v, _ in rows.get(a, []) if v is not None]
    if not pairs:
        return []
    best = _best_ids(engine, definition)
    if not best:
        return []
    rel = attribute_relation(sorted({a for a, _ in pairs})).subquery("rel")
    cond = or_(*(and_(rel.c.attribute == a, rel.c.value == v) for a, v in pairs))
    stmt = (select(rel.c.account_id, func.count().label("shared"))
            .where(cond).group_by(rel.c.account_id).order_by(func.count().desc(), rel.c.account_id)
            .limit(SIMILAR_POOL))
    if exclude:
        stmt = stmt.where(rel.c.account_id != exclude)
    with engine.connect() as conn:
        top = [(aid, n) for aid, n in conn.execute(stmt) if aid in best][:k]
        if not top:
            return []
        ids = [aid for aid, _ in top]
        names = dict(conn.execute(select(accounts.c.account_id, accounts.c.name)
                                  .where(accounts.c.account_id.in_(ids))).all())
        rel2 = attribute_relation(sorted({a for a, _ in pairs}), account_ids=ids).subquery("rel2")
        shared_rows = conn.execute(select(rel2.c.account_id, rel2.c.attribute, rel2.c.value).where(
            or_(*(and_(rel2.c.attribute == a, rel2.c.value == v) for a, v in pairs)))).all()
    shared: dict[str, list[str]] = defaultdict(list)
    for aid, attr, value in shared_rows:
        shared[aid].append(f"{attr}={value}")
    return [SimilarCustomer(account_id=aid, name=names.get(aid, aid), shared=int(n),
                            shared_values=sorted(shared[aid])[:10]) for aid, n in top]


def score_one(engine: Engine, definition: ICPDefinition, *, account: str | None = None,
              attributes: dict | None = None) -> AccountScore | AccountCandidates:
    """Score one archived account or one prospect (exactly one of `account`, `attributes`)."""
    if (account is None) == (attributes is None):
        raise EngineError("account", "give exactly one of account (id, domain or name) or attributes")
    definition = ensure_tiers(engine, definition)
    info: dict = {}
    if account is not None:
        found, candidates = find_account(engine, account)
        if found is None:
            return AccountCandidates(
                query=account, candidates=[Candidate(**c) for c in candidates],
                message=f"{len(candidates)} accounts match {account!r}; ask again with one account_id",
            )
        info = found
        wanted = sorted(set(SIMILAR_ATTRIBUTES) | set(definition.attributes_used()) | {TRIGGER})
        rows = account_rows(engine, found["account_id"], wanted, definition.trigger_window_days)
    else:
        rows = prospect_rows(attributes or {})
    result = evaluate(definition, rows)
    disqualified = bool(result["disqualifiers"])
    tier = definition.tiers.tier(result["points"], disqualified) if definition.tiers else "D"
    probability = None
    if disqualified:
        rates = [h.evidence.rate for h in result["disqualifiers"] if h.evidence is not None]
        probability = min(rates) if rates else None
    if probability is None and definition.calibration is not None:
        probability = definition.calibration.probability(result["points"])
    shown = {a: [v if n is None else n for v, n in vals] for a, vals in rows.items()}
    shown = {a: (v[0] if len(v) == 1 and kind_of(a) not in ("technology", "trigger") else v)
             for a, v in shown.items()}
    return AccountScore(
        account_id=info.get("account_id"), name=info.get("name"), domain=info.get("domain"),
        territory=info.get("territory"), icp_name=definition.name, points=result["points"],
        fit_score=definition.fit_score(result["points"]), tier=tier,
        win_probability=None if probability is None else round(probability, 4),
        segments=result["segments"], met=result["met"], missed=result["missed"],
        disqualifiers=result["disqualifiers"],
        similar_best_customers=similar_best(engine, definition, rows, info.get("account_id")),
        attributes=shown,
    )

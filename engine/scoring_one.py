"""Scoring one account or prospect in Python against the definition (same semantics as the SQL path)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import DateTime, Engine, String, and_, case, cast, func, literal, null, select, union_all

from icp_mcp.archive.schema import account_technologies, accounts, opportunities, signals
from icp_mcp.engine.catalogue import (
    CATEGORICAL,
    EXTRA_PREFIX,
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


def _band_range(attribute: str, x: float) -> tuple[float | None, float | None]:
    for lo, hi in bands(attribute):
        if (lo is None or x >= lo) and (hi is None or x < hi):
            return lo, hi
    return None, None


def _text(v: object) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def _rows_from(row, techs: list[str], sigs: list[tuple[datetime, str]], created: list, attributes: list[str],
               window: int) -> Rows:
    """Attribute rows of one account from its column values, technologies, signals and deal dates."""
    rows: Rows = defaultdict(list)
    extras = row["attributes"]
    if isinstance(extras, str):
        try:
            extras = json.loads(extras)
        except ValueError:
            extras = None
    for name in attributes:
        kind = kind_of(name)
        if kind == "categorical" and row[name] is not None:
            rows[name].append((str(row[name]), None))
        elif kind == "numeric" and row[name] is not None:
            x = float(row[name])
            rows[name].append((_band_of(name, x), x))
        elif kind == "extra" and isinstance(extras, dict):
            v = extras.get(name[len(EXTRA_PREFIX):])
            if v is not None and not isinstance(v, (dict, list)):
                rows[name].append((_text(v), None))
        elif kind == "technology":
            rows[name] += [(str(x), None) for x in techs]
    if TRIGGER in attributes:
        span = timedelta(days=window)
        refs = [c if isinstance(c, datetime) else datetime.combine(c, time.min) for c in created]
        refs.append(datetime.now())
        kinds = {k for at, k in sigs if any(r - span <= at <= r for r in refs)}
        rows[TRIGGER] += [(k, None) for k in sorted(kinds)]
    return rows


def account_rows(engine: Engine, account_id: str, attributes: list[str], window: int) -> Rows:
    """One account's attribute rows from two keyed queries (same values as the SQL relation)."""
    a, t, s, o = accounts, account_technologies, signals, opportunities
    cols = [a.c[c] for c in (*CATEGORICAL, *NUMERIC)] + [a.c.attributes]
    side = union_all(
        select(literal("t").label("k"), cast(t.c.technology, String).label("v"),
               cast(null(), DateTime).label("at")).where(t.c.account_id == account_id),
        select(literal("s"), cast(s.c.kind, String), cast(s.c.occurred_at, DateTime)).where(
            s.c.account_id == account_id),
        select(literal("o"), cast(null(), String), cast(o.c.created_at, DateTime)).where(
            o.c.account_id == account_id),
    )
    with engine.connect() as conn:
        row = conn.execute(select(*cols).where(a.c.account_id == account_id)).mappings().first()
        extra = conn.execute(side).all()
    if row is None:
        return defaultdict(list)
    techs = [v for k, v, _ in extra if k == "t"]
    sigs = [(at, v) for k, v, at in extra if k == "s"]
    created = [at for k, _, at in extra if k == "o"]
    return _rows_from(row, techs, sigs, created, attributes, window)


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
    """The k best customers sharing the most attribute values (band for numbers) with the scored rows:
    one scan of accounts (a sum of CASEs plus shared technologies), then the best-customer filter."""
    a, t, o = accounts, account_technologies, opportunities
    terms = []
    for attr in SIMILAR_ATTRIBUTES:
        for value, num in rows.get(attr, []):
            kind = kind_of(attr)
            if kind == "categorical" and value is not None:
                terms.append(case((a.c[attr] == value, 1), else_=0))
            elif kind == "numeric" and num is not None:
                lo, hi = _band_range(attr, num)
                test = and_(*([a.c[attr] >= lo] if lo is not None else []), *([a.c[attr] < hi] if hi is not None else []))
                terms.append(case((test, 1), else_=0))
    techs = [v for v, _ in rows.get(TECHNOLOGY, []) if v is not None]
    if techs:
        terms.append(select(func.count()).where(t.c.account_id == a.c.account_id, t.c.technology.in_(techs))
                     .scalar_subquery())
    if not terms:
        return []
    best = _best_ids(engine, definition)
    if not best:
        return []
    shared = sum(terms[1:], terms[0])
    won = select(o.c.account_id).where(o.c.stage == "won")
    cols = [a.c[c] for c in (*CATEGORICAL, *NUMERIC)] + [a.c.attributes]
    stmt = (select(a.c.account_id, a.c.name, shared.label("shared"), *cols).where(a.c.account_id.in_(won))
            .order_by(shared.desc(), a.c.account_id).limit(SIMILAR_POOL))
    if exclude:
        stmt = stmt.where(a.c.account_id != exclude)
    with engine.connect() as conn:
        top = [r for r in conn.execute(stmt).mappings() if r["account_id"] in best and r["shared"] > 0][:k]
        ids = [r["account_id"] for r in top]
        tech_rows = conn.execute(select(t.c.account_id, t.c.technology).where(t.c.account_id.in_(ids))).all()
    mine = {(attr, v) for attr in SIMILAR_ATTRIBUTES for v, _ in rows.get(attr, [])}
    out = []
    for r in top:
        aid, name, n = r["account_id"], r["name"], int(r["shared"])
        theirs = _rows_from(r, [x for i, x in tech_rows if i == aid], [], [], SIMILAR_ATTRIBUTES, 0)
        common = sorted(f"{attr}={v}" for attr in SIMILAR_ATTRIBUTES for v, _ in theirs.get(attr, [])
                        if (attr, v) in mine)
        out.append(SimilarCustomer(account_id=aid, name=name, shared=n, shared_values=common[:10]))
    return out


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

"""Scoring one account or prospect in Python against the definition (same semantics as the SQL path)."""

from __future__ import annotations

import json
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import (
    BigInteger, ColumnElement, DateTime, Engine, String, Table, case, cast, func, literal, null, or_, select, union_all,
)

from icp_mcp.archive.clock import utc_now
from icp_mcp.archive.schema import (
    SIMILAR_COLUMNS, SIMILAR_DEPTH, account_technologies, accounts, icp_best_profiles, icp_similar_candidates,
    opportunities, signals,
)
from icp_mcp.engine.sql.attributes import attribute_relation
from icp_mcp.engine.sql import cache
from icp_mcp.engine.model.catalogue import (
    CATEGORICAL,
    NUMERIC,
    TECHNOLOGY,
    TRIGGER,
    allowed_attributes,
    extra_key,
    is_column,
    is_multi_valued,
    is_numeric,
    kind_of,
    row_value,
)
from icp_mcp.engine.model.errors import EngineError
from icp_mcp.engine.model.numbers import attribute_value
from icp_mcp.engine.sql.lookup import Territories, find_account, profile_label
from icp_mcp.engine.model.profile import Condition, ICPDefinition
from icp_mcp.engine.scoring.results import AccountCandidates, AccountScore, Candidate, CriterionHit, DisqualifierHit, SimilarCustomer
from icp_mcp.engine.scoring import state
from icp_mcp.engine.scoring.state import SIMILAR_ATTRIBUTES
from icp_mcp.engine.scoring.tiers import ensure_tiers
from icp_mcp.engine.sql.value_sql import best_ids_query

Rows = dict[str, list[tuple[str | None, float | None]]]


def prospect_rows(attributes: dict) -> Rows:
    """Validate raw prospect attributes and turn them into attribute rows."""
    if not isinstance(attributes, dict) or not attributes:
        raise EngineError("attributes", "give a non-empty object of attribute: value", allowed_attributes())
    rows: Rows = defaultdict(list)
    for key, raw in attributes.items():
        if kind_of(key) is None:
            raise EngineError("attributes", f"unknown attribute {key!r}", allowed_attributes())
        if raw is None:
            continue
        items = raw if isinstance(raw, (list, tuple)) else [raw]
        if not is_multi_valued(key) and len(items) != 1:
            raise EngineError(f"attributes.{key}", "takes one value, not a list")
        for item in items:
            if not is_numeric(key) and isinstance(item, (dict, list)):
                raise EngineError(f"attributes.{key}", "must be text")
            try:
                rows[key].append(row_value(key, item))
            except (TypeError, ValueError):
                raise EngineError(f"attributes.{key}", f"must be a number, got {item!r}") from None
    return rows


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
        if kind_of(name) is None or is_multi_valued(name):
            continue
        if is_column(name):
            v = row[name]
        else:
            v = extras.get(extra_key(name)) if isinstance(extras, dict) else None
        if v is not None and not isinstance(v, (dict, list)):
            rows[name].append(row_value(name, v))
    if TECHNOLOGY in attributes:
        rows[TECHNOLOGY] += [row_value(TECHNOLOGY, x) for x in techs]
    if TRIGGER in attributes:
        span = timedelta(days=window)
        refs = [c if isinstance(c, datetime) else datetime.combine(c, time.min) for c in created]
        refs = [max(refs)] if refs else []  # the latest opportunity, as in the SQL relation
        refs.append(utc_now())
        kinds = {k for at, k in sigs if any(r - span <= at <= r for r in refs)}
        rows[TRIGGER] += [(k, None) for k in sorted(kinds)]
    return rows


#: The accounts columns an account's attribute rows come from (a lookup may read them with the key).
ROW_COLUMNS: tuple[str, ...] = (*CATEGORICAL, *NUMERIC, "attributes")


def account_rows(engine: Engine, account_id: str, attributes: list[str], window: int,
                 row: dict | None = None) -> Rows:
    """One account's attribute rows from two keyed queries (same values as the SQL relation); one when the
    account's `row` (its ROW_COLUMNS, read by the lookup) is given."""
    a, t, s, o = accounts, account_technologies, signals, opportunities
    cols = [a.c[c] for c in ROW_COLUMNS]
    side = union_all(
        select(literal("t").label("k"), cast(t.c.technology, String).label("v"),
               cast(null(), DateTime).label("at")).where(t.c.account_id == account_id),
        select(literal("s"), cast(s.c.kind, String), cast(s.c.occurred_at, DateTime)).where(
            s.c.account_id == account_id),
        select(literal("o"), cast(null(), String), cast(o.c.created_at, DateTime)).where(
            o.c.account_id == account_id),
    )
    with engine.connect() as conn:
        if row is None:
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
            return True, (attribute_value(cond.attribute, num) if num is not None else value)
    shown = ", ".join(attribute_value(cond.attribute, n) if n is not None else str(v) for v, n in values[:5]) or None
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
    # `missed` = criteria not met that would add points; penalties that hit are listed apart
    return {"points": points, "met": [m for m in met if m.points >= 0],
            "penalties": sorted((m for m in met if m.points < 0), key=lambda h: h.points),
            "missed": [m for m in missed if m.points > 0], "disqualifiers": hits, "segments": segments}


def _best_index(engine: Engine, definition: ICPDefinition) -> tuple[list[str], dict, list]:
    """The recomputed best customers (ids sorted), postings (attribute, value) → numpy index array and their
    territories; cached per generation (used only while the stored ICP state is not current)."""

    def recompute() -> tuple[list[str], dict, list]:
        best = best_ids_query(None, definition.value_weights).subquery("best")
        rel = attribute_relation(SIMILAR_ATTRIBUTES).subquery("rel")
        values = (select(rel.c.account_id, rel.c.attribute, rel.c.value)
                  .join(best, best.c.account_id == rel.c.account_id).where(rel.c.value.is_not(None)))
        a = accounts.c
        with engine.connect() as conn:
            homes = dict(conn.execute(select(a.account_id, a.territory).join(best, best.c.account_id == a.account_id)
                                      ).all())
            ids = sorted(homes)
            index = {aid: i for i, aid in enumerate(ids)}
            v = values.subquery("v")
            grouped = conn.execute(select(v.c.attribute, v.c.value, func.array_agg(v.c.account_id))
                                   .group_by(v.c.attribute, v.c.value)).all()  # one row per value, not per pair
        postings = {(attr, value): np.array(sorted(index[m] for m in members), dtype=np.int32)
                    for attr, value, members in grouped}
        return ids, postings, [homes[i] for i in ids]

    return cache.cached(engine, ("best_index", definition.value_weights.model_dump_json()), recompute)


class Who(NamedTuple):
    """What a similar customer is called, and what its firmographic profile says."""

    name: str | None
    industry: str | None
    funding_stage: str | None
    employees: float | None


#: A similar best customer: account_id, facts shared, the shared values (each fact once), who it is.
Found = tuple[str, int, list[str], Who]

#: Attributes that state one fact (where the account is): a match on any of them counts once.
SAME_FACT: dict[str, str] = {"country": "geography", "region": "geography", "territory": "geography"}


def _shared_facts(definition: ICPDefinition, rows: Rows) -> list[tuple[str, str]]:
    """The scored rows' (attribute, value) pairs that similar-customer search compares, sorted: the ICP's own
    attributes, and for a list attribute (technology) only the values the ICP names (Snowflake, not Slack)."""
    wanted = state.similarity_attributes(definition)
    named = {(c.attribute, v) for c in [*definition.criteria, *(x for s in definition.segments for x in s.conditions)]
             for v in (c.accepted() or [])}
    return sorted({(attr, v) for attr in wanted for v, _ in rows.get(attr, []) if v is not None
                   and (attr != TECHNOLOGY or (attr, v) in named)})


def _told(mine: list[tuple[str, str]], held: set[tuple[str, str]]) -> list[str]:
    """The shared values of one similar customer, each fact once, in the scored rows' order."""
    shared, told = [], set()
    for a, v in mine:
        fact = SAME_FACT.get(a, f"{a}={v}")
        if fact not in told and (a, v) in held:
            told.add(fact)
            shared.append(f"{a}={v}")
    return shared


def _similar_stored(engine: Engine, version: int, mine: list[tuple[str, str]], exclude: str | None, k: int,
                    territories: Territories, anonymous: bool, *, table: Table = icp_best_profiles) -> list[Found]:
    """(account_id, facts shared, shared values, who) of the k stored best customers sharing the most facts: one
    scan of `table` (a row per best customer, or the few per group of `icp_similar_candidates`) with a top-k
    sort, no grouping and no per-process index, so a fresh process answers as fast as a warm one. Ties go to
    the lower account id, as in the in-memory index."""
    p = table.c
    bit = {name: i for i, name in enumerate(state.technology_bits(engine, version))}

    def test(attr: str, value: str) -> ColumnElement[bool]:
        if attr == TECHNOLOGY:  # the ICP's technologies are bits (an AND, not a substring search)
            if value in bit:
                return p.tech_bits.op("&")(literal(1 << bit[value], BigInteger)) != 0
            return p.technologies.contains(f",{value},", autoescape=True)
        return p[attr] == value

    facts: dict[str, list[ColumnElement[bool]]] = defaultdict(list)
    for attr, value in mine:
        facts[SAME_FACT.get(attr, f"{attr}={value}")].append(test(attr, value))
    shared = sum((case((or_(*tests), 1), else_=0) for tests in facts.values()), literal(0))
    where = [p.version == version, shared > 0]
    if exclude is not None:
        where.append(p.account_id != exclude)
    if territories is not None and not anonymous:  # anonymous profiles name nobody: every best customer
        where.append(p.territory.in_(sorted(territories)))
    # only what the answer shows: the compared columns (to tell which values are shared) and who it is
    compared = sorted({a for a, _ in mine if a != TECHNOLOGY} | {"industry", "funding_stage"})
    techs = [p.technologies] if any(a == TECHNOLOGY for a, _ in mine) else []
    top = (select(p.account_id, shared.label("shared"), *[p[c] for c in compared], *techs, p.name, p.headcount)
           .where(*where).order_by(shared.desc(), p.account_id).limit(k))
    with engine.connect() as conn:
        rows = conn.execute(top).mappings().all()
    out = []
    for row in rows:
        held = {(a, v) for a, v in mine
                if (f",{v}," in (row["technologies"] or "") if a == TECHNOLOGY else row[a] == v)}
        who = Who(row["name"], row["industry"], row["funding_stage"], row["headcount"])
        out.append((row["account_id"], int(row["shared"]), _told(mine, held), who))
    return out


def _similar_indexed(engine: Engine, definition: ICPDefinition, mine: list[tuple[str, str]], exclude: str | None,
                     k: int, territories: Territories, anonymous: bool) -> list[Found]:
    """As `_similar_stored`, over the cached in-memory index of a recomputed best-customer cohort (when the
    stored state is not current): one bincount per fact."""
    ids, postings, homes = _best_index(engine, definition)
    if not ids:
        return []
    facts: dict[str, list[np.ndarray]] = defaultdict(list)
    for p in mine:
        if p in postings:
            facts[SAME_FACT.get(p[0], f"{p[0]}={p[1]}")].append(postings[p])
    if not facts:
        return []
    counts = np.zeros(len(ids), dtype=np.int64)
    for lists in facts.values():  # one point per fact, however many of its attributes match
        counts += np.bincount(np.unique(np.concatenate(lists)), minlength=len(ids)) > 0
    if exclude is not None:
        pos = bisect_left(ids, exclude)
        if pos < len(ids) and ids[pos] == exclude:
            counts[pos] = 0
    if territories is not None and not anonymous:
        allowed_here = set(territories)
        counts[np.array([t not in allowed_here for t in homes], dtype=bool)] = 0
    out = []
    for i in np.argsort(-counts, kind="stable")[:k]:
        if counts[i] <= 0:
            break
        held = {p for p in mine if p in postings and _has(postings[p], int(i))}
        out.append((ids[i], int(counts[i]), _told(mine, held)))
    if not out:
        return []
    a = accounts.c
    with engine.connect() as conn:
        info = {r.account_id: Who(r.name, r.industry, r.funding_stage, r.employees) for r in conn.execute(
            select(a.account_id, a.name, a.industry, a.funding_stage, a.employees)
            .where(a.account_id.in_([aid for aid, _, _ in out])))}
    return [(aid, shared, values, info.get(aid, Who(None, None, None, None))) for aid, shared, values in out]


def similar_best(engine: Engine, definition: ICPDefinition, rows: Rows, exclude: str | None,
                 k: int = 3, *, territories: Territories = None, anonymous: bool = False) -> list[SimilarCustomer]:
    """The k best customers sharing the most of the ICP's attribute values (band for numbers) with the
    scored rows, each fact once (country, region and territory are one): from the stored ICP state when it
    is current (one scan of its similar candidates, else of a row per best customer), else from a cached
    in-memory index of the recomputed cohort.

    `territories` keeps only best customers the caller may see (None = all); `anonymous` describes them
    by firmographics (`profile`) instead of naming them, for callers who may name no account."""
    mine = _shared_facts(definition, rows)
    if not mine:
        return []
    version = state.customer_version(engine, definition.value_weights)
    if version is not None:
        few = k < SIMILAR_DEPTH and state.candidates_answer(engine, version, definition)
        cache.count("similar_candidates" if few else "similar_stored")
        found = _similar_stored(engine, version, mine, exclude, k, territories, anonymous,
                                table=icp_similar_candidates if few else icp_best_profiles)
    else:
        found = _similar_indexed(engine, definition, mine, exclude, k, territories, anonymous)
    out = []
    for aid, shared, values, who in found:
        if anonymous:
            out.append(SimilarCustomer(account_id=None, name=None, shared=shared, shared_values=values[:10],
                                       profile=profile_label(who.industry, who.funding_stage, who.employees)))
        else:
            out.append(SimilarCustomer(account_id=aid, name=who.name, shared=shared, shared_values=values[:10]))
    return out


def _has(sorted_indices: np.ndarray, i: int) -> bool:
    j = int(np.searchsorted(sorted_indices, i))
    return j < len(sorted_indices) and int(sorted_indices[j]) == i


def score_account(engine: Engine, definition: ICPDefinition, *, account: str | None = None,
                  attributes: dict | None = None, territories: Territories = None,
                  anonymous: bool = False, on_found: Callable[[str], object] | None = None,
                  ) -> AccountScore | AccountCandidates:
    """Score one archived account or one prospect (exactly one of `account`, `attributes`).

    `territories` is the caller's view: the account is looked up, and similar best customers chosen,
    only among accounts of those territories (None = all); `anonymous` describes similar customers by
    firmographics instead of naming them. `on_found(account_id)` is called as soon as the account is
    resolved, so a caller can read what else it needs about it (the buying committee) meanwhile."""
    if (account is None) == (attributes is None):
        raise EngineError("account", "give exactly one of account (id, domain or name) or attributes")
    definition = ensure_tiers(engine, definition)
    info: dict = {}
    if account is not None:
        found, candidates = find_account(engine, account, territories, columns=ROW_COLUMNS)
        if found is None:
            return AccountCandidates(
                query=account, candidates=[Candidate(**c) for c in candidates],
                message=f"{len(candidates)} accounts match {account!r}; ask again with one account_id",
            )
        info = found
        if on_found is not None:
            on_found(found["account_id"])
        wanted = sorted(set(SIMILAR_ATTRIBUTES) | set(definition.attributes_used()) | {TRIGGER})
        rows = account_rows(engine, found["account_id"], wanted, definition.trigger_window_days, row=found)
    else:
        rows = prospect_rows(attributes or {})
    result = evaluate(definition, rows)
    disqualified = bool(result["disqualifiers"])
    tier = definition.tiers.tier(result["points"], disqualified) if definition.tiers else "D"
    probability = None
    if disqualified:
        win_rules = {d.id for d in definition.disqualifiers if d.metric == "win_rate"}
        rates = [h.evidence.rate for h in result["disqualifiers"] if h.evidence is not None and h.id in win_rules]
        probability = min(rates) if rates else None
    if probability is None and definition.calibration is not None:
        probability = definition.calibration.probability(result["points"])
    shown = {a: [v if n is None else n for v, n in vals] for a, vals in rows.items()}
    shown = {a: (v[0] if len(v) == 1 and not is_multi_valued(a) else v)
             for a, v in shown.items()}
    return AccountScore(
        account_id=info.get("account_id"), name=info.get("name"), domain=info.get("domain"),
        territory=info.get("territory"), icp_name=definition.name, points=result["points"],
        fit_score=definition.fit_score(result["points"]), tier=tier,
        win_probability=None if probability is None else round(probability, 4),
        segments=result["segments"], met=result["met"], missed=result["missed"], penalties=result["penalties"],
        disqualifiers=result["disqualifiers"],
        similar_best_customers=similar_best(engine, definition, rows, info.get("account_id"),
                                            territories=territories, anonymous=anonymous),
        attributes=shown,
    )

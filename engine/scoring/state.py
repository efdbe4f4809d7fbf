"""ICP state kept in the archive: what the cohorts, best_customers, similar-customer search and
explain_disqualifier need, stored for the active version so that a fresh process answers its first call
without rescoring the archive.

Tables (archive/schema.py): `icp_state` (one header row: version, definition digest, value-weights digest,
generation, day), `icp_account_state` (points, disqualified, fit_score, tier, win_probability, disqualifier,
segments per account), `icp_customer_state` (value components, value_score, rank and the best-cohort flag
per customer), `icp_best_profiles` (each best customer's compared values, for similar-customer search),
`icp_similar_candidates` (the few best profiles of each group alike in what the search compares, `similar_key`),
`icp_rule_state` (each disqualifier's exceptions and recent deals, for explain_disqualifier),
`icp_drift_facts` (closed deals per day by ICP group, attribute value and first deal, for check_drift),
`icp_adoption_facts` (each feature's adoption sums per ICP group for the default window, for feature_adoption),
`icp_persona_facts` (closed deals and snippets per role and title by day, for derivations' personas).

A stored state is *current* for a definition when its digest matches, its generation is the archive's
generation and it was built today (trigger windows and value ages count from today). Readers ask
`account_version` / `customer_version`; None means recompute. A state of the current generation built on an
earlier day still answers (same data; tiers and ranks as of its day, `built_on` says which) while a process
that may write rebuilds it for today (`is_stale`): the first question of a new day does not recompute the
archive (at 1M accounts that took longer than a call may). `build` writes the state in one transaction
with INSERT … SELECT from the batch queries (`batch.account_scores_query`, `value_sql`), never a Python
loop; `refresh` builds it when the active version's state is not current. Building does not bump the
generation (the state is derived from what the generation already names).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Float,
    Integer,
    RowMapping,
    Select,
    String,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    inspect,
    literal,
    null,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from icp_mcp.archive import generation as archive_generation
from icp_mcp.archive.clock import today, utc_now  # today: the day a stored state is valid for
from icp_mcp.archive.schema import (
    SIMILAR_COLUMNS,
    SIMILAR_DEPTH,
    accounts,
    icp_account_state,
    icp_adoption_facts,
    icp_best_profiles,
    icp_customer_state,
    icp_drift_facts,
    icp_persona_facts,
    icp_rule_state,
    icp_similar_candidates,
    icp_state,
    icp_versions,
)
from icp_mcp.engine.model.catalogue import CATEGORICAL, NUMERIC, TECHNOLOGY, is_multi_valued
from icp_mcp.engine.model.profile import ICPDefinition, ValueWeights
from icp_mcp.engine.scoring.batch import account_scores_query
from icp_mcp.engine.sql import adoption_sql, cache, drift_facts, persona_sql, rule_facts
from icp_mcp.engine.sql.attributes import attribute_relation, value_expr
from icp_mcp.engine.sql.matching import members_query
from icp_mcp.engine.sql.points import condition_test, flagged_accounts
from icp_mcp.engine.sql.value_sql import VALUE_COMPONENTS, ranked_customers_query
from icp_mcp.engine.sql.versions import active_icp

Progress = Callable[[float, float | None, str], None]
#: Attributes similar-customer search compares (bands for numbers).
SIMILAR_ATTRIBUTES = list(CATEGORICAL) + list(NUMERIC) + [TECHNOLOGY]
_TABLES = (icp_state, icp_account_state, icp_customer_state, icp_best_profiles, icp_similar_candidates,
           icp_rule_state, icp_drift_facts, icp_adoption_facts, icp_persona_facts)
_LOCK_ID = 7_311_202  # PostgreSQL advisory lock: one state build at a time per archive


@dataclass(frozen=True)
class Header:
    """One stored state: for which definition, generation and day it was built."""

    version: int
    digest: str
    weights_digest: str
    generation: int
    as_of: date
    technology_bits: tuple[str, ...] = ()  # icp_best_profiles.tech_bits: bit i is the i-th technology
    similar_key: tuple[str, ...] = ()  # the columns icp_similar_candidates groups by; () = none stored
    persona_facts: bool = False  # icp_persona_facts holds this state's persona counts


def digest(definition: ICPDefinition) -> str:
    """A short fingerprint of a definition's content."""
    return hashlib.sha256(definition.model_dump_json().encode()).hexdigest()[:24]


def weights_digest(weights: ValueWeights | None) -> str:
    """A short fingerprint of value weights (None = the defaults)."""
    return hashlib.sha256((weights or ValueWeights()).model_dump_json().encode()).hexdigest()[:24]


# ------------------------------------------------------------------------------------------ reading


def _header_of(row: RowMapping) -> Header:
    """A stored `icp_state` row (a mapping) as its Header."""
    return Header(int(row["version"]), str(row["digest"]), str(row["weights_digest"]), int(row["generation"]),
                  _as_date(row["as_of"]), _names(row["technology_bits"]), _names(row["similar_key"]),
                  bool(row.get("persona_facts")))


def _read_headers(engine: Engine) -> tuple[Header, ...]:
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(icp_state)).mappings().all()
    except SQLAlchemyError:  # an archive made before the state tables existed
        return ()
    return tuple(_header_of(row) for row in rows)


def _names(packed: str | None) -> tuple[str, ...]:
    """',a,b,' → ('a', 'b')."""
    return tuple(x for x in (packed or "").split(",") if x)


def _packed(names: tuple[str, ...]) -> str:
    """('a', 'b') → ',a,b,'."""
    return "," + "".join(f"{name}," for name in names)


def _as_date(value: object) -> date:
    return value.date() if isinstance(value, datetime) else value  # type: ignore[return-value]


def headers(engine: Engine) -> tuple[Header, ...]:
    """The stored states' headers (read once per generation)."""
    return cache.cached(engine, ("state_header",), lambda: _read_headers(engine))


def _usable(engine: Engine, match: Callable[[Header], bool], *, today_only: bool = False) -> Header | None:
    """The stored state of the current generation that `match`es: today's, else (unless `today_only`) the
    latest built on an earlier day."""
    found = headers(engine)
    if not found:
        return None
    gen, day = cache.generation(engine), today()
    fits = [h for h in found if h.generation == gen and h.as_of <= day and match(h)]
    fits.sort(key=lambda h: h.as_of, reverse=True)
    if fits and (fits[0].as_of == day or not today_only):
        return fits[0]
    return None


def _version(found: Header | None) -> int | None:
    return None if found is None else found.version


def account_version(engine: Engine, definition: ICPDefinition) -> int | None:
    """The version whose stored account state answers for `definition` (today's, or an earlier day's of the
    same generation while it is rebuilt), or None (recompute)."""
    wanted = digest(definition)
    return _version(_usable(engine, lambda h: h.digest == wanted))


def customer_version(engine: Engine, weights: ValueWeights | None) -> int | None:
    """The version whose stored customer ranking answers for these value weights, or None (recompute)."""
    wanted = weights_digest(weights)
    return _version(_usable(engine, lambda h: h.weights_digest == wanted))


def persona_facts_version(engine: Engine) -> int | None:
    """The version whose stored persona counts are current (any version's state of the current generation
    holds the same counts: they do not depend on the definition or the day); None: count from the deals."""
    return _version(_usable(engine, lambda h: h.persona_facts))


def _header_for(engine: Engine, version: int) -> Header | None:
    return next((h for h in headers(engine) if h.version == version), None)


def built_on(engine: Engine, version: int) -> date | None:
    """The day the stored state of `version` was built (its tiers and ranks count to that day)."""
    head = _header_for(engine, version)
    return None if head is None else head.as_of


def technology_bits(engine: Engine, version: int) -> tuple[str, ...]:
    """The technologies behind a stored version's `tech_bits` (bit i = the i-th name)."""
    head = _header_for(engine, version)
    return () if head is None else head.technology_bits


#: Technologies a best profile's bits can hold (a BIGINT, sign bit unused); further ones compare as text.
MAX_TECHNOLOGY_BITS = 62


def _all_named(definition: ICPDefinition) -> tuple[str, ...]:
    conditions = [*definition.criteria, *(c for seg in definition.segments for c in seg.conditions)]
    return tuple(sorted({v for c in conditions if c.attribute == TECHNOLOGY for v in c.accepted()
                         if v and "," not in v}))


def named_technologies(definition: ICPDefinition) -> tuple[str, ...]:
    """The technologies the ICP names (criteria and segment conditions), sorted: the ones similar-customer
    search compares, so the ones a best profile keeps as bits (the first MAX_TECHNOLOGY_BITS)."""
    return _all_named(definition)[:MAX_TECHNOLOGY_BITS]


def similarity_attributes(definition: ICPDefinition) -> list[str]:
    """The ICP's own attributes (criteria and segments) that similar-customer search compares; all when none."""
    used = {c.attribute for c in definition.criteria} | {c.attribute for s in definition.segments
                                                         for c in s.conditions}
    own = [a for a in SIMILAR_ATTRIBUTES if a in used]
    return own or list(SIMILAR_ATTRIBUTES)


def similar_key(definition: ICPDefinition) -> tuple[str, ...]:
    """The best-profile columns whose values decide what similar-customer search finds for `definition`: the
    compared attributes' columns (technology as the ICP's bits, or as the whole list when it names more than
    the bits hold) and the territory (a caller's view keeps territories). Best customers alike in all of
    them share the same facts with any scored account, and are seen by the same callers."""
    columns = [("tech_bits" if len(_all_named(definition)) <= MAX_TECHNOLOGY_BITS else "technologies")
               if a == TECHNOLOGY else a for a in similarity_attributes(definition)]
    return tuple(columns + ([] if "territory" in columns else ["territory"]))


def candidates_answer(engine: Engine, version: int, definition: ICPDefinition) -> bool:
    """True when the stored similar candidates of `version` answer similar-customer search for `definition`:
    they were grouped by every column that decides its facts, and its technologies are among the bits."""
    head = _header_for(engine, version)
    if head is None or not head.similar_key:
        return False
    wanted = similar_key(definition)
    return set(wanted) <= set(head.similar_key) and (
        "tech_bits" not in wanted or set(named_technologies(definition)) <= set(head.technology_bits))


def stored_account_ids(version: int, *, tiers: list[str] | None = None, segment: str | None = None) -> Select:
    """account_id of stored accounts in `tiers` and/or `segment` (a plain scan of the state table)."""
    s = icp_account_state.c
    where = [s.version == version]
    if tiers is not None:
        where.append(s.tier.in_(list(tiers)))
    if segment is not None:
        where.append(s.segments.contains(f",{segment},", autoescape=True))
    return select(s.account_id).where(and_(*where))


def stored_best_ids(version: int, top_n: int | None) -> Select:
    """account_id of the stored best-customer cohort (the default rule, or the top N by rank)."""
    c = icp_customer_state.c
    flag = c.in_best == 1 if top_n is None else c.rank <= top_n
    return select(c.account_id).where(c.version == version, flag)


def stored_size(engine: Engine, key: tuple, ids: Select) -> int:
    """How many ids a stored selectable yields (counted once per generation)."""

    def count() -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(ids.subquery("n"))).scalar_one())

    return cache.cached(engine, ("stored_size", *key), count)


# ------------------------------------------------------------------------------------------ the SQL


def _disqualifier_columns(definition: ICPDefinition):
    """A subquery `account_id, disqualifier, dq_rate`: the first disqualifier an account hits (definition
    order) and the lowest win rate among the win-rate disqualifiers it hits (as `score_account` reports)."""
    dqs = definition.disqualifiers
    multi = [(f"q{i}", d) for i, d in enumerate(dqs) if is_multi_valued(d.attribute)]
    source, flag_of = flagged_accounts(multi, utc_now(), definition.trigger_window_days)
    first = case(*[(condition_test(d, flag_of), literal(d.id or "", String)) for d in dqs], else_=null())
    rated = sorted((d for d in dqs if d.metric == "win_rate" and d.evidence is not None),
                   key=lambda d: d.evidence.rate)  # type: ignore[union-attr]
    rate = (case(*[(condition_test(d, flag_of), literal(float(d.evidence.rate), Float))  # type: ignore[union-attr]
                   for d in rated], else_=null()) if rated else cast(null(), Float))
    return select(accounts.c.account_id, first.label("disqualifier"), rate.label("dq_rate")).select_from(
        source).subquery("dq")


def _calibrated(definition: ICPDefinition, points):
    """win probability from points (Platt, as `Calibration.probability`), or NULL without calibration."""
    cal = definition.calibration
    if cal is None:
        return cast(null(), Float)
    z = literal(cal.a, Float) * points + literal(cal.b, Float)
    z = case((z < -50.0, -50.0), (z > 50.0, 50.0), else_=z)
    return 1.0 / (1.0 + func.exp(-z))


def account_state_query(engine: Engine, definition: ICPDefinition, version: int, gen: int) -> Select:
    """One row per account, in `icp_account_state`'s columns, from the batch scoring query."""
    s = account_scores_query(definition, engine).subquery("s")
    source = s
    dq_col, rate_col = cast(null(), String), cast(null(), Float)
    if definition.disqualifiers:
        dq = _disqualifier_columns(definition)
        source = source.outerjoin(dq, dq.c.account_id == s.c.account_id)
        dq_col, rate_col = dq.c.disqualifier, dq.c.dq_rate
    segments = literal(",", String)
    for i, seg in enumerate(definition.segments):
        m = members_query(seg.conditions).subquery(f"seg{i}")
        source = source.outerjoin(m, m.c.account_id == s.c.account_id)
        segments = segments + case((m.c.account_id.is_not(None), literal(f"{seg.id},", String)), else_="")
    dq_rate = cast(case((s.c.disqualified == 1, rate_col), else_=null()), Float)
    win = func.coalesce(dq_rate, cast(_calibrated(definition, s.c.points), Float))
    return select(
        literal(version, Integer).label("version"), s.c.account_id, literal(gen, Integer).label("generation"),
        s.c.points, s.c.disqualified, s.c.fit_score, s.c.tier, win.label("win_probability"),
        dq_col.label("disqualifier"), segments.label("segments"),
    ).select_from(source)


def customer_state_query(weights: ValueWeights | None, version: int, gen: int) -> Select:
    """One row per customer, in `icp_customer_state`'s columns, from the value ranking query."""
    r = ranked_customers_query(None, weights).subquery("r")
    a = accounts.c
    return select(
        literal(version, Integer).label("version"), r.c.account_id, literal(gen, Integer).label("generation"),
        r.c.first_won_at, r.c.arr, r.c.lifetime_revenue, r.c.nrr, r.c.retained, r.c.time_to_value_days,
        r.c.tickets_per_month, r.c.value_score, r.c.rank, r.c.revenue_before, r.c.revenue_total,
        case((r.c.in_best, 1), else_=0).label("in_best"), a.name, a.industry, a.territory,
        *[r.c[f"pr_{name}"] for name in VALUE_COMPONENTS],
    ).select_from(r.outerjoin(accounts, a.account_id == r.c.account_id))


def best_profiles_query(version: int, bits: tuple[str, ...] = ()) -> Select:
    """One row per stored best customer: name, the compared values (`value_expr`: band labels for numbers),
    technologies as ",a,b," and as bits (`bits`: bit i = the i-th technology) and the head count, in
    `icp_best_profiles`' columns."""
    c, a = icp_customer_state.c, accounts.c
    tools = attribute_relation([TECHNOLOGY]).subquery("tools")  # the relation's technology rows, as compared
    techs = (select(tools.c.account_id, func.string_agg(tools.c.value, literal(",")).label("names"))
             .group_by(tools.c.account_id).subquery("techs"))
    packed = literal(",") + func.coalesce(techs.c.names + literal(","), literal(""))
    tech_bits = sum((case((packed.contains(f",{name},", autoescape=True), literal(1 << i, BigInteger)), else_=0)
                     for i, name in enumerate(bits)), literal(0, BigInteger))
    return (select(literal(version, Integer).label("version"), a.account_id, a.name,
                   *[value_expr(name).label(name) for name in SIMILAR_COLUMNS],
                   packed.label("technologies"), tech_bits.label("tech_bits"),
                   cast(a.employees, Float).label("headcount"))
            .select_from(accounts.join(icp_customer_state, c.account_id == a.account_id)
                         .outerjoin(techs, techs.c.account_id == a.account_id))
            .where(c.version == version, c.in_best == 1))


def similar_candidates_query(version: int, key: tuple[str, ...]) -> Select:
    """The stored best profiles of `version` that similar-customer search can answer with, in the profiles'
    columns: of each group alike in the `key` columns, the SIMILAR_DEPTH with the lowest account ids."""
    p = icp_best_profiles.c
    ranked = (select(*p, func.row_number().over(partition_by=[p[name] for name in key], order_by=p.account_id)
                     .label("nth"))
              .where(p.version == version).subquery("ranked"))
    return select(*[ranked.c[c.name] for c in icp_best_profiles.columns]).where(ranked.c.nth <= SIMILAR_DEPTH)


# ------------------------------------------------------------------------------------------ writing


def build(engine: Engine, definition: ICPDefinition | None = None, *, progress: Progress | None = None,
          force: bool = False) -> Header | None:
    """Store the ICP state of the active version (one transaction); None when no version is active.

    Skips the work when the stored state is already current (checked inside the transaction, so two
    processes on one PostgreSQL archive build it once).
    """
    tick = progress or (lambda done, total, message: None)
    definition = definition or active_icp(engine, required=False)
    if definition is None:
        return None
    started = time.perf_counter()
    with engine.begin() as conn:
        for table in _TABLES:
            table.create(conn, checkfirst=True)
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
        active = conn.execute(select(icp_versions.c.version).where(icp_versions.c.status == "active")).scalar()
        stamp = archive_generation.read(conn) if inspect(conn).has_table("archive_generation") else None
        gen = stamp[1] if stamp else archive_generation.bump(conn)  # an archive made before generations
        version = int(active or 0)
        head = Header(version, digest(definition), weights_digest(definition.value_weights), gen, today(),
                      named_technologies(definition), similar_key(definition), True)
        present = conn.execute(select(icp_state).where(icp_state.c.version == version)).mappings().first()
        if not force and present is not None and _header_of(present) == head:
            cache.put(engine, ("state_header",), (head,))
            return head
        tick(0, 5, "ICP state: clearing the old state")
        _clear(conn)
        tick(1, 5, "ICP state: scoring every account")
        cache.count("state_build")
        sel = account_state_query(engine, definition, version, gen)
        conn.execute(insert(icp_account_state).from_select(list(sel.selected_columns.keys()), sel))
        tick(2, 5, "ICP state: ranking customers by value")
        sel = customer_state_query(definition.value_weights, version, gen)
        conn.execute(insert(icp_customer_state).from_select(list(sel.selected_columns.keys()), sel))
        tick(3, 5, "ICP state: indexing the best customers")
        sel = best_profiles_query(version, head.technology_bits)
        conn.execute(insert(icp_best_profiles).from_select(list(sel.selected_columns.keys()), sel))
        sel = similar_candidates_query(version, head.similar_key)
        conn.execute(insert(icp_similar_candidates).from_select(list(sel.selected_columns.keys()), sel))
        tick(4, 5, "ICP state: the disqualifiers' exceptions and recent deals")
        for rule in definition.disqualifiers:
            rule_facts.store(conn, rule, definition.trigger_window_days, version, gen)
        tick(4.5, 5, "ICP state: closed deals per day for drift checks")
        drift_facts.store(conn, definition, version)
        tick(4.75, 5, "ICP state: feature adoption for the default window")
        adoption_sql.store(conn, definition, version, head.as_of)
        tick(4.9, 5, "ICP state: persona counts per day for derivations")
        persona_sql.store(conn, version)
        n_accounts = conn.execute(select(func.count()).select_from(icp_account_state)).scalar_one()
        n_customers = conn.execute(select(func.count()).select_from(icp_customer_state)).scalar_one()
        conn.execute(insert(icp_state).values(
            version=version, digest=head.digest, weights_digest=head.weights_digest, generation=gen,
            as_of=head.as_of, built_at=utc_now(), accounts=int(n_accounts), customers=int(n_customers),
            seconds=round(time.perf_counter() - started, 3),
            technology_bits=_packed(head.technology_bits), similar_key=_packed(head.similar_key),
            persona_facts=1,
        ))
    tick(5, 5, "ICP state stored")
    cache.put(engine, ("state_header",), (head,))
    cache.drop_answers(engine)  # answers kept from the state this one replaces (same generation) are not kept
    return head


def _clear(conn: Connection) -> None:
    """Empty the state tables inside the build's transaction. DuckDB drops and re-creates them: deleting a
    million keyed rows one by one from their index took 50 s of CPU at 1M accounts. PostgreSQL deletes,
    so readers of the old state are not locked out while the new one is built."""
    if conn.dialect.name == "duckdb":
        for table in reversed(_TABLES):
            table.drop(conn, checkfirst=True)
        for table in _TABLES:
            table.create(conn)
        return
    for table in reversed(_TABLES):
        conn.execute(delete(table))


def answers_now(engine: Engine) -> bool:
    """True when the active version's stored state answers reads now (today's, or an earlier day's of the
    current generation while today's is built)."""
    definition = active_icp(engine, required=False)
    return definition is not None and account_version(engine, definition) is not None


def refresh(engine: Engine, *, progress: Progress | None = None) -> bool:
    """Build the active version's state when it is not current; True when it is current afterwards."""
    definition = active_icp(engine, required=False)
    if definition is None:
        return False
    if not is_stale(engine):
        return True
    return build(engine, definition, progress=progress) is not None


def is_stale(engine: Engine) -> bool:
    """True when an active version exists and its stored state was not built today for the current
    generation (a writer should rebuild it)."""
    definition = active_icp(engine, required=False)
    if definition is None:
        return False
    wanted = digest(definition)
    return _usable(engine, lambda h: h.digest == wanted and bool(h.similar_key) and h.persona_facts,
                   today_only=True) is None


__all__ = [
    "SIMILAR_ATTRIBUTES", "Header", "answers_now", "account_state_query", "account_version", "build", "built_on", "customer_version",
    "digest", "headers", "is_stale", "refresh", "stored_account_ids", "stored_best_ids",
    "stored_size", "technology_bits", "named_technologies", "weights_digest", "similarity_attributes",
    "similar_key", "candidates_answer", "similar_candidates_query", "persona_facts_version",
]

"""Cohorts: who a question is about, resolved into a SQL selectable of `account_id`s.

Forms (tool argument `cohort`):
  * `all`           – every account
  * `customers`     – accounts with a won opportunity
  * `best`          – the best-customer cohort (engine/value.py's default rule)
  * `best:N`        – the N best customers by value score
  * `icp`           – accounts inside the active ICP: tier A or B and not disqualified
  * `tier:A`        – accounts in a tier of the active ICP (`tier:A,B` for several)
  * `segment:ID`    – accounts in a segment of the active ICP
  * a list of account ids (or one comma-separated string of ids)

The selectable is what callers put in `account_id IN (...)`, so a cohort of a million accounts never
travels through Python except for `best` (whose ids come from `best_customers` and are bound as one array
parameter) and explicit lists.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, Select, String, and_, bindparam, false, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from icp_mcp.archive import clock
from icp_mcp.archive.schema import accounts, opportunities
from icp_mcp.engine.model.errors import EngineError, NoActiveICP
from icp_mcp.engine.sql.lookup import in_territories
from icp_mcp.engine.sql.matching import members_query
from icp_mcp.engine.model.profile import IN_ICP_TIERS, TIERS, Condition, ICPDefinition
from icp_mcp.engine.scoring import state
from icp_mcp.engine.scoring.batch import account_scores_query
from icp_mcp.engine.sql.cache import cached
from icp_mcp.engine.sql.value_sql import best_ids_query

COHORT_FORMS: tuple[str, ...] = (
    "all", "customers", "best", "best:N", "icp", "tier:A (or tier:A,B)", "segment:<segment id>",
    "a list of account ids",
)
MAX_IDS = 100_000
#: Stored cohorts up to this size are bound as an id list; bigger ones stay a subquery on the state table.
SMALL_COHORT = 10_000
#: Up to this many ids are bound as a plain IN list; more travel as one array parameter.
_INLINE_IDS = 50
#: Separator of packed id lists (the ASCII unit separator; an id containing it is dropped).
ID_SEP = "\x1f"


@dataclass(frozen=True)
class Cohort:
    """A resolved cohort: a readable label, the selectable of its account ids and, when known, its size."""

    spec: str
    label: str
    ids: Select
    size: int | None = None


def _bad(spec: object, why: str) -> EngineError:
    return EngineError("cohort", f"{spec!r}: {why}", list(COHORT_FORMS))


class split_ids(FunctionElement):  # noqa: N801  (a SQL function name)
    """`split_ids(text)`: the ids packed in one string, separated by ID_SEP, as a column of values."""

    type = String()
    inherit_cache = True


@compiles(split_ids, "duckdb")
def _split_ids_duckdb(element, compiler, **kw) -> str:
    return f"unnest(string_split({compiler.process(element.clauses, **kw)}, chr({ord(ID_SEP)})))"


@compiles(split_ids)
def _split_ids_default(element, compiler, **kw) -> str:
    return f"unnest(string_to_array({compiler.process(element.clauses, **kw)}, chr({ord(ID_SEP)})))"


def ids_selectable(ids: Sequence[str]) -> Select:
    """A selectable of the given account ids, bound as parameters (never inlined into the SQL).

    Short lists are a plain IN list; longer ones travel as ONE string parameter split in SQL, because
    DuckDB's Python binding converts a list parameter element by element (12k ids: 2 s vs 7 ms).
    """
    ids = list(dict.fromkeys(str(i) for i in ids if ID_SEP not in str(i)))
    if len(ids) <= _INLINE_IDS:
        return select(accounts.c.account_id).where(accounts.c.account_id.in_(ids) if ids else false())
    param = bindparam("cohort_ids", ID_SEP.join(ids), type_=String, unique=True)
    packed = split_ids(param).label("account_id")
    return select(accounts.c.account_id).where(accounts.c.account_id.in_(select(packed).scalar_subquery()))


def customers_selectable(closed_before: date | None = None) -> Select:
    """Accounts with a won opportunity (closed before `closed_before` when given)."""
    cond = [opportunities.c.stage == "won"]
    if closed_before is not None:
        cond.append(opportunities.c.closed_at < closed_before)
    return select(opportunities.c.account_id).where(and_(*cond)).distinct()


def scores_selectable(definition: ICPDefinition, engine: Engine | None = None) -> Select:
    """`account_id, points, disqualified, tier` of every account under `definition` (engine/score.py).

    `engine` lets the scorer compute tier cut-offs for a definition stored without them.
    """

    return account_scores_query(definition, engine)


def tier_selectable(definition: ICPDefinition, tiers: Sequence[str], engine: Engine | None = None) -> Select:
    """Accounts whose tier under `definition` is one of `tiers`."""
    scores = scores_selectable(definition, engine).subquery("cohort_scores")
    return select(scores.c.account_id).where(scores.c.tier.in_(list(tiers)))


def in_icp_selectable(definition: ICPDefinition, engine: Engine | None = None) -> Select:
    """Accounts inside the ICP: tier A or B (a disqualified account is tier D)."""
    return tier_selectable(definition, IN_ICP_TIERS, engine)


def condition_selectable(condition: Condition) -> Select:
    """Accounts meeting one condition (engine/matching.py's members query)."""
    return members_query([condition])


def segment_selectable(definition: ICPDefinition, segment_id: str) -> Select:
    """Accounts meeting every condition of one ICP segment."""
    segment = next((s for s in definition.segments if s.id == segment_id), None)
    if segment is None:
        raise EngineError(
            "cohort", f"no segment {segment_id!r} in the active ICP",
            [f"segment:{s.id}" for s in definition.segments],
        )
    return members_query(segment.conditions)


def materialize(engine: Engine, key: tuple, ids: Select, kind: str = "cohort_ids") -> list[str]:
    """Run a cohort selectable once per archive generation and return its ids (engine cache).

    Ranking every customer by value or scoring every account is the slow step of a cohort question; its
    answer changes only with the data, and several statements of one answer reuse the ids. `kind` names
    the entry in the cache's counters (`stored_ids` when the selectable reads the stored ICP state).
    """

    def run() -> list[str]:
        sub = ids.subquery("materialized")
        with engine.connect() as conn:
            return list(conn.execute(select(sub.c[0]).limit(MAX_IDS)).scalars())

    return cached(engine, (kind, *key), run)


def best_selectable(
    engine: Engine, top_n: int | None, closed_before: date | None = None,
    definition: ICPDefinition | None = None,
) -> tuple[Select, int]:
    """The best-customer cohort (top N by value, or the default rule) and its size.

    From the stored ICP state when it is current (engine/scoring/state.py); otherwise the ranking
    (engine/value_sql.py) runs once (`materialize`) and its ids are bound as one parameter.
    """

    weights = definition.value_weights if definition is not None else None
    if closed_before is not None and closed_before > clock.today():
        closed_before = None  # no deal closes after today (ingest refuses future dates): the same cohort
    version = state.customer_version(engine, weights) if closed_before is None else None
    if version is not None:
        return _from_state(engine, ("best", version, top_n), state.stored_best_ids(version, top_n))
    key = ("best", closed_before, top_n, weights.model_dump_json() if weights else None)
    ids = materialize(engine, key, best_ids_query(closed_before, weights, top_n))
    return ids_selectable(ids), len(ids)


def _from_state(engine: Engine, key: tuple, stored: Select) -> tuple[Select, int]:
    """A cohort read from the stored ICP state and its size. Up to SMALL_COHORT ids are read once per
    generation and bound as parameters (the planner does better with a short list); a bigger cohort stays a
    scan of the state table inside the caller's statement."""
    size = state.stored_size(engine, key, stored)
    if size > SMALL_COHORT:
        return stored, size
    return ids_selectable(materialize(engine, key, stored, kind="stored_ids")), size


def _stored_icp_ids(engine: Engine, definition: ICPDefinition, spec: str) -> Select | None:
    """The stored-state selectable for an ICP cohort spec (`icp`, `tier:[...]`, `segment:ID`), when current."""
    version = state.account_version(engine, definition)
    if version is None:
        return None
    kind, _, arg = spec.partition(":")
    if kind == "icp":
        return state.stored_account_ids(version, tiers=list(IN_ICP_TIERS))
    if kind == "tier":
        return state.stored_account_ids(version, tiers=re.findall(r"[A-D]", arg))
    if kind == "segment":
        return state.stored_account_ids(version, segment=arg)
    return None


def icp_ids(engine: Engine, definition: ICPDefinition, spec: str, ids: Select) -> tuple[Select, int]:
    """A cohort of the active ICP (tiers, segments: `spec` names it) and its size: read from the stored ICP
    state when it is current, else `ids` materialized once per definition and generation."""
    stored = _stored_icp_ids(engine, definition, spec)
    if stored is not None:
        return _from_state(engine, ("icp", spec, state.digest(definition)), stored)
    found = materialize(engine, ("icp", spec, definition.model_dump_json()), ids)
    return ids_selectable(found), len(found)


def _need(definition: ICPDefinition | None, spec: str) -> ICPDefinition:
    if definition is None:
        raise NoActiveICP(f"cohort {spec!r} needs an active ICP; derive one and activate it first")
    return definition


def restrict_territories(ids: Select, territories: frozenset[str] | None) -> Select:
    """Keep only accounts in the caller's territories (None = all territories, empty = none)."""
    if territories is None:
        return ids
    sub = ids.subquery("cohort_ids")
    return select(accounts.c.account_id).where(
        accounts.c.account_id.in_(select(next(iter(sub.c)))),
        in_territories(territories),
    )


def resolve_cohort(
    engine: Engine,
    spec: str | Sequence[str] | None,
    *,
    definition: ICPDefinition | None = None,
    territories: frozenset[str] | None = None,
    closed_before: date | None = None,
    named: frozenset[str] | None = None,
) -> Cohort:
    """Resolve a cohort argument into a `Cohort`; errors name the `cohort` field and the allowed forms.

    `territories` restricts every cohort (None = all); `named` restricts cohorts given as account ids to
    the accounts the caller may name (None = all, empty = none), so a hidden id behaves like an unknown one.
    """
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        spec = "all"
    if not isinstance(spec, str):
        ids = [str(s).strip() for s in spec if str(s).strip()]
        if not ids:
            raise _bad(spec, "an empty list of account ids")
        if len(ids) > MAX_IDS:
            raise _bad(f"{len(ids)} ids", f"at most {MAX_IDS} account ids")
        cohort = Cohort(",".join(ids[:5]), f"{len(ids)} listed accounts", ids_selectable(ids), len(ids))
        return _restricted(_restricted(cohort, named), territories)
    text_spec = spec.strip()
    kind, _, arg = text_spec.partition(":")
    kind = kind.strip().lower()
    arg = arg.strip()
    if kind == "all" and not arg:
        cohort = Cohort(text_spec, "all accounts", select(accounts.c.account_id))
    elif kind == "customers" and not arg:
        cohort = Cohort(text_spec, "customers", customers_selectable(closed_before))
    elif kind == "best":
        top_n = None
        if arg:
            if not re.fullmatch(r"\d{1,6}", arg) or int(arg) < 1:
                raise _bad(spec, "best:N needs a positive whole number N")
            top_n = int(arg)
        ids, size = best_selectable(engine, top_n, closed_before, definition)
        cohort = Cohort(text_spec, f"the {size} best customers", ids, size)
    elif kind == "icp" and not arg:
        definition = _need(definition, spec)
        ids, size = icp_ids(engine, definition, "icp", in_icp_selectable(definition, engine))
        cohort = Cohort(text_spec, "accounts inside the ICP (tiers A, B)", ids, size)
    elif kind == "tier":
        tiers = [t.strip().upper() for t in arg.split(",") if t.strip()]
        if not tiers or any(t not in TIERS for t in tiers):
            raise EngineError("cohort", f"{spec!r}: tiers are A, B, C, D", [f"tier:{t}" for t in TIERS])
        definition = _need(definition, spec)
        ids, size = icp_ids(engine, definition, f"tier:{tiers}", tier_selectable(definition, tiers, engine))
        cohort = Cohort(text_spec, f"tier {', '.join(tiers)} accounts", ids, size)
    elif kind == "segment" and arg:
        definition = _need(definition, spec)
        name = next((s.name for s in definition.segments if s.id == arg), arg)
        ids, size = icp_ids(engine, definition, f"segment:{arg}", segment_selectable(definition, arg))
        cohort = Cohort(text_spec, f"segment {name}", ids, size)
    elif "," in text_spec or (":" not in text_spec and kind not in ("segment", "tier")):
        ids = [s.strip() for s in text_spec.split(",") if s.strip()]
        found = _existing(engine, ids, named)
        if not found:
            raise _bad(spec, "not a cohort form and no account has that id")
        cohort = _restricted(Cohort(text_spec, f"{len(ids)} listed accounts", ids_selectable(ids), len(ids)), named)
    else:
        raise _bad(spec, "not a cohort form")
    return _restricted(cohort, territories)


def _existing(engine: Engine, ids: list[str], named: frozenset[str] | None = None) -> int:
    with engine.connect() as conn:
        probe = select(literal(1)).select_from(accounts)
        hit = conn.execute(probe.where(accounts.c.account_id.in_(ids[:500]), in_territories(named)).limit(1)).first()
    return int(hit is not None)


def _restricted(cohort: Cohort, territories: frozenset[str] | None) -> Cohort:
    if territories is None:
        return cohort
    return Cohort(cohort.spec, cohort.label, restrict_territories(cohort.ids, territories), None)


__all__ = [
    "COHORT_FORMS", "Cohort", "IN_ICP_TIERS", "TIERS", "best_selectable", "customers_selectable",
    "icp_ids", "ids_selectable", "in_icp_selectable", "resolve_cohort", "restrict_territories", "scores_selectable",
    "segment_selectable", "tier_selectable",
]

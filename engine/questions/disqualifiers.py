"""Explaining disqualifiers: a rule's evidence, the sentence to cite, exceptions, and whether recent data
still supports it. (Derivation of the rules lives in `derive.py`, next to the criteria they mirror.)"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from icp_mcp.engine.model import stats
from icp_mcp.engine.model.errors import EngineError, NotFound
from icp_mcp.engine.model.numbers import count, pct
from icp_mcp.engine.sql.matching import matches_query
from icp_mcp.engine.model.profile import Disqualifier, Evidence, ICPDefinition
from icp_mcp.engine.scoring import state
from icp_mcp.engine.sql import cache
from icp_mcp.engine.sql import rule_facts as facts
from icp_mcp.engine.sql.rule_facts import RECENT_DAYS, RuleFacts
from icp_mcp.engine.sql.lookup import Territories, find_account

MIN_RECENT = 10
MAX_EXCEPTIONS = 10


class ExceptionAccount(BaseModel):
    account_id: str
    name: str


class RecentSupport(BaseModel):
    window_days: int = RECENT_DAYS
    since: date | None = None
    evidence: Evidence | None = None
    base_rate: float | None = None
    still_supported: bool | None = Field(default=None, description="None when too few recent deals")
    note: str


class DisqualifierExplanation(BaseModel):
    rule: Disqualifier
    evidence: Evidence | None
    sentence: str
    exceptions: list[ExceptionAccount] = Field(description="won accounts that hit the rule (up to 10)")
    n_exceptions: int
    exceptions_outside_view: int = Field(0, description="never named")
    recent: RecentSupport
    account_id: str | None = None
    account_hits: list[str] = Field(default_factory=list, description="rule ids the account hits")


def _rule(definition: ICPDefinition, rule_id: str) -> Disqualifier:
    for d in definition.disqualifiers:
        if d.id == rule_id:
            return d
    raise EngineError("rule_id", f"unknown disqualifier {rule_id!r}", [d.id for d in definition.disqualifiers])


def explain_disqualifier(
    engine: Engine, definition: ICPDefinition, *, rule_id: str | None = None, account: str | None = None,
    territories: Territories = None,
) -> DisqualifierExplanation:
    """Explain one rule (by id) or the rule an account hits: evidence, sentence, exceptions, recent support.

    `territories` is the caller's view (None = all): the account is looked up, and exceptions named, only
    among accounts of those territories; exceptions elsewhere are counted (`exceptions_outside_view`)."""

    if rule_id is None and account is None:
        raise EngineError("rule_id", "give a rule_id or an account", [d.id for d in definition.disqualifiers])
    account_id, hits = None, []
    if account is not None:
        found, candidates = find_account(engine, account, territories)
        if found is None:
            raise NotFound("account", f"{account!r} matches several accounts; give one account_id", candidates)
        account_id = found["account_id"]
        keyed = [(d.id, d, 0) for d in definition.disqualifiers]
        with engine.connect() as conn:
            hits = sorted(set(conn.execute(select(matches_query(
                keyed, account_ids=[account_id], trigger_window_days=definition.trigger_window_days
            ).subquery().c.key)).scalars()))
        if rule_id is None:
            if not hits:
                raise EngineError("account", f"{found['name']} hits no disqualifier of the active ICP",
                                  [d.id for d in definition.disqualifiers])
            rule_id = hits[0]
    rule = _rule(definition, rule_id)
    found_facts = rule_facts(engine, definition, rule)
    view = set(territories) if territories is not None else None
    seen = [(a, n) for a, n, t in found_facts.exceptions if view is None or t in view]
    exceptions, n_exc, n_seen = seen[:MAX_EXCEPTIONS], len(found_facts.exceptions), len(seen)
    since, recent_rows = found_facts.since, found_facts.recent
    recent = _recent(rule, recent_rows, since)
    return DisqualifierExplanation(
        rule=rule, evidence=rule.evidence, sentence=rule.sentence or f"Rule {rule.id}: {rule.describe()}.",
        exceptions=[ExceptionAccount(account_id=a, name=n) for a, n in exceptions], n_exceptions=int(n_exc),
        exceptions_outside_view=int(n_exc) - int(n_seen),
        recent=recent, account_id=account_id, account_hits=hits,
    )


def rule_facts(engine: Engine, definition: ICPDefinition, rule: Disqualifier) -> RuleFacts:
    """The rule's facts: from the stored ICP state when it is current for `definition` (built with the state,
    so a fresh process reads them), else computed once per archive generation (engine cache). Either way a
    function of the data and the rule only; the caller's view is applied afterwards (`explain_disqualifier`)."""
    window = definition.trigger_window_days
    version = state.account_version(engine, definition)
    if version is not None:
        stored = cache.cached(engine, ("stored_rule_facts", version, rule.id), lambda: _read(engine, version, rule.id))
        if stored is not None:
            return stored
    key = ("disqualifier_facts", rule.model_dump_json(include={"attribute", "value", "values", "range"}), window)

    def compute() -> RuleFacts:
        with engine.connect() as conn:
            return facts.compute(conn, rule, window)

    return cache.cached(engine, key, compute)


def _read(engine: Engine, version: int, rule_id: str) -> RuleFacts | None:
    try:
        with engine.connect() as conn:
            return facts.read(conn, version, rule_id)
    except SQLAlchemyError:  # an archive whose state was stored before rule facts were
        return None


def _recent(rule: Disqualifier, row, since: date | None) -> RecentSupport:
    if rule.metric != "win_rate":
        return RecentSupport(since=since, note="retention rules are re-tested at the next derivation")
    if row is None or not row[0]:
        return RecentSupport(since=since, note=f"no closed deals in the last {RECENT_DAYS} days")
    n_all, w_all, n_rule, w_rule = (int(x or 0) for x in row)
    base = w_all / n_all if n_all else None
    if n_rule < MIN_RECENT or base is None:
        return RecentSupport(since=since, base_rate=base,
                             note=f"too few recent deals hit the rule to re-test it (n = {count(n_rule)})")
    lo, hi = stats.wilson(w_rule, n_rule)
    ev = Evidence(n=n_rule, positives=w_rule, rate=round(w_rule / n_rule, 4), interval=(round(lo, 4), round(hi, 4)),
                  lift=round((w_rule / n_rule) / base, 3) if base else None)
    supported = hi < base
    note = (f"last {RECENT_DAYS} days: {count(w_rule)}/{count(n_rule)} won ({pct(ev.rate)}) vs {pct(base)} overall — "
            + ("still below base" if supported else "no longer clearly below base"))
    return RecentSupport(since=since, evidence=ev, base_rate=round(base, 4), still_supported=supported, note=note)

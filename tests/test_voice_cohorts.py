"""Cohort specs resolve into SQL selectables of account ids; bad specs name the allowed forms."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, insert, select

from icp_mcp.archive.db import create_schema, open_archive
from icp_mcp.archive.schema import account_technologies, accounts, opportunities
from icp_mcp.engine.questions.cohorts import condition_selectable, ids_selectable, resolve_cohort
from icp_mcp.engine.model.errors import EngineError, NoActiveICP
from icp_mcp.engine.model.profile import Condition, ICPDefinition, Segment


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = open_archive(tmp_path_factory.mktemp("cohorts") / "c.duckdb", create=True)
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(insert(accounts), [
            {"account_id": f"A{i}", "name": f"Acct {i}", "industry": "Software" if i % 2 else "Retail",
             "employees": 100 * i, "territory": "NA" if i < 4 else "EMEA"}
            for i in range(1, 8)
        ])
        conn.execute(insert(account_technologies), [{"account_id": "A1", "technology": "Snowflake"},
                                                    {"account_id": "A3", "technology": "Snowflake"}])
        conn.execute(insert(opportunities), [
            {"opportunity_id": "O1", "account_id": "A1", "created_at": dt.date(2026, 1, 1),
             "closed_at": dt.date(2026, 2, 1), "stage": "won"},
            {"opportunity_id": "O2", "account_id": "A2", "created_at": dt.date(2026, 1, 1),
             "closed_at": dt.date(2026, 2, 1), "stage": "lost"},
            {"opportunity_id": "O3", "account_id": "A5", "created_at": dt.date(2026, 1, 1),
             "closed_at": dt.date(2026, 3, 1), "stage": "won"},
        ])
    return engine


def _ids(engine: Engine, sel) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(sel.subquery().c[0])).scalars())


def test_all_customers_and_lists(engine: Engine) -> None:
    assert len(_ids(engine, resolve_cohort(engine, "all").ids)) == 7
    assert len(_ids(engine, resolve_cohort(engine, None).ids)) == 7
    assert _ids(engine, resolve_cohort(engine, "customers").ids) == {"A1", "A5"}
    assert _ids(engine, resolve_cohort(engine, ["A2", "A3", "A3"]).ids) == {"A2", "A3"}
    assert _ids(engine, resolve_cohort(engine, "A2, A4").ids) == {"A2", "A4"}


def test_territories_restrict(engine: Engine) -> None:
    cohort = resolve_cohort(engine, "all", territories=frozenset({"EMEA"}))
    assert _ids(engine, cohort.ids) == {"A4", "A5", "A6", "A7"}


def test_long_id_lists_bind_one_array(engine: Engine) -> None:
    ids = [f"A{i}" for i in range(1, 2000)]
    assert _ids(engine, ids_selectable(ids)) == {f"A{i}" for i in range(1, 8)}


def test_segment_from_conditions(engine: Engine) -> None:
    seg = Segment(id="s1", name="Software on Snowflake", conditions=[
        Condition(attribute="industry", values=["software"]),
        Condition(attribute="technology", value="Snowflake"),
    ])
    definition = ICPDefinition(name="t", segments=[seg])
    assert _ids(engine, resolve_cohort(engine, "segment:s1", definition=definition).ids) == {"A1", "A3"}
    big = Condition(attribute="employees", range={"min": 250, "max": 600})
    assert _ids(engine, condition_selectable(big)) == {"A3", "A4", "A5"}
    with pytest.raises(EngineError) as info:
        resolve_cohort(engine, "segment:nope", definition=definition)
    assert info.value.allowed == ["segment:s1"]


@pytest.mark.parametrize("spec", ["bset", "best:0", "best:x", "tier:E", "icp:1", "segment", [], "nobody"])
def test_bad_specs_name_the_forms(engine: Engine, spec) -> None:
    with pytest.raises(EngineError) as info:
        resolve_cohort(engine, spec, definition=ICPDefinition(name="t"))
    assert info.value.field == "cohort" and info.value.allowed


def test_icp_forms_need_an_active_icp(engine: Engine) -> None:
    with pytest.raises(NoActiveICP):
        resolve_cohort(engine, "icp")
    with pytest.raises(NoActiveICP):
        resolve_cohort(engine, "tier:A")


def test_two_long_id_lists_in_one_statement_keep_their_own_values(engine: Engine) -> None:
    first = ids_selectable([f"A{i}" for i in (1, 2)] + [f"X{i}" for i in range(100)])
    second = ids_selectable([f"A{i}" for i in (5, 6, 7)] + [f"Y{i}" for i in range(100)])
    a = accounts.c
    both = select(a.account_id).where(a.account_id.in_(first) | a.account_id.in_(second))
    assert _ids(engine, both) == {"A1", "A2", "A5", "A6", "A7"}

"""The one table of attribute kinds: its Python form (`catalogue.row_value`) and its SQL form
(`engine/sql/attributes.py`) give the same (value, num) rows for the same accounts."""

from __future__ import annotations

from collections import defaultdict
from typing import get_args

import pytest
from sqlalchemy import select
from test_engine_synth import synthetic_archive

from icp_mcp.engine.model.catalogue import (
    ATTRIBUTES,
    KINDS,
    TRIGGER,
    Kind,
    is_multi_valued,
    is_numeric,
    kind_of,
    row_value,
)
from icp_mcp.engine.scoring.one import account_rows, prospect_rows
from icp_mcp.engine.sql.attributes import attribute_relation, catalogue_attributes


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    engine, _ = synthetic_archive(tmp_path_factory.mktemp("kinds") / "s.duckdb", n_accounts=300, seed=3)
    return engine


def test_every_kind_has_one_entry():
    assert set(KINDS) == set(get_args(Kind))
    assert {a for a in ATTRIBUTES if is_multi_valued(a)} == {"technology", "trigger"}
    assert {a for a in ATTRIBUTES if is_numeric(a)} == {"employees", "annual_revenue", "founded_year"}
    assert kind_of("attributes.plan") == "extra" and not is_multi_valued("attributes.plan")
    assert not is_multi_valued("no_such_attribute") and not is_numeric("no_such_attribute")


def test_python_rows_equal_the_sql_relation(synth):
    attrs = [a for a in catalogue_attributes(synth) if a != TRIGGER]  # triggers depend on the clock
    assert "attributes.plan" in attrs
    ids = [f"a{i:05d}" for i in range(0, 300, 7)]
    rel = attribute_relation(attrs, account_ids=ids).subquery("rel")
    sql: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    with synth.connect() as conn:
        for aid, attr, value, num in conn.execute(select(rel)):
            sql[aid][attr].append((value, num))
    assert sql, "the relation returned no rows"
    for aid in ids:
        python = account_rows(synth, aid, attrs, 120)
        assert {a: sorted(v) for a, v in python.items() if v} == {a: sorted(v) for a, v in sql[aid].items()}, aid


def test_prospect_values_take_the_same_form():
    rows = prospect_rows({"employees": "250", "industry": "Healthcare", "technology": ["dbt", "Snowflake"],
                          "attributes.public": True})
    assert rows["employees"] == [row_value("employees", 250)] == [("200–499", 250.0)]
    assert rows["industry"] == [("Healthcare", None)]
    assert rows["technology"] == [("dbt", None), ("Snowflake", None)]
    assert rows["attributes.public"] == [("true", None)]  # as JSON ->> gives it for archived accounts

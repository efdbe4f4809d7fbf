"""The tone lexicon: the SQL expression and the Python rule agree, negations outweigh the positive word."""

from __future__ import annotations

import duckdb
import pytest
from sqlalchemy import column, select
from sqlalchemy.dialects import postgresql

from icp_mcp.engine.tone import tone_expression, tone_of

TEXTS = [
    ("We love it, the onboarding was smooth.", "positive"),
    ("Honestly it is too expensive for what we get.", "negative"),
    ("We are not happy with the renewal quote.", "negative"),
    ("The call is scheduled for Tuesday.", "neutral"),
    ("We use Slack and Jira every day.", "neutral"),
    ("Great product but the price increase is frustrating.", "negative"),
]


@pytest.mark.parametrize(("text", "tone"), TEXTS)
def test_tone_of(text: str, tone: str) -> None:
    assert tone_of(text) == tone


def test_sql_expression_agrees_with_python() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t(i INTEGER, text VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(i, t) for i, (t, _) in enumerate(TEXTS)])
    expr = tone_expression(column("text"))
    sql = select(column("i"), expr.label("tone")).select_from(__import__("sqlalchemy").table("t"))
    compiled = sql.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    rows = dict(con.execute(str(compiled)).fetchall())
    assert [rows[i] for i in range(len(TEXTS))] == [tone_of(t) for t, _ in TEXTS]

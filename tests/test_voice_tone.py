"""The tone lexicon: the SQL expression and the Python rule agree, negations outweigh the positive word."""

from __future__ import annotations

import pytest
from sqlalchemy import column, create_engine, select, table, text

from icp_mcp.archive.tone import CLASSES, score_expression, tone_expression, tone_of, tone_score

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
    engine = create_engine("duckdb:///:memory:")
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE t(i INTEGER, body VARCHAR)"))
        rows = [{"i": i, "b": t} for i, (t, _) in enumerate(TEXTS)]
        conn.execute(text("INSERT INTO t VALUES (:i, :b)"), rows)
        t = table("t", column("i"), column("body"))
        rows = dict(conn.execute(select(t.c.i, tone_expression(t.c.body))).all())
        scores = dict(conn.execute(select(t.c.i, score_expression(t.c.body))).all())
    assert [rows[i] for i in range(len(TEXTS))] == [tone_of(t) for t, _ in TEXTS]
    assert [scores[i] for i in range(len(TEXTS))] == [tone_score(t) for t, _ in TEXTS]


def test_occurrences_longest_first() -> None:
    assert tone_score("Too expensive, honestly too expensive.") == -2
    assert tone_score("We are not happy with it") == -1  # "not happy" (-2) + "happy with" (+1)
    assert CLASSES and all(pattern for _, pattern in CLASSES)

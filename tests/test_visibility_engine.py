"""The territory view pushed into the engine: the stored ICP state (SQL) and the recomputed ranking give the same
pages, counts and shares for every view, and a hidden account is looked up exactly like a missing one."""

from __future__ import annotations

import pytest

from icp_mcp.archive.db import open_archive
from icp_mcp.engine.model.errors import NotFound
from icp_mcp.engine.questions import value
from icp_mcp.engine.scoring import state
from icp_mcp.engine.sql import versions
from icp_mcp.engine.sql.lookup import find_account

VIEWS = [None, frozenset({"EMEA"}), frozenset({"NA", "LATAM"}), frozenset()]


@pytest.fixture(scope="module")
def engine(icp_demo):
    eng = open_archive(icp_demo.path, read_only=True)
    yield eng
    eng.dispose()


@pytest.mark.parametrize("territories", VIEWS, ids=["all", "EMEA", "NA+LATAM", "none"])
def test_stored_and_recomputed_best_customers_agree_within_a_view(engine, territories, monkeypatch) -> None:
    definition = versions.active_icp(engine)
    assert state.customer_version(engine, definition.value_weights) is not None  # the stored path is there
    for segment in (None, *(s.id for s in definition.segments[:1])):
        stored = value.best_customers(engine, definition=definition, limit=200, segment=segment, territories=territories)
        with monkeypatch.context() as patch:
            patch.setattr(state, "customer_version", lambda *args, **kwargs: None)
            again = value.best_customers(engine, definition=definition, limit=200, segment=segment,
                                         territories=territories)
        assert [i.account_id for i in stored.items] == [i.account_id for i in again.items]
        assert (stored.n, stored.n_in_view, stored.shares) == (again.n, again.n_in_view, again.shares)
        assert all(territories is None or i.territory in territories for i in stored.items)
        in_view = sum(s.n for s in stored.shares if s.attribute == "territory"
                      and (territories is None or s.value in territories))
        assert stored.n_in_view == in_view and (territories != frozenset() or not stored.items)


def test_hidden_lookup_is_a_not_found_that_only_the_audit_reason_tells_apart(engine) -> None:
    hidden, _ = find_account(engine, "A0000004")
    assert hidden is not None and hidden["territory"] != "EMEA"
    with pytest.raises(NotFound) as seen:
        find_account(engine, hidden["name"], frozenset({"EMEA"}))
    with pytest.raises(NotFound) as missing:
        find_account(engine, "Quuxfield Nonesuch", frozenset({"EMEA"}))
    assert seen.value.withheld and "EMEA" in seen.value.withheld and missing.value.withheld is None
    assert "territor" not in str(seen.value) and all(c["territory"] == "EMEA" for c in seen.value.candidates)

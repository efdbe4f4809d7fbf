"""customer_voice through a real MCP client (in-memory) on a small hand-built archive: result, paging, errors."""

from __future__ import annotations


import pytest
from mcp import Client

from icp_mcp.surface.text_render import result_text
from icp_mcp.surface.access import Principal, acting_as
from icp_mcp.server.app import archive_of, build_server
from test_voice_engine import AS_OF, _build


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("voice_tool") / "voice.duckdb"
    _build(path).dispose()
    srv = build_server(str(path), read_only=True)
    yield srv
    archive_of(srv).close()


def text_of(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


async def call(server, args: dict):
    async with Client(server) as client:
        return await client.call_tool("customer_voice", args)


async def test_quotes_with_citations_and_counts(server) -> None:
    res = await call(server, {"topic": "pricing", "cohort": ["A1", "A2"], "since": "last_month", "as_of": AS_OF})
    assert not res.is_error, text_of(res)
    data = res.structured_content
    assert data["total"] == 3 and data["accounts"] == 2 and data["window"] == "2026-10-01..2026-10-31"
    quote = data["quotes"][0]
    for key in ("account_id", "account_name", "date", "channel", "conversation_id", "snippet_id", "text",
                "truncated", "contact_title", "buying_role", "tone"):
        assert key in quote
    assert {c["key"] for c in data["by_tone"]} == {"positive", "negative", "neutral"}
    assert text_of(res) == result_text(data)
    assert all(str(q["snippet_id"]) in text_of(res) for q in data["quotes"]), "every citation reaches the text"


async def test_cursor_pages_through_quotes(server) -> None:
    args = {"topic": "pricing", "since": "2026-01-01", "as_of": AS_OF, "limit": 2}
    first = (await call(server, args)).structured_content
    assert first["next_cursor"]
    second = (await call(server, {**args, "cursor": first["next_cursor"]})).structured_content
    ids = [q["snippet_id"] for q in first["quotes"] + second["quotes"]]
    assert len(ids) == len(set(ids)) == min(4, first["total"])
    stale = await call(server, {**args, "topic": "support", "cursor": first["next_cursor"]})
    assert stale.is_error and "cursor" in text_of(stale)


async def test_empty_window_answers_with_counts(server) -> None:
    res = await call(server, {"topic": "pricing", "cohort": "A1,A2", "since": "2026-11-01", "as_of": AS_OF})
    data = res.structured_content
    assert data["total"] == 0 and data["empty"]["snippets_matching_overall"] == 4
    assert data["summary"].startswith("0 snippets on pricing from 2 accounts")


@pytest.mark.parametrize(
    ("args", "field", "allowed"),
    [({"topic": "prices"}, "topic", "pricing"),
     ({"topic": "pricing", "cohort": "bset"}, "cohort", "best:N"),
     ({"topic": "pricing", "since": "lastmonth"}, "since", "last_month"),
     ({"topic": "pricing", "channel": "fax"}, "channel", "survey"),
     ({"topic": "pricing", "cohort": "icp"}, "version", "")],
)
async def test_errors_name_the_field(server, args, field, allowed) -> None:
    res = await call(server, {"as_of": AS_OF, **args})
    assert res.is_error
    text = text_of(res)
    assert "Traceback" not in text and (field in text or "ICP" in text) and allowed in text


async def test_pii_is_masked_without_pii_read(server) -> None:
    marketer = Principal(subject="m", roles=["marketing"], scopes=frozenset({"icp:read", "voice:read"}),
                         min_group=1)  # a tiny archive: PII masking, not small-group suppression, is tested here
    with acting_as(marketer):
        res = await call(server, {"question": "invoice", "since": "2026-01-01", "as_of": AS_OF})
    assert not res.is_error, text_of(res)
    text = res.structured_content["quotes"][0]["text"]
    assert "Rivera" not in text and "@example.com" not in text and "[name]" in text
    plain = await call(server, {"question": "invoice", "since": "2026-01-01", "as_of": AS_OF})
    assert "sam.rivera@example.com" in plain.structured_content["quotes"][0]["text"]


async def test_territories_limit_the_quotes(server) -> None:
    rep = Principal(subject="r", roles=["sales"], scopes=frozenset({"voice:read"}), territories=frozenset({"EMEA"}))
    with acting_as(rep):
        res = await call(server, {"topic": "pricing", "since": "2026-01-01", "as_of": AS_OF})
    assert not res.is_error, text_of(res)
    assert res.structured_content["total"] == 0

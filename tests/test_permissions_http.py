"""Acceptance for permissioned context over real HTTP: uvicorn on a free loopback port, the SDK's streamable
HTTP client with a bearer header, the demo S archive with its ICP active, a policy made by `icp-mcp token
create`. Refusals are checked at the HTTP layer (401 / 403) and inside MCP (tool errors); every call must
land in audit_log with its subject."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jwt
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from sqlalchemy import select
from typer.testing import CliRunner

from icp_mcp.archive.db import open_archive
from icp_mcp.archive.schema import accounts
from icp_mcp.server import audit
from icp_mcp.surface.access import LOCAL_OWNER, set_default_principal
from icp_mcp.server.cli import app as cli
from icp_mcp.server.policy import read_raw, write_raw

pytestmark = pytest.mark.slow

SECRET_ENV = "ICP_MCP_TEST_HTTP_JWT_SECRET"
SECRET = "test-secret-" + "x" * 40
ISSUER, AUDIENCE = "https://idp.test.example/", "icp-mcp-tests"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"\+\d{1,3} \d{3} \d{3} \d{4}")


@dataclass
class Deployment:
    base: str
    tokens: dict[str, str]
    server: object
    emea_account: str
    na_account: str
    pii_accounts: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(server, port: int) -> Iterator[None]:
    """Serve `server` over streamable HTTP on loopback in a thread (the ASGI app `serve` runs), for as long
    as the block lasts; afterwards release the archive and the process-wide policy state it set."""
    from icp_mcp.server.app import archive_of, http_app

    uv = uvicorn.Server(uvicorn.Config(http_app(server, "127.0.0.1"), host="127.0.0.1", port=port,
                                       log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    for _ in range(400):  # bounded wait for the socket
        if uv.started:
            break
        time.sleep(0.05)
    assert uv.started, "uvicorn did not start"
    try:
        yield
    finally:
        uv.should_exit = True
        thread.join(timeout=30)
        archive_of(server).close()
        set_default_principal(LOCAL_OWNER)
        audit.set_default_jsonl(None)


def mint(policy: Path, subject: str, *args: str) -> str:
    result = CliRunner().invoke(cli, ["token", "create", "--policy", str(policy), "--subject", subject, *args])
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


def accounts_quoting_contacts(path: Path) -> list[str]:
    """Accounts with pricing emails whose text carries a contact's email address (the planted PII)."""
    from icp_mcp.archive.schema import conversation_snippets as snip
    from icp_mcp.archive.schema import conversations as conv

    engine = open_archive(path, read_only=True)
    try:
        with engine.connect() as conn:
            query = (select(snip.c.account_id).distinct()
                     .join(conv, conv.c.conversation_id == snip.c.conversation_id)
                     .where(snip.c.text.like("%@%"), snip.c.topics.like("%,pricing,%"), conv.c.channel == "email")
                     .order_by(snip.c.account_id).limit(20))
            return [row[0] for row in conn.execute(query)]
    finally:
        engine.dispose()


def account_in(path: Path, territory: str) -> str:
    engine = open_archive(path, read_only=True)
    try:
        with engine.connect() as conn:
            return conn.execute(select(accounts.c.account_id).where(accounts.c.territory == territory)
                                .order_by(accounts.c.account_id).limit(1)).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def deployment(icp_demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from icp_mcp.server.app import build_server

    folder = tmp_path_factory.mktemp("perm_http")
    archive = icp_demo.copy_to(folder)
    policy = folder / "policy.yaml"
    tokens = {
        "sales": mint(policy, "sam.sales", "--role", "sales", "--territory", "EMEA", "--expires-days", "30"),
        "marketing": mint(policy, "mia.marketing", "--role", "marketing"),
        "revops": mint(policy, "rex.revops", "--role", "revops"),
        "product": mint(policy, "pat.product", "--role", "product"),
        "admin": mint(policy, "ada.admin", "--role", "admin"),
        "marketing_k": mint(policy, "kim.marketing", "--role", "marketing"),
        "expired": mint(policy, "ole.expired", "--role", "product"),
    }
    data = read_raw(policy)
    for entry in data["principals"]:
        if entry["subject"] == "kim.marketing":
            entry["min_group"] = 1000  # a per-principal k large enough to hide groups of the S demo
        if entry["subject"] == "ole.expired":
            entry["expires_at"] = "2020-01-01T00:00:00+00:00"
    data["jwt"] = {"issuer": ISSUER, "audience": AUDIENCE, "secret_env": SECRET_ENV}
    data["principals"].append({"subject": "jill.jwt", "roles": ["revops"]})
    write_raw(policy, data)
    os.environ[SECRET_ENV] = SECRET
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = build_server(str(archive), policy=str(policy), base_url=base)
    try:
        with serving(server, port):
            yield Deployment(base=base, tokens=tokens, server=server,
                             emea_account=account_in(archive, "EMEA"), na_account=account_in(archive, "NA"),
                             pii_accounts=accounts_quoting_contacts(archive))
    finally:
        os.environ.pop(SECRET_ENV, None)


@asynccontextmanager
async def connect(dep: Deployment, token: str) -> AsyncIterator[Client]:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with http:
        async with Client(streamable_http_client(dep.base + "/mcp", http_client=http)) as client:
            yield client


def text_of(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def jwt_for(**over: object) -> str:
    now = int(time.time())
    claims = {"sub": "jill.jwt", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600, **over}
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, SECRET, algorithm="HS256")


INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "t", "version": "0"}}}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def post(dep: Deployment, token: str | None) -> httpx.Response:
    headers = dict(HEADERS)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(dep.base + "/mcp", json=INIT, headers=headers, timeout=30)


def test_no_token_is_401_with_resource_metadata(deployment: Deployment) -> None:
    response = post(deployment, None)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer") and "resource_metadata=" in challenge
    metadata_url = re.search(r'resource_metadata="([^"]+)"', challenge).group(1)
    metadata = httpx.get(metadata_url, timeout=30).json()
    assert metadata["resource"] == deployment.base + "/mcp"
    assert "icp:read" in metadata["scopes_supported"]
    assert post(deployment, "icp_not-a-real-token").status_code == 401


def test_expired_tokens_say_expired(deployment: Deployment) -> None:
    for token in (deployment.tokens["expired"], jwt_for(exp=int(time.time()) - 3600)):
        response = post(deployment, token)
        assert response.status_code == 401
        assert "expired" in response.json()["error_description"]
        assert "expired" in response.headers["www-authenticate"] and "resource_metadata=" in response.headers[
            "www-authenticate"]
    junk = post(deployment, "icp_not-a-real-token")  # a token that never existed learns nothing more
    assert junk.status_code == 401 and "expired" not in junk.text


@pytest.mark.parametrize(
    "claims",
    [{"exp": int(time.time()) - 3600}, {"aud": "another-service"}, {"iss": "https://evil.example/"}],
    ids=["expired", "wrong-audience", "wrong-issuer"],
)
def test_bad_jwts_are_refused(deployment: Deployment, claims: dict) -> None:
    assert post(deployment, jwt_for(**claims)).status_code == 401


def test_badly_signed_jwt_is_refused(deployment: Deployment) -> None:
    forged = jwt.encode({"sub": "jill.jwt", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 600},
                        "another-secret-" + "y" * 40, algorithm="HS256")
    assert post(deployment, forged).status_code == 401


def test_insufficient_scope_is_403(deployment: Deployment) -> None:
    response = post(deployment, jwt_for(scope="voice:read"))  # narrows revops to a scope without icp:read
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_valid_jwt_works(deployment: Deployment) -> None:
    async with connect(deployment, jwt_for()) as client:
        result = await client.call_tool("best_customers", {"limit": 3})
    assert not result.is_error, text_of(result)
    assert result.structured_content["cohort_revenue"] is not None  # jill is revops: revenue visible


async def test_sales_sees_its_territory_only(deployment: Deployment) -> None:
    async with connect(deployment, deployment.tokens["sales"]) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        own = await client.call_tool("score_account", {"account": deployment.emea_account})
        other = await client.call_tool("score_account", {"account": deployment.na_account})
        voice = await client.call_tool("customer_voice", {})
        explained = await client.call_tool("explain_disqualifier", {"account": deployment.na_account})
        fuzzy = await client.call_tool("score_account", {"account": "Shipping"})
        missing = await client.call_tool("score_account", {"account": "A9999999"})
    assert "customer_voice" not in names and "derive_icp" not in names and "score_account" in names
    assert not own.is_error, text_of(own)
    assert own.structured_content["score"]["account_id"] == deployment.emea_account
    # an account outside the territories answers exactly like one that does not exist
    assert other.is_error and missing.is_error
    assert text_of(other).replace(deployment.na_account, "A9999999") == text_of(missing)
    assert "fit_score" not in text_of(other) and "territor" not in text_of(other)
    assert voice.is_error and "voice:read" in text_of(voice)
    assert explained.is_error and f"no account matches '{deployment.na_account}'" in text_of(explained)
    for territory in ("NA", "APAC", "LATAM"):  # candidates come only from the caller's territories
        assert f"territory={territory}" not in text_of(fuzzy) and f'"territory":"{territory}"' not in text_of(fuzzy)


async def test_marketing_gets_no_revenue_and_no_contact_pii(deployment: Deployment) -> None:
    voice_args = {"topic": "pricing", "channel": "email", "cohort": deployment.pii_accounts,
                  "since": "2000-01-01", "limit": 50}
    async with connect(deployment, deployment.tokens["admin"]) as client:
        full_best = (await client.call_tool("best_customers", {"limit": 10})).structured_content
        full_voice = await client.call_tool("customer_voice", voice_args)
    async with connect(deployment, deployment.tokens["marketing"]) as client:
        best = await client.call_tool("best_customers", {"limit": 10})
        voice = await client.call_tool("customer_voice", {**voice_args, "cohort": "all"})
        by_ids = await client.call_tool("customer_voice", voice_args)
        scored = await client.call_tool("score_account", {"account": deployment.emea_account})
    assert not best.is_error and not voice.is_error, (text_of(best), text_of(voice))
    data = best.structured_content
    assert data["cohort_revenue"] is None and data["total_revenue"] is None
    assert all(item["components"]["arr"] is None and item["components"]["lifetime_revenue"] is None
               for item in data["items"])
    figures = {f"{item['components'][k]:g}" for item in full_best["items"] for k in ("arr", "lifetime_revenue")
               if item["components"][k]}
    assert figures and not any(figure in text_of(best) for figure in figures)
    # the admin sees the planted emails and phones, so their absence for marketing is redaction
    assert EMAIL.search(text_of(full_voice)) and PHONE.search(text_of(full_voice))
    quotes = " ".join(q["text"] for q in voice.structured_content["quotes"])
    assert quotes and not EMAIL.search(quotes) and not PHONE.search(quotes)
    assert not EMAIL.search(text_of(voice)) and "[email]" in quotes
    # no account identity: quotes are attributed by firmographics, a cohort of ids names nobody
    assert all(q["account_id"] is None and q["account_name"] is None and q["attribution"].startswith("a ")
               for q in voice.structured_content["quotes"])
    assert voice.structured_content["by_account"] == [] and data["items"] == [] and data["shares"]
    assert not by_ids.is_error and by_ids.structured_content["total"] == 0
    assert scored.is_error and "no account matches" in text_of(scored)  # may name no account at all


async def test_revops_sees_revenue_and_product_is_scoped(deployment: Deployment) -> None:
    async with connect(deployment, deployment.tokens["revops"]) as client:
        best = await client.call_tool("best_customers", {"limit": 5})
        other = await client.call_tool("score_account", {"account": deployment.na_account})
    assert best.structured_content["cohort_revenue"] > 0
    assert any(item["components"]["arr"] for item in best.structured_content["items"])
    assert not other.is_error, text_of(other)
    async with connect(deployment, deployment.tokens["product"]) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        derive = await client.call_tool("derive_icp", {})
    assert "feature_adoption" in names and "derive_icp" not in names and "customer_voice" not in names
    assert derive.is_error and "icp:write" in text_of(derive)


async def test_every_call_is_audited_with_its_subject(deployment: Deployment) -> None:
    from icp_mcp.server.app import archive_of

    async with connect(deployment, deployment.tokens["product"]) as client:
        await client.call_tool("best_customers", {"limit": 2, "segment": "x' OR 1=1 --"})
        await client.call_tool("customer_voice", {"topic": "pricing"})  # denied
        await client.read_resource("icp://current")
    rows = audit.tail(archive_of(deployment.server).engine, n=10_000)
    by_subject: dict[str, list[dict]] = {}
    for row in rows:
        by_subject.setdefault(row["subject"], []).append(row)
    for subject in ("sam.sales", "mia.marketing", "rex.revops", "pat.product", "ada.admin", "jill.jwt"):
        assert subject in by_subject, f"no audit rows for {subject}"
    product = by_subject["pat.product"][-3:]
    assert [r["tool"] for r in product] == ["best_customers", "customer_voice", "resource:icp://current"]
    assert product[1]["outcome"] == "denied" and "voice:read" in product[1]["reason"]
    assert product[0]["arguments"]["segment"] == "x' OR 1=1 --"
    sales = [r for r in by_subject["sam.sales"] if r["tool"] == "score_account"]
    assert {r["outcome"] for r in sales} >= {"ok"} and any(r["outcome"] != "ok" for r in sales)
    # the out-of-territory lookup answered "not found", but the audit records the refusal and why
    hidden = [r for r in sales if r["arguments"].get("account") == deployment.na_account]
    assert hidden and all(r["outcome"] == "denied" and "territor" in r["reason"] for r in hidden), hidden
    served = [r for r in rows if r["subject"] in by_subject and r["subject"] != "tests"]
    assert all(r["duration_ms"] is not None for r in served if r["tool"] != "icp.activate")


async def test_small_aggregates_are_suppressed_without_account_level_access(deployment: Deployment) -> None:
    few = {"topic": "pricing", "cohort": "best:2", "since": "2000-01-01"}
    async with connect(deployment, deployment.tokens["marketing"]) as client:
        small = await client.call_tool("customer_voice", few)
    async with connect(deployment, deployment.tokens["revops"]) as client:
        full = await client.call_tool("customer_voice", few)
    assert not small.is_error, text_of(small)  # the small-group rule: withheld, and the answer says so
    withheld = small.structured_content
    assert withheld["total"] is None and withheld["quotes"] == [] and withheld["by_tone"] == []
    assert "fewer than 5 accounts withheld" in withheld["summary"]
    assert not full.is_error and 0 < full.structured_content["accounts"] < 5


async def test_drift_groups_on_few_deals_hidden_without_account_level_access(deployment: Deployment) -> None:
    args = {"window": "30d", "as_of": "2026-11-01"}
    async with connect(deployment, deployment.tokens["revops"]) as client:
        full = (await client.call_tool("check_drift", args)).structured_content
    async with connect(deployment, deployment.tokens["marketing_k"]) as client:  # k = 1000
        limited = (await client.call_tool("check_drift", args)).structured_content
    small = [m["segment"] for m in full["segments"]
             if min(m["win_rate"]["recent"]["n"], m["win_rate"]["baseline"]["n"]) < 1000]
    assert small, full["segments"]
    assert not set(small) & {m["segment"] for m in limited["segments"]}
    assert "fewer than 1000 deals withheld" in limited["summary"]
    assert limited["verdict"] == full["verdict"] and limited["recent_wins"] == full["recent_wins"]


@pytest.mark.parametrize("junk", ["x" * 100_000, "icp_" + "\u00e9" * 50, "a.b.c", "Bearer icp_x", "' OR 1=1 --"])
def test_junk_bearer_values_are_401(deployment: Deployment, junk: str) -> None:
    headers = dict(HEADERS)
    headers["Authorization"] = "Bearer " + junk
    response = httpx.post(deployment.base + "/mcp", json=INIT, headers={k: v.encode("utf-8") if k == "Authorization"
                                                                         else v for k, v in headers.items()},
                          timeout=30)
    assert response.status_code == 401


async def test_sales_journey_names_the_committee_masked_without_pii(deployment: Deployment) -> None:
    """The rep's "whom do I call?": contacts with roles and titles; names and emails only with pii:read."""
    async with connect(deployment, deployment.tokens["admin"]) as client:
        full = await client.call_tool("score_account", {"account": deployment.emea_account})
    async with connect(deployment, deployment.tokens["sales"]) as client:
        masked = await client.call_tool("score_account", {"account": deployment.emea_account})
    assert not full.is_error and not masked.is_error, (text_of(full), text_of(masked))
    seen, got = full.structured_content, masked.structured_content
    assert 1 <= len(got["contacts"]) <= 5 and re.match(r"\d+ known contacts?; talk first to ", got["committee"])
    assert [c["contact_id"] for c in got["contacts"]] == [c["contact_id"] for c in seen["contacts"]]
    names = [c["contact_name"] for c in seen["contacts"] if c["contact_name"]]
    emails = [c["email"] for c in seen["contacts"] if c["email"]]
    assert names and emails and all(n != "[redacted]" for n in names)  # the admin sees who they are
    assert any(c["roles"] for c in got["contacts"]) and all(c["title"] for c in got["contacts"])
    assert all(c["contact_name"] in (None, "[redacted]") and c["email"] in (None, "[redacted]")
               for c in got["contacts"])
    text = text_of(masked)
    assert not any(name in text for name in names) and not EMAIL.search(text)
    assert got["contacts"][0]["title"] in got["committee"]


def test_the_example_client_without_a_token_prints_the_401_in_one_line(deployment: Deployment) -> None:
    import subprocess
    import sys

    example = Path(__file__).resolve().parents[1] / "examples" / "http_client.py"
    env = {k: v for k, v in os.environ.items() if k != "ICP_TOKEN"}
    done = subprocess.run([sys.executable, str(example), deployment.base + "/mcp", deployment.emea_account],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-1500:]
    assert done.stderr.strip().splitlines() == [
        f"error: {deployment.base}/mcp answered 401 Unauthorized: set ICP_TOKEN to a bearer token (icp-mcp token create)"]

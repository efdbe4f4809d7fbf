"""`PolicyTokenVerifier`: opaque hashed tokens and JWTs (HS256 secret, RS256 PEM, JWKS) through the SDK's
`TokenVerifier` protocol, and `auth_settings` for the protected-resource metadata."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from mcp.server.auth.provider import AccessToken

from icp_mcp.surface.access import PRINCIPAL_CLAIM, principal_from_access_token
from icp_mcp.server.auth import PolicyTokenVerifier, auth_settings, http_auth
from icp_mcp.server.policy import PolicyError, hash_token, parse_policy

SECRET = "s" * 40
ISSUER, AUDIENCE = "https://idp.example.test/", "icp-mcp"


def opaque_policy(**extra: object):
    return parse_policy({
        "k": 7,
        "principals": [
            {"subject": "ana", "roles": ["sales"], "territories": ["EMEA"], "token_sha256": hash_token("icp_ana")},
            {"subject": "old", "roles": ["revops"], "token_sha256": hash_token("icp_old"),
             "expires_at": (datetime.now(UTC) - timedelta(days=1)).isoformat()},
            {"subject": "maria", "roles": ["revops"]},
        ],
        **extra,
    })


async def test_opaque_token_gives_the_principal_in_the_access_token() -> None:
    verifier = PolicyTokenVerifier(opaque_policy(), resource="http://127.0.0.1:1/mcp")
    token = await verifier.verify_token("icp_ana")
    assert isinstance(token, AccessToken)
    assert token.client_id == token.subject == "ana"
    assert set(token.scopes) == {"icp:read", "accounts:read"}
    assert token.resource == "http://127.0.0.1:1/mcp"
    principal = principal_from_access_token(token)
    assert principal is not None and principal.territories == {"EMEA"} and principal.min_group == 7


@pytest.mark.parametrize("bad", ["", "icp_nope", "icp_old", "x" * 10_000, "a.b.c"])
async def test_unknown_expired_and_junk_tokens_refused(bad: str) -> None:
    assert await PolicyTokenVerifier(opaque_policy()).verify_token(bad) is None


def test_foreign_access_token_gets_no_territories() -> None:
    foreign = AccessToken(token="t", client_id="c", scopes=["icp:read", "accounts:read", "root"])
    principal = principal_from_access_token(foreign)
    assert principal is not None and principal.scopes == {"icp:read", "accounts:read"}
    assert principal.territories == frozenset()
    dict_carried = AccessToken(token="t", client_id="c", scopes=[],
                               claims={PRINCIPAL_CLAIM: {"subject": "z", "scopes": ["icp:read"]}})
    assert principal_from_access_token(dict_carried).subject == "z"


# -- JWT -----------------------------------------------------------------------------------------------------

def claims(**over: object) -> dict:
    now = int(time.time())
    base = {"sub": "maria", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
def hs_verifier(monkeypatch: pytest.MonkeyPatch) -> PolicyTokenVerifier:
    monkeypatch.setenv("ICP_TEST_JWT_SECRET", SECRET)
    return PolicyTokenVerifier(opaque_policy(jwt={"issuer": ISSUER, "audience": AUDIENCE,
                                                  "secret_env": "ICP_TEST_JWT_SECRET"}))


def hs(payload: dict, key: str = SECRET, alg: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=alg)


def test_hs256_jwt_matched_to_a_policy_subject(hs_verifier: PolicyTokenVerifier) -> None:
    token = hs_verifier.verify(hs(claims()))
    assert token is not None and token.subject == "maria" and "revenue:read" in token.scopes
    assert token.expires_at is not None and token.claims["iss"] == ISSUER


def test_jwt_role_and_territories_from_claims(hs_verifier: PolicyTokenVerifier) -> None:
    principal = hs_verifier.principal_for(hs(claims(sub="newrep", icp_role="sales", icp_territories=["NA"])))
    assert principal is not None and principal.territories == {"NA"} and principal.roles == ["sales"]
    assert hs_verifier.principal_for(hs(claims(sub="nobody"))) is None  # no entry, no role claim
    blind = hs_verifier.principal_for(hs(claims(sub="rep2", icp_role="sales")))
    assert blind is not None and blind.territories == frozenset()  # no territories claim: none, not all
    everywhere = hs_verifier.principal_for(hs(claims(sub="ops2", icp_role="revops", icp_territories="*")))
    assert everywhere is not None and everywhere.territories is None
    assert hs_verifier.principal_for(hs(claims(sub="x", icp_role="root"))) is None
    assert hs_verifier.principal_for(hs(claims(sub="x", icp_role="sales", icp_territories="NA"))) is None


def test_scope_claim_only_narrows(hs_verifier: PolicyTokenVerifier) -> None:
    narrowed = hs_verifier.principal_for(hs(claims(scope="voice:read admin")))
    assert narrowed is not None and narrowed.scopes == {"voice:read"}  # admin is not granted by a claim
    scp = hs_verifier.principal_for(hs(claims(scp=["icp:read"])))
    assert scp is not None and scp.scopes == {"icp:read"}


@pytest.mark.parametrize(
    "payload",
    [
        claims(exp=int(time.time()) - 3600),
        claims(aud="someone-else"),
        claims(iss="https://evil.example/"),
        claims(exp=None),
        claims(sub=None),
        claims(aud=None),
    ],
    ids=["expired", "wrong-audience", "wrong-issuer", "no-exp", "no-sub", "no-aud"],
)
def test_bad_jwt_claims_refused(hs_verifier: PolicyTokenVerifier, payload: dict) -> None:
    assert hs_verifier.verify(hs(payload)) is None


def test_bad_signatures_and_algorithms_refused(hs_verifier: PolicyTokenVerifier) -> None:
    assert hs_verifier.verify(hs(claims(), key="t" * 40)) is None
    good = hs(claims())
    head, body, sig = good.split(".")
    assert hs_verifier.verify(f"{head}.{body}.{sig[::-1]}") is None
    assert hs_verifier.verify(jwt.encode(claims(), None, algorithm="none")) is None
    assert hs_verifier.verify(hs(claims(), alg="HS512", key=SECRET)) is None


def test_missing_or_short_secret_is_a_policy_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ICP_TEST_JWT_SECRET", raising=False)
    policy = opaque_policy(jwt={"issuer": ISSUER, "audience": AUDIENCE, "secret_env": "ICP_TEST_JWT_SECRET"})
    with pytest.raises(PolicyError, match="ICP_TEST_JWT_SECRET is not set"):
        PolicyTokenVerifier(policy)
    monkeypatch.setenv("ICP_TEST_JWT_SECRET", "short")
    with pytest.raises(PolicyError, match="at least 32 bytes"):
        PolicyTokenVerifier(policy)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rs_policy(tmp_path: Path, key_source: dict):
    path = tmp_path / "policy.yaml"
    path.write_text("")
    from icp_mcp.server.policy import read_raw, write_raw

    data = read_raw(path)
    data.update({"jwt": {"issuer": ISSUER, "audience": AUDIENCE, "algorithms": ["RS256"], **key_source},
                 "principals": [{"subject": "maria", "roles": ["revops"]}]})
    return write_raw(path, data)


def test_rs256_with_a_pem_public_key(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "idp.pem").write_bytes(pem)
    verifier = PolicyTokenVerifier(rs_policy(tmp_path, {"public_key_file": "keys/idp.pem"}))
    assert verifier.principal_for(jwt.encode(claims(), rsa_key, algorithm="RS256")).subject == "maria"
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert verifier.verify(jwt.encode(claims(), other, algorithm="RS256")) is None
    # algorithm confusion: an HS256 token signed with the public key bytes must not pass
    assert verifier.verify(jwt.encode(claims(), pem.decode()[:64] * 2, algorithm="HS256")) is None


def test_rs256_with_a_jwks_file(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    verifier = PolicyTokenVerifier(rs_policy(tmp_path, {"jwks_file": "jwks.json"}))
    signed = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "k1"})
    assert verifier.principal_for(signed) is not None
    wrong_kid = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "k2"})
    assert verifier.verify(wrong_kid) is None


def test_bad_key_files_are_policy_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a key")
    with pytest.raises(PolicyError, match="jwt.public_key_file"):
        PolicyTokenVerifier(rs_policy(tmp_path, {"public_key_file": "bad.pem"}))
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(PolicyError, match="jwt.jwks_file"):
        PolicyTokenVerifier(rs_policy(tmp_path, {"jwks_file": "bad.json"}))


def test_auth_settings_describe_the_resource_server() -> None:
    settings = auth_settings(opaque_policy(), "http://127.0.0.1:8123")
    assert str(settings.resource_server_url) == "http://127.0.0.1:8123/mcp"
    assert str(settings.issuer_url).startswith("http://127.0.0.1:8123")
    assert settings.required_scopes == ["icp:read"]
    with_jwt = opaque_policy(jwt={"issuer": ISSUER, "audience": AUDIENCE, "algorithms": ["RS256"],
                                  "jwks_file": "/etc/hostname"})
    assert str(auth_settings(with_jwt, "http://h:1").issuer_url) == ISSUER
    verifier, settings = http_auth(opaque_policy(), "http://127.0.0.1:9/")
    assert verifier.resource == str(settings.resource_server_url)
    with pytest.raises(PolicyError):
        auth_settings(opaque_policy(), "not a url")


def test_revocation_takes_effect_without_a_restart(tmp_path: Path) -> None:
    from icp_mcp.server.policy import load_policy, read_raw, write_raw

    path = tmp_path / "policy.yaml"
    write_raw(path, {"principals": [{"subject": "ana", "roles": ["sales"], "territories": ["EMEA"],
                                     "token_sha256": hash_token("icp_ana")}]})
    verifier = PolicyTokenVerifier(load_policy(path))
    verifier.RELOAD_CHECK_S = 0.0
    assert verifier.principal_for("icp_ana") is not None
    data = read_raw(path)
    data["principals"] = []
    write_raw(path, data)
    os.utime(path, (time.time() + 5, time.time() + 5))  # a distinct mtime even on coarse clocks
    assert verifier.principal_for("icp_ana") is None
    path.write_text("k: -1\n")  # an invalid edit keeps the last good policy
    os.utime(path, (time.time() + 10, time.time() + 10))
    assert verifier.principal_for("icp_ana") is None and verifier.policy.k == 5


# -- issue 11: expired tokens are told so; serve warns when claims choose the role ------------------------


def test_refusal_says_expired_only_for_genuine_expired_tokens(hs_verifier: PolicyTokenVerifier) -> None:
    assert hs_verifier.refusal("icp_old") == "expired"  # a policy entry past its expiry
    assert hs_verifier.refusal(hs(claims(exp=int(time.time()) - 3600))) == "expired"
    for other in ("icp_nope", hs(claims(aud="someone-else")), hs(claims(), key="t" * 40), "", "a.b.c"):
        assert hs_verifier.refusal(other) is None
    assert hs_verifier.refusal("icp_ana") is None  # valid tokens are not refused at all


def test_claims_choose_role_can_be_switched_off_and_serve_warns(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path, archive_path: Path) -> None:
    import yaml
    from typer.testing import CliRunner

    from icp_mcp.server.cli import app as cli
    from icp_mcp.server.policy import startup_warnings

    monkeypatch.setenv("ICP_TEST_JWT_SECRET", SECRET)
    settings = {"issuer": ISSUER, "audience": AUDIENCE, "secret_env": "ICP_TEST_JWT_SECRET"}
    open_door = opaque_policy(jwt=settings)
    assert any("claims_choose_role" in w for w in startup_warnings(open_door))
    closed = opaque_policy(jwt={**settings, "claims_choose_role": False})
    assert startup_warnings(closed) == []
    verifier = PolicyTokenVerifier(closed)
    assert verifier.principal_for(hs(claims(sub="newrep", icp_role="admin", icp_territories="*"))) is None
    assert verifier.principal_for(hs(claims())) is not None  # a listed subject still gets in
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump({"jwt": settings}))
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: None)  # start-up only, no server
    served = CliRunner().invoke(cli, ["serve", "--archive", str(archive_path), "--transport", "http",
                                      "--port", "8799", "--policy", str(policy)])
    assert served.exit_code == 0, served.output
    assert "warning: policy: a JWT from" in served.output and "may claim admin" in served.output

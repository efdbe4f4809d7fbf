"""The policy file: validation that names the field, safe paths, and the `token` CLI that edits it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from icp_mcp.server.cli import app
from icp_mcp.server.policy import PolicyError, hash_token, load_policy, parse_policy

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "policy.example.yaml"
runner = CliRunner()


def test_example_policy_is_valid() -> None:
    policy = load_policy(EXAMPLE)
    assert policy.k == 5
    assert policy.local_principal().subject == "local"
    ana = policy.entry_principal(policy.principals[0])
    assert ana.territories == {"EMEA"} and "accounts:read" in ana.scopes


def test_defaults_without_a_file_body() -> None:
    policy = parse_policy(None)
    assert policy.principals == [] and policy.k == 5
    assert "admin" in policy.local_principal().scopes


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"k": 0}, "k"),
        ({"principals": [{"subject": "a", "roles": ["boss"]}]}, "principals.0.roles.0"),
        ({"principals": [{"subject": "a", "roles": ["sales"], "token_sha256": "plain"}]}, "principals.0.token_sha256"),
        ({"principals": [{"subject": "", "roles": ["sales"]}]}, "principals.0.subject"),
        ({"principals": [{"subject": "a", "roles": []}]}, "principals.0.roles"),
        ({"roles": {"sales": ["icp:read", "root"]}}, "roles"),
        ({"required_scopes": ["everything"]}, "required_scopes"),
        ({"jwt": {"issuer": "i", "audience": "a"}}, "jwt"),
        ({"jwt": {"issuer": "i", "audience": "a", "secret_env": "BAD-NAME"}}, "jwt.secret_env"),
        ({"surprise": 1}, "surprise"),
        ({"local": {"roles": ["sales"], "extra": True}}, "local.extra"),
    ],
)
def test_errors_name_the_field(data: dict, field: str) -> None:
    with pytest.raises(PolicyError) as err:
        parse_policy(data)
    assert f"{field}:" in str(err.value)


def test_duplicate_token_hash_refused() -> None:
    h = hash_token("x")
    with pytest.raises(PolicyError, match="used twice"):
        parse_policy({"principals": [{"subject": "a", "roles": ["sales"], "token_sha256": h},
                                     {"subject": "b", "roles": ["sales"], "token_sha256": h}]})


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(PolicyError, match="mapping"):
        load_policy(path)
    path.write_text("a: [unclosed\n")
    with pytest.raises(PolicyError, match="cannot read policy"):
        load_policy(path)


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not found"):
        load_policy(tmp_path / "nope.yaml")


@pytest.mark.parametrize("value", ["../outside.pem", "keys/../../x.pem", "a\x00b", " ", "/nonexistent/key.pem"])
def test_path_traversal_and_control_characters_refused(tmp_path: Path, value: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"jwt": {"issuer": "i", "audience": "a", "algorithms": ["RS256"],
                                            "public_key_file": value}}))
    with pytest.raises(PolicyError, match="jwt.public_key_file"):
        load_policy(path)


def test_missing_key_file_and_audit_folder_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"jwt": {"issuer": "i", "audience": "a", "algorithms": ["RS256"],
                                            "jwks_file": "keys/jwks.json"}}))
    with pytest.raises(PolicyError, match="jwt.jwks_file: file not found"):
        load_policy(path)
    path.write_text(yaml.safe_dump({"audit_jsonl": "no/such/folder/audit.jsonl"}))
    with pytest.raises(PolicyError, match="audit_jsonl: folder"):
        load_policy(path)
    path.write_text(yaml.safe_dump({"audit_jsonl": "../audit.jsonl"}))
    with pytest.raises(PolicyError, match="audit_jsonl: path traversal"):
        load_policy(path)
    path.write_text(yaml.safe_dump({"audit_jsonl": "audit.jsonl"}))
    assert load_policy(path).audit_path() == tmp_path / "audit.jsonl"


# -- the token CLI ----------------------------------------------------------------------------------------

def create(policy: Path, *args: str) -> str:
    result = runner.invoke(app, ["token", "create", "--policy", str(policy), *args])
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


def test_token_create_stores_only_the_hash(tmp_path: Path) -> None:
    policy_path = tmp_path / "policy.yaml"
    token = create(policy_path, "--subject", "ana", "--role", "sales", "--territory", "EMEA",
                   "--expires-days", "30")
    text = policy_path.read_text()
    assert token.startswith("icp_") and len(token) > 40
    assert token not in text and hash_token(token) in text
    assert policy_path.stat().st_mode & 0o777 == 0o600
    policy = load_policy(policy_path)
    [entry] = policy.principals
    assert entry.subject == "ana" and entry.territories == ["EMEA"] and entry.expires_at is not None


def test_token_create_keeps_other_entries(tmp_path: Path) -> None:
    policy_path = tmp_path / "policy.yaml"
    policy_path.write_text(yaml.safe_dump({"k": 7, "local": {"roles": ["revops"]},
                                           "principals": [{"subject": "maria", "roles": ["revops"]}]}))
    first = create(policy_path, "--subject", "bot", "--role", "marketing")
    second = create(policy_path, "--subject", "pl", "--role", "product")
    assert first != second
    policy = load_policy(policy_path)
    assert policy.k == 7 and policy.local.roles == ["revops"]
    assert [e.subject for e in policy.principals] == ["maria", "bot", "pl"]


def test_token_create_refusals(tmp_path: Path) -> None:
    policy_path = tmp_path / "policy.yaml"
    bad_role = runner.invoke(app, ["token", "create", "--policy", str(policy_path), "--subject", "x",
                                   "--role", "root"])
    assert bad_role.exit_code == 2 and "--role" in bad_role.output
    no_territory = runner.invoke(app, ["token", "create", "--policy", str(policy_path), "--subject", "x",
                                       "--role", "sales"])
    assert no_territory.exit_code == 2 and "--territory" in no_territory.output
    create(policy_path, "--subject", "x", "--role", "sales", "--all-territories")
    again = runner.invoke(app, ["token", "create", "--policy", str(policy_path), "--subject", "x",
                                "--role", "sales", "--all-territories"])
    assert again.exit_code == 2 and "already has a token" in again.output
    assert "Traceback" not in again.output


def test_token_list_and_revoke(tmp_path: Path) -> None:
    policy_path = tmp_path / "policy.yaml"
    token = create(policy_path, "--subject", "ana", "--role", "sales", "--territory", "EMEA")
    create(policy_path, "--subject", "bob", "--role", "marketing")
    listed = runner.invoke(app, ["token", "list", "--policy", str(policy_path), "--json"])
    assert listed.exit_code == 0 and '"subject": "ana"' in listed.stdout
    assert token not in listed.stdout and hash_token(token) not in listed.stdout
    table = runner.invoke(app, ["token", "list", "--policy", str(policy_path)])
    assert table.exit_code == 0 and "ana" in table.stdout
    revoked = runner.invoke(app, ["token", "revoke", "--policy", str(policy_path), "--subject", "ana"])
    assert revoked.exit_code == 0
    assert [e.subject for e in load_policy(policy_path).principals] == ["bob"]
    missing = runner.invoke(app, ["token", "revoke", "--policy", str(policy_path), "--subject", "ana"])
    assert missing.exit_code == 1 and "no token" in missing.output


def test_token_cli_on_a_broken_policy_says_so(tmp_path: Path) -> None:
    policy_path = tmp_path / "policy.yaml"
    policy_path.write_text("k: -3\n")
    result = runner.invoke(app, ["token", "create", "--policy", str(policy_path), "--subject", "x",
                                 "--role", "product"])
    assert result.exit_code == 2 and "k:" in result.output and "Traceback" not in result.output
    listed = runner.invoke(app, ["token", "list", "--policy", str(tmp_path / "missing.yaml")])
    assert listed.exit_code == 2 and "not found" in listed.output

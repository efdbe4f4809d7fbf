"""Every command in README.md, examples/*.md and docs/INGEST.md, run as written on a fresh demo archive (as of today, as a new
user gets it): each answer must be non-empty and carry evidence (counts, rates, ids). Commands that serve
forever, need the network or an API key, or drive another program are skipped — the list is `SKIPPED`, and
the test fails when a command fits no rule, so a new command in the docs is run or explicitly skipped.

Plus the RevOps journey on a `--drift` demo: its command must say `refresh`, as the default window does.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from icp_mcp.server.cli import app

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
JOURNEYS = ROOT / "examples" / "journeys.md"  # first: its setup block builds the demo the others use
DOCS = [JOURNEYS, *sorted(p for p in (ROOT / "examples").glob("*.md") if p != JOURNEYS),
        ROOT / "README.md", ROOT / "docs" / "INGEST.md"]

#: Commands not run here, by how they start, and why (everything else in the docs runs).
SKIPPED: dict[str, str] = {
    "make venv": "creates the virtualenv the test already runs in",
    "make demo": "builds the demo, then serves it over HTTP until Ctrl-C",
    "make test": "runs this very test suite",
    "icp-mcp serve": "serves until stopped (tested in test_server_transports.py)",
    "npx ": "downloads the MCP Inspector from npm (network; tested in test_inspector.py)",
    "claude ": "configures Claude Code, another program",
    "export ANTHROPIC_API_KEY": "sets a secret",
    "icp-mcp ask": "needs an Anthropic API key and the network (tested against a fake API in test_agent.py)",
}
#: Answers that are refusals by design, with the words that must explain them.
EXPECTED_REFUSALS: dict[str, str] = {
    "activate_icp --archive $A --arg version=2": "confirm",  # no terminal to confirm on: says how to confirm
}
EVIDENCE = re.compile(
    r'"(?:n|total|rate|interval|evidence|lift|account_id|contact_id|snippet_id|version|recent_wins|'
    r'n_customers|accounts|adopters|read|loaded)"\s*:\s*[\["\d]'
)


@dataclass
class Command:
    doc: str
    text: str  # as written (for messages and the refusal table)
    argv: list[str]
    stdout_to: str | None = None


def commands(doc: Path) -> list[Command | tuple[str, str]]:
    """The doc's shell commands in order: `Command`s to run, ("skip", text) and ("set", "NAME=value")."""
    out: list[Command | tuple[str, str]] = []
    for block in re.findall(r"```bash\n(.*?)```", doc.read_text(), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s\[--[^\]]*\]", "", line)  # optional arguments in brackets: run the plain form
            tokens = shlex.split(line, comments=True)
            if not tokens:
                continue
            text = " ".join(tokens)
            bare = text.replace(".venv/bin/", "").replace('"$PWD/', "").replace("$PWD/", "")
            if any(bare.startswith(prefix) for prefix in SKIPPED):
                out.append(("skip", text))
            elif len(tokens) == 1 and re.fullmatch(r"[A-Z_]+=\S+", tokens[0]):
                out.append(("set", tokens[0]))
            elif tokens[0].endswith("icp-mcp"):
                argv, target = tokens[1:], None
                if ">" in argv:
                    at = argv.index(">")
                    argv, target = argv[:at], argv[at + 1]
                out.append(Command(doc.name, text, argv, target))
            else:
                raise AssertionError(f"{doc.name}: no rule runs or skips {text!r}; add it to SKIPPED with a reason")
    return out


def crm_exports(folder: Path) -> None:
    """The CRM exports the README's ingest commands name: a Salesforce account and opportunity export and
    a Parquet file of calls (what a user brings; small but real rows)."""
    (folder / "Account.csv").write_text(
        "Id,Name,Website,Industry,BillingCountry,NumberOfEmployees,AnnualRevenue\n"
        "001A,Acme Robotics,https://www.acme-robotics.example,Software,USA,420,\"$48,000,000\"\n"
        "001B,Borealis Health,borealis.example,Healthcare,United States,1200,250000000\n"
        "001C,Cobalt Freight,cobalt.example,Logistics,Deutschland,85,not known\n")
    (folder / "Opportunity.csv").write_text(
        "Id,AccountId,StageName,IsWon,IsClosed,CreatedDate,CloseDate,Amount\n"
        "006A,001A,Closed Won,true,true,2026-01-05,2026-03-01,42000\n"
        "006B,001B,Negotiation/Review,false,false,2026-05-01,2026-12-31,90000\n"
        "006C,001C,Closed Lost,false,true,2026-02-01,2026-04-01,12000\n")
    calls = pa.table({
        "conversation_id": ["cv1", "cv2"], "account_id": ["001A", "001B"],
        "occurred_at": ["2026-03-02 10:00:00", "2026-06-01 15:30:00"], "channel": ["call", "meeting"],
        "title": ["Kickoff", "Security review"],
        "body": ["Customer: pricing per seat works for us.", "Customer: we need SSO and SOC 2 before we sign."],
    })
    pq.write_table(calls, folder / "calls.parquet")


def has_evidence(output: str) -> bool:
    """Counts, rates or ids in an answer: JSON with an evidence field, or a table / text with numbers."""
    text = output.strip()
    if not text:
        return False
    try:
        json.loads(text)
    except ValueError:
        return bool(re.search(r"\d", text))
    return bool(EVIDENCE.search(text))


def last_cursor(outputs: list[str]) -> str | None:
    for output in reversed(outputs):
        found = re.search(r'"next_cursor"\s*:\s*"([^"]+)"', output)
        if found:
            return found.group(1)
    return None


def run_doc(doc: Path, cwd: Path, env: dict[str, str], outputs: list[str]) -> tuple[list[str], list[str]]:
    """Run one doc's commands in `cwd`; returns (commands run, commands skipped)."""
    runner = CliRunner()
    ran, skipped = [], []
    for item in commands(doc):
        if isinstance(item, tuple):
            kind, text = item
            if kind == "set":
                name, value = text.split("=", 1)
                env[name] = value
            else:
                skipped.append(text)
            continue
        argv = []
        for token in item.argv:
            for name, value in env.items():
                token = token.replace(f"${name}", value)
            if token.endswith("<next_cursor>"):
                cursor = last_cursor(outputs)
                assert cursor, f"{item.text}: no earlier answer had a next_cursor"
                token = token.replace("<next_cursor>", cursor)
            argv.append(token)
        result = runner.invoke(app, argv)
        output = result.stdout
        refusal = EXPECTED_REFUSALS.get(item.text.split("icp-mcp call ", 1)[-1])
        if refusal is not None:
            assert result.exit_code != 0 and refusal in (result.output or "").lower(), (item.text, result.output)
            ran.append(item.text)
            continue
        assert result.exit_code == 0, f"{doc.name}: {item.text}\n{result.output}\n{result.exception!r}"
        if item.stdout_to:
            (cwd / item.stdout_to).write_text(output)
        answer = output or result.output
        assert has_evidence(answer), f"{doc.name}: {item.text} answered without evidence:\n{answer[:2000]}"
        outputs.append(answer)
        ran.append(item.text)
    return ran, skipped


def test_every_documented_command_answers_with_evidence(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    crm_exports(tmp_path)
    env: dict[str, str] = {"PWD": str(tmp_path)}
    outputs: list[str] = []
    ran: list[str] = []
    skipped: list[str] = []
    for doc in DOCS:
        if doc.name == "README.md":  # the README's examples use demo.duckdb: the demo the journeys built
            shutil.copy(tmp_path / ".demo" / "demo.duckdb", tmp_path / "demo.duckdb")
        r, s = run_doc(doc, tmp_path, env, outputs)
        ran += r
        skipped += s
    assert len(ran) >= 30, ran
    for journey in ("score_account", "customer_voice", "feature_adoption", "check_drift", "best_customers",
                    "explain_disqualifier", "derive_icp", "ingest", "rejects", "token create", "icp backtest"):
        assert any(journey in text for text in ran), f"no command ran {journey}"
    assert all(any(text.replace(".venv/bin/", "").startswith(p) for p in SKIPPED) for text in skipped)


def test_sales_answer_names_the_committee(tmp_path: Path, monkeypatch, icp_demo) -> None:
    """The sales journey's scoring command answers "who should I talk to there" with contacts and roles."""
    monkeypatch.chdir(tmp_path)
    archive = icp_demo.copy_to(tmp_path)
    command = next(c for c in commands(DOCS[0]) if isinstance(c, Command) and "--json" in c.argv
                   and "score_account" in c.argv)
    argv = [t.replace("$A", str(archive)) for t in command.argv]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["contacts"] and all(c["title"] for c in answer["contacts"])
    assert any(c["roles"] for c in answer["contacts"]) and "talk first to" in answer["committee"]
    from icp_mcp.resources.prompts import qualify_account

    assert "committee" in qualify_account("A0000061") and "missing" in qualify_account("A0000061")


def test_revops_journey_says_refresh_on_a_drifting_archive(tmp_path: Path, monkeypatch) -> None:
    """On a --drift demo (as of today) the RevOps journey's drift command agrees with the default: refresh."""
    from icp_mcp.archive.demo import build_demo
    from icp_mcp.archive.db import open_archive
    from icp_mcp.engine.derivation import derive
    from icp_mcp.engine.sql import versions

    monkeypatch.chdir(tmp_path)
    archive = tmp_path / "drift.duckdb"
    build_demo(archive, size="S", seed=7, drift=True)
    engine = open_archive(archive)
    try:
        versions.activate(engine, versions.save_version(engine, derive.derive_icp(engine), "tests"), "tests")
    finally:
        engine.dispose()
    drift = [c for c in commands(DOCS[0]) if isinstance(c, Command) and "check_drift" in c.argv]
    assert drift
    verdicts = []
    for command in drift:
        argv = [t.replace("$A", str(archive)) for t in command.argv] + ["--json"]
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == 0, result.output
        verdicts.append(json.loads(result.stdout)["verdict"])
    default = CliRunner().invoke(app, ["call", "check_drift", "--archive", str(archive), "--json"])
    assert verdicts == ["refresh"] * len(drift) and json.loads(default.stdout)["verdict"] == "refresh"

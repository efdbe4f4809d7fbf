"""An honest ingest report: every source stage value and what it became, warnings for values no rule knew,
`--stage-map`, one spelling per country (raw kept), and foreign-key rejects that say the parent was rejected."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from icp_mcp.archive.countries import normalize_country
from icp_mcp.archive.db import open_archive
from icp_mcp.archive.ingest import ingest_file
from icp_mcp.archive.schema import accounts, ingest_rejects, opportunities
from icp_mcp.server.cli import app

runner = CliRunner()


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(params=["duckdb", "postgres"])
def target(request, tmp_path) -> str:
    url = str(tmp_path / "archive.duckdb") if request.param == "duckdb" else request.getfixturevalue("pg_url")
    assert runner.invoke(app, ["init", "--archive", url]).exit_code == 0
    return url


def hubspot_companies(tmp_path: Path) -> Path:
    rows = [
        {"Record ID": "1", "Company name": "Acme", "Company Domain Name": "acme.example", "Country/Region": "USA",
         "Number of Employees": "120", "Annual Revenue": "9000000"},
        {"Record ID": "2", "Company name": "Beta", "Company Domain Name": "beta.example",
         "Country/Region": "United States", "Number of Employees": "80", "Annual Revenue": "4000000"},
        {"Record ID": "3", "Company name": "Gamma", "Company Domain Name": "gamma.example", "Country/Region": "U.S.",
         "Number of Employees": "many", "Annual Revenue": "1000000"},  # rejected: employees is not a number
        {"Record ID": "4", "Company name": "Delta", "Company Domain Name": "delta.example",
         "Country/Region": "Deutschland", "Number of Employees": "40", "Annual Revenue": "2000000"},
    ]
    return write_csv(tmp_path / "companies.csv", rows)


def hubspot_deals(tmp_path: Path) -> Path:
    def deal(i: str, company: str, stage: str) -> dict[str, str]:
        return {"Record ID": i, "Associated Company IDs (Primary)": company, "Deal Stage": stage,
                "Create Date": "2026-01-10", "Close Date": "2026-03-01", "Amount": "1000"}

    rows = [deal("10", "1", "closedwon"), deal("11", "2", "closedlost"), deal("12", "1", "Contract signed"),
            deal("13", "2", "Contract signed"), deal("14", "4", "appointmentscheduled"), deal("15", "3", "closedwon")]
    return write_csv(tmp_path / "deals.csv", rows)


def test_every_stage_value_is_counted_and_a_custom_won_stage_is_warned_about(target, tmp_path) -> None:
    engine = open_archive(target)
    try:
        ingest_file(engine, "accounts", str(hubspot_companies(tmp_path)), mapping="hubspot")
        report = ingest_file(engine, "opportunities", str(hubspot_deals(tmp_path)), mapping="hubspot")
    finally:
        engine.dispose()
    stages = {(s.source, s.stage): s.rows for s in report.stages}
    assert stages == {("Contract signed", "open"): 2, ("closedwon", "won"): 2, ("closedlost", "lost"): 1,
                      ("appointmentscheduled", "open"): 1}
    assert len(report.warnings) == 1  # appointmentscheduled is a known open stage: no warning
    assert "'Contract signed' (2 rows)" in report.warnings[0] and '--stage-map "Contract signed=won"' in report.warnings[0]


def test_stage_map_maps_a_custom_stage_and_keeps_its_close_date(target, tmp_path) -> None:
    assert runner.invoke(app, ["ingest", "--archive", target, "accounts", str(hubspot_companies(tmp_path)),
                               "--mapping", "hubspot"]).exit_code == 0
    result = runner.invoke(app, ["ingest", "--archive", target, "opportunities", str(hubspot_deals(tmp_path)),
                                 "--mapping", "hubspot", "--stage-map", "Contract signed=won"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Contract signed" in result.output and "warning" not in result.output
    engine = open_archive(target)
    try:
        with engine.connect() as conn:
            rows = dict(conn.execute(select(opportunities.c.opportunity_id, opportunities.c.stage)).all())
            closed = conn.execute(select(opportunities.c.closed_at)
                                  .where(opportunities.c.opportunity_id == "12")).scalar_one()
    finally:
        engine.dispose()
    assert rows["12"] == "won" and rows["13"] == "won" and rows["14"] == "open" and closed is not None
    bad = runner.invoke(app, ["ingest", "--archive", target, "opportunities", str(hubspot_deals(tmp_path)),
                              "--mapping", "hubspot", "--stage-map", "Contract signed=maybe"])
    assert bad.exit_code != 0 and "open, won, lost" in bad.output


def test_unmapped_stage_is_printed_as_a_warning(tmp_path) -> None:
    target = str(tmp_path / "a.duckdb")
    runner.invoke(app, ["init", "--archive", target])
    runner.invoke(app, ["ingest", "--archive", target, "accounts", str(hubspot_companies(tmp_path)),
                        "--mapping", "hubspot"])
    result = runner.invoke(app, ["ingest", "--archive", target, "opportunities", str(hubspot_deals(tmp_path)),
                                 "--mapping", "hubspot"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "Contract signed" in result.output and "stored as" in result.output


def test_generic_unknown_stage_is_rejected_and_reported(tmp_path) -> None:
    engine = open_archive(tmp_path / "g.duckdb", create=True)
    from icp_mcp.archive.db import create_schema

    create_schema(engine)
    try:
        write_csv(tmp_path / "a.csv", [{"account_id": "A1", "name": "A"}])
        ingest_file(engine, "accounts", str(tmp_path / "a.csv"))
        deals = write_csv(tmp_path / "o.csv", [
            {"opportunity_id": "O1", "account_id": "A1", "created_at": "2026-01-01", "stage": "Contract signed"},
            {"opportunity_id": "O2", "account_id": "A1", "created_at": "2026-01-01", "stage": "Closed Won"}])
        report = ingest_file(engine, "opportunities", str(deals))
        mapped = ingest_file(engine, "opportunities", str(deals), stage_map={"contract signed": "won"})
    finally:
        engine.dispose()
    assert report.rejected == 1 and any("was rejected" in w and "Contract signed" in w for w in report.warnings)
    assert {(s.source, s.stage) for s in report.stages} == {("Contract signed", "contract signed"),
                                                            ("Closed Won", "won")}
    assert mapped.rejected == 0 and mapped.loaded == 1 and not mapped.warnings


def test_countries_have_one_name_and_keep_the_raw_value(target, tmp_path) -> None:
    engine = open_archive(target)
    try:
        ingest_file(engine, "accounts", str(hubspot_companies(tmp_path)), mapping="hubspot")
        with engine.connect() as conn:
            rows = {r.account_id: (r.country, r.attributes) for r in conn.execute(
                select(accounts.c.account_id, accounts.c.country, accounts.c.attributes))}
    finally:
        engine.dispose()
    assert {k: v[0] for k, v in rows.items()} == {"1": "United States", "2": "United States", "4": "Germany"}

    def raw(attributes):
        return (json.loads(attributes) if isinstance(attributes, str) else attributes or {}).get("country_raw")

    assert raw(rows["1"][1]) == "USA" and raw(rows["4"][1]) == "Deutschland" and raw(rows["2"][1]) is None
    assert normalize_country("u.s.a.") == "United States" and normalize_country("Atlantis") == "Atlantis"


def test_foreign_key_reject_names_the_rejected_parent_and_its_file(target, tmp_path) -> None:
    engine = open_archive(target)
    try:
        companies = hubspot_companies(tmp_path)
        ingest_file(engine, "accounts", str(companies), mapping="hubspot")
        ingest_file(engine, "opportunities", str(hubspot_deals(tmp_path)), mapping="hubspot")
        with engine.connect() as conn:
            reasons = [r[0] for r in conn.execute(
                select(ingest_rejects.c.reason).where(ingest_rejects.c.table_name == "opportunities"))]
    finally:
        engine.dispose()
    assert len(reasons) == 1
    assert "unknown account '3'" in reasons[0] and "was itself rejected" in reasons[0]
    assert str(companies.resolve()) in reasons[0] and "line 4" in reasons[0] and "employees" in reasons[0]


def test_rejects_are_listed_by_file_and_line(tmp_path) -> None:
    target = str(tmp_path / "r.duckdb")
    runner.invoke(app, ["init", "--archive", target])
    rows = [{"account_id": f"A{i}", "name": "x", "employees": "bad" if i % 2 else "10"} for i in range(12)]
    runner.invoke(app, ["ingest", "--archive", target, "accounts", str(write_csv(tmp_path / "a.csv", rows))])
    listed = runner.invoke(app, ["rejects", "--archive", target, "--json"])
    lines = [json.loads(x)["line"] for x in listed.output.splitlines() if x.startswith("{")]
    assert lines == sorted(lines) and len(lines) == 6

"""Acceptance tests for `icp-mcp ingest`: good rows load, bad rows land in ingest_rejects with the column
named, the right line and the raw row; re-ingesting changes nothing; Parquet, JSONL, foreign keys, CRM
presets and unreadable files. Every archive test runs on a DuckDB file and on PostgreSQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from icp_mcp.archive import ingest as ingest_module
from icp_mcp.archive.db import open_archive
from icp_mcp.archive.fts import bm25_score
from icp_mcp.archive.ingest import IngestError, ingest_file
from icp_mcp.archive.schema import accounts, conversation_snippets, ingest_rejects, opportunities
from icp_mcp.server.cli import app
from sqlalchemy import func, select, text
from typer.testing import CliRunner

runner = CliRunner()

ACCOUNT_COLUMNS = [
    "account_id", "name", "domain", "industry", "country", "region", "employees", "annual_revenue",
    "founded_year", "funding_stage", "business_model", "territory", "owner", "created_at",
]


def _account(account_id: str, **over: str) -> dict[str, str]:
    row = {
        "account_id": account_id, "name": f"Company {account_id}", "domain": f"{account_id.lower()}.example.com",
        "industry": "Software", "country": "US", "region": "NA", "employees": "250", "annual_revenue": "12000000",
        "founded_year": "2011", "funding_stage": "Series B", "business_model": "B2B", "territory": "West",
        "owner": "dana", "created_at": "2023-03-01",
    }
    row.update(over)
    return row


GOOD = [_account(f"A{i}") for i in range(1, 7)]
# (row, column the reason must name, words the reason must contain)
BAD = [
    (_account("", name="No key"), "account_id", "empty key"),
    (_account("B1", employees="abc"), "employees", "'abc' is not an integer"),
    (_account("B2", employees="-5"), "employees", "-5 is negative"),
    (_account("B3", annual_revenue="n/a"), "annual_revenue", "'n/a' is not a number"),
    (_account("B4", annual_revenue="-100"), "annual_revenue", "-100 is negative"),
    (_account("B5", founded_year="19x5"), "founded_year", "'19x5' is not an integer"),
    (_account("B6", founded_year="2099"), "founded_year", "2099 is in the future"),
    (_account("B7", created_at="2023-02-30"), "created_at", "'2023-02-30' is not a date"),
    (_account("B8", created_at="last tuesday"), "created_at", "'last tuesday' is not a date"),
    (_account("A2", name="Second A2"), "account_id", "duplicate key in file (also on line 5)"),
]


def _write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    columns = columns or list(rows[0])
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _accounts_file(tmp_path: Path) -> tuple[Path, dict[int, tuple[str, str]]]:
    """Good and bad rows interleaved; returns the file and line → (column, words) for the bad rows."""
    rows, expected = [], {}
    bad = iter(BAD)
    for good in GOOD:
        rows.append(good)
        for _ in range(2):
            item = next(bad, None)
            if item:
                rows.append(item[0])
                expected[len(rows) + 1] = (item[1], item[2])  # +1: the header is line 1
    return _write_csv(tmp_path / "accounts.csv", rows, ACCOUNT_COLUMNS), expected


@pytest.fixture(params=["duckdb", "postgres"])
def target(request, tmp_path) -> str:
    """An archive created with `icp-mcp init`: a DuckDB file or a fresh PostgreSQL database."""
    url = str(tmp_path / "archive.duckdb") if request.param == "duckdb" else request.getfixturevalue("pg_url")
    result = runner.invoke(app, ["init", "--archive", url])
    assert result.exit_code == 0, result.output
    return url


def _ingest(target: str, table: str, path: Path, *extra: str):
    return runner.invoke(app, ["ingest", "--archive", target, table, str(path), *extra])


def _count(target: str, table) -> int:
    engine = open_archive(target)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(table)).scalar_one()
    engine.dispose()
    return int(n)


def _rejects(target: str) -> list[dict]:
    engine = open_archive(target)
    with engine.connect() as conn:
        rows = [r._asdict() for r in conn.execute(select(ingest_rejects).order_by(ingest_rejects.c.line))]
    engine.dispose()
    return rows


def test_accounts_csv_loads_good_rows_and_keeps_exactly_the_bad_ones(target, tmp_path):
    path, expected = _accounts_file(tmp_path)
    result = _ingest(target, "accounts", path)
    assert result.exit_code == 0, result.output
    assert "rejected" in result.output and "is not an integer" in result.output
    assert _count(target, accounts) == len(GOOD)

    rejects = _rejects(target)
    assert len(rejects) == 10
    assert {r["line"] for r in rejects} == set(expected)
    for r in rejects:
        column, words = expected[r["line"]]
        assert r["reason"].startswith(f"{column}:"), r
        assert words in r["reason"], r
        assert r["table_name"] == "accounts" and r["source"] == str(path.resolve())
    by_line = {r["line"]: r for r in rejects}
    abc = next(line for line, (col, words) in expected.items() if "'abc'" in words)
    assert json.loads(by_line[abc]["raw"]) == BAD[1][0]  # the original row, every column as written

    engine = open_archive(target)
    with engine.connect() as conn:
        a1 = conn.execute(select(accounts).where(accounts.c.account_id == "A1")).one()._asdict()
    assert a1["employees"] == 250 and a1["annual_revenue"] == 12_000_000.0 and a1["founded_year"] == 2011
    assert a1["created_at"] == dt.datetime(2023, 3, 1) and a1["domain"] == "a1.example.com"
    second = conn  # noqa: F841  (connection closed; values already read)
    a2 = _name_of(target, "A2")
    assert a2 == "Company A2", "the first occurrence of a duplicated key wins"

    # Re-ingesting the same file changes nothing and records no new rejects.
    report = ingest_file(open_archive(target), "accounts", str(path))
    assert (report.loaded, report.updated, report.unchanged, report.rejected) == (0, 0, len(GOOD), 10)
    assert report.rejects_recorded == 0
    assert len(_rejects(target)) == 10
    assert _count(target, accounts) == len(GOOD)


def _name_of(target: str, account_id: str) -> str:
    engine = open_archive(target)
    with engine.connect() as conn:
        name = conn.execute(select(accounts.c.name).where(accounts.c.account_id == account_id)).scalar_one()
    engine.dispose()
    return name


def test_changed_rows_update_and_extra_columns_become_attributes(target, tmp_path):
    first = _write_csv(tmp_path / "a.csv", [dict(_account("A1"), linkedin="acme-li"), dict(_account("A2"), linkedin="")])
    report = ingest_file(open_archive(target), "accounts", str(first))
    assert (report.loaded, report.updated, report.unchanged, report.rejected) == (2, 0, 0, 0)
    assert report.ignored_columns == []
    changed = _write_csv(tmp_path / "b.csv", [
        _account("A1", name="Acme Renamed", domain="https://www.acme.io/pricing", employees="1,200"),
        _account("A2"),
        _account("A3"),
    ])
    report = ingest_file(open_archive(target), "accounts", str(changed))
    assert (report.loaded, report.updated, report.unchanged) == (1, 2, 0)  # A2 lost its linkedin attribute
    engine = open_archive(target)
    with engine.connect() as conn:
        a1 = conn.execute(select(accounts).where(accounts.c.account_id == "A1")).one()._asdict()
    assert a1["name"] == "Acme Renamed" and a1["domain"] == "acme.io" and a1["employees"] == 1200
    report = ingest_file(open_archive(target), "accounts", str(changed))
    assert (report.loaded, report.updated, report.unchanged) == (0, 0, 3)


def test_parquet_and_jsonl_inputs(target, tmp_path):
    parquet = tmp_path / "accounts.parquet"
    pq.write_table(pa.table({
        "Account_ID": ["P1", "P2", "P3"],
        "Name": ["Parq One", "Parq Two", "Parq Three"],
        "employees": pa.array([10, -3, 40], pa.int64()),
        "annual_revenue": pa.array([1.5e6, 2.0e6, None], pa.float64()),
        "created_at": pa.array([dt.datetime(2022, 5, 1, 9, 30), dt.datetime(2022, 6, 1), None], pa.timestamp("us")),
        "segment": ["smb", "mid", "ent"],
    }), parquet)
    report = ingest_file(open_archive(target), "accounts", str(parquet))
    assert (report.format, report.read, report.loaded, report.rejected) == ("parquet", 3, 2, 1)
    assert report.reasons == {"employees: … is negative": 1}
    rejects = _rejects(target)
    assert rejects[0]["line"] == 2
    assert json.loads(rejects[0]["raw"]) == {
        "Account_ID": "P2", "Name": "Parq Two", "employees": -3, "annual_revenue": 2.0e6,
        "created_at": "2022-06-01 00:00:00", "segment": "mid",
    }
    engine = open_archive(target)
    with engine.connect() as conn:
        p1 = conn.execute(select(accounts).where(accounts.c.account_id == "P1")).one()._asdict()
    assert p1["created_at"] == dt.datetime(2022, 5, 1, 9, 30) and p1["annual_revenue"] == 1.5e6
    attributes = p1["attributes"] if isinstance(p1["attributes"], dict) else json.loads(p1["attributes"])
    assert attributes == {"segment": "smb"}

    jsonl = tmp_path / "opps.jsonl"
    lines = [
        {"opportunity_id": "O1", "account_id": "P1", "created_at": "2023-01-10", "closed_at": "2023-03-01",
         "stage": "Won", "amount": 50000, "source": "inbound"},
        {"opportunity_id": "O2", "account_id": "P3", "created_at": "2023-02-10", "stage": "open", "amount": 1000},
        {"opportunity_id": "O3", "account_id": "P1", "created_at": "2023-02-11", "stage": "pending"},
        {"opportunity_id": "O4", "account_id": "P1", "created_at": "2023-02-12", "stage": "lost", "amount": "12k"},
    ]
    jsonl.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    report = ingest_file(open_archive(target), "opportunities", str(jsonl))
    assert (report.format, report.read, report.loaded, report.rejected) == ("jsonl", 4, 2, 2)
    opp_rejects = [r for r in _rejects(target) if r["table_name"] == "opportunities"]
    assert json.loads(opp_rejects[0]["raw"]) == lines[2]
    reasons = {r["line"]: r["reason"] for r in opp_rejects}
    assert reasons == {
        3: "stage: 'pending' is not one of open, won, lost",
        4: "amount: '12k' is not a number",
    }
    with engine.connect() as conn:
        won = conn.execute(select(opportunities).where(opportunities.c.opportunity_id == "O1")).one()._asdict()
    assert won["stage"] == "won" and won["closed_at"] == dt.date(2023, 3, 1) and won["amount"] == 50000.0


def test_gzipped_csv(tmp_path, archive_path):
    import gzip

    plain = _write_csv(tmp_path / "a.csv", [_account("G1"), _account("G2", employees="lots")])
    packed = tmp_path / "a.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    report = ingest_file(open_archive(archive_path), "accounts", str(packed))
    assert (report.format, report.loaded, report.rejected) == ("csv", 1, 1)
    assert [r["line"] for r in _rejects(str(archive_path))] == [3]


def test_foreign_key_rejects_for_unknown_accounts(target, tmp_path):
    ingest_file(open_archive(target), "accounts", str(_write_csv(tmp_path / "a.csv", [_account("A1")])))
    opps = _write_csv(tmp_path / "opps.csv", [
        {"opportunity_id": "O1", "account_id": "A1", "created_at": "2024-01-02", "stage": "open", "amount": "10"},
        {"opportunity_id": "O2", "account_id": "NOPE", "created_at": "2024-01-02", "stage": "open", "amount": "10"},
        {"opportunity_id": "O3", "account_id": "", "created_at": "2024-01-02", "stage": "open", "amount": "10"},
    ])
    result = _ingest(target, "opportunities", opps)
    assert result.exit_code == 0, result.output
    assert _count(target, opportunities) == 1
    reasons = {r["line"]: r["reason"] for r in _rejects(target)}
    assert reasons == {
        3: "account_id: unknown account 'NOPE' (foreign key)",
        4: "account_id: required value missing",
    }


def test_malformed_csv_line_is_rejected_and_later_lines_keep_their_numbers(target, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(
        "account_id,name,employees\n"
        "A1,One,10\n"
        "A2,Two,20,surplus\n"
        "A3,Three,abc\n"
        "A4,Four,40\n"
    )
    report = ingest_file(open_archive(target), "accounts", str(path))
    assert (report.read, report.loaded, report.rejected) == (4, 2, 2)
    reasons = {r["line"]: (r["reason"], r["raw"]) for r in _rejects(target)}
    assert set(reasons) == {3, 4}
    assert reasons[3][0].startswith("csv: ") and reasons[3][1] == "A2,Two,20,surplus"
    assert reasons[4][0] == "employees: 'abc' is not an integer"


SF_ACCOUNTS = [
    {"Id": "001A", "Name": "Northwind Health", "Website": "http://www.northwind-health.com/", "Industry": "Healthcare",
     "BillingCountry": "United States", "BillingState": "CA", "NumberOfEmployees": "1200",
     "AnnualRevenue": "250000000", "YearStarted": "1998", "OwnerId": "005X", "CreatedDate": "2022-04-01T10:00:00.000Z"},
    {"Id": "001B", "Name": "Contoso", "Website": "contoso.com", "Industry": "Retail", "BillingCountry": "Germany",
     "BillingState": "", "NumberOfEmployees": "80", "AnnualRevenue": "", "YearStarted": "", "OwnerId": "005Y",
     "CreatedDate": "2022-05-01T10:00:00.000Z"},
]
SF_OPPS = [
    {"Id": "006A", "AccountId": "001A", "CreatedDate": "2023-01-05T08:00:00.000Z", "CloseDate": "2023-03-31",
     "StageName": "Closed Won", "IsClosed": "true", "IsWon": "true", "Amount": "90000", "LeadSource": "Web",
     "Loss_Reason__c": ""},
    {"Id": "006B", "AccountId": "001B", "CreatedDate": "2023-02-05T08:00:00.000Z", "CloseDate": "2023-04-30",
     "StageName": "Negotiation", "IsClosed": "false", "IsWon": "false", "Amount": "5000", "LeadSource": "Partner",
     "Loss_Reason__c": ""},
    {"Id": "006C", "AccountId": "001B", "CreatedDate": "2023-02-06T08:00:00.000Z", "CloseDate": "2023-05-30",
     "StageName": "Closed - No Decision", "IsClosed": "true", "IsWon": "false", "Amount": "7000",
     "LeadSource": "Outbound", "Loss_Reason__c": "Price"},
]
SF_CONTACTS = [
    {"Id": "003A", "AccountId": "001A", "FirstName": "Maya", "LastName": "Chen", "Email": "maya@northwind-health.com",
     "Phone": "+1 555 0100", "Title": "VP Operations", "Department": "Operations"},
    {"Id": "003B", "AccountId": "001B", "FirstName": "", "LastName": "Okafor", "Email": "", "Phone": "",
     "Title": "IT Manager", "Department": "IT"},
]
SF_ROLES = [
    {"OpportunityId": "006A", "ContactId": "003A", "Role": "Economic Decision Maker"},
    {"OpportunityId": "006B", "ContactId": "003B", "Role": "Technical Buyer"},
    {"OpportunityId": "006C", "ContactId": "003B", "Role": ""},
]


def test_salesforce_preset(target, tmp_path):
    engine = open_archive(target)
    for table, rows in (("accounts", SF_ACCOUNTS), ("opportunities", SF_OPPS), ("contacts", SF_CONTACTS),
                        ("opportunity_contacts", SF_ROLES)):
        path = _write_csv(tmp_path / f"sf_{table}.csv", rows)
        result = _ingest(target, table, path, "--mapping", "salesforce")
        assert result.exit_code == 0, result.output
    assert _rejects(target) == []
    with engine.connect() as conn:
        acc = {r.account_id: r._asdict() for r in conn.execute(select(accounts))}
        opp = {r.opportunity_id: r._asdict() for r in conn.execute(select(opportunities))}
        names = dict(conn.execute(text("SELECT contact_id, name FROM contacts")).all())
        roles = dict(conn.execute(text("SELECT opportunity_id, role FROM opportunity_contacts")).all())
    assert acc["001A"]["domain"] == "northwind-health.com" and acc["001A"]["employees"] == 1200
    assert acc["001A"]["country"] == "United States" and acc["001A"]["founded_year"] == 1998
    assert acc["001A"]["owner"] == "005X" and acc["001A"]["created_at"] == dt.datetime(2022, 4, 1, 10, 0)
    attributes = acc["001A"]["attributes"]
    attributes = attributes if isinstance(attributes, dict) else json.loads(attributes)
    assert attributes["BillingState"] == "CA"
    assert (opp["006A"]["stage"], opp["006A"]["closed_at"], opp["006A"]["source"]) == ("won", dt.date(2023, 3, 31), "Web")
    assert (opp["006B"]["stage"], opp["006B"]["closed_at"]) == ("open", None)
    assert (opp["006C"]["stage"], opp["006C"]["lost_reason"]) == ("lost", "Price")
    assert opp["006A"]["created_at"] == dt.date(2023, 1, 5)
    assert names == {"003A": "Maya Chen", "003B": "Okafor"}
    assert roles == {"006A": "economic_buyer", "006B": "technical_evaluator", "006C": "other"}


def test_hubspot_preset(target, tmp_path):
    companies = [
        {"Record ID": "9001", "Company name": "Fabrikam", "Company Domain Name": "www.fabrikam.io",
         "Industry": "COMPUTER_SOFTWARE", "Country/Region": "Canada", "Number of Employees": "45",
         "Annual Revenue": "3,500,000", "Year Founded": "2016", "Create Date": "2021-09-14 12:30",
         "Company owner": "Sam Lee", "City": "Toronto"},
    ]
    deals = [
        {"Record ID": "D1", "Associated Company IDs": "9001;9002", "Create Date": "2023-06-01 09:00",
         "Close Date": "2023-07-15 00:00", "Deal Stage": "closedwon", "Amount": "12000",
         "Closed Lost Reason": "", "Original Source Type": "ORGANIC_SEARCH"},
        {"Record ID": "D2", "Associated Company IDs": "9001", "Create Date": "2023-06-02 09:00",
         "Close Date": "2023-08-15 00:00", "Deal Stage": "Closed Lost", "Amount": "8000",
         "Closed Lost Reason": "Went with competitor", "Original Source Type": "PAID_SEARCH"},
        {"Record ID": "D3", "Associated Company IDs": "9001", "Create Date": "2023-06-03 09:00",
         "Close Date": "2023-09-15 00:00", "Deal Stage": "appointmentscheduled", "Amount": "",
         "Closed Lost Reason": "", "Original Source Type": "DIRECT_TRAFFIC"},
        {"Record ID": "D4", "Associated Company IDs": "7777", "Create Date": "2023-06-03 09:00",
         "Close Date": "", "Deal Stage": "appointmentscheduled", "Amount": "1",
         "Closed Lost Reason": "", "Original Source Type": "DIRECT_TRAFFIC"},
    ]
    contacts = [
        {"Record ID": "C1", "Associated Company ID": "9001", "First Name": "Ana", "Last Name": "Ruiz",
         "Email": "ana@fabrikam.io", "Phone Number": "+1 416 555 0101", "Job Title": "Head of RevOps"},
    ]
    for table, rows in (("accounts", companies), ("opportunities", deals), ("contacts", contacts)):
        result = _ingest(target, table, _write_csv(tmp_path / f"hs_{table}.csv", rows), "--mapping", "hubspot")
        assert result.exit_code == 0, result.output
    rejects = _rejects(target)
    assert [(r["line"], r["reason"]) for r in rejects] == [(5, "account_id: unknown account '7777' (foreign key)")]
    engine = open_archive(target)
    with engine.connect() as conn:
        acc = conn.execute(select(accounts)).one()._asdict()
        opp = {r.opportunity_id: r._asdict() for r in conn.execute(select(opportunities))}
        contact = conn.execute(text("SELECT account_id, name, title, phone FROM contacts")).one()
    assert (acc["account_id"], acc["domain"], acc["annual_revenue"], acc["owner"]) == ("9001", "fabrikam.io", 3.5e6, "Sam Lee")
    assert acc["country"] == "Canada" and acc["founded_year"] == 2016
    assert (opp["D1"]["account_id"], opp["D1"]["stage"], opp["D1"]["closed_at"]) == ("9001", "won", dt.date(2023, 7, 15))
    assert (opp["D2"]["stage"], opp["D2"]["lost_reason"]) == ("lost", "Went with competitor")
    assert (opp["D3"]["stage"], opp["D3"]["closed_at"], opp["D3"]["amount"]) == ("open", None, None)
    assert tuple(contact) == ("9001", "Ana Ruiz", "Head of RevOps", "+1 416 555 0101")


def test_conversations_ingest_builds_searchable_snippets(target, tmp_path):
    ingest_file(open_archive(target), "accounts", str(_write_csv(tmp_path / "a.csv", [_account("A1")])))
    convs = _write_csv(tmp_path / "c.csv", [
        {"conversation_id": "K1", "account_id": "A1", "occurred_at": "2024-05-01 10:00", "channel": "Call",
         "title": "Discovery", "body": "Rep: Thanks for joining.\nCustomer: Our renewal uplift is brutal, we need a discount."},
        {"conversation_id": "K2", "account_id": "A1", "occurred_at": "2024-05-02 10:00", "channel": "fax",
         "title": "x", "body": "hello"},
    ])
    report = ingest_file(open_archive(target), "conversations", str(convs))
    assert (report.loaded, report.rejected, report.snippets) == (1, 1, 2)
    assert report.topics is not None and report.topics["pricing"] == 1
    assert report.reasons == {"channel: '…' is not one of call, meeting, email, ticket, note, survey": 1}
    engine = open_archive(target)
    with engine.connect() as conn:
        score = bm25_score(engine, "discount").label("score")
        hits = conn.execute(
            select(conversation_snippets.c.speaker, conversation_snippets.c.topics, score).where(score.is_not(None))
        ).all()
    assert [(h.speaker, h.topics) for h in hits] == [("customer", ",pricing,")]

    again = ingest_file(open_archive(target), "conversations", str(convs))
    assert (again.loaded, again.updated, again.unchanged, again.snippets) == (0, 0, 1, None)
    edited = _write_csv(tmp_path / "c2.csv", [
        {"conversation_id": "K1", "account_id": "A1", "occurred_at": "2024-05-01 10:00", "channel": "call",
         "title": "Discovery", "body": "Customer: We need SSO and a SOC 2 report before we sign."},
    ])
    changed = ingest_file(open_archive(target), "conversations", str(edited))
    assert (changed.updated, changed.snippets) == (1, 1)
    with engine.connect() as conn:
        rows = conn.execute(select(conversation_snippets.c.text, conversation_snippets.c.topics)).all()
    assert [tuple(r) for r in rows] == [("We need SSO and a SOC 2 report before we sign.", ",security_compliance,")]


def test_a_failure_mid_load_leaves_nothing_behind(target, tmp_path, monkeypatch):
    path, _ = _accounts_file(tmp_path)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest_module, "record_rejects", boom)
    with pytest.raises(RuntimeError):
        ingest_file(open_archive(target), "accounts", str(path))
    assert _count(target, accounts) == 0
    assert _rejects(target) == []


def test_unreadable_input_exits_non_zero_with_a_clear_message(tmp_path):
    target = str(tmp_path / "x.duckdb")
    assert runner.invoke(app, ["init", "--archive", target]).exit_code == 0
    missing = _ingest(target, "accounts", tmp_path / "nope.csv")
    assert missing.exit_code != 0 and "no such file" in missing.output
    garbage = tmp_path / "broken.parquet"
    garbage.write_bytes(b"this is not parquet at all")
    broken = _ingest(target, "accounts", garbage)
    assert broken.exit_code != 0 and "cannot read" in broken.output
    unknown = _ingest(target, "customers", _write_csv(tmp_path / "a.csv", [_account("A1")]))
    assert unknown.exit_code != 0 and "allowed: accounts, account_technologies" in unknown.output
    bad_mapping = _ingest(target, "accounts", tmp_path / "a.csv", "--mapping", "pipedrive")
    assert bad_mapping.exit_code != 0 and "generic, salesforce, hubspot" in bad_mapping.output
    no_key = _ingest(target, "accounts", _write_csv(tmp_path / "k.csv", [{"company": "x", "employees": "3"}]))
    assert no_key.exit_code != 0 and "no column for account_id, name" in no_key.output
    assert _count(target, accounts) == 0
    with pytest.raises(IngestError, match="format"):
        ingest_file(open_archive(target), "accounts", str(_write_csv(tmp_path / "a.xlsx", [_account("A1")])))


def test_rejects_command_lists_what_was_refused(tmp_path):
    target = str(tmp_path / "x.duckdb")
    assert runner.invoke(app, ["init", "--archive", target]).exit_code == 0
    path, _ = _accounts_file(tmp_path)
    assert _ingest(target, "accounts", path).exit_code == 0
    listed = runner.invoke(app, ["rejects", "--archive", target, "--table", "accounts", "--limit", "3"],
                           env={"COLUMNS": "400"})
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("│ accounts │") == 3
    lines = [int(m) for m in re.findall(r"│ accounts │ \S+\s*│ (\d+)\s*│", listed.output)]
    assert len(lines) == 3 and lines == sorted(lines)  # by file, then line: the first bad rows of the file
    none = runner.invoke(app, ["rejects", "--archive", target, "--table", "contacts"])
    assert none.exit_code == 0 and "no rejects" in none.output
    bad = runner.invoke(app, ["rejects", "--archive", target, "--table", "nope"])
    assert bad.exit_code != 0 and "allowed" in bad.output
    as_json = runner.invoke(app, ["rejects", "--archive", target, "--source", "accounts.csv", "--json", "--limit", "50"])
    assert as_json.exit_code == 0, as_json.output
    listed_rows = [json.loads(line) for line in as_json.output.splitlines() if line.startswith("{")]
    assert len(listed_rows) == 10 and {r["table_name"] for r in listed_rows} == {"accounts"}
    assert [r["line"] for r in listed_rows] == sorted(r["line"] for r in listed_rows)
    assert lines == [r["line"] for r in listed_rows][:3]
    assert runner.invoke(app, ["rejects", "--archive", target, "--source", "other.csv"]).output.startswith("no rejects")


def test_domain_change_of_a_referenced_account(target, tmp_path):
    """A referenced account's domain can change on both backends (DuckDB archives declare no FK constraints)."""
    engine = open_archive(target)
    ingest_file(engine, "accounts", str(_write_csv(tmp_path / "a.csv", [_account("A1"), _account("A2")])))
    opps = [{"opportunity_id": "O1", "account_id": "A1", "created_at": "2024-01-02", "stage": "open"}]
    ingest_file(engine, "opportunities", str(_write_csv(tmp_path / "o.csv", opps)))
    moved = _write_csv(tmp_path / "b.csv", [
        _account("A1", domain="new-a1.com", name="Renamed A1"), _account("A2", domain="new-a2.com"),
    ])
    report = ingest_file(engine, "accounts", str(moved))
    with engine.connect() as conn:
        domains = dict(conn.execute(select(accounts.c.account_id, accounts.c.domain)).all())
    assert (report.updated, report.rejected) == (2, 0)
    assert domains == {"A1": "new-a1.com", "A2": "new-a2.com"}


def test_ingest_waits_in_line_while_another_process_holds_the_archive(archive_path, tmp_path):
    """Another process writing the DuckDB file (no control channel): ingest says who holds it, waits, then loads."""
    import subprocess
    import sys
    import threading

    target = archive_path
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(target)!r}); print('ok', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        release = threading.Timer(2.0, lambda: holder.communicate(""))
        release.start()
        result = _ingest(str(target), "accounts", _write_csv(tmp_path / "a.csv", [_account("A1")]))
        release.join()
    finally:
        if holder.poll() is None:
            holder.communicate("")
    assert result.exit_code == 0, result.output
    assert f"queued: PID {holder.pid}" in result.output and "runs when it is done" in result.output
    assert _count(str(target), accounts) == 1


def test_every_other_table_loads_with_canonical_columns(target, tmp_path):
    """Composite keys, value-less tables and the remaining enums and ranges, through the generic mapping."""
    engine = open_archive(target)

    def load(table: str, rows: list[dict[str, str]]):
        return ingest_file(engine, table, str(_write_csv(tmp_path / f"{table}.csv", rows)))

    assert load("accounts", [_account("A1"), _account("A2")]).loaded == 2
    tech = load("account_technologies", [
        {"account_id": "A1", "technology": "Snowflake"}, {"account_id": "A1", "technology": "Salesforce"},
        {"account_id": "A1", "technology": "Snowflake"}, {"account_id": "A9", "technology": "Slack"},
    ])
    assert (tech.loaded, tech.rejected) == (2, 2)
    assert load("account_technologies", [{"account_id": "A1", "technology": "Snowflake"}]).unchanged == 1
    arr = load("arr_snapshots", [
        {"account_id": "A1", "month": "2024-01-01", "arr": "120000"},
        {"account_id": "A1", "month": "2024-02-01", "arr": "-1"},
        {"account_id": "A2", "month": "2024-01-01", "arr": ""},
    ])
    assert (arr.loaded, arr.rejected) == (1, 2)
    arr2 = load("arr_snapshots", [{"account_id": "A1", "month": "2024-01-01", "arr": "0"}])
    assert (arr2.updated, arr2.loaded) == (1, 0)
    contacts = load("contacts", [
        {"contact_id": "P1", "account_id": "A1", "name": "Ana", "email": "ana@a1.com", "title": "CFO"},
        {"contact_id": "P2", "account_id": "A2", "name": "Ben", "email": "", "title": "RevOps"},
    ])
    assert contacts.loaded == 2
    load("opportunities", [{"opportunity_id": "O1", "account_id": "A1", "created_at": "2024-01-01", "stage": "won",
                            "closed_at": "2024-02-01", "amount": "5000"}])
    roles = load("opportunity_contacts", [
        {"opportunity_id": "O1", "contact_id": "P1", "role": "Economic Buyer"},
        {"opportunity_id": "O1", "contact_id": "P2", "role": "sponsor"},
        {"opportunity_id": "O2", "contact_id": "P1", "role": "user"},
    ])
    assert (roles.loaded, roles.rejected) == (1, 2)
    usage = load("feature_usage", [
        {"account_id": "A1", "feature": "sso", "day": "2024-03-01", "events": "12", "active_users": "3"},
        {"account_id": "A1", "feature": "sso", "day": "2024-03-02", "events": "-2", "active_users": "1"},
        {"account_id": "A2", "feature": "api", "day": "2999-01-01", "events": "1", "active_users": ""},
    ])
    assert (usage.loaded, usage.rejected) == (1, 2)
    signals = load("signals", [
        {"signal_id": "S1", "account_id": "A2", "occurred_at": "2024-04-01", "kind": "funding", "detail": "Series B"},
        {"signal_id": "S2", "account_id": "A2", "occurred_at": "2024-04-01", "kind": "", "detail": "x"},
    ])
    assert (signals.loaded, signals.rejected) == (1, 1)
    reasons = {(r["table_name"], r["line"]): r["reason"] for r in _rejects(target)}
    assert reasons == {
        ("account_technologies", 4): "account_id, technology: duplicate key in file (also on line 2)",
        ("account_technologies", 5): "account_id: unknown account 'A9' (foreign key)",
        ("arr_snapshots", 3): "arr: -1 is negative",
        ("arr_snapshots", 4): "arr: required value missing",
        ("opportunity_contacts", 3): "role: 'sponsor' is not one of champion, economic_buyer, technical_evaluator, "
                                     "user, blocker, other",
        ("opportunity_contacts", 4): "opportunity_id: unknown opportunity 'O2' (foreign key)",
        ("feature_usage", 3): "events: -2 is negative",
        ("feature_usage", 4): "day: 2999-01-01 is in the future",
        ("signals", 3): "kind: required value missing",
    }


def test_jsonl_blank_and_broken_lines_keep_line_numbers(archive_path, tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(
        json.dumps({"account_id": "J1", "name": "One"}) + "\n"
        "\n"
        "{not json\n"
        '["an", "array"]\n'
        + json.dumps({"account_id": "J2", "name": "Two", "employees": "many"}) + "\n"
        + json.dumps({"account_id": "J3", "name": "Three", "tags": {"tier": 1}}) + "\n"
    )
    report = ingest_file(open_archive(archive_path), "accounts", str(path))
    assert (report.read, report.loaded, report.rejected) == (5, 2, 3)
    rejects = {r["line"]: (r["reason"], r["raw"]) for r in _rejects(str(archive_path))}
    assert rejects == {
        3: ("json: line is not a JSON object", "{not json"),
        4: ("json: line is not a JSON object", '["an", "array"]'),
        5: ("employees: 'many' is not an integer", json.dumps({"account_id": "J2", "name": "Two", "employees": "many"})),
    }
    engine = open_archive(archive_path)
    with engine.connect() as conn:
        attributes = conn.execute(select(accounts.c.attributes).where(accounts.c.account_id == "J3")).scalar_one()
    attributes = attributes if isinstance(attributes, dict) else json.loads(attributes)
    assert attributes == {"tags": '{"tier":1}'}  # a nested value is kept as JSON text (docs/INGEST.md)


def test_json_array_file(archive_path, tmp_path):
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps([{"account_id": "R1", "name": "One"}, {"account_id": "R2", "employees": 3}], indent=2))
    report = ingest_file(open_archive(archive_path), "accounts", str(path))
    assert (report.format, report.read, report.loaded, report.rejected) == ("jsonl", 2, 1, 1)
    [reject] = _rejects(str(archive_path))
    assert (reject["line"], reject["reason"]) == (2, "name: required value missing")


def test_an_over_long_csv_line_is_rejected_by_line_number_and_the_rest_loads(archive_path, tmp_path):
    """One 9 MiB line (over the 8 MiB limit) among good rows: that line is a reject naming the limit, at its
    own line number; a malformed line after it keeps its number too; every other row loads."""
    from icp_mcp.archive.csv_guard import MAX_LINE_BYTES

    path = tmp_path / "long.csv"
    path.write_text("account_id,name\nA1,Acme\nA2," + "x" * (MAX_LINE_BYTES + (1 << 20)) +
                    "\nA3,Gamma\nA4,Delta,extra\nA5,Eps\n")
    result = _ingest(str(archive_path), "accounts", path)
    assert result.exit_code == 0, result.output
    assert _count(str(archive_path), accounts) == 3
    rejects = {r["line"]: r for r in _rejects(str(archive_path))}
    assert set(rejects) == {3, 5}
    assert f"the limit is {MAX_LINE_BYTES:,} bytes per line" in rejects[3]["reason"]
    assert rejects[3]["raw"].startswith("A2,xxx") and len(rejects[3]["raw"]) < 1000
    assert "Columns" in rejects[5]["reason"]


def test_an_empty_file_says_it_is_empty(archive_path, tmp_path):
    for name, content in (("empty.csv", ""), ("blank.csv", "\n \n"), ("empty.jsonl", "")):
        path = tmp_path / name
        path.write_text(content)
        result = _ingest(str(archive_path), "accounts", path)
        assert result.exit_code == 2 and "is empty" in result.output and "column0" not in result.output, result.output

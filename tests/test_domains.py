"""One domain rule at ingest and at lookup: an account ingested as `acme.com` is found by any spelling of it."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
from icp_mcp.archive.db import create_schema, open_archive
from icp_mcp.archive.domains import normalise_domain, normalise_domain_sql
from icp_mcp.archive.ingest import ingest_file
from icp_mcp.archive.schema import accounts
from icp_mcp.engine.sql.lookup import find_account
from sqlalchemy import select

SPELLINGS = {
    "acme.com": "acme.com",
    "ACME.com": "acme.com",
    "  acme.com  ": "acme.com",
    "acme.com:443": "acme.com",
    "acme.com.": "acme.com",
    "https://WWW.Acme.com:443/path": "acme.com",
    "http://www.acme.com/": "acme.com",
    "svn+ssh://acme.com/repo": "acme.com",
    "acme.com/pricing?x=1#top": "acme.com",
    "user@acme.com": "user",
    "www.": None,
    "https://": None,
    "": None,
}


def test_python_and_sql_forms_agree():
    con = duckdb.connect()
    for text, want in SPELLINGS.items():
        assert normalise_domain(text) == want, text
        got = con.execute(f"SELECT {normalise_domain_sql('?')}", [text]).fetchone()[0]
        assert got == want, text
    assert normalise_domain(None) is None


@pytest.fixture(params=["duckdb", "postgres"])
def archive_url(request, tmp_path) -> str:
    url = str(tmp_path / "archive.duckdb") if request.param == "duckdb" else request.getfixturevalue("pg_url")
    engine = open_archive(url, create=True)
    create_schema(engine)
    engine.dispose()
    return url


def test_lookup_finds_the_account_ingested_with_a_port_and_scheme(archive_url, tmp_path: Path):
    path = tmp_path / "accounts.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["account_id", "name", "domain"])
        writer.writerow(["A1", "Acme Corporation", "acme.com"])
        writer.writerow(["A2", "Globex", "https://WWW.Globex.io:8443/home"])
    report = ingest_file(open_archive(archive_url), "accounts", str(path))
    assert (report.loaded, report.rejected) == (2, 0)
    engine = open_archive(archive_url)
    with engine.connect() as conn:
        stored = dict(conn.execute(select(accounts.c.account_id, accounts.c.domain)).all())
    assert stored == {"A1": "acme.com", "A2": "globex.io"}
    for query in ("https://WWW.Acme.com:443/path", "acme.com:443", "ACME.COM.", "acme.com"):
        found, candidates = find_account(engine, query)
        assert found is not None and found["account_id"] == "A1", (query, candidates)
    found, _ = find_account(engine, "globex.io:8443")
    assert found is not None and found["account_id"] == "A2"

"""`icp-mcp icp …` end to end on a real archive file: derive, activate, show, export, import, rollback, backtest."""

from __future__ import annotations

import json

import pytest
from test_engine_synth import synthetic_archive
from typer.testing import CliRunner

from icp_mcp.server.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("cli") / "a.duckdb"
    engine, _ = synthetic_archive(path, n_accounts=700, seed=9)
    engine.dispose()
    return str(path)


def _ok(*args: str) -> str:
    result = runner.invoke(app, ["icp", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_derive_activate_show_export_import_rollback(archive, tmp_path):
    assert "ICP version 1 (draft)" in _ok("derive", "--archive", archive, "--name", "Synthetic")
    _ok("activate", "1", "--archive", archive)
    shown = _ok("show", "--archive", archive, "--raw")
    assert "# ICP: Synthetic" in shown and "## Scorecard" in shown and "95% CI" in shown

    exported = json.loads(_ok("export", "--archive", archive, "--format", "json"))
    assert exported["criteria"] and {"attribute", "points", "evidence"} <= set(exported["criteria"][0])
    assert exported["disqualifiers"] and {"id", "evidence"} <= set(exported["disqualifiers"][0])

    hand = tmp_path / "mine.yaml"
    hand.write_text("name: Hand-written\ncriteria:\n  - attribute: industry\n    value: Healthcare\n    points: 40\n")
    assert "as ICP version 2 (active)" in _ok("import", str(hand), "--archive", archive, "--activate")
    yaml_text = _ok("export", "--archive", archive, "--format", "yaml")
    assert "name: Hand-written" in yaml_text and "tiers:" in yaml_text
    assert "version 1" in _ok("rollback", "--archive", archive)
    listing = _ok("list", "--archive", archive)
    assert "active" in listing and "retired" in listing

    scored = json.loads(_ok("score", "a00003", "--archive", archive))
    assert scored["account_id"] == "a00003" and scored["tier"] in "ABCD"


def test_backtest_json(archive):
    report = json.loads(_ok("backtest", "--archive", archive, "--split-date", "2024-09-01", "--json"))
    assert report["n"] > 0 and 0 <= report["auc"] <= 1 and [t["tier"] for t in report["tiers"]] == list("ABCD")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["activate", "99"], "version: no ICP version 99"),
        (["backtest", "--split-date", "tomorrow"], "split_date"),
        (["export", "--format", "xml"], "format"),
        (["derive", "--positives", "everyone"], "positives"),
    ],
)
def test_bad_input_names_the_field_without_a_traceback(archive, args, needle):
    result = runner.invoke(app, ["icp", *args, "--archive", archive])
    assert result.exit_code == 2
    assert needle in result.output and "Traceback" not in result.output


def test_bad_yaml_import_names_the_field(archive, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncriteria:\n  - attribute: industry\n    value: A\n    points: lots\n")
    result = runner.invoke(app, ["icp", "import", str(bad), "--archive", archive])
    assert result.exit_code == 2 and "criteria.0.points" in result.output


def test_derive_with_ten_won_deals_exits_3_with_the_counts_and_stores_nothing(tmp_path):
    path = tmp_path / "ten.duckdb"
    engine, manifest = synthetic_archive(path, n_accounts=160, seed=5, won_cap=10)
    engine.dispose()
    assert manifest["won"] == 10
    result = runner.invoke(app, ["icp", "derive", "--archive", str(path), "--activate"])
    assert result.exit_code == 3, result.output
    assert "found 10 won and" in result.output and "need at least 30 won and 30 lost" in result.output
    assert "Traceback" not in result.output
    listing = runner.invoke(app, ["icp", "list", "--archive", str(path)])
    assert "active" not in listing.output and "draft" not in listing.output


def test_derive_on_too_few_deals_is_refused_with_exit_3(archive_path) -> None:
    """An empty archive: `icp derive` (through the shared write path) stores nothing and exits 3."""
    result = runner.invoke(app, ["icp", "derive", "--archive", str(archive_path)])
    assert result.exit_code == 3, result.output
    assert result.output.strip().startswith("refused:") and "no version stored" in result.output
    listed = runner.invoke(app, ["icp", "list", "--archive", str(archive_path)])
    assert listed.exit_code == 0 and "draft" not in listed.output

"""The demo generator: deterministic rows, atomic writes, and planted truths that the data really shows."""

from __future__ import annotations

import json
import math
import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from icp_mcp.archive.demo import build_demo, generate, manifest_path, phrases, read_manifest
from icp_mcp.archive.demo.observe import win_rate
from icp_mcp.archive.schema import INGESTIBLE_TABLES, metadata
from icp_mcp.server.cli import app
from typer.testing import CliRunner

AS_OF = date(2026, 11, 1)
MANIFEST_KEYS = {
    "seed", "size", "as_of", "drift", "counts", "base_win_rate", "segments", "disqualifiers", "noise_attributes",
    "personas", "triggers", "pricing_themes", "best_customer_ids", "feature_adoption",
}


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


def _checksums(path: Path) -> dict[str, tuple[int, int]]:
    """Order-independent content checksum and row count of every table."""
    with _connect(path) as con:
        return {
            t.name: tuple(con.execute(f"SELECT count(*), coalesce(sum(hash(x)), 0) FROM {t.name} x").fetchone())
            for t in metadata.sorted_tables
        }


def _wilson(won: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = won / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_manifest_is_written_next_to_the_archive_and_matches_it(demo_archive: Path) -> None:
    raw = json.loads(manifest_path(demo_archive).read_text())
    assert MANIFEST_KEYS <= raw.keys()
    assert manifest_path(demo_archive).name == "demo.duckdb.truth.json"
    m = read_manifest(demo_archive)
    assert (m.seed, m.size, m.as_of, m.drift) == (7, "S", AS_OF.isoformat(), None)
    assert m.counts == {name: rows for name, (rows, _) in _checksums(demo_archive).items()}
    with _connect(demo_archive) as con:
        found = con.execute(
            "SELECT count(*) FROM accounts WHERE account_id IN (SELECT unnest(?::VARCHAR[]))", [m.best_customer_ids]
        ).fetchone()[0]
    assert found == len(m.best_customer_ids) >= 20


def test_row_counts_are_in_proportion(demo_archive: Path) -> None:
    counts = read_manifest(demo_archive).counts
    accounts = counts["accounts"]
    assert accounts == 2_000
    assert all(counts[t] > 0 for t in INGESTIBLE_TABLES)
    assert 2.5 <= counts["opportunities"] / accounts <= 3.5
    assert 1.5 <= counts["conversations"] / accounts <= 2.5
    assert 30 <= counts["feature_usage"] / accounts <= 70
    assert counts["conversation_snippets"] > 2 * counts["conversations"]


def test_same_seed_and_as_of_give_identical_rows(demo_archive: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.duckdb"
    build_demo(again, size="S", seed=7, as_of=AS_OF)
    assert _checksums(again) == _checksums(demo_archive)
    other = tmp_path / "other.duckdb"
    build_demo(other, size="S", seed=8, as_of=AS_OF)
    assert _checksums(other)["opportunities"] != _checksums(demo_archive)["opportunities"]


def test_rebuild_replaces_the_file_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "demo.duckdb"
    build_demo(out, size="S", seed=3, as_of=AS_OF)
    before = _checksums(out)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("generator failed half-way")

    monkeypatch.setattr(generate, "signals_table", boom)
    with pytest.raises(RuntimeError):
        build_demo(out, size="S", seed=4, as_of=AS_OF)
    assert _checksums(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.duckdb", "demo.duckdb.truth.json"]


def test_segments_win_far_above_base_and_disqualifiers_far_below(demo_archive: Path) -> None:
    m = read_manifest(demo_archive)
    base = m.observed_base
    _, base_hi = _wilson(base["won"], base["n"])
    base_lo, _ = _wilson(base["won"], base["n"])
    for segment in m.segments:
        assert segment.observed["n"] >= 200
        lo, _ = _wilson(segment.observed["won"], segment.observed["n"])
        assert lo > base_hi and segment.observed["win_rate"] >= 2.5 * base["win_rate"], segment.id
    for dq in m.disqualifiers:
        assert dq.observed["n"] >= 150
        _, hi = _wilson(dq.observed["won"], dq.observed["n"])
        assert hi < base_lo and dq.observed["win_rate"] <= 0.05, dq.id


def test_noise_attributes_carry_no_signal(demo_archive: Path) -> None:
    m = read_manifest(demo_archive)
    overall = m.observed_base["overall"]["win_rate"]
    for attribute in m.noise_attributes:
        values = {v: o for v, o in m.noise_observed[attribute].items() if o["n"] >= 150}
        assert len(values) >= 2, attribute
        for value, o in values.items():
            assert abs(o["win_rate"] - overall) < 0.05, (attribute, value, o)


def test_personas_and_trigger_lift_wins(demo_archive: Path) -> None:
    m = read_manifest(demo_archive)
    lifts = {p.role: p.observed["lift"] for p in m.personas}
    assert lifts["economic_buyer"] > 4 and lifts["champion"] > 4 and lifts["user"] < 0.8
    for p in m.personas:
        assert p.titles[0] in p.title_variants
    trigger = m.triggers[0].observed
    assert trigger["with"]["win_rate"] > 1.3 * trigger["without"]["win_rate"]
    assert trigger["with"]["n"] >= 300


def test_sso_is_adopted_in_its_segment_and_adopters_churn_less(demo_archive: Path) -> None:
    observed = read_manifest(demo_archive).feature_adoption["observed"]
    assert observed["adoption_segment"] >= 0.5 and observed["adoption_other"] <= 0.25
    assert observed["churn_adopters"] < observed["churn_non_adopters"]


def test_best_customers_talk_pricing_in_their_themes_recently_and_last_month(demo_archive: Path) -> None:
    m = read_manifest(demo_archive)
    keywords = [k for theme in m.pricing_themes for k in theme.keywords]
    pattern = "(" + "|".join(re.escape(k) for k in keywords) + ")"
    as_of = date.fromisoformat(m.as_of)
    last_month_end = as_of.replace(day=1) - timedelta(days=1)
    with _connect(demo_archive) as con:
        rows = con.execute(f"""
            SELECT account_id, occurred_at::DATE FROM conversations
            WHERE regexp_matches(lower(body), '{pattern}')""").fetchall()
        tagged = con.execute(f"""
            SELECT avg(CASE WHEN topics LIKE '%,pricing,%' THEN 1 ELSE 0 END) FROM conversation_snippets
            WHERE regexp_matches(lower(text), '{pattern}')""").fetchone()[0]
    best = set(m.best_customer_ids)
    assert {a for a, _ in rows} == best  # nobody else uses the planted themes
    recent = {a for a, d in rows if as_of - timedelta(days=29) <= d <= as_of}
    previous = {a for a, d in rows if last_month_end.replace(day=1) <= d <= last_month_end}
    assert recent == best and previous == best
    assert tagged >= 0.9


def test_theme_keywords_appear_in_no_other_phrase() -> None:
    keywords = [k for theme in phrases.PRICING_THEMES for k in theme["keywords"]]
    other = [s for group in (phrases.CUSTOMER, phrases.REP) for bank in group.values() for s in bank]
    other += list(phrases.REP_OPENERS + phrases.CUSTOMER_OPENERS + phrases.REP_CLOSERS)
    for sentence in other:
        assert not any(k in sentence.lower() for k in keywords), sentence
    for theme in phrases.PRICING_THEMES:
        for sentence in theme["phrases"]:
            assert any(k in sentence.lower() for k in theme["keywords"]), sentence


def test_conversations_have_turns_prose_and_some_pii(demo_archive: Path) -> None:
    with _connect(demo_archive) as con:
        spoken = con.execute("""
            SELECT count(*), count(*) FILTER (WHERE body LIKE 'Rep: %' AND body LIKE '%' || chr(10) || 'Customer: %')
            FROM conversations WHERE channel IN ('call', 'meeting')""").fetchone()
        prose = con.execute("""
            SELECT count(*) FROM conversations
            WHERE channel NOT IN ('call', 'meeting') AND body LIKE '%Customer:%'""").fetchone()[0]
        pii = con.execute("""
            SELECT count(DISTINCT v.conversation_id) FROM conversations v JOIN contacts c USING (account_id)
            WHERE contains(v.body, c.email) OR contains(v.body, c.phone)""").fetchone()[0]
        distinct_bodies = con.execute("SELECT count(DISTINCT body) * 1.0 / count(*) FROM conversations").fetchone()[0]
        tagged = con.execute(
            "SELECT avg(CASE WHEN topics <> ',' THEN 1 ELSE 0 END) FROM conversation_snippets WHERE speaker = 'customer'"
        ).fetchone()[0]
        topics = {r[0] for r in con.execute(
            "SELECT DISTINCT unnest(string_split(trim(topics, ','), ',')) FROM conversation_snippets").fetchall()}
    assert spoken[0] > 500 and spoken[1] == spoken[0]
    assert prose == 0
    assert pii >= 200
    assert distinct_bodies > 0.95
    assert set(phrases.TOPICS) <= topics
    assert tagged >= 0.7  # customer language is about something the topic tagger knows


def test_data_ends_on_as_of_and_recent_windows_have_data(demo_archive: Path) -> None:
    m = read_manifest(demo_archive)
    with _connect(demo_archive) as con:
        latest = con.execute("""
            SELECT (SELECT max(created_at) FROM opportunities), (SELECT max(closed_at) FROM opportunities),
                   (SELECT max(occurred_at)::DATE FROM conversations), (SELECT max(day) FROM feature_usage),
                   (SELECT max(occurred_at)::DATE FROM signals)""").fetchone()
        recent = con.execute(
            "SELECT count(*) FROM conversations WHERE occurred_at >= ?::DATE - 30", [AS_OF]).fetchone()[0]
    assert max(latest) <= AS_OF
    assert recent >= 50
    assert m.wins_last_90_days >= 40


def test_stationary_without_drift_and_shifted_with_it(demo_archive: Path, demo_archive_factory) -> None:
    calm = read_manifest(demo_archive)
    drifted_path = demo_archive_factory(drift=True)
    drifted = read_manifest(drifted_path)
    assert drifted.drift is not None and calm.drift is None
    assert drifted.drift["window_days"] == 90 and drifted.drift["emerging_values"] == ["Healthcare"]
    observed = drifted.drift["observed"]
    assert observed["emerging_recent"]["win_rate"] > 0.4 > observed["emerging_before"]["win_rate"]
    assert observed["weakened_recent"]["win_rate"] < 0.35 < observed["weakened_before"]["win_rate"]

    window = f"o.closed_at > DATE '{AS_OF - timedelta(days=90)}'"
    with _connect(demo_archive) as con:
        recent = win_rate(con, "a.industry IN ('Software', 'Fintech') AND a.employees BETWEEN 200 AND 2000", window)
        health = win_rate(con, "a.industry = 'Healthcare'", window)
        everyone = win_rate(con, deal_where=window)
    assert recent["win_rate"] > 0.4  # the segment still wins in the last quarter
    assert health["win_rate"] < everyone["win_rate"] + 0.1


def test_cli_build_and_summary(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli.duckdb"
    before = generate.today_utc()
    built = runner.invoke(app, ["demo", "build", "--out", str(out), "--seed", "5"])
    assert built.exit_code == 0, built.output
    assert read_manifest(out).as_of in {before.isoformat(), generate.today_utc().isoformat()}  # default: today
    shown = runner.invoke(app, ["demo", "summary", "--archive", str(out)])
    assert shown.exit_code == 0, shown.output
    for text in ("accounts", "win rate", "current ARR", "seg_saas_mid", "dq_government", "annual_prepay"):
        assert text in shown.output
    bad = runner.invoke(app, ["demo", "build", "--out", str(out), "--size", "XL"])
    assert bad.exit_code == 2
    bad_day = runner.invoke(app, ["demo", "build", "--out", str(out), "--as-of", "yesterday"])
    assert bad_day.exit_code == 2

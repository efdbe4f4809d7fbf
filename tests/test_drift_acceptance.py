"""check_drift on demo archives: stationary archives say `stable`, `--drift` archives say `refresh` and name
the planted shift (from the manifest), over 5 seeds each. Archives are built once per module, two at a time.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest
from mcp import Client

from icp_mcp.archive.db import open_archive
from icp_mcp.archive.demo import read_manifest
from icp_mcp.engine.sql import versions
from icp_mcp.engine.questions.drift import check_drift
from icp_mcp.engine.model.windows import resolve_window
from icp_mcp.server.app import archive_of, build_server

pytestmark = pytest.mark.slow

SEEDS = (11, 12, 13, 14, 15)
AS_OF = date(2026, 11, 1)
WINDOW_DAYS = 90


def _build_one(job: tuple[str, int, bool]) -> str:
    """Build one demo archive and activate an ICP derived from deals closed before the drift window."""
    from icp_mcp.archive.demo import build_demo
    from icp_mcp.engine.derivation.derive import derive_icp

    path, seed, drift = job
    build_demo(path, size="S", seed=seed, drift=drift, as_of=AS_OF)
    engine = open_archive(path)
    try:
        definition = derive_icp(engine, closed_before=AS_OF - timedelta(days=WINDOW_DAYS - 1))
        versions.activate(engine, versions.save_version(engine, definition, "tests"), "tests")
    finally:
        engine.dispose()
    return path


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[int, bool], Path]:
    folder = tmp_path_factory.mktemp("drift")
    jobs = [(str(folder / f"s{seed}{'d' if drift else ''}.duckdb"), seed, drift)
            for seed in SEEDS for drift in (False, True)]
    # spawn, not fork: forking a process that already runs DuckDB threads can deadlock the child
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        built = list(pool.map(_build_one, jobs))
    return {(seed, drift): Path(path) for (_, seed, drift), path in zip(jobs, built, strict=True)}


def _report(path: Path):
    engine = open_archive(path, read_only=True)
    try:
        definition = versions.active_icp(engine, required=False)
        assert definition is not None
        return check_drift(engine, definition, recent=resolve_window(f"{WINDOW_DAYS}d", as_of=AS_OF))
    finally:
        engine.dispose()


@pytest.mark.parametrize("seed", SEEDS)
def test_stationary_archive_is_stable(archives, seed: int) -> None:
    report = _report(archives[(seed, False)])
    assert report.verdict == "stable", report.summary
    assert report.recent_wins >= 20 and report.in_icp_share is not None
    assert all(x.psi >= 0 for x in report.psi)


@pytest.mark.parametrize("seed", SEEDS)
def test_drift_archive_says_refresh_and_names_the_planted_shift(archives, seed: int) -> None:
    path = archives[(seed, True)]
    planted = read_manifest(path).drift
    assert planted is not None
    report = _report(path)
    assert report.verdict == "refresh", report.summary
    refresh = [r for r in report.reasons if r.severity == "refresh"]
    named = " ".join(r.text for r in refresh)
    assert any(r.attribute == planted["attribute"] for r in refresh) or planted["attribute"] in named
    emerging = {(e.attribute, e.value) for e in report.emerging}
    assert {(planted["attribute"], v) for v in planted["emerging_values"]} <= emerging
    assert all(v in " ".join(r.text for r in report.reasons) for v in planted["emerging_values"])


def test_insufficient_data_under_20_recent_wins(archives) -> None:
    engine = open_archive(archives[(SEEDS[0], False)], read_only=True)
    try:
        definition = versions.active_icp(engine, required=False)
        report = check_drift(engine, definition, recent=resolve_window("3d", as_of=AS_OF))
    finally:
        engine.dispose()
    assert report.verdict == "insufficient_data" and "at least 20" in report.summary


async def test_check_drift_through_the_mcp_client(archives) -> None:
    for drift, expected in ((False, "stable"), (True, "refresh")):
        server = build_server(str(archives[(SEEDS[0], drift)]), read_only=True)
        try:
            async with Client(server) as client:
                result = await client.call_tool("check_drift", {"as_of": AS_OF.isoformat()})
                bad = await client.call_tool("check_drift", {"window": "recently", "as_of": AS_OF.isoformat()})
                bad_base = await client.call_tool("check_drift", {"baseline": "2025", "as_of": AS_OF.isoformat()})
        finally:
            archive_of(server).close()
        assert not result.is_error, result.content
        data = result.structured_content
        assert data["verdict"] == expected and data["attributes_checked"] >= len(data["psi"])
        assert data["in_icp_share"]["baseline"]["n"] == data["baseline_wins"]
        assert bad.is_error and "window" in bad.content[0].text and "last_quarter" in bad.content[0].text
        assert bad_base.is_error and "baseline" in bad_base.content[0].text

"""Build a demo archive: draw every table with numpy, load it through Arrow, index snippets, write the manifest.

The build goes into a temporary file next to `out` and is renamed over it only when complete, so an
existing archive is never left half-written. Same seed, size, drift flag and as_of give identical rows.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
from icp_mcp.archive import generation
from icp_mcp.archive.clock import today as today_utc
from icp_mcp.archive.db import create_schema, open_archive
from icp_mcp.archive.demo import load
from icp_mcp.archive.demo.accounts import (
    account_ids,
    accounts_table,
    balance_noise,
    generate_accounts,
    technologies_table,
)
from icp_mcp.archive.demo.conversations import build_pool, conversation_tables, plan_conversations
from icp_mcp.archive.demo.deals import generate_deals, opportunities_table
from icp_mcp.archive.demo.manifest import Manifest, manifest_path, planted_manifest, write_manifest
from icp_mcp.archive.demo.observe import observe
from icp_mcp.archive.demo.people import contacts_table, generate_people, opportunity_contacts_table
from icp_mcp.archive.demo.revenue import arr_snapshots_table, feature_usage_tables, generate_revenue
from icp_mcp.archive.demo.signals import signals_table

SIZES: dict[str, int] = {"S": 2_000, "M": 100_000, "L": 1_000_000}
STREAMS = (
    "accounts", "deals", "people", "revenue", "usage", "signals", "pool", "conversations", "bodies", "noise",
)
Progress = Callable[[float, float | None, str], None]
STEPS = 13


def build_demo(
    out: Path | str,
    size: str = "S",
    seed: int = 7,
    drift: bool = False,
    as_of: date | None = None,
    progress: Progress | None = None,
) -> Manifest:
    """Write a demo archive of `size` (S/M/L) to `out` and its manifest to `<out>.truth.json`.

    `as_of` (default: today, UTC) is the last day with data, so relative windows have something in them.
    `progress(done, total, message)` is called after each step.
    """
    size = size.upper()
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    started = time.perf_counter()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    as_of = as_of or today_utc()
    as_of_day = int(np.datetime64(as_of.isoformat(), "D").astype(np.int64))
    rngs = dict(zip(STREAMS, (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(STREAMS)))))
    step = _stepper(progress)

    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    _remove(tmp)
    try:
        engine = open_archive(tmp, create=True)
        create_schema(engine)
        with engine.begin() as conn:
            # generation 1; the id names the build, so one seed and day give identical archives
            generation.bump(conn, archive_id=f"demo-{size}-{seed}-{as_of.isoformat()}-{int(bool(drift))}",
                            stamped=False)
        engine.dispose()  # closes the pool; the engine still compiles DDL for load.prepare/finish
        con = duckdb.connect(str(tmp))
        try:
            con.execute("SET enable_progress_bar = false")
            load.prepare(con, engine)
            acc = generate_accounts(rngs["accounts"], SIZES[size], as_of_day, as_of.year)
            deals = generate_deals(rngs["deals"], acc, as_of_day, drift)
            closed = ~deals.is_open
            balance_noise(rngs["noise"], acc, np.bincount(deals.account[closed & deals.won], minlength=acc.n),
                          np.bincount(deals.account[closed & ~deals.won], minlength=acc.n))
            load.insert(con, "accounts", [accounts_table(acc)])
            load.insert(con, "account_technologies", [technologies_table(acc)])
            step("accounts")
            load.insert(con, "opportunities", [opportunities_table(deals, as_of_day)])
            step("opportunities")
            people = generate_people(rngs["people"], acc, deals)
            load.insert(con, "contacts", [contacts_table(acc, people)])
            load.insert(con, "opportunity_contacts", [opportunity_contacts_table(people)])
            step("contacts")
            rev = generate_revenue(rngs["revenue"], acc, deals, as_of_day)
            load.insert(con, "arr_snapshots", [arr_snapshots_table(rev)])
            step("arr snapshots")
            load.insert(con, "feature_usage", feature_usage_tables(rngs["usage"], acc, rev, as_of_day))
            step("feature usage")
            load.insert(con, "signals", [signals_table(rngs["signals"], acc, deals, as_of_day)])
            step("signals")
            conv_plan = plan_conversations(rngs["conversations"], acc, deals, people, rev, as_of_day)
            pool = build_pool(rngs["pool"])
            load.insert(con, "conversations", conversation_tables(rngs["bodies"], pool, conv_plan, acc, people))
            step("conversations")
            load.finish(con, engine)
            con.execute("CHECKPOINT")
            step("keys and indexes")
        finally:
            con.close()
        _index_snippets(tmp, step)
        best_ids = account_ids(rev.best).to_pylist()
        manifest = planted_manifest(seed, size, as_of.isoformat(), drift, acc.n, best_ids)
        con = duckdb.connect(str(tmp), read_only=True)
        try:
            manifest = observe(con, manifest)
        finally:
            con.close()
        step("manifest")
        manifest.build_seconds = round(time.perf_counter() - started, 2)
        _remove(Path(str(out) + ".wal"))
        os.replace(tmp, out)
        write_manifest(manifest, manifest_path(out))
        step("done")
        return manifest
    finally:
        _remove(tmp)
        _remove(Path(str(tmp) + ".wal"))


def _index_snippets(path: Path, step: Callable[[str], None]) -> None:
    """Split conversations into snippets, tag topics and build the FTS index with the ingest functions."""
    from icp_mcp.archive.fts import rebuild_fts_index
    from icp_mcp.archive.snippets import build_snippets
    from icp_mcp.archive.topics import tag_topics

    engine = open_archive(path)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SET enable_progress_bar = false")
            build_snippets(conn)
        step("snippets")
        with engine.begin() as conn:
            tag_topics(conn)
        step("topics")
        rebuild_fts_index(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("CHECKPOINT")
        step("full-text index")
    finally:
        engine.dispose()


def _stepper(progress: Progress | None) -> Callable[[str], None]:
    done = [0]

    def step(message: str) -> None:
        done[0] += 1
        if progress is not None:
            progress(float(done[0]), float(STEPS), message)

    return step


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass

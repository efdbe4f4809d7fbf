"""Open an archive and prove it usable, or say in one line why not (issue 13).

`open_archive` only builds an engine; `open_checked` also connects once, checks the schema version
(migrating an older archive opened for writing, in one transaction) and that every icp-mcp table is
there. Every failure is an `ArchiveError` whose message is one line naming the file, what is wrong and
what to do: missing, a directory, unreadable, read-only, locked by another process (its PID and command),
not a DuckDB file, truncated or corrupt, made by a newer DuckDB or a newer icp-mcp, older schema opened
read-only, PostgreSQL unreachable.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from icp_mcp.archive import schema_version
from icp_mcp.archive.db import ArchiveError, archive_url, check_schema, open_archive

_PID = re.compile(r"\(PID (\d+)\)")


class ArchiveLocked(ArchiveError):
    """Another process holds the DuckDB file (DuckDB allows one writing process per file)."""

    def __init__(self, path: str, pid: int | None) -> None:
        self.path, self.pid = path, pid
        self.holder = describe_process(pid)
        #: held by an MCP server without a control channel (`serve --read-only`): it will not finish
        self.by_server = "icp-mcp serve" in self.holder
        what = ("stop it to change or reopen the file, or serve without --read-only (that server then carries out "
                "write commands and `icp-mcp call`)" if self.by_server else "wait until it finishes, or stop it")
        super().__init__(f"{path} is in use by {self.holder}; {what}" + (f" (kill {pid})" if pid else ""))


class ArchiveNotWritable(ArchiveError):
    """The file (or its folder, where DuckDB writes its WAL) cannot be written by this user."""


@dataclass(frozen=True)
class Target:
    """What the user named: a DuckDB file path (`path` set) or a database URL."""

    text: str
    url: str
    path: Path | None

    @classmethod
    def of(cls, target: str | os.PathLike[str]) -> Target:
        url = archive_url(target)
        path = Path(url.removeprefix("duckdb:///")) if url.startswith("duckdb:///") else None
        return cls(str(target), url, path)

    @property
    def shown(self) -> str:
        return str(self.path) if self.path is not None else _hide_password(self.url)


def _hide_password(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def describe_process(pid: int | None) -> str:
    """`PID 123 (icp-mcp serve --archive x.duckdb)` from /proc where it can be read."""
    if not pid:
        return "another process"
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        words = [w.decode(errors="replace") for w in raw if w]
        # `python .../icp-mcp serve ...` or `python -m ...`: show from the icp-mcp script on
        for i, word in enumerate(words):
            if word.endswith("icp-mcp") or word == "icp_mcp.server.cli":
                words = ["icp-mcp", *words[i + 1:]]
                break
        command = " ".join(words)
        return f"PID {pid} ({command[:160]})" if command else f"PID {pid}"
    except OSError:
        return f"PID {pid}"


def lock_holder(exc: BaseException) -> int | None:
    """The PID in DuckDB's "Conflicting lock is held in … (PID n)" message, or None."""
    match = _PID.search(str(exc))
    return int(match.group(1)) if match else None


def is_lock_error(exc: BaseException) -> bool:
    return "Could not set lock on file" in str(exc) or "Conflicting lock" in str(exc)


def describe_open_error(target: Target, exc: BaseException) -> ArchiveError:
    """Turn a driver error raised while opening into a one-line `ArchiveError`."""
    if isinstance(exc, ArchiveError):
        return exc
    original = getattr(exc, "orig", None) or exc
    first = (str(original).strip().splitlines() or [type(original).__name__])[0]
    shown = target.shown
    if target.path is None:
        return ArchiveError(f"cannot open the archive {shown}: {first[:300]}")
    if is_lock_error(original):
        return ArchiveLocked(shown, lock_holder(original))
    if "not a valid DuckDB database file" in first:
        return ArchiveError(f"{shown} is not a DuckDB file (or its header is damaged); point --archive at an "
                            "icp-mcp archive, or create one with `icp-mcp init`")
    if "Could not read enough bytes" in first or "truncated" in first.lower():
        return ArchiveError(f"{shown} is truncated (the file ends early: a copy or download cut short?); "
                            "restore it from a backup or copy it again")
    if "checksum" in first.lower() or "corrupt" in first.lower():
        return ArchiveError(f"{shown} is corrupt ({first[:160]}); restore it from a backup")
    if "version number" in first or "newer" in first.lower() or "storage version" in first.lower():
        return ArchiveError(f"{shown} was written by a newer DuckDB than this icp-mcp uses ({first[:160]}); "
                            "upgrade icp-mcp")
    if "Permission denied" in first or "Read-only file system" in first:
        return ArchiveNotWritable(f"{shown} cannot be written ({first[:160]}); use --read-only or fix its permissions")
    return ArchiveError(f"cannot open the archive {shown}: {first[:300]}")


def _check_file(target: Target, *, read_only: bool, create: bool) -> None:
    """The checks that need no database: exists, is a file, readable, writable when writing."""
    path = target.path
    assert path is not None
    if not path.exists():
        if create:
            return
        raise ArchiveError(f"archive not found: {path} (create it with `icp-mcp init --archive {path}`)")
    if path.is_dir():
        raise ArchiveError(f"{path} is a directory, not an archive file; point --archive at the .duckdb file")
    if not os.access(path, os.R_OK):
        raise ArchiveError(f"{path} cannot be read by this user (permission denied)")
    if read_only:
        return
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK | os.X_OK):
        where = "the file" if not os.access(path, os.W_OK) else f"its folder {path.parent}"
        raise ArchiveNotWritable(f"{path} is read-only for this user ({where} is not writable); "
                                 "open it with --read-only for queries, or make it writable to change it")


def open_checked(target: str | os.PathLike[str], *, read_only: bool = False, create: bool = False,
                 migrate: bool = True) -> Engine:
    """An engine on a usable archive, or an `ArchiveError` saying in one line why it is not usable.

    Opened for writing (`read_only` False) an older schema is migrated to the current one in a transaction;
    opened read-only it is refused with the command that migrates it. `create` (a new file may be made)
    and `migrate=False` only connect: the caller creates or migrates the schema itself.
    """
    where = Target.of(target)
    if where.path is not None:
        _check_file(where, read_only=read_only, create=create)
    try:
        engine = open_archive(target, read_only=read_only, create=create)
    except ArchiveError:
        raise
    except (SQLAlchemyError, OSError, ValueError) as exc:
        raise describe_open_error(where, exc) from None
    try:
        if create or not migrate:  # `init` / `migrate`: connect only; they stamp or migrate the schema
            with engine.connect():
                return engine
        with engine.connect() as conn:
            revision = schema_version.check(conn, target=where.shown, writable=not read_only)
        if revision is not None and revision != schema_version.HEAD:
            schema_version.migrate(engine)
        check_schema(engine)
    except schema_version.SchemaVersionError as exc:
        engine.dispose()
        raise ArchiveError(str(exc)) from None
    except ArchiveError as exc:
        engine.dispose()
        raise ArchiveError(f"{where.shown}: {exc}") from None
    except (DBAPIError, SQLAlchemyError, OSError) as exc:
        engine.dispose()
        if read_only and "different configuration" in str(exc):
            # this process already has the file open read-write (an in-process caller): use that
            return open_checked(target, read_only=False, migrate=migrate)
        raise describe_open_error(where, exc) from None
    except Exception as exc:  # duckdb raises its own error types before SQLAlchemy wraps them
        engine.dispose()
        if type(exc).__module__.startswith(("duckdb", "_duckdb")):
            if read_only and "different configuration" in str(exc):
                return open_checked(target, read_only=False, migrate=migrate)
            raise describe_open_error(where, exc) from None
        raise
    engine.dispose()  # proven usable; the file is taken again at first use (not held by a pooled probe)
    return engine

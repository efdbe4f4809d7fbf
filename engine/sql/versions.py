"""ICP versions in `icp_versions`: save, list, get, activate, roll back; YAML/JSON export and import.

At most one version is active. Every activation is recorded in `audit_log` (tool `icp.activate`, arguments
`{version, previous, rollback}`), so `rollback` can walk back through the versions active before, in order.
Activation, rollback and saving an active version (import, `derive --activate`) bump the archive generation
in the same transaction. `active_icp` is the one getter of the active definition: loaded once per
generation through the engine cache.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from icp_mcp.archive import generation
from icp_mcp.archive.clock import utc_now
from icp_mcp.archive.schema import audit_log, icp_versions
from icp_mcp.engine.sql import cache
from icp_mcp.engine.model.errors import EngineError, NoActiveICP, NotFound
from icp_mcp.engine.model.profile import ICPDefinition
from icp_mcp.engine.sql.labels import closed_deal_counts, insufficiency

Format = Literal["yaml", "json"]
STATUSES = ("draft", "active", "retired")
ACTIVATE_TOOL = "icp.activate"


class VersionInfo(BaseModel):
    version: int
    created_at: datetime
    created_by: str
    status: str
    name: str
    note: str | None = None
    criteria: int = 0
    disqualifiers: int = 0


class StoredVersion(VersionInfo):
    definition: ICPDefinition


def _load(raw: object) -> dict:
    return json.loads(raw) if isinstance(raw, str) else dict(raw or {})


def _info(row, definition: dict | None = None) -> VersionInfo:
    d = definition if definition is not None else _load(row.definition)
    return VersionInfo(
        version=row.version, created_at=row.created_at, created_by=row.created_by, status=row.status,
        name=str(d.get("name", "")), note=row.note, criteria=len(d.get("criteria") or []),
        disqualifiers=len(d.get("disqualifiers") or []),
    )


def _empty(d: dict) -> bool:
    """No criteria, segments or disqualifiers: such an ICP would put every account in tier D."""
    return not (d.get("criteria") or d.get("segments") or d.get("disqualifiers"))


def _refuse_empty(d: dict, what: str) -> None:
    """An empty ICP is never made active."""
    if _empty(d):
        raise EngineError("version", f"{what} has no criteria, segments or disqualifiers; activating it would "
                          "put every account in tier D")


def save_version(
    engine: Engine, definition: ICPDefinition, created_by: str, status: str = "draft", note: str | None = None
) -> int:
    """Store a definition as a new version (draft by default) and return its number."""
    if status not in STATUSES:
        raise EngineError("status", f"unknown status {status!r}", list(STATUSES))
    payload = definition.model_dump(mode="json")
    if status == "active":
        _refuse_empty(payload, "the definition")
    with engine.begin() as conn:
        current = conn.execute(select(func.max(icp_versions.c.version))).scalar()
        version = int(current or 0) + 1
        if status == "active":
            previous = _active_number(conn)
            _retire_active(conn)
        conn.execute(insert(icp_versions).values(
            version=version, created_at=utc_now(), created_by=created_by, status=status, definition=payload,
            evidence={"base_rate": definition.base_rate, "population": definition.population,
                      "positives": definition.positives},
            note=note,
        ))
        if status == "active":
            _record(conn, created_by, version, previous, rollback=False)
            generation.bump(conn)
    if status == "active":
        cache.forget_generation(engine)
    return version


def list_versions(engine: Engine) -> list[VersionInfo]:
    """Every stored version, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(select(icp_versions).order_by(icp_versions.c.version.desc())).all()
    return [_info(r) for r in rows]


def get_version(engine: Engine, version: int | None = None) -> StoredVersion:
    """One version, or the active one when `version` is None (raises NoActiveICP / NotFound)."""
    with engine.connect() as conn:
        stmt = select(icp_versions)
        stmt = stmt.where(icp_versions.c.status == "active") if version is None else stmt.where(
            icp_versions.c.version == version)
        row = conn.execute(stmt.order_by(icp_versions.c.version.desc())).first()
        if row is None:
            if version is None:
                raise _no_active(engine)
            raise _unknown_version(conn, version)
    d = _load(row.definition)
    if version is None and _empty(d):  # activated before empty ICPs were refused: not usable
        raise _no_active(engine, empty=int(row.version))
    return StoredVersion(**_info(row, d).model_dump(), definition=ICPDefinition.model_validate(d))


def _no_active(engine: Engine, empty: int | None = None) -> NoActiveICP:
    """NoActiveICP; when the archive has too few closed deals to derive one, the message says so with counts."""
    try:
        problem = insufficiency(*closed_deal_counts(engine))
    except SQLAlchemyError:  # no deals table (an archive without the schema): the plain message
        problem = None
    what = (f"no usable ICP: the active version {empty} has no criteria, segments or disqualifiers"
            if empty is not None else "no active ICP version")
    if problem:
        return NoActiveICP(f"{what}; {problem}")
    return NoActiveICP(f"{what}; run `icp-mcp icp derive` then `icp activate`") if empty is not None else NoActiveICP()


def active_icp(engine: Engine, *, required: bool = True) -> ICPDefinition | None:
    """The usable active definition, loaded once per archive generation (engine cache).

    Without one: NoActiveICP (saying why and how to make one), or None when not `required`. The definition
    returned is shared: copy it (`model_copy`) before changing it.
    """
    found = cache.cached(engine, ("active_icp",), lambda: _load_active(engine))
    if isinstance(found, NoActiveICP):
        if required:
            raise NoActiveICP(found.message)
        return None
    return found


def _load_active(engine: Engine) -> ICPDefinition | NoActiveICP:
    try:
        return get_version(engine).definition
    except NoActiveICP as exc:  # kept (not raised) so the message is cached with the answer
        return exc


def _unknown_version(conn, version: int) -> NotFound:
    """The error for a version that is not stored, listing the ten latest that are."""
    known = conn.execute(select(icp_versions.c.version).order_by(icp_versions.c.version)).scalars().all()
    return NotFound("version", f"no ICP version {version}", [{"version": int(v)} for v in known[-10:]])


def _active_number(conn) -> int | None:
    return conn.execute(select(icp_versions.c.version).where(icp_versions.c.status == "active")).scalar()


def _record(conn, by: str, version: int, previous: int | None, rollback: bool) -> None:
    conn.execute(insert(audit_log).values(
        at=utc_now(), subject=by, tool=ACTIVATE_TOOL,
        arguments={"version": version, "previous": previous, "rollback": rollback}, outcome="ok", rows=1,
    ))


def _retire_active(conn) -> None:
    conn.execute(update(icp_versions).where(icp_versions.c.status == "active").values(status="retired"))


def _set_active(conn, version: int) -> None:
    _retire_active(conn)
    conn.execute(update(icp_versions).where(icp_versions.c.version == version).values(status="active"))


def activate(engine: Engine, version: int, by: str) -> VersionInfo:
    """Make `version` the active one (the previous active one becomes retired)."""
    with engine.begin() as conn:
        row = conn.execute(select(icp_versions).where(icp_versions.c.version == version)).first()
        if row is None:
            raise _unknown_version(conn, version)
        _refuse_empty(_load(row.definition), f"version {version}")
        previous = _active_number(conn)
        if previous != version:
            _set_active(conn, version)
            _record(conn, by, version, previous, rollback=False)
            generation.bump(conn)
    cache.forget_generation(engine)
    return get_version(engine, version)


def _history(conn) -> list[int]:
    """The stack of active versions, replayed from the activation log (oldest first)."""
    stack: list[int] = []
    rows = conn.execute(select(audit_log.c.arguments).where(audit_log.c.tool == ACTIVATE_TOOL)
                        .order_by(audit_log.c.id)).scalars().all()
    for raw in rows:
        args = _load(raw)
        if args.get("rollback"):
            if stack:
                stack.pop()
        else:
            stack.append(int(args["version"]))
    return stack


def rollback(engine: Engine, by: str) -> VersionInfo:
    """Reactivate the version that was active before the current one."""
    with engine.begin() as conn:
        stack = _history(conn)
        current = _active_number(conn)
        if current is None:
            raise NoActiveICP("no active ICP version to roll back from")
        if len(stack) < 2:
            raise EngineError("version", f"version {current} has no earlier active version to roll back to")
        target = stack[-2]
        _set_active(conn, target)
        _record(conn, by, target, current, rollback=True)
        generation.bump(conn)
    cache.forget_generation(engine)
    return get_version(engine, target)


def export_definition(definition: ICPDefinition, fmt: Format = "yaml") -> str:
    """The definition as YAML or JSON text."""
    data = _clean(definition.model_dump(mode="json"))
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)
    raise EngineError("format", f"unknown format {fmt!r}", ["yaml", "json"])


KEEP_NULL = ("evidence",)


def _clean(value: object) -> object:
    """Drop null fields (unused `value` / `values` / `range` …) but keep `evidence: null` on manual rules."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None or k in KEEP_NULL}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _field(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "definition"


def import_definition(text: str, fmt: Format | None = None) -> ICPDefinition:
    """Parse and validate YAML or JSON text; errors name the offending field."""
    if fmt is None:
        fmt = "json" if text.lstrip().startswith("{") else "yaml"
    try:
        data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise EngineError("definition", f"not valid {fmt.upper()}: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise EngineError("definition", "must be a mapping with at least name and criteria")
    try:
        return ICPDefinition.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
        raise EngineError(_field(err["loc"]), msg + more) from None

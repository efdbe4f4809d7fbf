"""The one runner every MCP tool goes through.

`run_tool` does, in order: find the caller (`current_principal()`), ask `allowed(principal,
"tool:<name>")`, run the engine call in a worker thread (read tools on the guarded read-only engine, with
a timeout; writes through the archive's single writer), report progress, apply the result caps (lists
≤ 200, text ≤ 500 characters, `truncated: true` when anything was cut), map engine errors onto tool errors
that name the field and the allowed values, and record an audit entry. Tool modules stay thin: they
declare their arguments and result model and hand a small `call` function to `run_tool`. A pure tool's
answer (`ToolSpec.pure`) is kept in the one cache per (generation, day, arguments, caller's view) and served
again without the query; the audit entry is still written for every call.

Hooks for the permissions work (issue 6): `allowed` and `current_principal` come from
`icp_mcp.surface.access`; the audit entry is written by `icp_mcp.server.audit.record` (see `audit_call`).
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
import re
import logging
import threading
import time
import contextlib
import contextvars
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread
from anyio.lowlevel import RunVar
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel
from sqlalchemy import Engine, select

from icp_mcp.archive.schema import accounts
from icp_mcp.engine.model.errors import EngineError, NoActiveICP, NotFound
from icp_mcp.engine.scoring import state
from icp_mcp.engine.sql import cache
from icp_mcp.surface.access import AccessDenied, Principal, allowed, current_principal, denial_message
from icp_mcp.surface.visibility import can_name, visible_accounts
from icp_mcp.surface import audit_hook
from icp_mcp.surface.audit_hook import error_outcome
from icp_mcp.surface.lean_schema import lean
from icp_mcp.surface.text_render import result_text
from icp_mcp.surface.settings import MAX_CONCURRENT_QUERIES, MAX_LIMIT, MAX_TEXT, QUERY_TIMEOUT_S, WRITE_TIMEOUT_S
from icp_mcp.surface.archive_access import ArchiveHandle, ArchiveReadOnly, ReadOnlyViolation

logger = logging.getLogger("icp_mcp.tools")

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])
ProgressFn = Callable[[float, float | None, str], None]
#: Error texts are cut here: they may echo an argument, and an argument may be 100k characters.
MAX_ERROR_CHARS = 2000


class ToolInputError(Exception):
    """A bad argument caught by the tool layer itself (e.g. a stale cursor); names the field."""

    def __init__(self, field: str, message: str, allowed_values: list[str] | None = None) -> None:
        self.field = field
        text = f"{field}: {message}"
        if allowed_values:
            text += f" (allowed: {', '.join(allowed_values)})"
        super().__init__(text)


class ToolRefusal(Exception):
    """The tool declines to act (e.g. an unconfirmed activation); the message says what to do instead."""


@dataclass(frozen=True)
class ToolSpec:
    """A tool's name, title and behaviour, from which its MCP annotations are derived."""

    name: str
    title: str
    write: bool = False
    destructive: bool = False
    idempotent: bool = True
    #: The answer depends only on the archive generation, the day, the arguments and the caller's view, so
    #: it is kept in the one cache (`cache.answer`) and a repeated call skips the query (still audited).
    pure: bool = False

    @property
    def annotations(self) -> ToolAnnotations:
        """MCP annotations: every icp-mcp tool is closed-world (it only reads the archive)."""
        return ToolAnnotations(
            title=self.title,
            read_only_hint=not self.write,
            destructive_hint=self.destructive,
            idempotent_hint=self.idempotent,
            open_world_hint=False,
        )



def register_tool(server: MCPServer, spec: ToolSpec) -> Callable[[F], F]:
    """Decorator: add `fn` as the MCP tool `spec.name`, its docstring (dedented) as the description."""

    def decorator(fn: F) -> F:
        description = inspect.cleandoc(fn.__doc__ or "")
        server.add_tool(fn, name=spec.name, title=spec.title, description=description, annotations=spec.annotations)
        lean_tool_schemas(server, spec.name)
        return fn

    return decorator


def lean_tool_schemas(server: MCPServer, name: str) -> None:
    """Publish the tool's input and output schemas in their lean form (`surface.lean_schema`), and let the SDK
    pass the runner's answers through without validating them a second time.

    The SDK keeps the registered tool in its tool manager and reads `parameters` / `fn_metadata.output_schema`
    live when listing; arguments are still validated by the tool's pydantic argument model.
    """
    tool = server._tool_manager.get_tool(name)  # the SDK has no public accessor for a registered tool
    if tool is None:
        return
    # `run_tool` answers with a CallToolResult dumped from the validated result model; the SDK would validate
    # that dump against the model again on every call (a third of a kept answer's cost). The schema stays
    # published, so clients still validate what they receive (the tests' clients do).
    tool.fn_metadata.output_model = None
    tool.parameters = lean(tool.parameters)
    if tool.fn_metadata.output_schema is not None:
        schema = lean(tool.fn_metadata.output_schema, output=True)
        schema.pop("description", None)  # the result model's docstring: the tool's description says it
        tool.fn_metadata.output_schema = schema
        tool.__dict__.pop("output_schema", None)  # a cached_property on the SDK's Tool


@dataclass
class ToolRun:
    """What a tool's `call` function receives: the engine to query, the caller, progress and the writer."""

    engine: Engine
    principal: Principal
    archive: ArchiveHandle
    progress: ProgressFn

    def write(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run `fn(engine, ...)` through the archive's single writer path."""
        return self.archive.write(fn, *args, **kwargs)


# --- caps -------------------------------------------------------------------------------------------


def cap_text(value: Any) -> tuple[Any, bool]:
    """Cut strings to MAX_TEXT characters and lists to MAX_LIMIT items, recursively; say whether anything was cut."""
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            return value[: MAX_TEXT - 1] + "…", True
        return value, False
    if isinstance(value, BaseModel):
        cut = False
        for name in type(value).model_fields:
            new, was_cut = cap_text(getattr(value, name))
            if was_cut:
                object.__setattr__(value, name, new)
                cut = True
        return value, cut
    if isinstance(value, list):
        cut = len(value) > MAX_LIMIT
        items = []
        for item in value[:MAX_LIMIT]:
            new, was_cut = cap_text(item)
            items.append(new)
            cut = cut or was_cut
        return (items if cut else value), cut
    if isinstance(value, dict):
        cut = False
        out = {}
        for key, item in value.items():
            out[key], was_cut = cap_text(item)
            cut = cut or was_cut
        return (out if cut else value), cut
    return value, False


def apply_caps(result: M) -> M:
    """Apply the caps to a result model and set its `truncated` flag when anything was cut."""
    result, cut = cap_text(result)
    if cut and "truncated" in type(result).model_fields:
        object.__setattr__(result, "truncated", True)
    return result


# --- cursors ----------------------------------------------------------------------------------------


def _args_key(tool: str, arguments: Mapping[str, Any]) -> str:
    material = json.dumps({"tool": tool, "args": dict(arguments)}, sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()[:12]


def encode_cursor(tool: str, arguments: Mapping[str, Any], offset: int) -> str:
    """An opaque cursor for the page starting at `offset` of this exact query."""
    raw = json.dumps({"o": offset, "k": _args_key(tool, arguments)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(tool: str, arguments: Mapping[str, Any], cursor: str | None) -> int:
    """The offset a cursor points at; 0 without one. A cursor from another query is a `cursor` error."""
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        offset, key = int(data["o"]), str(data["k"])
    except Exception as exc:
        raise ToolInputError("cursor", "not a cursor this server issued; pass next_cursor from a previous page") from exc
    if key != _args_key(tool, arguments) or offset < 0:
        raise ToolInputError("cursor", "belongs to a different query; repeat the same arguments with next_cursor")
    return offset


def page_cursor(tool: str, arguments: Mapping[str, Any], offset: int, returned: int, limit: int, more: bool) -> str | None:
    """`next_cursor` for a page: present only when more items follow."""
    return encode_cursor(tool, arguments, offset + returned) if more and returned >= limit else None


# --- errors -----------------------------------------------------------------------------------------


def error_message(exc: BaseException) -> str:
    """The text a caller sees for an anticipated failure: names the field, what is allowed, or candidates."""
    if isinstance(exc, NotFound):
        text = f"{exc.field}: {exc.message}"
        if exc.candidates:
            shown = []
            for cand in exc.candidates[:10]:
                if isinstance(cand, Mapping):
                    shown.append(", ".join(f"{k}={v}" for k, v in cand.items() if v is not None))
                else:
                    shown.append(str(cand))
            text += ". Candidates: " + "; ".join(shown)
        elif exc.allowed:
            text += f" (allowed: {', '.join(exc.allowed[:30])})"
        return text
    if isinstance(exc, NoActiveICP):
        return f"no active ICP: {exc.message}"
    return str(exc)


def error_result(message: str, **details: Any) -> CallToolResult:
    """A tool error result (isError) with a one-line message and, when given, machine-readable details."""
    text = message if not details else message + "\n" + json.dumps(details, default=str, separators=(",", ":"))
    if len(text) > MAX_ERROR_CHARS:  # an echoed oversize argument must not become an oversize answer
        text = text[:MAX_ERROR_CHARS] + f"… [cut, {len(text) - MAX_ERROR_CHARS} more characters]"
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def success_result(result: BaseModel, exclude: Any = None) -> CallToolResult:
    """Structured content plus the same facts as short markdown text (`surface.text_render`), which is what the
    model reads and costs fewer tokens than the JSON. `exclude` (a pydantic exclude spec) leaves out what a
    tool's brief answer does not carry."""
    data = result.model_dump(mode="json", by_alias=True, exclude=exclude)
    return CallToolResult(content=[TextContent(type="text", text=result_text(data))], structured_content=data)


def retype(cls: type[M], found: BaseModel, **changes: Any) -> M:
    """`found` (an engine result) as its tool's thin subclass `cls`, with `changes` (caller-specific fields such
    as `next_cursor`) applied; nested values are kept as they are (already validated by the engine)."""
    return cls.model_construct(**{**dict(found), **changes})


def _rows(result: BaseModel) -> int:
    items = getattr(result, "items", None)
    return len(items) if isinstance(items, list) else 1


def view_key(principal: Principal) -> tuple:
    """Everything about the caller an answer may depend on (subject, roles, scopes, territories, k)."""
    territories = None if principal.territories is None else tuple(sorted(principal.territories))
    return (principal.subject, tuple(principal.roles), tuple(sorted(principal.scopes)), territories,
            principal.min_group)


_slot: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("icp_mcp_answer_slot", default=None)


@contextlib.contextmanager
def answer_slot() -> Iterator[dict[str, Any]]:
    """For middleware around a tool call: a dict in which `run_tool` leaves, under ``"kept"``, the kept answer
    it served (the same object for every caller asking the same question), so what the middleware derives
    from it (a redaction) can be kept with it."""
    holder: dict[str, Any] = {}
    token = _slot.set(holder)
    try:
        yield holder
    finally:
        _slot.reset(token)


def answer_key(spec: ToolSpec, arguments: Mapping[str, Any], principal: Principal, exclude: Any) -> tuple:
    """The one-cache key of a pure tool's answer: tool, arguments (canonical JSON), caller's view, brief form."""
    args = json.dumps(dict(arguments), sort_keys=True, default=str, separators=(",", ":"))
    return (spec.name, args, view_key(principal), repr(exclude))


# --- audit ------------------------------------------------------------------------------------------


def audit_call(
    archive: ArchiveHandle, subject: str, tool: str, arguments: Mapping[str, Any], outcome: str, rows: int,
    duration_ms: float, reason: str | None = None,
) -> None:
    """Hand every call to the audit recorder the server installed (`audit_hook`); never fail the call.
    A refusal is outcome ``denied`` with its `reason`."""
    audit_hook.record(archive.engine, subject, tool, arguments, outcome, rows, duration_ms, reason)


# --- the runner -------------------------------------------------------------------------------------

_limiter: RunVar[anyio.CapacityLimiter] = RunVar("icp_mcp_query_limiter")


def _query_limiter() -> anyio.CapacityLimiter:
    """The event loop's bound on read tools running at once (`MAX_CONCURRENT_QUERIES`); a RunVar, as anyio
    keeps its own thread limiter, so each event loop (tests start many) gets its own."""
    try:
        return _limiter.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(MAX_CONCURRENT_QUERIES)
        _limiter.set(limiter)
        return limiter


def _progress_bridge(ctx: Context | None) -> ProgressFn:
    """A thread-safe progress callback that forwards to the client's progress token (if any)."""

    def progress(done: float, total: float | None, message: str) -> None:
        if ctx is None:
            return
        try:
            anyio.from_thread.run(ctx.report_progress, done, total, message)
        except Exception:  # no request context (direct call) or the client went away
            logger.debug("progress not delivered", exc_info=True)

    return progress


async def run_tool(
    ctx: Context | None,
    archive: ArchiveHandle,
    spec: ToolSpec,
    arguments: Mapping[str, Any],
    call: Callable[[ToolRun], BaseModel],
    *,
    exclude: Any = None,
) -> CallToolResult:
    """Check permission, run `call` off the event loop, cap, map errors, audit. Never raises.

    `exclude`: fields the answer leaves out (a tool's brief form; `detail=true` passes None)."""
    principal = current_principal()
    started = time.perf_counter()
    outcome, rows, reason = "ok", 0, None

    def elapsed() -> float:
        return round((time.perf_counter() - started) * 1000, 2)

    try:
        if not allowed(principal, f"tool:{spec.name}"):
            outcome, reason = "denied", denial_message(principal, f"tool:{spec.name}")
            return error_result(f"permission denied: {reason}")
        run = ToolRun(
            engine=archive.reader if not spec.write else archive.engine,
            principal=principal,
            archive=archive,
            progress=_progress_bridge(ctx),
        )
        timeout = WRITE_TIMEOUT_S if spec.write else QUERY_TIMEOUT_S
        result: tuple[CallToolResult, int] | None = None
        worker: dict[str, int] = {}
        key = answer_key(spec, arguments, principal, exclude) if spec.pure and not spec.write else ()

        def answered(run: ToolRun) -> tuple[CallToolResult, int]:
            if not spec.write:
                refresh_state(archive, run.progress)
            found = apply_caps(call(run))
            return success_result(found, exclude), _rows(found)

        def in_worker(run: ToolRun) -> tuple[CallToolResult, int]:
            worker["thread"] = threading.get_ident()
            _after_warm_up(archive)
            with cache.pinned():  # one archive generation per call; a change elsewhere is seen by the next
                if spec.pure and not spec.write:  # the same question from the same view: the kept answer
                    return cache.answer(run.engine, key, lambda: answered(run))
                return answered(run)

        def kept_answer() -> tuple[CallToolResult, int] | None:
            _after_warm_up(archive)
            with cache.pinned():
                return cache.kept(run.engine, key)[1]

        with anyio.move_on_after(timeout):
            if spec.pure and not spec.write:  # a kept answer does not queue behind running queries
                result = await anyio.to_thread.run_sync(kept_answer, abandon_on_cancel=True)
            if result is None:
                result = await anyio.to_thread.run_sync(in_worker, run, abandon_on_cancel=True,
                                                        limiter=None if spec.write else _query_limiter())
        if result is None:
            archive.interrupt(worker.get("thread"))  # stop the abandoned query instead of letting it run on
            outcome = error_outcome("timeout")
            return error_result(f"{spec.name} timed out after {timeout:.0f} s; narrow the question and try again")
        answer, rows = result
        slot = _slot.get()
        if spec.pure and slot is not None:
            slot["kept"] = answer
        return answer
    except AccessDenied as exc:
        outcome, reason = "denied", str(exc)
        return error_result(f"permission denied: {exc}")
    except (ToolInputError, EngineError, ToolRefusal, ArchiveReadOnly) as exc:
        outcome = error_outcome(exc)
        if isinstance(exc, NotFound):  # row level: candidates only from the caller's view
            exc.candidates = visible_accounts(principal, exc.candidates)
            if exc.withheld:  # answered exactly as "not found"; only the audit knows it was a refusal
                outcome, reason = "denied", exc.withheld
        details = exc.to_dict() if isinstance(exc, EngineError) else {}
        return error_result(error_message(exc), **({"error": details} if details else {}))
    except ReadOnlyViolation as exc:
        outcome = error_outcome(exc)
        logger.error("read-only violation in %s: %s", spec.name, exc)
        return error_result(f"{spec.name} refused: {exc}")
    except Exception as exc:
        outcome = error_outcome(exc)
        logger.exception("tool %s failed", spec.name)
        return error_result(f"{spec.name} failed with an internal error (logged on the server); nothing was changed")
    finally:
        duration = elapsed()
        await anyio.to_thread.run_sync(
            audit_call, archive, principal.subject, spec.name, arguments, outcome, rows, duration, reason
        )


# --- shared engine look-ups -------------------------------------------------------------------------


#: How long a read call waits for a state build it started (or found running) before answering without it.
STATE_WAIT_S = QUERY_TIMEOUT_S / 2


class _StateBuild:
    """One background build of the stored ICP state per archive handle; waiting calls see its progress."""

    def __init__(self, archive: ArchiveHandle) -> None:
        self.listeners: list[ProgressFn] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, args=(archive,), daemon=True, name="icp-state-build")

    def _progress(self, done: float, total: float | None, message: str) -> None:
        with self.lock:
            listeners = list(self.listeners)
        for listener in listeners:
            listener(done, total, message)

    def _run(self, archive: ArchiveHandle) -> None:
        try:
            archive.write(lambda engine: state.build(engine, progress=self._progress))
        except Exception:  # never fail a read over the stored state: the readers recompute instead
            if archive.closing:  # stopped by `ArchiveHandle.close` (a process ending): nothing was stored
                logger.debug("state build stopped by close", exc_info=True)
            else:
                logger.warning("could not store the ICP state; answering from recomputations", exc_info=True)

    def wait(self, progress: ProgressFn, seconds: float) -> None:
        with self.lock:
            self.listeners.append(progress)
        try:
            self.thread.join(seconds)
        finally:
            with self.lock:
                self.listeners.remove(progress)


_builds: dict[int, _StateBuild] = {}
_builds_lock = threading.Lock()


def refresh_state(archive: ArchiveHandle, progress: ProgressFn, wait_s: float = STATE_WAIT_S) -> None:
    """Before a read tool: when the active ICP's stored state was not built today for the current generation
    and this process may write, build it in the background through the single writer. When the archive
    changed (no stored state of this generation) wait up to `wait_s` for it (its progress reaches this call's
    client; a longer build goes on while this call answers from recomputations); when only the day changed,
    the earlier day's state answers at once while today's is built."""
    build = _start_state_build(archive)
    if build is None:
        return
    try:
        usable = state.answers_now(archive.reader)
    except Exception:
        logger.warning("could not check the stored ICP state", exc_info=True)
        return
    if not usable:
        build.wait(progress, wait_s)


def _start_state_build(archive: ArchiveHandle) -> _StateBuild | None:
    """The running (or a newly started) background state build when the stored state is stale and this
    process may write; None when there is nothing to build."""
    if archive.read_only:
        return None
    try:
        stale = state.is_stale(archive.reader)
    except Exception:
        logger.warning("could not check the stored ICP state", exc_info=True)
        return None
    if not stale:
        return None
    with _builds_lock:
        build = _builds.get(id(archive))
        if build is None or not build.thread.is_alive():
            if archive.closing:
                return None
            build = _builds[id(archive)] = _StateBuild(archive)
            build.thread.start()
            archive.stop_on_close(build.thread)
    return build


def _after_warm_up(archive: ArchiveHandle) -> None:
    """A call right after start waits for the warm-up (`warm_up`) to finish what every call reads, instead of
    opening a second connection and reading the same things again (not for its priming of the score path)."""
    if archive.warming is not None:  # set once that part is done: then this returns at once
        archive.warmed.wait(STATE_WAIT_S)


def warm_up(archive: ArchiveHandle) -> threading.Thread:
    """At server start, in the background: open the first pooled connection (DuckDB's file and the FTS
    extension, ~0.4 s at 1M accounts) and read the generation, the active ICP and the stored state's
    header, and ready the audit recorder. The client's handshake runs meanwhile, so the first call does not
    pay for the process being new. `ArchiveHandle.close` waits for it. A process that may write starts
    rebuilding a stale state here (in its own thread: the warm-up does not wait for it). Then, while no call waits for it, it primes the
    score path (`_prime_scoring`)."""

    def run() -> None:
        try:
            with cache.pinned():
                state.is_stale(archive.reader)  # the connection, generation, active ICP and state header
                _start_state_build(archive)  # a stale state (a new day, a change) is rebuilt before it is asked
            audit_hook.prepare(archive.engine)  # the audit connection, and where entries go
        except Exception:  # the first call will meet (and report) whatever failed here
            logger.debug("warm-up failed", exc_info=True)
        finally:
            archive.warmed.set()
        try:
            _prime_scoring(archive)
        except Exception:
            logger.debug("priming the score path failed", exc_info=True)

    thread = threading.Thread(target=run, daemon=True, name="icp-warm-up")
    archive.warming = thread
    thread.start()
    return thread


def _prime_scoring(archive: ArchiveHandle) -> None:
    """Score one account from the stored state and read its buying committee, answering nobody: the tables a
    score reads (accounts, attributes, similar customers' profiles, contacts, deals) are touched once, so
    the first caller's score costs what the hundredth's does (at 1M accounts, ~60 ms of first reads of
    each table). Only when the stored state answers: priming never starts a recomputation."""
    from icp_mcp.engine.questions.committee import buying_committee
    from icp_mcp.engine.scoring.one import score_account
    from icp_mcp.engine.sql.versions import active_icp

    with cache.pinned():
        if not state.answers_now(archive.reader):
            return
        definition = active_icp(archive.reader, required=False)
        with archive.reader.connect() as conn:
            account_id = conn.execute(select(accounts.c.account_id).limit(1)).scalar()
        if definition is None or account_id is None:
            return
        score_account(archive.reader, definition, account=account_id)
        buying_committee(archive.reader, definition, account_id)
    cache.count("primed")


def account_territory(engine: Engine, account_id: str) -> str | None:
    """The territory of one account (for the row-level check of tools that resolve accounts in the engine)."""
    with engine.connect() as conn:
        return conn.execute(select(accounts.c.territory).where(accounts.c.account_id == account_id)).scalar()


def check_account_access(run: ToolRun, territory: str | None, query: str | None) -> None:
    """Safety net after a lookup within the caller's view: an account the caller may not see answers
    exactly like one that does not exist (the audit records the refusal)."""
    if not can_name(run.principal, territory):
        raise NotFound("account", f"no account matches {(query or '').strip()!r} by id, domain or name",
                       withheld=denial_message(run.principal, "account", territory))


# --- argument errors --------------------------------------------------------------------------------

_PYDANTIC_ERROR = re.compile(
    r"^(?P<field>[^\s].*)\n\s+(?P<message>.+?)(?: \[type=(?P<type>[^,\]]+)(?:, input_value=(?P<value>.*?))?(?:, input_type=[^\]]+)?\])?$",
    re.M,
)


def tidy_validation_message(text: str) -> str | None:
    """The SDK's argument-validation text as "field: message (got value)"; None when it is not one."""
    head, sep, body = text.partition(" validation error")
    if not sep or not head.startswith("Error executing tool "):
        return None
    parts = []
    for match in _PYDANTIC_ERROR.finditer(body.split("\n", 1)[1] if "\n" in body else ""):
        if match["field"].startswith("For further information"):
            continue
        field = match["field"].strip().split(".")[0]
        got = f" (got {match['value']})" if match["value"] not in (None, "") and match["type"] != "missing" else ""
        parts.append(f"{field}: {match['message'].strip()}{got}")
    return "; ".join(parts) or None


async def tidy_validation_errors(ctx: Any, call_next: Any) -> Any:
    """SDK server middleware: argument-schema errors read "limit: Input should be … (got 500)"."""
    result = await call_next(ctx)
    if getattr(ctx, "method", None) != "tools/call" or result is None:
        return result
    as_dict = isinstance(result, dict)
    if as_dict and not result.get("isError"):
        return result  # successes and input_required rounds pass untouched
    try:
        model = CallToolResult.model_validate(result) if as_dict else result
    except ValueError:
        return result
    if not isinstance(model, CallToolResult) or not model.is_error or not model.content:
        return result
    tidy = tidy_validation_message(getattr(model.content[0], "text", "") or "")
    if tidy is None:
        return result
    fixed = model.model_copy(update={"content": [TextContent(type="text", text=tidy)]})
    return fixed.model_dump(by_alias=True, exclude_none=True) if as_dict else fixed

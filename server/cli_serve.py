"""CLI commands that face MCP: `serve` (stdio or streamable HTTP), `call` (one tool through an in-memory
MCP client) and `ask` (a Claude agent over the server's tools)."""

from __future__ import annotations

import json
import signal
import sys
from typing import TYPE_CHECKING, Any

import typer

from icp_mcp.archive.errors import ArchiveError
from icp_mcp.server.cli_console import LazyConsole
from icp_mcp.surface.settings import (
    ARCHIVE_HELP, DEFAULT_HOST, DEFAULT_MODEL, DEFAULT_PORT, MAX_TURNS, MCP_PATH,
)

if TYPE_CHECKING:  # imported where used: `icp-mcp --help` needs neither the engine nor the MCP SDK
    from icp_mcp.surface.archive_access import ArchiveHandle

err = LazyConsole(stderr=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def serve(
    archive: str = typer.Option(..., "--archive", help=ARCHIVE_HELP),
    transport: str = typer.Option("stdio", "--transport", help="stdio (desktop clients) or http (streamable HTTP)"),
    host: str = typer.Option(DEFAULT_HOST, "--host", help="HTTP bind address"),
    port: int = typer.Option(DEFAULT_PORT, "--port", help="HTTP port"),
    policy: str | None = typer.Option(None, "--policy", help="access policy file (tokens, roles, territories)"),
    read_only: bool = typer.Option(False, "--read-only", help="open the archive read-only (writes refused)"),
) -> None:
    """Serve the archive over MCP: stdio for Claude Desktop / Code, or streamable HTTP at /mcp."""
    if transport not in ("stdio", "http"):
        raise _fail(f"--transport: unknown value {transport!r} (allowed: stdio, http)")
    if transport == "http" and policy is None and host not in ("127.0.0.1", "localhost", "::1"):
        # without a policy every HTTP caller is the archive owner (LOCAL_OWNER): only on loopback
        raise _fail(f"--policy: serving HTTP on {host} needs a policy with bearer tokens (see `icp-mcp token create`)")
    from icp_mcp.surface.serve_settings import ServeSettings

    settings = ServeSettings(archive=archive, transport=transport, host=host, port=port, policy=policy,  # type: ignore[arg-type]
                             read_only=read_only)
    from icp_mcp.server import control

    holder = control.find_holder(archive)
    if holder is not None:  # a second window: serve through the holder, or say who holds the archive
        if transport == "stdio":
            err.print(f"icp-mcp: {archive} is held by {holder}; serving through its control channel "
                      "(its permissions and audit apply)", highlight=False, soft_wrap=True)
            raise typer.Exit(control.pipe_stdio(holder))
        raise _fail(f"{archive} is already served by {holder}; use that server's endpoint, or stop it first")
    from icp_mcp.surface.archive_access import ArchiveHandle

    try:
        server = _server_over(ArchiveHandle(archive, read_only=read_only), policy=policy, warm=True,
                              base_url=f"http://{host}:{port}" if transport == "http" else None)
    except (ArchiveError, ValueError, OSError) as exc:
        raise _fail(str(exc)) from exc
    if policy is not None:
        from icp_mcp.server.policy import load_policy, startup_warnings

        for warning in startup_warnings(load_policy(policy)):
            err.print(f"warning: {warning}", highlight=False, markup=False)
    channel = None
    handle = archive_of(server)
    try:
        handle.bound_memory()  # a server on a million accounts stays under 1 GB (ICP_MCP_MEMORY_LIMIT)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    if not handle.read_only and "://" not in archive:  # DuckDB: this process is the one writer
        try:
            with handle.engine.connect():  # take the file now (the pool keeps the connection) and hold it
                pass
        except Exception as exc:  # taken by another process since the check: one line, as above
            from icp_mcp.archive.opening import Target, describe_open_error

            raise _fail(str(describe_open_error(Target.of(archive), exc))) from None
        channel = control.ControlServer(handle, server, archive, f"icp-mcp serve --transport {transport}").start()
        signal.signal(signal.SIGTERM, _exit_on_sigterm)  # so the socket is removed (uvicorn re-raises SIGTERM)
    try:
        if transport == "stdio":
            server.run("stdio")
            return
        import uvicorn

        from icp_mcp.server.app import http_app

        app = http_app(server, host)
        err.print(f"icp-mcp serving {archive} at {settings.url}"
                  f"{' (read-only)' if read_only else ''}{' with policy ' + policy if policy else ''}", highlight=False)
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        if channel is not None:
            channel.stop()
        handle.close()


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _parse_value(raw: str, schema: dict[str, Any] | None) -> Any:
    """JSON when it parses (numbers, lists, objects, booleans) unless the field only takes text."""
    types: set[str] = set()
    if schema:
        for option in schema.get("anyOf", [schema]):
            kind = option.get("type")  # a string, or a list such as ["string", "null"] (lean schemas)
            types.update(kind if isinstance(kind, list) else [kind] if kind else [])
    if types and types <= {"string", "null"}:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def parse_args(pairs: list[str], input_schema: dict[str, Any]) -> dict[str, Any]:
    """`key=value` pairs into tool arguments, typed by the tool's input schema."""
    properties = input_schema.get("properties", {})
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--arg: expected key=value, got {pair!r}")
        if key not in properties:
            raise ValueError(f"--arg {key}: unknown argument (allowed: {', '.join(properties) or 'none'})")
        out[key] = _parse_value(raw, properties.get(key))
    return out


async def _terminal_confirm(context: Any, params: Any) -> Any:
    """Elicitation on the terminal: ask yes/no for each boolean field (used by `call` on a TTY)."""
    from mcp.types import ElicitResult

    err.print(params.message, highlight=False)
    schema = getattr(params, "requested_schema", {}) or {}
    content: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if prop.get("type") == "boolean":
            content[name] = typer.confirm(prop.get("description", name), default=False, err=True)
        else:
            content[name] = typer.prompt(prop.get("description", name), err=True)
    return ElicitResult(action="accept", content=content)


def open_handle(archive: str) -> ArchiveHandle:
    """Open read-write (so writes and the audit log work); read-only when another process reads the file
    read-only too, or when the file is read-only for this user. One-line `ArchiveError` otherwise."""
    from icp_mcp.archive.opening import ArchiveLocked, ArchiveNotWritable
    from icp_mcp.surface.archive_access import ArchiveHandle

    try:
        return ArchiveHandle(archive)
    except (ArchiveLocked, ArchiveNotWritable):
        return ArchiveHandle(archive, read_only=True)  # a read-only holder shares the file; others: one line


def mcp_target(archive: str, policy: str | None) -> tuple[Any, Any]:
    """What an in-process MCP client talks to: the server holding the archive (its control channel) or a
    server built here; and the handle to close afterwards (None for the channel)."""
    from icp_mcp.server import control

    holder = control.find_holder(archive)
    if holder is not None:
        return control.channel_transport(holder), None
    server = _server_over(open_handle(archive), policy=policy)
    return server, archive_of(server)


def _server_over(handle: ArchiveHandle, **options: Any) -> Any:
    """`build_server` over an archive this process has opened (`handle`), closed again when the server cannot
    be built. The archive is opened first, so an unusable one is said in ~1 s, before the MCP SDK's import
    (~1.5 s)."""
    from icp_mcp.server.app import build_server

    try:
        return build_server(handle.target, handle=handle, **options)
    except BaseException:
        handle.close()
        raise


def archive_of(server: Any) -> ArchiveHandle:
    from icp_mcp.server.app import archive_of as of

    return of(server)


async def call_tool(archive: str, tool: str, pairs: list[str], *, policy: str | None = None,
                    interactive: bool = False) -> tuple[bool, Any]:
    """Call one tool through an MCP client (in-memory, or the holder's channel); (is_error, result or message)."""
    target, handle = mcp_target(archive, policy)  # the archive opened before the MCP SDK is imported
    from mcp import Client

    usage: ValueError | None = None
    try:
        async with Client(target, elicitation_callback=_terminal_confirm if interactive else None) as client:
            listed = {t.name: t for t in (await client.list_tools()).tools}
            try:  # raised outside the client's task group, so it stays one plain error
                if tool not in listed:
                    raise ValueError(f"TOOL: unknown tool {tool!r} (allowed: {', '.join(sorted(listed))})")
                arguments = parse_args(pairs, listed[tool].input_schema)
            except ValueError as exc:
                usage = exc
            else:
                result = await client.call_tool(tool, arguments)
    finally:
        if handle is not None:
            handle.close()
    if usage is not None:
        raise usage
    if result.is_error:
        return True, " ".join(getattr(c, "text", "") for c in result.content).strip()
    if result.structured_content is not None:
        return False, result.structured_content
    return False, " ".join(getattr(c, "text", "") for c in result.content)


def call(
    tool: str = typer.Argument(..., help="tool name, e.g. score_account"),
    archive: str = typer.Option(..., "--archive", help=ARCHIVE_HELP),
    arg: list[str] = typer.Option([], "--arg", help="key=value (repeatable); values parse as JSON when they can"),
    as_json: bool = typer.Option(False, "--json", help="print the raw structured result as JSON"),
    policy: str | None = typer.Option(None, "--policy", help="act as this policy's local caller"),
) -> None:
    """Call one MCP tool and print its structured result (non-zero exit on a tool error)."""
    from rich.console import Console
    import anyio

    try:
        is_error, payload = anyio.run(lambda: call_tool(archive, tool, arg, policy=policy,
                                                        interactive=sys.stdin.isatty()))
    except (ArchiveError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    if is_error:
        raise _fail(str(payload), code=1)
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        Console().print_json(data=payload) if isinstance(payload, (dict, list)) else print(payload)


def ask_command(
    question: str = typer.Argument(..., help="the question, in plain words"),
    archive: str = typer.Option(..., "--archive", help=ARCHIVE_HELP),
    model: str = typer.Option(DEFAULT_MODEL, "--model", help="Claude model"),
    max_turns: int = typer.Option(MAX_TURNS, "--max-turns", help="most model turns before giving up"),
    policy: str | None = typer.Option(None, "--policy", help="act as this policy's local caller"),
) -> None:
    """Ask Claude a question; it answers with the server's tools and cites them (needs ANTHROPIC_API_KEY)."""
    import anyio

    from icp_mcp.surface.settings import MissingAPIKey, require_api_key

    try:
        require_api_key()
    except MissingAPIKey as exc:
        raise _fail(str(exc)) from exc
    try:
        target, handle = mcp_target(archive, policy)
    except (ArchiveError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    from icp_mcp.server.agent import AgentFailure, ask
    try:
        answer = anyio.run(lambda: ask(target, question, model=model, max_turns=max_turns))
    except AgentFailure as exc:  # rejected key, unreachable API, rate limit, overloaded: the cause in one line
        raise _fail(f"ask: {exc}") from None
    except Exception as exc:  # anything else: still one line, no traceback
        first = next(iter(exc.exceptions), exc) if isinstance(exc, BaseExceptionGroup) else exc
        raise _fail(f"ask failed: {type(first).__name__}: {str(first).splitlines()[0][:300] if str(first) else ''}",
                    code=1) from None
    finally:
        if handle is not None:
            handle.close()
    print(answer.text.strip())
    if answer.calls:
        print("\nTools used:\n" + answer.citations())


def register(app: typer.Typer) -> None:
    """Attach `serve`, `call` and `ask` to the CLI."""
    app.command("serve")(serve)
    app.command("call")(call)
    app.command("ask")(ask_command)

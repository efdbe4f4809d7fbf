"""The local control channel: one writer, many entry points (issue 13).

DuckDB lets one process write a file. A server holding a DuckDB archive (`icp-mcp serve`, stdio or HTTP,
not `--read-only`) listens on a Unix socket beside it (`<archive>.icp-mcp.sock`, mode 0600, and only
connections from the same user id are served; no network). Through it

- the write commands (`ingest`, `icp derive|import|activate|rollback`) are carried out by the holder, in
  its single writer path (`ArchiveHandle.queued_write`): queued behind a write in progress with a line
  saying so, progress streamed back, the same result and exit codes as a direct run;
- `call`, `ask`, `audit tail` and a second stdio server (a second desktop window) speak MCP to the holder's
  server (`{"op": "mcp"}`, then MCP JSON-RPC lines), so reads, writes, permissions (the holder's local
  caller) and audit are the holder's.

Wire format: one JSON header line from the client (`{"op": …, "args": {…}}`), then JSON lines from the
server: `{"queued": text}`, `{"progress": [done, total, message]}`, and one `{"result": …}` or
`{"error": {"message", "code", "candidates"}}`. PostgreSQL archives have no channel (every process may
write them).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import struct
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import SocketAttribute, SocketStream
from anyio.streams.buffered import BufferedByteReceiveStream

from icp_mcp.server.write_ops import OPS, READ_OPS, OpError, run_op, run_read
from icp_mcp.surface.archive_access import ArchiveHandle

logger = logging.getLogger(__name__)

SUFFIX = ".icp-mcp.sock"
MAX_LINE = 64 * 1024 * 1024
_MAX_UNIX_PATH = 100  # sun_path is 108 bytes on Linux, 104 on macOS


class ChannelLost(Exception):
    """The holder went away before the command finished (its transaction did not commit)."""


def socket_path(archive: str | os.PathLike[str]) -> Path:
    """Where the holder of `archive` listens: beside the file, or (path too long for a socket) in a private
    per-user folder under the temp directory, named by a hash of the archive's path."""
    path = Path(archive).expanduser().resolve()
    beside = path.with_name(path.name + SUFFIX)
    if len(str(beside).encode()) <= _MAX_UNIX_PATH:
        return beside
    folder = Path(tempfile.gettempdir()) / f"icp-mcp-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / (hashlib.sha256(str(path).encode()).hexdigest()[:24] + ".sock")


def _line(obj: Any) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, default=str) + "\n").encode()


def _peer_uid(sock: socket.socket) -> int | None:
    """The connecting process's user id (Linux SO_PEERCRED); None where the platform does not say."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", raw)[1]


# --- the holder's side ------------------------------------------------------------------------------


class ControlServer:
    """Listens beside the archive in a thread of its own (an anyio event loop) while the server runs."""

    def __init__(self, handle: ArchiveHandle, mcp_server: Any, archive: str, description: str) -> None:
        self.handle, self.mcp_server, self.description = handle, mcp_server, description
        self.path = socket_path(archive)
        self.archive = str(Path(archive).expanduser().resolve())
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: anyio.Event | None = None
        self._portal_token: Any = None
        self._error: BaseException | None = None

    def start(self) -> ControlServer:
        """Bind the socket (replacing a stale one: this process holds the archive's lock) and serve."""
        self._thread = threading.Thread(target=self._run, name="icp-mcp-control", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        """Stop listening and remove the socket file."""
        if self._stop is not None and self._portal_token is not None:
            try:
                anyio.from_thread.run_sync(self._stop.set, token=self._portal_token)
            except Exception:  # the loop is already gone
                pass
        if self._thread is not None:
            self._thread.join(5)
        self._unlink()

    def _unlink(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def _run(self) -> None:
        try:
            anyio.run(self._main)
        except BaseException as exc:  # noqa: BLE001 - reported to start() or logged
            self._error = exc
            self._ready.set()
            logger.warning("control channel stopped: %s", exc)

    async def _main(self) -> None:
        self._stop = anyio.Event()
        self._portal_token = anyio.lowlevel.current_token()
        self._unlink()
        old = os.umask(0o177)
        try:
            listener = await anyio.create_unix_listener(self.path)
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        self._ready.set()
        async with listener, anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, self._handle, tg)
            await self._stop.wait()
            tg.cancel_scope.cancel()

    async def _handle(self, stream: SocketStream) -> None:
        async with stream:
            raw = stream.extra(SocketAttribute.raw_socket)
            uid = _peer_uid(raw)
            if uid is not None and uid != os.getuid():
                await stream.send(_line({"error": {"message": "refused: the archive's control channel serves only "
                                                   "its owner", "code": 2, "candidates": []}}))
                return
            reader = BufferedByteReceiveStream(stream)
            try:
                header = json.loads(await reader.receive_until(b"\n", MAX_LINE))
            except Exception:
                return
            op = header.get("op") if isinstance(header, dict) else None
            try:
                if op == "ping":
                    await stream.send(_line({"result": self.info()}))
                elif op == "mcp":
                    await stream.send(_line({"ready": True, **self.info()}))
                    await self._mcp_session(stream, reader)
                elif op in OPS:
                    await self._write(stream, op, header.get("args") or {}, header.get("client") or "a CLI command")
                elif op in READ_OPS:
                    await self._read(stream, op, header.get("args") or {})
                else:
                    await stream.send(_line({"error": {"message": f"unknown operation {op!r}", "code": 2,
                                                       "candidates": sorted([*OPS, *READ_OPS, "mcp", "ping"])}}))
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream):
                pass  # the client went away

    def info(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "archive": self.archive, "server": self.description}

    async def _write(self, stream: SocketStream, op: str, args: dict[str, Any], client: str) -> None:
        token = anyio.lowlevel.current_token()

        def send(obj: Any) -> None:
            try:
                anyio.from_thread.run(stream.send, _line(obj), token=token)
            except Exception:  # the client went away; the command still completes (or rolls back) here
                pass

        def progress(done: float, total: float | None, message: str) -> None:
            send({"progress": [done, total, message]})

        def on_wait(current: str) -> None:
            send({"queued": f"queued: {current} is in progress on this archive; yours runs when it is done"})

        def work() -> dict[str, Any]:
            return self.handle.queued_write(f"{OPS[op]} ({client})", on_wait, run_op, op, args, progress)

        try:
            result = await anyio.to_thread.run_sync(work)
        except OpError as exc:
            await stream.send(_line({"error": exc.to_dict()}))
            return
        except Exception as exc:  # noqa: BLE001 - one line to the client, the traceback to the server log
            logger.exception("control: %s failed", op)
            await stream.send(_line({"error": {"message": f"{op} failed in the server (PID {os.getpid()}): "
                                               f"{type(exc).__name__}: {str(exc)[:300]}", "code": 1,
                                               "candidates": []}}))
            return
        await stream.send(_line({"result": result}))

    async def _read(self, stream: SocketStream, op: str, args: dict[str, Any]) -> None:
        try:
            rows = await anyio.to_thread.run_sync(run_read, self.handle.reader, op, args)
        except OpError as exc:
            await stream.send(_line({"error": exc.to_dict()}))
            return
        await stream.send(_line({"result": {"rows": rows}}))

    async def _mcp_session(self, stream: SocketStream, reader: BufferedByteReceiveStream) -> None:
        """Serve one MCP session over the connection with the holder's server (as its stdio would)."""
        low = self.mcp_server._lowlevel_server
        async with _line_streams(stream, reader) as (read_stream, write_stream):
            await low.run(read_stream, write_stream, low.create_initialization_options())


@asynccontextmanager
async def _line_streams(stream: SocketStream, reader: BufferedByteReceiveStream) -> AsyncIterator[tuple[Any, Any]]:
    """MCP session streams over JSON-RPC lines on a socket (the stdio transport's framing)."""
    import mcp_types as types
    from mcp.shared._context_streams import create_context_streams
    from mcp.shared.message import SessionMessage

    read_writer, read_stream = create_context_streams[SessionMessage | Exception](0)
    write_stream, write_reader = create_context_streams[SessionMessage](0)

    async def inbound() -> None:
        async with read_writer:
            while True:
                try:
                    line = await reader.receive_until(b"\n", MAX_LINE)
                except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError,
                        anyio.ClosedResourceError):
                    return
                try:
                    message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
                except Exception as exc:  # noqa: BLE001 - handed to the session, as stdio does
                    await read_writer.send(exc)
                    continue
                await read_writer.send(SessionMessage(message))

    async def outbound() -> None:
        async with write_reader:
            async for message in write_reader:
                text = message.message.model_dump_json(by_alias=True, exclude_unset=True)
                try:
                    await stream.send(text.encode() + b"\n")
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return

    async with anyio.create_task_group() as tg:
        tg.start_soon(inbound)
        tg.start_soon(outbound)
        try:
            yield read_stream, write_stream
        finally:
            tg.cancel_scope.cancel()


# --- the client's side ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """A live server holding the archive, as its channel describes itself."""

    pid: int
    server: str
    socket: Path

    def __str__(self) -> str:
        return f"PID {self.pid} ({self.server})"


def _connect(path: Path, timeout: float) -> socket.socket | None:
    if not path.exists():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
    except OSError:  # ECONNREFUSED: a stale socket of a server that was killed
        sock.close()
        return None
    return sock


def find_holder(archive: str | os.PathLike[str], timeout: float = 3.0) -> Holder | None:
    """The server holding `archive` through its control channel, or None (no server, or a stale socket)."""
    if "://" in str(archive):
        return None
    path = socket_path(archive)
    sock = _connect(path, timeout)
    if sock is None:
        return None
    try:
        sock.sendall(_line({"op": "ping"}))
        reply = json.loads(sock.makefile("rb").readline() or b"{}")
        info = reply.get("result") or {}
        return Holder(int(info["pid"]), str(info.get("server", "icp-mcp serve")), path)
    except (OSError, ValueError, KeyError):
        return None
    finally:
        sock.close()


def request(
    holder: Holder,
    op: str,
    args: dict[str, Any],
    *,
    client: str,
    on_progress: Callable[[float, float | None, str], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Have the holder carry out write command `op`; its result, or `OpError` / `ChannelLost`."""
    sock = _connect(holder.socket, timeout=10)
    if sock is None:
        raise ChannelLost(f"the server holding the archive ({holder}) is gone")
    try:
        sock.settimeout(None)  # a long ingest queued behind another may take a while
        sock.sendall(_line({"op": op, "args": args, "client": client}))
        for raw in sock.makefile("rb"):
            message = json.loads(raw)
            if "progress" in message and on_progress:
                on_progress(*message["progress"])
            elif "queued" in message and on_notice:
                on_notice(message["queued"])
            elif "result" in message:
                return dict(message["result"])
            elif "error" in message:
                error = message["error"]
                raise OpError(error.get("message", "failed"), int(error.get("code", 1)), error.get("candidates"),
                              str(error.get("label", "error")))
    finally:
        sock.close()
    raise ChannelLost(f"the server holding the archive ({holder}) stopped before {op} finished; its transaction "
                      "did not commit, so the archive is as it was: run the command again")


@asynccontextmanager
async def channel_transport(holder: Holder) -> AsyncIterator[tuple[Any, Any]]:
    """An MCP client transport to the holder's server (`mcp.Client(channel_transport(h))`)."""
    stream = await anyio.connect_unix(str(holder.socket))
    async with stream:
        await stream.send(_line({"op": "mcp"}))
        reader = BufferedByteReceiveStream(stream)
        json.loads(await reader.receive_until(b"\n", MAX_LINE))
        async with _line_streams(stream, reader) as streams:
            yield streams


def pipe_stdio(holder: Holder) -> int:
    """Be a stdio MCP server by relaying this process's stdin / stdout to the holder's server.

    Returns the exit code: 0 when the client closed stdin, 1 when the holder went away.
    """
    sock = _connect(holder.socket, timeout=10)
    if sock is None:
        return 1
    sock.settimeout(None)
    sock.sendall(_line({"op": "mcp"}))
    inbound = sock.makefile("rb")
    inbound.readline()  # {"ready": true, …}
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    closed_by_client = threading.Event()

    def upstream() -> None:
        try:
            while chunk := stdin.readline():
                sock.sendall(chunk)
        except OSError:
            pass
        closed_by_client.set()
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    threading.Thread(target=upstream, name="icp-mcp-relay", daemon=True).start()
    try:
        while line := inbound.readline():
            stdout.write(line)
            stdout.flush()
    except OSError:
        pass
    return 0 if closed_by_client.is_set() else 1

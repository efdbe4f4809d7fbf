"""`icp-mcp ask` fails in one line naming the cause (issue 15): a rejected key, a rate limit, an overloaded API
(scripted by the loopback fake of the Messages API) and an unreachable API (nothing listening); exit code 2,
never an ExceptionGroup or a traceback."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from fake_anthropic import FakeAnthropic
from test_server_transports import ICP_MCP


def _error(status: int, kind: str, message: str):
    return lambda body: (status, {"type": "error", "error": {"type": kind, "message": message}})


def _ask(archive, base_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANTHROPIC_API_KEY": "sk-test-fake", "ANTHROPIC_BASE_URL": base_url, "COLUMNS": "200"}
    return subprocess.run([*ICP_MCP, "ask", "Does A0000042 fit?", "--archive", str(archive)],
                          capture_output=True, text=True, timeout=120, env=env)


def _one_line(out: subprocess.CompletedProcess) -> str:
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert len(lines) == 1, out.stderr
    assert "ExceptionGroup" not in out.stderr and "Traceback" not in out.stderr and "TaskGroup" not in out.stderr
    return lines[0]


@pytest.mark.parametrize("status, kind, expected", [
    (401, "authentication_error", "rejected the key"),
    (429, "rate_limit_error", "rate limit"),
    (529, "overloaded_error", "overloaded"),
])
def test_api_failures_give_one_line_naming_the_cause(archive_path, status, kind, expected):
    steps = [_error(status, kind, f"scripted {kind}")] * 3  # the SDK retries once
    with FakeAnthropic(steps) as fake:
        line = _one_line(_ask(archive_path, fake.base_url))
    assert expected in line and str(status) in line, line


def test_unreachable_api_gives_one_line(archive_path):
    with socket.socket() as sock:  # a free loopback port with nothing listening on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    line = _one_line(_ask(archive_path, f"http://127.0.0.1:{port}"))
    assert "cannot reach the Anthropic API" in line and str(port) in line, line

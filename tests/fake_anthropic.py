"""A fake Anthropic Messages API on loopback, for testing `icp-mcp ask` without the real API.

`FakeAnthropic` serves POST /v1/messages (with or without `?beta=true`) from a thread with the standard
library's HTTP server. Each request is answered by the next scripted step: a function that receives the
request body (so a test can check, say, that a tool_result came back) and returns the assistant turn.
Every request is kept in `requests` for later assertions.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Step = Callable[[dict[str, Any]], dict[str, Any]]


def message(content: list[dict[str, Any]], stop_reason: str, model: str = "claude-fake") -> dict[str, Any]:
    """A Messages API response body."""
    return {
        "id": f"msg_{abs(hash(json.dumps(content))) % 10**8}", "type": "message", "role": "assistant",
        "model": model, "content": content, "stop_reason": stop_reason, "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 10},
    }


def tool_use(name: str, arguments: dict[str, Any], tool_id: str = "toolu_01") -> dict[str, Any]:
    """An assistant turn that asks for one tool call."""
    return message([{"type": "tool_use", "id": tool_id, "name": name, "input": arguments}], "tool_use")


def text(answer: str) -> dict[str, Any]:
    """A final assistant turn."""
    return message([{"type": "text", "text": answer}], "end_turn")


class FakeAnthropic:
    """Context manager: a scripted Messages API at `base_url` (set ANTHROPIC_BASE_URL to it)."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = list(steps)
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.errors: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(body)
                fake.paths.append(self.path)
                fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                if not self.path.startswith("/v1/messages"):
                    return self._send(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})
                if not fake.steps:
                    fake.errors.append("no scripted step left")
                    return self._send(500, {"type": "error", "error": {"type": "api_error", "message": "script ended"}})
                step = fake.steps.pop(0)
                try:
                    reply = step(body)
                except AssertionError as exc:  # surface the failed check to the test
                    fake.errors.append(f"step check failed: {exc}")
                    return self._send(400, {"type": "error", "error": {"type": "invalid_request_error",
                                                                         "message": str(exc)}})
                if isinstance(reply, tuple):  # (status, error body): a scripted API failure
                    return self._send(*reply)
                return self._send(200, reply)

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.send_header("request-id", "req_fake")
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeAnthropic:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

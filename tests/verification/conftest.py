"""Fixtures for the registry tests: the real registry files, and a loopback HTTP server that
serves them on the offices' real paths (or misbehaves on demand)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings


@pytest.fixture(scope="session")
def registry_dir() -> Path:
    path = Path(settings.SHARED_DATA_DIR) / "registry"
    if not path.is_dir():
        pytest.skip(f"the shared registry files are not on this machine ({path}); set SHARED_DATA_DIR")
    return path


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # lets the concurrency test see overlapping requests, if any


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


class FakeRegistry:
    """Routes (method, path) to a queue of replies; the last reply repeats. Unknown paths 404."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Reply]] = {}
        self.seen: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.url = ""

    def add(self, path: str, *replies: Reply, method: str = "GET") -> None:
        self.routes[(method, path)] = list(replies)

    def serve_file(self, path: str, file: Path, content_type: str, method: str = "GET") -> None:
        self.add(path, Reply(body=file.read_bytes(), headers={"Content-Type": content_type}), method=method)

    def next_reply(self, method: str, path: str) -> Reply:
        with self.lock:
            queue = self.routes.get((method, path))
            if not queue:
                body = json.dumps({"code": 404, "error": "Not Found"}).encode()
                return Reply(status=404, body=body, headers={"Content-Type": "application/json"})
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]


def _handler(registry: FakeRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def _answer(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with registry.lock:
                registry.seen.append(
                    Seen(
                        method, parts.path, parse_qs(parts.query), {k.lower(): v for k, v in self.headers.items()}, body
                    )
                )
                registry.in_flight += 1
                registry.max_in_flight = max(registry.max_in_flight, registry.in_flight)
            try:
                reply = registry.next_reply(method, parts.path)
                if reply.delay:
                    threading.Event().wait(reply.delay)
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            finally:
                with registry.lock:
                    registry.in_flight -= 1

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

    return Handler


@pytest.fixture
def fake_registry() -> Iterator[FakeRegistry]:
    registry = FakeRegistry()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(registry))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    registry.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield registry
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


FAST = {"min_interval": 0.0, "backoff_base": 0.0, "backoff_max": 0.0, "connect_timeout": 2.0, "read_timeout": 5.0}


@pytest.fixture
def fast_registries(settings, fake_registry: FakeRegistry) -> FakeRegistry:
    """Every office pointed at the loopback server, with no pacing or backoff waits."""
    settings.USPTO_ODP_BASE_URL = f"{fake_registry.url}/uspto-odp"
    settings.USPTO_TSDR_BASE_URL = f"{fake_registry.url}/tsdr"
    settings.USPTO_ASSIGNMENT_BASE_URL = f"{fake_registry.url}/uspto-assignment"
    settings.EUIPO_BASE_URL = f"{fake_registry.url}/euipo"
    settings.EPO_OPS_BASE_URL = f"{fake_registry.url}/epo-ops/3.2"
    settings.REGISTRY_HTTP_POLICIES = {
        office: dict(FAST) for office in ("uspto_odp", "tsdr", "uspto_assignment", "euipo", "epo_ops")
    }
    settings.REGISTRY_REDIS_LOCKS = False
    return fake_registry

"""The sandbox registry's own server (`run_sandbox_registry`): connections kept alive, as the
offices keep them, and answers sent without waiting on Nagle's algorithm."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import date
from typing import cast

import pytest
import requests

from sandbox_registry import server as sandbox_server
from sandbox_registry.sample import sample_seeds
from sandbox_registry.services import register_seed

ODP = "/uspto-odp/api/v1/patent/applications"


@pytest.fixture
def served(transactional_db, monkeypatch) -> Iterator[tuple[str, list[int]]]:
    """The sandbox, seeded with its sample, served by `server_make` on a free port; yields its
    URL and, per connection accepted, whether TCP_NODELAY was set on it."""
    register_seed(seeds=sample_seeds(today=date(2025, 1, 1)))
    nodelay: list[int] = []
    setup = sandbox_server.SandboxRequestHandler.setup

    def recording_setup(handler: sandbox_server.SandboxRequestHandler) -> None:
        setup(handler)
        connection = cast(socket.socket, handler.connection)
        nodelay.append(connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(sandbox_server.SandboxRequestHandler, "setup", recording_setup)
    monkeypatch.setattr(sandbox_server.SandboxRequestHandler, "log_message", lambda *args: None)
    httpd = sandbox_server.server_make("127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", nodelay
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_answers_come_on_one_kept_alive_connection_without_nagle(served):
    url, nodelay = served
    session = requests.Session()
    headers = {"X-API-KEY": "sandbox"}

    first = session.get(f"{url}{ODP}/15123456", headers=headers, timeout=10)
    second = session.get(f"{url}{ODP}/15123456/assignment", headers=headers, timeout=10)
    unknown = session.get(f"{url}{ODP}/19999999", headers=headers, timeout=10)

    assert [first.status_code, second.status_code, unknown.status_code] == [200, 200, 404]
    assert first.json()["patentBag"][0]["applicationNumberText"] == "15123456"
    assert nodelay == [1]  # one connection for the three answers, with TCP_NODELAY on


def test_only_the_sandboxs_paths_are_served(served):
    url, _ = served

    assert requests.get(f"{url}/admin/", timeout=10).status_code == 404
    assert requests.get(f"{url}{ODP}/15123456", timeout=10).status_code == 403  # no API key

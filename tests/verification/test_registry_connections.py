"""How the registry clients reach the offices: kept-alive connections (one per office, process
and thread, never a cookie carried from one read to the next) and the pacing each office gets,
the sandbox registry's none, the real offices' always theirs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

from verification.registries import http as registry_http
from verification.registries.http import RegistryHttp, policy_for

ODP_PATH = "/uspto-odp/api/v1/patent/applications/15123456"


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


class _CountingServer(ThreadedWSGIServer):
    """An HTTP/1.1 server that keeps connections alive (as the offices do) and counts them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections = 0
        self.cookies_seen: list[str] = []

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections += 1
        super().process_request(request, client_address)


@pytest.fixture
def keepalive_office() -> Iterator[_CountingServer]:
    server = _CountingServer(("127.0.0.1", 0), _Quiet)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        server.cookies_seen.append(environ.get("HTTP_COOKIE", ""))
        body = b'{"count": 0}'
        start_response(
            "200 OK",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("Set-Cookie", "visit=1")],
        )
        return [body]

    server.set_app(app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_reads_share_one_kept_alive_connection_and_no_cookie(keepalive_office, settings):
    settings.REGISTRY_REDIS_LOCKS = False
    url = f"http://127.0.0.1:{keepalive_office.server_address[1]}{ODP_PATH}"
    # A fresh client for each read, as register_read makes one per run.
    for _ in range(3):
        RegistryHttp(office="test_keepalive").get(url, expect="json")

    assert keepalive_office.connections == 1
    assert keepalive_office.cookies_seen == ["", "", ""]


def test_a_forked_worker_opens_its_own_connections(monkeypatch):
    parent = registry_http._connection_pool("test_fork")
    assert registry_http._connection_pool("test_fork") is parent
    assert registry_http._connection_pool("test_fork_other") is not parent

    monkeypatch.setattr(registry_http.os, "getpid", lambda: -1)

    assert registry_http._connection_pool("test_fork") is not parent


def test_a_thread_opens_its_own_connections():
    here = registry_http._connection_pool("test_thread")
    there: list[object] = []
    thread = threading.Thread(target=lambda: there.append(registry_http._connection_pool("test_thread")))
    thread.start()
    thread.join()

    assert len(there) == 1
    assert there[0] is not here


SANDBOX = "http://127.0.0.1:8421"


@pytest.fixture
def sandbox_settings(settings):
    settings.SANDBOX_REGISTRY_URL = SANDBOX
    settings.SANDBOX_REGISTRY_UNPACED = True
    settings.REGISTRY_HTTP_POLICIES = {}
    settings.USPTO_ODP_BASE_URL = f"{SANDBOX}/uspto-odp"
    settings.USPTO_TSDR_BASE_URL = f"{SANDBOX}/tsdr"
    return settings


def test_the_sandbox_registry_is_read_without_the_offices_pacing(sandbox_settings):
    odp, tsdr = policy_for("uspto_odp"), policy_for("tsdr")

    assert (odp.exclusive, odp.min_interval) == (False, 0.0)
    assert tsdr.min_interval == 0.0
    # Timeouts and retries stay the office's.
    assert (odp.max_attempts, odp.read_timeout) == (4, 30.0)


@pytest.mark.parametrize(
    "base_url",
    [
        "https://api.uspto.gov",
        "http://127.0.0.1:84210/uspto-odp",  # the sandbox's address is a prefix of it, but it is another port
        "http://127.0.0.1:8422/uspto-odp",
    ],
)
def test_the_real_odp_keeps_one_request_at_a_time_and_its_pace(sandbox_settings, base_url):
    sandbox_settings.USPTO_ODP_BASE_URL = base_url

    odp = policy_for("uspto_odp")

    assert (odp.exclusive, odp.min_interval) == (True, 0.2)


def test_the_sandbox_is_paced_like_the_office_when_the_setting_is_off(sandbox_settings):
    sandbox_settings.SANDBOX_REGISTRY_UNPACED = False

    odp = policy_for("uspto_odp")

    assert (odp.exclusive, odp.min_interval) == (True, 0.2)


def test_explicit_overrides_still_apply_over_the_sandbox_policy(sandbox_settings):
    sandbox_settings.REGISTRY_HTTP_POLICIES = {"uspto_odp": {"min_interval": 0.05, "max_attempts": 1}}

    odp = policy_for("uspto_odp")

    assert (odp.exclusive, odp.min_interval, odp.max_attempts) == (False, 0.05, 1)

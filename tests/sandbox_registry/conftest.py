"""The sandbox registry served on a loopback port by a thread, as `run_sandbox_registry` serves it,
with every registry client pointed at it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

from sandbox_registry.sample import sample_seeds
from sandbox_registry.server import application
from sandbox_registry.services import register_seed

FAST = {"min_interval": 0.0, "backoff_base": 0.0, "backoff_max": 0.0, "connect_timeout": 2.0, "read_timeout": 10.0}


class Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def sandbox_url(transactional_db) -> Iterator[str]:
    server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet, allow_reuse_address=True)
    server.set_app(application())
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def sandbox(settings, sandbox_url: str) -> str:
    settings.USPTO_ODP_BASE_URL = f"{sandbox_url}/uspto-odp"
    settings.USPTO_TSDR_BASE_URL = f"{sandbox_url}/tsdr"
    settings.USPTO_ASSIGNMENT_BASE_URL = f"{sandbox_url}/uspto-assignment"
    settings.EUIPO_BASE_URL = f"{sandbox_url}/euipo"
    settings.EUIPO_TOKEN_URL = ""
    settings.EPO_OPS_BASE_URL = f"{sandbox_url}/epo-ops/3.2"
    settings.REGISTRY_HTTP_POLICIES = {
        office: dict(FAST, max_attempts=1) for office in ("uspto_odp", "tsdr", "uspto_assignment", "euipo", "epo_ops")
    }
    settings.REGISTRY_REDIS_LOCKS = False
    return sandbox_url


@pytest.fixture
def seeded_sample(sandbox: str) -> str:
    register_seed(seeds=sample_seeds(today=date(2025, 1, 1)))
    return sandbox

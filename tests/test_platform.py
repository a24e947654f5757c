"""The platform around the apps: health, the API schema, production settings, `make run`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
PRODUCTION_ENV = {
    "SECRET_KEY": "p9#vQ2!xL7@mN4$rT8^wY1&zK6*bH3(jD5)fG0_sA-eC+uI=oP",
    "ALLOWED_HOSTS": "market.example.com",
    "DATABASE_URL": settings.DATABASES["default"].get("URL", "postgres://postgres@127.0.0.1:54329/marketplace"),
    "REDIS_URL": settings.REDIS_URL,
    "STRIPE_SECRET_KEY": "sk_live_example",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_example",
    "STRIPE_WEBHOOK_SECRET": "whsec_example",
}


def _environment(**overrides: str) -> dict[str, str]:
    # The browser tests' allowance for the ORM beside Playwright's loop is no deployment setting.
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in PRODUCTION_ENV and key != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env["DJANGO_SETTINGS_MODULE"] = "marketplace.settings.production"
    env.update(overrides)
    return env


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = _environment(**{key: value for key, value in PRODUCTION_ENV.items() if key != "SECRET_KEY"})

    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=False
    )

    assert result.returncode != 0
    assert "not set: SECRET_KEY." in result.stderr


def test_production_settings_name_every_missing_variable():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env=_environment(),
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert "SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL, STRIPE_SECRET_KEY" in result.stderr


def test_production_settings_pass_the_deployment_checklist():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=_environment(**PRODUCTION_ENV),
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_make_run_says_when_its_port_is_busy_and_how_to_pick_another():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        result = subprocess.run(
            [sys.executable, "-m", "marketplace.devstack", "run"],
            cwd=BASE_DIR,
            env={**os.environ, "PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 1
    assert f"Port {port} is busy" in result.stderr
    assert f"PORT={port + 1} make run" in result.stderr


@pytest.mark.django_db
def test_the_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/me/" in document["paths"]
    assert "/api/v1/tokens/" in document["paths"]
    assert docs.status_code == 200
    # The interactive docs load their assets from our own static files, never a CDN.
    assert "cdn" not in docs.content.decode().lower()


@pytest.mark.django_db
def test_the_home_page_has_a_search_box(client):
    response = client.get("/")

    assert response.status_code == 200
    assert 'role="search"' in response.content.decode()


@pytest.fixture
def celery_worker_process():
    """A real Celery worker on the suite's Redis, stopped by the test itself."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "marketplace.settings.test"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "marketplace",
            "worker",
            "--pool",
            "solo",
            "--hostname",
            f"healthz-test-{os.getpid()}@%h",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "warning",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def _wait_for_status(client, status: int, seconds: float = 45.0):
    deadline = time.monotonic() + seconds
    while True:
        response = client.get("/healthz/")
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


@pytest.mark.services
@pytest.mark.django_db
def test_healthz_turns_503_when_the_worker_stops(client, celery_worker_process):
    up = _wait_for_status(client, 200)
    assert up.status_code == 200, up.json()
    assert up.json() == {"database": "ok", "redis": "ok", "worker": "ok", "status": "ok"}

    celery_worker_process.terminate()
    celery_worker_process.wait(30)
    down = _wait_for_status(client, 503)

    assert down.status_code == 503
    assert down.json()["worker"] == "no Celery worker answered"
    assert down.json()["database"] == "ok"


@pytest.mark.django_db
def test_healthz_reports_redis_down(client, settings):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"

    response = client.get("/healthz/")

    assert response.status_code == 503
    assert response.json()["redis"].startswith("ConnectionError")

"""Liveness of what the marketplace depends on: the database, Redis and a Celery worker.

Each probe returns None when healthy or a short reason; `/healthz/` answers 503 when any fails.
"""

import redis
from django.conf import settings
from django.db import connection

from marketplace.celery import app as celery_app

# Short enough that a load balancer's probe never waits on a dead dependency for long.
PROBE_TIMEOUT_SECONDS = 1.0


def database_problem() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # noqa: BLE001 - any failure means "down", with its reason
        return f"{type(error).__name__}: {error}"
    return None


def redis_problem() -> str | None:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=PROBE_TIMEOUT_SECONDS, socket_connect_timeout=PROBE_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as error:
        return f"{type(error).__name__}: {error}"
    finally:
        client.close()
    return None


def worker_problem() -> str | None:
    """Ask every worker to answer a broadcast ping; none answering in time means none is up."""
    try:
        replies = celery_app.control.ping(timeout=PROBE_TIMEOUT_SECONDS)
    except Exception as error:  # noqa: BLE001 - a broker failure is reported, not raised
        return f"{type(error).__name__}: {error}"
    if not replies:
        return "no Celery worker answered"
    return None

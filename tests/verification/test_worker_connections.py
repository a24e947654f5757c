"""The verification worker keeps its database connections between tasks (Celery's Django fixup
would close the connection pool after every task; see CELERY_DB_REUSE_MAX), handing each task's
connection back to the pool as Django does after a request."""

from __future__ import annotations

import weakref
from types import SimpleNamespace

import pytest
from celery import signals
from django.conf import settings
from django.db import connection

from marketplace.celery import app, database_connections_tidy


def test_celery_keeps_the_pool_between_tasks():
    assert settings.CELERY_DB_REUSE_MAX >= 100
    # What Celery's Django fixup reads to decide whether to close the pool at a task's end.
    assert app.conf.get("CELERY_DB_REUSE_MAX") == settings.CELERY_DB_REUSE_MAX


def test_the_tidy_runs_before_and_after_every_task():
    for signal in (signals.task_prerun, signals.task_postrun):
        receivers = [r() if isinstance(r, weakref.ref) else r for _, r in signal.receivers]
        assert database_connections_tidy in receivers


@pytest.mark.django_db(transaction=True)
def test_a_worker_task_hands_its_connection_back_and_an_eager_one_is_left_alone():
    connection.ensure_connection()

    database_connections_tidy(sender=SimpleNamespace(request=SimpleNamespace(is_eager=True)))
    assert connection.connection is not None  # an eager task runs inside its caller's work

    database_connections_tidy(sender=SimpleNamespace(request=SimpleNamespace(is_eager=False)))
    assert connection.connection is None  # back to the pool (CONN_MAX_AGE is 0)
    assert connection.cursor().execute("SELECT 1") is not None

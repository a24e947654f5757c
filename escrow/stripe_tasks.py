"""Celery tasks for Stripe: thin, taking primitive ids, calling the services.

Celery's autodiscovery imports `escrow.tasks`; that module imports these so the worker knows them.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

from escrow.stripe_reconciliation import stripe_reconcile

logger = logging.getLogger(__name__)


@shared_task(name="escrow.stripe_event_process")
def stripe_event_process(event_id: str) -> str:
    """Apply one stored Stripe event; a failure stays on the event's row for replay."""
    from escrow.webhooks import stripe_event_process as process

    return str(process(event_id=event_id))


@shared_task(name="escrow.stripe_reconcile_daily")
def stripe_reconcile_daily(day: str | None = None) -> int:
    """Reconcile one UTC day (yesterday by default) and log every difference; returns their count."""
    date = dt.date.fromisoformat(day) if day else timezone.now().date() - dt.timedelta(days=1)
    differences = stripe_reconcile(day=date)
    for difference in differences:
        logger.error("Stripe reconciliation %s: %s", date, difference)
    if not differences:
        logger.info("Stripe reconciliation %s: the ledger agrees with Stripe.", date)
    return len(differences)

"""Celery tasks of offers and deals: thin, they call a service. Both sweeps are idempotent (a
second run finds nothing left to do) and one transaction per row, so a retry is always safe."""

from __future__ import annotations

from celery import shared_task

from escrow import services
from escrow.stripe_tasks import stripe_event_process, stripe_reconcile_daily

# The worker discovers tasks in this module; the Stripe ones live beside the gateway.
__all__ = [
    "deal_release_after_review_task",
    "deals_cancel_unpaid_task",
    "offers_expire_task",
    "stripe_event_process",
    "stripe_reconcile_daily",
]


@shared_task(name="escrow.offers_expire")
def offers_expire_task() -> int:
    return len(services.offers_expire())


@shared_task(name="escrow.deals_cancel_unpaid")
def deals_cancel_unpaid_task() -> int:
    return len(services.deals_cancel_unpaid())


@shared_task(name="escrow.deal_release_after_review")
def deal_release_after_review_task(deal_id: int) -> str:
    """Queued when staff approve the verification run a release waited for. A refusal is not
    retried: it is on the log and the deal stays recorded for staff (the release page)."""
    return services.deal_release_after_review(deal_id=deal_id)

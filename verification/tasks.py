"""Celery tasks of verification: thin, they take ids and call a service.

`listing_verify` is safe to run twice: its runs are queued once per listing, right and trigger
(the partial unique constraint), and a finished run is never re-read. A register that cannot
answer is retried with exponential backoff; after the last retry the run goes to review with
the error kept (never a pass).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from listings.models import Listing
from verification.models import Trigger
from verification.services import RegistryRetry, listing_runs_execute, listing_verify_now
from verification.services.monitoring import deadline_alerts_send, recheck_slot_listing_ids

logger = logging.getLogger(__name__)

MAX_RETRIES = 4


def retry_countdown(retries: int) -> int:
    """Seconds before retry number `retries + 1`: 30 s, 60 s, 120 s, 240 s."""
    base = int(settings.VERIFICATION_RETRY_BASE_SECONDS)
    return base * (2**retries)


@shared_task(bind=True, name="verification.listing_verify", max_retries=MAX_RETRIES, acks_late=True)
def listing_verify_task(self: Any, listing_id: int, trigger: str, run_ids: list[int] | None = None) -> str:
    listing = Listing.objects.select_related("seller").filter(pk=listing_id).first()
    if listing is None:
        return "gone"
    final_attempt = self.request.retries >= self.max_retries
    try:
        if run_ids is None:
            # The first attempt queues the listing's runs and starts them in one transaction.
            return listing_verify_now(listing=listing, trigger=trigger, final_attempt=final_attempt)
        return listing_runs_execute(listing=listing, run_ids=run_ids, final_attempt=final_attempt)
    except RegistryRetry as exc:
        logger.info("registry unavailable for listing %s, retrying: %s", listing_id, exc)
        retry_kwargs = {"run_ids": exc.run_ids or run_ids}
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries), kwargs=retry_kwargs) from exc


@shared_task(name="verification.recheck_slot")
def recheck_slot_task() -> int:
    """Enqueue this slot's periodic re-checks, spread over the slot so the registers see a
    steady trickle rather than a burst."""
    ids = recheck_slot_listing_ids(now=timezone.now())
    slots = max(1, int(settings.VERIFICATION_RECHECK_SLOTS))
    slot_seconds = 24 * 3600 // slots
    for index, listing_id in enumerate(ids):
        listing_verify_task.apply_async(
            args=(listing_id, Trigger.PERIODIC.value), countdown=index * slot_seconds // max(1, len(ids))
        )
    return len(ids)


@shared_task(name="verification.deadline_alerts")
def deadline_alerts_task() -> int:
    return deadline_alerts_send()


def listing_submitted_receiver(sender: object, listing_id: int, **kwargs: object) -> None:
    """Connected to listings' `listing_submitted` signal (sent after commit)."""
    listing_verify_task.apply_async(args=(listing_id, Trigger.SUBMISSION.value))

"""A release the register could not confirm, and the staff review that lets it go on.

Before any release escrow re-verifies the rights (verification's `rights_reverify_for_release`,
trigger `before_release`). When a run of it fails or needs review (an owner's name the checks
only nearly match, a register that would not answer), the release is refused and the run waits
in the reviewers' queue. Reading the register again would only find the same thing, so once a
reviewer approves the run, the release relies on that decision instead: every right of the
listing must have, since the transfer was recorded, a newest before-release run that passed or
that staff approved, recently enough (RELEASE_REVIEW_VALID_FOR) that the register's answer still
stands. A rejection, an older decision or a right not covered means the register is read again.

Verification sits below escrow and cannot call it: `run_decide` sends `run_approved` once the
approval is committed, and escrow's AppConfig connects `run_approved_receive`, which queues the
release again (`deal_release_after_review`). Staff can also release by hand as before.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from escrow.models import Deal, DealState
from verification.models import ReviewDecision, RunState, Trigger, VerificationRun

logger = logging.getLogger(__name__)

# How long a reviewer's approval (or a pass) of a before-release run stands in for a fresh read
# of the register: long enough for staff to work the queue, short enough that the register's
# answer is still today's.
RELEASE_REVIEW_VALID_FOR = timedelta(days=7)


def release_runs_approved(*, deal: Deal, now: datetime | None = None) -> list[int]:
    """The staff-approved before-release runs this deal's release may rely on, instead of reading
    the register again; [] when it may not (see the module's rule)."""
    now = now or timezone.now()
    if deal.recorded_at is None:
        return []
    right_ids = set(deal.listing.rights.values_list("pk", flat=True))
    if not right_ids:
        return []
    runs = (
        VerificationRun.objects.filter(
            listing_id=deal.listing_id,
            trigger=Trigger.BEFORE_RELEASE,
            right_id__in=right_ids,
            created_at__gte=deal.recorded_at,
        )
        .select_related("decision")
        .order_by("right_id", "-created_at", "-id")
    )
    newest: dict[int, VerificationRun] = {}
    for run in runs:
        newest.setdefault(run.right_id, run)
    if set(newest) != right_ids:
        return []
    oldest_valid = now - RELEASE_REVIEW_VALID_FOR
    approved = []
    for run in newest.values():
        decision: ReviewDecision | None = getattr(run, "decision", None)
        if decision is not None:
            if decision.decision != ReviewDecision.Decision.APPROVE or decision.decided_at < oldest_valid:
                return []
            approved.append(run.pk)
        elif run.state not in (RunState.PASSED, RunState.WARNING) or (run.finished_at or run.created_at) < oldest_valid:
            return []
    return sorted(approved)


def run_approved_receive(sender: Any, *, run_id: int, listing_id: int | None, trigger: str, **kwargs: Any) -> None:
    """Verification committed a reviewer's approval: a recorded deal whose release waited for
    this before-release run is released again, by a task (the release may read the register)."""
    if trigger != Trigger.BEFORE_RELEASE or listing_id is None:
        return
    deal_id = Deal.objects.filter(listing_id=listing_id, state=DealState.RECORDED).values_list("pk", flat=True).first()
    if deal_id is None:
        return
    from escrow.tasks import deal_release_after_review_task

    logger.info("Verification run %s approved: releasing deal #%s again.", run_id, deal_id)
    deal_release_after_review_task.delay(deal_id)

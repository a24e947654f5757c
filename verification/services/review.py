"""Staff decisions on verification runs: approve or reject, with a reason, audited.

Only members of the Verification reviewers group (permission
`verification.decide_verificationrun`) may decide; the check is here, not only in the admin,
so that no other path can record a decision.
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from accounts.models import User
from listings import services as listings_services
from listings.models import ListingState
from verification.models import REVIEW_STATES, ReviewDecision, RunState, VerificationRun

DECIDE_PERMISSION = "verification.decide_verificationrun"


# Sent once an approval is committed, with `run_id`, `listing_id` (int or None) and `trigger`:
# escrow (above us) listens, to go on with a release that waited for a before-release run.
run_approved = Signal()


class ReviewError(Exception):
    """A refused decision; nothing was written."""


@transaction.atomic
def run_decide(*, run: VerificationRun, acting_user: User, decision: str, reason: str) -> ReviewDecision:
    """Record the reviewer's decision and carry it to the right's summary and the listing:
    approve publishes a listing waiting for review (or back from suspension); reject rejects
    a listing on its way or suspends one on the market."""
    if not acting_user.is_active or not acting_user.has_perm(DECIDE_PERMISSION):
        raise ReviewError("Only verification reviewers can decide on a verification run.")
    if decision not in ReviewDecision.Decision.values:
        raise ReviewError("Choose approve or reject.")
    reason = reason.strip()
    if not reason:
        raise ReviewError("Give the reason for the decision: it is kept with the run and the seller reads it.")
    run = VerificationRun.objects.select_for_update(of=("self",)).select_related("right", "listing").get(pk=run.pk)
    if run.state not in REVIEW_STATES:
        raise ReviewError(f"A {run.get_state_display().lower()} run is not waiting for a decision.")
    if ReviewDecision.objects.filter(run=run).exists():
        raise ReviewError("This run has been decided already.")
    record = ReviewDecision.objects.create(run=run, decided_by=acting_user, decision=decision, reason=reason)
    approved = decision == ReviewDecision.Decision.APPROVE
    verdict = RunState.PASSED if approved else RunState.FAILED
    who = acting_user.get_full_name()
    listings_services.right_verification_record(
        right=run.right,
        verdict=verdict,
        register=run.register or "staff review",
        summary=f"{'Approved' if approved else 'Rejected'} by staff ({who}): {reason}\n{run.summary}",
        as_of=timezone.now(),
    )
    listing = run.listing
    if listing is not None:
        if approved:
            # Other rights of the listing may still wait for their own decision.
            others_open = (
                VerificationRun.objects.filter(listing=listing, trigger=run.trigger, state=RunState.NEEDS_REVIEW)
                .exclude(pk=run.pk)
                .filter(decision__isnull=True)
                .exists()
            )
            if not others_open and listing.state in (ListingState.NEEDS_REVIEW, ListingState.SUSPENDED):
                listings_services.listing_verification_passed(
                    listing=listing, acting_user=acting_user, note=f"Ownership approved by staff: {reason}"
                )
        else:
            listings_services.listing_verification_failed(listing=listing, reason=reason, acting_user=acting_user)
    if approved:
        run_id, listing_id, trigger = run.pk, run.listing_id, run.trigger
        transaction.on_commit(
            lambda: run_approved.send(sender=VerificationRun, run_id=run_id, listing_id=listing_id, trigger=trigger),
            robust=True,
        )
    return record

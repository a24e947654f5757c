"""Verification runs: read the register, run the checks, record the verdict, tell listings.

Registers are read outside any database transaction (no row stays locked over a slow office);
each step that writes is its own transaction. A register that cannot answer never yields a
pass: while attempts remain the run stays queued with the error noted and `RegistryRetry` is
raised for the task to retry with backoff; on the last attempt the run goes to review with the
error kept.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from listings import services as listings_services
from listings.models import Listing, ListingState, Right
from verification.checks import EXISTS, REGISTRY, CheckResult, Claim, checks_run, verdict_of
from verification.models import (
    ACTIVE_STATES,
    FINISHED_STATES,
    CheckOutcome,
    RegistryEvidence,
    RunState,
    Trigger,
    VerificationRun,
)
from verification.registries.http import RegistryError, RegistryNotFound, RegistryResponse
from verification.registries.records import RegistryRecord
from verification.services.monitoring import changes_announce, listing_suspension_announce
from verification.services.reading import Reading, Target, facts_as_dict, register_read

logger = logging.getLogger(__name__)

_ENCUMBRANCE_KINDS = {
    "security_interest": "security_interest",
    "exclusive_licence": "exclusive_licence",
    "licence": "non_exclusive_licence",
}
# Listing states in which a verdict decides whether the listing goes public.
_ON_ITS_WAY = (ListingState.SUBMITTED, ListingState.VERIFYING, ListingState.NEEDS_REVIEW)
# Listing states in which buyers can see or have bought into the listing: a failure suspends.
_ON_THE_MARKET = (ListingState.PUBLISHED, ListingState.RESERVED, ListingState.AWAITING_MARGIN)


class RegistryRetry(Exception):
    """A register could not answer and attempts remain: the caller retries later."""

    def __init__(self, error: RegistryError) -> None:
        super().__init__(str(error))
        self.error = error


def claim_for(
    *,
    right: Right,
    listing: Listing | None,
    as_of: date,
    seller_name: str = "",
    accepted_owner_names: Sequence[str] = (),
) -> Claim:
    return Claim(
        jurisdiction=right.jurisdiction,
        kind=right.kind,
        sub_kind=right.sub_kind,
        application_number=right.application_number,
        registration_number=right.registration_number,
        publication_number=right.publication_number,
        seller_name=seller_name or (listing.seller.legal_name if listing is not None else ""),
        accepted_owner_names=tuple(n for n in accepted_owner_names if n.strip()),
        disclosure_text=listing.description if listing is not None else "",
        as_of=as_of,
    )


def _claims_as_dict(claim: Claim, right: Right) -> dict[str, object]:
    return {
        **Target.from_right(right).as_dict(),
        "title": right.title,
        "seller_name": claim.seller_name,
        "accepted_owner_names": list(claim.accepted_owner_names),
        "claimed_owners": list(right.owners.values_list("name", flat=True)),
        "claimed_status": right.status,
        "claimed_expiry_date": right.expiry_date.isoformat() if right.expiry_date else None,
        "disclosure_text": claim.disclosure_text,
        "facts_source": right.facts_source,
    }


# --- queueing ---------------------------------------------------------------------------------------------


@transaction.atomic
def run_queue(
    *, right: Right, listing: Listing | None, trigger: str, requested_by: User | None = None
) -> VerificationRun:
    """A queued run for this right, listing and trigger, or the one already active."""
    if trigger not in Trigger.values:
        raise ValueError(f"unknown trigger {trigger!r}")
    # The right's row lock serialises two callers queueing at once (the partial unique
    # constraint would refuse the second anyway; the lock makes it wait and find the first).
    Right.objects.select_for_update().filter(pk=right.pk).first()
    active = VerificationRun.objects.filter(
        right=right, listing=listing, trigger=trigger, state__in=ACTIVE_STATES
    ).first()
    if active is not None:
        return active
    seller_name = listing.seller.legal_name if listing is not None else ""
    return VerificationRun.objects.create(
        right=right,
        listing=listing,
        trigger=trigger,
        requested_by=requested_by,
        seller_name=seller_name,
    )


@transaction.atomic
def listing_verification_queue(
    *, listing: Listing, trigger: str, requested_by: User | None = None
) -> list[VerificationRun]:
    """One run per right of the listing. A submitted listing moves to `verifying`."""
    listing = Listing.objects.select_related("seller").get(pk=listing.pk)
    if trigger == Trigger.SUBMISSION and listing.state == ListingState.SUBMITTED:
        listing = listings_services.listing_verification_started(listing=listing)
    return [
        run_queue(right=right, listing=listing, trigger=trigger, requested_by=requested_by)
        for right in listing.rights.order_by("listing_rights__position", "pk")
    ]


# --- executing ---------------------------------------------------------------------------------------------


@transaction.atomic
def _run_start(run_id: int) -> VerificationRun:
    run = (
        VerificationRun.objects.select_for_update(of=("self",))
        .select_related("right", "listing__seller")
        .get(pk=run_id)
    )
    if run.state in ACTIVE_STATES:
        run.state = RunState.RUNNING
        run.attempts += 1
        run.started_at = timezone.now()
        run.save(update_fields=["state", "attempts", "started_at"])
    return run


@transaction.atomic
def _run_requeue(run: VerificationRun, *, error: RegistryError, responses: list[RegistryResponse]) -> None:
    VerificationRun.objects.filter(pk=run.pk).update(state=RunState.QUEUED, error=f"attempt {run.attempts}: {error}")
    _evidence_store(run, responses)


def _evidence_store(run: VerificationRun, responses: list[RegistryResponse]) -> None:
    RegistryEvidence.objects.bulk_create(
        RegistryEvidence(
            run=run,
            office=r.office,
            url=r.url[:2000],
            status=r.status,
            content_type=r.content_type[:100],
            body=r.body,
            sha256=r.sha256,
            read_at=r.read_at,
        )
        for r in responses
    )


def run_execute(
    *,
    run: VerificationRun,
    final_attempt: bool = True,
    today: date | None = None,
    accepted_owner_names: Sequence[str] = (),
) -> VerificationRun:
    """Read the register for the run's right, check it, and record the verdict. Returns the
    finished run; raises RegistryRetry when the register failed and this is not the final attempt."""
    run = _run_start(run.pk)
    if run.is_finished:
        return run  # a duplicate delivery of the task: the verdict stands
    as_of = today or timezone.localdate()
    claim = claim_for(
        right=run.right,
        listing=run.listing,
        as_of=as_of,
        seller_name=run.seller_name,
        accepted_owner_names=accepted_owner_names,
    )
    responses: list[RegistryResponse] = []
    reading = Reading(responses=responses)
    error = ""
    try:
        reading = register_read(target=Target.from_right(run.right), as_of=as_of, responses=responses)
    except RegistryNotFound as exc:
        # The office answered, and has no such right (or refuses the number): a verdict, not an outage.
        results = [CheckResult(EXISTS, "fail", f"The register has no right under this number: {exc}")]
        error = str(exc)
    except RegistryError as exc:
        if not final_attempt:
            _run_requeue(run, error=exc, responses=responses)
            raise RegistryRetry(exc) from exc
        error = f"{exc.__class__.__name__}: {exc}"
        results = [
            CheckResult(
                REGISTRY,
                "review",
                f"The register could not give a usable answer after {run.attempts} attempt(s): {error}",
            )
        ]
    else:
        if reading.unsupported:
            results = [CheckResult(REGISTRY, "review", reading.unsupported)]
        else:
            assert reading.record is not None
            results = checks_run(claim=claim, record=reading.record)
    return _run_finish(run, claim=claim, reading=reading, results=results, error=error)


@transaction.atomic
def _run_finish(
    run: VerificationRun, *, claim: Claim, reading: Reading, results: list[CheckResult], error: str
) -> VerificationRun:
    run = VerificationRun.objects.select_for_update(of=("self",)).select_related("right", "listing").get(pk=run.pk)
    if run.is_finished:
        return run
    record = reading.record
    verdict = verdict_of(results)
    previous = (
        VerificationRun.objects.filter(right=run.right, state__in=FINISHED_STATES)
        .exclude(facts={})
        .order_by("-finished_at", "-pk")
        .first()
    )
    run.state = verdict
    run.register = reading.register or run.register
    run.facts = facts_as_dict(record) if record is not None else {}
    run.claims = _claims_as_dict(claim, run.right)
    run.summary = "\n".join(f"{r.title}: {r.outcome} - {r.evidence}" for r in results)
    run.error = error
    run.finished_at = timezone.now()
    run.save()
    CheckOutcome.objects.bulk_create(
        CheckOutcome(run=run, name=r.name, outcome=r.outcome, evidence=r.evidence, score=r.score, position=i)
        for i, r in enumerate(results)
    )
    _evidence_store(run, reading.responses)
    read_at = record.read_at if record is not None and record.read_at else run.finished_at
    if record is not None and results[0].outcome != "fail":
        _right_facts_store(run.right, record, register=run.register)
    listings_services.right_verification_record(
        right=run.right,
        verdict=verdict,
        register=run.register or "staff review (no register API)",
        summary=run.summary,
        as_of=read_at,
    )
    if record is not None and previous is not None and results[0].outcome != "fail":
        changes_announce(right=run.right, before=previous.facts, after=run.facts, run_id=run.pk)
    return run


def _right_facts_store(right: Right, record: RegistryRecord, *, register: str) -> None:
    due = record.next_due
    listings_services.right_facts_update(
        right=right,
        source=register,
        as_of=record.read_at or timezone.now(),
        status=record.status,
        office_status_code=record.status_code,
        office_status_text=record.status_text,
        filing_date=record.filing_date,
        grant_date=record.grant_date or record.registration_date,
        expiry_date=record.expiry_date,
        next_due_date=due.due_date if due else None,
        grace_end_date=due.grace_ends if due else None,
        owners=[listings_services.OwnerFact(name=p.name, address=p.address, country=p.country) for p in record.owners]
        if record.owners
        else None,
        encumbrances=[
            listings_services.EncumbranceFact(
                kind=_ENCUMBRANCE_KINDS[e.kind],
                party=", ".join(p.name for p in e.assignees) or "(unnamed)",
                recorded_on=e.recorded_date,
                reference=e.reel_frame,
            )
            for e in record.encumbrances
        ]
        if "assignments" in record.sections
        else None,
    )


# --- listings ------------------------------------------------------------------------------------------------


def _verdict_over(runs: Sequence[VerificationRun]) -> str:
    states = {r.state for r in runs}
    for verdict in (RunState.FAILED, RunState.NEEDS_REVIEW, RunState.WARNING, RunState.PASSED):
        if verdict in states:
            return verdict
    return RunState.NEEDS_REVIEW


def _reason(runs: Sequence[VerificationRun], wanted: str) -> str:
    lines = [f"{r.right.number_display}: {c.evidence}" for r in runs for c in r.checks.all() if c.outcome == wanted]
    return " ".join(lines) or "Verification against the register did not pass."


def listing_runs_execute(
    *,
    listing: Listing,
    run_ids: Sequence[int],
    final_attempt: bool = True,
    today: date | None = None,
    accepted_owner_names: Sequence[str] = (),
    apply: bool = True,
) -> str:
    """Execute the listing's runs, then apply their joint verdict to the listing (unless `apply`
    is False, as before release, where escrow decides). Runs already finished are not re-read."""
    runs = list(VerificationRun.objects.filter(pk__in=run_ids).select_related("right"))
    retry: RegistryRetry | None = None
    for run in runs:
        try:
            run_execute(run=run, final_attempt=final_attempt, today=today, accepted_owner_names=accepted_owner_names)
        except RegistryRetry as exc:
            retry = exc  # the others still run: their verdicts stand on the retry
    if retry is not None:
        raise retry
    runs = list(VerificationRun.objects.filter(pk__in=run_ids).select_related("right").prefetch_related("checks"))
    verdict = _verdict_over(runs)
    if apply:
        _listing_verdict_apply(listing=listing, runs=runs, verdict=verdict)
    return verdict


def _listing_verdict_apply(*, listing: Listing, runs: Sequence[VerificationRun], verdict: str) -> None:
    listing = Listing.objects.get(pk=listing.pk)
    state = listing.state
    if verdict in (RunState.PASSED, RunState.WARNING):
        listings_services.listing_verification_passed(listing=listing)
    elif verdict == RunState.NEEDS_REVIEW:
        if state in _ON_ITS_WAY:
            listings_services.listing_verification_needs_review(
                listing=listing, note="Verification needs staff review: " + _reason(runs, "review")
            )
    elif verdict == RunState.FAILED:
        reason = "Verification against the register failed. " + _reason(runs, "fail")
        updated = listings_services.listing_verification_failed(listing=listing, reason=reason)
        if state in _ON_THE_MARKET and updated.state == ListingState.SUSPENDED:
            listing_suspension_announce(listing=updated, reason=reason)


def listing_verify_now(
    *, listing: Listing, trigger: str, requested_by: User | None = None, today: date | None = None
) -> str:
    """Queue and execute in one go (staff's on-demand check, tests, the benchmark)."""
    runs = listing_verification_queue(listing=listing, trigger=trigger, requested_by=requested_by)
    return listing_runs_execute(listing=listing, run_ids=[r.pk for r in runs], today=today)


def right_verify_now(
    *, right: Right, trigger: str = Trigger.STAFF, requested_by: User | None = None
) -> VerificationRun:
    """A right outside any listing (a staff investigation): checked, with no seller to compare."""
    run = run_queue(right=right, listing=None, trigger=trigger, requested_by=requested_by)
    return run_execute(run=run)


def rights_reverify_for_release(*, listing: Listing, buyer_name: str = "", today: date | None = None) -> bool:
    """Called by escrow before it releases funds to the seller: True only when every right of
    the listing is still in force and owned by the seller, or by the buyer once the recordation
    names them. A register that cannot answer is a False (and a run in the review queue), never
    a pass. The listing's state is left to escrow."""
    runs = listing_verification_queue(listing=listing, trigger=Trigger.BEFORE_RELEASE)
    verdict = listing_runs_execute(
        listing=listing,
        run_ids=[r.pk for r in runs],
        today=today,
        accepted_owner_names=[buyer_name] if buyer_name else (),
        apply=False,
    )
    return verdict in (RunState.PASSED, RunState.WARNING)

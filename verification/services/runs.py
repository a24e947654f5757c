"""Verification runs: read the register, run the checks, record the verdict, tell listings.

Registers are read outside any database transaction (no row stays locked over a slow office);
each step that writes is its own transaction. A register that cannot answer never yields a
pass: while attempts remain the run stays queued with the error noted and `RegistryRetry` is
raised for the task to retry with backoff; on the last attempt the run goes to review with the
error kept.

A listing's runs are queued and started in one transaction when they are executed at once (the
task's first attempt, staff, before release), or started in one when a retry picks them up;
each run's verdict is then one transaction, so the seller sees each right's result as it
comes; the listing's verdict is taken from the runs in hand. Thousands of rights a day are
verified this way, so each step costs a few plain statements.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from listings import services as listings_services
from listings.models import Listing, ListingState, OwnerOfRecord, Right
from listings.services import ListingError
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
    """A register could not answer and attempts remain: the caller retries later, with the
    runs in `run_ids` (when the listing's runs were executed; finished ones are not re-read)."""

    def __init__(self, error: RegistryError, *, run_ids: Sequence[int] = ()) -> None:
        super().__init__(str(error))
        self.error = error
        self.run_ids = list(run_ids)


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


def _claims_as_dict(claim: Claim, right: Right, claimed_owners: Sequence[str]) -> dict[str, object]:
    return {
        **Target.from_right(right).as_dict(),
        "title": right.title,
        "seller_name": claim.seller_name,
        "accepted_owner_names": list(claim.accepted_owner_names),
        "claimed_owners": list(claimed_owners),
        "claimed_status": right.status,
        "claimed_expiry_date": right.expiry_date.isoformat() if right.expiry_date else None,
        "disclosure_text": claim.disclosure_text,
        "facts_source": right.facts_source,
    }


# --- queueing ---------------------------------------------------------------------------------------------


def _runs_queue(
    *,
    rights: Sequence[Right],
    listing: Listing | None,
    trigger: str,
    requested_by: User | None,
    seller_name: str,
    start: bool = False,
) -> tuple[list[VerificationRun], list[VerificationRun]]:
    """In the caller's transaction, with the rights' rows locked: the runs already active for
    this listing and trigger, and new ones for the other rights (created in one statement:
    queued, or running when the caller executes them at once)."""
    active = {
        run.right_id: run
        for run in VerificationRun.objects.filter(
            right__in=rights, listing=listing, trigger=trigger, state__in=ACTIVE_STATES
        )
    }
    started = {"state": RunState.RUNNING, "attempts": 1, "started_at": timezone.now()} if start else {}
    new = [
        VerificationRun(
            right=right, listing=listing, trigger=trigger, requested_by=requested_by, seller_name=seller_name, **started
        )
        for right in rights
        if right.pk not in active
    ]
    VerificationRun.objects.bulk_create(new)
    return list(active.values()), new


@transaction.atomic
def run_queue(
    *, right: Right, listing: Listing | None, trigger: str, requested_by: User | None = None
) -> VerificationRun:
    """A queued run for this right, listing and trigger, or the one already active."""
    if trigger not in Trigger.values:
        raise ValueError(f"unknown trigger {trigger!r}")
    # The right's row lock serialises two callers queueing at once (the partial unique
    # constraint would refuse the second anyway; the lock makes it wait and find the first).
    Right.objects.select_for_update().filter(pk=right.pk).values_list("pk", flat=True).first()
    seller_name = listing.seller.legal_name if listing is not None else ""
    active, new = _runs_queue(
        rights=[right], listing=listing, trigger=trigger, requested_by=requested_by, seller_name=seller_name
    )
    return (active or new)[0]


def _listing_runs_queue(
    *, listing: Listing, trigger: str, requested_by: User | None, start: bool
) -> tuple[list[Right], list[VerificationRun], list[VerificationRun]]:
    """In the caller's transaction: the listing's rights (in the listing's order), their runs
    already active and the new ones. A submitted listing moves to `verifying`."""
    if trigger not in Trigger.values:
        raise ValueError(f"unknown trigger {trigger!r}")
    seller_name = listing.seller.legal_name
    if trigger == Trigger.SUBMISSION:
        # Locks the listing and reads its state afresh; a listing not waiting any more (another
        # delivery of the task started it, or it moved on) is left as it is.
        with contextlib.suppress(ListingError):
            listings_services.listing_verification_started(listing=listing)
    rights = list(
        Right.objects.select_for_update(of=("self",))
        .filter(listing_rights__listing=listing)
        .order_by("listing_rights__position", "pk")
    )
    active, new = _runs_queue(
        rights=rights,
        listing=listing,
        trigger=trigger,
        requested_by=requested_by,
        seller_name=seller_name,
        start=start,
    )
    return rights, active, new


@transaction.atomic
def listing_verification_queue(
    *, listing: Listing, trigger: str, requested_by: User | None = None
) -> list[VerificationRun]:
    """One run per right of the listing. A submitted listing moves to `verifying`."""
    rights, active, new = _listing_runs_queue(listing=listing, trigger=trigger, requested_by=requested_by, start=False)
    by_right = {run.right_id: run for run in [*active, *new]}
    return [by_right[right.pk] for right in rights]


@transaction.atomic
def _listing_runs_queue_and_start(*, listing: Listing, trigger: str, requested_by: User | None) -> list[_StartedRun]:
    """Queue the listing's runs and start them, in one transaction, for a caller that executes
    them at once: the new runs are created running; runs another caller had queued are started
    as `_runs_start` starts them."""
    rights, active, new = _listing_runs_queue(listing=listing, trigger=trigger, requested_by=requested_by, start=True)
    started = {item.run.right_id: item for item in _runs_start([run.pk for run in active])} if active else {}
    started |= {item.run.right_id: item for item in _with_stored_owners(new)}
    return [started[right.pk] for right in rights if right.pk in started]


# --- executing ---------------------------------------------------------------------------------------------


@dataclass
class _StartedRun:
    """A run as started, with the owners stored for its right (what the listing claims, until a
    register read replaces them), read with it."""

    run: VerificationRun
    stored_owners: list[tuple[int, str, str, str]]  # (position, name, address, country), in order

    @property
    def claimed_owners(self) -> list[str]:
        return [name for _, name, _, _ in self.stored_owners]


@transaction.atomic
def _runs_start(run_ids: Sequence[int]) -> list[_StartedRun]:
    """Lock the runs and mark the active ones running, one attempt more. Finished runs come
    back as they are: a duplicate delivery of the task leaves them alone. (Plain queries: these
    run for every right verified, and Django spends more time composing an elaborate statement
    than the database spends answering it.)"""
    runs = list(
        VerificationRun.objects.select_for_update(of=("self",))
        .select_related("right", "listing")
        .filter(pk__in=run_ids)
    )
    active = [run for run in runs if run.state in ACTIVE_STATES]
    if active:
        now = timezone.now()
        VerificationRun.objects.filter(pk__in=[run.pk for run in active]).update(
            state=RunState.RUNNING, attempts=F("attempts") + 1, started_at=now
        )
        for run in active:
            run.state, run.attempts, run.started_at = RunState.RUNNING, run.attempts + 1, now
    return _with_stored_owners(runs)


def _with_stored_owners(runs: Sequence[VerificationRun]) -> list[_StartedRun]:
    """The runs with the owners stored for their rights (one query, for the runs to execute)."""
    owners: dict[int, list[tuple[int, str, str, str]]] = {}
    rows = OwnerOfRecord.objects.filter(right_id__in={run.right_id for run in runs if not run.is_finished})
    for right_id, position, name, address, country in rows.order_by("position", "id").values_list(
        "right_id", "position", "name", "address", "country"
    ):
        owners.setdefault(right_id, []).append((position, name, address, country))
    return [_StartedRun(run=run, stored_owners=owners.get(run.right_id, [])) for run in runs]


def _previous_facts(run: VerificationRun) -> dict[str, Any] | None:
    """The facts of the right's latest finished run before this one, to tell what changed. A
    right never verified has none (every finished run records its verdict on the right), which
    spares the query for every new right."""
    if run.right.verified_as_of is None:
        return None
    return (
        VerificationRun.objects.filter(right_id=run.right_id, state__in=FINISHED_STATES)
        .exclude(facts={})
        .order_by("-finished_at", "-pk")
        .values_list("facts", flat=True)
        .first()
    )


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
    started = _runs_start([run.pk])
    if not started:
        raise VerificationRun.DoesNotExist(f"no verification run {run.pk}")
    finished, _ = _run_read_and_finish(
        started[0], final_attempt=final_attempt, today=today, accepted_owner_names=accepted_owner_names
    )
    return finished


def _run_read_and_finish(
    started: _StartedRun, *, final_attempt: bool, today: date | None, accepted_owner_names: Sequence[str]
) -> tuple[VerificationRun, list[CheckResult] | None]:
    """The finished run, with its check results when this call decided them (None for a run
    another delivery finished)."""
    run = started.run
    if run.is_finished:
        return run, None  # a duplicate delivery of the task: the verdict stands
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
    return _run_finish(started, claim=claim, reading=reading, results=results, error=error)


@transaction.atomic
def _run_finish(
    started: _StartedRun, *, claim: Claim, reading: Reading, results: list[CheckResult], error: str
) -> tuple[VerificationRun, list[CheckResult] | None]:
    run = started.run
    record = reading.record
    previous_facts = _previous_facts(run)
    finished_at = timezone.now()
    fields: dict[str, Any] = {
        "state": verdict_of(results),
        "register": reading.register or run.register,
        "facts": facts_as_dict(record) if record is not None else {},
        "claims": _claims_as_dict(claim, run.right, started.claimed_owners),
        "summary": "\n".join(f"{r.title}: {r.outcome} - {r.evidence}" for r in results),
        "error": error,
        "finished_at": finished_at,
    }
    # Only a run still active takes this verdict (the row lock of the update makes a second
    # delivery of the task wait, then find the run finished and keep the first verdict).
    if not VerificationRun.objects.filter(pk=run.pk, state__in=ACTIVE_STATES).update(**fields):
        return VerificationRun.objects.select_related("right", "listing").get(pk=run.pk), None
    for name, value in fields.items():
        setattr(run, name, value)
    CheckOutcome.objects.bulk_create(
        CheckOutcome(run=run, name=r.name, outcome=r.outcome, evidence=r.evidence, score=r.score, position=i)
        for i, r in enumerate(results)
    )
    _evidence_store(run, reading.responses)
    read_at = record.read_at if record is not None and record.read_at else finished_at
    if record is not None and results[0].outcome != "fail":
        _right_facts_store(run.right, record, register=run.register, stored_owners=started.stored_owners)
    listings_services.right_verification_record(
        right=run.right,
        verdict=run.state,
        register=run.register or "staff review (no register API)",
        summary=run.summary,
        as_of=read_at,
    )
    if record is not None and previous_facts is not None and results[0].outcome != "fail":
        changes_announce(right=run.right, before=previous_facts, after=run.facts, run_id=run.pk)
    return run, results


def _right_facts_store(
    right: Right,
    record: RegistryRecord,
    *,
    register: str,
    stored_owners: Sequence[tuple[int, str, str, str]] | None = None,
) -> None:
    due = record.next_due
    owners = (
        [listings_services.OwnerFact(name=p.name, address=p.address, country=p.country) for p in record.owners]
        if record.owners
        else None
    )
    if owners is not None and stored_owners is not None and _owners_as_stored(owners) == list(stored_owners):
        owners = None  # the register names the owners already stored: nothing to replace
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
        owners=owners,
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


def _owners_as_stored(owners: Sequence[listings_services.OwnerFact]) -> list[tuple[int, str, str, str]]:
    """The rows `right_facts_update` would store for these owners (same trimming, same positions)."""
    return [(i, o.name.strip()[:300], o.address, o.country[:2]) for i, o in enumerate(owners) if o.name.strip()]


# --- listings ------------------------------------------------------------------------------------------------


def _verdict_over(runs: Sequence[VerificationRun]) -> str:
    states = {r.state for r in runs}
    for verdict in (RunState.FAILED, RunState.NEEDS_REVIEW, RunState.WARNING, RunState.PASSED):
        if verdict in states:
            return verdict
    return RunState.NEEDS_REVIEW


def _reason(runs: Sequence[VerificationRun], wanted: str, results: dict[int, list[CheckResult]]) -> str:
    """The evidence of every check with the `wanted` outcome, from the results in hand or, for
    runs another delivery finished, as stored."""
    stored: dict[int, list[tuple[str, str]]] = {}
    missing = [r.pk for r in runs if r.pk not in results]
    if missing:
        for check in CheckOutcome.objects.filter(run_id__in=missing).order_by("run_id", "position", "pk"):
            stored.setdefault(check.run_id, []).append((check.outcome, check.evidence))
    lines = []
    for run in runs:
        outcomes = [(r.outcome, r.evidence) for r in results[run.pk]] if run.pk in results else stored.get(run.pk, [])
        lines += [f"{run.right.number_display}: {evidence}" for outcome, evidence in outcomes if outcome == wanted]
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
    return _listing_runs_execute(
        listing=listing,
        started=_runs_start(run_ids),
        final_attempt=final_attempt,
        today=today,
        accepted_owner_names=accepted_owner_names,
        apply=apply,
    )


def _listing_runs_execute(
    *,
    listing: Listing,
    started: Sequence[_StartedRun],
    final_attempt: bool,
    today: date | None,
    accepted_owner_names: Sequence[str],
    apply: bool,
) -> str:
    retry: RegistryRetry | None = None
    runs: list[VerificationRun] = []
    results: dict[int, list[CheckResult]] = {}
    for item in started:
        try:
            run, decided = _run_read_and_finish(
                item, final_attempt=final_attempt, today=today, accepted_owner_names=accepted_owner_names
            )
        except RegistryRetry as exc:
            retry = exc  # the others still run: their verdicts stand on the retry
            continue
        runs.append(run)
        if decided is not None:
            results[run.pk] = decided
    if retry is not None:
        raise RegistryRetry(retry.error, run_ids=[item.run.pk for item in started]) from retry
    verdict = _verdict_over(runs)
    if apply:
        _listing_verdict_apply(listing=listing, runs=runs, verdict=verdict, results=results)
    return verdict


def _listing_verdict_apply(
    *, listing: Listing, runs: Sequence[VerificationRun], verdict: str, results: dict[int, list[CheckResult]]
) -> None:
    if verdict in (RunState.PASSED, RunState.WARNING):
        listings_services.listing_verification_passed(listing=listing)
        return
    state = Listing.objects.values_list("state", flat=True).get(pk=listing.pk)
    if verdict == RunState.NEEDS_REVIEW:
        if state in _ON_ITS_WAY:
            listings_services.listing_verification_needs_review(
                listing=listing, note="Verification needs staff review: " + _reason(runs, "review", results)
            )
    elif verdict == RunState.FAILED:
        reason = "Verification against the register failed. " + _reason(runs, "fail", results)
        updated = listings_services.listing_verification_failed(listing=listing, reason=reason)
        if state in _ON_THE_MARKET and updated.state == ListingState.SUSPENDED:
            listing_suspension_announce(listing=updated, reason=reason)


def listing_verify_now(
    *,
    listing: Listing,
    trigger: str,
    requested_by: User | None = None,
    today: date | None = None,
    final_attempt: bool = True,
) -> str:
    """Queue and execute in one go (the task's first attempt, staff's on-demand check, tests).
    Raises RegistryRetry, naming the runs to retry, when a register failed and this is not the
    final attempt."""
    return _listing_runs_execute(
        listing=listing,
        started=_listing_runs_queue_and_start(listing=listing, trigger=trigger, requested_by=requested_by),
        final_attempt=final_attempt,
        today=today,
        accepted_owner_names=(),
        apply=True,
    )


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
    verdict = _listing_runs_execute(
        listing=listing,
        started=_listing_runs_queue_and_start(listing=listing, trigger=Trigger.BEFORE_RELEASE, requested_by=None),
        final_attempt=True,
        today=today,
        accepted_owner_names=[buyer_name] if buyer_name else (),
        apply=False,
    )
    return verdict in (RunState.PASSED, RunState.WARNING)

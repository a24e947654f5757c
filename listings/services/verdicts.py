"""Verification's verdicts, recorded on rights and listings (verification sits above listings
and calls these)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django_fsm import can_proceed

from accounts.models import User
from listings.models import (
    Encumbrance,
    Listing,
    ListingSearchEntry,
    ListingState,
    OwnerOfRecord,
    Right,
    Status,
)
from listings.search_index import search_entry_refresh
from listings.services.common import ListingError, _locked, _record

# --- Verification verdicts (called by verification, which sits above listings) -----------------

# Verdicts under which a right counts as verified on the listing page and in search: a warning
# (a fee in its grace period, say) is verified with a caveat the badge shows.
VERIFIED_VERDICTS = ("passed", "warning")


@dataclass(frozen=True)
class OwnerFact:
    name: str
    address: str = ""
    country: str = ""


@dataclass(frozen=True)
class EncumbranceFact:
    kind: str  # an Encumbrance.EncumbranceKind value
    party: str
    recorded_on: date | None = None
    reference: str = ""


@transaction.atomic
def right_facts_update(
    *,
    right: Right,
    source: str,
    as_of: datetime,
    status: str | None = None,
    office_status_code: str = "",
    office_status_text: str = "",
    filing_date: date | None = None,
    grant_date: date | None = None,
    expiry_date: date | None = None,
    next_due_date: date | None = None,
    grace_end_date: date | None = None,
    owners: Sequence[OwnerFact] | None = None,
    encumbrances: Sequence[EncumbranceFact] | None = None,
) -> Right:
    """Store what a register says about a right. A fact the register did not state (None) leaves
    the stored one alone; owners and encumbrances are replaced only when the register's answer
    carried them (None: that part of the record was not read, which is not "none recorded")."""
    right = Right.objects.select_for_update().get(pk=right.pk)
    if status is not None:
        if status not in Status.values:
            raise ListingError(f"Unknown status {status!r}.", field="status")
        right.status = status
        right.office_status_code = office_status_code[:32]
        right.office_status_text = office_status_text[:300]
    for name, value in (
        ("filing_date", filing_date),
        ("grant_date", grant_date),
        ("next_due_date", next_due_date),
        ("grace_end_date", grace_end_date),
    ):
        if value is not None:
            setattr(right, name, value)
    # The database refuses an expiry before filing; a register saying so is not believed.
    if expiry_date is not None and (right.filing_date is None or expiry_date >= right.filing_date):
        right.expiry_date = expiry_date
    right.facts_source = source[:200]
    right.facts_as_of = as_of
    right.save()
    if owners is not None and any(o.name.strip() for o in owners):
        right.owners.all().delete()
        OwnerOfRecord.objects.bulk_create(
            OwnerOfRecord(right=right, name=o.name.strip()[:300], address=o.address, country=o.country[:2], position=i)
            for i, o in enumerate(owners)
            if o.name.strip()
        )
    if encumbrances is not None:
        kinds = set(Encumbrance.EncumbranceKind.values)
        bad = [e.kind for e in encumbrances if e.kind not in kinds]
        if bad:
            raise ListingError(f"Unknown encumbrance kinds: {', '.join(sorted(set(bad)))}.")
        right.encumbrances.all().delete()
        Encumbrance.objects.bulk_create(
            Encumbrance(
                right=right, kind=e.kind, party=e.party[:300], recorded_on=e.recorded_on, reference=e.reference[:64]
            )
            for e in encumbrances
        )
    for listing_id in right.listing_rights.values_list("listing_id", flat=True):
        search_entry_refresh(listing_id=listing_id)
    return right


@transaction.atomic
def right_verification_record(*, right: Right, verdict: str, register: str, summary: str, as_of: datetime) -> Right:
    """Keep the latest verification's summary on the right, and the search entries' `verified`
    flag of every listing holding it in step."""
    if verdict not in ("passed", "warning", "failed", "needs_review"):
        raise ListingError(f"Unknown verification verdict {verdict!r}.")
    Right.objects.filter(pk=right.pk).update(
        verification_verdict=verdict,
        verified_as_of=as_of,
        verification_register=register[:120],
        verification_summary=summary,
    )
    for listing_id in right.listing_rights.values_list("listing_id", flat=True):
        listing_search_verified_refresh(listing_id=listing_id)
    return Right.objects.get(pk=right.pk)


def listing_search_verified_refresh(*, listing_id: int) -> None:
    """A listing is verified when every right in it is (the entry exists only while public)."""
    verdicts = list(
        Right.objects.filter(listing_rights__listing_id=listing_id).values_list("verification_verdict", flat=True)
    )
    verified = bool(verdicts) and all(v in VERIFIED_VERDICTS for v in verdicts)
    ListingSearchEntry.objects.filter(listing_id=listing_id).update(verified=verified)


@transaction.atomic
def listing_verification_started(*, listing: Listing) -> Listing:
    """A submitted listing's verification run has started."""
    listing = _locked(listing)
    if not can_proceed(listing.start_verification):
        raise ListingError(f"A {listing.get_state_display().lower()} listing is not waiting for verification.")
    listing.start_verification()
    listing.save()
    _record(listing, from_state=ListingState.SUBMITTED, actor=None, note="Verification against the registers started.")
    return listing


@transaction.atomic
def listing_verification_passed(*, listing: Listing, acting_user: User | None = None, note: str = "") -> Listing:
    """Every right checked out (or staff approved the run): the listing goes on to the margin
    deposit or is published, per LISTING_MARGIN_REQUIRED. A listing past that point (published,
    reserved) keeps its state. A suspended listing is put back on the market only by staff
    (`acting_user`): a passing re-check alone does not undo a staff-visible suspension."""
    listing = _locked(listing)
    from_state = listing.state
    if from_state in (ListingState.VERIFYING, ListingState.NEEDS_REVIEW):
        if settings.LISTING_MARGIN_REQUIRED:
            listing.require_margin()
        else:
            listing.publish()
    elif from_state == ListingState.SUSPENDED and acting_user is not None:
        listing.publish()
    else:
        listing_search_verified_refresh(listing_id=listing.pk)
        return listing
    listing.save()
    _record(listing, from_state=from_state, actor=acting_user, note=note or "Verified against the registers.")
    listing_search_verified_refresh(listing_id=listing.pk)
    return listing


@transaction.atomic
def listing_verification_needs_review(*, listing: Listing, note: str) -> Listing:
    """A run could not decide (a fuzzy owner match, a register that would not answer, a CN
    right): a listing on its way to publication waits for staff. A listing already on the
    market stays there while staff look at the run."""
    listing = _locked(listing)
    from_state = listing.state
    if not can_proceed(listing.send_to_review):
        return listing
    listing.send_to_review()
    listing.save()
    _record(listing, from_state=from_state, actor=None, note=note)
    return listing


@transaction.atomic
def listing_verification_failed(*, listing: Listing, reason: str, acting_user: User | None = None) -> Listing:
    """A right failed verification: a listing not yet on the market is rejected; one on the
    market (or reserved by a deal) is suspended. Returns the listing, unchanged if in neither."""
    if not reason.strip():
        raise ListingError("Say why verification failed: the seller reads it.", field="reason")
    listing = _locked(listing)
    from_state = listing.state
    if from_state in (ListingState.SUBMITTED, ListingState.VERIFYING, ListingState.NEEDS_REVIEW):
        listing.reject(reason.strip())
    elif can_proceed(listing.suspend):
        listing.suspend(reason.strip())
    else:
        return listing
    listing.save()
    _record(listing, from_state=from_state, actor=acting_user, note=reason.strip())
    listing_search_verified_refresh(listing_id=listing.pk)
    return listing

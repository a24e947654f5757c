"""A listing's life on the seller's and staff's side: drafts, submission, review, withdrawal,
reservation by a deal, and publication once the margin deposit is paid."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from accounts.models import User
from listings.models import (
    DealType,
    Listing,
    ListingRight,
    ListingState,
    PriceMode,
    Right,
)
from listings.services.common import ListingError, _locked, _record
from listings.signals import listing_submitted
from marketplace.money import CURRENCIES, MAX_AMOUNT

# --- Listings ---------------------------------------------------------------------------------


@dataclass
class ListingTerms:
    title: str
    description: str
    deal_types: list[str]
    price_mode: str
    currency: str
    asking_price: int | None = None  # minor units
    minimum_price: int | None = None


def _check_terms(terms: ListingTerms) -> None:
    if not terms.title.strip():
        raise ListingError("Give the listing a title.", field="title")
    if not terms.deal_types:
        raise ListingError("Offer at least one deal type.", field="deal_types")
    unknown = set(terms.deal_types) - set(DealType.values)
    if unknown:
        raise ListingError(f"Unknown deal types: {', '.join(sorted(unknown))}.", field="deal_types")
    if terms.price_mode not in PriceMode.values:
        raise ListingError("Choose how the price is set.", field="price_mode")
    if terms.currency not in CURRENCIES:
        raise ListingError(
            f"We do not take {terms.currency!r}; choose one of {', '.join(CURRENCIES)}.", field="currency"
        )
    for name, amount in (("asking_price", terms.asking_price), ("minimum_price", terms.minimum_price)):
        if amount is not None and not 0 < amount <= MAX_AMOUNT:
            raise ListingError("A price must be more than zero and at most 2^53 - 1 minor units.", field=name)
    if terms.price_mode == PriceMode.FIXED and terms.asking_price is None:
        raise ListingError("A fixed-price listing needs an asking price.", field="asking_price")
    if terms.price_mode == PriceMode.OFFERS and terms.minimum_price is None:
        raise ListingError("Say the lowest offer you will consider.", field="minimum_price")
    if terms.price_mode == PriceMode.ON_REQUEST and (terms.asking_price or terms.minimum_price):
        raise ListingError("A price-on-request listing shows no price; leave the prices empty.", field="asking_price")
    if terms.asking_price is not None and terms.minimum_price is not None and terms.minimum_price > terms.asking_price:
        raise ListingError("The minimum offer cannot be above the asking price.", field="minimum_price")


@transaction.atomic
def listing_create_draft(*, seller: User, rights: Iterable[Right], terms: ListingTerms) -> Listing:
    _check_terms(terms)
    rights = list(rights)
    if not rights:
        raise ListingError("A listing holds at least one right.", field="rights")
    listing = Listing.objects.create(
        seller=seller,
        title=terms.title.strip()[:300],
        description=terms.description.strip(),
        deal_types=sorted(set(terms.deal_types)),
        price_mode=terms.price_mode,
        currency=terms.currency,
        asking_price=terms.asking_price,
        minimum_price=terms.minimum_price,
    )
    ListingRight.objects.bulk_create(
        ListingRight(listing=listing, right=right, position=position) for position, right in enumerate(rights)
    )
    _record(listing, from_state="", actor=seller, note="Draft created.")
    return listing


@transaction.atomic
def listing_update_draft(*, listing: Listing, acting_user: User, terms: ListingTerms) -> Listing:
    listing = _locked(listing)
    if listing.seller_id != acting_user.pk:
        raise ListingError("Only the seller can edit this listing.")
    if listing.state != ListingState.DRAFT:
        raise ListingError("Only a draft can be edited; this listing is " + listing.get_state_display().lower() + ".")
    _check_terms(terms)
    Listing.objects.filter(pk=listing.pk).update(
        title=terms.title.strip()[:300],
        description=terms.description.strip(),
        deal_types=sorted(set(terms.deal_types)),
        price_mode=terms.price_mode,
        currency=terms.currency,
        asking_price=terms.asking_price,
        minimum_price=terms.minimum_price,
        updated_at=timezone.now(),
    )
    return Listing.objects.get(pk=listing.pk)


@transaction.atomic
def listing_submit(*, listing: Listing, acting_user: User) -> Listing:
    """The seller submits a draft: it waits in `submitted` for the verification run."""
    listing = _locked(listing)
    if listing.seller_id != acting_user.pk:
        raise ListingError("Only the seller can submit this listing.")
    if not can_proceed(listing.submit):
        raise ListingError(f"A {listing.get_state_display().lower()} listing cannot be submitted.")
    _check_terms(
        ListingTerms(
            title=listing.title,
            description=listing.description,
            deal_types=list(listing.deal_types),
            price_mode=listing.price_mode,
            currency=listing.currency,
            asking_price=listing.asking_price,
            minimum_price=listing.minimum_price,
        )
    )
    ended = [right for right in listing.rights.all() if not right.is_tradable]
    if ended:
        numbers = ", ".join(right.number_display for right in ended)
        raise ListingError(f"These rights are not in force and cannot be sold: {numbers}.")
    if not acting_user.legal_name.strip():
        raise ListingError(
            "Add your legal name to your profile first: it is matched against the owners of record.",
            field="legal_name",
        )
    listing.submit()
    listing.save()
    _record(listing, from_state=ListingState.DRAFT, actor=acting_user, note="Waiting for verification.")
    # Verification (an app above this one) listens for the signal and starts its run; sent only
    # once the submission is committed, so the worker never reads a listing that is not there.
    listing_id = listing.pk
    transaction.on_commit(lambda: listing_submitted.send(sender=Listing, listing_id=listing_id), robust=True)
    return listing


@transaction.atomic
def listing_approve(*, listing: Listing, acting_user: User, note: str = "") -> Listing:
    """Staff approve the ownership evidence: the listing is published, or waits for the margin
    deposit where the platform requires one (LISTING_MARGIN_REQUIRED)."""
    listing = _locked(listing)
    from_state = listing.state
    if settings.LISTING_MARGIN_REQUIRED:
        if not can_proceed(listing.require_margin):
            raise ListingError(f"A {listing.get_state_display().lower()} listing cannot be approved.")
        listing.require_margin()
    else:
        if from_state not in {ListingState.NEEDS_REVIEW, ListingState.VERIFYING} or not can_proceed(listing.publish):
            raise ListingError(f"A {listing.get_state_display().lower()} listing cannot be approved.")
        listing.publish()
    listing.save()
    _record(listing, from_state=from_state, actor=acting_user, note=note or "Approved by staff.")
    return listing


@transaction.atomic
def listing_reject(*, listing: Listing, acting_user: User, reason: str) -> Listing:
    if not reason.strip():
        raise ListingError("Say why the listing is rejected: the seller reads it.", field="reason")
    listing = _locked(listing)
    from_state = listing.state
    if not can_proceed(listing.reject):
        raise ListingError(f"A {listing.get_state_display().lower()} listing cannot be rejected.")
    listing.reject(reason.strip())
    listing.save()
    _record(listing, from_state=from_state, actor=acting_user, note=reason.strip())
    return listing


@transaction.atomic
def listing_withdraw(*, listing: Listing, acting_user: User) -> Listing:
    listing = _locked(listing)
    if listing.seller_id != acting_user.pk:
        raise ListingError("Only the seller can withdraw this listing.")
    from_state = listing.state
    if not can_proceed(listing.withdraw):
        raise ListingError(
            f"A {listing.get_state_display().lower()} listing cannot be withdrawn"
            + (": a deal is under way." if from_state == ListingState.RESERVED else ".")
        )
    listing.withdraw()
    listing.save()
    _record(listing, from_state=from_state, actor=acting_user)
    return listing


# --- Reservation by a deal (called by escrow, which sits above listings) -----------------------


@transaction.atomic
def listing_reserve(*, listing: Listing, acting_user: User | None = None, note: str = "") -> Listing:
    """A deal takes the listing off the market. The caller (escrow) holds the listing's lock
    already when it decides; locking again here is free and keeps this service safe alone."""
    listing = _locked(listing)
    if not can_proceed(listing.reserve):
        raise ListingError(f"A {listing.get_state_display().lower()} listing cannot be reserved.")
    listing.reserve()
    listing.save()
    _record(listing, from_state=ListingState.PUBLISHED, actor=acting_user, note=note or "Reserved by a deal.")
    return listing


@transaction.atomic
def listing_release_reservation(*, listing: Listing, acting_user: User | None = None, note: str = "") -> Listing:
    """The deal ended without a sale (cancelled or refunded): the listing is on the market again."""
    listing = _locked(listing)
    if not can_proceed(listing.release_reservation):
        raise ListingError(f"A {listing.get_state_display().lower()} listing holds no reservation to release.")
    listing.release_reservation()
    listing.save()
    _record(listing, from_state=ListingState.RESERVED, actor=acting_user, note=note or "Reservation released.")
    return listing


@transaction.atomic
def listing_mark_sold(*, listing: Listing, acting_user: User | None = None, note: str = "") -> Listing:
    """The deal completed: the escrow was released to the seller."""
    listing = _locked(listing)
    if not can_proceed(listing.mark_sold):
        raise ListingError(f"A {listing.get_state_display().lower()} listing cannot be marked sold.")
    listing.mark_sold()
    listing.save()
    _record(listing, from_state=ListingState.RESERVED, actor=acting_user, note=note or "Sold.")
    return listing


def listing_terms_check(*, terms: ListingTerms) -> None:
    """Check a listing's terms as the services do before writing them. Raises ListingError."""
    _check_terms(terms)


@transaction.atomic
def listing_publish_after_margin(*, listing: Listing) -> Listing:
    """The seller's margin deposit is paid (escrow, which holds the deposit, calls this): the
    approved listing goes live. Only from awaiting_margin, so a late payment never revives a
    listing withdrawn or suspended meanwhile."""
    listing = _locked(listing)
    if listing.state != ListingState.AWAITING_MARGIN:
        raise ListingError(f"A {listing.get_state_display().lower()} listing is not waiting for its margin deposit.")
    listing.publish()
    listing.save()
    _record(listing, from_state=ListingState.AWAITING_MARGIN, actor=None, note="Margin deposit paid: published.")
    return listing

"""What the offer and deal services share: the error, the locks, the fees and deal creation."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.models import User
from escrow.models import Deal, DealEvent, DealFee, DealState, Offer, OfferState, Party
from escrow.services.errors import DealError, Refusal
from escrow.services.fees import FeeLine, FeeQuote, fee_quote
from escrow.services.notifications import offer_event_notify
from listings import services as listing_services
from listings.models import Listing, ListingState
from marketplace.money import MAX_AMOUNT, Money, money_format
from verification.models import Notification

__all__ = [
    "DealError",
    "FeeLine",
    "FeeQuote",
    "Refusal",
    "amount_check",
    "deal_create",
    "deal_locked",
    "deal_record",
    "fee_quote",
    "listing_available_check",
    "listing_locked",
    "offer_locked",
]


# --- Locks: always the listing first, then the deal or offer ---------------------------------


def listing_locked(listing_id: int) -> Listing:
    try:
        return Listing.objects.select_for_update().get(pk=listing_id)
    except Listing.DoesNotExist:
        raise DealError("No such listing.", code=Refusal.INVALID) from None


def deal_locked(deal: Deal) -> tuple[Listing, Deal]:
    """The deal's listing and the deal, locked in that order, read fresh."""
    listing = listing_locked(deal.listing_id)
    return listing, Deal.objects.select_for_update().get(pk=deal.pk)


def offer_locked(offer: Offer) -> tuple[Listing, Offer]:
    listing = listing_locked(offer.listing_id)
    return listing, Offer.objects.select_for_update().get(pk=offer.pk)


# --- Amounts -----------------------------------------------------------------------------------


def amount_check(*, amount: object, listing: Listing, field: str = "amount") -> Money:
    """An amount a person proposes for this listing: Money, positive, in range, in its currency."""
    if not isinstance(amount, Money):
        raise DealError("An amount is required.", code=Refusal.INVALID, field=field)
    if amount.amount <= 0:
        raise DealError("The amount must be more than zero.", code=Refusal.INVALID, field=field)
    if amount.amount > MAX_AMOUNT:  # Money refuses this already; kept for the reader.
        raise DealError("The amount is larger than the largest supported.", code=Refusal.INVALID, field=field)
    if amount.currency != listing.currency:
        raise DealError(
            f"This listing is priced in {listing.currency}; {money_format(amount)} is in another currency.",
            code=Refusal.INVALID,
            field=field,
        )
    return amount


# --- Deals: creation and the timeline ----------------------------------------------------------


def deal_record(deal: Deal, *, from_state: str, actor: User | None, note: str = "") -> DealEvent:
    return DealEvent.objects.create(deal=deal, from_state=from_state, to_state=deal.state, actor=actor, note=note)


def listing_available_check(*, listing: Listing, buyer: User) -> None:
    """The listing (locked by the caller) can be taken by this buyer now."""
    if listing.seller_id == buyer.pk:
        raise DealError("You cannot buy or make an offer on your own listing.", code=Refusal.FORBIDDEN)
    if listing.state == ListingState.RESERVED:
        raise DealError("This listing is no longer available: another deal has reserved it.")
    if listing.state != ListingState.PUBLISHED:
        raise DealError(f"This listing is not available: it is {listing.get_state_display().lower()}.")


def deal_create(
    *,
    listing: Listing,
    buyer: User,
    price: Money,
    deal_type: str,
    offer: Offer | None,
    note: str,
    services: tuple[str, ...] = (),
    quote: FeeQuote | None = None,
) -> Deal:
    """Agree a deal on a listing the caller holds locked and has checked; reserve the listing and
    close every other open offer on it (their buyers are told). The deal copies the fees, line by
    line, as the parties were shown them, and waits for the buyer's payment."""
    quote = quote or fee_quote(price=price, services=services)
    try:
        # A savepoint, so a lost race on the one-active-deal constraint (which the listing lock
        # makes impossible through these services) still ends as a clear refusal.
        with transaction.atomic():
            deal = Deal.objects.create(
                listing=listing,
                buyer=buyer,
                seller_id=listing.seller_id,
                offer=offer,
                deal_type=deal_type,
                services=list(quote.services),
                currency=price.currency,
                price=price.amount,
                buyer_fee=quote.buyer_fee.amount,
                seller_fee=quote.seller_fee.amount,
            )
    except IntegrityError:
        raise DealError("This listing is no longer available: another deal has reserved it.") from None
    DealFee.objects.bulk_create(
        DealFee(
            deal=deal,
            kind=line.kind,
            basis=line.basis[:100],
            buyer_amount=line.buyer_part.amount,
            seller_amount=line.seller_part.amount,
        )
        for line in quote.lines
    )
    deal_record(deal, from_state="", actor=buyer, note=note)
    deal.await_payment()
    deal.save()
    deal_record(
        deal, from_state=DealState.AGREED, actor=None, note=f"Pay {money_format(deal.total_due)} by the deadline."
    )
    listing_services.listing_reserve(listing=listing, acting_user=buyer, note=f"Reserved by deal #{deal.pk}.")
    others = Offer.objects.select_for_update().filter(listing=listing, state=OfferState.OPEN)
    if offer is not None:
        others = others.exclude(pk=offer.pk)
    for other in others:
        other.expire(note="The listing was reserved by another deal.")
        other.save()
        # Its buyer is told; the seller, who agreed the other deal, knows.
        offer_event_notify(offer=other, kind=Notification.Kind.OFFER_EXPIRED, actor=None, only=Party.BUYER)
    return deal

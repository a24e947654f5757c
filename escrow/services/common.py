"""What the offer and deal services share: the error, the locks, the fees and deal creation."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.db import IntegrityError, transaction

from accounts.models import User
from escrow.models import Deal, DealEvent, DealState, FeeSchedule, Offer, OfferState
from escrow.models.deals import FeePayer
from listings import services as listing_services
from listings.models import Listing, ListingState
from marketplace.money import MAX_AMOUNT, Money, MoneyError, fee_compute, money_allocate, money_format


class Refusal(StrEnum):
    """Why an action was refused; the API maps each to an HTTP status."""

    INVALID = "invalid"  # the input itself is wrong (400)
    FORBIDDEN = "forbidden"  # not this person's to do (403)
    CONFLICT = "conflict"  # the thing's state does not allow it now (409)


class DealError(Exception):
    """A refused offer or deal action, with a message fit to show the person. Nothing changed."""

    def __init__(self, message: str, *, code: Refusal = Refusal.CONFLICT, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


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


@dataclass(frozen=True)
class FeeQuote:
    """The exact amounts of a deal at a price, shown to both parties before they commit."""

    price: Money
    buyer_fee: Money
    seller_fee: Money

    @property
    def buyer_pays(self) -> Money:
        return self.price + self.buyer_fee

    @property
    def seller_receives(self) -> Money:
        return self.price - self.seller_fee


def _charged(fee: Money, payer: str) -> tuple[Money, Money]:
    """(buyer's part, seller's part) of a fee; a split gives the odd minor unit to the buyer."""
    if payer == FeePayer.BUYER:
        return fee, Money.zero(fee.currency)
    if payer == FeePayer.SELLER:
        return Money.zero(fee.currency), fee
    buyer_part, seller_part = money_allocate(amount=fee, weights=[1, 1])
    return buyer_part, seller_part


def fee_quote(*, price: Money) -> FeeQuote:
    """The fees under the newest active schedule for the price's currency (none: no fees)."""
    schedule = FeeSchedule.objects.filter(currency=price.currency, active=True).order_by("-created_at", "-id").first()
    zero = Money.zero(price.currency)
    if schedule is None:
        return FeeQuote(price=price, buyer_fee=zero, seller_fee=zero)
    try:
        transaction_fee = fee_compute(amount=price, basis_points=schedule.transaction_fee_basis_points)
        registration_fee = Money(schedule.registration_fee, price.currency)
        buyer_tx, seller_tx = _charged(transaction_fee, schedule.transaction_fee_payer)
        buyer_reg, seller_reg = _charged(registration_fee, schedule.registration_fee_payer)
        quote = FeeQuote(price=price, buyer_fee=buyer_tx + buyer_reg, seller_fee=seller_tx + seller_reg)
        quote.buyer_pays  # noqa: B018 - refuses a total past the largest amount
    except MoneyError as error:
        raise DealError(f"The fees cannot be computed for this price: {error}", code=Refusal.INVALID) from None
    if quote.seller_fee > price:
        raise DealError("The seller's fees would exceed the price.", code=Refusal.INVALID)
    return quote


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


def deal_create(*, listing: Listing, buyer: User, price: Money, deal_type: str, offer: Offer | None, note: str) -> Deal:
    """Agree a deal on a listing the caller holds locked and has checked; reserve the listing and
    close every other open offer on it. The deal waits for the buyer's payment."""
    quote = fee_quote(price=price)
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
                currency=price.currency,
                price=price.amount,
                buyer_fee=quote.buyer_fee.amount,
                seller_fee=quote.seller_fee.amount,
            )
    except IntegrityError:
        raise DealError("This listing is no longer available: another deal has reserved it.") from None
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
    return deal

"""Reads of offers and deals. Every selector takes the person asking: no one sees what is not
theirs (Invariant 6); a deal is its buyer's and its seller's, an offer its buyer's and the
listing's seller's."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import User
from escrow.ledger import entries_of
from escrow.models import Deal, DealEvent, Entry, FeeSchedule, Offer, OfferState, ValueAddedService
from escrow.services.common import FeeQuote, fee_quote
from escrow.services.errors import DealError
from escrow.services.fees import FeeLine, deal_fee_lines, fee_quote_under
from listings.models import Listing, ListingState, PriceMode
from marketplace.money import Money


def deals_of(*, user: User) -> QuerySet[Deal]:
    """The person's deals, as buyer or as seller, newest first, with their timelines."""
    return (
        Deal.objects.filter(Q(buyer=user) | Q(seller=user))
        .select_related("listing", "buyer", "seller")
        .prefetch_related(
            Prefetch("events", queryset=DealEvent.objects.select_related("actor").order_by("at", "id")), "fees"
        )
        .order_by("-created_at", "-id")
    )


def deal_of(*, user: User, deal_id: int) -> Deal | None:
    return deals_of(user=user).filter(pk=deal_id).first()


def offers_of(*, user: User) -> QuerySet[Offer]:
    """Offers in the person's negotiations: those they made as buyer and those on their listings."""
    return (
        Offer.objects.filter(Q(buyer=user) | Q(listing__seller=user))
        .select_related("listing", "buyer", "parent")
        .order_by("-created_at", "-id")
    )


def offer_of(*, user: User, offer_id: int) -> Offer | None:
    return offers_of(user=user).filter(pk=offer_id).first()


def open_offer_awaiting(*, user: User, listing: Listing) -> Offer | None:
    """The open offer in this person's negotiation on the listing, if any."""
    if user.pk == listing.seller_id:
        return None
    return Offer.objects.filter(listing=listing, buyer=user, state=OfferState.OPEN).first()


def deal_ledger_lines_of(*, user: User, deal: Deal) -> QuerySet[Entry]:
    """The ledger lines of this deal that the person may see (their own accounts' entries)."""
    return entries_of(user=user).filter(account__reference=deal.reference)


def listing_buy_quote(*, listing: Listing, schedule: FeeSchedule | None) -> FeeQuote | None:
    """What buying now would cost and pay under the schedule (fee_schedule_for the listing's
    currency), shown before the buyer commits."""
    if listing.price_mode != PriceMode.FIXED or listing.asking_price is None:
        return None
    return fee_quote_under(schedule, price=Money(listing.asking_price, listing.currency))


def offer_quote(*, offer: Offer) -> FeeQuote | None:
    """The exact amounts of an offer under today's schedule (what a deal from it would copy);
    None when the schedule refuses its price (the action then says why)."""
    try:
        return fee_quote(price=offer.money, services=offer.services)
    except DealError:
        return None


def deal_fees_for(*, deal: Deal, party: str | None) -> list[FeeLine]:
    """The deal's fees that fall on this party (buyer or seller), as agreed."""
    lines = deal_fee_lines(deal=deal)
    if party == "buyer":
        return [line for line in lines if not line.buyer_part.is_zero]
    if party == "seller":
        return [line for line in lines if not line.seller_part.is_zero]
    return lines


def service_choices() -> list[tuple[str, str]]:
    return list(ValueAddedService.choices)


@dataclass(frozen=True)
class ServiceOffer:
    """A value-added service as the listing's buy box shows it: its exact fee at the asking price."""

    value: str
    label: str
    buyer_part: Money
    seller_part: Money

    @property
    def buy_now(self) -> bool:
        """Buy now takes only services the buyer pays alone (the seller agrees to the rest)."""
        return self.seller_part.is_zero


def listing_services_quote(*, listing: Listing, schedule: FeeSchedule | None) -> list[ServiceOffer]:
    """Each value-added service's fee on buying this listing now under the schedule (as
    listing_buy_quote), for the buyer to choose."""
    if listing.price_mode != PriceMode.FIXED or listing.asking_price is None:
        return []
    price = Money(listing.asking_price, listing.currency)
    shown = []
    for value, label in ValueAddedService.choices:
        try:
            quote = fee_quote_under(schedule, price=price, services=[value])
        except DealError:
            continue
        line = next((line for line in quote.lines if line.kind == value), None)
        zero = Money.zero(price.currency)
        shown.append(
            ServiceOffer(
                value=value,
                label=label,
                buyer_part=line.buyer_part if line else zero,
                seller_part=line.seller_part if line else zero,
            )
        )
    return shown


def listing_takes_offers(*, listing: Listing) -> bool:
    if listing.state != ListingState.PUBLISHED:
        return False
    return listing.price_mode != PriceMode.FIXED or listing.minimum_price is not None

"""Reads of offers and deals. Every selector takes the person asking: no one sees what is not
theirs (Invariant 6); a deal is its buyer's and its seller's, an offer its buyer's and the
listing's seller's."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import User
from escrow.ledger import entries_of
from escrow.models import Deal, DealEvent, Entry, Offer, OfferState
from escrow.services.common import FeeQuote, fee_quote
from listings.models import Listing, ListingState, PriceMode
from marketplace.money import Money


def deals_of(*, user: User) -> QuerySet[Deal]:
    """The person's deals, as buyer or as seller, newest first, with their timelines."""
    return (
        Deal.objects.filter(Q(buyer=user) | Q(seller=user))
        .select_related("listing", "buyer", "seller")
        .prefetch_related(Prefetch("events", queryset=DealEvent.objects.select_related("actor").order_by("at", "id")))
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


def listing_buy_quote(*, listing: Listing) -> FeeQuote | None:
    """What buying now would cost and pay, shown before the buyer commits."""
    if listing.price_mode != PriceMode.FIXED or listing.asking_price is None:
        return None
    return fee_quote(price=Money(listing.asking_price, listing.currency))


def listing_takes_offers(*, listing: Listing) -> bool:
    if listing.state != ListingState.PUBLISHED:
        return False
    return listing.price_mode != PriceMode.FIXED or listing.minimum_price is not None

"""Telling buyers that a listing they made an offer on, or have a deal for, was suspended.

Verification sits below escrow and cannot reach offers or deals: it sends `listing_suspended`
once the suspension is committed, and escrow's AppConfig connects `listing_suspended_receive`.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import NoReverseMatch, reverse

from escrow.models import Deal, DealState, Offer, OfferState
from escrow.models.deals import INACTIVE_DEAL_STATES
from listings.models import Listing
from verification.models import Notification
from verification.services.monitoring import notify


def _offer_url(listing: Listing) -> str:
    try:
        return reverse("listings:detail", args=[listing.pk])
    except NoReverseMatch:
        return ""


@transaction.atomic
def suspension_offers_notify(*, listing_id: int, reason: str) -> int:
    """Tell every buyer with an open offer on the listing, on the site and by email (after
    commit), once per offer: the dedupe key names the offer, so a repeated signal or a retried
    task tells no one twice. Returns how many were told now."""
    listing = Listing.objects.filter(pk=listing_id).first()
    if listing is None:
        return 0
    told = 0
    offers = Offer.objects.filter(listing=listing, state=OfferState.OPEN).select_related("buyer").order_by("pk")
    for offer in offers:
        notification = notify(
            user=offer.buyer_id,
            kind=Notification.Kind.LISTING_SUSPENDED,
            title=f"Listing suspended: {listing.title}",
            body=(
                "A listing you made an offer on was suspended after a re-check of the register, "
                f"so it cannot be bought until staff clear it.\n\n{reason}"
            ),
            dedupe_key=f"suspended:{listing.pk}:offer:{offer.pk}",
            url=_offer_url(listing),
            listing=listing,
        )
        if notification is not None:
            told += 1
    return told


def _deal_url(deal: Deal) -> str:
    return f"{reverse('escrow:dashboard')}#deal-{deal.pk}"


def _what_it_means(deal: Deal) -> str:
    """What the suspension means for this buyer's money, by where the deal stands."""
    if deal.state in (DealState.AGREED, DealState.AWAITING_PAYMENT):
        return (
            "Hold your payment until staff have looked into it: you may also cancel the deal from your "
            "dashboard, as it is not paid yet."
        )
    if deal.state == DealState.DISPUTED:
        return "Your payment stays in escrow; staff take the suspension into account in deciding the dispute."
    return (
        "Your payment stays in escrow: nothing is released to the seller while the listing is suspended, "
        "and staff refund you if the rights are not confirmed. You may also open a dispute."
    )


@transaction.atomic
def suspension_deals_notify(*, listing_id: int, reason: str) -> int:
    """Tell the buyer of the listing's active deal (one at most: Invariant 1), on the site and by
    email after commit, once per deal: the dedupe key names the deal. Returns how many were told."""
    listing = Listing.objects.filter(pk=listing_id).first()
    if listing is None:
        return 0
    told = 0
    deals = Deal.objects.filter(listing=listing).exclude(state__in=INACTIVE_DEAL_STATES)
    # Released deals are done: the buyer holds the rights and the seller was paid.
    for deal in deals.exclude(state=DealState.RELEASED).order_by("pk"):
        notification = notify(
            user=deal.buyer_id,
            kind=Notification.Kind.LISTING_SUSPENDED,
            title=f"Listing of your deal #{deal.pk} suspended: {listing.title}",
            body=(
                f"The listing of your deal #{deal.pk} was suspended after a re-check of the register. "
                f"{_what_it_means(deal)}\n\n{reason}"
            ),
            dedupe_key=f"suspended:{listing.pk}:deal:{deal.pk}",
            url=_deal_url(deal),
            listing=listing,
        )
        if notification is not None:
            told += 1
    return told


def listing_suspended_receive(sender: Any, *, listing_id: int, reason: str, **kwargs: Any) -> None:
    suspension_offers_notify(listing_id=listing_id, reason=reason)
    suspension_deals_notify(listing_id=listing_id, reason=reason)

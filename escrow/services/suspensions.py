"""Telling buyers that a listing they made an offer on was suspended.

Verification sits below escrow and cannot reach offers: it sends `listing_suspended` once the
suspension is committed, and escrow's AppConfig connects `listing_suspended_receive` to it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import NoReverseMatch, reverse

from escrow.models import Offer, OfferState
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


def listing_suspended_receive(sender: Any, *, listing_id: int, reason: str, **kwargs: Any) -> None:
    suspension_offers_notify(listing_id=listing_id, reason=reason)

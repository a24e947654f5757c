from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from escrow import selectors
from escrow.services import DealError
from escrow.services.fees import fee_schedule_for, service_fee_rules
from listings.models import DealType, Listing
from marketplace.money import Money, money_format

register = template.Library()


@register.simple_tag
def listing_deal_actions(listing: Listing, user: User | AnonymousUser) -> dict[str, Any]:
    """What the listing page's buy and offer box needs: the exact amounts before committing, all
    under the one fee schedule read here."""
    schedule = fee_schedule_for(currency=listing.currency)
    try:
        quote = selectors.listing_buy_quote(listing=listing, schedule=schedule)
    except DealError:
        quote = None
    is_seller = user.is_authenticated and user.pk == listing.seller_id
    return {
        "can_buy": quote is not None and listing.state == "published" and not is_seller,
        "can_offer": selectors.listing_takes_offers(listing=listing) and not is_seller,
        "quote": quote,
        "minimum": money_format(Money(listing.minimum_price, listing.currency)) if listing.minimum_price else "",
        "deal_types": [(value, DealType(value).label) for value in listing.deal_types if value in DealType.values],
        "open_offer": selectors.open_offer_awaiting(user=user, listing=listing) if user.is_authenticated else None,
        # Value-added services: exact fees at the asking price for Buy now, the rule for offers.
        "services": selectors.listing_services_quote(listing=listing, schedule=schedule) if quote is not None else [],
        "service_rules": service_fee_rules(schedule, currency=listing.currency),
    }

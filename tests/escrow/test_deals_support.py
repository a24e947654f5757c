"""Helpers shared by the offer and deal tests (this module holds no tests itself)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Permission

from accounts.models import User
from escrow.ledger import account_balance
from escrow.models import Deal, DealEvent, Entry, Journal, Offer
from escrow.services.deals import deal_escrow_account, deal_refunds_payable_account, deal_seller_payable_account
from listings.models import Listing, ListingEvent
from marketplace.money import Money
from tests.factories import UserFactory, make_listing


def listing_state(listing: Listing) -> str:
    return Listing.objects.get(pk=listing.pk).state


def deal_fresh(deal: Deal) -> Deal:
    return Deal.objects.get(pk=deal.pk)


def offer_fresh(offer: Offer) -> Offer:
    return Offer.objects.get(pk=offer.pk)


def snapshot() -> dict[str, object]:
    """Everything a refused action must leave as it was."""
    return {
        "deals": sorted(Deal.objects.values_list("pk", "state", "funded_amount", "refunded_amount", "funding_key")),
        "offers": sorted(Offer.objects.values_list("pk", "state", "amount")),
        "deal_events": DealEvent.objects.count(),
        "listings": sorted(Listing.objects.values_list("pk", "state")),
        "listing_events": ListingEvent.objects.count(),
        "journals": Journal.objects.count(),
        "entries": Entry.objects.count(),
    }


@dataclass
class Money3:
    escrow: Money
    payable: Money
    refunds: Money


def deal_balances(deal: Deal) -> Money3:
    return Money3(
        escrow=account_balance(account=deal_escrow_account(deal=deal)),
        payable=account_balance(account=deal_seller_payable_account(deal=deal)),
        refunds=account_balance(account=deal_refunds_payable_account(deal=deal)),
    )


def staff_user(*, decide: bool = False) -> User:
    staff = UserFactory.create(is_staff=True)
    if decide:
        staff.user_permissions.add(Permission.objects.get(codename="decide_dispute", content_type__app_label="escrow"))
        staff = User.objects.get(pk=staff.pk)  # drop the cached permissions
    return staff


def fixed_listing(**terms: object) -> Listing:
    return make_listing(seller=UserFactory.create(), **terms)  # type: ignore[arg-type]


def offers_listing(**terms: object) -> Listing:
    defaults: dict[str, object] = {"price_mode": "offers", "asking_price": None, "minimum_price": 1_000_000}
    defaults.update(terms)
    return make_listing(seller=UserFactory.create(), **defaults)  # type: ignore[arg-type]

"""Offers: make, counter, accept (a deal), reject, withdraw, expire; and their refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from escrow import services
from escrow.models import DealState, OfferState
from escrow.services import DealError
from marketplace.money import Money
from tests.escrow.test_deals_support import fixed_listing, listing_state, offer_fresh, offers_listing, snapshot
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

USD = "USD"


def _refused(call, match):
    before = snapshot()
    with pytest.raises(DealError, match=match):
        call()
    assert snapshot() == before


def _offer(listing=None, amount=1_200_000):
    listing = listing or offers_listing()
    return services.offer_make(
        listing=listing, buyer=UserFactory(), amount=Money(amount, USD), deal_type="assignment", message="Hello"
    )


def test_counter_and_accept_make_a_deal_and_expire_the_other_buyers_offers():
    listing = offers_listing()
    offer = _offer(listing)
    rival = _offer(listing, amount=1_100_000)
    counter = services.offer_counter(offer=offer, acting_user=listing.seller, amount=Money(1_500_000, USD))
    assert offer_fresh(offer).state == OfferState.COUNTERED
    assert (counter.made_by, counter.parent_id, counter.state) == ("seller", offer.pk, OfferState.OPEN)
    deal = services.offer_accept(offer=counter, acting_user=offer.buyer)
    assert (deal.state, deal.price, deal.buyer_id, deal.offer_id) == (
        DealState.AWAITING_PAYMENT,
        1_500_000,
        offer.buyer_id,
        counter.pk,
    )
    assert listing_state(listing) == "reserved"
    rival = offer_fresh(rival)
    assert rival.state == OfferState.EXPIRED
    assert rival.closing_note == "The listing was reserved by another deal."


def test_reject_and_withdraw():
    offer = _offer()
    services.offer_reject(offer=offer, acting_user=offer.listing.seller, message="Too low.")
    assert offer_fresh(offer).state == OfferState.REJECTED
    second = _offer()
    services.offer_withdraw(offer=second, acting_user=second.buyer)
    assert offer_fresh(second).state == OfferState.WITHDRAWN


def test_offers_expire_after_their_time_once():
    offer = _offer()
    assert offer.expires_at > timezone.now() + timedelta(days=6)
    assert services.offers_expire(now=offer.expires_at - timedelta(seconds=1)) == []
    assert services.offers_expire(now=offer.expires_at) == [offer.pk]
    assert services.offers_expire(now=offer.expires_at + timedelta(days=1)) == []
    assert offer_fresh(offer).state == OfferState.EXPIRED


@pytest.mark.parametrize(
    ("amount", "match"),
    [
        (Money(0, USD), "more than zero"),
        (Money(-5, USD), "more than zero"),
        (Money(1_200_000, "EUR"), "priced in USD"),
        (Money(999_999, USD), "offers of 10,000.00 USD or more"),
    ],
)
def test_bad_offer_amounts_are_refused(amount, match):
    listing = offers_listing()
    _refused(
        lambda: services.offer_make(listing=listing, buyer=UserFactory(), amount=amount, deal_type="assignment"),
        match,
    )


def test_an_amount_past_2_53_cannot_even_be_built():
    with pytest.raises(ValueError, match="larger than the largest"):
        Money(2**53, USD)


def test_offer_on_ones_own_listing_is_refused():
    listing = offers_listing()
    _refused(
        lambda: services.offer_make(
            listing=listing, buyer=listing.seller, amount=Money(1_200_000, USD), deal_type="assignment"
        ),
        "your own listing",
    )


def test_offer_on_a_fixed_price_listing_without_minimum_is_refused():
    listing = fixed_listing()
    _refused(
        lambda: services.offer_make(
            listing=listing, buyer=UserFactory(), amount=Money(1_200_000, USD), deal_type="assignment"
        ),
        "fixed price",
    )


def test_an_unoffered_deal_type_is_refused():
    listing = offers_listing()
    _refused(
        lambda: services.offer_make(
            listing=listing, buyer=UserFactory(), amount=Money(1_200_000, USD), deal_type="exclusive_licence"
        ),
        "does not offer",
    )


def test_a_second_open_offer_by_the_same_buyer_is_refused():
    offer = _offer()
    _refused(
        lambda: services.offer_make(
            listing=offer.listing, buyer=offer.buyer, amount=Money(1_300_000, USD), deal_type="assignment"
        ),
        "already have an open offer",
    )


def test_only_the_recipient_answers_and_only_the_maker_withdraws():
    offer = _offer()
    stranger = UserFactory()
    _refused(lambda: services.offer_accept(offer=offer, acting_user=offer.buyer), "only the other side")
    _refused(lambda: services.offer_accept(offer=offer, acting_user=stranger), "not yours")
    _refused(lambda: services.offer_reject(offer=offer, acting_user=offer.buyer), "withdraw it instead")
    _refused(lambda: services.offer_withdraw(offer=offer, acting_user=offer.listing.seller), "Only the one")
    _refused(
        lambda: services.offer_counter(offer=offer, acting_user=offer.buyer, amount=Money(1_300_000, USD)),
        "You made this offer",
    )


def test_accepting_an_expired_or_closed_offer_is_refused():
    offer = _offer()
    services.offer_withdraw(offer=offer, acting_user=offer.buyer)
    _refused(lambda: services.offer_accept(offer=offer, acting_user=offer.listing.seller), "withdrawn")
    late = _offer()
    type(late).objects.filter(pk=late.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    _refused(lambda: services.offer_accept(offer=late, acting_user=late.listing.seller), "expired")


def test_accepting_when_the_listing_is_reserved_is_refused():
    listing = offers_listing()
    first, second = _offer(listing), _offer(listing)
    services.offer_accept(offer=first, acting_user=listing.seller)
    _refused(lambda: services.offer_accept(offer=second, acting_user=listing.seller), "expired")

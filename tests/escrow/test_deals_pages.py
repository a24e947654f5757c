"""The deals dashboard and the listing page's buy and offer box (escrow's include template)."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory

from escrow import services
from escrow.models import Deal, Offer
from tests.escrow.test_deals_support import fixed_listing, offers_listing
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_buy_now_button_then_dashboard_shows_the_timeline_to_both_parties():
    listing = fixed_listing(asking_price=2_500_000)
    buyer = UserFactory()
    response = _client(buyer).post(f"/deals/listings/{listing.pk}/buy/")
    assert response.status_code == 302
    deal = Deal.objects.get(listing=listing)
    for user in (buyer, listing.seller):
        page = _client(user).get("/deals/")
        assert page.status_code == 200
        text = page.content.decode()
        assert f"Deal #{deal.pk}" in text
        assert "Awaiting payment" in text
        assert "25,000.00 USD" in text
    assert f"Deal #{deal.pk}" not in _client(UserFactory()).get("/deals/").content.decode()


def test_offer_form_posts_an_offer_and_a_bad_amount_changes_nothing():
    listing = offers_listing()
    buyer = _client(UserFactory())
    bad = buyer.post(f"/deals/listings/{listing.pk}/offer/", {"amount": "-5", "deal_type": "assignment"})
    assert bad.status_code == 302
    assert not Offer.objects.exists()
    buyer.post(f"/deals/listings/{listing.pk}/offer/", {"amount": "12,000", "deal_type": "assignment"})
    offer = Offer.objects.get()
    assert offer.amount == 1_200_000
    seller = _client(listing.seller)
    seller.post(f"/deals/offers/{offer.pk}/accept/")
    assert Deal.objects.get().price == 1_200_000


def test_the_include_template_shows_the_exact_amounts_and_hides_buying_from_the_seller():
    listing = fixed_listing(asking_price=2_500_000)
    template = Template('{% include "escrow/_listing_actions.html" %}')
    request = RequestFactory().get(f"/listings/{listing.pk}/")
    buyer_html = template.render(Context({"listing": listing, "user": UserFactory(), "request": request}))
    assert "Buy now" in buyer_html
    assert "25,000.00 USD" in buyer_html
    seller_html = template.render(Context({"listing": listing, "user": listing.seller, "request": request}))
    assert "Buy now" not in seller_html


def test_a_party_opens_a_dispute_from_the_dashboard():
    deal = services.deal_buy_now(listing=fixed_listing(), buyer=UserFactory())
    deal = services.deal_mark_funded(deal=deal, amount=deal.total_due, payment_reference="pi", idempotency_key="pi")
    _client(deal.buyer).post(f"/deals/{deal.pk}/dispute/", {"reason": "Wrong assignee."})
    assert Deal.objects.get(pk=deal.pk).state == "disputed"
    stranger = _client(UserFactory()).post(f"/deals/{deal.pk}/cancel/")
    assert stranger.status_code == 404

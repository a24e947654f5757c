"""The offers and deals API and pages: status codes, ownership, the OpenAPI schema."""

from __future__ import annotations

import pytest
from django.test import Client

import escrow.admin_deals  # noqa: F401 - registers the deal admin (escrow/admin.py imports it once merged)
from escrow import services
from escrow.models import Deal, DealState
from marketplace.money import Money
from tests.escrow.test_deals_support import fixed_listing, offers_listing, snapshot, staff_user
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_buy_returns_201_with_the_deal_then_409():
    listing = fixed_listing(asking_price=2_500_000)
    response = _client(UserFactory()).post(f"/api/v1/listings/{listing.pk}/buy/", content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["state"], body["price"], body["price_minor"], body["role"]) == (
        "awaiting_payment",
        "25000.00",
        2_500_000,
        "buyer",
    )
    before = snapshot()
    again = _client(UserFactory()).post(f"/api/v1/listings/{listing.pk}/buy/", content_type="application/json")
    assert again.status_code == 409
    assert again.json()["detail"] == "This listing is no longer available: another deal has reserved it."
    assert snapshot() == before


def test_buy_ones_own_listing_is_403_and_anonymous_is_refused():
    listing = fixed_listing()
    assert _client(listing.seller).post(f"/api/v1/listings/{listing.pk}/buy/").status_code == 403
    assert Client().post(f"/api/v1/listings/{listing.pk}/buy/").status_code in (401, 403)
    assert not Deal.objects.exists()


@pytest.mark.parametrize(
    ("amount", "currency", "status"),
    [
        ("0", "USD", 400),
        ("-100", "USD", 400),
        ("90071992547409.92", "USD", 400),
        ("12000", "EUR", 400),
        ("9999.99", "USD", 400),
        ("12000", "USD", 201),
    ],
)
def test_offer_create_validates_the_amount(amount, currency, status):
    listing = offers_listing()
    before = snapshot()
    response = _client(UserFactory()).post(
        "/api/v1/offers/",
        {"listing": listing.pk, "amount": amount, "currency": currency, "deal_type": "assignment"},
        content_type="application/json",
    )
    assert response.status_code == status, response.content
    if status != 201:
        assert response.json()["detail"]
        assert snapshot() == before


def test_offer_flow_through_the_api():
    listing = offers_listing()
    buyer = UserFactory()
    offer = _client(buyer).post(
        "/api/v1/offers/",
        {"listing": listing.pk, "amount": "12,000.00", "currency": "USD", "deal_type": "assignment"},
        content_type="application/json",
    )
    offer_id = offer.json()["id"]
    seller = _client(listing.seller)
    counter = seller.post(
        f"/api/v1/offers/{offer_id}/counter/", {"amount": "15000", "currency": "USD"}, content_type="application/json"
    )
    assert counter.status_code == 201
    deal = _client(buyer).post(f"/api/v1/offers/{counter.json()['id']}/accept/")
    assert deal.status_code == 201
    assert deal.json()["price_minor"] == 1_500_000
    assert [d["id"] for d in _client(buyer).get("/api/v1/deals/").json()["results"]] == [deal.json()["id"]]
    assert _client(listing.seller).get(f"/api/v1/deals/{deal.json()['id']}/").json()["role"] == "seller"


def test_someone_elses_deal_and_offer_are_not_found():
    listing = offers_listing()
    offer = services.offer_make(
        listing=listing, buyer=UserFactory(), amount=Money(1_200_000, "USD"), deal_type="assignment"
    )
    stranger = _client(UserFactory())
    assert stranger.get(f"/api/v1/offers/{offer.pk}/").status_code == 404
    assert stranger.post(f"/api/v1/offers/{offer.pk}/accept/").status_code == 404
    deal = services.deal_buy_now(listing=fixed_listing(), buyer=UserFactory())
    assert stranger.get(f"/api/v1/deals/{deal.pk}/").status_code == 404
    assert stranger.get("/api/v1/deals/").json()["results"] == []


def test_the_schema_lists_the_deal_endpoints():
    schema = _client(UserFactory()).get("/api/schema/", HTTP_ACCEPT="application/json")
    paths = schema.json()["paths"] if schema["Content-Type"].startswith("application/json") else None
    if paths is None:
        import yaml

        paths = yaml.safe_load(schema.content)["paths"]
    for path in (
        "/api/v1/listings/{listing_id}/buy/",
        "/api/v1/offers/",
        "/api/v1/offers/{offer_id}/accept/",
        "/api/v1/deals/",
    ):
        assert path in paths
    assert "409" in paths["/api/v1/listings/{listing_id}/buy/"]["post"]["responses"]


def test_the_admin_marks_recorded_and_decides_a_dispute_with_a_reason(registry):
    deal = services.deal_buy_now(listing=fixed_listing(), buyer=UserFactory())
    registry.record(deal.listing)
    deal = services.deal_mark_funded(deal=deal, amount=deal.total_due, payment_reference="pi", idempotency_key="pi")
    staff = staff_user(decide=True)
    staff.is_superuser = True
    staff.save()
    admin = _client(staff)
    url = "/admin/escrow/deal/"
    response = admin.post(url, {"action": "mark_recorded", "_selected_action": [deal.pk]})
    assert response.status_code == 302
    assert Deal.objects.get(pk=deal.pk).state == DealState.RECORDED
    services.deal_dispute_open(deal=deal, acting_user=deal.buyer, reason="Wrong assignee.")
    form = admin.post(url, {"action": "decide_release", "_selected_action": [deal.pk]})
    assert form.status_code == 200
    assert b"Reason" in form.content
    assert Deal.objects.get(pk=deal.pk).state == DealState.DISPUTED
    admin.post(url, {"action": "decide_release", "_selected_action": [deal.pk], "apply": "1", "reason": "Checked."})
    decided = Deal.objects.get(pk=deal.pk)
    assert decided.state == DealState.RELEASED
    assert decided.decision_reason == "Checked."
    assert decided.events.last().actor_id == staff.pk

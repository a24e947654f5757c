"""Value-added services (broker, valuation, translation) in the fee schedule: zero by default,
chosen per deal or offer, shown to both parties with the exact amounts before they commit, copied
into the deal line by line, and posted on release, each fee to its own revenue account."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from escrow import services
from escrow.ledger import account_balance, ledger_check
from escrow.models import Deal, DealFee, FeeSchedule, Journal, JournalKind, Offer
from escrow.services import DealError
from escrow.services.common import Refusal
from escrow.services.deals import deal_fee_revenue_account
from escrow.services.fees import fee_quote
from marketplace.money import Money
from tests.escrow.test_deals_support import (
    deal_balances,
    deal_fresh,
    fixed_listing,
    offers_listing,
    snapshot,
    staff_user,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

USD = "USD"


def schedule(**fees: object) -> FeeSchedule:
    """2% transaction fee on the seller, and the three services priced, on the buyer unless told."""
    values: dict[str, object] = {
        "currency": USD,
        "transaction_fee_basis_points": 200,
        "transaction_fee_payer": "seller",
        "broker_fee_basis_points": 150,
        "valuation_fee": 50_000,
        "translation_fee": 12_345,
    }
    values.update(fees)
    return FeeSchedule.objects.create(**values)


def test_services_cost_nothing_by_default_and_are_kept_on_the_deal():
    listing = fixed_listing()
    deal = services.deal_buy_now(listing=listing, buyer=UserFactory.create(), services=["valuation", "broker"])

    deal = deal_fresh(deal)
    assert deal.services == ["broker", "valuation"]  # the schedule's order, whatever the order asked
    assert (deal.buyer_fee, deal.seller_fee) == (0, 0)
    assert not DealFee.objects.filter(deal=deal).exists()
    assert FeeSchedule().valuation_fee == 0  # a new schedule starts free too


def test_the_quote_breaks_each_fee_down_with_its_basis_and_payer():
    schedule(broker_fee_payer="split", translation_fee_payer="seller")

    quote = fee_quote(price=Money(1_000_001, USD), services=["translation", "broker", "valuation"])

    assert [(line.kind, line.buyer_part.amount, line.seller_part.amount, line.basis) for line in quote.lines] == [
        ("transaction", 0, 20_000, "2.00% of the price, paid by the seller"),
        # 1.5% of 10,000.01 = 15,000.015 cents -> 15,000, split 7,500 / 7,500.
        ("broker", 7_500, 7_500, "1.50% of the price, shared equally"),
        ("valuation", 50_000, 0, "per deal, paid by the buyer"),
        ("translation", 0, 12_345, "per deal, paid by the seller"),
    ]
    assert quote.buyer_pays == Money(1_000_001 + 57_500, USD)
    assert quote.seller_receives == Money(1_000_001 - 20_000 - 7_500 - 12_345, USD)


def test_buy_now_with_a_service_the_buyer_pays_copies_every_fee_into_the_deal():
    schedule()
    listing = fixed_listing(asking_price=2_000_000)

    deal = deal_fresh(services.deal_buy_now(listing=listing, buyer=UserFactory.create(), services=["valuation"]))

    assert (deal.buyer_fee, deal.seller_fee) == (50_000, 40_000)
    assert deal.total_due == Money(2_050_000, USD)
    assert sorted(deal.fees.values_list("kind", "buyer_amount", "seller_amount")) == [
        ("transaction", 0, 40_000),
        ("valuation", 50_000, 0),
    ]
    # A later change of schedule does not touch the deal the parties saw.
    FeeSchedule.objects.update(valuation_fee=99_999)
    assert deal_fresh(deal).total_due == Money(2_050_000, USD)


def test_buy_now_with_a_service_that_costs_the_seller_is_refused_and_nothing_changes():
    schedule(translation_fee_payer="seller")
    listing = fixed_listing()
    before = snapshot()

    with pytest.raises(DealError, match="the seller must agree") as refused:
        services.deal_buy_now(listing=listing, buyer=UserFactory.create(), services=["translation"])

    assert refused.value.code == Refusal.INVALID
    assert snapshot() == before


@pytest.mark.parametrize("asked", [["appraisal"], "valuation", [None]])
def test_an_unknown_service_is_refused_and_nothing_changes(asked):
    listing = offers_listing()
    before = snapshot()

    with pytest.raises(DealError, match=r"Unknown service|a list of names") as refused:
        services.offer_make(
            listing=listing,
            buyer=UserFactory.create(),
            amount=Money(1_500_000, USD),
            deal_type="assignment",
            services=asked,
        )

    assert refused.value.code == Refusal.INVALID
    assert snapshot() == before


def test_the_database_refuses_an_unknown_service_and_negative_service_fees():
    deal = services.deal_buy_now(listing=fixed_listing(), buyer=UserFactory.create())
    with pytest.raises(IntegrityError), transaction.atomic():
        Deal.objects.filter(pk=deal.pk).update(services=["appraisal"])
    with pytest.raises(IntegrityError), transaction.atomic():
        FeeSchedule.objects.create(currency=USD, valuation_fee=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        FeeSchedule.objects.create(currency=USD, broker_fee_basis_points=10_001)


def test_an_offer_with_services_shows_the_seller_the_exact_amounts_and_the_deal_copies_them(client):
    schedule(valuation_fee_payer="seller")
    listing = offers_listing()
    buyer = UserFactory.create()
    offer = services.offer_make(
        listing=listing, buyer=buyer, amount=Money(1_500_000, USD), deal_type="assignment", services=["valuation"]
    )

    client.force_login(listing.seller)
    page = client.get("/deals/").content.decode()
    # 1,500,000 - 2% (30,000) - valuation 50,000 = 1,420,000 cents: shown before accepting.
    assert "you receive 14,200.00 USD" in page
    assert "Valuation report -500.00 USD" in page

    deal = deal_fresh(services.offer_accept(offer=offer, acting_user=listing.seller))
    assert deal.services == ["valuation"]
    assert deal.seller_proceeds == Money(1_420_000, USD)
    assert deal.total_due == Money(1_500_000, USD)


def test_a_counter_keeps_the_services_unless_it_names_others():
    schedule()
    listing = offers_listing()
    buyer = UserFactory.create()
    offer = services.offer_make(
        listing=listing, buyer=buyer, amount=Money(1_500_000, USD), deal_type="assignment", services=["broker"]
    )

    kept = services.offer_counter(offer=offer, acting_user=listing.seller, amount=Money(1_800_000, USD))
    changed = services.offer_counter(
        offer=kept, acting_user=buyer, amount=Money(1_600_000, USD), services=["translation"]
    )

    assert Offer.objects.get(pk=kept.pk).services == ["broker"]
    assert Offer.objects.get(pk=changed.pk).services == ["translation"]


def test_the_release_posts_each_fee_to_its_own_revenue_account(registry):
    schedule(transaction_fee_payer="split")
    listing = fixed_listing(asking_price=2_000_000)
    deal = services.deal_buy_now(listing=listing, buyer=UserFactory.create(), services=["valuation", "broker"])
    registry.record(deal.listing)
    deal = services.deal_mark_funded(
        deal=deal, amount=deal.total_due, payment_reference="pi_s", idempotency_key="payment_intent:pi_s"
    )
    staff = staff_user()
    services.deal_mark_recorded(deal=deal, acting_user=staff)

    services.deal_release(deal=deal, acting_user=staff)

    deal = deal_fresh(deal)
    # Transaction 2% = 40,000 split 20,000/20,000; broker 1.5% = 30,000; valuation 50,000.
    assert deal.total_due == Money(2_000_000 + 20_000 + 30_000 + 50_000, USD)
    assert deal_balances(deal).payable == Money(2_000_000 - 20_000, USD)
    revenue = {
        kind: account_balance(account=deal_fee_revenue_account(kind=kind, currency=USD)).amount
        for kind in ("transaction", "broker", "valuation", "translation")
    }
    assert revenue == {"transaction": 40_000, "broker": 30_000, "valuation": 50_000, "translation": 0}
    released = Journal.objects.get(kind=JournalKind.DEAL_RELEASED)
    assert released.entries.count() == 5  # escrow, seller payable and three fee lines
    assert ledger_check().balanced


def test_a_refund_returns_the_service_fees_with_the_price():
    schedule()
    deal = services.deal_buy_now(listing=fixed_listing(), buyer=UserFactory.create(), services=["valuation"])
    deal = services.deal_mark_funded(
        deal=deal, amount=deal.total_due, payment_reference="pi_r", idempotency_key="payment_intent:pi_r"
    )

    refunded = services.deal_refund(deal=deal, acting_user=staff_user(), reason="The office refused the transfer.")

    assert deal_balances(refunded).refunds == Money(2_500_000 + 50_000, USD)
    assert account_balance(account=deal_fee_revenue_account(kind="valuation", currency=USD)).is_zero


def test_the_listing_page_shows_each_services_exact_fee_before_buying(client):
    schedule(translation_fee_payer="seller")
    listing = fixed_listing(asking_price=2_000_000)
    client.force_login(UserFactory.create())

    page = client.get(f"/listings/{listing.pk}/").content.decode()

    assert "+ 30.00 USD to what you pay" not in page  # the broker is 1.5%: 300.00
    assert "+ 300.00 USD to what you pay" in page
    assert "+ 500.00 USD to what you pay" in page
    assert "the seller pays 123.45 USD of it, so it needs an offer the seller accepts" in page
    assert 'value="translation" id="buy-service-translation" disabled' in page


def test_the_listing_page_reads_the_fee_schedule_once_for_all_its_amounts(client):
    schedule()
    listing = fixed_listing(asking_price=2_000_000)
    client.force_login(UserFactory.create())

    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/listings/{listing.pk}/").content.decode()

    # The price with its fees, each service's fee and the offer form's fee rules: one schedule.
    assert "+ 300.00 USD to what you pay" in page
    assert sum('"escrow_feeschedule"' in query["sql"] for query in queries.captured_queries) == 1


def test_the_buy_form_and_the_api_take_services(client):
    schedule()
    listing = fixed_listing()
    buyer = UserFactory.create()
    client.force_login(buyer)

    refused = client.post(
        f"/api/v1/listings/{listing.pk}/buy/", {"services": ["appraisal"]}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert not Deal.objects.exists()

    response = client.post(
        f"/api/v1/listings/{listing.pk}/buy/", {"services": ["valuation"]}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["services"] == ["valuation"]
    assert {(fee["kind"], fee["buyer_amount"], fee["seller_amount"]) for fee in body["fees"]} == {
        ("transaction", 0, 50_000),
        ("valuation", 50_000, 0),
    }
    assert body["total_due"] == "25500.00"


def test_the_offer_api_shows_the_quote_and_the_schema_names_the_services(client):
    schedule()
    listing = offers_listing()
    client.force_login(UserFactory.create())

    response = client.post(
        "/api/v1/offers/",
        {"listing": listing.pk, "amount": "15,000", "currency": USD, "deal_type": "assignment", "services": ["broker"]},
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    quote = response.json()["quote"]
    assert (quote["buyer_pays"], quote["seller_receives"]) == ("15225.00", "14700.00")
    assert [line["kind"] for line in quote["lines"]] == ["transaction", "broker"]
    schema = client.get("/api/schema/?format=json").json()
    assert "services" in schema["components"]["schemas"]["OfferCreate"]["properties"]


def test_staff_edit_the_service_fees_in_the_admin(client):
    admin = UserFactory.create(is_staff=True, is_superuser=True)
    client.force_login(admin)

    page = client.get("/admin/escrow/feeschedule/add/")

    assert page.status_code == 200
    content = page.content.decode()
    for field in ("broker_fee_basis_points", "valuation_fee", "translation_fee_payer"):
        assert f'name="{field}"' in content
    assert Permission.objects.filter(codename="change_feeschedule").exists()

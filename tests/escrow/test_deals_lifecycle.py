"""The deal lifecycle through its services: buy now, funding, transfer, release, refund, disputes,
cancellation of unpaid deals; and every refusal leaves everything as it was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from escrow import services
from escrow.ledger import ledger_check
from escrow.models import Deal, DealState, FeeSchedule, Journal, JournalKind
from escrow.services import DealError
from marketplace.money import Money
from tests.escrow.test_deals_support import (
    deal_balances,
    deal_fresh,
    fixed_listing,
    listing_state,
    offers_listing,
    snapshot,
    staff_user,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

USD = "USD"


def _bought(**terms: object) -> Deal:
    listing = fixed_listing(**terms)
    return services.deal_buy_now(listing=listing, buyer=UserFactory.create())


def _funded(**terms: object) -> Deal:
    deal = _bought(**terms)
    return services.deal_mark_funded(
        deal=deal, amount=deal.total_due, payment_reference="pi_1", idempotency_key=f"pi_1:{deal.pk}"
    )


def _recorded(**terms: object) -> Deal:
    deal = _funded(**terms)
    staff = staff_user()
    services.deal_start_transfer(deal=deal, acting_user=staff)
    return services.deal_mark_recorded(deal=deal, acting_user=staff)


def test_buy_now_creates_a_deal_awaiting_payment_and_reserves_the_listing():
    listing = fixed_listing(asking_price=2_500_000)
    buyer = UserFactory()
    deal = services.deal_buy_now(listing=listing, buyer=buyer)
    deal = deal_fresh(deal)
    assert deal.state == DealState.AWAITING_PAYMENT
    assert (deal.buyer_id, deal.seller_id, deal.price, deal.currency) == (buyer.pk, listing.seller_id, 2_500_000, USD)
    assert (deal.buyer_fee, deal.seller_fee) == (0, 0)
    assert listing_state(listing) == "reserved"
    assert [(e.from_state, e.to_state) for e in deal.events.all()] == [("", "agreed"), ("agreed", "awaiting_payment")]
    assert timezone.now() + timedelta(days=4) < deal.payment_deadline <= timezone.now() + timedelta(days=5)


def test_the_fee_schedule_is_copied_into_the_deal():
    FeeSchedule.objects.create(
        currency=USD,
        registration_fee=10_000,
        registration_fee_payer="buyer",
        transaction_fee_basis_points=250,
        transaction_fee_payer="split",
    )
    deal = _bought(asking_price=1_000_001)
    # 2.5% of 10,000.01 USD = 25,000.025 cents -> 25,000 cents, split 12,500 / 12,500.
    assert (deal.buyer_fee, deal.seller_fee) == (10_000 + 12_500, 12_500)
    assert deal.total_due == Money(1_000_001 + 22_500, USD)


def test_the_whole_path_moves_the_money_once_to_the_seller(registry):
    FeeSchedule.objects.create(currency=USD, transaction_fee_basis_points=500, transaction_fee_payer="seller")
    deal = _recorded(asking_price=2_000_000)
    registry.record(deal.listing)
    assert deal_balances(deal).escrow == Money(2_000_000, USD)
    deal = services.deal_release(deal=deal, acting_user=staff_user())
    balances = deal_balances(deal)
    assert deal_fresh(deal).state == DealState.RELEASED
    assert (balances.escrow, balances.payable, balances.refunds) == (
        Money(0, USD),
        Money(1_900_000, USD),
        Money(0, USD),
    )
    assert listing_state(deal.listing) == "sold"
    assert ledger_check().balanced
    closed = services.deal_close(deal=deal)
    assert deal_fresh(closed).state == DealState.CLOSED


def test_funding_is_idempotent_for_the_same_payment():
    deal = _bought()
    args = {"amount": deal.total_due, "payment_reference": "pi_9", "idempotency_key": "pi_9"}
    services.deal_mark_funded(deal=deal, **args)
    before = snapshot()
    again = services.deal_mark_funded(deal=deal, **args)
    assert again.state == DealState.FUNDED
    assert snapshot() == before
    assert Journal.objects.filter(kind=JournalKind.DEAL_FUNDED, reference=deal.reference).count() == 1


def test_a_payment_after_cancellation_is_owed_back_and_the_deal_stays_cancelled():
    deal = _bought()
    services.deals_cancel_unpaid(now=deal.payment_deadline + timedelta(seconds=1))
    deal = services.deal_mark_funded(
        deal=deal, amount=deal.total_due, payment_reference="pi_late", idempotency_key="pi_late"
    )
    assert deal.state == DealState.CANCELLED
    balances = deal_balances(deal)
    assert (balances.escrow, balances.refunds) == (Money(0, USD), deal.total_due)
    assert deal.refunded_amount == deal.funded_amount == deal.total_due.amount


def test_unpaid_deals_are_cancelled_after_the_deadline_and_the_listing_released():
    deal = _bought()
    assert services.deals_cancel_unpaid(now=deal.payment_deadline - timedelta(seconds=1)) == []
    assert services.deals_cancel_unpaid(now=deal.payment_deadline + timedelta(seconds=1)) == [deal.pk]
    assert deal_fresh(deal).state == DealState.CANCELLED
    assert listing_state(deal.listing) == "published"
    # Twice changes nothing; the listing can be bought again.
    assert services.deals_cancel_unpaid(now=deal.payment_deadline + timedelta(days=1)) == []
    second = services.deal_buy_now(listing=deal.listing, buyer=UserFactory.create())
    assert second.state == DealState.AWAITING_PAYMENT


def test_a_funded_deal_is_not_cancelled_by_the_sweep():
    deal = _funded()
    assert services.deals_cancel_unpaid(now=deal.payment_deadline + timedelta(days=1)) == []
    assert deal_fresh(deal).state == DealState.FUNDED


def test_refund_moves_the_escrow_to_refunds_payable_and_releases_the_listing():
    deal = _funded()
    deal = services.deal_refund(deal=deal, acting_user=staff_user(), reason="The office refused the transfer.")
    balances = deal_balances(deal)
    assert deal_fresh(deal).state == DealState.REFUNDED
    assert (balances.escrow, balances.refunds, balances.payable) == (Money(0, USD), deal.total_due, Money(0, USD))
    assert listing_state(deal.listing) == "published"


def test_a_dispute_freezes_money_until_staff_decide_a_release(registry):
    deal = _recorded()
    registry.record(deal.listing)
    services.deal_dispute_open(deal=deal, acting_user=deal.buyer, reason="The assignment names the wrong entity.")
    before = snapshot()
    with pytest.raises(DealError, match="disputed"):
        services.deal_release(deal=deal, acting_user=staff_user())
    with pytest.raises(DealError, match="disputed"):
        services.deal_refund(deal=deal, acting_user=staff_user(), reason="x")
    assert snapshot() == before
    decided = services.deal_dispute_decide(
        deal=deal, acting_user=staff_user(decide=True), outcome="release", reason="The recordation is correct."
    )
    assert deal_fresh(decided).state == DealState.RELEASED
    assert deal_balances(deal).payable == deal.seller_proceeds
    assert decided.events.last().note.startswith("Dispute decided by staff for a release")


def test_a_dispute_decided_for_the_buyer_refunds():
    deal = _funded()
    services.deal_dispute_open(deal=deal, acting_user=deal.seller, reason="Buyer asks for changed terms.")
    services.deal_dispute_decide(deal=deal, acting_user=staff_user(decide=True), outcome="refund", reason="Agreed.")
    assert deal_fresh(deal).state == DealState.REFUNDED
    assert deal_balances(deal).refunds == deal.total_due


# --- Refusals: a clear error, and nothing changed ------------------------------------------------


def _refused(call, match: str) -> None:
    before = snapshot()
    with pytest.raises(DealError, match=match):
        call()
    assert snapshot() == before


def test_buying_ones_own_listing_is_refused():
    listing = fixed_listing()
    _refused(lambda: services.deal_buy_now(listing=listing, buyer=listing.seller), "your own listing")


def test_buying_an_unpublished_listing_is_refused():
    listing = fixed_listing(publish=False)
    _refused(lambda: services.deal_buy_now(listing=listing, buyer=UserFactory.create()), "not available")


def test_buying_a_price_on_request_listing_is_refused():
    listing = fixed_listing(price_mode="on_request", asking_price=None)
    _refused(lambda: services.deal_buy_now(listing=listing, buyer=UserFactory.create()), "no asking price")


def test_buying_a_reserved_listing_is_refused():
    deal = _bought()
    _refused(lambda: services.deal_buy_now(listing=deal.listing, buyer=UserFactory.create()), "no longer available")


def test_paying_twice_with_another_payment_is_refused():
    deal = _funded()
    _refused(
        lambda: services.deal_mark_funded(
            deal=deal, amount=deal.total_due, payment_reference="pi_2", idempotency_key="pi_2"
        ),
        "already paid",
    )


@pytest.mark.parametrize(
    ("amount", "match"),
    [
        (Money(0, USD), "exactly"),
        (Money(-2_500_000, USD), "exactly"),
        (Money(2_499_999, USD), "exactly"),
        (Money(2_500_000, "EUR"), "paid in USD"),
    ],
)
def test_funding_with_a_wrong_amount_or_currency_is_refused(amount, match):
    deal = _bought(asking_price=2_500_000)
    _refused(
        lambda: services.deal_mark_funded(deal=deal, amount=amount, payment_reference="pi", idempotency_key="pi"),
        match,
    )


def test_release_before_recording_is_refused():
    deal = _funded()
    _refused(lambda: services.deal_release(deal=deal, acting_user=staff_user()), "recorded first")


def test_a_staff_decision_cannot_release_before_recording():
    deal = _funded()
    services.deal_dispute_open(deal=deal, acting_user=deal.buyer, reason="Seller is silent.")
    _refused(
        lambda: services.deal_dispute_decide(
            deal=deal, acting_user=staff_user(decide=True), outcome="release", reason="Pay him."
        ),
        "only after the transfer is recorded",
    )


def test_refund_after_release_is_refused(registry):
    deal = _recorded()
    registry.record(deal.listing)
    deal = services.deal_release(deal=deal, acting_user=staff_user())
    _refused(
        lambda: services.deal_refund(deal=deal, acting_user=staff_user(), reason="Too late."), "cannot be refunded"
    )


def test_refund_of_an_unpaid_deal_is_refused():
    deal = _bought()
    _refused(lambda: services.deal_refund(deal=deal, acting_user=staff_user(), reason="x"), "cannot be refunded")


def test_recording_out_of_order_is_refused():
    deal = _bought()
    _refused(lambda: services.deal_mark_recorded(deal=deal, acting_user=staff_user()), "cannot be marked recorded")


def test_acting_on_someone_elses_deal_is_refused():
    deal = _funded()
    stranger = UserFactory()
    _refused(lambda: services.deal_dispute_open(deal=deal, acting_user=stranger, reason="Mine!"), "not yours")
    _refused(lambda: services.deal_cancel(deal=deal, acting_user=stranger), "not yours")
    _refused(lambda: services.deal_refund(deal=deal, acting_user=stranger, reason="x"), "Only the seller or staff")
    _refused(lambda: services.deal_release(deal=deal, acting_user=stranger), "Only staff")
    _refused(lambda: services.deal_mark_recorded(deal=deal, acting_user=deal.seller), "Only staff")


def test_deciding_a_dispute_needs_the_permission():
    deal = _funded()
    services.deal_dispute_open(deal=deal, acting_user=deal.buyer, reason="x")
    _refused(
        lambda: services.deal_dispute_decide(deal=deal, acting_user=staff_user(), outcome="refund", reason="x"),
        "permission",
    )


def test_a_dispute_needs_a_reason_and_held_money():
    deal = _bought()
    _refused(lambda: services.deal_dispute_open(deal=deal, acting_user=deal.buyer, reason="  "), "reason")
    _refused(lambda: services.deal_dispute_open(deal=deal, acting_user=deal.buyer, reason="x"), "no money is held")


def test_cancelling_a_paid_deal_is_refused():
    deal = _funded()
    _refused(lambda: services.deal_cancel(deal=deal, acting_user=deal.buyer), "paid already")


def test_the_database_refuses_a_second_active_deal_on_a_listing():
    deal = _bought()
    with pytest.raises(IntegrityError), transaction.atomic():
        Deal.objects.create(
            listing=deal.listing,
            buyer=UserFactory(),
            seller=deal.seller,
            deal_type="assignment",
            currency=USD,
            price=1,
        )


def test_offers_listing_cannot_be_bought_now():
    listing = offers_listing()
    _refused(lambda: services.deal_buy_now(listing=listing, buyer=UserFactory.create()), "make an offer")

"""The seller's margin deposit: paid by card at localstripe to publish, returned once, forfeited
only by staff with the permission and a reason."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import TestCase

from escrow import margin, payments
from escrow.ledger import account_balance, ledger_account_for
from escrow.models import Journal, JournalKind, LedgerAccountKind, MarginDeposit, MarginRule, StripeRequest
from listings.models import Listing, ListingState
from marketplace.money import Money
from tests.escrow.money_path import card_confirm, listing_awaiting_margin, tasks_sent
from tests.factories import UserFactory


def paid_margin(listing: Listing) -> MarginDeposit:
    deposit, intent = margin.margin_payment_start(listing=listing, seller=listing.seller)
    card_confirm(intent.id)
    payments.payment_intent_settle(payment_intent_id=intent.id)
    return MarginDeposit.objects.get(pk=deposit.pk)


def deposit_held(deposit: MarginDeposit) -> Money:
    account = ledger_account_for(
        kind=LedgerAccountKind.SELLER_DEPOSIT,
        owner=deposit.seller,
        currency=deposit.currency,
        reference=deposit.reference,
    )
    return account_balance(account=account)


@pytest.mark.parametrize(
    ("rule", "asking_price", "expected"),
    [
        ({"basis_points": 100, "minimum": 10_000, "maximum": 500_000}, 2_500_000, 25_000),
        ({"basis_points": 100, "minimum": 10_000, "maximum": 500_000}, 100_000, 10_000),
        ({"basis_points": 100, "minimum": 10_000, "maximum": 500_000}, 900_000_000, 500_000),
        ({"basis_points": 125, "minimum": 0, "maximum": None}, 2_004, 25),  # 25.05 rounds half-up to 25
        ({"fixed_amount": 50_000}, 2_500_000, 50_000),
        ({"basis_points": 100, "minimum": 10_000, "maximum": None}, None, 10_000),
    ],
)
def test_the_rule_gives_a_percentage_between_minimum_and_maximum_or_a_fixed_amount(rule, asking_price, expected):
    assert MarginRule(currency="USD", **rule).amount_for(asking_price=asking_price) == Money(expected, "USD")


def test_the_seller_pays_the_margin_by_card_and_the_listing_is_published(client, db, settings):
    listing = listing_awaiting_margin(settings)
    assert listing.state == ListingState.AWAITING_MARGIN
    client.force_login(listing.seller)
    assert "Pay margin deposit" in client.get(f"/listings/{listing.pk}/").content.decode()

    page = client.get(f"/deals/margin/{listing.pk}/")
    assert page.status_code == 200
    assert "250.00 USD" in page.content.decode()  # 1% of 25,000.00
    intent_id = StripeRequest.objects.get(idempotency_key=f"listing:{listing.pk}:margin").response_object_id
    card_confirm(intent_id)
    response = client.get(f"/deals/margin/{listing.pk}/return/")
    client.get(f"/deals/margin/{listing.pk}/return/")  # twice: applied once

    assert response.status_code == 302
    assert Listing.objects.get(pk=listing.pk).state == ListingState.PUBLISHED
    deposit = MarginDeposit.objects.get(listing=listing)
    assert (deposit.state, deposit.payment_intent_id) == ("paid", intent_id)
    assert deposit_held(deposit) == Money(25_000, "USD")
    journal = Journal.objects.get(kind=JournalKind.MARGIN_DEPOSIT_PAID)
    assert journal.reference.startswith("txn_")


def test_a_margin_for_a_listing_not_awaiting_it_or_not_ones_own_is_refused_and_nothing_changes(client, db, settings):
    listing = listing_awaiting_margin(settings)
    stranger = UserFactory.create()
    with pytest.raises(margin.MarginError, match="Only the listing's seller"):
        margin.margin_payment_start(listing=listing, seller=stranger)
    paid_margin(listing)
    before = (StripeRequest.objects.count(), Journal.objects.count())

    with pytest.raises(margin.MarginError, match="not awaiting a margin deposit"):
        margin.margin_payment_start(listing=Listing.objects.get(pk=listing.pk), seller=listing.seller)
    client.force_login(listing.seller)
    response = client.get(f"/deals/margin/{listing.pk}/", follow=True)

    assert "not awaiting a margin deposit" in response.content.decode()
    assert (StripeRequest.objects.count(), Journal.objects.count()) == before
    assert MarginDeposit.objects.get().state == "paid"


def test_a_withdrawn_listing_gets_its_margin_back_once(db, settings, monkeypatch):
    listing = listing_awaiting_margin(settings)
    deposit = paid_margin(listing)

    with tasks_sent(monkeypatch) as sent, TestCase.captureOnCommitCallbacks(execute=True):
        margin.listing_withdraw_returning_margin(listing=Listing.objects.get(pk=listing.pk), acting_user=listing.seller)
    with tasks_sent(monkeypatch) as sent_again, TestCase.captureOnCommitCallbacks(execute=True):
        assert margin.margin_deposits_settle() == []
    assert sent == [("escrow.margin_refund_pay", deposit.pk)]
    assert sent_again == []

    assert margin.margin_refund_pay(deposit_id=deposit.pk) == "returned"
    assert margin.margin_refund_pay(deposit_id=deposit.pk) == "nothing"
    deposit = MarginDeposit.objects.get(pk=deposit.pk)
    assert deposit.state == "returned"
    assert deposit.refund_id.startswith("re_")
    assert deposit_held(deposit) == Money(0, "USD")
    assert StripeRequest.objects.filter(purpose="refund").count() == 1
    assert Journal.objects.filter(kind=JournalKind.MARGIN_DEPOSIT_RETURNED).count() == 1
    assert Listing.objects.get(pk=listing.pk).state == ListingState.WITHDRAWN


def test_forfeiture_needs_staff_with_the_permission_and_a_reason(db, settings):
    listing = listing_awaiting_margin(settings)
    deposit = paid_margin(listing)
    plain_staff = UserFactory.create(is_staff=True)
    decider = UserFactory.create(is_staff=True)
    decider.user_permissions.add(Permission.objects.get(codename="forfeit_margin"))

    with pytest.raises(margin.MarginError, match="permission"):
        margin.margin_deposit_forfeit(deposit=deposit, acting_user=plain_staff, reason="Misrepresented the right")
    with pytest.raises(margin.MarginError, match="permission"):
        margin.margin_deposit_forfeit(deposit=deposit, acting_user=listing.seller, reason="x")
    decider = type(decider).objects.get(pk=decider.pk)  # fresh permission cache
    with pytest.raises(margin.MarginError, match="reason"):
        margin.margin_deposit_forfeit(deposit=deposit, acting_user=decider, reason="   ")
    assert MarginDeposit.objects.get(pk=deposit.pk).state == "paid"
    assert not Journal.objects.filter(kind=JournalKind.MARGIN_DEPOSIT_FORFEITED).exists()

    margin.margin_deposit_forfeit(deposit=deposit, acting_user=decider, reason="Failed to sign in time")

    deposit = MarginDeposit.objects.get(pk=deposit.pk)
    assert (deposit.state, deposit.forfeiture_reason, deposit.decided_by_id) == (
        "forfeited",
        "Failed to sign in time",
        decider.pk,
    )
    assert deposit_held(deposit) == Money(0, "USD")
    with pytest.raises(margin.MarginError, match="cannot be forfeited"):
        margin.margin_deposit_forfeit(deposit=deposit, acting_user=decider, reason="Again")
    assert Journal.objects.filter(kind=JournalKind.MARGIN_DEPOSIT_FORFEITED).count() == 1

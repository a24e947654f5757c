"""Release pays the seller's Connect account by transfer, once, even when Stripe's answer is
lost; a seller without an account stays owed until onboarding. Against the HTTP stand-in for
Stripe (localstripe has no Connect)."""

from __future__ import annotations

import pytest
from django.test import TestCase

from escrow import payouts, services, stripe_gateway
from escrow.ledger import account_balance
from escrow.models import ConnectedAccount, Deal, DealState, Journal, JournalKind, StripeRequest
from escrow.services.deals import deal_seller_payable_account
from marketplace.money import Money
from tests.escrow.money_path import deal_awaiting_payment, tasks_sent
from tests.escrow.stripe_fakes import fake_stripe_running
from tests.factories import UserFactory


@pytest.fixture
def fake(settings, db):
    with fake_stripe_running() as running:
        settings.STRIPE_API_BASE = running.url
        settings.STRIPE_SECRET_KEY = "sk_test_standin"
        settings.STRIPE_MAX_NETWORK_RETRIES = 0  # our task retries, not the SDK
        yield running


def released_deal(monkeypatch, registry) -> tuple[Deal, list]:
    deal = deal_awaiting_payment()
    registry.record(deal.listing)
    services.deal_mark_funded(
        deal=deal, amount=deal.total_due, payment_reference="pi_standin", idempotency_key="payment_intent:pi_standin"
    )
    staff = UserFactory.create(is_staff=True)
    services.deal_mark_recorded(deal=deal, acting_user=staff)
    with tasks_sent(monkeypatch) as sent, TestCase.captureOnCommitCallbacks(execute=True):
        services.deal_release(deal=deal, acting_user=staff)
    return Deal.objects.get(pk=deal.pk), sent


def onboarded(fake, user) -> ConnectedAccount:
    payouts.connected_account_start(user=user, refresh_url="http://t/r", return_url="http://t/d")
    account = ConnectedAccount.objects.get(user=user)
    fake.accounts[account.stripe_account_id]["capabilities"]["transfers"] = "active"
    fake.accounts[account.stripe_account_id]["payouts_enabled"] = True
    return account


def test_release_queues_the_payout_on_commit_and_a_seller_without_an_account_stays_owed(fake, monkeypatch, registry):
    deal, sent = released_deal(monkeypatch, registry)

    assert sent == [("escrow.deal_payout", deal.pk)]
    assert payouts.deal_payout(deal_id=deal.pk) == "owed"
    assert account_balance(account=deal_seller_payable_account(deal=deal)) == Money(2_500_000, "USD")
    assert payouts.seller_owed(user=deal.seller) == [(deal, Money(2_500_000, "USD"))]
    assert not [request for request in fake.requests if request[1] == "/v1/transfers"]


def test_a_release_whose_transfer_answer_is_lost_pays_once_on_retry(fake, monkeypatch, registry):
    deal, _ = released_deal(monkeypatch, registry)
    account = onboarded(fake, deal.seller)
    with tasks_sent(monkeypatch) as sent, TestCase.captureOnCommitCallbacks(execute=True):
        payouts.connected_account_refresh(stripe_account_id=account.stripe_account_id)
    assert sent == [("escrow.deal_payout", deal.pk)]

    fake.drop_responses = 1
    with pytest.raises(stripe_gateway.StripeUnavailable):
        payouts.deal_payout(deal_id=deal.pk)
    assert len(fake.transfers) == 1  # Stripe moved the money; we did not hear
    assert not Journal.objects.filter(kind=JournalKind.SELLER_PAYOUT).exists()

    assert payouts.deal_payout(deal_id=deal.pk) == "paid"
    assert payouts.deal_payout(deal_id=deal.pk) == "nothing"

    assert len(fake.transfers) == 1
    transfer = next(iter(fake.transfers.values()))
    assert (transfer["amount"], transfer["destination"]) == (2_500_000, account.stripe_account_id)
    keys = [key for method, path, key in fake.requests if path == "/v1/transfers"]
    assert keys == [f"deal:{deal.pk}:transfer", f"deal:{deal.pk}:transfer"]
    assert StripeRequest.objects.get(purpose="transfer").attempts == 2
    payout = Journal.objects.get(kind=JournalKind.SELLER_PAYOUT)
    assert payout.reference == transfer["balance_transaction"]
    assert account_balance(account=deal_seller_payable_account(deal=deal)) == Money(0, "USD")
    assert Deal.objects.get(pk=deal.pk).state == DealState.CLOSED


def test_account_updated_webhook_stores_what_stripe_says_after_re_reading_it(fake, client, monkeypatch):
    from escrow.webhooks import stripe_event_process
    from tests.escrow.money_path import webhook_deliver

    seller = UserFactory.create()
    account = onboarded(fake, seller)
    assert not ConnectedAccount.objects.get(pk=account.pk).transfers_active

    # The event's copy says nothing useful; the handler reads the account from the API.
    event_id = webhook_deliver(client, event_type="account.updated", obj={"id": account.stripe_account_id})
    assert str(stripe_event_process(event_id=event_id)) == "processed"

    account = ConnectedAccount.objects.get(pk=account.pk)
    assert (account.transfers_active, account.payouts_enabled) == (True, True)


def test_a_refund_never_exceeds_what_was_captured_and_is_sent_once(fake, monkeypatch):
    deal = deal_awaiting_payment()
    services.deal_mark_funded(
        deal=deal, amount=deal.total_due, payment_reference="pi_standin", idempotency_key="payment_intent:pi_standin"
    )
    with tasks_sent(monkeypatch) as sent, TestCase.captureOnCommitCallbacks(execute=True):
        services.deal_refund(deal=deal, acting_user=deal.seller, reason="I cannot sign after all")
    assert sent == [("escrow.deal_refund_pay", deal.pk)]
    with pytest.raises(services.DealError):
        services.deal_refund(deal=deal, acting_user=deal.seller, reason="Again")
    deal = Deal.objects.get(pk=deal.pk)
    assert deal.refunded_amount == deal.funded_amount == 2_500_000

"""The buyer pays a deal by card: a PaymentIntent at localstripe, confirmed as Stripe.js does,
applied by the webhook and by the return page through the same idempotent path."""

from __future__ import annotations

import urllib.error

import pytest

from escrow import payments, services
from escrow.models import Deal, DealEvent, DealState, Journal, JournalKind, StripeEvent, StripeRequest
from escrow.webhooks import stripe_event_process
from marketplace.money import Money
from tests.escrow.money_path import card_confirm, deal_awaiting_payment, tasks_sent, webhook_deliver
from tests.factories import UserFactory


def funded_journals(deal: Deal) -> int:
    return Journal.objects.filter(kind=JournalKind.DEAL_FUNDED, idempotency_key=f"deal:{deal.pk}:funded").count()


def test_the_pay_page_shows_the_exact_amounts_and_the_card_element_of_one_payment_intent(client, db):
    deal = deal_awaiting_payment()
    client.force_login(deal.buyer)

    first = client.get(f"/deals/{deal.pk}/pay/")
    again = client.get(f"/deals/{deal.pk}/pay/")

    assert first.status_code == 200
    page = first.content.decode()
    assert "25,000.00 USD" in page  # the price and the total
    assert "0.00 USD" in page  # the buyer's fees (none by default)
    assert 'id="card-element"' in page
    assert "/js.stripe.com/v3/" in page
    record = StripeRequest.objects.get()
    assert (record.idempotency_key, record.attempts) == (f"deal:{deal.pk}:payment", 1)
    assert record.response["metadata"]["deal"] == str(deal.pk)
    assert record.response["amount"] == 2_500_000
    assert record.response["client_secret"] in page
    assert again.status_code == 200
    assert StripeRequest.objects.count() == 1


def test_a_payment_through_localstripe_funds_the_deal_once_by_webhook_and_return_page(client, db):
    deal = deal_awaiting_payment()
    intent = payments.deal_payment_start(deal=deal, buyer=deal.buyer)
    assert card_confirm(intent.id)["status"] == "succeeded"

    event_id = webhook_deliver(client, event_type="payment_intent.succeeded", obj={"id": intent.id})
    assert str(stripe_event_process(event_id=event_id)) == "processed"
    client.force_login(deal.buyer)
    response = client.get(f"/deals/{deal.pk}/pay/return/")
    # And the event once more, as a redelivery under a new id would be.
    again = webhook_deliver(client, event_type="payment_intent.succeeded", obj={"id": intent.id})
    assert str(stripe_event_process(event_id=again)) == "processed"

    assert response.status_code == 302
    deal = Deal.objects.get(pk=deal.pk)
    assert deal.state == DealState.FUNDED
    assert (deal.funded_amount, deal.payment_reference) == (2_500_000, intent.id)
    assert funded_journals(deal) == 1
    funding = Journal.objects.get(idempotency_key=f"deal:{deal.pk}:funded")
    assert funding.reference.startswith("txn_")  # Stripe's balance transaction, for reconciliation
    assert DealEvent.objects.filter(deal=deal, to_state=DealState.FUNDED).count() == 1
    assert StripeEvent.objects.filter(processing_error="").count() == 2


def test_a_payment_not_yet_confirmed_funds_nothing(client, db):
    deal = deal_awaiting_payment()
    payments.deal_payment_start(deal=deal, buyer=deal.buyer)
    client.force_login(deal.buyer)

    response = client.get(f"/deals/{deal.pk}/pay/return/", follow=True)

    assert "not complete yet" in response.content.decode()
    assert Deal.objects.get(pk=deal.pk).state == DealState.AWAITING_PAYMENT
    assert not Journal.objects.exists()


def test_paying_someone_elses_deal_is_refused_and_nothing_is_created(client, db):
    deal = deal_awaiting_payment()
    stranger = UserFactory.create()
    client.force_login(stranger)

    assert client.get(f"/deals/{deal.pk}/pay/").status_code == 404
    with pytest.raises(services.DealError, match="not yours"):
        payments.deal_payment_start(deal=deal, buyer=stranger)
    client.force_login(deal.seller)
    assert client.get(f"/deals/{deal.pk}/pay/").status_code == 403

    assert not StripeRequest.objects.exists()
    assert Deal.objects.get(pk=deal.pk).state == DealState.AWAITING_PAYMENT


def test_paying_a_deal_twice_is_refused_and_changes_nothing(client, db):
    deal = deal_awaiting_payment()
    intent = payments.deal_payment_start(deal=deal, buyer=deal.buyer)
    card_confirm(intent.id)
    payments.payment_intent_settle(payment_intent_id=intent.id)
    before = (Journal.objects.count(), StripeRequest.objects.count())

    client.force_login(deal.buyer)
    response = client.get(f"/deals/{deal.pk}/pay/", follow=True)

    assert "nothing to pay" in response.content.decode()
    with pytest.raises(services.DealError, match="nothing to pay"):
        payments.deal_payment_start(deal=deal, buyer=deal.buyer)
    assert (Journal.objects.count(), StripeRequest.objects.count()) == before


def test_a_payment_intent_that_is_not_the_deals_own_is_refused(db):
    deal = deal_awaiting_payment()
    other = deal_awaiting_payment()
    # A stranger's intent at Stripe whose metadata names our deal: not the one we created.
    forged = payments.stripe_gateway.payment_intent_create(
        amount=deal.total_due,
        purpose="deal_payment",
        reference=deal.reference,
        idempotency_key=f"forged:{other.pk}",
        customer_email="x@example.com",
        metadata={"deal": str(deal.pk)},
    )
    card_confirm(forged.id)

    with pytest.raises(payments.PaymentError, match="not the payment we asked"):
        payments.payment_intent_settle(payment_intent_id=forged.id)

    assert Deal.objects.get(pk=deal.pk).state == DealState.AWAITING_PAYMENT
    assert not Journal.objects.exists()


def test_a_failed_card_is_on_the_deal_timeline_and_the_deal_still_awaits_payment(client, db):
    deal = deal_awaiting_payment()
    intent = payments.deal_payment_start(deal=deal, buyer=deal.buyer)
    with pytest.raises(urllib.error.HTTPError, match="402"):  # localstripe declines the card
        card_confirm(intent.id, number="4000000000000341")

    event_id = webhook_deliver(
        client,
        event_type="payment_intent.payment_failed",
        obj={"id": intent.id, "last_payment_error": {"message": "Your card was declined."}},
    )
    stripe_event_process(event_id=event_id)

    deal = Deal.objects.get(pk=deal.pk)
    assert deal.state == DealState.AWAITING_PAYMENT
    assert DealEvent.objects.filter(deal=deal, note__contains="Your card was declined").count() == 1
    assert not Journal.objects.exists()


def test_a_payment_arriving_after_cancellation_is_owed_back_and_refunded_once(db, monkeypatch):
    deal = deal_awaiting_payment()
    intent = payments.deal_payment_start(deal=deal, buyer=deal.buyer)
    services.deal_cancel(deal=deal, acting_user=deal.buyer, reason="Changed my mind")
    card_confirm(intent.id)

    with tasks_sent(monkeypatch) as sent:
        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=True):
            payments.payment_intent_settle(payment_intent_id=intent.id)
    assert sent == [("escrow.deal_refund_pay", deal.pk)]

    from escrow.payouts import deal_refund_pay

    assert deal_refund_pay(deal_id=deal.pk) == "paid"
    assert deal_refund_pay(deal_id=deal.pk) == "nothing"
    deal = Deal.objects.get(pk=deal.pk)
    assert deal.state == DealState.CANCELLED
    assert deal.refunded_amount == deal.funded_amount == 2_500_000
    refund = StripeRequest.objects.get(purpose="refund")
    assert refund.response["amount"] == 2_500_000
    assert Journal.objects.filter(kind=JournalKind.BUYER_REFUND_PAID).count() == 1
    assert Money(refund.response["amount"], "USD") <= Money(deal.funded_amount, "USD")

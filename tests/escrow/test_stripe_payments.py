"""PaymentIntents and refunds through the gateway, against the running localstripe."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
import uuid

import pytest
from django.conf import settings

from escrow import stripe_gateway
from escrow.models import StripeRequest
from marketplace.money import Money


def card_payment_method(number: str) -> str:
    """A card PaymentMethod at localstripe, as Stripe.js would create it in the browser."""
    body = urllib.parse.urlencode(
        {"type": "card", "card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2030", "card[cvc]": "123"}
    ).encode()
    request = urllib.request.Request(
        f"{settings.STRIPE_API_BASE}/v1/payment_methods",
        data=body,
        headers={"Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["id"])


def key(step: str) -> str:
    # localstripe is shared and long-lived; our keys are unique per run.
    return f"test:{uuid.uuid4().hex}:{step}"


def pay(amount: Money, *, card: str = "4242424242424242", idempotency_key: str | None = None):
    return stripe_gateway.payment_intent_create(
        amount=amount,
        purpose="deal_payment",
        reference="deal:42",
        idempotency_key=idempotency_key or key("payment"),
        customer_email="buyer@example.com",
        metadata={"deal": "42"},
        payment_method=card_payment_method(card),
    )


def test_a_card_payment_is_captured_to_the_platform_with_our_reference(db):
    intent = pay(Money(123_456, "USD"))

    assert intent.id.startswith("pi_")
    assert intent.succeeded
    assert intent.amount == Money(123_456, "USD")
    assert intent.metadata == {
        "deal": "42",
        "purpose": "deal_payment",
        "reference": "deal:42",
        "customer_email": "buyer@example.com",
    }
    record = StripeRequest.objects.get()
    assert (record.state, record.response_object_id, record.purpose) == (
        "succeeded",
        intent.id,
        "payment_intent:deal_payment",
    )
    assert stripe_gateway.payment_intent_retrieve(payment_intent_id=intent.id) == intent


def test_a_payment_for_stripe_js_waits_for_the_card_and_gives_a_client_secret(db):
    intent = stripe_gateway.payment_intent_create(
        amount=Money(5_000, "EUR"),
        purpose="margin_deposit",
        reference="listing:7",
        idempotency_key=key("margin_deposit"),
        customer_email="seller@example.com",
    )

    assert intent.status == "requires_payment_method"
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert intent.amount == Money(5_000, "EUR")


def test_a_payment_asked_again_with_its_key_returns_the_first_intent_without_a_second_charge(db):
    idempotency_key = key("payment")
    first = pay(Money(1_000, "USD"), idempotency_key=idempotency_key)
    record = StripeRequest.objects.get()

    # localstripe ignores idempotency keys: a second request would charge again. None is sent.
    again = stripe_gateway.payment_intent_create(
        amount=Money(1_000, "USD"),
        purpose="deal_payment",
        reference="deal:42",
        idempotency_key=idempotency_key,
        customer_email="buyer@example.com",
        metadata={"deal": "42"},
        payment_method=record.response["payment_method"],
    )

    assert again == first
    record.refresh_from_db()
    assert record.attempts == 1


def test_a_declined_card_is_a_card_declined_error_and_stays_declined_on_retry(db):
    # 4000 0000 0000 0341 attaches but is declined when charged (Stripe's and localstripe's test card).
    card = card_payment_method("4000000000000341")
    attempt = {
        "amount": Money(1_000, "USD"),
        "purpose": "deal_payment",
        "reference": "deal:42",
        "idempotency_key": key("payment"),
        "customer_email": "buyer@example.com",
        "payment_method": card,
    }
    with pytest.raises(stripe_gateway.CardDeclined, match="declined"):
        stripe_gateway.payment_intent_create(**attempt)

    record = StripeRequest.objects.get()
    assert (record.state, record.error_kind, record.attempts) == ("failed", "card_declined", 1)
    with pytest.raises(stripe_gateway.CardDeclined, match="declined"):
        stripe_gateway.payment_intent_create(**attempt)
    record.refresh_from_db()
    assert record.attempts == 1


def test_a_refund_returns_part_of_a_captured_payment(db):
    intent = pay(Money(10_000, "USD"))

    refund = stripe_gateway.refund_create(
        payment_intent_id=intent.id, amount=Money(2_500, "USD"), idempotency_key=key("refund")
    )

    assert refund.id.startswith("re_")
    assert (refund.status, refund.amount, refund.payment_intent) == ("succeeded", Money(2_500, "USD"), intent.id)
    assert refund.balance_transaction.startswith("txn_")


def test_a_refund_of_an_unknown_payment_is_an_invalid_request_and_is_recorded_failed(db):
    with pytest.raises(stripe_gateway.StripeInvalidRequest):
        stripe_gateway.refund_create(
            payment_intent_id="pi_doesnotexist", amount=Money(100, "USD"), idempotency_key=key("refund")
        )

    assert StripeRequest.objects.get().state == "failed"


@pytest.mark.parametrize("amount", [Money(0, "USD"), Money(-100, "USD")])
def test_a_payment_or_refund_of_no_money_is_refused_and_nothing_is_stored(db, amount):
    with pytest.raises(stripe_gateway.StripeInvalidRequest, match="positive"):
        pay(amount)
    with pytest.raises(stripe_gateway.StripeInvalidRequest, match="positive"):
        stripe_gateway.refund_create(payment_intent_id="pi_x", amount=amount, idempotency_key=key("refund"))

    assert not StripeRequest.objects.exists()


def test_stripe_unreachable_is_stripe_unavailable_and_keeps_the_key_pending_for_a_retry(db, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # the discard port: nothing listens
    settings.STRIPE_MAX_NETWORK_RETRIES = 0

    with pytest.raises(stripe_gateway.StripeUnavailable):
        stripe_gateway.payment_intent_create(
            amount=Money(1_000, "USD"),
            purpose="deal_payment",
            reference="deal:1",
            idempotency_key="deal:1:payment",
            customer_email="buyer@example.com",
        )

    record = StripeRequest.objects.get()
    assert (record.state, record.attempts, record.error_kind) == ("pending", 1, "unavailable")

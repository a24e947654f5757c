"""Helpers of the money-path tests: deals and listings through the services, card payments at
localstripe done as Stripe.js would do them, and Celery's queue seen as the list of tasks sent."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from escrow import margin, payouts, services
from escrow.models import Deal, MarginRule
from listings import services as listing_services
from listings.models import Listing, ListingState
from tests.escrow.stripe_fakes import webhook_signature
from tests.factories import UserFactory, make_listing


def localstripe(method: str, path: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    """A call to localstripe with the secret key, as the test's stand-in for the browser."""
    body = urllib.parse.urlencode(fields or {}).encode() if method == "POST" else None
    request = urllib.request.Request(
        f"{settings.STRIPE_API_BASE}{path}",
        data=body,
        method=method,
        headers={"Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def card_confirm(payment_intent_id: str, *, number: str = "4242424242424242") -> dict[str, Any]:
    """What Stripe.js's confirmCardPayment does with the card typed in: a card PaymentMethod,
    attached to the intent and confirmed. (localstripe's stand-in Stripe.js cannot: see the
    browser test.)"""
    method = localstripe(
        "POST",
        "/v1/payment_methods",
        {"type": "card", "card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2030", "card[cvc]": "123"},
    )
    localstripe("POST", f"/v1/payment_intents/{payment_intent_id}", {"payment_method": method["id"]})
    return localstripe("POST", f"/v1/payment_intents/{payment_intent_id}/confirm")


def card_token(number: str = "4242424242424242") -> str:
    """A card token as Stripe.js's createToken makes it in the browser: posted to localstripe
    with the publishable key, the card's details never reaching our server."""
    fields = {"card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2030", "card[cvc]": "123"}
    body = urllib.parse.urlencode({**fields, "key": settings.STRIPE_PUBLISHABLE_KEY}).encode()
    request = urllib.request.Request(f"{settings.STRIPE_API_BASE}/v1/tokens", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["id"])


def card_authenticate(payment_intent_id: str, client_secret: str, *, success: bool = True) -> dict[str, Any]:
    """The cardholder's answer to a 3-D Secure challenge, as localstripe's stand-in Stripe.js
    sends it from confirmCardPayment."""
    body = urllib.parse.urlencode({"key": settings.STRIPE_PUBLISHABLE_KEY, "client_secret": client_secret}).encode()
    request = urllib.request.Request(
        f"{settings.STRIPE_API_BASE}/v1/payment_intents/{payment_intent_id}/_authenticate?success={str(success).lower()}",
        data=body,
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def listing_approved(*, seller: Any, **terms: Any) -> Listing:
    """A listing submitted and approved by staff: published, or awaiting its margin deposit when
    LISTING_MARGIN_REQUIRED. (A submitted listing waits for verification, which these tests do
    not run: it goes to staff review as an undecided run would send it.)"""
    listing = make_listing(seller=seller, publish=False, **terms)
    listing_services.listing_submit(listing=listing, acting_user=seller)
    listing = Listing.objects.get(pk=listing.pk)
    if listing.state == ListingState.SUBMITTED:
        listing_services.listing_verification_needs_review(listing=listing, note="Staff review.")
    staff = UserFactory.create(is_staff=True)
    return listing_services.listing_approve(listing=Listing.objects.get(pk=listing.pk), acting_user=staff)


def deal_awaiting_payment(**terms: Any) -> Deal:
    seller, buyer = UserFactory.create(), UserFactory.create()
    listing = listing_approved(seller=seller, **terms)
    return services.deal_buy_now(listing=listing, buyer=buyer)


def listing_awaiting_margin(settings_fixture: Any, *, asking_price: int = 2_500_000, currency: str = "USD") -> Any:
    settings_fixture.LISTING_MARGIN_REQUIRED = True
    MarginRule.objects.get_or_create(
        currency=currency, active=True, defaults={"basis_points": 100, "minimum": 10_000, "maximum": 500_000}
    )
    seller = UserFactory.create()
    return listing_approved(seller=seller, asking_price=asking_price, currency=currency)


def webhook_deliver(client: Client, *, event_type: str, obj: dict[str, Any]) -> str:
    """A signed Stripe event as Stripe would POST it; returns its id."""
    event_id = f"evt_{uuid.uuid4().hex[:24]}"
    payload = json.dumps(
        {"id": event_id, "object": "event", "type": event_type, "created": int(time.time()), "data": {"object": obj}}
    ).encode()
    response = client.post(
        "/stripe/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=webhook_signature(payload, secret=settings.STRIPE_WEBHOOK_SECRET),
    )
    assert response.status_code == 200, response.content
    return event_id


@contextmanager
def tasks_sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, int]]]:
    """Record the money tasks queued (instead of sending them to the broker)."""
    sent: list[tuple[str, int]] = []
    for task in (payouts.deal_payout_task, payouts.deal_refund_task, margin.margin_refund_task):
        monkeypatch.setattr(task, "delay", lambda object_id, name=task.name: sent.append((name, object_id)))
    yield sent

"""Invariant 1 under real concurrency: fifty buyers press "Buy" on one listing at the same time,
through HTTP, each in its own thread with its own database connection. Exactly one deal; every
other request is a clear 409."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.test import Client

from escrow.models import Deal, DealState
from listings.models import Listing
from tests.factories import UserFactory, make_listing

BUYERS = 50


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_buy_requests_make_exactly_one_deal():
    listing = make_listing(seller=UserFactory(), asking_price=2_500_000)
    buyers = UserFactory.create_batch(BUYERS)
    start = threading.Barrier(BUYERS)

    def buy(buyer_id: int) -> tuple[int, dict[str, object]]:
        try:
            client = Client()
            client.force_login(buyers[buyer_id])
            # Back to the pool while waiting: the pool (DATABASE_POOL_MAX_SIZE) is smaller than
            # the crowd, and the requests then queue for connections as real ones would.
            connections.close_all()
            start.wait(timeout=60)
            response = client.post(f"/api/v1/listings/{listing.pk}/buy/", content_type="application/json", data={})
            return response.status_code, response.json()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        results = list(pool.map(buy, range(BUYERS)))

    statuses = sorted(code for code, _ in results)
    assert statuses == [201] + [409] * (BUYERS - 1)
    refusals = {body["detail"] for code, body in results if code == 409}
    assert refusals == {"This listing is no longer available: another deal has reserved it."}
    (winner,) = [body for code, body in results if code == 201]
    deals = list(Deal.objects.filter(listing=listing))
    assert len(deals) == 1
    assert deals[0].pk == winner["id"]
    assert deals[0].state == DealState.AWAITING_PAYMENT
    assert Listing.objects.get(pk=listing.pk).state == "reserved"

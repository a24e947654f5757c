"""The kept facet counts under real concurrency: sixteen writers change or remove their listings'
search entries at the same moment, each in its own transaction on its own connection, all of
them updating the same hot count rows (every patent, every US right). No writer waits forever or
deadlocks, and the counts, global and per chosen value, end equal to a brute-force count."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections, transaction

from listings import services
from listings.models import Listing
from listings.models.search import ListingSearchFacetCount
from listings.search_index import search_entries_refresh
from tests.factories import UserFactory, make_listing, make_right
from tests.listings.test_search_scale import _brute_force_counts, _brute_force_pair_counts, _stored_pair_counts

WRITERS = 16


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_the_facet_counts_exact():
    seller = UserFactory()
    listings = [
        make_listing(
            seller=seller,
            title=f"Relay {number}",
            deal_types=["assignment"],
            rights=[make_right(registration_number=str(6700001 + number), cpc_symbols=["H04L49/00"])],
        )
        for number in range(WRITERS)
    ]
    start = threading.Barrier(WRITERS)

    def write(number: int) -> None:
        listing = listings[number]
        try:
            connections.close_all()
            start.wait(timeout=60)
            with transaction.atomic():
                if number % 2:
                    services.listing_withdraw(listing=listing, acting_user=seller)
                else:
                    # New facet values for half the entries: their old counts go down, new ones up.
                    Listing.objects.filter(pk=listing.pk).update(deal_types=["exclusive_licence", "assignment"])
                search_entries_refresh(listing_ids=[listing.pk])
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        list(pool.map(write, range(WRITERS)))

    stored = {
        (row.facet, row.value): row.count for row in ListingSearchFacetCount.objects.exclude(facet="price") if row.count
    }
    assert stored == _brute_force_counts()
    assert stored["_total", ""] == WRITERS // 2
    assert stored["deal_type", "exclusive_licence"] == WRITERS // 2
    assert _stored_pair_counts() == _brute_force_pair_counts()

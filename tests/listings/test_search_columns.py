"""Migration 0011: the search index rebuilt with the columns every results page reads first."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import QueryDict
from django.utils import timezone

from listings import search
from listings.models import ListingSearchEntry
from tests.factories import make_listing, make_right

FIRST = ["listing_id", "published_at", "price", "expiry_date", "verified", "facet_codes"]


def _columns() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'listings_listingsearchentry_07'::regclass "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        )
        return [name for (name,) in cursor.fetchall()]


def _entries() -> list[dict[str, Any]]:
    return [
        {**entry, "document": str(entry["document"]), "title_document": str(entry["title_document"])}
        for entry in ListingSearchEntry.objects.order_by("listing_id").values()
    ]


def _kept() -> dict[str, dict[str, int]]:
    return search._kept_counts(today=timezone.localdate())[0]


@pytest.mark.django_db
def test_the_search_index_reads_its_counted_columns_first():
    columns = _columns()
    assert columns[: len(FIRST)] == FIRST
    assert {"document", "title_document", "owners", "numbers"} <= set(columns[len(FIRST) :])


@pytest.mark.django_db(transaction=True)
def test_rebuilding_the_index_keeps_every_entry_its_counts_and_their_triggers(user):
    for number in range(1, 6):
        make_listing(
            seller=user,
            title=f"Planetary gearbox {number}",
            asking_price=None if number == 3 else number * 1_000_000,
            price_mode="on_request" if number == 3 else "fixed",
            rights=[make_right(registration_number=f"661000{number}", title=f"Planetary gearbox {number}")],
        )
    entries, kept = _entries(), _kept()
    assert len(entries) == 5

    # Unapplying 0011 leaves the table as it is; applying it again rebuilds the table with rows.
    executor = MigrationExecutor(connection)
    executor.migrate([("listings", "0010_search_facet_pair_counts")])
    executor.loader.build_graph()
    executor.migrate([("listings", "0011_search_column_order")])

    assert _columns()[: len(FIRST)] == FIRST
    assert _entries() == entries
    assert _kept() == kept
    # The rows are written in listing order, as the sampled counts need (listings.search).
    in_order = {}
    for order in ("ctid", "listing_id"):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT listing_id FROM listings_listingsearchentry ORDER BY tableoid, {order}")
            in_order[order] = [listing_id for (listing_id,) in cursor.fetchall()]
    assert in_order["ctid"] == in_order["listing_id"]
    # The counting triggers are back: a new listing is counted, and found.
    make_listing(seller=user, title="Planetary gearbox six", rights=[make_right(registration_number="6610006")])
    assert _kept()["_total"][""] == kept["_total"][""] + 1
    results = search.search_run(search.params_parse(QueryDict("q=planetary")))
    assert results.total == 6

"""The partitioned search index: facet codes round-trip, every entry's stored codes say what its
columns say, and a sample stopped by LIMIT is scaled by the share of partitions it covered."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from listings import search, search_codes
from listings.models import DealType, Jurisdiction, Kind, ListingSearchEntry, Status
from listings.search_index import search_entries_refresh
from tests.factories import make_listing, make_right


def test_every_listed_value_round_trips_through_its_code():
    for facet, values in search_codes.LISTED.items():
        for position, value in enumerate(values, start=1):
            code = search_codes.facet_id(facet) * search_codes.CODE_SPAN + position
            assert search_codes.code_decode(code) == (facet, value)
    assert search_codes.code_decode(4 * search_codes.CODE_SPAN + ord("H")) == ("cpc_section", "H")
    assert search_codes.code_decode(5 * search_codes.CODE_SPAN + 8 * 100 + 4) == ("cpc_class", "H04")
    assert search_codes.code_decode(6 * search_codes.CODE_SPAN + 25) == ("nice", "25")


def test_unknown_codes_decode_to_nothing():
    assert search_codes.code_decode(99 * search_codes.CODE_SPAN) is None
    assert search_codes.code_decode(1 * search_codes.CODE_SPAN + 99) is None


def test_the_lists_keep_the_choices_in_order():
    # Stored codes are positions in these lists: a reordering would silently change every count.
    assert search_codes.LISTED["kind"] == list(Kind.values)
    assert search_codes.LISTED["jurisdiction"] == list(Jurisdiction.values)
    assert search_codes.LISTED["status"] == list(Status.values)
    assert search_codes.LISTED["deal_type"] == list(DealType.values)


@pytest.mark.django_db
def test_stored_codes_match_the_entry_columns(user):
    make_listing(
        seller=user,
        title="Battery with two offices",
        deal_types=["assignment", "exclusive_licence"],
        asking_price=50_000_00,
        rights=[make_right(registration_number="7000001", cpc_symbols=["H01M10/0562", "Y02E60/10"])],
    )
    make_listing(
        seller=user,
        title="Running shoes mark",
        price_mode="on_request",
        asking_price=None,
        rights=[make_right(kind="trademark", sub_kind="trademark", application_number="90000001", nice_classes=[25])],
    )
    for entry in ListingSearchEntry.objects.all():
        decoded = {search_codes.code_decode(code) for code in entry.facet_codes}
        expected = {("kind", value) for value in entry.kinds}
        expected |= {("jurisdiction", value) for value in entry.jurisdictions}
        expected |= {("status", value) for value in entry.statuses}
        expected |= {("cpc_section", value) for value in entry.cpc_sections}
        expected |= {("cpc_class", value) for value in entry.cpc_classes}
        expected |= {("nice", str(value)) for value in entry.nice_classes}
        expected |= {("deal_type", value) for value in entry.deal_types}
        with connection.cursor() as cursor:
            cursor.execute("SELECT listings_price_band(%s)", [entry.price])
            expected.add(("price", cursor.fetchone()[0]))
        assert decoded == expected


@pytest.mark.django_db
def test_the_index_is_hash_partitioned():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'listings_listingsearchentry'::regclass")
        assert cursor.fetchone()[0] == 16


def test_a_sample_covers_the_partitions_before_its_last_and_part_of_the_last():
    parts = {"listings_listingsearchentry_00": (100, 100), "listings_listingsearchentry_01": (25, 100)}
    assert search._sample_coverage(parts, partitions=16) == pytest.approx(1.25 / 16)
    # A partition with no match before the last one seen was still read whole.
    assert search._sample_coverage({"listings_listingsearchentry_03": (50, 100)}, partitions=16) == pytest.approx(
        3.5 / 16
    )
    assert search._sample_coverage({}, partitions=16) == 1.0


def test_value_codes_are_the_inverse_of_decoding():
    samples = {
        "kind": ["patent", "copyright"],
        "jurisdiction": ["CN", "EU"],
        "status": ["in_force", "lapsed"],
        "cpc_section": ["A", "Y"],
        "cpc_class": ["H04", "G06", "A01"],
        "nice": ["1", "45"],
        "deal_type": ["assignment"],
        "price": ["under_10k", "on_request"],
        "term": ["over_15"],
    }
    for facet, values in samples.items():
        for value in values:
            code = search_codes.value_code(facet, value)
            assert code is not None
            assert search_codes.code_decode(code) == (facet, value)
    assert search_codes.value_code("kind", "spaceship") is None
    assert search_codes.value_code("cpc_class", "H4") is None
    assert search_codes.value_code("nice", "x") is None


@pytest.mark.django_db
def test_a_bulk_refresh_writes_each_partitions_entries_in_listing_order(user):
    # Written in listing order, the entries lie as a live site writes them, one by one as
    # listings are published: newest-first reads then take them page by page.
    for number in range(60):
        make_listing(
            seller=user,
            title=f"Gearbox {number}",
            rights=[make_right(registration_number=str(6400001 + number), cpc_symbols=["F16H1/28"])],
        )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM listings_listingsearchentry")
        # Hashing, as for a bulk build at scale, which yields the rows in no particular order.
        for setting in ("enable_sort", "enable_nestloop", "enable_mergejoin"):
            cursor.execute(f"SET LOCAL {setting} = off")
    assert search_entries_refresh() == 60

    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid, listing_id FROM listings_listingsearchentry ORDER BY tableoid, ctid")
        stored = cursor.fetchall()
    assert len(stored) == 60
    assert stored == sorted(stored)


@pytest.mark.parametrize(
    ("titles_only", "index", "other", "words"),
    [
        (False, "search_document_codes_gin", "search_title_codes_gin", "document @@"),
        (True, "search_title_codes_gin", "search_document_codes_gin", "title_document @@"),
    ],
    ids=["document", "titles"],
)
@pytest.mark.django_db
def test_words_and_facet_filters_are_answered_by_one_index_scan(user, titles_only, index, other, words):
    # In one GIN index, the words' and the codes' lists are intersected within the scan; with an
    # index each, every partition would decode a common word's whole list and AND two bitmaps.
    # The same holds for the titles, where relevance reads its first candidates.
    make_listing(
        seller=user,
        title="Battery separator",
        rights=[make_right(registration_number="7100001", cpc_symbols=["H01M50/40"])],
    )
    params = search.params_parse(QueryDict("q=battery&kind=patent&cpc_section=H"))
    sql = search._sql(params, today=timezone.localdate())
    where = sql.where(titles_only=titles_only)
    with connection.cursor() as cursor:
        # The test catalogue is small enough to be read whole, and to answer the codes alone from
        # the other index holding them: the plan for a large one is wanted. (The test's
        # transaction is rolled back, index and all.)
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"DROP INDEX {other}")
        cursor.execute(f"EXPLAIN SELECT count(*) FROM listings_listingsearchentry e WHERE {where}", sql.values)
        plan = "\n".join(line for (line,) in cursor.fetchall())
        # Each partition's copy of the index (PostgreSQL names them).
        cursor.execute("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass", [index])
        copies = {name for (name,) in cursor.fetchall()}
    scans = [line.split(" on ")[1].split()[0] for line in plan.splitlines() if "Index Scan" in line]
    conditions = [line for line in plan.splitlines() if "Index Cond" in line]
    assert len(copies) == 16
    assert set(scans) == copies, plan
    assert "BitmapAnd" not in plan
    assert len(conditions) == 16
    assert all(words in line and line.count("facet_codes &&") == 2 for line in conditions), plan

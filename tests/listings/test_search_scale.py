"""Search at scale: exact global counts kept by triggers, one-query facets, counts that turn into
marked estimates above the exact limit, bounded relevance ranking, and the price bands' SQL twin.

The limits are lowered in these tests so that a handful of listings crosses them."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from listings import search, services
from listings.classification import facet_labels_forget
from listings.models import ListingSearchEntry
from listings.models.search import ListingSearchFacetCount, ListingSearchFacetPairCount
from listings.search_codes import code_decode, term_boundary
from listings.search_index import search_entries_refresh, search_entry_refresh
from tests.factories import make_listing, make_right

pytestmark = pytest.mark.django_db


def _run(query: str = "") -> search.SearchResults:
    return search.search_run(search.params_parse(QueryDict(query)))


def _counts(results: search.SearchResults, facet: str) -> dict[str, int]:
    return {value.value: value.count for value in results.facets[facet]}


@pytest.fixture
def catalogue(user):
    listings = []
    for number, (title, kind_number, price, cpc) in enumerate(
        [
            ("Neural network accelerator", "6000001", 500_000, "G06N3/063"),
            ("Neural network training method", "6000002", 5_000_000, "G06N3/08"),
            ("Battery electrolyte", "6000003", 50_000_000, "H01M10/0562"),
            ("Wireless network antenna", "6000004", 500_000_000, "H01Q1/24"),
            ("Network switch with neural scheduler", "6000005", None, "H04L49/00"),
        ]
    ):
        terms = {"asking_price": price} if price else {"price_mode": "on_request", "asking_price": None}
        listings.append(
            make_listing(
                seller=user,
                title=title,
                deal_types=["assignment"] if number % 2 else ["exclusive_licence"],
                rights=[make_right(registration_number=kind_number, title=title, cpc_symbols=[cpc])],
                **terms,
            )
        )
    return listings


def _brute_force_counts() -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    columns = {
        "kind": "kinds",
        "jurisdiction": "jurisdictions",
        "status": "statuses",
        "cpc_section": "cpc_sections",
        "cpc_class": "cpc_classes",
        "nice": "nice_classes",
        "deal_type": "deal_types",
    }
    for entry in ListingSearchEntry.objects.all():
        for facet, column in columns.items():
            for value in getattr(entry, column):
                counts[facet, str(value)] = counts.get((facet, str(value)), 0) + 1
        if entry.expiry_date is not None:
            day = entry.expiry_date.isoformat()
            for facet, value in (("expiry", day), ("expiry_month", day[:7])):
                counts[facet, value] = counts.get((facet, value), 0) + 1
        counts["_total", ""] = counts.get(("_total", ""), 0) + 1
    return counts


def test_triggers_keep_the_global_facet_counts_exact(catalogue):
    stored = {
        (row.facet, row.value): row.count for row in ListingSearchFacetCount.objects.exclude(facet="price") if row.count
    }
    assert stored == _brute_force_counts()
    assert stored["_total", ""] == 5

    services.listing_withdraw(listing=catalogue[0], acting_user=catalogue[0].seller)
    search_entries_refresh(listing_ids=[catalogue[0].pk])
    stored = {(row.facet, row.value): row.count for row in ListingSearchFacetCount.objects.all() if row.count}
    assert stored["_total", ""] == 4
    assert stored["cpc_class", "G06"] == 1
    # Rebuilding everything writes every entry again and changes no count.
    search_entries_refresh()
    again = {(row.facet, row.value): row.count for row in ListingSearchFacetCount.objects.all() if row.count}
    assert again == stored


def _brute_force_pair_counts() -> dict[tuple[int, str, str], int]:
    counts: dict[tuple[int, str, str], int] = {}
    for entry in ListingSearchEntry.objects.all():
        values = [code_decode(code) for code in entry.facet_codes]
        if entry.expiry_date is not None:
            day = entry.expiry_date.isoformat()
            values += [("expiry", day), ("expiry_month", day[:7])]
        for code in entry.facet_codes:
            for facet, value in filter(None, values):
                counts[code, facet, value] = counts.get((code, facet, value), 0) + 1
    return counts


def _stored_pair_counts() -> dict[tuple[int, str, str], int]:
    rows = ListingSearchFacetPairCount.objects.all()
    return {(row.code, row.facet, row.value): row.count for row in rows if row.count}


def test_triggers_keep_the_counts_among_each_values_entries_exact(catalogue, user):
    assert _stored_pair_counts() == _brute_force_pair_counts()
    # A new listing, a withdrawn one, one whose facets change and one rewritten unchanged.
    make_listing(seller=user, title="Solar cell", rights=[make_right(registration_number="6500001")])
    services.listing_withdraw(listing=catalogue[0], acting_user=catalogue[0].seller)
    ListingSearchEntry.objects.filter(pk=catalogue[1].pk).update(deal_types=["assignment"], verified=True)
    search_entries_refresh(listing_ids=[catalogue[0].pk, catalogue[1].pk, catalogue[2].pk])
    assert _stored_pair_counts() == _brute_force_pair_counts()
    # Rebuilding everything writes every entry again and changes no count.
    before = _stored_pair_counts()
    search_entries_refresh()
    assert _stored_pair_counts() == before
    ListingSearchEntry.objects.all().delete()
    assert _stored_pair_counts() == {}


@pytest.mark.parametrize(
    "query",
    ["kind=patent", "cpc_section=H", "cpc_class=G06", "deal_type=assignment", "price=over_1m", "status=in_force"],
)
def test_a_page_filtered_on_one_value_reads_exact_counts_and_no_entry_to_count(catalogue, user, monkeypatch, query):
    today = date.today()
    for number, years in enumerate([1, 7, 12, 30]):
        make_listing(
            seller=user,
            title=f"Network relay {number}",
            rights=[
                make_right(
                    registration_number=str(6600001 + number),
                    cpc_symbols=["H04L49/00"],
                    expiry_date=today + timedelta(days=365 * years),
                )
            ],
        )
    # Limits that would make any counted page an estimate.
    monkeypatch.setattr(search, "EXACT_COUNT_LIMIT", 1)
    monkeypatch.setattr(search, "SAMPLE_ROWS", 1)
    with CaptureQueriesContext(connection) as captured:
        results = _run(query)
    assert not any("MATERIALIZED" in executed["sql"] for executed in captured.captured_queries)
    assert results.total == search.entries_matching(results.params).count()
    assert not results.total_is_estimate
    assert not results.facets_are_estimate
    # Each facet counted as its filter would narrow the page, its own facet without its filter.
    chosen = query.split("=")[0]
    for name in search.SearchParams.FACETS:
        for value in results.facets[name]:
            narrowed = QueryDict(query if name != chosen else "", mutable=True)
            narrowed.appendlist(name, value.value)
            assert value.count == search.entries_matching(search.params_parse(narrowed)).count(), (name, value)


def test_the_front_page_reads_the_kept_counts(catalogue):
    results = _run()
    assert results.total == 5
    assert not results.total_is_estimate
    assert _counts(results, "cpc_section") == {"G": 2, "H": 3}
    assert _counts(results, "price") == {"under_10k": 1, "10k_100k": 1, "100k_1m": 1, "over_1m": 1, "on_request": 1}
    assert not results.facets_are_estimate


@pytest.mark.parametrize("query", ["", "q=network", "q=network&price=over_1m"])
def test_price_and_term_bands_are_listed_in_their_own_order(catalogue, user, query):
    today = date.today()
    for number, years in enumerate([30, 12, 7, 1]):
        make_listing(
            seller=user,
            title="Network gear",
            asking_price=[5_000_000, None, 500_000, 500_000_000][number],
            price_mode="on_request" if number == 1 else "fixed",
            rights=[
                make_right(
                    registration_number=str(6500001 + number), expiry_date=today.replace(year=today.year + years)
                )
            ],
        )
    results = _run(query)
    for facet, bands in (("price", search.PRICE_BANDS), ("term", search.TERM_BANDS)):
        shown = [value.value for value in results.facets[facet]]
        assert shown == [band for band in bands if band in shown], facet
        assert len(shown) >= 2, facet


def test_every_facet_is_counted_in_one_query_without_its_own_filter(catalogue):
    with CaptureQueriesContext(connection) as captured:
        results = _run("q=network&cpc_section=H&deal_type=assignment")
    facet_queries = [query["sql"] for query in captured.captured_queries if "MATERIALIZED" in query["sql"]]
    # The first partition alone, then the others: each query counts every facet.
    assert len(facet_queries) == 2
    params = results.params
    assert results.total == search.entries_matching(params).count()
    # The oracle: each facet counted by the ORM over the matches without its own filter.
    for name, column in [("cpc_section", "cpc_sections"), ("deal_type", "deal_types"), ("kind", "kinds")]:
        expected: dict[str, int] = {}
        for values in search._filtered(params, skip=name).values_list(column, flat=True):
            for value in values:
                expected[value] = expected.get(value, 0) + 1
        assert _counts(results, name) == expected, name
    assert sum(_counts(results, "deal_type").values()) > results.total  # counted without its own filter
    assert not results.facets_are_estimate
    assert not results.total_is_estimate


def test_above_the_exact_limit_counts_are_marked_estimates_and_ranking_is_bounded(catalogue, monkeypatch):
    monkeypatch.setattr(search, "EXACT_COUNT_LIMIT", 2)
    monkeypatch.setattr(search, "EXACT_RANK_LIMIT", 2)
    monkeypatch.setattr(search, "RANK_CANDIDATES", 3)
    results = _run("q=network")
    assert results.total_is_estimate
    assert results.total > 2
    assert results.facets_are_estimate
    assert all(value.is_estimate for values in results.facets.values() for value in values)
    assert results.ranking_is_bounded
    assert any("best 3 matches" in notice for notice in results.params.notices)
    # Candidates are title matches first, each listing once, only matches.
    assert len(results.listing_ids) == len(set(results.listing_ids)) <= 3
    network = set(search.entries_matching(search.params_parse(QueryDict("q=network"))).values_list("pk", flat=True))
    assert set(results.listing_ids) <= network
    # Sorting by newest is not bounded.
    newest = _run("q=network&sort=newest")
    assert not newest.ranking_is_bounded


def test_the_page_shows_an_estimated_total_rounded_and_marked(client, catalogue, monkeypatch):
    monkeypatch.setattr(search, "EXACT_COUNT_LIMIT", 2)
    page = client.get("/listings/", {"q": "network"}).content.decode()
    total = _run("q=network").total_display
    assert f"About {total} listings" in page
    assert ">estimate</span>" in page


def test_below_the_limit_ranking_is_exact_and_nothing_is_estimated(catalogue):
    results = _run("q=accelerator")
    assert not results.ranking_is_bounded
    assert not results.total_is_estimate
    assert results.total == search.entries_matching(results.params).count()
    assert results.listing_ids[0] == catalogue[0].pk  # the title match ranks first


def test_an_estimate_is_shown_rounded_and_marked():
    assert search.FacetValue("a", "A", 12_345, False, is_estimate=True).count_display == "~12,000"
    assert search.FacetValue("a", "A", 12_345, False).count_display == "12,345"
    results = search.SearchResults(
        params=search.SearchParams(), listing_ids=[], total=133_897, total_is_estimate=True, facets={}, pages=25
    )
    assert results.total_display == "130,000"
    results.total_is_estimate = False
    assert results.total_display == "133,897"


def test_one_filter_alone_keeps_its_own_facet_exact(catalogue, monkeypatch):
    monkeypatch.setattr(search, "EXACT_COUNT_LIMIT", 2)
    monkeypatch.setattr(search, "SAMPLE_ROWS", 1)
    # Two values: no kept counts among the entries holding either, so the others are sampled.
    results = _run("cpc_section=H&cpc_section=G")
    assert _counts(results, "cpc_section") == {"G": 2, "H": 3}
    assert not any(value.is_estimate for value in results.facets["cpc_section"])
    assert results.facets_are_estimate  # the others are counted from a sample


def test_the_price_band_function_matches_the_bands():
    today = date(2026, 1, 1)
    del today
    with connection.cursor() as cursor:
        for price, band in [
            (None, "on_request"),
            (1, "under_10k"),
            (999_999, "under_10k"),
            (1_000_000, "10k_100k"),
            (9_999_999, "10k_100k"),
            (10_000_000, "100k_1m"),
            (99_999_999, "100k_1m"),
            (100_000_000, "over_1m"),
        ]:
            cursor.execute("SELECT listings_price_band(%s::bigint)", [price])
            assert cursor.fetchone()[0] == band
            _, low, high = search.PRICE_BANDS[band]
            if price is not None:
                assert low is None or price >= low * 100
                assert high is None or price < high * 100


def test_queries_per_page_stay_fixed_with_filters_and_a_query(client, user, catalogue):
    def count(query: str) -> int:
        facet_labels_forget()  # the worst case: the labels are read too
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/listings/?" + query).status_code == 200
        return len(captured)

    first = count("q=network&kind=patent&price=over_1m")
    for number in range(7000001, 7000011):
        make_listing(seller=user, title="Network thing", rights=[make_right(registration_number=str(number))])
    assert count("q=network&kind=patent&price=over_1m") == first


@pytest.mark.parametrize("query", ["q=network", "q=network+neural&page=2", "q=network&deal_type=assignment"])
def test_the_counting_read_ranks_few_matches_as_the_ranking_query_does(catalogue, user, monkeypatch, query):
    monkeypatch.setattr(search, "PAGE_SIZE", 2)
    for number in range(7100001, 7100005):
        make_listing(
            seller=user,
            title="Network neural network" if number % 2 else "Storage shelf",
            deal_types=["assignment"],
            rights=[make_right(registration_number=str(number), title="Network hub", abstract="A network network.")],
        )
    with CaptureQueriesContext(connection) as captured:
        results = _run(query)
    assert not results.ranking_is_bounded
    assert not any("ORDER BY ts_rank_cd" in executed["sql"] for executed in captured.captured_queries)
    # The same page as the ranking query gives.
    sql = search._sql(results.params, today=date.today())
    counts = search._counts(sql, today=date.today())
    assert counts.ranked is None
    start = (results.params.page - 1) * search.PAGE_SIZE
    expected, _ = search._ordered_ids(results.params, sql, counts=counts, start=start)
    assert len(expected) == 2
    assert results.listing_ids == expected


def test_ranking_is_bounded_above_its_own_limit_while_counts_stay_exact(catalogue, monkeypatch):
    monkeypatch.setattr(search, "EXACT_RANK_LIMIT", 2)
    monkeypatch.setattr(search, "RANK_CANDIDATES", 3)
    results = _run("q=network")
    assert results.ranking_is_bounded
    assert not results.total_is_estimate
    assert results.total == search.entries_matching(results.params).count()
    assert any("More than 2 listings match" in notice for notice in results.params.notices)


def test_the_front_page_sums_the_remaining_term_bands_from_the_kept_expiry_counts(user):
    today = date.today()
    for number, years in enumerate([1, 3, 7, 12, 16, 30]):
        expiry = today.replace(year=today.year + years)
        make_listing(seller=user, rights=[make_right(registration_number=str(6100001 + number), expiry_date=expiry)])
    front = _counts(_run(), "term")
    for band in search.TERM_BANDS:
        expected = search.entries_matching(search.params_parse(QueryDict(f"term={band}"))).count()
        assert front.get(band, 0) == expected, band
    assert front == {"under_5": 2, "5_10": 1, "10_15": 1, "over_15": 2}


def test_the_remaining_term_bands_count_the_days_of_a_month_a_boundary_cuts(user):
    # Expiry dates on, just before and just after every band boundary, early in a boundary's
    # month, and in months no boundary falls in: the kept months count whole, the cut months
    # day by day, and each band equals its filter's count.
    today = date.today()
    expiries = []
    for years in (5, 10, 15):
        boundary = term_boundary(today, years)
        expiries += [boundary - timedelta(days=1), boundary, boundary + timedelta(days=1), boundary.replace(day=1)]
    expiries += [today, today + timedelta(days=40), term_boundary(today, 7), term_boundary(today, 30)]
    for number, expiry in enumerate(expiries):
        make_listing(seller=user, rights=[make_right(registration_number=str(6200001 + number), expiry_date=expiry)])
    # A term that ended yesterday, or years ago, while its listing was up leaves no remaining term:
    # no band counts it (the entries are aged directly; the triggers keep the counts in step).
    for number, expiry in enumerate(
        [today - timedelta(days=1), today.replace(day=1) - timedelta(days=1), date(2001, 5, 17)]
    ):
        listing = make_listing(seller=user, rights=[make_right(registration_number=str(6200101 + number))])
        ListingSearchEntry.objects.filter(pk=listing.pk).update(expiry_date=expiry)
    for query in ("", "kind=patent"):
        # The front page's kept counts, and those kept among one value's entries.
        counts = _counts(_run(query), "term")
        for band in search.TERM_BANDS:
            narrowed = QueryDict(query, mutable=True)
            narrowed["term"] = band
            assert counts.get(band, 0) == search.entries_matching(search.params_parse(narrowed)).count(), band
        assert sum(counts.values()) == len(expiries)


def test_one_chosen_value_takes_its_exact_total_from_the_kept_counts(catalogue, monkeypatch):
    monkeypatch.setattr(search, "EXACT_COUNT_LIMIT", 1)
    monkeypatch.setattr(search, "SAMPLE_ROWS", 1)
    results = _run("cpc_section=H")
    assert results.total == 3
    assert not results.total_is_estimate
    # Two values of a facet a portfolio may hold both of: counted, not summed.
    both = _run("cpc_section=H&cpc_section=G")
    assert both.total == search.entries_matching(both.params).count() == 5


def test_a_probe_of_the_matches_settles_a_count_without_counting_to_the_limit(catalogue, monkeypatch):
    params = search.params_parse(QueryDict("q=network&deal_type=assignment&deal_type=exclusive_licence"))
    sql = search._sql(params, today=date.today())
    matches = search.entries_matching(params).count()
    assert matches == 5
    # Every match read by the probe: exact.
    assert search._match_count(sql) == (5, False)
    # The probe stops early and, scaled by its coverage, is surely above the limit: an estimate.
    monkeypatch.setattr(search, "MATCH_PROBE_ROWS", 1)
    monkeypatch.setattr(search, "SAMPLE_CONFIDENCE", 0)
    monkeypatch.setattr(search, "EXACT_COUNT_LIMIT", 1)
    total, estimate = search._match_count(sql)
    assert estimate
    assert total >= 2
    # Not surely above: counted exactly, up to the limit.
    monkeypatch.setattr(search, "EXACT_COUNT_LIMIT", 1_000)
    assert search._match_count(sql) == (5, False)


def test_a_count_the_probe_cannot_settle_goes_on_from_the_partition_where_the_probe_stopped(catalogue, monkeypatch):
    params = search.params_parse(QueryDict("q=network&deal_type=assignment&deal_type=exclusive_licence"))
    sql = search._sql(params, today=date.today())
    monkeypatch.setattr(search, "MATCH_PROBE_ROWS", 1)
    with CaptureQueriesContext(connection) as queries:
        assert search._match_count(sql) == (5, False)
    # The probe read two matches, in partition order: the partitions before the second one's were
    # read whole, and the count reads that one and those after it, not the whole index again.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.tableoid::regclass::text FROM listings_listingsearchentry e WHERE {sql.where()} LIMIT 2",
            sql.values,
        )
        stopped = int(cursor.fetchall()[-1][0].rsplit("_", 1)[-1])
    assert len(queries.captured_queries) == 2
    counting = queries.captured_queries[1]["sql"]
    read = {int(number) for number in re.findall(r"listings_listingsearchentry_(\d\d)", counting)}
    assert read == set(range(stopped, 16))


def _in_first_partition() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM listings_listingsearchentry_00")
        return cursor.fetchone()[0]


def _sensors_until_the_first_partition_holds(user, count: int, *, first_number: int, deal_types) -> int:
    """Listings titled "Sensor array n" (deal types by n) until the first partition of the search
    index, which a first sample reads alone, holds `count`; how many were made."""
    number = 0
    while _in_first_partition() < count and number < 400:
        make_listing(
            seller=user,
            title=f"Sensor array {number}",
            deal_types=deal_types(number),
            rights=[make_right(registration_number=str(first_number + number), cpc_symbols=["G01D5/00"])],
        )
        number += 1
    return number


@pytest.mark.parametrize("stops_inside", [True, False])
def test_a_second_sample_goes_on_where_the_first_stopped_and_counts_each_row_once(user, monkeypatch, stops_inside):
    # The first sample reads the first partition alone. Enough entries that it holds three: the
    # first sample then either stops inside it (and the second goes on after its last row there)
    # or reads it whole (and the second reads the whole index instead).
    number = _sensors_until_the_first_partition_holds(
        user,
        3,
        first_number=6200001,
        deal_types=lambda n: ["assignment"] if n % 3 else ["exclusive_licence", "assignment"],
    )
    exact = _run("q=sensor&deal_type=assignment")
    assert exact.total == number
    monkeypatch.setattr(search, "SAMPLE_ROWS", 1 if stops_inside else 3)
    with CaptureQueriesContext(connection) as captured:
        resumed = _run("q=sensor&deal_type=assignment")
    samples = [query["sql"] for query in captured.captured_queries if "MATERIALIZED" in query["sql"]]
    assert len(samples) == 2
    assert "listingsearchentry_00" in samples[0]
    assert "listingsearchentry_01" not in samples[0]
    assert ("e.ctid >" in samples[1]) == stops_inside
    assert ("listingsearchentry_00" in samples[1]) == stops_inside
    assert resumed.total == number
    assert not resumed.total_is_estimate
    for name in search.SearchParams.FACETS:
        assert _counts(resumed, name) == _counts(exact, name), name


def _in_partition(number: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {search._partition(number)}")
        return cursor.fetchone()[0]


@pytest.fixture
def sensors(user) -> int:
    """Listings titled "Sensor array n" until the first three partitions each hold nine; how many."""
    number = 0
    while min(_in_partition(part) for part in range(3)) < 9 and number < 600:
        make_listing(
            seller=user,
            title=f"Sensor array {number}",
            rights=[make_right(registration_number=str(6200001 + number), cpc_symbols=["G01D5/00"])],
        )
        number += 1
    return number


def _unsettled_limit() -> int:
    """A limit that the first partition's rows put the whole above, but not surely, and that the
    rows of the partitions read next settle (the module's limit is left as it was)."""
    rows = _in_partition(0)
    kept = search.EXACT_COUNT_LIMIT
    try:
        for limit in range(16 * rows - 1, 0, -1):
            search.EXACT_COUNT_LIMIT = limit
            further = search._further_partitions(rows, partitions=16)
            read = sum(_in_partition(number) for number in range(further + 1))
            settled = search._surely_above(read, scale=16 / (further + 1))
            if further and settled and not search._surely_above(rows, scale=16):
                return limit
    finally:
        search.EXACT_COUNT_LIMIT = kept
    raise AssertionError(f"no such limit for {rows} rows")


def _samples(query: str) -> tuple[search.SearchResults, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        results = _run(query)
    return results, [query["sql"] for query in captured.captured_queries if "MATERIALIZED" in query["sql"]]


def test_a_first_partition_pointing_above_the_limit_is_settled_by_the_next_partitions(sensors, monkeypatch):
    # The first partition's rows, times the partitions, are above the limit, but not surely: the
    # next partitions are read, which settles it, and the rest is never read.
    monkeypatch.setattr(search, "SAMPLE_CONFIDENCE", 2)
    monkeypatch.setattr(search, "EXACT_COUNT_LIMIT", _unsettled_limit())
    further = search._further_partitions(_in_partition(0), partitions=16)

    results, samples = _samples("q=sensor")

    assert len(samples) == 2
    assert "listingsearchentry_00" in samples[0]
    assert "listingsearchentry_01" not in samples[0]
    assert "listingsearchentry_00" not in samples[1]
    assert all(search._partition(number) in samples[1] for number in range(1, further + 1))
    assert search._partition(further + 1) not in samples[1]
    assert results.total_is_estimate
    assert results.total > search.EXACT_COUNT_LIMIT
    assert sensors > search.EXACT_COUNT_LIMIT


def test_when_the_next_partitions_do_not_settle_it_the_rest_is_read_and_counted_exactly(sensors, monkeypatch):
    # The partitions read next are emptied and every later one keeps one entry at most: the first
    # partition pointed above the limit, the next ones do not settle it, the rest is read, and the
    # count is exact after all.
    monkeypatch.setattr(search, "SAMPLE_CONFIDENCE", 2)
    monkeypatch.setattr(search, "EXACT_COUNT_LIMIT", _unsettled_limit())
    further = search._further_partitions(_in_partition(0), partitions=16)
    with connection.cursor() as cursor:
        for number in range(1, 16):
            table = search._partition(number)
            keep = "false" if number <= further else f"listing_id = (SELECT min(listing_id) FROM {table})"
            cursor.execute(f"DELETE FROM {table} WHERE NOT ({keep})")
    total = search.entries_matching(search.params_parse(QueryDict("q=sensor"))).count()
    assert total <= search.EXACT_COUNT_LIMIT

    results, samples = _samples("q=sensor")

    assert len(samples) == 3
    assert search._partition(further) in samples[1]
    assert search._partition(further + 1) not in samples[1]
    assert search._partition(further) not in samples[2]
    assert all(search._partition(number) in samples[2] for number in range(further + 1, 16))
    assert results.total == total
    assert not results.total_is_estimate
    assert sum(_counts(results, "kind").values()) == total


def test_the_partitions_read_next_are_the_fewest_likely_to_settle_the_count(monkeypatch):
    monkeypatch.setattr(search, "EXACT_COUNT_LIMIT", 10_000)
    # At or below the limit once scaled: nothing to settle, the whole index is read.
    assert search._further_partitions(625, partitions=16) == 0
    # Just above: more than half the partitions would be needed.
    assert search._further_partitions(650, partitions=16) == 0
    # Well above: a partition or two.
    assert search._further_partitions(706, partitions=16) == 2
    assert search._further_partitions(900, partitions=16) == 1


def test_the_remaining_term_is_counted_without_its_own_filter(user):
    today = date.today()
    for number, years in enumerate([1, 3, 7, 12, 16, 30]):
        make_listing(
            seller=user,
            title="Planetary gearbox",
            deal_types=["assignment"],
            rights=[
                make_right(
                    registration_number=str(6300001 + number), expiry_date=today.replace(year=today.year + years)
                )
            ],
        )
    results = _run("q=gearbox&term=under_5&deal_type=assignment")
    assert results.total == 2
    assert _counts(results, "term") == {"under_5": 2, "5_10": 1, "10_15": 1, "over_15": 2}
    assert _counts(results, "deal_type") == {"assignment": 2}


# The coded filters are read with the titles, in one index; the remaining term is checked after.
@pytest.mark.parametrize("with_term", [False, True], ids=["coded", "term"])
def test_bounded_ranking_with_filters_takes_filtered_title_matches_first(catalogue, monkeypatch, with_term):
    monkeypatch.setattr(search, "EXACT_RANK_LIMIT", 1)
    monkeypatch.setattr(search, "RANK_CANDIDATES", 4)
    query = "q=network&deal_type=exclusive_licence"
    if not with_term:
        # Too few title rows read for every candidate: the rest come from the top-up.
        monkeypatch.setattr(search, "TITLE_SCAN_ROWS", 2)
    else:
        # The antenna's term runs on for fifty years, past the band the others expire in today,
        # which the page's own term facet names.
        antenna = catalogue[3]
        antenna.rights.update(expiry_date=date.today() + timedelta(days=365 * 50))
        search_entry_refresh(listing_id=antenna.pk)
        bands = _counts(_run("q=network"), "term")
        assert bands.pop("over_15") == 1
        query = "q=network&term=" + next(iter(bands))
    results = _run(query)
    assert results.ranking_is_bounded
    matching = set(search.entries_matching(results.params).values_list("pk", flat=True))
    everything = set(search.entries_matching(search.params_parse(QueryDict("q=network"))).values_list("pk", flat=True))
    assert 0 < len(matching) < len(everything)
    assert len(results.listing_ids) == len(set(results.listing_ids))
    assert set(results.listing_ids) <= matching
    # Every match is a candidate: those the title scan missed come from the top-up.
    assert set(results.listing_ids) == matching


def test_bounded_ranking_shows_no_title_match_whose_document_has_an_excluded_word(catalogue, user, monkeypatch):
    monkeypatch.setattr(search, "EXACT_RANK_LIMIT", 1)
    routers = [
        make_listing(
            seller=user,
            title=f"Network router {number}",
            rights=[make_right(registration_number=f"640000{number}", title="Network router", abstract="A router.")],
        )
        for number in (1, 2)
    ]
    # "Wireless network antenna" has "network" and no "neural" in its title, and "neural" in its
    # abstract: the query excludes it although its title alone would match.
    results = _run("q=network+-neural")
    assert results.ranking_is_bounded
    assert results.total == 2
    assert sorted(results.listing_ids) == sorted(listing.pk for listing in routers)


@pytest.mark.parametrize("query", ["q=sensor", "q=sensor&deal_type=assignment"])
def test_ranking_reads_the_first_partition_alone_first_and_ranks_the_same_candidates(user, monkeypatch, query):
    number = _sensors_until_the_first_partition_holds(
        user, 3, first_number=6300001, deal_types=lambda n: ["assignment"]
    )
    params = search.params_parse(QueryDict(query))
    sql = search._sql(params, today=date.today())
    whole = search._bounded_ranking(sql, start=0)
    for candidates in (2, 3, number):
        # Fewer candidates than the first partition holds, as many, and more: the same ones.
        monkeypatch.setattr(search, "RANK_CANDIDATES", candidates)
        expected = search._bounded_ranking(sql, start=0)
        with CaptureQueriesContext(connection) as captured:
            first = search._bounded_ranking(sql, start=0, first_partition_first=True)
        assert first == expected
        assert "listingsearchentry_00 e" in captured.captured_queries[0]["sql"]
        assert len(captured) == (1 if candidates <= 3 else 2)
    assert set(whole) <= set(search.entries_matching(params).values_list("pk", flat=True))

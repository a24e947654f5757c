"""Similar listings on a listing page: sharing title words and classes, best first, public only,
in a fixed number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from listings import services, similar
from listings.search_index import search_entries_refresh
from tests.factories import make_listing, make_right

pytestmark = pytest.mark.django_db


def _patent(user, number: int, title: str, cpc: str):
    return make_listing(
        seller=user,
        title=title,
        rights=[make_right(registration_number=str(6900000 + number), title=title, cpc_symbols=[cpc])],
    )


@pytest.fixture
def listings(user):
    return {
        "growth": _patent(user, 1, "Carbon nanotube growth on a catalyst layer", "C01B32/16"),
        "substrate": _patent(user, 2, "Nanotube growth on patterned substrates", "C01B32/16"),
        "transistor": _patent(user, 3, "Nanotube field effect transistor", "H01L29/06"),
        "racket": _patent(user, 4, "Carbon fibre tennis racket", "A63B49/02"),
        "bat": _patent(user, 5, "Baseball bat with a cork core", "A63B59/50"),
        "soot": _patent(user, 6, "Soot filter regeneration", "C01B32/05"),
    }


def test_similar_listings_share_words_and_classes_best_first(listings):
    found = similar.similar_listing_ids(listing_id=listings["growth"].pk, limit=5)
    # Two shared words and the class; one shared word; one shared word; then the class alone.
    assert found[0] == listings["substrate"].pk
    assert set(found[1:3]) == {listings["transistor"].pk, listings["racket"].pk}
    assert found[3] == listings["soot"].pk
    assert listings["growth"].pk not in found
    assert listings["bat"].pk not in found


def test_a_word_most_titles_hold_does_not_choose_candidates_before_the_rarer_ones(listings, monkeypatch):
    # Statistics in which every title holds "carbon": the rarer words choose first, so the
    # transistor (sharing "nanotube") comes before the newer racket (sharing only "carbon").
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE similar_titles (title_document tsvector)")
        cursor.execute(
            "INSERT INTO similar_titles SELECT to_tsvector('english', 'carbon fibre ' || n) "
            "FROM generate_series(1, 300) AS n"
        )
        cursor.execute("ANALYZE similar_titles")
    monkeypatch.setattr(similar, "_SAMPLE_TABLE", "similar_titles")
    found = similar.similar_listing_ids(listing_id=listings["growth"].pk)
    assert found == [listings[name].pk for name in ("substrate", "transistor", "racket", "soot")]

    # Without statistics every word chooses alike, and the newer racket goes first.
    monkeypatch.setattr(similar, "_SAMPLE_TABLE", "no_such_table")
    found = similar.similar_listing_ids(listing_id=listings["growth"].pk)
    assert found == [listings[name].pk for name in ("substrate", "racket", "transistor", "soot")]


def test_the_newest_of_the_same_class_fill_in_when_no_word_is_shared(listings):
    # No other title has "baseball", "bat", "cork" or "core"; the racket is in the same class.
    assert similar.similar_listing_ids(listing_id=listings["bat"].pk) == [listings["racket"].pk]


def test_only_public_listings_are_suggested_and_a_withdrawn_one_has_none(listings):
    withdrawn = listings["substrate"]
    services.listing_withdraw(listing=withdrawn, acting_user=withdrawn.seller)
    search_entries_refresh(listing_ids=[withdrawn.pk])

    assert withdrawn.pk not in similar.similar_listing_ids(listing_id=listings["growth"].pk)
    assert similar.similar_listing_ids(listing_id=withdrawn.pk) == []


def test_a_title_word_with_quotes_or_backslashes_is_matched_as_it_is(user):
    first = _patent(user, 11, "O'Brien's \\ widget", "A01B1/00")
    second = _patent(user, 12, "O'Brien's gadget", "H01L29/06")

    assert similar.similar_listing_ids(listing_id=first.pk) == [second.pk]


def test_the_listing_page_shows_similar_listings_in_a_fixed_number_of_queries(client, user, listings):
    def page() -> tuple[str, int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("listings:detail", args=[listings["growth"].pk]))
        assert response.status_code == 200
        return response.content.decode(), len(captured)

    html, queries = page()
    assert "Similar listings" in html
    assert "Nanotube growth on patterned substrates" in html
    assert html.index("Nanotube growth on patterned substrates") < html.index("Carbon fibre tennis racket")
    # Ten more alike: the queries do not grow (they may shrink: the class's newest no longer fill in).
    for number in range(20, 30):
        _patent(user, number, f"Nanotube growth reactor {number}", "C01B32/16")
    assert page()[1] <= queries

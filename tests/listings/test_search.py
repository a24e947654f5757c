"""Buyers search and browse: web-search syntax, exact office numbers, facets, sorts, paging."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from listings import search
from listings.classification import facet_labels_forget
from listings.models import ListingSearchEntry
from tests.factories import make_listing, make_right

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(user):
    """Four published listings of different kinds, owners, prices and terms."""
    return {
        "accelerator": make_listing(
            seller=user,
            title="Sparse neural network accelerator",
            asking_price=2_500_000,
            rights=[make_right(registration_number="6654321", owner="Acme Robotics Corp.")],
        ),
        "battery": make_listing(
            seller=user,
            title="Solid-state battery electrolyte",
            asking_price=90_000_000,
            deal_types=["exclusive_licence"],
            rights=[
                make_right(
                    registration_number="7000001",
                    title="Sulphide electrolyte for solid-state batteries",
                    abstract="A lithium battery with a sulphide glass electrolyte.",
                    cpc_symbols=["H01M10/0562"],
                    expiry_date=date(2029, 1, 1),
                    owner="Voltaic Materials GmbH",
                )
            ],
        ),
        "camera": make_listing(
            seller=user,
            title="Neural camera for night vision",
            price_mode="on_request",
            asking_price=None,
            rights=[
                make_right(
                    registration_number="7000002",
                    title="Low-light imaging with a recurrent neural network",
                    abstract="Night vision camera denoising.",
                    cpc_symbols=["H04N23/60"],
                    owner="Acme Robotics Corp.",
                )
            ],
        ),
        "mark": make_listing(
            seller=user,
            title="JAVA trademark",
            asking_price=500_000_000,
            rights=[
                make_right(
                    kind="trademark",
                    sub_kind="trademark",
                    registration_number="2178784",
                    application_number="75026640",
                    title="JAVA",
                    abstract="",
                    goods_and_services="Computer software for use in developing applications",
                    cpc_symbols=[],
                    nice_classes=[9],
                    expiry_date=date(2028, 8, 4),
                    owner="Oracle America, Inc.",
                )
            ],
        ),
    }


def titles(response) -> list[str]:
    return [listing.title for listing in response.context["listings"]]


def test_a_word_finds_titles_and_abstracts_ranked_by_relevance(client, catalogue):
    response = client.get(reverse("listings:search"), {"q": "neural"})

    assert response.status_code == 200
    assert set(titles(response)) == {"Sparse neural network accelerator", "Neural camera for night vision"}
    assert response.context["results"].total == 2


def test_a_quoted_phrase_matches_only_the_phrase(client, catalogue):
    response = client.get(reverse("listings:search"), {"q": '"night vision"'})

    assert titles(response) == ["Neural camera for night vision"]


def test_or_and_exclusion(client, catalogue):
    either = client.get(reverse("listings:search"), {"q": "battery OR camera"})
    without = client.get(reverse("listings:search"), {"q": "neural -camera"})

    assert set(titles(either)) == {"Solid-state battery electrolyte", "Neural camera for night vision"}
    assert titles(without) == ["Sparse neural network accelerator"]


def test_an_owner_name_finds_its_listings(client, catalogue):
    response = client.get(reverse("listings:search"), {"q": "Acme Robotics"})

    assert set(titles(response)) == {"Sparse neural network accelerator", "Neural camera for night vision"}


def test_goods_and_services_are_searched(client, catalogue):
    assert titles(client.get(reverse("listings:search"), {"q": "developing applications software"})) == [
        "JAVA trademark"
    ]


@pytest.mark.parametrize("spelling", ["US 6,654,321 B2", "6654321", "US6654321B1", "6,654,321"])
def test_an_office_number_in_any_common_spelling_goes_straight_to_its_listing(client, catalogue, spelling):
    response = client.get(reverse("listings:search"), {"q": spelling})

    assert response.status_code == 302
    assert response.url == reverse("listings:detail", args=[catalogue["accelerator"].pk])


def test_a_trademark_registration_number_goes_to_its_listing(client, catalogue):
    response = client.get(reverse("listings:search"), {"q": "Reg. No. 2,178,784"})

    assert response.url == reverse("listings:detail", args=[catalogue["mark"].pk])


def test_facets_count_and_narrow_and_every_filter_is_in_the_url(client, catalogue):
    everything = client.get(reverse("listings:search"))
    facets = everything.context["results"].facets
    kinds = {facet.value: facet.count for facet in facets["kind"]}
    assert kinds == {"patent": 3, "trademark": 1}

    narrowed = client.get(reverse("listings:search"), {"kind": "patent", "deal_type": "assignment"})

    assert set(titles(narrowed)) == {"Sparse neural network accelerator", "Neural camera for night vision"}
    # A facet's own counts ignore its own filter, so other choices stay visible.
    narrowed_kinds = {facet.value: facet.count for facet in narrowed.context["results"].facets["kind"]}
    assert narrowed_kinds == {"patent": 2, "trademark": 1}
    assert 'value="patent" id="f-kind-1" checked' in narrowed.content.decode()


def test_cpc_nice_price_and_term_facets(client, catalogue):
    sections = client.get(reverse("listings:search"), {"cpc_section": "H"})
    nice = client.get(reverse("listings:search"), {"nice": "9"})
    on_request = client.get(reverse("listings:search"), {"price": "on_request"})
    over_1m = client.get(reverse("listings:search"), {"price": "over_1m"})
    short_term = client.get(reverse("listings:search"), {"term": "under_5"})

    assert set(titles(sections)) == {"Solid-state battery electrolyte", "Neural camera for night vision"}
    assert titles(nice) == ["JAVA trademark"]
    assert titles(on_request) == ["Neural camera for night vision"]
    assert set(titles(over_1m)) == {"JAVA trademark"}
    assert set(titles(short_term)) == {"Solid-state battery electrolyte", "JAVA trademark"}


def test_a_chosen_value_stays_listed_and_checked_when_nothing_matches_it(client, catalogue):
    # Nothing about Java runs over fifteen years, and no Java listing has a CPC class.
    response = client.get(reverse("listings:search"), {"q": "java", "term": "over_15", "cpc_class": "G06"})

    assert titles(response) == []
    facets = response.context["results"].facets
    assert [(value.value, value.count, value.selected) for value in facets["cpc_class"]] == [("G06", 0, True)]
    assert ("over_15", 0, True) in [(value.value, value.count, value.selected) for value in facets["term"]]
    html = response.content.decode()
    assert 'name="term" value="over_15"' in html
    assert 'name="cpc_class" value="G06"' in html


def test_a_chosen_class_beyond_the_fifteen_largest_stays_listed(client, user):
    # Sixteen classes with more listings than the one chosen.
    for number in range(16):
        for copy in range(2):
            make_listing(
                seller=user,
                title=f"Relay {number}",
                rights=[
                    make_right(
                        registration_number=str(6800001 + number * 2 + copy), cpc_symbols=[f"H{number:02d}Q1/00"]
                    )
                ],
            )
    make_listing(
        seller=user, title="Relay", rights=[make_right(registration_number="6800100", cpc_symbols=["A01B1/00"])]
    )

    shown = client.get(reverse("listings:search"), {"cpc_class": "A01"}).context["results"].facets["cpc_class"]

    assert len(shown) == 16
    assert [(value.value, value.count, value.selected) for value in shown][-1] == ("A01", 1, True)


def test_sorts(client, catalogue):
    cheapest = client.get(reverse("listings:search"), {"sort": "price_asc"})
    dearest = client.get(reverse("listings:search"), {"sort": "price_desc"})
    longest = client.get(reverse("listings:search"), {"sort": "term_desc"})

    assert titles(cheapest)[0] == "Sparse neural network accelerator"
    assert titles(cheapest)[-1] == "Neural camera for night vision"
    assert titles(dearest)[0] == "JAVA trademark"
    assert titles(longest)[-1] == "JAVA trademark"


@pytest.mark.parametrize(
    "garbage",
    ['"unbalanced', "OR OR -", "- - -", "((()))", "the and of", "x" * 10_000, "\"'\\;--", "неисправность 故障"],
)
def test_search_syntax_garbage_never_fails(client, catalogue, garbage):
    response = client.get(reverse("listings:search"), {"q": garbage})

    assert response.status_code == 200


def test_a_query_of_only_operators_shows_everything_with_a_notice(client, catalogue):
    response = client.get(reverse("listings:search"), {"q": "- OR -"})

    assert response.context["results"].total == 4
    assert "no words to look for" in response.content.decode()
    assert response.context["results"].params.sort == "newest"


def test_whether_a_query_holds_words_is_asked_by_the_counting_query(client, catalogue):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("listings:search"), {"q": "neural"}).status_code == 200
    numnode = [query["sql"] for query in captured.captured_queries if "numnode" in query["sql"]]
    assert numnode
    assert all("MATERIALIZED" in sql for sql in numnode)


def test_a_very_long_query_is_cut_with_a_notice(client, catalogue):
    response = client.get(reverse("listings:search"), {"q": "neural " * 2000})

    assert f"cut to its first {search.MAX_QUERY_LENGTH} characters" in response.content.decode()


def test_a_page_past_the_end_shows_the_last_page(client, catalogue):
    response = client.get(reverse("listings:search"), {"page": "999"})

    assert response.status_code == 200
    assert response.context["params"].page == 1
    assert "only 1 pages of results" in response.content.decode()


@pytest.mark.parametrize("page", ["-1", "abc", "0", "1e9"])
def test_a_bad_page_number_is_the_first_page(client, catalogue, page):
    response = client.get(reverse("listings:search"), {"page": page})

    assert response.status_code == 200
    assert response.context["params"].page == 1


def test_unknown_filter_values_are_ignored(client, catalogue):
    response = client.get(reverse("listings:search"), {"kind": "spaceship", "nice": "99", "sort": "random"})

    assert response.status_code == 200
    assert response.context["results"].total == 4


def test_only_public_listings_are_found(client, user, catalogue):
    make_listing(seller=user, title="A neural draft", publish=False)

    response = client.get(reverse("listings:search"), {"q": "neural draft"})

    assert "A neural draft" not in titles(response)
    assert ListingSearchEntry.objects.count() == 4


def test_queries_per_page_do_not_grow_with_the_number_of_results(client, user):
    def queries_for_results_page() -> int:
        facet_labels_forget()  # the worst case: the labels are read too
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("listings:search"), {"q": "neural"}).status_code == 200
        return len(captured)

    make_listing(seller=user, rights=[make_right(registration_number="8000000")])
    with_one = queries_for_results_page()
    for number in range(8000001, 8000012):
        make_listing(seller=user, rights=[make_right(registration_number=str(number))])
    with_twelve = queries_for_results_page()

    assert with_twelve == with_one


def test_classification_titles_are_searched(client, user, settings, tmp_path):
    from listings.classification import classification_load

    settings.SHARED_DATA_DIR = tmp_path  # no shared folder: the shipped table is loaded
    classification_load()
    make_listing(seller=user, title="An accelerator", rights=[make_right(title="Widget", abstract="")])

    response = client.get(reverse("listings:search"), {"q": "calculating counting"})

    assert titles(response) == ["An accelerator"]

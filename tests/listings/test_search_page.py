"""The results page as buyers see it: the cards, the facet checkboxes, and a fixed number of
queries however many results and rights a page shows."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from listings import search, selectors
from listings.classification import facet_labels_forget
from listings.search import FacetValue
from listings.templatetags.listings import facet_fieldsets
from tests.factories import UserFactory, make_listing, make_right

pytestmark = pytest.mark.django_db

ABSTRACT = " ".join(f"word{number}" for number in range(1, 51))


def _html(text: str) -> str:
    """Markup with its layout whitespace dropped, so that assertions read the structure."""
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", text)).strip()


def _cards(response) -> list[str]:
    return re.findall(r"<article .*?</article>", _html(response.content.decode()))


def test_a_card_shows_the_listing_its_first_three_rights_and_its_seller(client):
    seller = UserFactory(display_name="Ada <Lovelace>", organisation="Analytical Engines")
    first = make_right(registration_number="6654321", abstract=ABSTRACT, expiry_date=date(2035, 3, 2))
    second = make_right(sub_kind="design", registration_number="D654321", expiry_date=None, status="pending")
    third = make_right(registration_number="7000001", status="grace", expiry_date=date(2027, 1, 1))
    fourth = make_right(registration_number="7000002", title="The fourth right")
    listing = make_listing(
        seller=seller,
        title='Sparse & "fast" <accelerator>',
        rights=[first, second, third, fourth],
        deal_types=["assignment", "exclusive_licence"],
        price_mode="offers",
        asking_price=3_000_000,
        minimum_price=2_000_000,
    )

    response = client.get(reverse("listings:search"))

    assert _cards(response) == [
        '<article class="card shadow-sm mb-3 result"><div class="card-body">'
        '<div class="d-flex flex-wrap justify-content-between column-gap-3">'
        f'<h2 class="h6 mb-1 result-title"><a href="/listings/{listing.pk}/" class="stretched-link">'
        "Sparse &amp; &quot;fast&quot; &lt;accelerator&gt;</a></h2>"
        '<div class="fw-semibold">30,000.00 USD (offers from 20,000.00 USD)</div></div>'
        '<div class="small text-body-secondary mb-2"> '
        f'Invention (utility patent) {first.number_display} · <span class="badge status-in_force">In force</span>'
        " · expires 2035<br>"
        f'Design {second.number_display} · <span class="badge status-pending">Pending</span><br>'
        f'Invention (utility patent) {third.number_display} · <span class="badge status-grace">In grace period</span>'
        " · expires 2027 </div>"
        f'<p class="small mb-2">{" ".join(ABSTRACT.split()[:40])} …</p>'
        '<div><span class="badge text-bg-light border me-1">Assignment (sale)</span>'
        '<span class="badge text-bg-light border me-1">Exclusive licence</span>'
        '<span class="small text-body-secondary ms-2">by Ada &lt;Lovelace&gt;</span></div>'
        "</div></article>"
    ]
    assert first.number_display == "US 6,654,321"


@pytest.mark.parametrize(
    ("terms", "price"),
    [
        ({"price_mode": "fixed", "asking_price": 2_500_000}, "25,000.00 USD"),
        ({"price_mode": "offers", "asking_price": None, "minimum_price": 2_000_000}, "Offers from 20,000.00 USD"),
        ({"price_mode": "on_request", "asking_price": None}, "Price on request"),
        ({"price_mode": "fixed", "asking_price": 150_000, "currency": "JPY"}, "150,000 JPY"),
    ],
)
def test_a_card_shows_the_price_as_the_listing_page_does(client, user, terms, price):
    make_listing(seller=user, **terms)

    (card,) = client.get(reverse("listings:search")).context["listings"]

    assert card.price == price


def test_a_card_without_an_abstract_or_an_expiry_leaves_them_out(client, user):
    make_listing(seller=user, rights=[make_right(abstract="", expiry_date=None)])

    (card,) = _cards(client.get(reverse("listings:search")))

    assert "<p " not in card
    assert "expires" not in card


def test_the_seller_is_named_by_their_public_name(client):
    seller = UserFactory(display_name="", organisation="", legal_name="Quiet Ltd", email="quiet.seller@example.com")
    make_listing(seller=seller)

    (card,) = client.get(reverse("listings:search")).context["listings"]

    assert card.seller_name == "quiet.seller" == seller.public_name


def test_cards_come_in_the_order_given_and_unknown_ids_are_skipped(user):
    first = make_listing(seller=user, title="First")
    second = make_listing(seller=user, title="Second")

    cards = selectors.listing_cards(listing_ids=[second.pk, 987_654_321, first.pk])

    assert [card.title for card in cards] == ["Second", "First"]


def test_no_ids_no_cards_and_no_query():
    with CaptureQueriesContext(connection) as captured:
        assert selectors.listing_cards(listing_ids=[]) == []

    assert len(captured) == 0


def test_queries_per_results_page_do_not_grow_with_results_rights_or_sellers(client, user):
    def queries_for_results_page() -> tuple[int, int]:
        facet_labels_forget()  # the worst case: the facets' titles are read too
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("listings:search"))
        assert response.status_code == 200
        return len(captured), len(response.context["listings"])

    make_listing(seller=user)
    with_one, shown = queries_for_results_page()
    assert shown == 1
    for number in range(12):
        rights = [make_right() for _ in range(number % 4 + 1)]
        make_listing(seller=UserFactory(), rights=rights)
    with_thirteen, shown = queries_for_results_page()

    assert shown == 13
    assert with_thirteen == with_one


def test_facet_checkboxes_are_labelled_numbered_and_keep_their_choice(client, user):
    make_listing(seller=user)
    make_listing(seller=user, rights=[make_right(kind="trademark", sub_kind="trademark", cpc_symbols=[])])

    page = _html(client.get(reverse("listings:search"), {"kind": "patent"}).content.decode())

    kind = re.search(r'<fieldset class="mb-3 facet" data-facet="kind">.*?</fieldset>', page)
    assert kind is not None
    assert kind.group(0) == (
        '<fieldset class="mb-3 facet" data-facet="kind"><legend class="fs-6 fw-semibold mb-1">Kind</legend>'
        '<div class="form-check"><input class="form-check-input" type="checkbox" name="kind" value="patent"'
        ' id="f-kind-1" checked><label class="form-check-label" for="f-kind-1"><span title="Patent">Patent</span>'
        "<span>1</span></label></div>"
        '<div class="form-check"><input class="form-check-input" type="checkbox" name="kind" value="trademark"'
        ' id="f-kind-2"><label class="form-check-label" for="f-kind-2"><span title="Trademark">Trademark</span>'
        "<span>1</span></label></div></fieldset>"
    )
    # Exact counts: no note about estimates.
    assert "are estimated from a sample" not in page


def test_an_estimated_facet_count_is_marked_and_labels_are_escaped():
    values = [
        FacetValue(value="G06", label="G06 <Computing>", count=123_456, selected=False, is_estimate=True),
        FacetValue(value="H04", label="H04", count=12_345, selected=True),
    ]

    html = _html(facet_fieldsets([("cpc_class", "CPC class", values)]))

    assert '<legend class="fs-6 fw-semibold mb-1">CPC class</legend>' in html
    assert '<span title="G06 &lt;Computing&gt;">G06 &lt;Computing&gt;</span><span>~120,000</span>' in html
    assert 'value="H04" id="f-cpc_class-2" checked>' in html
    assert "<span>12,345</span>" in html


def test_a_page_with_estimated_facet_counts_says_what_the_tilde_means(client, user, monkeypatch):
    for number in range(3):
        make_listing(seller=user, title=f"Gearbox {number}")
    monkeypatch.setattr(search, "EXACT_COUNT_LIMIT", 1)
    monkeypatch.setattr(search, "SAMPLE_ROWS", 1)
    monkeypatch.setattr(search, "SAMPLE_CONFIDENCE", 0)

    page = _html(client.get(reverse("listings:search"), {"q": "gearbox"}).content.decode())

    assert "Counts with ~ are estimated from a sample: more than 10,000 listings match." in page
    assert re.search(r"<span>~[0-9,]+</span>", page)


def test_a_search_without_results_says_so(client, user):
    make_listing(seller=user)

    response = client.get(reverse("listings:search"), {"q": "nothingmatchesthis"})

    assert _cards(response) == []
    assert "No listings match." in response.content.decode()

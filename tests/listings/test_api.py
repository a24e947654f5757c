"""The listings API: search and filters as on the page, detail, and a seller's own drafts."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from listings.classification import facet_labels_forget
from listings.models import Listing, ListingEvent, ListingState, Right
from tests.factories import UserFactory, make_listing, make_right

pytestmark = pytest.mark.django_db

LISTINGS = "/api/v1/listings/"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def catalogue(user):
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
                )
            ],
        ),
    }


def draft_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "right": {
            "kind": "patent",
            "sub_kind": "invention",
            "jurisdiction": "US",
            "numbers": {"us_patent": "US 9,123,456 B2"},
            "title": "Distributed fibre-optic strain sensing array",
            "owners": ["Example Innovations Inc."],
            "filing_date": "2014-05-01",
            "expiry_date": "2034-05-01",
            "cpc_symbols": ["G01L 1/24"],
        },
        "title": "Fibre-optic strain sensing patent",
        "description": "Clean title.",
        "deal_types": ["assignment", "exclusive_licence"],
        "price_mode": "fixed",
        "currency": "USD",
        "asking_price": "150,000.00",
    }
    body.update(overrides)
    return body


def unchanged(before: tuple[int, int, int]) -> bool:
    return (Listing.objects.count(), Right.objects.count(), ListingEvent.objects.count()) == before


def counts() -> tuple[int, int, int]:
    return (Listing.objects.count(), Right.objects.count(), ListingEvent.objects.count())


# --- Search ---------------------------------------------------------------------------------------


def test_anyone_can_search_and_gets_results_facets_and_the_total(api, catalogue, user):
    make_listing(seller=user, publish=False, title="A draft nobody sees")

    response = api.get(LISTINGS, {"q": "neural network"})

    assert response.status_code == 200
    data = response.json()
    assert (data["count"], data["count_is_estimate"], data["page"], data["pages"]) == (1, False, 1, 1)
    assert [item["id"] for item in data["results"]] == [catalogue["accelerator"].pk]
    first = data["results"][0]
    assert (first["title"], first["state"], first["asking_price"], first["asking_price_minor"]) == (
        "Sparse neural network accelerator",
        "published",
        "25000.00",
        2_500_000,
    )
    assert first["rights"][0]["registration_number"] == "6654321"
    assert first["rights"][0]["owners"] == ["Acme Robotics Corp."]
    assert set(data["facets"]) == {
        "kind",
        "jurisdiction",
        "status",
        "cpc_section",
        "cpc_class",
        "nice",
        "deal_type",
        "price",
        "term",
    }
    assert {facet["value"]: facet["count"] for facet in data["facets"]["kind"]} == {"patent": 1}


def test_drafts_never_appear_in_search(api, user):
    make_listing(seller=user, publish=False, title="A draft nobody sees")

    data = api.get(LISTINGS).json()

    assert data["count"] == 0
    assert data["results"] == []


def test_filters_narrow_the_results_as_on_the_page(api, catalogue):
    by_kind = api.get(LISTINGS, {"kind": "trademark"}).json()
    by_deal = api.get(LISTINGS, {"deal_type": "exclusive_licence"}).json()
    by_price = api.get(LISTINGS, {"price": "under_10k"}).json()
    by_nice = api.get(LISTINGS, {"nice": "9"}).json()
    two = api.get(LISTINGS, {"kind": "patent", "cpc_section": "H"}).json()

    assert [item["id"] for item in by_kind["results"]] == [catalogue["mark"].pk]
    assert [item["id"] for item in by_deal["results"]] == [catalogue["battery"].pk]
    assert [item["id"] for item in by_price["results"]] == []
    assert [item["id"] for item in by_nice["results"]] == [catalogue["mark"].pk]
    assert [item["id"] for item in two["results"]] == [catalogue["battery"].pk]
    kind_facet = {facet["value"]: (facet["count"], facet["selected"]) for facet in by_kind["facets"]["kind"]}
    assert kind_facet == {"patent": (2, False), "trademark": (1, True)}
    assert by_kind["query"] == "kind=trademark"


def test_sorts_order_the_results(api, catalogue):
    ascending = api.get(LISTINGS, {"sort": "price_asc"}).json()
    descending = api.get(LISTINGS, {"sort": "price_desc"}).json()

    order = [catalogue[name].pk for name in ("accelerator", "battery", "mark")]
    assert [item["id"] for item in ascending["results"]] == order
    assert [item["id"] for item in descending["results"]] == order[::-1]


def test_an_office_number_names_its_listing(api, catalogue):
    data = api.get(LISTINGS, {"q": "US 6,654,321 B2"}).json()

    assert data["exact_match"] == catalogue["accelerator"].pk


def test_pages_link_to_each_other_and_a_page_past_the_end_gives_the_last(api, user, monkeypatch):
    from listings import search

    monkeypatch.setattr(search, "PAGE_SIZE", 2)
    for number in range(5):
        make_listing(seller=user, rights=[make_right(registration_number=str(7_100_000 + number))])

    first = api.get(LISTINGS, {"kind": "patent"}).json()
    past = api.get(LISTINGS, {"kind": "patent", "page": "99"}).json()

    assert (first["count"], first["pages"], len(first["results"])) == (5, 3, 2)
    assert first["previous"] is None
    assert first["next"].endswith("/api/v1/listings/?kind=patent&page=2")
    assert (past["page"], len(past["results"])) == (3, 1)
    assert past["notices"] == ["There are only 3 pages of results; showing the last."]
    assert past["next"] is None
    assert past["previous"].endswith("page=2")


@pytest.mark.parametrize(
    "params",
    [
        {"q": '"unbalanced quote'},
        {"q": "OR OR - -"},
        {"q": "x" * 10_000},
        {"page": "-3"},
        {"page": "abc"},
        {"kind": "spaceship", "nice": "999", "sort": "nonsense", "price": "free"},
    ],
)
def test_search_garbage_gets_an_answer_not_an_error(api, catalogue, params):
    response = api.get(LISTINGS, params)

    assert response.status_code == 200
    assert response.json()["page"] >= 1


def test_queries_per_page_do_not_grow_with_the_results(api, user):
    make_listing(seller=user, rights=[make_right(registration_number="7200000")])
    facet_labels_forget()  # the worst case each time: the facets' titles are read too
    with CaptureQueriesContext(connection) as one:
        api.get(LISTINGS)
    for number in range(1, 6):
        make_listing(seller=user, rights=[make_right(registration_number=str(7_200_000 + number))])
    facet_labels_forget()
    with CaptureQueriesContext(connection) as six:
        data = api.get(LISTINGS).json()

    assert data["count"] == 6
    assert len(six.captured_queries) == len(one.captured_queries)


# --- Detail -------------------------------------------------------------------------------------------


def test_a_public_listing_is_shown_to_anyone(api, catalogue):
    response = api.get(f"{LISTINGS}{catalogue['mark'].pk}/")

    assert response.status_code == 200
    assert response.json()["rights"][0]["nice_classes"] == [9]


def test_a_draft_is_shown_to_its_seller_only(api, user, other_user):
    draft = make_listing(seller=user, publish=False)
    url = f"{LISTINGS}{draft.pk}/"

    anonymous = api.get(url)
    api.force_authenticate(other_user)
    someone_else = api.get(url)
    api.force_authenticate(user)
    seller = api.get(url)

    assert (anonymous.status_code, someone_else.status_code, seller.status_code) == (404, 404, 200)
    assert seller.json()["state"] == "draft"
    assert seller.json()["waiting_for"] == "You: complete and submit it."


def test_a_listing_that_does_not_exist_is_404(api):
    assert api.get(f"{LISTINGS}999999/").status_code == 404


# --- Creating a draft -------------------------------------------------------------------------------


def test_a_seller_creates_a_draft_with_its_right(api, user):
    api.force_authenticate(user)

    response = api.post(LISTINGS, draft_body(), format="json")

    assert response.status_code == 201
    listing = Listing.objects.get()
    data = response.json()
    assert data["id"] == listing.pk
    assert (data["state"], data["asking_price"], data["minimum_price"]) == ("draft", "150000.00", None)
    assert (listing.seller, listing.state, listing.asking_price) == (user, ListingState.DRAFT, 15_000_000)
    right = listing.rights.get()
    assert (right.registration_number, right.cpc_symbols, right.facts_source) == (
        "9123456",
        ["G01L1/24"],
        "seller's statement",
    )
    assert list(right.owners.values_list("name", flat=True)) == ["Example Innovations Inc."]


def test_a_draft_reuses_a_right_already_known(api, user):
    known = make_right(registration_number="9123456", title="As the register says")
    api.force_authenticate(user)

    response = api.post(LISTINGS, draft_body(), format="json")

    assert response.status_code == 201
    assert Listing.objects.get().rights.get() == known
    assert Right.objects.count() == 1


def test_anonymous_writes_are_refused(api):
    response = api.post(LISTINGS, draft_body(), format="json")

    assert response.status_code in {401, 403}
    assert not Listing.objects.exists()
    assert not Right.objects.exists()


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (
            {"right": {**draft_body()["right"], "numbers": {"us_patent": "ABC123"}}},
            {"right": {"numbers": {"us_patent": ["is not written as a US patent number"]}}},
        ),
        (
            {"right": {**draft_body()["right"], "numbers": {"martian_patent": "1"}}},
            {"right": {"numbers": ["Unknown number kinds: martian_patent"]}},
        ),
        (
            {"right": {**draft_body()["right"], "numbers": {}}},
            {"right": {"numbers": {"us_application": ["Enter at least one office number"]}}},
        ),
        (
            {"right": {**draft_body()["right"], "expiry_date": "2001-01-01"}},
            {"right": {"expiry_date": ["before the filing date"]}},
        ),
        ({"asking_price": "-5"}, {"asking_price": ["positive"]}),
        ({"asking_price": "99999999999999999999"}, {"asking_price": [""]}),
        ({"currency": "XYZ"}, {"currency": ['"XYZ" is not a valid choice.']}),
        ({"deal_types": []}, {"deal_types": [""]}),
        ({"price_mode": "on_request"}, {"asking_price": ["leave the prices empty"]}),
        (
            {"price_mode": "offers", "asking_price": "10", "minimum_price": "20"},
            {"minimum_price": ["above the asking"]},
        ),
        ({"title": ""}, {"title": [""]}),
    ],
)
def test_bad_input_is_a_400_with_field_errors_and_nothing_is_created(api, user, change, errors):
    api.force_authenticate(user)
    before = counts()

    response = api.post(LISTINGS, draft_body(**change), format="json")

    assert response.status_code == 400, response.json()
    assert_errors(response.json(), errors)
    assert unchanged(before)


def assert_errors(actual: Any, expected: Any) -> None:
    """Each expected message fragment is in the error at the same place."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), actual
        for key, value in expected.items():
            assert key in actual, (key, actual)
            assert_errors(actual[key], value)
    else:
        assert isinstance(actual, list), actual
        for fragment, message in zip(expected, actual, strict=False):
            assert fragment.lower() in str(message).lower(), (fragment, message)


def test_a_refused_draft_leaves_no_right_behind(api, user):
    """The right is found or created before the terms are checked; a refusal undoes it."""
    api.force_authenticate(user)

    response = api.post(LISTINGS, draft_body(price_mode="on_request"), format="json")

    assert response.status_code == 400
    assert not Right.objects.exists()


def test_a_body_that_is_not_an_object_is_a_400(api, user):
    api.force_authenticate(user)

    response = api.post(LISTINGS, [1, 2, 3], format="json")

    assert response.status_code == 400
    assert not Listing.objects.exists()


# --- Updating and submitting a draft -----------------------------------------------------------------


def test_a_seller_updates_a_drafts_terms(api, user):
    draft = make_listing(seller=user, publish=False)
    api.force_authenticate(user)

    response = api.patch(
        f"{LISTINGS}{draft.pk}/",
        {"title": "New title", "price_mode": "offers", "minimum_price": "20,000"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    draft = Listing.objects.get(pk=draft.pk)
    assert (draft.title, draft.price_mode, draft.asking_price, draft.minimum_price) == (
        "New title",
        "offers",
        2_500_000,
        2_000_000,
    )
    assert response.json()["minimum_price"] == "20000.00"


def test_clearing_the_prices_makes_a_price_on_request(api, user):
    draft = make_listing(seller=user, publish=False)
    api.force_authenticate(user)

    response = api.patch(f"{LISTINGS}{draft.pk}/", {"price_mode": "on_request", "asking_price": None}, format="json")

    assert response.status_code == 200, response.json()
    assert Listing.objects.get(pk=draft.pk).asking_price is None


def test_a_new_currency_needs_its_prices_again(api, user):
    draft = make_listing(seller=user, publish=False)
    api.force_authenticate(user)

    refused = api.patch(f"{LISTINGS}{draft.pk}/", {"currency": "JPY"}, format="json")
    accepted = api.patch(f"{LISTINGS}{draft.pk}/", {"currency": "JPY", "asking_price": "3,000,000"}, format="json")

    assert refused.status_code == 400
    assert "asking_price" in refused.json()
    assert accepted.status_code == 200
    draft = Listing.objects.get(pk=draft.pk)
    assert (draft.currency, draft.asking_price) == ("JPY", 3_000_000)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"asking_price": "12.345"}, "asking_price"),
        ({"asking_price": "-1"}, "asking_price"),
        ({"deal_types": ["theft"]}, "deal_types"),
        ({"price_mode": "auction"}, "price_mode"),
        ({"title": "   "}, "title"),
        ({"price_mode": "offers"}, "minimum_price"),
    ],
)
def test_a_bad_update_is_a_400_and_changes_nothing(api, user, body, field):
    draft = make_listing(seller=user, publish=False)
    api.force_authenticate(user)
    before = Listing.objects.values().get(pk=draft.pk)

    response = api.patch(f"{LISTINGS}{draft.pk}/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert Listing.objects.values().get(pk=draft.pk) == before


def test_someone_elses_draft_cannot_be_changed_or_submitted(api, user, other_user):
    draft = make_listing(seller=user, publish=False)
    api.force_authenticate(other_user)
    before = Listing.objects.values().get(pk=draft.pk)

    patch = api.patch(f"{LISTINGS}{draft.pk}/", {"title": "Mine now"}, format="json")
    submit = api.post(f"{LISTINGS}{draft.pk}/submit/")

    assert (patch.status_code, submit.status_code) == (404, 404)
    assert Listing.objects.values().get(pk=draft.pk) == before


def test_a_published_listing_is_not_a_draft_to_edit(api, user, catalogue):
    listing = catalogue["accelerator"]
    api.force_authenticate(user)

    response = api.patch(f"{LISTINGS}{listing.pk}/", {"title": "Changed"}, format="json")

    assert response.status_code == 400
    assert "Only a draft can be edited" in response.json()["detail"]
    assert Listing.objects.get(pk=listing.pk).title == "Sparse neural network accelerator"


def test_a_seller_submits_a_draft(api, user):
    draft = make_listing(seller=user, publish=False)
    api.force_authenticate(user)

    response = api.post(f"{LISTINGS}{draft.pk}/submit/")
    again = api.post(f"{LISTINGS}{draft.pk}/submit/")

    assert response.status_code == 200
    assert response.json()["state"] == "submitted"
    assert Listing.objects.get(pk=draft.pk).state == ListingState.SUBMITTED
    assert again.status_code == 400
    assert "cannot be submitted" in again.json()["detail"]


def test_a_draft_of_an_expired_right_cannot_be_submitted(api, user):
    right = make_right(filing_date=date(1990, 1, 1), grant_date=date(1992, 1, 1), expiry_date=date(2010, 1, 1))
    draft = make_listing(seller=user, publish=False, rights=[right])
    api.force_authenticate(user)

    response = api.post(f"{LISTINGS}{draft.pk}/submit/")

    assert response.status_code == 400
    assert "not in force" in response.json()["detail"]
    assert Listing.objects.get(pk=draft.pk).state == ListingState.DRAFT


def test_anonymous_submit_is_refused(api, user):
    draft = make_listing(seller=user, publish=False)

    response = api.post(f"{LISTINGS}{draft.pk}/submit/")

    assert response.status_code in {401, 403}
    assert Listing.objects.get(pk=draft.pk).state == ListingState.DRAFT


def test_an_api_key_authenticates_writes(api, user):
    from accounts import services as account_services

    _, key = account_services.api_token_issue(user=user, name="ci")
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = api.post(LISTINGS, draft_body(), format="json")

    assert response.status_code == 201
    assert Listing.objects.get().seller == user


# --- The schema -----------------------------------------------------------------------------------------


def test_the_endpoints_are_in_the_openapi_schema(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths["/api/v1/listings/"]) >= {"get", "post"}
    assert set(paths["/api/v1/listings/{listing_id}/"]) >= {"get", "patch"}
    assert "post" in paths["/api/v1/listings/{listing_id}/submit/"]
    parameters = {parameter["name"] for parameter in paths["/api/v1/listings/"]["get"]["parameters"]}
    assert parameters >= {"q", "kind", "jurisdiction", "status", "cpc_section", "cpc_class", "nice", "deal_type"}
    assert parameters >= {"price", "term", "verified", "sort", "page"}


def test_someone_else_is_never_the_seller_of_a_created_draft(api, user):
    other = UserFactory()
    api.force_authenticate(user)

    api.post(LISTINGS, {**draft_body(), "seller": other.pk}, format="json")

    assert Listing.objects.get().seller == user

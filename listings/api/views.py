"""The listings API: search as on the page, detail, and a seller's own drafts.

Each view parses and authorises, then calls the same search, selectors and services as the
pages, so the API and the browser cannot disagree on who may see or change what.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from listings import search, selectors, services
from listings.api.serializers import (
    ListingCreateSerializer,
    ListingSerializer,
    ListingTermsInputSerializer,
    SearchResultsSerializer,
)
from listings.models import DealType, Jurisdiction, Kind, Listing, Status
from listings.office_numbers import NumberKind

NUMBER_KINDS = {kind.value for kind in NumberKind}


def _user(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


def _refusal(error: services.ListingError, *, prefix: str = "") -> ValidationError:
    """A service's refusal as a 400: under the field it concerns, else as `detail`."""
    if error.field:
        detail: dict[str, Any] = {error.field: [str(error)]}
        if prefix and error.field in NUMBER_KINDS:
            detail = {"numbers": detail}
        return ValidationError({prefix: detail} if prefix else detail)
    return ValidationError({"detail": str(error)})


def _own_draft(request: Request, listing_id: int) -> Listing:
    listing = selectors.listing_for_seller(seller=_user(request), listing_id=listing_id)
    if listing is None:
        raise NotFound("No such listing of yours.")
    return listing


def _shown(request: Request, listing: Listing) -> dict[str, Any]:
    fresh = selectors.listing_visible_to(user=request.user, listing_id=listing.pk)
    return dict(ListingSerializer(fresh).data)


def _many(name: str, values: list[str] | None, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, OpenApiTypes.STR, many=True, explode=True, enum=values, description=description + " Repeat for OR."
    )


SEARCH_PARAMETERS = [
    OpenApiParameter(
        "q",
        OpenApiTypes.STR,
        description='Web-search syntax: words, "quoted phrases", OR, -exclusion; or one office number.',
    ),
    _many("kind", list(Kind.values), "Kind of right."),
    _many("jurisdiction", list(Jurisdiction.values), "Office."),
    _many("status", list(Status.values), "The rights' status."),
    _many("cpc_section", list("ABCDEFGHY"), "CPC section."),
    _many("cpc_class", None, "CPC class, e.g. G06."),
    OpenApiParameter("nice", OpenApiTypes.INT, many=True, explode=True, description="Nice class, 1 to 45."),
    _many("deal_type", list(DealType.values), "Deal type offered."),
    _many("price", list(search.PRICE_BANDS), "Price band (major units)."),
    _many("term", list(search.TERM_BANDS), "Remaining term band (a right whose term has ended is in none)."),
    OpenApiParameter("verified", OpenApiTypes.STR, enum=["1"], description="1: only verified listings."),
    OpenApiParameter("sort", OpenApiTypes.STR, enum=list(search.SORTS), description="Order of the results."),
    OpenApiParameter("page", OpenApiTypes.INT, description=f"From 1; {search.PAGE_SIZE} results a page."),
]

_BAD_INPUT = OpenApiResponse(description="Bad input: field errors, nothing changed.")
_NOT_FOUND = OpenApiResponse(description="No such listing (someone else's draft is not found either).")


class ListingListView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(
        operation_id="listings_search",
        parameters=SEARCH_PARAMETERS,
        responses=SearchResultsSerializer,
        description="Search and browse public listings with the same syntax, filters and facets as /listings/. "
        "Unknown filter values are ignored; a page past the end gives the last page, with a notice.",
    )
    def get(self, request: Request) -> Response:
        query: QueryDict = request.query_params
        params = search.params_parse(query)
        exact = search.exact_number_match(params.q) if params.q else None
        results = search.search_run(params)
        listings = selectors.listings_by_ids(listing_ids=results.listing_ids)

        def page_url(page: int) -> str | None:
            if not 1 <= page <= results.pages or page == params.page:
                return None
            shared = search.params_query_string(params)
            return request.build_absolute_uri(f"{request.path}?{shared}{'&' if shared else ''}page={page}")

        data = {
            "count": results.total,
            "count_is_estimate": results.total_is_estimate,
            "page": params.page,
            "pages": results.pages,
            "next": page_url(params.page + 1),
            "previous": page_url(params.page - 1),
            "exact_match": exact,
            "notices": params.notices,
            "query": search.params_query_string(params),
            "facets": {name: [vars(value) for value in values] for name, values in results.facets.items()},
            "results": ListingSerializer(listings, many=True).data,
        }
        # Already in wire form; SearchResultsSerializer documents the shape in the schema.
        return Response(data)

    @extend_schema(
        operation_id="listings_create_draft",
        request=ListingCreateSerializer,
        responses={201: ListingSerializer, 400: _BAD_INPUT},
        description="Create a draft listing of one right, as you state it; submit it when it is complete.",
    )
    def post(self, request: Request) -> Response:
        serializer = ListingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        claim_data = data.pop("right")
        claim = services.RightClaim(**claim_data)
        terms = services.ListingTerms(
            title=data["title"],
            description=data["description"],
            deal_types=list(data["deal_types"]),
            price_mode=data["price_mode"],
            currency=data["currency"],
            asking_price=data.get("asking_price"),
            minimum_price=data.get("minimum_price"),
        )
        # One transaction: a right created for a draft whose terms are then refused is undone.
        with transaction.atomic():
            try:
                right = services.right_from_claim(claim=claim)
            except services.ListingError as error:
                raise _refusal(error, prefix="right") from error
            try:
                listing = services.listing_create_draft(seller=_user(request), rights=[right], terms=terms)
            except services.ListingError as error:
                raise _refusal(error) from error
        return Response(_shown(request, listing), status=status.HTTP_201_CREATED)


class ListingDetailView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(
        operation_id="listings_retrieve",
        responses={200: ListingSerializer, 404: _NOT_FOUND},
        description="A public listing for anyone; your own listing in any state.",
    )
    def get(self, request: Request, listing_id: int) -> Response:
        listing = selectors.listing_visible_to(user=request.user, listing_id=listing_id)
        if listing is None:
            raise NotFound("No such listing.")
        return Response(ListingSerializer(listing).data)

    @extend_schema(
        operation_id="listings_update_draft",
        request=ListingTermsInputSerializer(partial=True),
        responses={200: ListingSerializer, 400: _BAD_INPUT, 404: _NOT_FOUND},
        description="Change your draft's terms; fields left out keep their values. "
        "Send null for a price to clear it (price on request).",
    )
    def patch(self, request: Request, listing_id: int) -> Response:
        listing = _own_draft(request, listing_id)
        serializer = ListingTermsInputSerializer(
            data=request.data, partial=True, context={"currency": listing.currency}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        terms = services.ListingTerms(
            title=data.get("title", listing.title),
            description=data.get("description", listing.description),
            deal_types=list(data.get("deal_types", listing.deal_types)),
            price_mode=data.get("price_mode", listing.price_mode),
            currency=data.get("currency", listing.currency),
            asking_price=data.get("asking_price", listing.asking_price),
            minimum_price=data.get("minimum_price", listing.minimum_price),
        )
        # Minor units mean nothing in another currency: a new currency needs its prices again.
        if terms.currency != listing.currency:
            stale = [name for name in ("asking_price", "minimum_price") if name not in data and getattr(listing, name)]
            if stale:
                raise ValidationError({name: ["Give this price again in the new currency."] for name in stale})
        try:
            listing = services.listing_update_draft(listing=listing, acting_user=_user(request), terms=terms)
        except services.ListingError as error:
            raise _refusal(error) from error
        return Response(_shown(request, listing))


class ListingSubmitView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="listings_submit",
        request=None,
        responses={200: ListingSerializer, 400: _BAD_INPUT, 404: _NOT_FOUND},
        description="Submit your draft: it is verified against the office's register before it goes public.",
    )
    def post(self, request: Request, listing_id: int) -> Response:
        listing = _own_draft(request, listing_id)
        try:
            listing = services.listing_submit(listing=listing, acting_user=_user(request))
        except services.ListingError as error:
            raise _refusal(error) from error
        return Response(_shown(request, listing))

"""The offers and deals API: each view parses and authorises, then calls one service."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from escrow import selectors, services
from escrow.api.serializers import (
    BuySerializer,
    CounterInputSerializer,
    DealSerializer,
    ErrorSerializer,
    MessageSerializer,
    OfferCreateSerializer,
    OfferSerializer,
)
from escrow.models import Deal, Offer
from escrow.services.common import Refusal
from listings import selectors as listing_selectors
from listings.models import Listing, ListingState
from marketplace.money import Money, MoneyError, money_parse

_STATUS = {Refusal.INVALID: 400, Refusal.FORBIDDEN: 403, Refusal.CONFLICT: 409}
# Listings that were public once: asking to buy them is a conflict (409), not a missing page.
_ONCE_PUBLIC = {ListingState.SOLD, ListingState.WITHDRAWN, ListingState.EXPIRED, ListingState.SUSPENDED}


class Refused(APIException):
    def __init__(self, error: services.DealError) -> None:
        super().__init__(detail=str(error), code=error.code.value)
        self.status_code = _STATUS[error.code]


def _user(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


def _money(amount: str, currency: str) -> Money:
    try:
        return money_parse(amount, currency=currency)
    except MoneyError as error:
        raise Refused(services.DealError(str(error), code=Refusal.INVALID, field="amount")) from error


def _listing(request: Request, listing_id: int) -> Listing:
    listing = listing_selectors.listing_visible_to(user=request.user, listing_id=listing_id)
    if listing is None:
        listing = Listing.objects.filter(pk=listing_id, state__in=_ONCE_PUBLIC).first()
    if listing is None:
        raise NotFound("No such listing.")
    return listing


def _offer(request: Request, offer_id: int) -> Offer:
    offer = selectors.offer_of(user=_user(request), offer_id=offer_id)
    if offer is None:
        raise NotFound("No such offer of yours.")
    return offer


_REFUSALS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad input (amount, currency, deal type, below the minimum)."),
    403: OpenApiResponse(ErrorSerializer, description="Not yours to do (your own listing, the other side's offer)."),
    409: OpenApiResponse(ErrorSerializer, description="Not possible now: the listing or offer is no longer open."),
}


class ListingBuyView(APIView):
    """Buy a fixed-price listing at its asking price: a deal awaiting your payment."""

    @extend_schema(request=BuySerializer, responses={201: DealSerializer, **_REFUSALS}, operation_id="listing_buy")
    def post(self, request: Request, listing_id: int) -> Response:
        serializer = BuySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        listing = _listing(request, listing_id)
        try:
            deal = services.deal_buy_now(
                listing=listing,
                buyer=_user(request),
                deal_type=serializer.validated_data.get("deal_type"),
                services=serializer.validated_data["services"],
            )
        except services.DealError as error:
            raise Refused(error) from error
        shown = selectors.deal_of(user=_user(request), deal_id=deal.pk)
        return Response(DealSerializer(shown, context={"request": request}).data, status=status.HTTP_201_CREATED)


class OfferListView(generics.ListAPIView[Offer]):
    """Offers in your negotiations: those you made as a buyer and those on your listings."""

    serializer_class = OfferSerializer

    def get_queryset(self) -> Any:
        return selectors.offers_of(user=_user(self.request))

    @extend_schema(request=OfferCreateSerializer, responses={201: OfferSerializer, **_REFUSALS})
    def post(self, request: Request) -> Response:
        serializer = OfferCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        listing = _listing(request, data["listing"])
        try:
            offer = services.offer_make(
                listing=listing,
                buyer=_user(request),
                amount=_money(data["amount"], data["currency"]),
                deal_type=data["deal_type"],
                message=data["message"],
                services=data["services"],
            )
        except services.DealError as error:
            raise Refused(error) from error
        return Response(OfferSerializer(offer).data, status=status.HTTP_201_CREATED)


class OfferDetailView(APIView):
    @extend_schema(responses=OfferSerializer)
    def get(self, request: Request, offer_id: int) -> Response:
        return Response(OfferSerializer(_offer(request, offer_id)).data)


class OfferCounterView(APIView):
    """Answer an offer made to you with another price; your counter is the open offer."""

    @extend_schema(request=CounterInputSerializer, responses={201: OfferSerializer, **_REFUSALS})
    def post(self, request: Request, offer_id: int) -> Response:
        serializer = CounterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        offer = _offer(request, offer_id)
        try:
            counter = services.offer_counter(
                offer=offer,
                acting_user=_user(request),
                amount=_money(data["amount"], data["currency"]),
                message=data["message"],
                services=data.get("services"),
            )
        except services.DealError as error:
            raise Refused(error) from error
        return Response(OfferSerializer(counter).data, status=status.HTTP_201_CREATED)


class OfferAcceptView(APIView):
    """Accept an offer made to you: a deal awaiting the buyer's payment, the listing reserved."""

    @extend_schema(request=None, responses={201: DealSerializer, **_REFUSALS})
    def post(self, request: Request, offer_id: int) -> Response:
        offer = _offer(request, offer_id)
        try:
            deal = services.offer_accept(offer=offer, acting_user=_user(request))
        except services.DealError as error:
            raise Refused(error) from error
        shown = selectors.deal_of(user=_user(request), deal_id=deal.pk)
        return Response(DealSerializer(shown, context={"request": request}).data, status=status.HTTP_201_CREATED)


class OfferRejectView(APIView):
    @extend_schema(request=MessageSerializer, responses={200: OfferSerializer, **_REFUSALS})
    def post(self, request: Request, offer_id: int) -> Response:
        serializer = MessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        offer = _offer(request, offer_id)
        try:
            offer = services.offer_reject(
                offer=offer, acting_user=_user(request), message=serializer.validated_data["message"]
            )
        except services.DealError as error:
            raise Refused(error) from error
        return Response(OfferSerializer(offer).data)


class OfferWithdrawView(APIView):
    @extend_schema(request=None, responses={200: OfferSerializer, **_REFUSALS})
    def post(self, request: Request, offer_id: int) -> Response:
        offer = _offer(request, offer_id)
        try:
            offer = services.offer_withdraw(offer=offer, acting_user=_user(request))
        except services.DealError as error:
            raise Refused(error) from error
        return Response(OfferSerializer(offer).data)


class DealListView(generics.ListAPIView[Deal]):
    """Your deals, as buyer or as seller, with their timelines."""

    serializer_class = DealSerializer

    def get_queryset(self) -> Any:
        return selectors.deals_of(user=_user(self.request))


class DealDetailView(generics.RetrieveAPIView[Deal]):
    serializer_class = DealSerializer
    lookup_url_kwarg = "deal_id"

    def get_queryset(self) -> Any:
        return selectors.deals_of(user=_user(self.request))

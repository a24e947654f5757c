from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from escrow.models import Deal, DealEvent, Offer, ValueAddedService
from escrow.selectors import offer_quote
from escrow.services.fees import FeeLine, FeeQuote, deal_fee_lines
from listings.models import DealType
from marketplace.money import Money, money_format


@extend_schema_field(OpenApiTypes.STR)
class MoneyField(serializers.Field):
    """An amount as its exact decimal string in major units ("1234.56"), with its currency
    beside it; minor units are also given, as an integer, for clients that compute."""

    def to_representation(self, value: Money) -> str:
        return money_format(value, with_currency=False).replace(",", "")


class FeeLineSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="registration, transaction, broker, valuation or translation.")
    name = serializers.CharField(source="label", help_text="The fee as the parties see it named.")
    basis = serializers.CharField(help_text='How it is reckoned, e.g. "2.50% of the price, paid by the seller".')
    buyer_amount = serializers.IntegerField(source="buyer_part.amount", help_text="Minor units the buyer pays.")
    seller_amount = serializers.IntegerField(source="seller_part.amount", help_text="Minor units the seller pays.")


class FeeQuoteSerializer(serializers.Serializer):
    """The exact amounts of a proposal, as a deal from it would copy them."""

    price = MoneyField()
    buyer_pays = MoneyField(help_text="The price plus the buyer's fees: paid into escrow.")
    seller_receives = MoneyField(help_text="The price less the seller's fees: paid out on release.")
    lines = FeeLineSerializer(many=True)


def _services_field(**kwargs: Any) -> serializers.ListField:
    kwargs.setdefault("help_text", "Value-added services: broker, valuation, translation (priced by the fee schedule).")
    return serializers.ListField(child=serializers.ChoiceField(choices=ValueAddedService.choices), **kwargs)


class DealEventSerializer(serializers.ModelSerializer[DealEvent]):
    class Meta:
        model = DealEvent
        fields = ["from_state", "to_state", "note", "at"]


class DealSerializer(serializers.ModelSerializer[Deal]):
    price = MoneyField(source="price_money", read_only=True)
    price_minor = serializers.IntegerField(source="price", read_only=True, help_text="The price in minor units.")
    buyer_fee_amount = serializers.IntegerField(source="buyer_fee", read_only=True)
    seller_fee_amount = serializers.IntegerField(source="seller_fee", read_only=True)
    total_due = MoneyField(read_only=True, help_text="What the buyer pays into escrow.")
    seller_proceeds = MoneyField(read_only=True, help_text="What the seller receives on release.")
    role = serializers.SerializerMethodField(help_text="Your side of the deal: buyer or seller.")
    services = _services_field(read_only=True)
    fees = serializers.SerializerMethodField(help_text="Each fee of the deal and who pays what of it.")
    events = DealEventSerializer(many=True, read_only=True)

    class Meta:
        model = Deal
        fields = [
            "id",
            "listing",
            "role",
            "deal_type",
            "state",
            "currency",
            "price",
            "price_minor",
            "buyer_fee_amount",
            "seller_fee_amount",
            "services",
            "fees",
            "total_due",
            "seller_proceeds",
            "payment_deadline",
            "created_at",
            "funded_at",
            "recorded_at",
            "released_at",
            "refunded_at",
            "cancelled_at",
            "events",
        ]

    def get_role(self, deal: Deal) -> str | None:
        request = self.context.get("request")
        return deal.party_of(request.user.pk) if request is not None else None

    @extend_schema_field(FeeLineSerializer(many=True))
    def get_fees(self, deal: Deal) -> list[dict[str, object]]:
        lines: list[FeeLine] = deal_fee_lines(deal=deal)
        return list(FeeLineSerializer(lines, many=True).data)


class OfferSerializer(serializers.ModelSerializer[Offer]):
    amount_display = MoneyField(source="money", read_only=True)
    services = _services_field(read_only=True)
    quote = serializers.SerializerMethodField(
        help_text="The exact amounts if this offer is accepted now (null when it is closed)."
    )

    class Meta:
        model = Offer
        fields = [
            "id",
            "listing",
            "buyer",
            "made_by",
            "amount",
            "amount_display",
            "currency",
            "deal_type",
            "services",
            "quote",
            "message",
            "state",
            "parent",
            "expires_at",
            "closing_note",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(FeeQuoteSerializer(allow_null=True))
    def get_quote(self, offer: Offer) -> dict[str, object] | None:
        quote: FeeQuote | None = offer_quote(offer=offer) if offer.state == "open" else None
        return dict(FeeQuoteSerializer(quote).data) if quote is not None else None


class AmountInputSerializer(serializers.Serializer):
    amount = serializers.CharField(max_length=64, help_text='In major units, as written: "250000" or "250,000.00".')
    currency = serializers.CharField(max_length=3, help_text="ISO 4217; must be the listing's currency.")
    message = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class CounterInputSerializer(AmountInputSerializer):
    services = _services_field(required=False, help_text="Absent: the same services as the offer answered.")


class OfferCreateSerializer(AmountInputSerializer):
    listing = serializers.IntegerField(min_value=1)
    deal_type = serializers.ChoiceField(choices=DealType.choices)
    services = _services_field(required=False, default=list)


class BuySerializer(serializers.Serializer):
    deal_type = serializers.ChoiceField(choices=DealType.choices, required=False)
    services = _services_field(
        required=False,
        default=list,
        help_text="Value-added services the buyer pays for; one the seller pays part of takes an offer.",
    )


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()

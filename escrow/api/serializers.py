from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from escrow.models import Deal, DealEvent, Offer
from listings.models import DealType
from marketplace.money import Money, money_format


@extend_schema_field(OpenApiTypes.STR)
class MoneyField(serializers.Field):
    """An amount as its exact decimal string in major units ("1234.56"), with its currency
    beside it; minor units are also given, as an integer, for clients that compute."""

    def to_representation(self, value: Money) -> str:
        return money_format(value, with_currency=False).replace(",", "")


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


class OfferSerializer(serializers.ModelSerializer[Offer]):
    amount_display = MoneyField(source="money", read_only=True)

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
            "message",
            "state",
            "parent",
            "expires_at",
            "closing_note",
            "created_at",
        ]
        read_only_fields = fields


class AmountInputSerializer(serializers.Serializer):
    amount = serializers.CharField(max_length=64, help_text='In major units, as written: "250000" or "250,000.00".')
    currency = serializers.CharField(max_length=3, help_text="ISO 4217; must be the listing's currency.")
    message = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class OfferCreateSerializer(AmountInputSerializer):
    listing = serializers.IntegerField(min_value=1)
    deal_type = serializers.ChoiceField(choices=DealType.choices)


class BuySerializer(serializers.Serializer):
    deal_type = serializers.ChoiceField(choices=DealType.choices, required=False)


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()

"""The listings API's shapes: what a client sends to create or change a draft, and what it reads."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from listings.forms import NUMBER_FIELDS
from listings.models import DealType, Jurisdiction, Kind, Listing, OwnerOfRecord, PriceMode, Right, SubKind
from marketplace.money import CURRENCIES, Money, MoneyError, money_format, money_parse

# --- Reading ------------------------------------------------------------------------------------


class RightSerializer(serializers.ModelSerializer[Right]):
    owners = serializers.SlugRelatedField[OwnerOfRecord](
        many=True, read_only=True, slug_field="name", help_text="Owners of record, as the register names them."
    )
    number_display = serializers.CharField(read_only=True)

    class Meta:
        model = Right
        fields = [
            "id",
            "kind",
            "sub_kind",
            "jurisdiction",
            "application_number",
            "publication_number",
            "registration_number",
            "number_display",
            "title",
            "abstract",
            "goods_and_services",
            "cpc_symbols",
            "nice_classes",
            "owners",
            "filing_date",
            "grant_date",
            "expiry_date",
            "status",
            "office_status_text",
            "next_due_date",
            "facts_source",
            "facts_as_of",
        ]
        read_only_fields = fields


def _major(amount: int | None, currency: str) -> str | None:
    if amount is None:
        return None
    return money_format(Money(amount, currency), with_currency=False).replace(",", "")


class ListingSerializer(serializers.ModelSerializer[Listing]):
    seller = serializers.CharField(source="seller.public_name", read_only=True)
    asking_price = serializers.SerializerMethodField(help_text='In major units, as an exact decimal: "150000.00".')
    minimum_price = serializers.SerializerMethodField(help_text="The lowest offer considered, in major units.")
    asking_price_minor = serializers.IntegerField(source="asking_price", read_only=True, allow_null=True)
    minimum_price_minor = serializers.IntegerField(source="minimum_price", read_only=True, allow_null=True)
    rights = serializers.SerializerMethodField()
    waiting_for = serializers.CharField(read_only=True, help_text="What the listing waits for, in its state.")

    class Meta:
        model = Listing
        fields = [
            "id",
            "title",
            "description",
            "state",
            "waiting_for",
            "deal_types",
            "price_mode",
            "currency",
            "asking_price",
            "asking_price_minor",
            "minimum_price",
            "minimum_price_minor",
            "seller",
            "rights",
            "created_at",
            "submitted_at",
            "published_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_asking_price(self, listing: Listing) -> str | None:
        return _major(listing.asking_price, listing.currency)

    @extend_schema_field(OpenApiTypes.STR)
    def get_minimum_price(self, listing: Listing) -> str | None:
        return _major(listing.minimum_price, listing.currency)

    @extend_schema_field(RightSerializer(many=True))
    def get_rights(self, listing: Listing) -> list[dict[str, Any]]:
        # listing_rights is prefetched by the selectors, in the listing's order.
        return [dict(RightSerializer(link.right).data) for link in listing.listing_rights.all()]


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    # A declared field named like Field.label: DRF moves it off the class, the stubs cannot know.
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField()
    selected = serializers.BooleanField()


class FacetsSerializer(serializers.Serializer):
    kind = FacetValueSerializer(many=True)
    jurisdiction = FacetValueSerializer(many=True)
    status = FacetValueSerializer(many=True)
    cpc_section = FacetValueSerializer(many=True)
    cpc_class = FacetValueSerializer(many=True)
    nice = FacetValueSerializer(many=True)
    deal_type = FacetValueSerializer(many=True)
    price = FacetValueSerializer(many=True)
    term = FacetValueSerializer(many=True)


class SearchResultsSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Matching listings: exact up to 10,000, an estimate above.")
    count_is_estimate = serializers.BooleanField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    exact_match = serializers.IntegerField(
        allow_null=True, help_text="The listing whose office number the whole query is, if there is one."
    )
    notices = serializers.ListField(child=serializers.CharField(), help_text="How the search was adjusted.")
    query = serializers.CharField(help_text="The search as canonical URL parameters, to share or save.")
    facets = FacetsSerializer()
    results = ListingSerializer(many=True)


# --- Writing ------------------------------------------------------------------------------------


class _PriceField(serializers.CharField):
    """An amount in major units as written ("150000", "150,000.00"); parsed with the currency."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=64, allow_null=True, required=False, **kwargs)


def _parse_prices(data: dict[str, Any], currency: str) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    for name in ("asking_price", "minimum_price"):
        if name not in data:
            continue
        text = data[name]
        if text is None or not str(text).strip():
            data[name] = None
            continue
        try:
            data[name] = money_parse(str(text), currency=currency).amount
        except MoneyError as error:
            errors[name] = [str(error)]
    if errors:
        raise serializers.ValidationError(errors)
    return data


class RightClaimInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices)
    sub_kind = serializers.ChoiceField(choices=SubKind.choices)
    jurisdiction = serializers.ChoiceField(choices=Jurisdiction.choices)
    numbers = serializers.DictField(
        child=serializers.CharField(max_length=64),
        help_text="Office numbers by kind, in any common spelling, e.g. "
        '{"us_patent": "US 6,654,321 B2"}. Kinds: ' + ", ".join(name for name, _ in NUMBER_FIELDS) + ".",
    )
    title = serializers.CharField(max_length=500)
    abstract = serializers.CharField(required=False, allow_blank=True, default="")
    goods_and_services = serializers.CharField(required=False, allow_blank=True, default="")
    owners = serializers.ListField(child=serializers.CharField(max_length=300), required=False, default=list)
    filing_date = serializers.DateField(required=False, allow_null=True, default=None)
    grant_date = serializers.DateField(required=False, allow_null=True, default=None)
    expiry_date = serializers.DateField(required=False, allow_null=True, default=None)
    cpc_symbols = serializers.ListField(child=serializers.CharField(max_length=64), required=False, default=list)
    nice_classes = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=45), required=False, default=list
    )

    def validate_numbers(self, value: dict[str, str]) -> dict[str, str]:
        known = {name for name, _ in NUMBER_FIELDS}
        unknown = sorted(set(value) - known)
        if unknown:
            raise serializers.ValidationError(
                f"Unknown number kinds: {', '.join(unknown)}; use {', '.join(sorted(known))}."
            )
        return value


class ListingTermsInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    deal_types = serializers.ListField(child=serializers.ChoiceField(choices=DealType.choices), allow_empty=False)
    price_mode = serializers.ChoiceField(choices=PriceMode.choices)
    currency = serializers.ChoiceField(choices=[(code, code) for code in CURRENCIES], default="USD")
    asking_price = _PriceField(help_text='In major units: "150000" or "150,000.00".')
    minimum_price = _PriceField(help_text="The lowest offer you will consider, in major units.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A partial update keeps the listing's currency unless it changes it (the view says which).
        currency = attrs.get("currency") or self.context.get("currency", "USD")
        return _parse_prices(attrs, currency)


class ListingCreateSerializer(ListingTermsInputSerializer):
    right = RightClaimInputSerializer(help_text="The right the listing offers, as you state it.")

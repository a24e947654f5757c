"""Forms parse what a seller types into the services' inputs; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms

from listings.models import DealType, Jurisdiction, Kind, ListingDocument, PriceMode, SubKind
from listings.office_numbers import NumberKind
from listings.services import ListingTerms, RightClaim
from marketplace.money import CURRENCIES, MoneyError, money_parse

# The number inputs the form offers: every kind the services know, each optional; the service
# says which ones fit the chosen office and kind of right.
NUMBER_FIELDS: list[tuple[str, str]] = [
    (NumberKind.US_APPLICATION.value, "US application number"),
    (NumberKind.US_PATENT.value, "US patent number"),
    (NumberKind.US_DESIGN_PATENT.value, "US design patent number"),
    (NumberKind.US_PLANT_PATENT.value, "US plant patent number"),
    (NumberKind.US_REISSUE_PATENT.value, "US reissue patent number"),
    (NumberKind.US_PUBLICATION.value, "US publication number"),
    (NumberKind.US_TRADEMARK_SERIAL.value, "US trademark serial number"),
    (NumberKind.US_TRADEMARK_REGISTRATION.value, "US trademark registration number"),
    (NumberKind.CN_APPLICATION.value, "CN application number"),
    (NumberKind.CN_PUBLICATION.value, "CN publication number"),
    (NumberKind.EP_APPLICATION.value, "EP application number"),
    (NumberKind.EP_PUBLICATION.value, "EP publication number"),
    (NumberKind.EU_TRADE_MARK.value, "EU trade mark number"),
    (NumberKind.EU_DESIGN.value, "EU design number"),
]


def _price(value: str, currency: str, field: str) -> int | None:
    if not value.strip():
        return None
    try:
        return money_parse(value, currency=currency).amount
    except MoneyError as error:
        raise forms.ValidationError({field: str(error)}) from error


class ListingTermsForm(forms.Form):
    title = forms.CharField(max_length=300, help_text="Shown in search results.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)
    deal_types = forms.MultipleChoiceField(
        choices=DealType.choices, widget=forms.CheckboxSelectMultiple, help_text="What a buyer may acquire."
    )
    price_mode = forms.ChoiceField(choices=PriceMode.choices)
    currency = forms.ChoiceField(choices=[(code, code) for code in CURRENCIES], initial="USD")
    asking_price = forms.CharField(required=False, help_text="In the currency's main unit, e.g. 25,000.00")
    minimum_price = forms.CharField(required=False, help_text="The lowest offer you will consider.")

    def terms(self) -> ListingTerms:
        data = self.cleaned_data
        return ListingTerms(
            title=data["title"],
            description=data["description"],
            deal_types=list(data["deal_types"]),
            price_mode=data["price_mode"],
            currency=data["currency"],
            asking_price=data["asking_price_minor"],
            minimum_price=data["minimum_price_minor"],
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        currency = data.get("currency")
        if currency:
            data["asking_price_minor"] = _price(data.get("asking_price", ""), currency, "asking_price")
            data["minimum_price_minor"] = _price(data.get("minimum_price", ""), currency, "minimum_price")
        return data


class RightClaimForm(forms.Form):
    kind = forms.ChoiceField(choices=Kind.choices)
    sub_kind = forms.ChoiceField(choices=SubKind.choices, label="Type of right")
    jurisdiction = forms.ChoiceField(choices=Jurisdiction.choices, label="Office")
    right_title = forms.CharField(max_length=500, label="Title of the right (or the mark)")
    abstract = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    goods_and_services = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    owners = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Owners of record",
        help_text="One per line, as the register names them.",
    )
    filing_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    grant_date = forms.DateField(
        required=False, label="Grant or registration date", widget=forms.DateInput(attrs={"type": "date"})
    )
    expiry_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    cpc_symbols = forms.CharField(required=False, label="CPC symbols", help_text="e.g. G06N 3/08, H04L 9/32")
    nice_classes = forms.CharField(required=False, label="Nice classes", help_text="e.g. 9, 42")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in NUMBER_FIELDS:
            self.fields[f"number_{name}"] = forms.CharField(required=False, label=label, max_length=64)

    def clean_nice_classes(self) -> list[int]:
        text = self.cleaned_data["nice_classes"]
        numbers = []
        for part in text.replace(";", ",").split(","):
            if not part.strip():
                continue
            if not part.strip().isdigit():
                raise forms.ValidationError(f"“{part.strip()}” is not a Nice class number (1 to 45).")
            numbers.append(int(part))
        return numbers

    def clean_cpc_symbols(self) -> list[str]:
        return [part.strip().upper() for part in self.cleaned_data["cpc_symbols"].split(",") if part.strip()]

    def claim(self) -> RightClaim:
        data = self.cleaned_data
        return RightClaim(
            kind=data["kind"],
            sub_kind=data["sub_kind"],
            jurisdiction=data["jurisdiction"],
            numbers={name: data.get(f"number_{name}", "") for name, _ in NUMBER_FIELDS},
            title=data["right_title"],
            abstract=data["abstract"],
            goods_and_services=data["goods_and_services"],
            owners=[line for line in data["owners"].splitlines() if line.strip()],
            filing_date=data["filing_date"],
            grant_date=data["grant_date"],
            expiry_date=data["expiry_date"],
            cpc_symbols=data["cpc_symbols"],
            nice_classes=data["nice_classes"],
        )

    def number_fields(self) -> list[forms.BoundField]:
        return [self[f"number_{name}"] for name, _ in NUMBER_FIELDS]

    def fact_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith("number_")]


class DocumentForm(forms.Form):
    file = forms.FileField(help_text="PDF, PNG or JPEG, up to 20 MB.")
    visibility = forms.ChoiceField(
        choices=ListingDocument.Visibility.choices, initial=ListingDocument.Visibility.PUBLIC
    )

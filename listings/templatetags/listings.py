from django import template

from listings.models import DealType, Listing, PriceMode, Right
from marketplace.money import Money, money_format

register = template.Library()


@register.filter
def deal_type_label(value: str) -> str:
    try:
        return str(DealType(value).label)
    except ValueError:
        return value


@register.filter
def listing_price(listing: Listing) -> str:
    if listing.price_mode == PriceMode.ON_REQUEST:
        return "Price on request"
    if listing.price_mode == PriceMode.OFFERS and listing.minimum_price is not None:
        floor = money_format(Money(listing.minimum_price, listing.currency))
        if listing.asking_price is not None:
            return f"{money_format(Money(listing.asking_price, listing.currency))} (offers from {floor})"
        return f"Offers from {floor}"
    if listing.asking_price is not None:
        return money_format(Money(listing.asking_price, listing.currency))
    return "Price on request"


@register.filter
def office_number(right: Right, field_name: str) -> str:
    """`{{ right|office_number:"registration_number" }}`: the number as its office writes it."""
    return right.number_in_office_style(field_name)

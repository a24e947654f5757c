from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from listings import cards
from listings.models import Listing, Right

if TYPE_CHECKING:
    from listings.search import FacetValue

register = template.Library()


@register.filter
def deal_type_label(value: str) -> str:
    return cards.deal_type_label(value)


@register.filter
def listing_price(listing: Listing) -> str:
    return cards.price_text(
        price_mode=listing.price_mode,
        asking_price=listing.asking_price,
        minimum_price=listing.minimum_price,
        currency=listing.currency,
    )


@register.filter
def office_number(right: Right, field_name: str) -> str:
    """`{{ right|office_number:"registration_number" }}`: the number as its office writes it."""
    return right.number_in_office_style(field_name)


# The results page's two long lists, the facet values and the result cards, are written here in
# Python rather than by template loops: at up to a hundred facet values and twenty cards, the loops'
# variable lookups and filters were most of the page's time. `escape` is what autoescaping
# applies (django.utils.html.escape is html.escape).


@register.simple_tag
def facet_fieldsets(groups: list[tuple[str, str, list[FacetValue]]]) -> SafeString:
    """`{% facet_fieldsets facet_groups %}`: one fieldset of checkboxes per facet, from
    (name, title, values) triples; a checked box filters the search by its value. The look of a
    value's row (small type, the label cut short with its count at the end) comes from
    marketplace.css, not from classes repeated on each of up to a hundred rows; checking a box
    submits the search (search.html listens on the form)."""
    parts: list[str] = []
    for facet_name, title, values in groups:
        name = escape(facet_name)
        parts.append(
            f'<fieldset class="mb-3 facet" data-facet="{name}">\n'
            f'<legend class="fs-6 fw-semibold mb-1">{escape(title)}</legend>\n'
        )
        for number, facet in enumerate(values, start=1):
            label = escape(facet.label)
            count = escape(facet.count_display) if facet.is_estimate else f"{facet.count:,}"
            parts.append(
                f'<div class="form-check"><input class="form-check-input" type="checkbox" name="{name}"'
                f' value="{escape(str(facet.value))}" id="f-{name}-{number}"{" checked" if facet.selected else ""}>'
                f'<label class="form-check-label" for="f-{name}-{number}"><span title="{label}">{label}</span>'
                f"<span>{count}</span></label></div>\n"
            )
        parts.append("</fieldset>\n")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


# A number no listing has, to find where the id goes in a listing's URL (reversed once a page).
_PK_PLACEHOLDER = 9_876_543_210_123


@register.simple_tag
def result_cards(listing_cards: list[cards.ListingCard]) -> SafeString:
    """`{% result_cards listings %}`: a card per listing, linking to the listing."""
    before, _, after = reverse("listings:detail", args=[_PK_PLACEHOLDER]).partition(str(_PK_PLACEHOLDER))
    return mark_safe("".join(_card_html(card, f"{before}{card.pk}{after}") for card in listing_cards))  # noqa: S308


def _card_html(card: cards.ListingCard, url: str) -> str:
    rights = "<br>".join(
        f"{escape(right.sub_kind_label)} {escape(right.number)} · "
        f'<span class="badge status-{escape(right.status)}">{escape(right.status_label)}</span>'
        + (f" · expires {right.expiry_year}" if right.expiry_year else "")
        for right in card.rights
    )
    abstract = f'<p class="small mb-2">{escape(card.abstract)}</p>\n' if card.abstract else ""
    deal_types = "".join(
        f'<span class="badge text-bg-light border me-1">{escape(label)}</span>' for label in card.deal_type_labels
    )
    return (
        '<article class="card shadow-sm mb-3 result">\n<div class="card-body">\n'
        '<div class="d-flex flex-wrap justify-content-between column-gap-3">\n'
        f'<h2 class="h6 mb-1 result-title"><a href="{escape(url)}" class="stretched-link">'
        f"{escape(card.title)}</a></h2>\n"
        f'<div class="fw-semibold">{escape(card.price)}</div>\n'
        "</div>\n"
        f'<div class="small text-body-secondary mb-2">\n{rights}\n</div>\n'
        f"{abstract}"
        f'<div>{deal_types}<span class="small text-body-secondary ms-2">by {escape(card.seller_name)}</span></div>\n'
        "</div>\n</article>\n"
    )

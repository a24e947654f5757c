"""A search result card: the few facts a results page shows of a listing, as display strings
worked out once in Python.

A results page shows twenty cards beside a hundred facet values. Built as ORM objects with their
rights, owners and encumbrances and rendered through template lookups, they took most of the
page's time; a card is plain strings instead, filled from one query (selectors.listing_cards)
and written out by the `result_cards` template tag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from accounts.models import User
from listings.models import DealType, PriceMode, Right, Status, SubKind
from marketplace.money import Money, money_format

# How many of a listing's rights its card lists, and how many words of the first one's abstract.
CARD_RIGHTS = 3
ABSTRACT_WORDS = 40

_SUB_KIND_LABELS = dict(SubKind.choices)
_STATUS_LABELS = dict(Status.choices)
_DEAL_TYPE_LABELS = dict(DealType.choices)


@dataclass(frozen=True, slots=True)
class CardRight:
    sub_kind_label: str
    number: str
    status: str
    status_label: str
    # "" when the right has no expiry date.
    expiry_year: str


@dataclass(frozen=True, slots=True)
class ListingCard:
    pk: int
    title: str
    price: str
    rights: tuple[CardRight, ...]
    # The first right's abstract cut to ABSTRACT_WORDS words; "" when it has none.
    abstract: str
    deal_type_labels: tuple[str, ...]
    seller_name: str


def price_text(*, price_mode: str, asking_price: int | None, minimum_price: int | None, currency: str) -> str:
    """A listing's price as its pages show it (the `listing_price` filter says the same)."""
    if price_mode == PriceMode.ON_REQUEST:
        return "Price on request"
    if price_mode == PriceMode.OFFERS and minimum_price is not None:
        floor = money_format(Money(minimum_price, currency))
        if asking_price is not None:
            return f"{money_format(Money(asking_price, currency))} (offers from {floor})"
        return f"Offers from {floor}"
    if asking_price is not None:
        return money_format(Money(asking_price, currency))
    return "Price on request"


def deal_type_label(value: str) -> str:
    return str(_DEAL_TYPE_LABELS.get(value, value))


def card_right(
    *,
    sub_kind: str,
    jurisdiction: str,
    registration_number: str,
    publication_number: str,
    application_number: str,
    status: str,
    expiry_date: date | None,
) -> CardRight:
    return CardRight(
        sub_kind_label=str(_SUB_KIND_LABELS.get(sub_kind, sub_kind)),
        number=number_display(jurisdiction, sub_kind, registration_number, publication_number, application_number),
        status=status,
        status_label=str(_STATUS_LABELS.get(status, status)),
        expiry_year=f"{expiry_date.year:04d}" if expiry_date is not None else "",
    )


@lru_cache(maxsize=20_000)
def number_display(
    jurisdiction: str, sub_kind: str, registration_number: str, publication_number: str, application_number: str
) -> str:
    """Right.number_display for these numbers. Parsing a number in its office's style costs more
    than the rest of a card, and the same numbers come back page after page, so it is remembered
    (the result depends on nothing but the arguments)."""
    right = Right(
        jurisdiction=jurisdiction,
        sub_kind=sub_kind,
        registration_number=registration_number,
        publication_number=publication_number,
        application_number=application_number,
    )
    return right.number_display


@lru_cache(maxsize=20_000)
def public_name(*, display_name: str, organisation: str, email: str) -> str:
    """User.public_name, from the three fields it reads (remembered like number_display: a page's
    twenty sellers come back page after page, and building a User costs more than the card)."""
    return User(display_name=display_name, organisation=organisation, email=email).public_name


def abstract_excerpt(abstract: str) -> str:
    """What `truncatewords:40` made of the abstract (Truncator.words, without its lazy wrapping,
    which cost more than the rest of a card)."""
    words = abstract.split()
    if len(words) <= ABSTRACT_WORDS:
        return " ".join(words)
    excerpt = " ".join(words[:ABSTRACT_WORDS])
    return excerpt if excerpt.endswith(" …") else f"{excerpt} …"

"""Reads of rights and listings, with who may see what."""

from __future__ import annotations

from itertools import groupby
from operator import itemgetter
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, QuerySet

from accounts.models import User
from listings import cards
from listings.models import Listing, ListingDocument, ListingEvent, ListingRight, Watch
from listings.models.listings import PUBLIC_STATES
from marketplace.db import fetchall_prepared


def _with_rights(queryset: QuerySet[Listing]) -> QuerySet[Listing]:
    return queryset.select_related("seller").prefetch_related(
        Prefetch(
            "listing_rights",
            queryset=ListingRight.objects.select_related("right").prefetch_related(
                "right__owners", "right__encumbrances"
            ),
        )
    )


def listings_of_seller(*, seller: User) -> QuerySet[Listing]:
    return _with_rights(Listing.objects.filter(seller=seller)).order_by("-updated_at")


def listing_for_seller(*, seller: User, listing_id: int) -> Listing | None:
    """The seller's own listing, or None (someone else's listing is not found, not forbidden)."""
    return _with_rights(Listing.objects.filter(seller=seller, pk=listing_id)).first()


def _is_seller_or_staff(user: AbstractBaseUser | AnonymousUser, listing: Listing) -> bool:
    return isinstance(user, User) and (user.is_staff or listing.seller_id == user.pk)


def listing_visible_to(*, user: AbstractBaseUser | AnonymousUser, listing_id: int) -> Listing | None:
    """A public listing for anyone; any state for its seller and for staff."""
    listing = _with_rights(Listing.objects.filter(pk=listing_id)).first()
    if listing is None:
        return None
    if listing.state in PUBLIC_STATES:
        return listing
    if _is_seller_or_staff(user, listing):
        return listing
    return None


def documents_visible_to(*, user: AbstractBaseUser | AnonymousUser, listing: Listing) -> QuerySet[ListingDocument]:
    """Public brochures for everyone who may see the listing; the data room for the seller and
    staff (and, once deals exist, for the buyer of an open deal)."""
    documents = listing.documents.all()
    if _is_seller_or_staff(user, listing):
        return documents
    return documents.filter(visibility=ListingDocument.Visibility.PUBLIC)


def listing_events(*, listing: Listing) -> QuerySet[ListingEvent]:
    return listing.events.select_related("actor")


def listings_by_ids(*, listing_ids: list[int]) -> list[Listing]:
    """Listings in the order given (a search's ranking), with their rights, in a fixed number
    of queries whatever the page size."""
    found = {listing.pk: listing for listing in _with_rights(Listing.objects.filter(pk__in=listing_ids))}
    return [found[listing_id] for listing_id in listing_ids if listing_id in found]


# One row per (listing, one of its first CARD_RIGHTS rights), in the order of the ids given; a
# listing without rights has one row of NULL right fields. Only the first right's abstract is sent.
_CARDS_SQL = """
SELECT wanted.place, l.id, l.title, l.price_mode, l.asking_price, l.minimum_price, l.currency,
       l.deal_types, u.display_name, u.organisation, u.email,
       r.sub_kind, r.jurisdiction, r.registration_number, r.publication_number,
       r.application_number, r.status, r.expiry_date, CASE WHEN r.n = 1 THEN r.abstract END
FROM unnest(%s::bigint[]) WITH ORDINALITY AS wanted (id, place)
JOIN listings_listing l ON l.id = wanted.id
JOIN accounts_user u ON u.id = l.seller_id
LEFT JOIN LATERAL (
    SELECT row_number() OVER (ORDER BY lr.position, lr.id) AS n, r.sub_kind, r.jurisdiction,
           r.registration_number, r.publication_number, r.application_number, r.status,
           r.expiry_date, r.abstract
    FROM listings_listingright lr
    JOIN listings_right r ON r.id = lr.right_id
    WHERE lr.listing_id = l.id
    ORDER BY lr.position, lr.id
    LIMIT %s
) r ON true
ORDER BY wanted.place, r.n
"""


def listing_cards(*, listing_ids: list[int]) -> list[cards.ListingCard]:
    """The result cards of these listings, in the order given (a search's ranking), in one query
    whatever their number. Unlike listings_by_ids, no ORM objects: only the fields a card shows."""
    if not listing_ids:
        return []
    # Prepared: the plan (primary-key lookups) is the same whatever the ids.
    rows = fetchall_prepared(_CARDS_SQL, [listing_ids, cards.CARD_RIGHTS])
    return [_card(list(listing_rows)) for _, listing_rows in groupby(rows, key=itemgetter(0))]


def _card(rows: list[tuple[Any, ...]]) -> cards.ListingCard:
    """A card from its listing's rows of _CARDS_SQL (one per right shown)."""
    (_, pk, title, price_mode, asking_price, minimum_price, currency, deal_types, display_name, organisation, email) = (
        rows[0][:11]
    )
    return cards.ListingCard(
        pk=pk,
        title=title,
        price=cards.price_text(
            price_mode=price_mode, asking_price=asking_price, minimum_price=minimum_price, currency=currency
        ),
        rights=tuple(
            cards.card_right(
                sub_kind=row[11],
                jurisdiction=row[12],
                registration_number=row[13],
                publication_number=row[14],
                application_number=row[15],
                status=row[16],
                expiry_date=row[17],
            )
            for row in rows
            if row[11] is not None
        ),
        abstract=cards.abstract_excerpt(rows[0][18] or ""),
        deal_type_labels=tuple(cards.deal_type_label(deal_type) for deal_type in deal_types),
        seller_name=cards.public_name(display_name=display_name, organisation=organisation, email=email),
    )


def watched_listings(*, user: User) -> list[Listing]:
    ids = list(Watch.objects.filter(user=user).values_list("listing_id", flat=True))
    return listings_by_ids(listing_ids=ids)


def is_watched(*, user: AbstractBaseUser | AnonymousUser, listing: Listing) -> bool:
    return isinstance(user, User) and Watch.objects.filter(user=user, listing=listing).exists()

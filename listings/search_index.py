"""Keeping the search index (ListingSearchEntry) in step with listings.

A listing buyers can find has exactly one entry; any other listing has none. The entry is
rebuilt from the listing's rights whenever its public facts change, inside the transaction that
changed them, so search never shows a withdrawn listing or misses a published one.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from listings.classification import CpcSymbolError, cpc_symbol_ancestors, cpc_symbol_normalise, cpc_titles
from listings.models import Listing, ListingRight, Right
from listings.models.classification import NiceClass
from listings.models.listings import PUBLIC_STATES
from listings.models.search import ListingSearchEntry

_DOCUMENT_SQL = """
UPDATE listings_listingsearchentry
SET document = setweight(to_tsvector('english', %s), 'A')
            || setweight(to_tsvector('english', %s), 'B')
            || setweight(to_tsvector('english', %s), 'C')
            || setweight(to_tsvector('english', %s), 'D')
WHERE listing_id = %s
"""


def _cpc_parts(symbols: Iterable[str]) -> tuple[set[str], set[str], set[str]]:
    """Sections, classes and every symbol with its ancestors, for facets and search text."""
    sections: set[str] = set()
    classes: set[str] = set()
    with_ancestors: set[str] = set()
    for symbol in symbols:
        try:
            normalised = cpc_symbol_normalise(symbol)
        except CpcSymbolError:
            continue
        sections.add(normalised[:1])
        if len(normalised) >= 3:
            classes.add(normalised[:3])
        with_ancestors.add(normalised)
        with_ancestors.update(cpc_symbol_ancestors(normalised))
    return sections, classes, with_ancestors


def _texts(rights: list[Right]) -> tuple[list[str], list[str], list[str]]:
    numbers = [
        number
        for right in rights
        for number in (right.application_number, right.publication_number, right.registration_number)
        if number
    ]
    owners = [owner.name for right in rights for owner in right.owners.all()]
    return numbers, owners, [right.title for right in rights]


@transaction.atomic
def search_entry_refresh(*, listing_id: int) -> ListingSearchEntry | None:
    """Rebuild (or remove) the search entry of one listing; returns the entry if it has one."""
    listing = Listing.objects.select_related("seller").filter(pk=listing_id).first()
    if listing is None or listing.state not in PUBLIC_STATES or listing.published_at is None:
        ListingSearchEntry.objects.filter(listing_id=listing_id).delete()
        return None
    links = ListingRight.objects.filter(listing=listing).select_related("right").prefetch_related("right__owners")
    rights = [link.right for link in links]
    numbers, owners, right_titles = _texts(rights)
    sections, classes, cpc_with_ancestors = _cpc_parts(symbol for right in rights for symbol in right.cpc_symbols)
    nice = sorted({number for right in rights for number in right.nice_classes})
    expiries = [right.expiry_date for right in rights if right.expiry_date]
    entry, _ = ListingSearchEntry.objects.update_or_create(
        listing=listing,
        defaults={
            "document": "",
            "numbers": sorted(set(numbers)),
            "kinds": sorted({right.kind for right in rights}),
            "jurisdictions": sorted({right.jurisdiction for right in rights}),
            "statuses": sorted({right.status for right in rights}),
            "cpc_sections": sorted(sections),
            "cpc_classes": sorted(classes),
            "nice_classes": nice,
            "deal_types": sorted(listing.deal_types),
            "owners": sorted(set(owners)),
            "price_mode": listing.price_mode,
            "currency": listing.currency,
            "price": listing.asking_price if listing.asking_price is not None else listing.minimum_price,
            "expiry_date": min(expiries) if expiries else None,
            "verified": False,
            "published_at": listing.published_at,
        },
    )
    classification = list(cpc_titles(cpc_with_ancestors).values())
    classification += list(NiceClass.objects.filter(number__in=nice).values_list("heading", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            _DOCUMENT_SQL,
            [
                " ".join([listing.title, *right_titles]),
                " ".join([*numbers, *owners, listing.seller.public_name]),
                " ".join(
                    [
                        listing.description,
                        *(right.abstract for right in rights),
                        *(r.goods_and_services for r in rights),
                    ]
                ),
                " ".join(classification),
                listing.pk,
            ],
        )
    return entry


def search_entries_rebuild(*, listing_ids: Iterable[int] | None = None) -> int:
    """Rebuild the entries of the given listings (all public ones when None); returns how many."""
    if listing_ids is None:
        listing_ids = Listing.objects.filter(state__in=PUBLIC_STATES).values_list("pk", flat=True)
    count = 0
    for listing_id in list(listing_ids):
        if search_entry_refresh(listing_id=listing_id) is not None:
            count += 1
    return count

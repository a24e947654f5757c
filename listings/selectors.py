"""Reads of rights and listings, with who may see what."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, QuerySet

from accounts.models import User
from listings.models import Listing, ListingDocument, ListingEvent, ListingRight, Watch
from listings.models.listings import PUBLIC_STATES


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


def watched_listings(*, user: User) -> list[Listing]:
    ids = list(Watch.objects.filter(user=user).values_list("listing_id", flat=True))
    return listings_by_ids(listing_ids=ids)


def is_watched(*, user: AbstractBaseUser | AnonymousUser, listing: Listing) -> bool:
    return isinstance(user, User) and Watch.objects.filter(user=user, listing=listing).exists()

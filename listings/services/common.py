"""What every listings service shares: the error it raises, the row lock and the step log."""

from __future__ import annotations

from accounts.models import User
from listings.models import (
    Listing,
    ListingEvent,
)
from listings.models.listings import PUBLIC_STATES
from listings.search_index import search_entry_refresh


class ListingError(Exception):
    """A refused listing action, with a message fit to show the person (and, where it belongs
    to one input, the name of that input)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _record(listing: Listing, *, from_state: str, actor: User | None, note: str = "") -> None:
    """Log the step and bring the search index in line with the listing's new state."""
    ListingEvent.objects.create(listing=listing, from_state=from_state, to_state=listing.state, actor=actor, note=note)
    if from_state in PUBLIC_STATES or listing.state in PUBLIC_STATES:
        search_entry_refresh(listing_id=listing.pk)


def _locked(listing: Listing) -> Listing:
    """The listing's row, locked for this transaction, so two actions cannot interleave."""
    return Listing.objects.select_for_update().get(pk=listing.pk)

from listings.models.classification import CpcSymbol, NiceClass, NiceTerm
from listings.models.following import Follow, SavedSearch, Watch
from listings.models.imports import ImportJob, ImportJobState, ImportLayout, ImportRejection
from listings.models.listings import (
    DealType,
    Listing,
    ListingDocument,
    ListingEvent,
    ListingRight,
    ListingState,
    PriceMode,
)
from listings.models.rights import Encumbrance, Jurisdiction, Kind, OwnerOfRecord, Right, Status, SubKind
from listings.models.search import ListingSearchEntry

__all__ = [
    "CpcSymbol",
    "DealType",
    "Encumbrance",
    "Follow",
    "ImportJob",
    "ImportJobState",
    "ImportLayout",
    "ImportRejection",
    "Jurisdiction",
    "Kind",
    "Listing",
    "ListingDocument",
    "ListingEvent",
    "ListingRight",
    "ListingSearchEntry",
    "ListingState",
    "NiceClass",
    "NiceTerm",
    "OwnerOfRecord",
    "PriceMode",
    "Right",
    "SavedSearch",
    "Status",
    "SubKind",
    "Watch",
]

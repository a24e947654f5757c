"""Writes to rights and listings. Each public function is one action in one transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from accounts.models import User
from listings.classification import CpcSymbolError, cpc_symbol_normalise
from listings.models import (
    DealType,
    Jurisdiction,
    Kind,
    Listing,
    ListingDocument,
    ListingEvent,
    ListingRight,
    ListingState,
    OwnerOfRecord,
    PriceMode,
    Right,
    Status,
    SubKind,
)
from listings.models.listings import PUBLIC_STATES
from listings.models.rights import SUB_KINDS_OF
from listings.office_numbers import NumberKind, OfficeNumberError, normalise
from listings.search_index import search_entry_refresh
from marketplace.money import CURRENCIES, MAX_AMOUNT


class ListingError(Exception):
    """A refused listing action, with a message fit to show the person (and, where it belongs
    to one input, the name of that input)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- Office numbers: which number kinds fit which right -----------------------------------------

# (jurisdiction, sub-kind) -> the number kinds a seller may enter, application number first.
NUMBER_KINDS: dict[tuple[str, str], tuple[NumberKind, ...]] = {
    (Jurisdiction.US, SubKind.INVENTION): (
        NumberKind.US_APPLICATION,
        NumberKind.US_PATENT,
        NumberKind.US_REISSUE_PATENT,
        NumberKind.US_PUBLICATION,
    ),
    (Jurisdiction.US, SubKind.DESIGN): (NumberKind.US_APPLICATION, NumberKind.US_DESIGN_PATENT),
    (Jurisdiction.US, SubKind.PLANT): (NumberKind.US_APPLICATION, NumberKind.US_PLANT_PATENT),
    (Jurisdiction.US, SubKind.TRADEMARK): (NumberKind.US_TRADEMARK_SERIAL, NumberKind.US_TRADEMARK_REGISTRATION),
    (Jurisdiction.CN, SubKind.INVENTION): (NumberKind.CN_APPLICATION, NumberKind.CN_PUBLICATION),
    (Jurisdiction.CN, SubKind.UTILITY_MODEL): (NumberKind.CN_APPLICATION, NumberKind.CN_PUBLICATION),
    (Jurisdiction.CN, SubKind.DESIGN): (NumberKind.CN_APPLICATION, NumberKind.CN_PUBLICATION),
    (Jurisdiction.EP, SubKind.INVENTION): (NumberKind.EP_APPLICATION, NumberKind.EP_PUBLICATION),
    (Jurisdiction.EU, SubKind.TRADEMARK): (NumberKind.EU_TRADE_MARK,),
    (Jurisdiction.EU, SubKind.DESIGN): (NumberKind.EU_DESIGN,),
}

# Where each number kind is stored on a right.
_APPLICATION_KINDS = {
    NumberKind.US_APPLICATION,
    NumberKind.US_TRADEMARK_SERIAL,
    NumberKind.CN_APPLICATION,
    NumberKind.EP_APPLICATION,
    NumberKind.EU_TRADE_MARK,
    NumberKind.EU_DESIGN,
}
_PUBLICATION_KINDS = {NumberKind.US_PUBLICATION, NumberKind.CN_PUBLICATION, NumberKind.EP_PUBLICATION}


def _number_field(kind: NumberKind) -> str:
    if kind in _APPLICATION_KINDS:
        return "application_number"
    if kind in _PUBLICATION_KINDS:
        return "publication_number"
    return "registration_number"


@dataclass
class RightClaim:
    """What a seller states about a right; the registers confirm or contradict it later."""

    kind: str
    sub_kind: str
    jurisdiction: str
    numbers: dict[str, str]  # NumberKind value -> the number as typed
    title: str
    abstract: str = ""
    goods_and_services: str = ""
    owners: list[str] = field(default_factory=list)
    filing_date: date | None = None
    grant_date: date | None = None
    expiry_date: date | None = None
    cpc_symbols: list[str] = field(default_factory=list)
    nice_classes: list[int] = field(default_factory=list)
    status: str = Status.IN_FORCE
    source: str = "seller's statement"


def _normalised_numbers(claim: RightClaim) -> dict[str, str]:
    allowed = NUMBER_KINDS.get((claim.jurisdiction, claim.sub_kind))
    if allowed is None:
        raise ListingError(
            f"We do not handle {SubKind(claim.sub_kind).label.lower()} rights of {claim.jurisdiction} yet.",
            field="sub_kind",
        )
    fields: dict[str, str] = {}
    right_type = claim.sub_kind if claim.sub_kind in {"invention", "utility_model", "design", "plant"} else None
    for kind_value, text in claim.numbers.items():
        if not text or not text.strip():
            continue
        kind = NumberKind(kind_value)
        if kind not in allowed:
            raise ListingError(f"A {kind.label} does not belong to this kind of right.", field=kind.value)
        try:
            number = normalise(text, kind=kind, right_type=right_type)
        except OfficeNumberError as error:
            raise ListingError(str(error), field=kind.value) from error
        fields[_number_field(kind)] = number.canonical
    if not fields:
        raise ListingError("Enter at least one office number of the right.", field=allowed[0].value)
    return fields


def _check_claim(claim: RightClaim) -> None:
    if claim.kind not in Kind.values:
        raise ListingError("Choose a patent, trademark or copyright.", field="kind")
    if claim.sub_kind not in SUB_KINDS_OF[claim.kind]:
        raise ListingError("That sub-kind does not belong to this kind of right.", field="sub_kind")
    if claim.jurisdiction not in Jurisdiction.values:
        raise ListingError("Choose the office that granted the right.", field="jurisdiction")
    if not claim.title.strip():
        raise ListingError("Enter the right's title (or the mark).", field="title")
    if claim.expiry_date and claim.filing_date and claim.expiry_date < claim.filing_date:
        raise ListingError("The expiry date is before the filing date.", field="expiry_date")
    bad_classes = [number for number in claim.nice_classes if not 1 <= number <= 45]
    if bad_classes:
        raise ListingError("Nice classes run from 1 to 45.", field="nice_classes")
    normalised = []
    for symbol in claim.cpc_symbols:
        try:
            normalised.append(cpc_symbol_normalise(symbol))
        except CpcSymbolError as error:
            raise ListingError(str(error), field="cpc_symbols") from error
    claim.cpc_symbols = sorted(set(normalised))


def status_from_facts(*, status: str, expiry_date: date | None, today: date | None = None) -> str:
    """The status follows the facts: a right whose term has ended is expired, whatever was said."""
    today = today or timezone.localdate()
    if expiry_date is not None and expiry_date < today and status in {Status.PENDING, Status.IN_FORCE, Status.GRACE}:
        return Status.EXPIRED
    return status


@transaction.atomic
def right_from_claim(*, claim: RightClaim) -> Right:
    """The right the claim names: the existing row for its office number, or a new one.

    An existing right keeps its facts (they may come from the register); a seller's claim
    only fills a right nobody has described yet.
    """
    _check_claim(claim)
    numbers = _normalised_numbers(claim)
    lookup = Right.objects.select_for_update().filter(jurisdiction=claim.jurisdiction, kind=claim.kind)
    for field_name in ("application_number", "registration_number", "publication_number"):
        if field_name in numbers:
            existing = lookup.filter(**{field_name: numbers[field_name]}).first()
            if existing is not None:
                return existing
    right = Right.objects.create(
        kind=claim.kind,
        sub_kind=claim.sub_kind,
        jurisdiction=claim.jurisdiction,
        title=claim.title.strip()[:500],
        abstract=claim.abstract.strip(),
        goods_and_services=claim.goods_and_services.strip(),
        filing_date=claim.filing_date,
        grant_date=claim.grant_date,
        expiry_date=claim.expiry_date,
        cpc_symbols=claim.cpc_symbols,
        nice_classes=sorted(set(claim.nice_classes)),
        status=status_from_facts(status=claim.status, expiry_date=claim.expiry_date),
        facts_source=claim.source,
        **numbers,
    )
    OwnerOfRecord.objects.bulk_create(
        OwnerOfRecord(right=right, name=name.strip(), position=position)
        for position, name in enumerate(claim.owners)
        if name.strip()
    )
    return right


# --- Listings ---------------------------------------------------------------------------------


@dataclass
class ListingTerms:
    title: str
    description: str
    deal_types: list[str]
    price_mode: str
    currency: str
    asking_price: int | None = None  # minor units
    minimum_price: int | None = None


def _check_terms(terms: ListingTerms) -> None:
    if not terms.title.strip():
        raise ListingError("Give the listing a title.", field="title")
    if not terms.deal_types:
        raise ListingError("Offer at least one deal type.", field="deal_types")
    unknown = set(terms.deal_types) - set(DealType.values)
    if unknown:
        raise ListingError(f"Unknown deal types: {', '.join(sorted(unknown))}.", field="deal_types")
    if terms.price_mode not in PriceMode.values:
        raise ListingError("Choose how the price is set.", field="price_mode")
    if terms.currency not in CURRENCIES:
        raise ListingError(
            f"We do not take {terms.currency!r}; choose one of {', '.join(CURRENCIES)}.", field="currency"
        )
    for name, amount in (("asking_price", terms.asking_price), ("minimum_price", terms.minimum_price)):
        if amount is not None and not 0 < amount <= MAX_AMOUNT:
            raise ListingError("A price must be more than zero and at most 2^53 - 1 minor units.", field=name)
    if terms.price_mode == PriceMode.FIXED and terms.asking_price is None:
        raise ListingError("A fixed-price listing needs an asking price.", field="asking_price")
    if terms.price_mode == PriceMode.OFFERS and terms.minimum_price is None:
        raise ListingError("Say the lowest offer you will consider.", field="minimum_price")
    if terms.price_mode == PriceMode.ON_REQUEST and (terms.asking_price or terms.minimum_price):
        raise ListingError("A price-on-request listing shows no price; leave the prices empty.", field="asking_price")
    if terms.asking_price is not None and terms.minimum_price is not None and terms.minimum_price > terms.asking_price:
        raise ListingError("The minimum offer cannot be above the asking price.", field="minimum_price")


def _record(listing: Listing, *, from_state: str, actor: User | None, note: str = "") -> None:
    """Log the step and bring the search index in line with the listing's new state."""
    ListingEvent.objects.create(listing=listing, from_state=from_state, to_state=listing.state, actor=actor, note=note)
    if from_state in PUBLIC_STATES or listing.state in PUBLIC_STATES:
        search_entry_refresh(listing_id=listing.pk)


@transaction.atomic
def listing_create_draft(*, seller: User, rights: Iterable[Right], terms: ListingTerms) -> Listing:
    _check_terms(terms)
    rights = list(rights)
    if not rights:
        raise ListingError("A listing holds at least one right.", field="rights")
    listing = Listing.objects.create(
        seller=seller,
        title=terms.title.strip()[:300],
        description=terms.description.strip(),
        deal_types=sorted(set(terms.deal_types)),
        price_mode=terms.price_mode,
        currency=terms.currency,
        asking_price=terms.asking_price,
        minimum_price=terms.minimum_price,
    )
    ListingRight.objects.bulk_create(
        ListingRight(listing=listing, right=right, position=position) for position, right in enumerate(rights)
    )
    _record(listing, from_state="", actor=seller, note="Draft created.")
    return listing


def _locked(listing: Listing) -> Listing:
    """The listing's row, locked for this transaction, so two actions cannot interleave."""
    return Listing.objects.select_for_update().get(pk=listing.pk)


@transaction.atomic
def listing_update_draft(*, listing: Listing, acting_user: User, terms: ListingTerms) -> Listing:
    listing = _locked(listing)
    if listing.seller_id != acting_user.pk:
        raise ListingError("Only the seller can edit this listing.")
    if listing.state != ListingState.DRAFT:
        raise ListingError("Only a draft can be edited; this listing is " + listing.get_state_display().lower() + ".")
    _check_terms(terms)
    Listing.objects.filter(pk=listing.pk).update(
        title=terms.title.strip()[:300],
        description=terms.description.strip(),
        deal_types=sorted(set(terms.deal_types)),
        price_mode=terms.price_mode,
        currency=terms.currency,
        asking_price=terms.asking_price,
        minimum_price=terms.minimum_price,
        updated_at=timezone.now(),
    )
    return Listing.objects.get(pk=listing.pk)


@transaction.atomic
def listing_submit(*, listing: Listing, acting_user: User) -> Listing:
    """The seller submits a draft: it goes to verification (staff review until that runs)."""
    listing = _locked(listing)
    if listing.seller_id != acting_user.pk:
        raise ListingError("Only the seller can submit this listing.")
    if not can_proceed(listing.submit):
        raise ListingError(f"A {listing.get_state_display().lower()} listing cannot be submitted.")
    _check_terms(
        ListingTerms(
            title=listing.title,
            description=listing.description,
            deal_types=list(listing.deal_types),
            price_mode=listing.price_mode,
            currency=listing.currency,
            asking_price=listing.asking_price,
            minimum_price=listing.minimum_price,
        )
    )
    ended = [right for right in listing.rights.all() if not right.is_tradable]
    if ended:
        numbers = ", ".join(right.number_display for right in ended)
        raise ListingError(f"These rights are not in force and cannot be sold: {numbers}.")
    if not acting_user.legal_name.strip():
        raise ListingError(
            "Add your legal name to your profile first: it is matched against the owners of record.",
            field="legal_name",
        )
    listing.submit()
    listing.save()
    _record(listing, from_state=ListingState.DRAFT, actor=acting_user)
    listing.send_to_review()
    listing.save()
    _record(listing, from_state=ListingState.SUBMITTED, actor=None, note="Waiting for staff to review ownership.")
    return listing


@transaction.atomic
def listing_approve(*, listing: Listing, acting_user: User, note: str = "") -> Listing:
    """Staff approve the ownership evidence: the listing is published, or waits for the margin
    deposit where the platform requires one (LISTING_MARGIN_REQUIRED)."""
    listing = _locked(listing)
    from_state = listing.state
    if settings.LISTING_MARGIN_REQUIRED:
        if not can_proceed(listing.require_margin):
            raise ListingError(f"A {listing.get_state_display().lower()} listing cannot be approved.")
        listing.require_margin()
    else:
        if from_state not in {ListingState.NEEDS_REVIEW, ListingState.VERIFYING} or not can_proceed(listing.publish):
            raise ListingError(f"A {listing.get_state_display().lower()} listing cannot be approved.")
        listing.publish()
    listing.save()
    _record(listing, from_state=from_state, actor=acting_user, note=note or "Approved by staff.")
    return listing


@transaction.atomic
def listing_reject(*, listing: Listing, acting_user: User, reason: str) -> Listing:
    if not reason.strip():
        raise ListingError("Say why the listing is rejected: the seller reads it.", field="reason")
    listing = _locked(listing)
    from_state = listing.state
    if not can_proceed(listing.reject):
        raise ListingError(f"A {listing.get_state_display().lower()} listing cannot be rejected.")
    listing.reject(reason.strip())
    listing.save()
    _record(listing, from_state=from_state, actor=acting_user, note=reason.strip())
    return listing


@transaction.atomic
def listing_withdraw(*, listing: Listing, acting_user: User) -> Listing:
    listing = _locked(listing)
    if listing.seller_id != acting_user.pk:
        raise ListingError("Only the seller can withdraw this listing.")
    from_state = listing.state
    if not can_proceed(listing.withdraw):
        raise ListingError(
            f"A {listing.get_state_display().lower()} listing cannot be withdrawn"
            + (": a deal is under way." if from_state == ListingState.RESERVED else ".")
        )
    listing.withdraw()
    listing.save()
    _record(listing, from_state=from_state, actor=acting_user)
    return listing


# --- Documents --------------------------------------------------------------------------------

# Recognised by their first bytes; the name and the browser's stated type are not trusted.
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def sniff_content_type(head: bytes) -> str | None:
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


@transaction.atomic
def listing_document_add(
    *, listing: Listing, acting_user: User, upload: IO[bytes], original_name: str, visibility: str
) -> ListingDocument:
    if listing.seller_id != acting_user.pk:
        raise ListingError("Only the seller can add documents to this listing.")
    if visibility not in ListingDocument.Visibility.values:
        raise ListingError("Choose whether the document is public or in the data room.", field="visibility")
    limit = settings.LISTING_DOCUMENT_MAX_BYTES
    content = upload.read(limit + 1)
    if not content:
        raise ListingError("The file is empty.", field="file")
    if len(content) > limit:
        raise ListingError(f"The file is larger than {limit // (1024 * 1024)} MB.", field="file")
    content_type = sniff_content_type(content[:16])
    if content_type is None:
        raise ListingError(
            f"“{original_name}” is not a PDF, PNG or JPEG file (judged by its content, not its name).", field="file"
        )
    document = ListingDocument(
        listing=listing,
        original_name=original_name[:255],
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        visibility=visibility,
    )
    document.file.save("upload", ContentFile(content), save=False)
    document.save()
    return document


# --- Reservation by a deal (called by escrow, which sits above listings) -----------------------


@transaction.atomic
def listing_reserve(*, listing: Listing, acting_user: User | None = None, note: str = "") -> Listing:
    """A deal takes the listing off the market. The caller (escrow) holds the listing's lock
    already when it decides; locking again here is free and keeps this service safe alone."""
    listing = _locked(listing)
    if not can_proceed(listing.reserve):
        raise ListingError(f"A {listing.get_state_display().lower()} listing cannot be reserved.")
    listing.reserve()
    listing.save()
    _record(listing, from_state=ListingState.PUBLISHED, actor=acting_user, note=note or "Reserved by a deal.")
    return listing


@transaction.atomic
def listing_release_reservation(*, listing: Listing, acting_user: User | None = None, note: str = "") -> Listing:
    """The deal ended without a sale (cancelled or refunded): the listing is on the market again."""
    listing = _locked(listing)
    if not can_proceed(listing.release_reservation):
        raise ListingError(f"A {listing.get_state_display().lower()} listing holds no reservation to release.")
    listing.release_reservation()
    listing.save()
    _record(listing, from_state=ListingState.RESERVED, actor=acting_user, note=note or "Reservation released.")
    return listing


@transaction.atomic
def listing_mark_sold(*, listing: Listing, acting_user: User | None = None, note: str = "") -> Listing:
    """The deal completed: the escrow was released to the seller."""
    listing = _locked(listing)
    if not can_proceed(listing.mark_sold):
        raise ListingError(f"A {listing.get_state_display().lower()} listing cannot be marked sold.")
    listing.mark_sold()
    listing.save()
    _record(listing, from_state=ListingState.RESERVED, actor=acting_user, note=note or "Sold.")
    return listing

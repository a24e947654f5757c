"""Rights as sellers state them: office numbers per office and kind, facts, and the right they name."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone

from listings.classification import CpcSymbolError, cpc_symbol_normalise
from listings.models import (
    Jurisdiction,
    Kind,
    OwnerOfRecord,
    Right,
    Status,
    SubKind,
)
from listings.models.rights import SUB_KINDS_OF
from listings.office_numbers import NumberKind, OfficeNumberError, normalise
from listings.services.common import ListingError

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


def right_claim_check(*, claim: RightClaim) -> dict[str, str]:
    """Check a claim as `right_from_claim` does, writing nothing: its office numbers in canonical
    form by the right's field ("registration_number" -> "6654321"). Raises ListingError."""
    _check_claim(claim)
    return _normalised_numbers(claim)


def number_kinds_of_field(*, jurisdiction: str, sub_kind: str, field_name: str) -> tuple[NumberKind, ...]:
    """The number kinds that a right of this office and sub-kind stores in `field_name`."""
    kinds = NUMBER_KINDS.get((jurisdiction, sub_kind), ())
    return tuple(kind for kind in kinds if _number_field(kind) == field_name)

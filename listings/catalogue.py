"""Importing catalogues of rights as listings, in bulk.

Readers turn a source (the NASA portfolio, PatentsView and Google Patents exports, US copyright
renewals, a seller's portfolio CSV) into `CatalogueRow`s, or a `RejectedRow` with the reason.
`catalogue_import` writes accepted rows in batches: rights found by their office numbers are
reused, new ones are created with their owners, and one listing per row is created, published
or left as a draft. Facts keep their source and the date they were read there, and the status
follows the facts: a right whose term has ended is imported as expired and cannot be bought.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import html
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from listings.models import (
    DealType,
    Listing,
    ListingEvent,
    ListingRight,
    ListingState,
    OwnerOfRecord,
    PriceMode,
    Right,
    Status,
)
from listings.office_numbers import NumberKind, OfficeNumberError, normalise
from listings.search_index import search_entries_refresh
from listings.services import status_from_facts

NASA_OWNER = "National Aeronautics and Space Administration"


@dataclass
class CatalogueRow:
    """One right and the listing that offers it."""

    kind: str
    sub_kind: str
    jurisdiction: str
    title: str
    source: str
    as_of: datetime
    seller_email: str
    seller_name: str
    application_number: str = ""
    publication_number: str = ""
    registration_number: str = ""
    abstract: str = ""
    goods_and_services: str = ""
    owners: list[str] = field(default_factory=list)
    filing_date: date | None = None
    grant_date: date | None = None
    expiry_date: date | None = None
    cpc_symbols: list[str] = field(default_factory=list)
    status: str = Status.IN_FORCE
    office_status_text: str = ""
    listing_title: str = ""
    description: str = ""
    deal_types: list[str] = field(default_factory=lambda: [DealType.ASSIGNMENT])
    price_mode: str = PriceMode.ON_REQUEST
    currency: str = "USD"
    asking_price: int | None = None
    minimum_price: int | None = None


@dataclass
class RejectedRow:
    line: int
    reason: str
    raw: dict[str, str]


@dataclass
class ImportReport:
    created_listings: int = 0
    created_rights: int = 0
    reused_rights: int = 0
    skipped: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    listing_ids: list[int] = field(default_factory=list)


# --- Helpers for readers --------------------------------------------------------------------------


def _date(text: str, *formats: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    for fmt in formats or ("%Y-%m-%d",):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _file_time(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


def _demo_price(key: str) -> tuple[str, int | None, int | None]:
    """A price for a demonstration listing, derived from the right's number so that it is the
    same on every machine: a third fixed price, a third offers, a third on request."""
    digest = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
    amount = (5 + digest % 496) * 1_000_00  # 5,000 to 500,000 USD in cents
    match digest % 3:
        case 0:
            return PriceMode.FIXED, amount, None
        case 1:
            return PriceMode.OFFERS, amount, amount // 2
        case _:
            return PriceMode.ON_REQUEST, None, None


def _seller_email(name: str) -> str:
    slug = slugify(name)[:40] or "seller"
    return f"{slug}-{hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:6]}@demo.ip-marketplace.local"


def _us_patent_expiry(filing: date | None, grant: date | None) -> date | None:
    """20 years from filing; for applications filed before 8 June 1995, the later of that and
    17 years from grant. Patent term adjustment is not in these sources, so this is the floor."""
    if filing is None:
        return None
    twenty = _add_years(filing, 20)
    if filing < date(1995, 6, 8) and grant is not None:
        return max(twenty, _add_years(grant, 17))
    return twenty


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return path.open(encoding="utf-8-sig", errors="replace", newline="")


# --- Readers ------------------------------------------------------------------------------------


def _export_text(value: str | None) -> str:
    """A text cell of an office or portal export: the exports carry HTML character references
    ("&quot;CNT&quot;", "35&deg;", "&#8220;home plate&#8221;"), which mean the characters."""
    return " ".join(html.unescape(value or "").split())


def read_nasa_portfolio(path: Path) -> Iterator[CatalogueRow | RejectedRow]:
    """NASA's licensable portfolio: granted patents and pending applications, offered for licence."""
    as_of = _file_time(path)
    with _open_text(path) as handle:
        for line, raw in enumerate(csv.DictReader(handle), start=2):
            patent = (raw.get("Patent Number") or "").strip()
            serial = (raw.get("Serial Number") or "").strip()
            row = CatalogueRow(
                kind="patent",
                sub_kind="invention",
                jurisdiction="US",
                title=_export_text(raw.get("Title")),
                abstract=_export_text(raw.get("Abstract")),
                source="NASA technology portfolio (2014 export)",
                as_of=as_of,
                seller_email="licensing@nasa.demo.ip-marketplace.local",
                seller_name=NASA_OWNER,
                owners=[NASA_OWNER],
                deal_types=[DealType.EXCLUSIVE_LICENCE, DealType.NON_EXCLUSIVE_LICENCE],
                price_mode=PriceMode.ON_REQUEST,
                description=f"{(raw.get('Category') or '').strip().capitalize()} technology from "
                f"{(raw.get('Facility') or 'NASA').strip()} ({(raw.get('Reference Number') or '').strip()}).",
            )
            try:
                if patent and patent != "0":
                    row.registration_number = normalise(patent, kind=NumberKind.US_PATENT).canonical
                if serial and serial not in {"/0", "0"}:
                    row.application_number = normalise(serial, kind=NumberKind.US_APPLICATION).canonical
            except OfficeNumberError as error:
                yield RejectedRow(line, str(error), raw)
                continue
            if not (row.registration_number or row.application_number):
                yield RejectedRow(line, "The row has neither a patent number nor an application number.", raw)
                continue
            if not row.title:
                yield RejectedRow(line, "The row has no title.", raw)
                continue
            expiry = _date((raw.get("Expiration Date") or "")[:10])
            # 1970-01-01 is the export's placeholder for "no date".
            row.expiry_date = expiry if expiry and expiry.year > 1970 else None
            row.status = Status.IN_FORCE if row.registration_number else Status.PENDING
            yield row


# A granted US number's prefix tells its kind: D design, PP plant, RE reissue, none utility.
_US_UTILITY = (NumberKind.US_PATENT, "invention")
_US_GRANT_KINDS = {
    "D": (NumberKind.US_DESIGN_PATENT, "design"),
    "PP": (NumberKind.US_PLANT_PATENT, "plant"),
    "RE": (NumberKind.US_REISSUE_PATENT, "invention"),
}


# How PatentsView exports write a missing abstract.
_PATENTSVIEW_MISSING = {"None", "NULL"}


def _patentsview_text(value: str | None) -> str:
    """A PatentsView text cell, "" where the export says the value is missing."""
    text = " ".join(_export_text(value).replace('"', " ").split())
    return "" if text in _PATENTSVIEW_MISSING else text


def read_patentsview(path: Path) -> Iterator[CatalogueRow | RejectedRow]:
    """PatentsView exports: number, grant date, title, abstract (no filing date, no assignee)."""
    as_of = _file_time(path)
    with _open_text(path) as handle:
        for line, raw in enumerate(csv.DictReader(handle), start=2):
            text = (raw.get("patent_number") or "").strip().upper()
            kind, sub_kind = _US_GRANT_KINDS.get(text[:2], _US_GRANT_KINDS.get(text[:1], _US_UTILITY))
            try:
                number = normalise(text, kind=kind).canonical
            except OfficeNumberError as error:
                yield RejectedRow(line, str(error), raw)
                continue
            grant = _date(raw.get("patent_date", ""))
            title = _export_text(raw.get("patent_title"))
            if not title:
                yield RejectedRow(line, "The row has no title.", raw)
                continue
            # Without the filing date the exact expiry is unknown; a patent granted more than
            # 20 years ago has certainly expired (it was filed before it was granted).
            expiry = _add_years(grant, 20) if grant and _add_years(grant, 20) < timezone.localdate() else None
            mode, asking, minimum = _demo_price(number)
            yield CatalogueRow(
                kind="patent",
                sub_kind=sub_kind,
                jurisdiction="US",
                registration_number=number,
                title=title,
                abstract=_patentsview_text(raw.get("patent_abstract")),
                grant_date=grant,
                expiry_date=expiry,
                source="PatentsView API export",
                as_of=as_of,
                seller_email="portfolio@patentsview.demo.ip-marketplace.local",
                seller_name="Demo Patent Portfolio LLC",
                price_mode=mode,
                asking_price=asking,
                minimum_price=minimum,
            )


_GOOGLE_KINDS = {"US": NumberKind.US_PATENT, "CN": NumberKind.CN_PUBLICATION, "EP": NumberKind.EP_PUBLICATION}


def read_google_patents(path: Path) -> Iterator[CatalogueRow | RejectedRow]:
    """Google Patents search exports: the first line is usually the search URL, the header the
    next; some exports start with the header itself."""
    as_of = _file_time(path)
    with _open_text(path) as handle:
        first = handle.readline()
        lines = [first] if first.startswith("id,") else []
        for line, raw in enumerate(csv.DictReader([*lines, *handle]), start=3 - len(lines)):
            identifier = (raw.get("id") or "").strip()
            country = identifier.split("-", 1)[0]
            if country not in _GOOGLE_KINDS:
                yield RejectedRow(line, f"Rights of {country or 'unknown'} offices are not traded here yet.", raw)
                continue
            kind = _GOOGLE_KINDS[country]
            grant = _date(raw.get("grant date", ""), "%m/%d/%Y", "%Y-%m-%d")
            if country == "US" and (grant is None or identifier.endswith("-A1")):
                kind = NumberKind.US_PUBLICATION
            try:
                number = normalise(identifier, kind=kind)
            except OfficeNumberError as error:
                yield RejectedRow(line, str(error), raw)
                continue
            filing = _date(raw.get("filing/creation date", ""), "%m/%d/%Y", "%Y-%m-%d")
            assignee = _export_text(raw.get("assignee"))
            title = _export_text(raw.get("title"))
            if not title:
                yield RejectedRow(line, "The row has no title.", raw)
                continue
            granted = kind in {NumberKind.US_PATENT} or (country != "US" and grant is not None)
            expiry = (
                _us_patent_expiry(filing, grant) if country == "US" else (_add_years(filing, 20) if filing else None)
            )
            mode, asking, minimum = _demo_price(number.canonical)
            seller = assignee or "Independent inventor"
            yield CatalogueRow(
                kind="patent",
                sub_kind="invention",
                jurisdiction=country,
                registration_number=number.canonical if kind == NumberKind.US_PATENT else "",
                publication_number=number.canonical if kind != NumberKind.US_PATENT else "",
                title=title,
                owners=[assignee] if assignee else [],
                filing_date=filing,
                grant_date=grant,
                expiry_date=expiry,
                status=Status.IN_FORCE if granted else Status.PENDING,
                source="Google Patents search export (2018)",
                as_of=as_of,
                seller_email=_seller_email(seller),
                seller_name=seller,
                price_mode=mode,
                asking_price=asking,
                minimum_price=minimum,
            )


def read_copyright_renewals(path: Path, *, limit: int | None = None) -> Iterator[CatalogueRow | RejectedRow]:
    """US Catalog of Copyright Entries renewals. A renewed work first published in year Y is
    protected for 95 years, to the end of Y + 95."""
    as_of = _file_time(path)
    count = 0
    with _open_text(path) as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        for line, raw in enumerate(reader, start=2):
            if limit is not None and count >= limit:
                return
            renewal = (raw.get("id") or "").strip()
            title = " ".join((raw.get("titl") or "").split("|")[0].split())
            claimants = [part.split("|")[0].strip() for part in (raw.get("claimants") or "").split("||")]
            claimants = [name for name in claimants if name]
            original = _date(raw.get("odat", ""))
            if not (renewal and title and claimants and original):
                yield RejectedRow(line, "The renewal lacks its id, title, claimant or original date.", raw)
                continue
            count += 1
            yield CatalogueRow(
                kind="copyright",
                sub_kind="copyright",
                jurisdiction="US",
                registration_number=renewal.upper(),
                application_number=(raw.get("oreg") or "").strip().upper(),
                title=title[:500],
                abstract=" ".join((raw.get("auth") or "").split()),
                owners=claimants,
                filing_date=original,
                grant_date=_date(raw.get("dreg", "")),
                expiry_date=date(original.year + 95, 12, 31),
                source="US Catalog of Copyright Entries, renewals (NYPL transcription)",
                as_of=as_of,
                seller_email=_seller_email(claimants[0]),
                seller_name=claimants[0],
                deal_types=[DealType.ASSIGNMENT, DealType.NON_EXCLUSIVE_LICENCE],
                price_mode=PriceMode.ON_REQUEST,
            )


# --- Writing ----------------------------------------------------------------------------------


def _sellers(rows: list[CatalogueRow]) -> dict[str, User]:
    wanted = {row.seller_email.lower(): row.seller_name for row in rows}
    found = {user.email: user for user in User.objects.filter(email__in=list(wanted))}
    missing = [email for email in wanted if email not in found]
    if missing:
        new = [
            User(
                email=email,
                display_name=wanted[email][:120],
                organisation=wanted[email][:200],
                legal_name=wanted[email],
            )
            for email in missing
        ]
        for user in new:
            # Catalogue sellers sign in by resetting their password from the verified address.
            user.set_unusable_password()
        User.objects.bulk_create(new, ignore_conflicts=True)
        created = User.objects.filter(email__in=missing)
        EmailAddress.objects.bulk_create(
            [EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in created],
            ignore_conflicts=True,
        )
        found.update({user.email: user for user in created})
    return found


def _number_key(row: CatalogueRow | Right) -> list[tuple[str, str, str, str]]:
    keys = []
    for field_name in ("registration_number", "application_number", "publication_number"):
        value = getattr(row, field_name)
        if value:
            keys.append((row.jurisdiction, row.kind, field_name, value))
    return keys


def _existing_rights(rows: list[CatalogueRow]) -> dict[tuple[str, str, str, str], Right]:
    from django.db.models import Q

    condition = Q()
    for field_name in ("registration_number", "application_number", "publication_number"):
        values = {getattr(row, field_name) for row in rows if getattr(row, field_name)}
        if values:
            condition |= Q(**{f"{field_name}__in": values})
    if not condition:
        return {}
    found: dict[tuple[str, str, str, str], Right] = {}
    for right in Right.objects.filter(condition):
        for key in _number_key(right):
            found[key] = right
    return found


@transaction.atomic
def _import_batch(rows: list[CatalogueRow], *, publish: bool, one_seller_per_right: bool, report: ImportReport) -> None:
    sellers = _sellers(rows)
    existing = _existing_rights(rows)
    today = timezone.localdate()
    rights: list[Right] = []
    new_rights: list[tuple[Right, CatalogueRow]] = []
    seen: dict[tuple[str, str, str, str], Right] = {}
    for row in rows:
        right = next(
            (existing.get(key) or seen.get(key) for key in _number_key(row) if key in existing or key in seen), None
        )
        if right is None:
            right = Right(
                kind=row.kind,
                sub_kind=row.sub_kind,
                jurisdiction=row.jurisdiction,
                application_number=row.application_number,
                publication_number=row.publication_number,
                registration_number=row.registration_number,
                title=row.title[:500],
                abstract=row.abstract,
                goods_and_services=row.goods_and_services,
                cpc_symbols=row.cpc_symbols,
                filing_date=row.filing_date,
                grant_date=row.grant_date,
                expiry_date=row.expiry_date,
                status=status_from_facts(status=row.status, expiry_date=row.expiry_date, today=today),
                office_status_text=row.office_status_text,
                facts_source=row.source,
                facts_as_of=row.as_of,
            )
            new_rights.append((right, row))
            for key in _number_key(row):
                seen[key] = right
        else:
            report.reused_rights += 1
        rights.append(right)
    Right.objects.bulk_create([right for right, _ in new_rights])
    report.created_rights += len(new_rights)
    OwnerOfRecord.objects.bulk_create(
        OwnerOfRecord(right=right, name=name[:300], position=position)
        for right, row in new_rights
        for position, name in enumerate(row.owners)
    )
    # A seller lists a right once: a row repeating a right the same seller already offers (in
    # an earlier import or earlier in this one) is skipped. A published catalogue goes further:
    # a right is offered by one seller only, the first source (the one naming its owner) winning.
    active = ListingRight.objects.filter(right__in=[r for r in rights if r.pk]).exclude(
        listing__state__in=[ListingState.WITHDRAWN, ListingState.REJECTED]
    )
    if not one_seller_per_right:
        active = active.filter(listing__seller__in=sellers.values())
    offered = {
        (right_id, None if one_seller_per_right else seller_id)
        for right_id, seller_id in active.values_list("right_id", "listing__seller_id")
    }
    kept: list[tuple[CatalogueRow, Right]] = []
    for row, right in zip(rows, rights, strict=True):
        pair = (right.pk, None if one_seller_per_right else sellers[row.seller_email.lower()].pk)
        if pair in offered:
            report.skipped += 1
            continue
        offered.add(pair)
        kept.append((row, right))
    now = timezone.now()
    listings = []
    for row, right in kept:
        if publish:
            state = ListingState.PUBLISHED if right.is_tradable else ListingState.EXPIRED
        else:
            state = ListingState.DRAFT
        listings.append(
            Listing(
                seller=sellers[row.seller_email.lower()],
                title=(row.listing_title or row.title)[:300],
                description=row.description,
                deal_types=sorted(set(row.deal_types)),
                price_mode=row.price_mode,
                currency=row.currency,
                asking_price=row.asking_price,
                minimum_price=row.minimum_price,
                state=state,
                submitted_at=now if publish else None,
                published_at=now if publish else None,
            )
        )
    Listing.objects.bulk_create(listings)
    ListingRight.objects.bulk_create(
        ListingRight(listing=listing, right=right) for listing, (_, right) in zip(listings, kept, strict=True)
    )
    ListingEvent.objects.bulk_create(
        ListingEvent(listing=listing, from_state="", to_state=listing.state, note=f"Imported from {row.source}.")
        for listing, (row, _) in zip(listings, kept, strict=True)
    )
    ids = [listing.pk for listing in listings]
    if publish:
        search_entries_refresh(listing_ids=ids)
    report.created_listings += len(listings)
    report.listing_ids.extend(ids)


def catalogue_import(
    rows: Iterable[CatalogueRow | RejectedRow],
    *,
    publish: bool,
    one_seller_per_right: bool = False,
    batch_size: int = 2000,
) -> ImportReport:
    """Write the accepted rows as listings, batch by batch; rejected rows are reported.

    `publish` lists them at once (the demo catalogue, imported by staff); otherwise each becomes
    its seller's draft, to be submitted and verified like any other."""
    report = ImportReport()
    batch: list[CatalogueRow] = []
    for row in rows:
        if isinstance(row, RejectedRow):
            report.rejected.append(row)
            continue
        batch.append(row)
        if len(batch) >= batch_size:
            _import_batch(batch, publish=publish, one_seller_per_right=one_seller_per_right, report=report)
            batch = []
    if batch:
        _import_batch(batch, publish=publish, one_seller_per_right=one_seller_per_right, report=report)
    return report


# --- The demo catalogue -------------------------------------------------------------------------

SAMPLE_DIR = Path(__file__).resolve().parent / "data" / "catalogue"
SEED_SOURCES = (
    "NASA technology portfolio (2014 export)",
    "PatentsView API export",
    "Google Patents search export (2018)",
    "US Catalog of Copyright Entries, renewals (NYPL transcription)",
)


def _copyright_rows(files: list[Path], limit: int) -> Iterator[CatalogueRow | RejectedRow]:
    remaining = limit
    for path in files:
        if remaining <= 0:
            return
        accepted = 0
        for row in read_copyright_renewals(path, limit=remaining):
            if isinstance(row, CatalogueRow):
                accepted += 1
            yield row
        remaining -= accepted


def seed_sources(data: Path, *, copyrights: int) -> Iterator[tuple[str, Iterable[CatalogueRow | RejectedRow]]]:
    """The demo catalogue's sources found under `data` (the shared catalogue folder or the
    project's sample, which has the same layout), each with its rows."""
    patents = data / "patents"
    nasa = patents / "nasa_portfolio_2014.csv"
    if nasa.exists():
        yield "NASA portfolio", read_nasa_portfolio(nasa)
    # Google's exports name the assignee, so they go before PatentsView's, which do not: a
    # patent in both is then offered by its owner.
    for path in sorted((patents / "google").glob("gp-search-*.csv")):
        yield f"Google Patents {path.name}", read_google_patents(path)
    for path in sorted(patents.glob("pv_*.csv")):
        yield f"PatentsView {path.name}", read_patentsview(path)
    renewals = sorted((data / "copyright_renewals").glob("*.tsv*"), reverse=True)
    if renewals and copyrights > 0:
        yield "Copyright renewals", _copyright_rows(renewals, copyrights)

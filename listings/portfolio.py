"""A seller's portfolio import: one CSV upload becomes the seller's draft listings.

The upload is checked whole while the seller waits (size, encoding, that it is CSV text and not
HTML or a workbook, a header of a layout we read, the number of rows), so that a file we cannot
import is refused with one clear message and nothing is stored. An accepted file becomes an
`ImportJob`; a Celery task reads it with the readers of `listings.catalogue` (the project's
portfolio template, or the NASA portfolio, PatentsView and Google Patents exports as they are)
and writes the drafts in batches. Each batch commits with the job's counters, so the progress
the seller sees is what is in the database, and a job taken up again after a lost worker goes on
from the last committed batch instead of starting over.

Encodings: the file must be UTF-8 (with or without a byte-order mark). Anything else is refused
with the line of the first bad byte; we do not guess cp1252, because the same bytes are also
valid GBK or Shift-JIS and a wrong guess would store owners' names garbled, without anyone
noticing.

Speed (`make bench BENCH_ARGS="--only import"`, bench/imports.py): 10,000 template rows (9.6 MB,
with real abstracts) import in about 37 s on the 2-core development machine while other work
loads it: the upload check takes under a second, the job the rest, most of it in
catalogue_import's bulk inserts.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from listings.catalogue import (
    CatalogueRow,
    RejectedRow,
    catalogue_import,
    read_google_patents,
    read_nasa_portfolio,
    read_patentsview,
)
from listings.models import (
    ImportJob,
    ImportJobState,
    ImportLayout,
    ImportRejection,
    Jurisdiction,
    Kind,
    Listing,
    PriceMode,
    Right,
    Status,
)
from listings.models.rights import SUB_KINDS_OF
from listings.office_numbers import OfficeNumberError, normalise
from listings.services import (
    NUMBER_KINDS,
    ListingError,
    ListingTerms,
    RightClaim,
    listing_terms_check,
    number_kinds_of_field,
    right_claim_check,
)
from marketplace.money import CURRENCIES, MoneyError, money_parse

logger = logging.getLogger(__name__)

# Rows per committed batch: small enough for a lively progress bar, large enough that the
# per-batch queries cost little next to the rows themselves.
BATCH_SIZE = 1000

# --- The portfolio template -------------------------------------------------------------------

NUMBER_COLUMNS = ("application_number", "publication_number", "registration_number")

# (column, what goes in it): shown on the import page, and the header of the downloadable template.
TEMPLATE: tuple[tuple[str, str], ...] = (
    ("kind", "patent, trademark or copyright"),
    ("sub_kind", "invention, utility_model, design, plant, trademark or copyright"),
    ("jurisdiction", "US, CN, EP or EU"),
    ("application_number", "As the office writes it, e.g. 16/123,456, 201710431918.5, 76044902"),
    ("publication_number", "e.g. US 2015/0112182 A1, CN 107123456 A, EP 3 123 456 A1"),
    ("registration_number", "The patent or registration number, e.g. US 6,654,321 B2, D654,321, 2178784"),
    ("title", "The right's title, or the mark"),
    ("abstract", "Optional"),
    ("goods_and_services", "Optional; for trademarks"),
    ("owners", "Owners of record as the register names them, separated by semicolons"),
    ("filing_date", "YYYY-MM-DD, optional"),
    ("grant_date", "Grant or registration date, YYYY-MM-DD, optional"),
    ("expiry_date", "YYYY-MM-DD, optional; a right whose term has ended is imported as expired"),
    ("cpc_symbols", "Optional, separated by semicolons, e.g. G06N 3/08; H04L 9/32"),
    ("nice_classes", "Optional, separated by semicolons, e.g. 9; 42"),
    ("listing_title", "Optional; the right's title when empty"),
    ("listing_description", "Optional"),
    ("deal_types", "assignment, exclusive_licence, non_exclusive_licence; separated by semicolons"),
    ("price_mode", "fixed, offers or on_request"),
    ("currency", "USD, EUR, GBP, CHF, CNY, JPY, ...; USD when empty"),
    ("asking_price", "In the currency's main unit, e.g. 250000 or 250,000.00; empty for on_request"),
    ("minimum_price", "The lowest offer you consider, for offers; main unit"),
)
TEMPLATE_COLUMNS = tuple(name for name, _ in TEMPLATE)
# The rejected-rows file adds a `reason` column; a corrected copy of it may be uploaded again.
TEMPLATE_IGNORED = frozenset({"reason"})

# The columns each export's reader relies on; other columns of those exports may be present.
NASA_COLUMNS = (
    "Category",
    "Abstract",
    "Title",
    "Reference Number",
    "Patent Number",
    "Serial Number",
    "Expiration Date",
    "Facility",
)
PATENTSVIEW_COLUMNS = ("patent_number", "patent_title", "patent_date", "patent_abstract")
GOOGLE_COLUMNS = ("id", "title", "assignee", "filing/creation date", "grant date")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", ";").split(";") if part.strip()]


def _iso_date(raw: dict[str, str], column: str) -> date | None:
    text = raw.get(column, "").strip()
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise ListingError(f"“{text}” is not a date in the form YYYY-MM-DD.", field=column) from None


def _price(raw: dict[str, str], column: str, currency: str) -> int | None:
    text = raw.get(column, "").strip()
    if not text:
        return None
    try:
        return money_parse(text, currency=currency).amount
    except MoneyError as error:
        raise ListingError(str(error), field=column) from error


def _numbers(raw: dict[str, str], *, jurisdiction: str, sub_kind: str) -> dict[str, str]:
    """The row's numbers by number kind: each column's value as the first kind of that column
    that it fits (a US registration number may be a utility or a reissue patent)."""
    right_type = sub_kind if sub_kind in {"invention", "utility_model", "design", "plant"} else None
    numbers: dict[str, str] = {}
    for column in NUMBER_COLUMNS:
        text = raw.get(column, "").strip()
        if not text:
            continue
        kinds = number_kinds_of_field(jurisdiction=jurisdiction, sub_kind=sub_kind, field_name=column)
        if not kinds:
            raise ListingError(f"A {sub_kind} right of {jurisdiction} has no {column.replace('_', ' ')}.", field=column)
        first_error: OfficeNumberError | None = None
        for kind in kinds:
            try:
                normalise(text, kind=kind, right_type=right_type)
            except OfficeNumberError as error:
                first_error = first_error or error
                continue
            numbers[kind.value] = text
            break
        else:
            raise ListingError(str(first_error), field=column)
    return numbers


@dataclass
class TemplateRow(CatalogueRow):
    """A template row carries Nice classes, which catalogue rows do not (yet) hold."""

    nice_classes: list[int] = field(default_factory=list)


def _template_row(raw: dict[str, str]) -> TemplateRow:
    kind = raw.get("kind", "").strip().lower()
    sub_kind = raw.get("sub_kind", "").strip().lower()
    jurisdiction = raw.get("jurisdiction", "").strip().upper()
    # The kind, sub-kind and office first: which numbers fit depends on them.
    if kind not in Kind.values:
        raise ListingError(f"“{kind}” is not one of {', '.join(Kind.values)}.", field="kind")
    if sub_kind not in SUB_KINDS_OF[kind]:
        raise ListingError(f"A {kind} is one of {', '.join(SUB_KINDS_OF[kind])}, not “{sub_kind}”.", field="sub_kind")
    if jurisdiction not in Jurisdiction.values:
        raise ListingError(f"“{jurisdiction}” is not one of {', '.join(Jurisdiction.values)}.", field="jurisdiction")
    if (jurisdiction, sub_kind) not in NUMBER_KINDS:
        raise ListingError(f"We do not handle {sub_kind} rights of {jurisdiction} yet.", field="sub_kind")
    nice = []
    for part in _split(raw.get("nice_classes", "")):
        if not part.isdigit():
            raise ListingError(f"“{part}” is not a Nice class number (1 to 45).", field="nice_classes")
        nice.append(int(part))
    registration = raw.get("registration_number", "").strip()
    claim = RightClaim(
        kind=kind,
        sub_kind=sub_kind,
        jurisdiction=jurisdiction,
        numbers={},
        title=" ".join(raw.get("title", "").split()),
        abstract=raw.get("abstract", "").strip(),
        goods_and_services=raw.get("goods_and_services", "").strip(),
        owners=[name.strip() for name in raw.get("owners", "").split(";") if name.strip()],
        filing_date=_iso_date(raw, "filing_date"),
        grant_date=_iso_date(raw, "grant_date"),
        expiry_date=_iso_date(raw, "expiry_date"),
        cpc_symbols=_split(raw.get("cpc_symbols", "")),
        nice_classes=nice,
        status=Status.IN_FORCE if registration else Status.PENDING,
    )
    claim.numbers = _numbers(raw, jurisdiction=jurisdiction, sub_kind=sub_kind)
    canonical = right_claim_check(claim=claim)
    currency = raw.get("currency", "").strip().upper() or "USD"
    if currency not in CURRENCIES:
        raise ListingError(f"We do not take “{currency}”; use one of {', '.join(CURRENCIES)}.", field="currency")
    terms = ListingTerms(
        title=" ".join((raw.get("listing_title", "") or claim.title).split()),
        description=raw.get("listing_description", "").strip(),
        deal_types=[value.lower() for value in _split(raw.get("deal_types", ""))],
        price_mode=raw.get("price_mode", "").strip().lower(),
        currency=currency,
        asking_price=_price(raw, "asking_price", currency),
        minimum_price=_price(raw, "minimum_price", currency),
    )
    listing_terms_check(terms=terms)
    return TemplateRow(
        kind=claim.kind,
        sub_kind=claim.sub_kind,
        jurisdiction=claim.jurisdiction,
        title=claim.title,
        source="",  # set for the whole job
        as_of=timezone.now(),
        seller_email="",
        seller_name="",
        application_number=canonical.get("application_number", ""),
        publication_number=canonical.get("publication_number", ""),
        registration_number=canonical.get("registration_number", ""),
        abstract=claim.abstract,
        goods_and_services=claim.goods_and_services,
        owners=claim.owners,
        filing_date=claim.filing_date,
        grant_date=claim.grant_date,
        expiry_date=claim.expiry_date,
        cpc_symbols=claim.cpc_symbols,
        nice_classes=sorted(set(claim.nice_classes)),
        status=claim.status,
        listing_title=terms.title,
        description=terms.description,
        deal_types=terms.deal_types,
        price_mode=terms.price_mode,
        currency=terms.currency,
        asking_price=terms.asking_price,
        minimum_price=terms.minimum_price,
    )


def read_portfolio_template(path: Path) -> Iterator[CatalogueRow | RejectedRow]:
    """Rows of the portfolio template; header names are matched without regard to case."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader, [])]
        names = [name.lower() for name in header]
        for record in reader:
            line = reader.line_num
            if not record:  # a blank line, as csv.DictReader skips it
                continue
            raw = dict(zip(header, record, strict=False))
            if len(record) != len(header):
                yield RejectedRow(
                    line, f"The row has {len(record)} fields where the header has {len(header)}.", _padded(raw, header)
                )
                continue
            by_name = dict(zip(names, record, strict=True))
            try:
                yield _template_row(by_name)
            except ListingError as error:
                column = f"{error.field}: " if error.field in TEMPLATE_COLUMNS else ""
                yield RejectedRow(line, f"{column}{error}", raw)


def _padded(raw: dict[str, str], header: list[str]) -> dict[str, str]:
    return {name: raw.get(name, "") for name in header}


# --- Checking an upload -----------------------------------------------------------------------


@dataclass
class Inspection:
    layout: str
    columns: list[str]
    total_rows: int


_BINARY_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook or a ZIP archive"),
    (b"\xd0\xcf\x11\xe0", "an old-style Excel workbook"),
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "a gzip archive"),
)
_SAVE_AS = "In your spreadsheet, choose Save as, then “CSV UTF-8 (comma delimited)” and upload that file."
_HTML_STARTS = ("<!doctype", "<html", "<head", "<body", "<?xml", "<!--", "<script", "<meta", "<div", "<table")


def _expected_layouts() -> str:
    return (
        f"the portfolio template ({', '.join(TEMPLATE_COLUMNS)}), "
        f"a NASA technology portfolio export ({', '.join(NASA_COLUMNS)}, ...), "
        f"a PatentsView export ({', '.join(PATENTSVIEW_COLUMNS)}) "
        f"or a Google Patents search export ({', '.join(GOOGLE_COLUMNS)}, ...)"
    )


def _layout_of(header: list[str]) -> str:
    names = [name.strip() for name in header]
    present = set(names)
    lowered = {name.lower() for name in names}
    # The exports first: their columns are their own ("Title" and "Abstract" are also ours).
    if present >= set(NASA_COLUMNS):
        return ImportLayout.NASA
    if present >= set(PATENTSVIEW_COLUMNS):
        return ImportLayout.PATENTSVIEW
    if present >= set(GOOGLE_COLUMNS) and names[0] == "id":
        return ImportLayout.GOOGLE_PATENTS
    if lowered & (set(TEMPLATE_COLUMNS) - {"title", "abstract"}):
        missing = [name for name in TEMPLATE_COLUMNS if name not in lowered]
        unknown = [name for name in names if name.lower() not in set(TEMPLATE_COLUMNS) | TEMPLATE_IGNORED]
        duplicated = sorted({name for name in lowered if [n.lower() for n in names].count(name) > 1})
        if missing or unknown or duplicated:
            problems = []
            if missing:
                problems.append(f"it lacks the columns {', '.join(missing)}")
            if unknown:
                problems.append(f"it has columns the template does not have: {', '.join(unknown)}")
            if duplicated:
                problems.append(f"these columns appear twice: {', '.join(duplicated)}")
            raise ListingError(
                f"The header looks like the portfolio template, but {'; '.join(problems)}. "
                f"The template's columns are: {', '.join(TEMPLATE_COLUMNS)}.",
                field="file",
            )
        return ImportLayout.TEMPLATE
    shown = ", ".join(name for name in names[:12] if name) or "(nothing)"
    raise ListingError(
        f"The file's header ({shown}) is not one we read. We expected {_expected_layouts()}.", field="file"
    )


def _text_of(content: bytes) -> str:
    """The file as text, if it is UTF-8 text that is not an HTML page; else ListingError."""
    if not content.strip(b" \t\r\n\xef\xbb\xbf"):
        raise ListingError("The file is empty.", field="file")
    for signature, what in _BINARY_SIGNATURES:
        if content.startswith(signature):
            raise ListingError(f"This is {what}, not a CSV file. {_SAVE_AS}", field="file")
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ListingError(f"The file is UTF-16 text; we read UTF-8. {_SAVE_AS}", field="file")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        raise ListingError(
            f"The file is not UTF-8 text: line {line} holds the byte 0x{content[error.start]:02X}, which UTF-8 "
            f"does not allow (the file was probably saved as Windows-1252 or another legacy encoding). "
            f"We do not guess encodings, because a wrong guess garbles owners' names. {_SAVE_AS}",
            field="file",
        ) from error
    if "\x00" in text:
        raise ListingError(f"The file holds NUL characters: it is binary, not CSV text. {_SAVE_AS}", field="file")
    head = text.lstrip()[:2048].lower()
    if head.startswith(_HTML_STARTS) or "<html" in head:
        raise ListingError(
            "This is an HTML page (perhaps a web page saved under a .csv name), not a CSV file. "
            "Download the export itself, or use our template.",
            field="file",
        )
    return text


def portfolio_file_inspect(content: bytes, *, max_rows: int) -> Inspection:
    """Check an uploaded file whole: its layout, header and number of rows, or ListingError."""
    text = _text_of(content)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
        if header and header[0].strip().lower().startswith("search url"):
            # Google Patents exports put the search URL on the first line, the header on the next.
            header = next(reader, [])
        layout = _layout_of(header)
        total = 0
        for record in reader:
            if record:
                total += 1
                if total > max_rows:
                    raise ListingError(
                        f"The file has more than {max_rows:,} rows; we import at most {max_rows:,} at a time. "
                        "Split it into smaller files. Nothing was imported.",
                        field="file",
                    )
    except csv.Error as error:
        raise ListingError(f"Line {reader.line_num} is not valid CSV: {error}.", field="file") from error
    if total == 0:
        raise ListingError("The file has a header but no rows to import.", field="file")
    return Inspection(layout=layout, columns=[name.strip() for name in header], total_rows=total)


def import_max_bytes() -> int:
    return int(settings.LISTING_IMPORT_MAX_BYTES)


def import_max_rows() -> int:
    return int(settings.LISTING_IMPORT_MAX_ROWS)


@transaction.atomic
def portfolio_import_start(*, seller: User, upload: IO[bytes], original_name: str) -> ImportJob:
    """Check the seller's file and queue its import; the task starts once this commits."""
    max_bytes = import_max_bytes()
    content = upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise ListingError(
            f"The file is larger than {max_bytes / (1024 * 1024):g} MB. Split it into smaller files.", field="file"
        )
    inspection = portfolio_file_inspect(content, max_rows=import_max_rows())
    job = ImportJob(
        seller=seller,
        layout=inspection.layout,
        original_name=(original_name or "upload.csv")[:255],
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        columns=[name[:200] for name in inspection.columns],
        total_rows=inspection.total_rows,
    )
    job.file.save("upload.csv", ContentFile(content), save=False)
    job.save()
    job_id = job.pk

    def enqueue() -> None:
        from listings.tasks import portfolio_import_run_task

        portfolio_import_run_task.delay(job_id)

    transaction.on_commit(enqueue, robust=True)
    return job


# --- Running a job ------------------------------------------------------------------------------

_READERS: dict[str, Callable[[Path], Iterator[CatalogueRow | RejectedRow]]] = {
    ImportLayout.TEMPLATE: read_portfolio_template,
    ImportLayout.NASA: read_nasa_portfolio,
    ImportLayout.PATENTSVIEW: read_patentsview,
    ImportLayout.GOOGLE_PATENTS: read_google_patents,
}


class ImportStoppedError(Exception):
    """A job cannot go on; the message is shown to the seller."""


@contextmanager
def _local_copy(job: ImportJob) -> Iterator[Path]:
    """The upload as a local file for the readers, whatever storage holds it."""
    with tempfile.TemporaryDirectory(prefix="portfolio-import-") as folder:
        path = Path(folder) / "upload.csv"
        with job.file.open("rb") as source, path.open("wb") as target:
            shutil.copyfileobj(source, target)
        yield path


def _as_uploaded(row: CatalogueRow, *, job: ImportJob, seller: User) -> CatalogueRow:
    """The uploader is the seller whatever the source says, and the facts are the seller's
    statement. Exports carry no price (the readers' prices are the demo catalogue's): those
    drafts ask for offers on request until the seller sets a price."""
    row.seller_email = seller.email
    row.seller_name = seller.legal_name or seller.public_name
    row.source = f"seller's statement ({ImportLayout(job.layout).label}, {job.original_name})"[:200]
    row.as_of = job.created_at
    if job.layout in {ImportLayout.PATENTSVIEW, ImportLayout.GOOGLE_PATENTS}:
        row.price_mode, row.asking_price, row.minimum_price = PriceMode.ON_REQUEST, None, None
    return row


def _clean_raw(raw: dict[str, str]) -> dict[str, str]:
    # csv.DictReader files surplus fields under the key None and fills missing ones with None.
    return {key: value if isinstance(value, str) else "" for key, value in raw.items() if isinstance(key, str)}


def _nice_classes_apply(rows: list[CatalogueRow], *, listing_ids: list[int], since: datetime) -> None:
    """Nice classes for the rights this batch created (catalogue rows do not carry them); a right
    that existed before keeps its facts, as with every other import."""
    wanted: dict[tuple[str, str, str], list[int]] = {}
    for row in rows:
        if isinstance(row, TemplateRow) and row.nice_classes:
            for column in NUMBER_COLUMNS:
                if getattr(row, column):
                    wanted[(row.jurisdiction, column, getattr(row, column))] = row.nice_classes
    if not wanted:
        return
    created = Right.objects.filter(listing_rights__listing_id__in=listing_ids, created_at__gte=since).values_list(
        "pk", "jurisdiction", *NUMBER_COLUMNS
    )
    ids, classes = [], []
    for right_id, jurisdiction, *numbers in created:
        found = next(
            (
                wanted[(jurisdiction, column, number)]
                for column, number in zip(NUMBER_COLUMNS, numbers, strict=True)
                if number and (jurisdiction, column, number) in wanted
            ),
            None,
        )
        if found:
            ids.append(right_id)
            classes.append("{" + ",".join(str(number) for number in found) + "}")
    # One statement for the batch: an UPDATE per row would cost a round trip each.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE listings_right AS r SET nice_classes = CAST(v.classes AS smallint[]) "
            "FROM unnest(%s::bigint[], %s::text[]) AS v(id, classes) WHERE r.id = v.id",
            [ids, classes],
        )


@transaction.atomic
def _batch_commit(*, job: ImportJob, seller: User, offset: int, rows: list[CatalogueRow | RejectedRow]) -> bool:
    """Write one batch with the job's counters; False if another run has moved the job on."""
    locked = ImportJob.objects.select_for_update().get(pk=job.pk)
    if locked.state != ImportJobState.RUNNING or locked.processed_rows != offset:
        return False
    if offset + len(rows) > locked.total_rows:
        raise ImportStoppedError("The file changed since it was uploaded: it has more rows than were counted.")
    accepted = [_as_uploaded(row, job=job, seller=seller) for row in rows if isinstance(row, CatalogueRow)]
    rejected = [row for row in rows if isinstance(row, RejectedRow)]
    since = timezone.now()
    report = catalogue_import(accepted, publish=False, batch_size=len(accepted) + 1)
    # catalogue_import finds the seller by email; make sure that is the uploader and no one else.
    if Listing.objects.filter(pk__in=report.listing_ids).exclude(seller_id=seller.pk).exists():
        raise ImportStoppedError("The listings could not be attributed to your account.")
    _nice_classes_apply(accepted, listing_ids=report.listing_ids, since=since)
    ImportRejection.objects.bulk_create(
        ImportRejection(job_id=job.pk, line=row.line, reason=row.reason[:2000], raw=_clean_raw(row.raw))
        for row in rejected
    )
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=F("processed_rows") + len(rows),
        created_count=F("created_count") + report.created_listings,
        rejected_count=F("rejected_count") + len(rejected),
        skipped_count=F("skipped_count") + report.skipped,
    )
    return True


@transaction.atomic
def _job_claim(job_id: int) -> ImportJob | None:
    job = ImportJob.objects.select_for_update().select_related("seller").filter(pk=job_id).first()
    if job is None or job.is_finished:
        return None
    if job.state == ImportJobState.QUEUED:
        job.state = ImportJobState.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["state", "started_at"])
    return job


def _batches(rows: Iterable[CatalogueRow | RejectedRow], size: int) -> Iterator[list[CatalogueRow | RejectedRow]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def portfolio_import_run(*, job_id: int, batch_size: int = BATCH_SIZE) -> ImportJob | None:
    """Import a queued job's rows as drafts. Safe to run twice: a finished job is left alone, a
    running one goes on from its last committed batch, and of two concurrent runs only one
    writes each batch."""
    job = _job_claim(job_id)
    if job is None:
        return None
    offset = job.processed_rows
    try:
        with _local_copy(job) as path:
            rows = itertools.islice(_READERS[job.layout](path), offset, None)
            for batch in _batches(rows, batch_size):
                if not _batch_commit(job=job, seller=job.seller, offset=offset, rows=batch):
                    return ImportJob.objects.get(pk=job.pk)
                offset += len(batch)
    except Exception as error:  # any failure is recorded on the job, for the seller and staff
        logger.exception("Portfolio import %s failed", job_id)
        message = str(error) if isinstance(error, ImportStoppedError) else "An unexpected error stopped the import."
        ImportJob.objects.filter(pk=job_id, state=ImportJobState.RUNNING).update(
            state=ImportJobState.FAILED,
            finished_at=timezone.now(),
            error=f"{message} The first {offset:,} rows were imported as drafts; the rest were not.",
        )
        return ImportJob.objects.get(pk=job_id)
    ImportJob.objects.filter(pk=job_id, state=ImportJobState.RUNNING).update(
        state=ImportJobState.DONE, finished_at=timezone.now(), total_rows=F("processed_rows")
    )
    return ImportJob.objects.get(pk=job_id)


# --- Reading jobs ---------------------------------------------------------------------------------


def import_jobs_of(*, seller: User) -> list[ImportJob]:
    return list(ImportJob.objects.filter(seller=seller)[:20])


def import_job_of(*, seller: User, job_id: int) -> ImportJob | None:
    """The seller's own job, or None: someone else's job is not found, not forbidden."""
    return ImportJob.objects.filter(seller=seller, pk=job_id).first()


def import_job_progress(*, job: ImportJob) -> dict[str, object]:
    return {
        "id": job.pk,
        "state": job.state,
        "state_label": job.get_state_display(),
        "finished": job.is_finished,
        "total": job.total_rows,
        "processed": job.processed_rows,
        "created": job.created_count,
        "rejected": job.rejected_count,
        "skipped": job.skipped_count,
        "percent": job.percent,
        "error": job.error,
    }


def import_rejections_csv(*, job: ImportJob) -> Iterator[str]:
    """The refused rows as CSV: the file's own columns, then `reason`; line by line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = [name for name in job.columns if name != "reason"]

    def flushed() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([*columns, "reason"])
    yield flushed()
    for rejection in job.rejections.iterator(chunk_size=2000):
        writer.writerow([*(rejection.raw.get(name, "") for name in columns), rejection.reason])
        yield flushed()

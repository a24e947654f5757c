"""USPTO Open Data Portal: US patent applications and patents.

Paths (relative to `USPTO_ODP_BASE_URL`, the key in the `X-API-KEY` header):
    GET /api/v1/patent/applications/{applicationNumberText}               everything below in one
    GET /api/v1/patent/applications/{applicationNumberText}/assignment     recorded assignments
    GET /api/v1/patent/applications/{applicationNumberText}/continuity     parents and children
    GET /api/v1/patent/applications/{applicationNumberText}/adjustment     patent term adjustment
    GET /api/v1/patent/applications/{applicationNumberText}/transactions   prosecution history
    GET /api/v1/patent/applications/search?q=...                          find by patent number

Both shapes the portal has served are read: the beta's `patentBag` with flat fields and
`continuityBag`, and the production `patentFileWrapperDataBag` with `applicationMetaData`,
top-level continuity bags and `eventDataBag`.

The office states status, dates, parties and assignments; it does not state a patent's expiry
or its maintenance fee windows, so those are derived here (and named in `record.derived`):
    utility and plant: 20 years from the earliest US non-provisional filing in the continuity
        chain (continuations, divisionals, CIPs, the PCT application a national stage entered
        from), plus PTA days; terminal disclaimers are noted, not applied;
    design: 15 years from grant if filed on or after 2015-05-13, else 14;
    maintenance fees (utility only): due 3.5, 7.5 and 11.5 years after grant, payable from 3, 7
        and 11 years, with a 6-month grace period (with surcharge) to 4, 8 and 12 years.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from django.conf import settings

from verification.registries.http import InvalidRegistryNumber, RegistryHttp, RegistryMalformed, RegistryNotFound
from verification.registries.parsing import as_list, clean, load_json
from verification.registries.records import (
    AssignmentRecord,
    Deadline,
    LegalEvent,
    Party,
    RegistryRecord,
    Status,
    add_months,
    add_years,
    conveyance_kind,
    next_deadline,
    parse_date,
    sha256_hex,
)

OFFICE = "uspto_odp"
API_PREFIX = "/api/v1/patent/applications"
# The field the search endpoint knows a granted patent's number by (production nests it).
PATENT_NUMBER_FIELDS = ("applicationMetaData.patentNumber", "patentNumber")

DESIGN_15_YEAR_FILING_DATE = date(2015, 5, 13)
TERM_CHAIN_PARENTAGE = frozenset({"CON", "DIV", "CIP", "NST", "REI", "RCE"})

SUBKIND_BY_TYPE = {"UTL": "utility", "DES": "design", "PLT": "plant", "PRV": "provisional", "REI": "reissue"}

# Maintenance-fee payment event codes: M1551/M2551/M3551 (large/small/micro, 4th year) ...
_MAINTENANCE_PAID_CODE = re.compile(r"^M[1-3]55([1-3])$")
_MAINTENANCE_YEAR_TEXT = {"4th": 1, "8th": 2, "12th": 3}


# --- numbers ---------------------------------------------------------------------------------------


def application_number_normalise(number: str) -> str:
    """'16/123,456', 'US 16123456' -> '16123456'; PCT numbers are kept in the office's form."""
    text = str(number).strip().upper()
    if text.startswith("PCT"):
        match = re.fullmatch(r"PCT/?([A-Z]{2})(\d{2,4})/?(\d{5,6})", text.replace(" ", ""))
        if not match:
            raise InvalidRegistryNumber(f"not a PCT application number: {number!r}", office=OFFICE)
        return f"PCT/{match.group(1)}{match.group(2)}/{match.group(3)}"
    text = re.sub(r"^US\s*", "", text)
    digits = re.sub(r"[\s/,.-]", "", text)
    if not re.fullmatch(r"\d{8}", digits):
        raise InvalidRegistryNumber(f"not a US application number (8 digits): {number!r}", office=OFFICE)
    return digits


def patent_number_normalise(number: str) -> str:
    """'US 6,654,321 B2' -> '6654321'; design 'D654,321' -> 'D654321'; 'PP12,345' and 'RE45,678' too."""
    text = re.sub(r"[\s,.]", "", str(number).strip().upper())
    text = re.sub(r"^US", "", text)
    text = re.sub(r"(?<=\d)(A|B1|B2|C1|C2|E|E1|S|S1|P2|P3)$", "", text)  # the kind code
    match = re.fullmatch(r"(D|PP|RE|H|T)?0*(\d{1,8})", text)
    if not match:
        raise InvalidRegistryNumber(f"not a US patent number: {number!r}", office=OFFICE)
    return f"{match.group(1) or ''}{match.group(2)}"


# --- parsing --------------------------------------------------------------------------------------------


def _bag(data: Any, *, url: str = "") -> list[dict[str, Any]]:
    if not isinstance(data, dict):
        raise RegistryMalformed("expected a JSON object", office=OFFICE, url=url)
    for key in ("patentFileWrapperDataBag", "patentBag"):
        if key in data:
            items = [i for i in as_list(data[key]) if isinstance(i, dict)]
            if not items:
                raise RegistryNotFound("the office returned no application", office=OFFICE, url=url)
            return items
    if data.get("count") == 0:
        raise RegistryNotFound("the office returned no application", office=OFFICE, url=url)
    raise RegistryMalformed("no patent data bag in the answer", office=OFFICE, url=url)


def _flat(item: dict[str, Any]) -> dict[str, Any]:
    """Production nests the bibliographic fields in applicationMetaData; the beta did not."""
    merged = dict(item)
    meta = item.get("applicationMetaData")
    if isinstance(meta, dict):
        merged.update(meta)
    return merged


def _address(entry: dict[str, Any] | None) -> tuple[str, str]:
    if not isinstance(entry, dict):
        return "", ""
    parts = [
        entry.get(k)
        for k in (
            "addressLineOneText",
            "addressLineTwoText",
            "addressLineThreeText",
            "addressLineFourText",
            "cityName",
            "geographicRegionCode",
            "postalCode",
            "countryName",
        )
    ]
    return ", ".join(clean(p) for p in parts if clean(p)), clean(entry.get("countryCode"))


def _party_name(entry: dict[str, Any]) -> str:
    for key in ("applicantNameText", "applicant", "assigneeNameText", "assignorName", "inventorNameText"):
        if clean(entry.get(key)):
            return clean(entry.get(key))
    return " ".join(clean(entry.get(k)) for k in ("firstName", "middleName", "lastName") if clean(entry.get(k)))


def _item_of(data: Any) -> dict[str, Any]:
    """One application's fields, from a whole answer or from an item already taken out of one."""
    if isinstance(data, dict) and ("patentBag" in data or "patentFileWrapperDataBag" in data):
        return _flat(_bag(data)[0])
    return data if isinstance(data, dict) else {}


def parse_assignments(data: Any) -> tuple[AssignmentRecord, ...]:
    """The `assignmentBag` of an application, or of the /assignment endpoint's answer."""
    if isinstance(data, dict) and ("patentBag" in data or "patentFileWrapperDataBag" in data):
        return parse_assignments(_bag(data)[0].get("assignmentBag"))
    records = []
    for entry in as_list(data):
        if not isinstance(entry, dict):
            continue
        reel, frame = clean(entry.get("reelNumber")), clean(entry.get("frameNumber"))
        if (not reel or not frame) and "/" in clean(entry.get("reelNumber/frameNumber")):
            reel, frame = clean(entry.get("reelNumber/frameNumber")).split("/", 1)
        assignors = tuple(
            Party(name=_party_name(a), role="assignor")
            for a in as_list(entry.get("assignorBag"))
            if isinstance(a, dict)
        )
        assignees = []
        for a in as_list(entry.get("assigneeBag")):
            if isinstance(a, dict):
                address, country = _address(a.get("assigneeAddress"))
                assignees.append(Party(name=_party_name(a), address=address, country=country, role="assignee"))
        executions = [
            parse_date(a.get("executionDate")) for a in as_list(entry.get("assignorBag")) if isinstance(a, dict)
        ]
        text = clean(entry.get("conveyanceText"))
        pages = entry.get("pageNumber") or entry.get("pageTotalQuantity")
        records.append(
            AssignmentRecord(
                conveyance_text=text,
                kind=conveyance_kind(text),
                reel=reel,
                frame=frame,
                assignors=assignors,
                assignees=tuple(assignees),
                recorded_date=parse_date(entry.get("assignmentRecordedDate")),
                execution_date=min((d for d in executions if d), default=None),
                received_date=parse_date(entry.get("assignmentReceivedDate")),
                page_count=int(str(pages)) if str(pages or "").isdigit() else None,
            )
        )
    return tuple(records)


def _continuity_bags(item: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    parents: list[dict[str, Any]] = []
    kids: list[dict[str, Any]] = []
    for holder in [item, *[b for b in as_list(item.get("continuityBag")) if isinstance(b, dict)]]:
        for key in ("parentContinuityBag", "prentContinuityBag"):
            parents.extend(p for p in as_list(holder.get(key)) if isinstance(p, dict))
        kids.extend(c for c in as_list(holder.get("childContinuityBag")) if isinstance(c, dict))
    return parents, kids


def parse_continuity(data: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Parents and children, each a dict with number, filing date, parentage code and status."""
    parents, kids = _continuity_bags(_item_of(data))

    def norm(entry: dict[str, Any], number_key: str) -> dict[str, Any]:
        return {
            "number": clean(entry.get(number_key)),
            "child": clean(entry.get("childApplicationNumberText")),
            "parent": clean(entry.get("parentApplicationNumberText")),
            "parentage": clean(entry.get("claimParentageTypeCode")),
            "filing_date": parse_date(
                entry.get("parentApplicationFilingDate")
                if number_key == "parentApplicationNumberText"
                else entry.get("childApplicationFilingDate")
            )
            or parse_date(entry.get("filingDate")),
            "status_code": clean(entry.get("applicationStatusCode") or entry.get("parentApplicationStatusCode")),
            "patent_number": clean(entry.get("patentNumber") or entry.get("parentPatentNumber")),
        }

    return [norm(p, "parentApplicationNumberText") for p in parents], [
        norm(c, "childApplicationNumberText") for c in kids
    ]


def parse_adjustment(data: Any) -> int | None:
    """Total patent term adjustment in days, or None when the office gives none."""
    pta = _item_of(data).get("patentTermAdjustmentData")
    if not isinstance(pta, dict) or not pta:
        return None
    total = pta.get("adjustmentTotalQuantity")
    if total is None:
        return None
    return int(float(total))


def parse_transactions(data: Any) -> tuple[LegalEvent, ...]:
    item = _item_of(data)
    events = []
    for key, code_key, text_key, date_key in (
        ("transactionContentBag", "caseActionCode", "caseActionDescriptionText", "recordedDate"),
        ("eventDataBag", "eventCode", "eventDescriptionText", "eventDate"),
    ):
        for entry in as_list(item.get(key)):
            if isinstance(entry, dict):
                events.append(
                    LegalEvent(
                        code=clean(entry.get(code_key)),
                        description=clean(entry.get(text_key)),
                        date=parse_date(entry.get(date_key)),
                        country="US",
                    )
                )
    return tuple(events)


def status_normalise(code: object, text: str) -> Status:  # noqa: PLR0911 - one rule per line reads best
    """The office's application status to ours, by its words first and its code second."""
    lowered = " ".join(text.lower().split())
    if "nonpayment" in lowered or "non-payment" in lowered or "failure to pay" in lowered:
        return "lapsed"
    if "expired" in lowered:
        return "expired"
    if "abandon" in lowered:
        return "abandoned"
    if "patented" in lowered or "reexamination certificate" in lowered:
        return "in_force"
    try:
        number = int(str(code))
    except ValueError:
        return "pending"
    if number == 150:
        return "in_force"
    if number == 250:
        return "lapsed"
    if number == 159:
        return "expired"
    if 160 <= number <= 168:
        return "abandoned"
    return "pending"


def term_start(*, filing_date: date | None, parents: list[dict[str, Any]]) -> date | None:
    """The earliest US non-provisional filing the term runs from (35 USC 154(a)(2)). Provisional
    parents and foreign priorities do not count; a national stage counts its PCT filing date."""
    dates = [filing_date] if filing_date else []
    dates.extend(p["filing_date"] for p in parents if p["parentage"] in TERM_CHAIN_PARENTAGE and p["filing_date"])
    return min(dates) if dates else None


def maintenance_deadlines(*, grant_date: date, events: tuple[LegalEvent, ...]) -> tuple[Deadline, ...]:
    paid: set[int] = set()
    for event in events:
        match = _MAINTENANCE_PAID_CODE.match(event.code)
        if match:
            paid.add(int(match.group(1)))
            continue
        words = event.description.lower()
        if "maintenance fee" in words and ("payment" in words or "paid" in words):
            for label, index in _MAINTENANCE_YEAR_TEXT.items():
                if label in words:
                    paid.add(index)
    # A later fee cannot be paid on a patent that expired for want of an earlier one.
    highest = max(paid, default=0)
    deadlines = []
    for index, years in ((1, 3), (2, 7), (3, 11)):
        due = add_months(grant_date, years * 12 + 6)
        deadlines.append(
            Deadline(
                kind=f"maintenance_fee_{years}_5",
                due_date=due,
                window_opens=add_years(grant_date, years),
                grace_ends=add_months(due, 6),
                derived=True,
                satisfied=True if index <= highest else None,
            )
        )
    return tuple(deadlines)


def parse_application(  # noqa: PLR0912, PLR0915 - one record, read top to bottom
    body: bytes | str | dict[str, Any],
    *,
    number: str = "",
    as_of: date | None = None,
    read_at: datetime | None = None,
    source_url: str = "",
) -> RegistryRecord:
    """An ODP application answer (full, or one of its sections) as a RegistryRecord."""
    raw = body if isinstance(body, bytes | str) else None
    data = load_json(raw, office=OFFICE, url=source_url) if raw is not None else body
    items = _bag(data, url=source_url)
    wanted = re.sub(r"\D", "", number) if number and not number.upper().startswith("PCT") else number
    item = next(
        (i for i in items if wanted and clean(_flat(i).get("applicationNumberText")) == wanted),
        items[0],
    )
    meta = _flat(item)
    read_at = read_at or datetime.now(tz=UTC)
    as_of = as_of or read_at.date()
    derived: list[str] = []
    notes: list[str] = []
    sections = set()
    if any(k in meta for k in ("applicationStatusCode", "applicationStatusDescriptionText")):
        sections.add("biblio")
    else:
        # A section-only answer (continuity, adjustment, ...) has no status: reading one as a
        # record would invent a "pending" right. Those answers have their own parse_* functions.
        raise RegistryMalformed("the answer carries no application status", office=OFFICE, url=source_url)
    if "assignmentBag" in item:
        sections.add("assignments")
    if "continuityBag" in item or "parentContinuityBag" in item or "childContinuityBag" in item:
        sections.add("continuity")
    if "patentTermAdjustmentData" in item:
        sections.add("pta")
    if "transactionContentBag" in item or "eventDataBag" in item:
        sections.add("transactions")

    type_code = clean(meta.get("applicationTypeCode")).upper()
    if not type_code:
        label = clean(meta.get("applicationTypeLabelName")).lower()
        type_code = {"utility": "UTL", "design": "DES", "plant": "PLT", "provisional": "PRV", "reissue": "REI"}.get(
            label, ""
        )
    subkind = SUBKIND_BY_TYPE.get(type_code, type_code.lower())

    filing_date = parse_date(meta.get("filingDate"))
    grant_date = parse_date(meta.get("grantDate"))
    patent_number = clean(meta.get("patentNumber"))
    status_code = clean(meta.get("applicationStatusCode"))
    status_text = clean(meta.get("applicationStatusDescriptionText"))
    status: Status = status_normalise(status_code, status_text)

    assignments = parse_assignments(item.get("assignmentBag"))
    parents, kids = parse_continuity(item)
    events = parse_transactions(item)
    pta_days = parse_adjustment(item)

    # Owners of record: the assignees of the latest recorded transfer of ownership; failing
    # that the applicants (the owner under the AIA); failing that the inventors.
    owners: tuple[Party, ...] = ()
    transfers = sorted(
        (a for a in assignments if a.kind in ("assignment", "merger", "change_of_name") and a.assignees),
        key=lambda a: a.recorded_date or date.min,
    )
    if transfers:
        owners = tuple(
            Party(name=p.name, address=p.address, country=p.country, role="assignee of record")
            for p in transfers[-1].assignees
        )
        notes.append(f"owner read from the latest recorded transfer, reel/frame {transfers[-1].reel_frame}")
    else:
        applicants = []
        for entry in as_list(meta.get("applicantBag")):
            if isinstance(entry, dict) and _party_name(entry):
                address, country = _address(next(iter(as_list(entry.get("correspondenceAddressBag"))), None))
                applicants.append(
                    Party(
                        name=_party_name(entry),
                        address=address,
                        country=country or clean(entry.get("countryCode")),
                        role="applicant",
                    )
                )
        if not applicants and clean(meta.get("firstApplicantName")):
            applicants.append(Party(name=clean(meta.get("firstApplicantName")), role="applicant"))
        if applicants:
            owners = tuple(applicants)
        else:
            owners = tuple(
                Party(name=_party_name(e), role="inventor")
                for e in as_list(meta.get("inventorBag"))
                if isinstance(e, dict) and _party_name(e)
            )
            if owners:
                notes.append("no applicant or assignment on record: the inventors are taken as owners")

    earliest = None
    expiry = None
    deadlines: tuple[Deadline, ...] = ()
    if subkind in ("utility", "plant"):
        earliest = term_start(filing_date=filing_date, parents=parents)
        if earliest:
            derived.append("earliest_filing_date")
        if grant_date and earliest:
            expiry = add_years(earliest, 20) + timedelta(days=pta_days or 0)
            derived.append("expiry_date")
            if pta_days is None:
                notes.append("no patent term adjustment data: expiry computed without PTA")
        if grant_date and subkind == "utility":
            deadlines = maintenance_deadlines(grant_date=grant_date, events=events)
            derived.append("deadlines")
    elif subkind == "design" and grant_date:
        years = 15 if filing_date and filing_date >= DESIGN_15_YEAR_FILING_DATE else 14
        expiry = add_years(grant_date, years)
        derived.append("expiry_date")
    elif subkind == "reissue":
        notes.append("a reissue runs for the unexpired term of the original patent: expiry not derived")
    if any("terminal disclaimer" in e.description.lower() for e in events):
        notes.append("a terminal disclaimer is on record: the patent may expire before the derived date")

    if status == "in_force" and expiry and as_of > expiry:
        status = "expired"
        derived.append("status")
    next_due = None
    if status == "in_force" and deadlines:
        next_due = next_deadline(deadlines, as_of=as_of)
        derived.append("next_due")
        if next_due and next_due.in_grace(as_of=as_of):
            status = "grace"
            derived.append("status")
        elif next_due and next_due.overdue(as_of=as_of):
            notes.append(
                f"{next_due.kind} was due {next_due.due_date} with grace to {next_due.grace_ends}; "
                "the register does not show it paid"
            )

    pub_number = clean(meta.get("earliestPublicationNumber"))
    return RegistryRecord(
        office="USPTO",
        source=OFFICE,
        kind="patent",
        subkind=subkind,
        application_number=clean(meta.get("applicationNumberText")),
        patent_number=patent_number,
        publication_number=pub_number,
        title=clean(meta.get("inventionTitle")),
        status=status,
        status_code=status_code,
        status_text=status_text,
        status_date=parse_date(meta.get("applicationStatusDate")),
        owners=owners,
        filing_date=filing_date,
        earliest_filing_date=earliest,
        grant_date=grant_date,
        publication_date=parse_date(meta.get("earliestPublicationDate")),
        expiry_date=expiry,
        deadlines=deadlines,
        next_due=next_due,
        classification_scheme="CPC",
        classes=tuple(clean(c) for c in as_list(meta.get("cpcClassificationBag")) if clean(c)),
        assignments=assignments,
        events=events,
        pta_days=pta_days,
        related_applications=tuple(dict.fromkeys(p["number"] for p in [*parents, *kids] if p["number"])),
        sections=frozenset(sections),
        derived=tuple(dict.fromkeys(derived)),
        notes=tuple(notes),
        source_url=source_url,
        raw_sha256=sha256_hex(raw.encode() if isinstance(raw, str) else raw) if raw is not None else "",
        read_at=read_at,
    )


def parse_search(body: bytes | str, *, source_url: str = "") -> list[str]:
    """Application numbers in a search answer, in the office's order."""
    data = load_json(body, office=OFFICE, url=source_url)
    try:
        items = _bag(data, url=source_url)
    except RegistryNotFound:
        return []
    return [clean(_flat(i).get("applicationNumberText")) for i in items if clean(_flat(i).get("applicationNumberText"))]


# --- client -------------------------------------------------------------------------------------------------


class UsptoOdpClient:
    """Reads US patent applications from the Open Data Portal (or the sandbox registry)."""

    def __init__(
        self, *, base_url: str | None = None, api_key: str | None = None, http: RegistryHttp | None = None
    ) -> None:
        self.base_url = (base_url or settings.USPTO_ODP_BASE_URL).rstrip("/")
        self.api_key = api_key if api_key is not None else settings.USPTO_ODP_API_KEY
        self.http = http or RegistryHttp(office=OFFICE)

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.http.get(
            f"{self.base_url}{path}",
            params=params,
            headers={"X-API-KEY": self.api_key, "Accept": "application/json"},
            expect="json",
        )

    def _path(self, number: str, section: str = "") -> str:
        normalised = application_number_normalise(number)
        return f"{API_PREFIX}/{quote(normalised, safe='')}{'/' + section if section else ''}"

    def application(self, number: str, *, as_of: date | None = None) -> RegistryRecord:
        """The full record of one application: status, parties, assignments, continuity, PTA, events."""
        response = self._get(self._path(number))
        return parse_application(
            response.body,
            number=application_number_normalise(number),
            as_of=as_of,
            read_at=response.read_at,
            source_url=response.url,
        )

    def assignments(self, number: str) -> tuple[AssignmentRecord, ...]:
        response = self._get(self._path(number, "assignment"))
        return parse_assignments(load_json(response.body, office=OFFICE, url=response.url))

    def continuity(self, number: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        response = self._get(self._path(number, "continuity"))
        return parse_continuity(load_json(response.body, office=OFFICE, url=response.url))

    def adjustment(self, number: str) -> int | None:
        response = self._get(self._path(number, "adjustment"))
        return parse_adjustment(load_json(response.body, office=OFFICE, url=response.url))

    def transactions(self, number: str) -> tuple[LegalEvent, ...]:
        response = self._get(self._path(number, "transactions"))
        return parse_transactions(load_json(response.body, office=OFFICE, url=response.url))

    def application_number_for_patent(self, patent_number: str) -> str:
        """The application a granted US patent issued from."""
        wanted = patent_number_normalise(patent_number)
        for field_name in PATENT_NUMBER_FIELDS:
            try:
                response = self._get(f"{API_PREFIX}/search", {"q": f"{field_name}:{wanted}", "limit": 1})
            except RegistryNotFound:
                continue
            numbers = parse_search(response.body, source_url=response.url)
            if numbers:
                return numbers[0]
        raise RegistryNotFound(f"no application issued as patent {patent_number}", office=OFFICE)

    def patent(self, patent_number: str, *, as_of: date | None = None) -> RegistryRecord:
        return self.application(self.application_number_for_patent(patent_number), as_of=as_of)

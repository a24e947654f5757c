"""USPTO TSDR: US trade mark status, in ST.96 XML (both schema versions) and JSON.

Paths (relative to `USPTO_TSDR_BASE_URL`, the key in the `USPTO-API-KEY` header):
    GET /ts/cd/casestatus/sn{serial}/info.xml    ST.96 XML by serial number
    GET /ts/cd/casestatus/rn{registration}/info.xml
    GET /ts/cd/casestatus/sn{serial}/info        JSON

ST.96 moved namespaces between versions (`.../XMLSchema/Trademark/1` in ST-961_D3,
`.../ST96/Trademark` in ST-962.2.1) and renamed a few wrappers (AssignorBag); elements are found
by local name so either reads the same.

The owner of record is the party group with the highest party type (TSDR numbers them in the
order a mark's life goes: 10 original applicant ... 30 original registrant, 31 owner after
registration ...). The next maintenance deadline is derived (DESIGN.md): a section 8
declaration between the 5th and 6th years after registration, then sections 8 and 9 every 10
years, each with a 6-month grace period.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any
from xml.etree.ElementTree import Element

from django.conf import settings

from verification.registries.http import InvalidRegistryNumber, RegistryHttp, RegistryMalformed, RegistryNotFound
from verification.registries.parsing import (
    as_list,
    attr,
    child,
    children,
    clean,
    descendants,
    first,
    load_json,
    load_xml,
    local,
    text_of,
)
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

OFFICE = "tsdr"


def case_id(number: str) -> str:
    """'sn78787878', '78787878' (serial, 8 digits), 'rn2178784', 'Reg. No. 2,178,784' (7 digits)."""
    text = str(number).strip().lower()
    prefix = ""
    match = re.match(r"^(sn|rn|reg\.?\s*no\.?|serial\s*no\.?)\s*", text)
    if match:
        prefix = "rn" if match.group(1).startswith(("rn", "reg")) else "sn"
        text = text[match.end() :]
    digits = re.sub(r"[\s,./-]", "", text)
    if not digits.isdigit():
        raise InvalidRegistryNumber(f"not a US trade mark serial or registration number: {number!r}", office=OFFICE)
    if not prefix:
        if len(digits) == 8:
            prefix = "sn"
        elif len(digits) <= 7:
            prefix = "rn"
        else:
            raise InvalidRegistryNumber(f"cannot tell serial from registration number: {number!r}", office=OFFICE)
    if prefix == "sn" and len(digits) != 8:
        raise InvalidRegistryNumber(f"a serial number has 8 digits: {number!r}", office=OFFICE)
    return f"{prefix}{digits}"


def status_normalise(code: object, text: str = "", tm5: str = "") -> Status:  # noqa: PLR0911 - a rule table
    """TSDR's status code and words to ours. The words decide where they are clear; the code
    ranges (6xx dead applications, 7xx registrations, 8xx renewed, 9xx expired) back them up."""
    words = f"{text} {tm5}".lower()
    if "cancel" in words:
        return "cancelled"
    if "expired" in words:
        return "expired"
    if "abandon" in words or "dead/application" in words:
        return "abandoned"
    if "live/registration" in words or "registration has been renewed" in words or "registered" in words:
        return "in_force"
    try:
        number = int(str(code))
    except ValueError:
        return "pending"
    if 600 <= number < 700:
        return "abandoned"
    if 700 <= number < 900:
        return "in_force"
    if number >= 900:
        return "expired"
    return "pending"


def us_trademark_deadlines(
    *, registration_date: date, renewal_date: date | None, section_8_accepted: bool
) -> tuple[Deadline, ...]:
    """Section 8 (years 5-6) and sections 8 & 9 (every 10 years), each with 6 months' grace.
    A deadline is met if the register shows a renewal at or after it (or, for the first
    section 8, an accepted declaration)."""
    deadlines = []
    six = add_years(registration_date, 6)
    deadlines.append(
        Deadline(
            kind="section_8",
            due_date=six,
            window_opens=add_years(registration_date, 5),
            grace_ends=add_months(six, 6),
            satisfied=True if section_8_accepted or renewal_date else None,
        )
    )
    last = renewal_date or registration_date
    decade = 10
    while True:
        due = add_years(registration_date, decade)
        satisfied = True if renewal_date and due <= renewal_date else None
        deadlines.append(
            Deadline(
                kind="section_8_9_renewal",
                due_date=due,
                window_opens=add_years(due, -1),
                grace_ends=add_months(due, 6),
                satisfied=satisfied,
            )
        )
        if due > last:
            break
        decade += 10
    return tuple(deadlines)


def _finish(
    *,
    as_of: date,
    status: Status,
    registration_date: date | None,
    renewal_date: date | None,
    section_8_accepted: bool,
    derived: list[str],
    notes: list[str],
) -> tuple[Status, tuple[Deadline, ...], Deadline | None]:
    if status != "in_force" or not registration_date:
        return status, (), None
    deadlines = us_trademark_deadlines(
        registration_date=registration_date, renewal_date=renewal_date, section_8_accepted=section_8_accepted
    )
    nxt = next_deadline(deadlines, as_of=as_of)
    derived.extend(["deadlines", "next_due"])
    if nxt and nxt.in_grace(as_of=as_of):
        status = "grace"
        derived.append("status")
    elif nxt and nxt.overdue(as_of=as_of):
        notes.append(f"{nxt.kind} was due {nxt.due_date} with grace to {nxt.grace_ends}; the register shows no filing")
    return status, deadlines, nxt


# --- XML -----------------------------------------------------------------------------------------------


def _contact_party(node: Element | None, *, role: str = "") -> Party:
    contact = child(node, "Contact") if node is not None else None
    name_node = child(contact, "Name")
    name = (
        text_of(name_node, "EntityName")
        or text_of(name_node, "OrganizationName", "OrganizationStandardName")
        or text_of(name_node, "PersonName", "PersonFullName")
        or " ".join(
            t
            for t in (text_of(name_node, "PersonName", "FirstName"), text_of(name_node, "PersonName", "LastName"))
            if t
        )
    )
    lines: list[str] = []
    country = ""
    address = first(contact, "PostalAddress")
    if address is not None:
        structured = child(address, "PostalStructuredAddress")
        if structured is not None:
            lines.extend((n.text or "").strip() for n in children(structured, "AddressLineText"))
            lines.extend(
                text_of(structured, key) for key in ("CityName", "GeographicRegionName", "PostalCode", "CountryCode")
            )
            country = text_of(structured, "CountryCode")
        lines.extend((n.text or "").strip() for n in children(address, "PostalAddressText"))
    return Party(
        name=" ".join(name.split()),
        address=", ".join(line for line in lines if line),
        country=country or text_of(node, "IncorporationCountryCode"),
        role=role,
        entity_type=text_of(node, "LegalEntityName"),
    )


def _xml_assignment(node: Element) -> AssignmentRecord:
    identifier = text_of(node, "AssignmentIdentifier")
    reel = frame = ""
    for doc in descendants(node, "DocumentIdentifier"):
        match = re.search(r"assignment-tm-(\d+)-(\d+)", doc.text or "")
        if match:
            reel, frame = match.groups()
            break
    if not reel and identifier.isdigit() and len(identifier) > 4:
        reel, frame = identifier[:-4], identifier[-4:]
    text = text_of(node, "AssignmentConveyanceCategory") or text_of(node, "ConveyanceText")
    return AssignmentRecord(
        conveyance_text=text,
        kind=conveyance_kind(text),
        reel=reel,
        frame=frame,
        identifier=identifier,
        assignors=tuple(_contact_party(a, role="assignor") for a in descendants(node, "Assignor")),
        assignees=tuple(_contact_party(a, role="assignee") for a in descendants(node, "Assignee")),
        recorded_date=parse_date(text_of(node, "AssignmentRecordedDate")),
        execution_date=parse_date(text_of(node, "AssignmentExecutedDate")),
        received_date=parse_date(text_of(node, "AssignmentReceivedDate")),
        page_count=int(text_of(node, "PageTotalQuantity")) if text_of(node, "PageTotalQuantity").isdigit() else None,
    )


def parse_status_xml(
    body: bytes | str, *, as_of: date | None = None, read_at: datetime | None = None, source_url: str = ""
) -> RegistryRecord:
    root = load_xml(body, office=OFFICE, url=source_url)
    mark = first(root, "Trademark")
    if mark is None:
        if local(root.tag) in ("TrademarkTransaction", "Transaction"):
            raise RegistryNotFound("the answer holds no trade mark", office=OFFICE, url=source_url)
        raise RegistryMalformed(f"not a TSDR status document (root {local(root.tag)})", office=OFFICE, url=source_url)
    read_at = read_at or datetime.now(tz=UTC)
    as_of = as_of or read_at.date()
    derived: list[str] = []
    notes: list[str] = []
    national = child(mark, "NationalTrademarkInformation")

    code = text_of(mark, "MarkCurrentStatusCode")
    text = text_of(national, "MarkCurrentStatusExternalDescriptionText")
    status = status_normalise(code, text)

    applicants = list(descendants(child(mark, "ApplicantBag"), "Applicant"))
    owners: tuple[Party, ...] = ()
    if applicants:

        def rank(node: Element) -> int:
            value = attr(node, "sequenceNumber")
            return int(value) if value.isdigit() else 0

        top = max(rank(a) for a in applicants)
        owners = tuple(
            _contact_party(a, role=text_of(a, "Version", "CommentText") or text_of(a, "CommentText"))
            for a in applicants
            if rank(a) == top
        )

    nice = []
    primary = []
    for classification in descendants(mark, "GoodsServicesClassification"):
        kind = text_of(classification, "ClassificationKindCode")
        number = text_of(classification, "ClassNumber")
        if number and kind == "Nice":
            nice.append(number)
        elif number and kind == "Primary":
            primary.append(number)
    classes = tuple(dict.fromkeys(nice or primary))

    events = []
    for event in descendants(mark, "MarkEvent"):
        events.append(
            LegalEvent(
                code=text_of(first(event, "NationalMarkEvent"), "MarkEventCode") or text_of(event, "MarkEventCode"),
                description=text_of(first(event, "NationalMarkEvent"), "MarkEventDescriptionText")
                or text_of(event, "MarkEventDescriptionText"),
                date=parse_date(text_of(event, "MarkEventDate")),
                country="US",
            )
        )
    assignments = tuple(_xml_assignment(a) for a in descendants(child(mark, "AssignmentBag"), "Assignment"))

    section_8 = any(
        text_of(f, "SectionText") == "8" and text_of(f, "DecisionStatusCategory").lower().startswith("accept")
        for f in descendants(national, "MaintenanceFiling")
    )
    registration_date = parse_date(text_of(mark, "RegistrationDate"))
    renewal_date = parse_date(text_of(national, "RenewalDate"))
    status, deadlines, nxt = _finish(
        as_of=as_of,
        status=status,
        registration_date=registration_date,
        renewal_date=renewal_date,
        section_8_accepted=section_8,
        derived=derived,
        notes=notes,
    )
    expiry = nxt.due_date if nxt and nxt.kind == "section_8_9_renewal" else None
    if expiry:
        derived.append("expiry_date")
    sections = {"biblio", "events"}
    if child(mark, "AssignmentBag") is not None:
        sections.add("assignments")
    raw = body.encode() if isinstance(body, str) else body
    return RegistryRecord(
        office="USPTO",
        source=OFFICE,
        kind="trademark",
        subkind=text_of(mark, "MarkCategory").lower().replace(" ", "_"),
        application_number=text_of(mark, "ApplicationNumber", "ApplicationNumberText"),
        registration_number=text_of(mark, "RegistrationNumber"),
        title=text_of(first(mark, "WordMarkSpecification"), "MarkVerbalElementText"),
        status=status,
        status_code=code,
        status_text=text,
        status_date=parse_date(text_of(mark, "MarkCurrentStatusDate")),
        owners=owners,
        filing_date=parse_date(text_of(mark, "ApplicationDate")),
        registration_date=registration_date,
        publication_date=parse_date(text_of(first(mark, "Publication"), "PublicationDate")),
        expiry_date=expiry,
        deadlines=deadlines,
        next_due=nxt,
        classification_scheme="Nice",
        classes=classes,
        assignments=assignments,
        events=tuple(events),
        sections=frozenset(sections),
        derived=tuple(dict.fromkeys(derived)),
        notes=tuple(notes),
        source_url=source_url,
        raw_sha256=sha256_hex(raw),
        read_at=read_at,
    )


# --- JSON --------------------------------------------------------------------------------------------------


def _json_party(entry: dict[str, Any]) -> Party:
    region = entry.get("addressStateCountry") or {}
    iso = (region.get("iso") or {}) if isinstance(region, dict) else {}
    state = ((region.get("stateCountry") or {}) if isinstance(region, dict) else {}).get("code")
    lines = [entry.get("address1"), entry.get("address2"), entry.get("city"), state, entry.get("zip"), iso.get("code")]
    entity = entry.get("entityType") or {}
    return Party(
        name=clean(entry.get("name")),
        address=", ".join(clean(x) for x in lines if clean(x)),
        country=clean(iso.get("code")),
        role=clean(entry.get("partyTypeDescription")),
        entity_type=clean(entity.get("description")) if isinstance(entity, dict) else "",
    )


def parse_status_json(
    body: bytes | str, *, as_of: date | None = None, read_at: datetime | None = None, source_url: str = ""
) -> RegistryRecord:
    data = load_json(body, office=OFFICE, url=source_url)
    if not isinstance(data, dict) or "trademarks" not in data:
        raise RegistryMalformed("not a TSDR status answer (no 'trademarks')", office=OFFICE, url=source_url)
    marks = [m for m in as_list(data["trademarks"]) if isinstance(m, dict)]
    if not marks:
        raise RegistryNotFound("the answer holds no trade mark", office=OFFICE, url=source_url)
    mark = marks[0]
    status_block = mark.get("status")
    if not isinstance(status_block, dict):
        raise RegistryMalformed("the trade mark has no status block", office=OFFICE, url=source_url)
    read_at = read_at or datetime.now(tz=UTC)
    as_of = as_of or read_at.date()
    derived: list[str] = []
    notes: list[str] = []

    code = clean(status_block.get("status"))
    text = clean(status_block.get("extStatusDesc"))
    tm5 = clean(status_block.get("tm5StatusDesc"))
    status = status_normalise(code, text, tm5)

    groups = (mark.get("parties") or {}).get("ownerGroups") or {}
    owners: tuple[Party, ...] = ()
    if isinstance(groups, dict) and groups:
        numeric = {int(k): v for k, v in groups.items() if str(k).isdigit()}
        if numeric:
            owners = tuple(_json_party(p) for p in as_list(numeric[max(numeric)]) if isinstance(p, dict))

    classes = []
    for goods in as_list(mark.get("gsList")):
        if isinstance(goods, dict):
            for cls in as_list(goods.get("internationalClasses")):
                if isinstance(cls, dict) and clean(cls.get("code")):
                    classes.append(clean(cls.get("code")))
    events = tuple(
        LegalEvent(
            code=clean(e.get("entryCode")),
            description=clean(e.get("entryDesc")),
            date=parse_date(e.get("entryDate")),
            country="US",
        )
        for e in as_list(mark.get("prosecutionHistory"))
        if isinstance(e, dict)
    )
    registration_date = parse_date(status_block.get("usRegistrationDate") or status_block.get("registrationDate"))
    renewal_date = parse_date(status_block.get("renewalDate"))
    status, deadlines, nxt = _finish(
        as_of=as_of,
        status=status,
        registration_date=registration_date,
        renewal_date=renewal_date,
        section_8_accepted=bool(status_block.get("sect8Acpt")),
        derived=derived,
        notes=notes,
    )
    if status in ("in_force", "grace") and not registration_date:
        notes.append("the register says registered but gives no registration date: deadlines not derived")
    kind_flags = [
        ("trademark", "trademark"),
        ("serviceMark", "service_mark"),
        ("collectiveMembershipMark", "collective_membership_mark"),
        ("collectiveServiceMark", "collective_service_mark"),
        ("collectiveTradeMark", "collective_trademark"),
        ("certificationMark", "certification_mark"),
    ]
    subkind = next((name for flag, name in kind_flags if status_block.get(flag) is True), "")
    raw = body.encode() if isinstance(body, str) else body
    return RegistryRecord(
        office="USPTO",
        source=OFFICE,
        kind="trademark",
        subkind=subkind,
        application_number=clean(status_block.get("serialNumber")),
        registration_number=clean(status_block.get("usRegistrationNumber")),
        title=clean(status_block.get("markElement")),
        status=status,
        status_code=code,
        status_text=text or tm5,
        status_date=parse_date(status_block.get("statusDate")),
        owners=owners,
        filing_date=parse_date(status_block.get("filingDate")),
        registration_date=registration_date,
        expiry_date=nxt.due_date if nxt and nxt.kind == "section_8_9_renewal" else None,
        deadlines=deadlines,
        next_due=nxt,
        classification_scheme="Nice",
        classes=tuple(dict.fromkeys(classes)),
        events=events,
        # The JSON status carries no assignment history: "assignments" is deliberately absent.
        sections=frozenset({"biblio", "events"}),
        derived=tuple(dict.fromkeys(derived)),
        notes=tuple(notes),
        source_url=source_url,
        raw_sha256=sha256_hex(raw),
        read_at=read_at,
    )


# --- client ----------------------------------------------------------------------------------------------------


class TsdrClient:
    """Reads US trade mark status from TSDR (or the sandbox registry)."""

    def __init__(
        self, *, base_url: str | None = None, api_key: str | None = None, http: RegistryHttp | None = None
    ) -> None:
        self.base_url = (base_url or settings.USPTO_TSDR_BASE_URL).rstrip("/")
        self.api_key = api_key if api_key is not None else settings.USPTO_TSDR_API_KEY
        self.http = http or RegistryHttp(office=OFFICE)

    def status(self, serial_or_registration: str, *, as_of: date | None = None) -> RegistryRecord:
        """The ST.96 XML status: the fullest answer (owners, events, assignments, renewals)."""
        response = self.http.get(
            f"{self.base_url}/ts/cd/casestatus/{case_id(serial_or_registration)}/info.xml",
            headers={"USPTO-API-KEY": self.api_key, "Accept": "application/xml"},
            expect="xml",
        )
        return parse_status_xml(response.body, as_of=as_of, read_at=response.read_at, source_url=response.url)

    def status_json(self, serial_or_registration: str, *, as_of: date | None = None) -> RegistryRecord:
        response = self.http.get(
            f"{self.base_url}/ts/cd/casestatus/{case_id(serial_or_registration)}/info",
            headers={"USPTO-API-KEY": self.api_key, "Accept": "application/json"},
            expect="json",
        )
        return parse_status_json(response.body, as_of=as_of, read_at=response.read_at, source_url=response.url)

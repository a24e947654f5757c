"""Reading the shared public data into seeds for the sandbox register.

Minimal readers of our own (the sandbox imports nothing from `verification`): each turns one
source into `EntrySeed`s and `AssignmentSeed`s holding only the facts that source states. The
service `register_seed` in `services` writes them.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import yaml

from sandbox_registry.models import Kind, Office, PartyRole
from sandbox_registry.vocabulary import us_patent_status

NASA = "National Aeronautics and Space Administration"


@dataclass
class EntrySeed:
    kind: str
    fields: dict[str, Any]
    parties: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def keys(self) -> list[tuple[str, str, str]]:
        """The numbers this right is known by: a second seed sharing any of them is the same right."""
        keys = []
        for name in ("application_number", "patent_number", "registration_number", "publication_number"):
            value = self.fields.get(name) or ""
            if value and not (name == "application_number" and self.kind == Kind.EU_DESIGN):
                keys.append((self.kind, name, value))
        return keys


@dataclass
class AssignmentSeed:
    register: str
    fields: dict[str, Any]
    parties: list[dict[str, Any]]
    properties: list[tuple[str, str, str]]  # (kind, number field, number)


@dataclass
class Seeds:
    entries: list[EntrySeed] = field(default_factory=list)
    assignments: list[AssignmentSeed] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)

    def count(self, source: str, n: int = 1) -> None:
        self.sources[source] = self.sources.get(source, 0) + n


# --- small helpers ------------------------------------------------------------------------------------


def day(value: object) -> date | None:
    """2016-09-02, 20020423, 1995-02-07-05:00, 2006-09-14T04:00:00Z, 9/18/2012; 0001-01-01 is none."""
    text = str(value or "").strip()
    match = re.match(r"^(\d{4})-?(\d{2})-?(\d{2})", text)
    if match:
        year, month, dd = (int(g) for g in match.groups())
    else:
        match = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", text)
        if not match:
            return None
        month, dd, year = (int(g) for g in match.groups())
    if year <= 1900:
        return None
    try:
        return date(year, month, dd)
    except ValueError:
        return None


def clean(value: object) -> str:
    text = " ".join(str(value if value is not None else "").split())
    return "" if text.upper() == "NULL" else text


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def kids(node: Element | None, name: str) -> list[Element]:
    return [] if node is None else [c for c in node if local(c.tag) == name]


def kid(node: Element | None, name: str) -> Element | None:
    found = kids(node, name)
    return found[0] if found else None


def deep(node: Element | None, name: str) -> Iterator[Element]:
    if node is not None:
        yield from (n for n in node.iter() if local(n.tag) == name)


def text(node: Element | None, *path: str) -> str:
    for name in path:
        node = kid(node, name)
    return clean(node.text) if node is not None else ""


def attr(node: Element, name: str) -> str:
    return next((v for k, v in node.attrib.items() if local(k) == name), "")


def us_patent_number(value: str) -> str:
    """'5,866,518', 'US-8271025-B2', 'D628,609', 'RE43,880' -> '5866518', '8271025', 'D628609', 'RE43880'."""
    raw = clean(value).upper().replace(",", "").replace(" ", "")
    raw = re.sub(r"^US-?", "", raw)
    raw = re.sub(r"-?(A|B1|B2|C1|C2|E|E1|S|S1|P2|P3)$", "", raw)
    match = re.fullmatch(r"(D|PP|RE|H|T)?0*(\d{1,8})", raw)
    return f"{match.group(1) or ''}{match.group(2)}" if match else ""


def us_application_number(value: str) -> str:
    digits = re.sub(r"[\s/,.-]", "", clean(value))
    return digits if re.fullmatch(r"\d{8}", digits) else ""


def patent_type(number: str) -> str:
    if number.startswith("D"):
        return "DES"
    if number.startswith("PP"):
        return "PLT"
    if number.startswith("RE"):
        return "REI"
    return "UTL"


def us_patent_seed(
    *,
    source: str,
    application_number: str = "",
    patent_number: str = "",
    title: str = "",
    filing_date: date | None = None,
    grant_date: date | None = None,
    expiry_date: date | None = None,
    parties: list[dict[str, Any]] | None = None,
    today: date,
) -> EntrySeed:
    kind_code = patent_type(patent_number)
    code, status_text = us_patent_status(
        application_type=kind_code,
        filing_date=filing_date,
        grant_date=grant_date,
        stated_expiry=expiry_date,
        granted=bool(patent_number),
        today=today,
    )
    return EntrySeed(
        kind=Kind.US_PATENT,
        fields={
            "office": Office.USPTO,
            "application_type": kind_code,
            "application_number": application_number,
            "patent_number": patent_number,
            "title": title[:500],
            "status_code": code,
            "status_text": status_text,
            "filing_date": filing_date,
            "grant_date": grant_date,
            "expiry_date": expiry_date,
            "source": source,
        },
        parties=parties or [],
    )


# --- USPTO ODP ----------------------------------------------------------------------------------------


def _odp_party(entry: dict[str, Any], *, role: str, sequence: int) -> dict[str, Any]:
    name = clean(entry.get("applicant") or entry.get("applicantNameText") or entry.get("inventorNameText"))
    if not name:
        name = " ".join(clean(entry.get(k)) for k in ("firstName", "middleName", "lastName") if clean(entry.get(k)))
    addresses = [a for a in entry.get("correspondenceAddressBag") or [] if isinstance(a, dict)]
    address = addresses[0] if addresses else {}
    return {
        "role": role,
        "sequence": sequence,
        "name": name,
        "address_line_1": clean(address.get("addressLineOneText")),
        "address_line_2": clean(address.get("addressLineTwoText")),
        "city": clean(address.get("cityName")),
        "region": clean(address.get("geographicRegionCode")),
        "postal_code": clean(address.get("postalCode")),
        "country_code": clean(address.get("countryCode"))[:2],
    }


def _odp_assignment(entry: dict[str, Any], application_number: str) -> AssignmentSeed | None:
    reel, frame = clean(entry.get("reelNumber")), clean(entry.get("frameNumber"))
    if (not reel or not frame) and "/" in clean(entry.get("reelNumber/frameNumber")):
        reel, frame = clean(entry.get("reelNumber/frameNumber")).split("/", 1)
    recorded = day(entry.get("assignmentRecordedDate"))
    if not (reel.isdigit() and frame.isdigit() and recorded):
        return None
    parties = [
        {"role": "assignor", "name": clean(a.get("assignorName")), "execution_date": day(a.get("executionDate"))}
        for a in entry.get("assignorBag") or []
        if isinstance(a, dict) and clean(a.get("assignorName"))
    ]
    for a in entry.get("assigneeBag") or []:
        if isinstance(a, dict) and clean(a.get("assigneeNameText")):
            address = a.get("assigneeAddress") or {}
            parties.append(
                {
                    "role": "assignee",
                    "name": clean(a.get("assigneeNameText")),
                    "address_line_1": clean(address.get("addressLineOneText")),
                    "address_line_2": clean(address.get("addressLineTwoText")),
                    "city": clean(address.get("cityName")),
                    "region": clean(address.get("geographicRegionCode")),
                    "postal_code": clean(address.get("postalCode")),
                    "country_name": clean(address.get("countryName")),
                }
            )
    pages = entry.get("pageNumber")
    correspondents = [c for c in entry.get("correspondenceAddress") or [] if isinstance(c, dict)]
    return AssignmentSeed(
        register="patent",
        fields={
            "reel": int(reel),
            "frame": int(frame),
            "conveyance_text": clean(entry.get("conveyanceText")),
            "recorded_date": recorded,
            "received_date": day(entry.get("assignmentReceivedDate")),
            "page_count": int(str(pages)) if str(pages or "").isdigit() else None,
            "correspondent_name": clean(correspondents[0].get("correspondentNameText")) if correspondents else "",
        },
        parties=parties,
        properties=[(Kind.US_PATENT, "application_number", application_number)],
    )


def _odp_relative(entry: dict[str, Any], *, number: str, parent: str, relation: str, source: str) -> EntrySeed | None:
    code, status_text = clean(entry.get("applicationStatusCode")), clean(entry.get("applicationStatusDescriptionText"))
    if not number or not code:
        return None
    return EntrySeed(
        kind=Kind.US_PATENT,
        fields={
            "office": Office.USPTO,
            "application_number": number,
            "status_code": code,
            "status_text": status_text,
            "filing_date": day(entry.get("filingDate")),
            "parent_application_number": parent,
            "parent_relation": relation,
            "source": source,
        },
    )


def read_odp(path: Path, seeds: Seeds) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    bag = data.get("patentBag") or data.get("patentFileWrapperDataBag") or []
    for raw in bag:
        if not isinstance(raw, dict):
            continue
        item = {**raw, **(raw.get("applicationMetaData") or {})}
        number = clean(item.get("applicationNumberText"))
        if not number:
            continue  # a section answer that does not say whose it is: nothing to attribute
        source = f"registry/uspto_odp/{path.name}"
        for entry in item.get("assignmentBag") or []:
            seed = _odp_assignment(entry, number) if isinstance(entry, dict) else None
            if seed:
                seeds.assignments.append(seed)
        continuity = item.get("continuityBag") or {}
        parents = [p for p in continuity.get("parentContinuityBag") or item.get("parentContinuityBag") or [] if p]
        children = [c for c in continuity.get("childContinuityBag") or item.get("childContinuityBag") or [] if c]
        if "applicationStatusCode" not in item:
            continue
        parties = [
            _odp_party(p, role=PartyRole.APPLICANT, sequence=i)
            for i, p in enumerate(item.get("applicantBag") or [], start=1)
            if isinstance(p, dict)
        ]
        parties += [
            _odp_party(p, role=PartyRole.INVENTOR, sequence=i)
            for i, p in enumerate(item.get("inventorBag") or [], start=1)
            if isinstance(p, dict)
        ]
        pta = item.get("patentTermAdjustmentData") or {}
        parent = parents[0] if parents else {}
        seeds.entries.append(
            EntrySeed(
                kind=Kind.US_PATENT,
                fields={
                    "office": Office.USPTO,
                    "application_type": clean(item.get("applicationTypeCode")),
                    "application_number": number,
                    "patent_number": us_patent_number(clean(item.get("patentNumber"))),
                    "title": clean(item.get("inventionTitle")),
                    "status_code": clean(item.get("applicationStatusCode")),
                    "status_text": clean(item.get("applicationStatusDescriptionText")),
                    "status_date": day(item.get("applicationStatusDate")),
                    "filing_date": day(item.get("filingDate")),
                    "grant_date": day(item.get("grantDate")),
                    "publication_number": clean(item.get("earliestPublicationNumber")),
                    "publication_date": day(item.get("earliestPublicationDate")),
                    "classes": [clean(c) for c in item.get("cpcClassificationBag") or [] if clean(c)],
                    "pta_days": int(float(pta["adjustmentTotalQuantity"]))
                    if isinstance(pta, dict) and pta.get("adjustmentTotalQuantity") is not None
                    else None,
                    "parent_application_number": clean(parent.get("parentApplicationNumberText")),
                    "parent_relation": clean(parent.get("claimParentageTypeCode")),
                    "parent_filing_date": day(parent.get("filingDate")),
                    "source": source,
                },
                parties=parties,
                events=[
                    {
                        "code": clean(t.get("caseActionCode")),
                        "description": clean(t.get("caseActionDescriptionText")),
                        "date": day(t.get("recordedDate")),
                    }
                    for t in item.get("transactionContentBag") or []
                    if isinstance(t, dict) and clean(t.get("caseActionCode"))
                ],
            )
        )
        seeds.count(source)
        for p in parents:
            relative = _odp_relative(
                p,
                number=clean(p.get("parentApplicationNumberText")),
                parent="",
                relation="",
                source=source,
            )
            if relative:
                seeds.entries.append(relative)
        for c in children:
            relative = _odp_relative(
                c,
                number=clean(c.get("childApplicationNumberText")),
                parent=number,
                relation=clean(c.get("claimParentageTypeCode")),
                source=source,
            )
            if relative:
                seeds.entries.append(relative)


# --- USPTO TSDR -----------------------------------------------------------------------------------------


def _tsdr_contact(node: Element) -> dict[str, Any]:
    contact = kid(node, "Contact")
    names = kid(contact, "Name")
    name = text(names, "EntityName") or text(names, "OrganizationName", "OrganizationStandardName")
    name = name or text(names, "PersonName", "PersonFullName")
    result: dict[str, Any] = {"name": name}
    structured = next(deep(contact, "PostalStructuredAddress"), None)
    if structured is not None:
        lines = [clean(n.text) for n in kids(structured, "AddressLineText") if clean(n.text)]
        result |= {
            "address_line_1": lines[0] if lines else "",
            "address_line_2": lines[1] if len(lines) > 1 else "",
            "city": text(structured, "CityName"),
            "region": text(structured, "GeographicRegionName"),
            "postal_code": text(structured, "PostalCode"),
            "country_code": text(structured, "CountryCode")[:2],
        }
    else:
        lines = [clean(n.text) for n in deep(contact, "PostalAddressText") if clean(n.text)]
        result |= {"address_line_1": lines[0] if lines else "", "address_line_2": ", ".join(lines[1:])}
    return result


def read_tsdr_xml(path: Path, seeds: Seeds) -> None:
    root = SafeET.fromstring(path.read_bytes())
    source = f"registry/tsdr/{path.name}"
    for mark in deep(root, "Trademark"):
        national = kid(mark, "NationalTrademarkInformation")
        serial = text(mark, "ApplicationNumber", "ApplicationNumberText")
        classes = [
            text(c, "ClassNumber")
            for c in deep(mark, "GoodsServicesClassification")
            if text(c, "ClassificationKindCode") == "Nice" and text(c, "ClassNumber")
        ]
        parties = []
        for applicant in deep(kid(mark, "ApplicantBag"), "Applicant"):
            sequence = attr(applicant, "sequenceNumber")
            parties.append(
                {
                    "role": PartyRole.APPLICANT,
                    "sequence": int(sequence) if sequence.isdigit() else 10,
                    "role_text": text(applicant, "CommentText") or text(applicant, "Version", "CommentText"),
                    "entity_type": text(applicant, "LegalEntityName"),
                    "incorporation_country": text(applicant, "IncorporationCountryCode")[:2],
                    "incorporation_state": text(applicant, "IncorporationState"),
                    **_tsdr_contact(applicant),
                }
            )
        events = []
        for event in deep(mark, "MarkEvent"):
            national_event = kid(event, "NationalMarkEvent")
            events.append(
                {
                    "code": text(national_event, "MarkEventCode"),
                    "description": text(national_event, "MarkEventDescriptionText"),
                    "date": day(text(event, "MarkEventDate")),
                }
            )
        filings = [
            {
                "section": text(f, "SectionText"),
                "description": text(f, "SectionDescriptionText"),
                "decision": text(f, "DecisionStatusCategory"),
            }
            for f in deep(national, "MaintenanceFiling")
        ]
        seeds.entries.append(
            EntrySeed(
                kind=Kind.US_TRADEMARK,
                fields={
                    "office": Office.USPTO,
                    "application_type": text(mark, "MarkCategory"),
                    "application_number": serial,
                    "registration_number": text(mark, "RegistrationNumber").lstrip("0"),
                    "title": text(next(deep(mark, "WordMarkSpecification"), None), "MarkVerbalElementText"),
                    "status_code": text(mark, "MarkCurrentStatusCode"),
                    "status_text": text(national, "MarkCurrentStatusExternalDescriptionText"),
                    "status_date": day(text(mark, "MarkCurrentStatusDate")),
                    "filing_date": day(text(mark, "ApplicationDate")),
                    "registration_date": day(text(mark, "RegistrationDate")),
                    "renewal_date": day(text(national, "RenewalDate")),
                    "publication_date": day(text(next(deep(mark, "Publication"), None), "PublicationDate")),
                    "classes": list(dict.fromkeys(classes)),
                    "details": {"maintenance_filings": filings, "register": text(national, "RegisterCategory")},
                    "source": source,
                },
                parties=parties,
                events=events,
            )
        )
        seeds.count(source)
        for assignment in deep(kid(mark, "AssignmentBag"), "Assignment"):
            reel = frame = ""
            for document in deep(assignment, "DocumentIdentifier"):
                match = re.search(r"assignment-tm-(\d+)-(\d+)", document.text or "")
                if match:
                    reel, frame = match.groups()
            recorded = day(text(assignment, "AssignmentRecordedDate"))
            if not (reel and frame and recorded):
                continue
            executed = day(text(assignment, "AssignmentExecutedDate"))
            people = [
                {
                    "role": "assignor",
                    "execution_date": executed,
                    "entity_type": text(a, "LegalEntityName"),
                    **_tsdr_contact(a),
                }
                for a in deep(assignment, "Assignor")
            ] + [
                {"role": "assignee", "entity_type": text(a, "LegalEntityName"), **_tsdr_contact(a)}
                for a in deep(assignment, "Assignee")
            ]
            for person in people:
                person.pop("country_code", None)
            pages = text(assignment, "PageTotalQuantity")
            seeds.assignments.append(
                AssignmentSeed(
                    register="trademark",
                    fields={
                        "reel": int(reel),
                        "frame": int(frame),
                        "conveyance_text": text(assignment, "AssignmentConveyanceCategory"),
                        "recorded_date": recorded,
                        "received_date": day(text(assignment, "AssignmentReceivedDate")),
                        "page_count": int(pages) if pages.isdigit() else None,
                    },
                    parties=[p for p in people if p.get("name")],
                    properties=[(Kind.US_TRADEMARK, "application_number", serial)],
                )
            )


JSON_CATEGORIES = {
    "trademark": "Trademark",
    "serviceMark": "Service Mark",
    "collectiveMembershipMark": "Collective Membership Mark",
    "collectiveServiceMark": "Collective Service Mark",
    "collectiveTradeMark": "Collective Trademark",
    "certificationMark": "Certification Mark",
}


def tsdr_json_seed(data: dict[str, Any], *, source: str) -> EntrySeed | None:
    marks = [m for m in data.get("trademarks") or [] if isinstance(m, dict)]
    if not marks or not isinstance(marks[0].get("status"), dict):
        return None
    mark, status = marks[0], marks[0]["status"]
    parties = []
    for group in ((mark.get("parties") or {}).get("ownerGroups") or {}).values():
        for p in group or []:
            region = p.get("addressStateCountry") or {}
            parties.append(
                {
                    "role": PartyRole.APPLICANT,
                    "sequence": int(p.get("partyType") or 10),
                    "role_text": clean(p.get("partyTypeDescription")),
                    "name": clean(p.get("name")),
                    "entity_type": clean((p.get("entityType") or {}).get("description")),
                    "address_line_1": clean(p.get("address1")),
                    "address_line_2": clean(p.get("address2")),
                    "city": clean(p.get("city")),
                    "region": clean((region.get("stateCountry") or {}).get("code")),
                    "postal_code": clean(p.get("zip")),
                    "country_code": clean((region.get("iso") or {}).get("code"))[:2],
                }
            )
    classes = [
        clean(c.get("code"))
        for g in mark.get("gsList") or []
        for c in (g.get("internationalClasses") or [])
        if clean(c.get("code"))
    ]
    return EntrySeed(
        kind=Kind.US_TRADEMARK,
        fields={
            "office": Office.USPTO,
            "application_type": next((v for k, v in JSON_CATEGORIES.items() if status.get(k) is True), "Trademark"),
            "application_number": clean(status.get("serialNumber")),
            "registration_number": clean(status.get("usRegistrationNumber")).lstrip("0"),
            "title": clean(status.get("markElement")),
            "status_code": clean(status.get("status")),
            "status_text": clean(status.get("extStatusDesc")),
            "status_date": day(status.get("statusDate")),
            "filing_date": day(status.get("filingDate")),
            "registration_date": day(status.get("usRegistrationDate")),
            "renewal_date": day(status.get("renewalDate")),
            "classes": list(dict.fromkeys(classes)),
            "details": {"tm5_status": clean(status.get("tm5StatusDesc"))},
            "source": source,
        },
        parties=parties,
        events=[
            {
                "code": clean(e.get("entryCode")),
                "description": clean(e.get("entryDesc")),
                "date": day(e.get("entryDate")),
            }
            for e in mark.get("prosecutionHistory") or []
            if isinstance(e, dict)
        ],
    )


def read_tsdr_cassette(path: Path, seeds: Seeds) -> None:
    cassette = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    source = f"registry/tsdr/{path.name}"
    for interaction in cassette.get("interactions") or []:
        response = interaction.get("response") or {}
        if (response.get("status") or {}).get("code") != 200:
            continue
        body = (response.get("body") or {}).get("string") or ""
        try:
            data = json.loads(body)
        except ValueError:
            continue
        seed = tsdr_json_seed(data, source=source) if isinstance(data, dict) else None
        if seed:
            seeds.entries.append(seed)
            seeds.count(source)


# --- USPTO assignment search -------------------------------------------------------------------------------


def read_assignment_xml(path: Path, seeds: Seeds, *, today: date) -> None:
    root = SafeET.fromstring(path.read_bytes())
    source = f"registry/uspto_assignment/{path.name}"
    for doc in deep(root, "doc"):
        fields: dict[str, list[str]] = {}
        for node in doc:
            name = node.get("name") or ""
            fields[name] = [clean(v.text) for v in node] if local(node.tag) == "arr" else [clean(node.text)]

        def one(name: str, fields: dict[str, list[str]] = fields) -> str:
            return (fields.get(name) or [""])[0]

        def at(name: str, i: int, fields: dict[str, list[str]] = fields) -> str:
            values = fields.get(name) or []
            return values[i] if i < len(values) else ""

        recorded = day(one("recordedDate"))
        if not (one("reelNo").isdigit() and one("frameNo").isdigit() and recorded):
            continue
        parties: list[dict[str, Any]] = [
            {"role": "assignor", "name": name, "execution_date": day(at("patAssignorExDate", i))}
            for i, name in enumerate(fields.get("patAssignorName") or [])
            if name
        ]
        parties += [
            {
                "role": "assignee",
                "name": name,
                "address_line_1": at("patAssigneeAddress1", i),
                "address_line_2": at("patAssigneeAddress2", i),
                "city": at("patAssigneeCity", i),
                "region": at("patAssigneeState", i),
                "postal_code": at("patAssigneePostcode", i),
                "country_name": at("patAssigneeCountryName", i),
            }
            for i, name in enumerate(fields.get("patAssigneeName") or [])
            if name
        ]
        properties: list[tuple[str, str, str]] = []
        for i, application in enumerate(fields.get("applNum") or []):
            number = us_application_number(application)
            patent = us_patent_number(at("patNum", i))
            if not number:
                continue
            properties.append((Kind.US_PATENT, "application_number", number))
            if patent:
                inventors = (
                    [n.strip() for n in at("inventors", i).split(",") if n.strip()] if at("inventors", i) else []
                )
                seed = us_patent_seed(
                    source=source,
                    application_number=number,
                    patent_number=patent,
                    title=at("inventionTitle", i),
                    filing_date=day(at("filingDate", i)),
                    grant_date=day(at("issueDate", i)),
                    parties=[
                        {"role": PartyRole.INVENTOR, "sequence": n, "name": name}
                        for n, name in enumerate(inventors[:1], start=1)
                    ],
                    today=today,
                )
                seeds.entries.append(seed)
                seeds.count(source)
        pages = one("pageCount")
        seeds.assignments.append(
            AssignmentSeed(
                register="patent",
                fields={
                    "reel": int(one("reelNo")),
                    "frame": int(one("frameNo")),
                    "conveyance_text": one("conveyanceText"),
                    "recorded_date": recorded,
                    "page_count": int(pages) if pages.isdigit() else None,
                    "correspondent_name": one("corrName"),
                },
                parties=parties,
                properties=properties,
            )
        )


# --- EUIPO ----------------------------------------------------------------------------------------------------


def read_euipo(path: Path, seeds: Seeds) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    source = f"registry/euipo/{path.name}"
    for key, kind in (("trademarks", Kind.EU_TRADE_MARK), ("designs", Kind.EU_DESIGN)):
        for item in data.get(key) or []:
            if not isinstance(item, dict) or not clean(item.get("status")):
                continue
            parties = [
                {
                    "role": PartyRole.APPLICANT,
                    "sequence": n,
                    "name": clean(a.get("name")),
                    "identifier": clean(a.get("identifier")),
                    "country_code": clean(a.get("countryCode"))[:2],
                }
                for n, a in enumerate(item.get("applicants") or [], start=1)
                if isinstance(a, dict)
            ]
            if kind == Kind.EU_TRADE_MARK:
                extra = {
                    "application_type": clean(item.get("markFeature")),
                    "title": clean((item.get("wordMarkSpecification") or {}).get("verbalElement")),
                    "classes": [str(c).zfill(2) for c in item.get("niceClasses") or []],
                    "details": {k: item[k] for k in ("markKind", "markBasis") if item.get(k)},
                }
            else:
                extra = {
                    "registration_number": clean(item.get("designNumber")),
                    "title": clean(item.get("productIndication") or item.get("verbalElement")),
                    "classes": [clean(c) for c in item.get("locarnoClasses") or []],
                }
            status = clean(item.get("status"))
            seeds.entries.append(
                EntrySeed(
                    kind=kind,
                    fields={
                        "office": Office.EUIPO,
                        "application_number": clean(item.get("applicationNumber")),
                        "status_code": status,
                        "status_text": status.replace("_", " ").capitalize(),
                        "filing_date": day(item.get("applicationDate")),
                        "registration_date": day(item.get("registrationDate")),
                        "expiry_date": day(item.get("expiryDate")),
                        "source": source,
                        **extra,
                    },
                    parties=parties,
                )
            )
            seeds.count(source)


# --- EPO OPS ----------------------------------------------------------------------------------------------------


def _docdb(reference: Element | None) -> tuple[str, str, str, date | None]:
    for doc in kids(reference, "document-id"):
        if doc.get("document-id-type") == "docdb":
            return text(doc, "country"), text(doc, "doc-number"), text(doc, "kind"), day(text(doc, "date"))
    return "", "", "", None


def read_epo(path: Path, seeds: Seeds) -> None:
    root = SafeET.fromstring(path.read_bytes())
    source = f"registry/epo_legal/{path.name}"
    for member in deep(root, "family-member"):
        country, number, kind, published = _docdb(kid(member, "publication-reference"))
        _app_country, application, _app_kind, filed = _docdb(kid(member, "application-reference"))
        if country != "EP" or not number:
            continue
        events: list[dict[str, Any]] = []
        for legal in kids(member, "legal"):
            details = kid(legal, "L500EP")
            events.append(
                {
                    "code": (legal.get("code") or "").strip(),
                    "description": " ".join((legal.get("desc") or "").split()),
                    "effect": (legal.get("infl") or "").strip(),
                    "date": day(text(legal, "L007EP")),
                    "country": text(legal, "L001EP")[:2],
                    "details": [
                        [local(d.tag), d.get("desc") or "", clean(d.text)]
                        for d in (details if details is not None else [])
                        if clean(d.text)
                    ],
                }
            )
        statuses = [e for e in events if e["code"] == "STAA"]
        last = max(statuses, key=lambda e: e["date"] or date.min) if statuses else None
        status_text = " ".join(t for _tag, _desc, t in last["details"]).split("STATUS:", 1)[-1].strip() if last else ""
        claims = []
        for claim in kids(member, "priority-claim"):
            c_country, c_number, c_kind, c_date = _docdb(claim)
            claims.append(
                {
                    "country": c_country,
                    "number": c_number,
                    "kind": c_kind,
                    "date": c_date.strftime("%Y%m%d") if c_date else "",
                }
            )
        seeds.entries.append(
            EntrySeed(
                kind=Kind.EP_PATENT,
                fields={
                    "office": Office.EPO,
                    "application_type": "EP",
                    "application_number": f"EP{application}" if application else "",
                    "publication_number": f"{country}{number.zfill(7)}{kind}",
                    "publication_date": published,
                    "filing_date": filed,
                    "status_code": "STAA" if last else "",
                    "status_text": status_text,
                    "status_date": last["date"] if last else None,
                    "details": {"family_id": member.get("family-id") or "", "priority_claims": claims},
                    "source": source,
                },
                events=events,
            )
        )
        seeds.count(source)


# --- the demo catalogue's patents ------------------------------------------------------------------------------


def read_nasa(path: Path, seeds: Seeds, *, today: date) -> None:
    source = f"catalogue/patents/{path.name}"
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            patent = us_patent_number(row.get("Patent Number") or "")
            patent = "" if patent in ("", "0") else patent
            application = us_application_number(row.get("Serial Number") or "")
            if not (patent or application):
                continue
            expiry = day(row.get("Expiration Date"))
            city_line = clean(row.get("City State Zip"))
            match = re.match(r"^(.*?),\s*([A-Z]{2})\s+([\d-]+)$", city_line)
            centre = {
                "role": PartyRole.APPLICANT,
                "sequence": 1,
                "name": NASA,
                "role_text": clean(row.get("Facility")),
                "entity_type": "GOVERNMENT AGENCY",
                "address_line_1": clean(row.get("Address1")),
                "address_line_2": clean(row.get("Address2")),
                "city": match.group(1) if match else city_line,
                "region": match.group(2) if match else "",
                "postal_code": match.group(3) if match else "",
                "country_code": "US",
            }
            seed = us_patent_seed(
                source=source,
                application_number=application,
                patent_number=patent,
                title=clean(row.get("Title")),
                expiry_date=expiry,
                parties=[centre],
                today=today,
            )
            seed.fields["details"] = {
                "nasa_reference": clean(row.get("Reference Number")),
                "centre": clean(row.get("Center")),
            }
            seeds.entries.append(seed)
            seeds.count(source)


def read_patentsview(path: Path, seeds: Seeds, *, today: date) -> None:
    source = f"catalogue/patents/{path.name}"
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            patent = us_patent_number(row.get("patent_number") or "")
            if not patent:
                continue
            seeds.entries.append(
                us_patent_seed(
                    source=source,
                    patent_number=patent,
                    title=clean(row.get("patent_title")),
                    grant_date=day(row.get("patent_date")),
                    today=today,
                )
            )
            seeds.count(source)


def read_google(path: Path, seeds: Seeds, *, today: date) -> None:
    source = f"catalogue/patents/google/{path.name}"
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines[:3]) if line.startswith("id,")), None)
    if start is None:
        return
    for row in csv.DictReader(lines[start:]):
        identifier = clean(row.get("id"))
        granted = day(row.get("grant date"))
        if not identifier.startswith("US-") or not granted:
            continue
        # A pre-grant publication (US-2015112182-A1) has no grant date and no patent number.
        patent = us_patent_number(identifier)
        if not patent:
            continue
        parties = []
        if clean(row.get("assignee")):
            parties.append({"role": PartyRole.APPLICANT, "sequence": 1, "name": clean(row.get("assignee"))})
        for n, name in enumerate((row.get("inventor/author") or "").split(","), start=1):
            if clean(name):
                parties.append({"role": PartyRole.INVENTOR, "sequence": n, "name": clean(name)})
        seeds.entries.append(
            us_patent_seed(
                source=source,
                patent_number=patent,
                title=clean(row.get("title")),
                filing_date=day(row.get("filing/creation date")),
                grant_date=granted,
                parties=parties,
                today=today,
            )
        )
        seeds.count(source)


def shared_data_read(folder: Path, *, today: date | None = None) -> Seeds:
    """Every seed the shared data folder holds, the registry files first (their facts are the
    fullest, so they win over a catalogue row naming the same right)."""
    today = today or datetime.now().date()
    seeds = Seeds()
    registry = folder / "registry"
    odp = sorted((registry / "uspto_odp").glob("*.json"), key=lambda p: (p.name != "application.json", p.name))
    for path in odp:
        read_odp(path, seeds)
    for path in sorted((registry / "tsdr").glob("*.xml"), reverse=True):
        read_tsdr_xml(path, seeds)
    for path in sorted((registry / "tsdr").glob("*.yaml")):
        read_tsdr_cassette(path, seeds)
    for path in sorted((registry / "uspto_assignment").glob("*.xml")):
        read_assignment_xml(path, seeds, today=today)
    for path in sorted((registry / "euipo").glob("*.json")):
        read_euipo(path, seeds)
    # The fuller legal-status answer first: both examples describe EP1000000.
    for path in sorted((registry / "epo_legal").glob("*.xml"), key=lambda p: -p.stat().st_size):
        read_epo(path, seeds)
    patents = folder / "catalogue" / "patents"
    if (patents / "nasa_portfolio_2014.csv").is_file():
        read_nasa(patents / "nasa_portfolio_2014.csv", seeds, today=today)
    for path in sorted((patents / "google").glob("gp-search-*.csv")):
        read_google(path, seeds, today=today)
    for path in sorted(patents.glob("pv_*.csv")):
        read_patentsview(path, seeds, today=today)
    return seeds

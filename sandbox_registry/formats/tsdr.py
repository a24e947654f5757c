"""USPTO TSDR trade mark status: ST.96 XML (schema 2.2.1, as `rn2178784-ST-962.2.1.xml`) and the
JSON of /ts/cd/casestatus/{id}/info (as the `sn78787878` cassette)."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from sandbox_registry.formats import iso, sub, without_empty, xml_bytes
from sandbox_registry.models import AssignmentPartyRole, PartyRole, RecordedAssignment, RegisterEntry, RegisterParty

NS_COMMON = "http://www.wipo.int/standards/XMLSchema/ST96/Common"
NS_TRADEMARK = "http://www.wipo.int/standards/XMLSchema/ST96/Trademark"
NS_US = "urn:us:gov:doc:uspto:trademark"

# TSDR JSON flags the kind of mark; the XML names it in MarkCategory.
JSON_KIND_FLAGS = {
    "Trademark": "trademark",
    "Service Mark": "serviceMark",
    "Collective Membership Mark": "collectiveMembershipMark",
    "Collective Service Mark": "collectiveServiceMark",
    "Collective Trademark": "collectiveTradeMark",
    "Certification Mark": "certificationMark",
}


def _contact(
    parent: ET.Element, *, name: str, party: RegisterParty | None = None, lines: list[str] | None = None
) -> None:
    contact = sub(parent, "ns1:Contact")
    names = sub(contact, "ns1:Name")
    organisation = sub(names, "ns1:OrganizationName")
    sub(organisation, "ns1:OrganizationStandardName", name)
    sub(names, "ns1:EntityName", name)
    if party is not None and (party.address_line_1 or party.city):
        address = sub(sub(sub(contact, "ns1:PostalAddressBag"), "ns1:PostalAddress"), "ns1:PostalStructuredAddress")
        for number, line in enumerate((party.address_line_1, party.address_line_2), start=1):
            sub(address, "ns1:AddressLineText", line or None, ns1__sequenceNumber=str(number))
        for tag, value in (
            ("ns1:CityName", party.city),
            ("ns1:GeographicRegionName", party.region),
            ("ns1:CountryCode", party.country_code),
            ("ns1:PostalCode", party.postal_code),
        ):
            if value:
                sub(address, tag, value)
    elif lines:
        address = sub(sub(contact, "ns1:PostalAddressBag"), "ns1:PostalAddress")
        for line in lines:
            sub(address, "ns1:PostalAddressText", line, ns1__sequenceNumber="1")


def _legal_entity(parent: ET.Element, party: RegisterParty) -> None:
    if party.entity_type:
        sub(parent, "ns1:LegalEntityName", party.entity_type)
    if party.incorporation_country:
        sub(parent, "ns1:IncorporationCountryCode", party.incorporation_country)
    if party.incorporation_state:
        sub(parent, "ns1:IncorporationState", party.incorporation_state)


def _assignment(parent: ET.Element, assignment: RecordedAssignment) -> None:
    node = sub(parent, "ns2:Assignment")
    sub(node, "ns2:AssignmentIdentifier", f"{assignment.reel}{assignment.frame:04d}")
    sub(node, "ns2:AssignmentConveyanceCategory", assignment.conveyance_text)
    if assignment.page_count:
        sub(node, "ns1:PageTotalQuantity", assignment.page_count)
    if assignment.received_date:
        sub(node, "ns2:AssignmentReceivedDate", iso(assignment.received_date))
    sub(node, "ns2:AssignmentRecordedDate", iso(assignment.recorded_date))
    parties = list(assignment.parties.all())
    executed = [p.execution_date for p in parties if p.role == AssignmentPartyRole.ASSIGNOR and p.execution_date]
    if executed:
        sub(node, "ns2:AssignmentExecutedDate", iso(min(executed)))
    for role, bag_tag, tag in (
        (AssignmentPartyRole.ASSIGNOR, "ns2:AssignorBag", "ns2:Assignor"),
        (AssignmentPartyRole.ASSIGNEE, "ns2:AssigneeBag", "ns2:Assignee"),
    ):
        bag = sub(node, bag_tag)
        for party in parties:
            if party.role != role:
                continue
            holder = sub(bag, tag)
            if party.entity_type:
                sub(holder, "ns1:LegalEntityName", party.entity_type)
            locality = " ".join(
                x for x in (party.city + ("," if party.city else ""), party.region, party.postal_code) if x
            )
            lines = [line for line in (party.address_line_1, party.address_line_2, locality.strip(" ,")) if line]
            _contact(holder, name=party.name, lines=lines)
    documents = sub(node, "ns2:AssignmentDocumentBag")
    document = sub(documents, "ns2:TrademarkDocument")
    link = f"http://assignments.uspto.gov/assignments/assignment-tm-{assignment.reel}-{assignment.frame:04d}.pdf"
    sub(document, "ns2:DocumentCreatedDate", iso(assignment.recorded_date))
    sub(document, "ns1:DocumentIdentifier", link)


def status_xml(entry: RegisterEntry) -> bytes:  # noqa: PLR0912, PLR0915 - one document, top to bottom
    root = ET.Element(
        "ns2:TrademarkTransaction", {"xmlns:ns1": NS_COMMON, "xmlns:ns2": NS_TRADEMARK, "xmlns:ns3": NS_US}
    )
    content = sub(sub(root, "ns2:TrademarkTransactionBody"), "ns2:TransactionContentBag")
    sub(content, "ns1:TransactionCategory", "National trademark registration")
    mark = sub(sub(sub(content, "ns2:TransactionData"), "ns2:TrademarkBag"), "ns2:Trademark")
    sub(mark, "ns1:RegistrationOfficeCode", "US")
    number = sub(mark, "ns1:ApplicationNumber")
    sub(number, "ns1:IPOfficeCode", "US")
    sub(number, "ns1:ApplicationNumberText", entry.application_number)
    if entry.registration_number:
        sub(mark, "ns1:RegistrationNumber", entry.registration_number)
    if entry.filing_date:
        sub(mark, "ns2:ApplicationDate", iso(entry.filing_date))
    if entry.registration_date:
        sub(mark, "ns1:RegistrationDate", iso(entry.registration_date))
    sub(mark, "ns2:MarkCurrentStatusCode", entry.status_code)
    if entry.status_date:
        sub(mark, "ns2:MarkCurrentStatusDate", iso(entry.status_date))
    sub(mark, "ns2:MarkCategory", entry.application_type or "Trademark")
    words = sub(sub(sub(mark, "ns2:MarkRepresentation"), "ns2:MarkReproduction"), "ns2:WordMarkSpecification")
    sub(words, "ns2:MarkVerbalElementText", entry.title)
    goods = sub(sub(sub(mark, "ns2:GoodsServicesBag"), "ns2:GoodsServices"), "ns2:GoodsServicesClassificationBag")
    for kind in ("Primary", "Nice"):
        for cls in entry.classes:
            classification = sub(goods, "ns2:GoodsServicesClassification")
            sub(classification, "ns2:ClassificationKindCode", kind)
            sub(classification, "ns2:ClassNumber", cls)
        if kind == "Primary" and not entry.classes:
            break
    if entry.publication_date:
        publication = sub(sub(mark, "ns2:PublicationBag"), "ns2:Publication")
        sub(publication, "ns1:PublicationIdentifier", "USPTO Official Gazette for Trademarks (OG)")
        sub(publication, "ns1:PublicationDate", iso(entry.publication_date))
    applicants = sub(mark, "ns2:ApplicantBag")
    for party in entry.parties.all():
        if party.role != PartyRole.APPLICANT:
            continue
        node = sub(applicants, "ns2:Applicant", ns1__sequenceNumber=str(party.sequence))
        _legal_entity(node, party)
        if party.role_text:
            sub(node, "ns1:CommentText", party.role_text, ns1__sequenceNumber="1")
        _contact(node, name=party.name, party=party)
    events = sub(mark, "ns2:MarkEventBag")
    ordered = sorted(entry.events.all(), key=lambda e: (e.date is None, e.date, e.id), reverse=True)
    for position, event in zip(range(len(ordered), 0, -1), ordered, strict=True):
        node = sub(events, "ns2:MarkEvent")
        sub(node, "ns2:MarkEventCategory", "National prosecution history entry")
        national = sub(node, "ns2:NationalMarkEvent")
        sub(national, "ns2:MarkEventCode", event.code)
        sub(national, "ns2:MarkEventDescriptionText", event.description)
        sub(national, "ns2:MarkEventEntryNumber", position)
        if event.date:
            sub(node, "ns2:MarkEventDate", iso(event.date))
    recorded = [a for a in entry.assignments.all() if a.register == "trademark"]
    bag = sub(mark, "ns2:AssignmentBag")
    for assignment in recorded:
        _assignment(bag, assignment)
    sub(bag, "ns2:NationalAssignmentTotalQuantity", len(recorded))
    national = sub(mark, "ns2:NationalTrademarkInformation")
    sub(national, "ns2:RegisterCategory", entry.details.get("register", "Primary"))
    sub(national, "ns2:MarkCurrentStatusExternalDescriptionText", entry.status_text)
    if entry.renewal_date:
        sub(national, "ns2:RenewalDate", iso(entry.renewal_date))
    filings = entry.details.get("maintenance_filings") or []
    if filings:
        bag = sub(national, "ns2:MaintenanceFilingBag")
        for filing in filings:
            node = sub(bag, "ns2:MaintenanceFiling")
            sub(node, "ns2:SectionText", filing.get("section", ""))
            sub(node, "ns2:SectionDescriptionText", filing.get("description", ""))
            sub(node, "ns2:DecisionStatusCategory", filing.get("decision", ""))
    return xml_bytes(root)


def _json_party(entry: RegisterEntry, party: RegisterParty) -> dict[str, Any]:
    return {
        "serialNumber": int(entry.application_number) if entry.application_number.isdigit() else None,
        "partyType": party.sequence,
        "partyTypeDescription": party.role_text,
        "reelFrame": None,
        "entityType": {"description": party.entity_type} if party.entity_type else None,
        "name": party.name,
        "address1": party.address_line_1 or None,
        "address2": party.address_line_2 or None,
        "city": party.city or None,
        "addressStateCountry": {
            "stateCountry": {"code": party.region} if party.region else None,
            "iso": {"code": party.country_code} if party.country_code else None,
        },
        "zip": party.postal_code or None,
    }


def status_json(entry: RegisterEntry) -> dict[str, Any]:
    serial = int(entry.application_number) if entry.application_number.isdigit() else entry.application_number
    status: dict[str, Any] = {
        "serialNumber": serial,
        "filingDate": iso(entry.filing_date),
        "usRegistrationNumber": entry.registration_number,
        "usRegistrationDate": iso(entry.registration_date),
        "status": int(entry.status_code) if entry.status_code.isdigit() else entry.status_code,
        "statusDate": iso(entry.status_date),
        "extStatusDesc": entry.status_text,
        "tm5StatusDesc": entry.details.get("tm5_status", None),
        "markElement": entry.title,
        "renewalDate": iso(entry.renewal_date),
        "sect8Acpt": any(
            f.get("section") == "8" and str(f.get("decision", "")).lower().startswith("accept")
            for f in entry.details.get("maintenance_filings") or []
        ),
    }
    for category, flag in JSON_KIND_FLAGS.items():
        status[flag] = (entry.application_type or "Trademark") == category
    groups: dict[str, list[dict[str, Any]]] = {}
    for party in entry.parties.all():
        if party.role == PartyRole.APPLICANT:
            groups.setdefault(str(party.sequence), []).append(_json_party(entry, party))
    ordered = sorted(entry.events.all(), key=lambda e: (e.date is None, e.date, e.id), reverse=True)
    return {
        "trademarks": [
            {
                "status": status,
                "parties": {"ownerGroups": groups},
                "gsList": [
                    without_empty(
                        {
                            "serialNumber": serial,
                            "internationalClasses": [{"code": c} for c in entry.classes],
                            "primeClassCode": entry.classes[0] if entry.classes else None,
                        }
                    )
                ],
                "prosecutionHistory": [
                    {
                        "entryNumber": position,
                        "entryCode": event.code,
                        "entryDate": f"{iso(event.date)}T04:00:00.000+0000" if event.date else None,
                        "entryDesc": event.description,
                    }
                    for position, event in zip(range(len(ordered), 0, -1), ordered, strict=True)
                ],
            }
        ]
    }

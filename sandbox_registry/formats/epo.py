"""EPO OPS INPADOC legal status (as `registry/epo_legal/example_*.xml`)."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

from sandbox_registry.formats import compact, sub, xml_bytes
from sandbox_registry.models import RegisterEntry, RegisterEvent

NS_EXCHANGE = "http://www.epo.org/exchange"
NS_OPS = "http://ops.epo.org"
STAA_DESCRIPTION = "INFORMATION ON THE STATUS OF AN EP PATENT APPLICATION OR GRANTED EP PATENT"


def split_publication(number: str) -> tuple[str, str, str]:
    """'EP1000000A1' -> ('EP', '1000000', 'A1')."""
    match = re.fullmatch(r"([A-Z]{2})(\d+)([A-Z]\d?)?", number)
    if not match:
        return number[:2], number[2:], ""
    return match.group(1), match.group(2), match.group(3) or ""


def _document_id(parent: ET.Element, *, country: str, number: str, kind: str, day: str) -> None:
    doc = sub(parent, "document-id", **{"document-id-type": "docdb"})
    sub(doc, "country", country)
    sub(doc, "doc-number", number)
    if kind:
        sub(doc, "kind", kind)
    if day:
        sub(doc, "date", day)


def _legal(parent: ET.Element, event: RegisterEvent, *, application: str, kind: str) -> None:
    node = sub(
        parent,
        "ops:legal",
        code=event.code.ljust(4),
        desc=event.description,
        infl=event.effect or " ",
        dateMigr="00010101",
    )
    sub(node, "ops:L001EP", "EP", desc="Country Code")
    sub(node, "ops:L002EP", "F", desc="Filing / Published Document")
    sub(node, "ops:L003EP", application.rjust(12), desc="Document Number")
    sub(node, "ops:L004EP", kind, desc="Kind Code")
    sub(node, "ops:L005EP", "PI", desc="IPR Type")
    if event.date:
        sub(node, "ops:L007EP", event.date.isoformat(), desc="Gazette DATE")
    sub(node, "ops:L008EP", event.code, desc="Legal Event Code 1")
    details = sub(node, "ops:L500EP")
    for tag, description, text in event.details or []:
        sub(details, f"ops:{tag}", text, desc=description)


def legal_xml(entry: RegisterEntry) -> bytes:
    country, number, kind = split_publication(entry.publication_number)
    application = entry.application_number.removeprefix("EP")
    root = ET.Element("ops:world-patent-data", {"xmlns": NS_EXCHANGE, "xmlns:ops": NS_OPS})
    family = sub(root, "ops:patent-family", legal="true", **{"total-result-count": "1"})
    requested = sub(family, "ops:publication-reference")
    _document_id(requested, country=country, number=number, kind=kind, day="")
    member = sub(family, "ops:family-member", **{"family-id": str(entry.details.get("family_id", ""))})
    publication = sub(member, "publication-reference")
    _document_id(publication, country=country, number=number, kind=kind, day=compact(entry.publication_date))
    epodoc = sub(publication, "document-id", **{"document-id-type": "epodoc"})
    sub(epodoc, "doc-number", f"{country}{number}")
    reference = sub(member, "application-reference", **{"is-representative": "YES"})
    _document_id(reference, country="EP", number=application, kind="A", day=compact(entry.filing_date))
    for sequence, claim in enumerate(entry.details.get("priority_claims") or [], start=1):
        node = sub(member, "priority-claim", sequence=str(sequence), kind="national")
        _document_id(
            node,
            country=claim["country"],
            number=claim["number"],
            kind=claim.get("kind", ""),
            day=claim.get("date", ""),
        )
    events = sorted(entry.events.all(), key=lambda e: (e.date is None, e.date, e.id))
    for event in events:
        _legal(member, event, application=application, kind="A")
    # The register's current status is INPADOC's latest STAA event: when staff changed the status
    # in the sandbox, it reads as a new STAA entry after the recorded ones.
    last_status = next((e for e in reversed(events) if e.code == "STAA"), None)
    if entry.status_text and (last_status is None or entry.status_text not in _status_of(last_status)):
        synthetic = RegisterEvent(
            code="STAA",
            description=STAA_DESCRIPTION,
            date=entry.status_date,
            details=[["L510EP", "Free Format Text", f"STATUS: {entry.status_text}"]],
        )
        _legal(member, synthetic, application=application, kind="A")
    return xml_bytes(root, stylesheet="/3.2/style/legal.xsl").replace(b' standalone="yes"', b"")


def _status_of(event: RegisterEvent) -> str:
    return " ".join(text for _tag, _desc, text in event.details or [])


def fault_xml(code: str, message: str) -> bytes:
    root = ET.Element("fault", {"xmlns": NS_OPS})
    sub(root, "code", code)
    sub(root, "message", message)
    return xml_bytes(root).replace(b' standalone="yes"', b"")

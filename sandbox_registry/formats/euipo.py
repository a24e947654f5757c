"""EUIPO trade mark and design search lists (as `registry/euipo/*_list_size10.json`)."""

from __future__ import annotations

from typing import Any

from sandbox_registry.formats import iso, without_empty
from sandbox_registry.models import Kind, PartyRole, RegisterEntry


def _applicants(entry: RegisterEntry) -> list[dict[str, Any]]:
    return [
        without_empty({"identifier": p.identifier, "name": p.name, "office": "EM", "countryCode": p.country_code})
        for p in entry.parties.all()
        if p.role == PartyRole.APPLICANT
    ]


def trademark_item(entry: RegisterEntry) -> dict[str, Any]:
    details = entry.details or {}
    return without_empty(
        {
            "applicants": _applicants(entry),
            "applicationDate": iso(entry.filing_date),
            "applicationNumber": entry.application_number,
            "expiryDate": iso(entry.expiry_date),
            "markBasis": details.get("markBasis", "EU_TRADEMARK"),
            "markFeature": entry.application_type,
            "markKind": details.get("markKind", "INDIVIDUAL"),
            "niceClasses": [int(c) if str(c).isdigit() else c for c in entry.classes],
            "registrationDate": iso(entry.registration_date),
            "status": entry.status_code,
            "wordMarkSpecification": {"verbalElement": entry.title} if entry.title else None,
        }
    )


def design_item(entry: RegisterEntry) -> dict[str, Any]:
    return without_empty(
        {
            "designNumber": entry.registration_number,
            "applicationNumber": entry.application_number,
            "locarnoClasses": list(entry.classes),
            "applicants": _applicants(entry),
            "applicationDate": iso(entry.filing_date),
            "registrationDate": iso(entry.registration_date),
            "expiryDate": iso(entry.expiry_date),
            "productIndication": entry.title,
            "status": entry.status_code,
        }
    )


def search_page(entries: list[RegisterEntry], *, kind: str, total: int, page: int, size: int) -> dict[str, Any]:
    key, render = ("trademarks", trademark_item) if kind == Kind.EU_TRADE_MARK else ("designs", design_item)
    return {
        key: [render(e) for e in entries],
        "totalElements": total,
        "totalPages": (total + size - 1) // size if size else 0,
        "size": size,
        "page": page,
    }

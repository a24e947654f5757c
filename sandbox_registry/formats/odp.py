"""USPTO Open Data Portal JSON: the `patentBag` answer of /api/v1/patent/applications/...

Shaped after `registry/uspto_odp/*.json` and the portal's swagger: an envelope with `count`,
`patentBag` and `requestIdentifier`; each section endpoint answers the same envelope holding
only its own bag.
"""

from __future__ import annotations

import uuid
from typing import Any

from sandbox_registry.formats import iso, without_empty
from sandbox_registry.models import AssignmentPartyRole, PartyRole, RecordedAssignment, RegisterEntry, RegisterParty

TYPE_LABELS = {"UTL": "Utility", "DES": "Design", "PLT": "Plant", "REI": "Reissue", "PRV": "Provisional"}
PARENTAGE_TEXT = {
    "CON": "is a Continuation of",
    "DIV": "is a Division of",
    "CIP": "is a Continuation in part of",
    "NST": "is a National Stage Entry of",
    "PRO": "Claims Priority from Provisional Application",
}
NOT_FOUND_DETAILS = "No matching records found, refine your search criteria and try again"


def envelope(items: list[dict[str, Any]], *, count: int | None = None) -> dict[str, Any]:
    return {"count": len(items) if count is None else count, "patentBag": items, "requestIdentifier": str(uuid.uuid4())}


def error(code: int, message: str, details: str = "") -> dict[str, Any]:
    return without_empty(
        {"code": code, "error": message, "errorDetails": details, "requestIdentifier": str(uuid.uuid4())}
    )


def _address(party: RegisterParty) -> dict[str, object]:
    return without_empty(
        {
            "nameLineOneText": party.name,
            "addressLineOneText": party.address_line_1,
            "addressLineTwoText": party.address_line_2,
            "cityName": party.city,
            "geographicRegionCode": party.region,
            "postalCode": party.postal_code,
            "countryCode": party.country_code,
        }
    )


def _applicant(party: RegisterParty) -> dict[str, object]:
    address = _address(party)
    return without_empty({"applicant": party.name, "correspondenceAddressBag": [address] if len(address) > 1 else []})


def _inventor(party: RegisterParty) -> dict[str, object]:
    address = _address(party)
    return without_empty(
        {"inventorNameText": party.name, "correspondenceAddressBag": [address] if len(address) > 1 else []}
    )


def assignment_item(assignment: RecordedAssignment) -> dict[str, object]:
    parties = list(assignment.parties.all())
    reel, frame = f"{assignment.reel:06d}", f"{assignment.frame:04d}"
    return without_empty(
        {
            "reelNumber": reel,
            "frameNumber": frame,
            "reelNumber/frameNumber": f"{reel}/{frame}",
            "pageNumber": assignment.page_count,
            "conveyanceText": assignment.conveyance_text,
            "assignmentRecordedDate": iso(assignment.recorded_date),
            "assignmentReceivedDate": iso(assignment.received_date),
            "assignorBag": [
                without_empty({"assignorName": p.name, "executionDate": iso(p.execution_date)})
                for p in parties
                if p.role == AssignmentPartyRole.ASSIGNOR
            ],
            "assigneeBag": [
                without_empty(
                    {
                        "assigneeNameText": p.name,
                        "assigneeAddress": without_empty(
                            {
                                "addressLineOneText": p.address_line_1,
                                "addressLineTwoText": p.address_line_2,
                                "cityName": p.city,
                                "geographicRegionCode": p.region,
                                "postalCode": p.postal_code,
                                "countryName": p.country_name,
                            }
                        ),
                    }
                )
                for p in parties
                if p.role == AssignmentPartyRole.ASSIGNEE
            ],
            "correspondenceAddress": [{"correspondentNameText": assignment.correspondent_name}]
            if assignment.correspondent_name
            else [],
        }
    )


def _relative(
    entry: RegisterEntry | None, *, number: str, filing_date: Any, parent: str, child: str, code: str
) -> dict:
    return without_empty(
        {
            "applicationStatusCode": int(entry.status_code) if entry and entry.status_code.isdigit() else None,
            "applicationStatusDescriptionText": entry.status_text if entry else None,
            "claimParentageTypeCode": code,
            "claimParentageTypeCodeDescription": PARENTAGE_TEXT.get(code, ""),
            "filingDate": iso(filing_date),
            "parentApplicationNumberText": parent,
            "childApplicationNumberText": child,
            "patentNumber": entry.patent_number if entry and number == child else None,
        }
    )


def continuity_bag(entry: RegisterEntry) -> dict[str, object]:
    parents = []
    if entry.parent_application_number:
        parent = RegisterEntry.objects.filter(
            kind=entry.kind, application_number=entry.parent_application_number
        ).first()
        parents.append(
            _relative(
                parent,
                number=entry.parent_application_number,
                filing_date=entry.parent_filing_date or (parent.filing_date if parent else None),
                parent=entry.parent_application_number,
                child=entry.application_number,
                code=entry.parent_relation,
            )
        )
    children = [
        _relative(
            kid,
            number=kid.application_number,
            filing_date=kid.filing_date,
            parent=entry.application_number,
            child=kid.application_number,
            code=kid.parent_relation,
        )
        for kid in RegisterEntry.objects.filter(kind=entry.kind, parent_application_number=entry.application_number)
        if entry.application_number
    ]
    return without_empty({"parentContinuityBag": parents, "childContinuityBag": children})


def adjustment_data(entry: RegisterEntry) -> dict[str, object]:
    if entry.pta_days is None:
        return {}
    return without_empty(
        {
            "adjustmentTotalQuantity": entry.pta_days,
            "filingDate": iso(entry.filing_date),
            "grantDate": iso(entry.grant_date),
        }
    )


def transactions(entry: RegisterEntry) -> list[dict[str, object]]:
    return [
        without_empty(
            {"recordedDate": iso(e.date), "caseActionDescriptionText": e.description, "caseActionCode": e.code}
        )
        for e in sorted(entry.events.all(), key=lambda e: (e.date is None, e.date, e.id))
    ]


def assignments(entry: RegisterEntry) -> list[dict[str, object]]:
    return [assignment_item(a) for a in entry.assignments.all() if a.register == "patent"]


def application_item(entry: RegisterEntry) -> dict[str, object]:
    """The whole record of one application, as GET /api/v1/patent/applications/{n} answers it."""
    parties = list(entry.parties.all())
    applicants = [p for p in parties if p.role == PartyRole.APPLICANT]
    inventors = [p for p in parties if p.role == PartyRole.INVENTOR]
    status_code: object = int(entry.status_code) if entry.status_code.isdigit() else entry.status_code
    return without_empty(
        {
            "applicationNumberText": entry.application_number,
            "applicationTypeCode": entry.application_type,
            "applicationTypeLabelName": TYPE_LABELS.get(entry.application_type, ""),
            "applicationStatusCode": status_code,
            "applicationStatusDescriptionText": entry.status_text,
            "applicationStatusDate": iso(entry.status_date),
            "filingDate": iso(entry.filing_date),
            "effectiveFilingDate": iso(entry.filing_date),
            "grantDate": iso(entry.grant_date),
            "patentNumber": entry.patent_number,
            "inventionTitle": entry.title,
            "earliestPublicationNumber": entry.publication_number,
            "earliestPublicationDate": iso(entry.publication_date),
            "firstApplicantName": applicants[0].name if applicants else "",
            "firstInventorName": inventors[0].name if inventors else "",
            "applicantBag": [_applicant(p) for p in applicants],
            "inventorBag": [_inventor(p) for p in inventors],
            "cpcClassificationBag": list(entry.classes),
            "continuityBag": continuity_bag(entry),
            "transactionContentBag": transactions(entry),
        }
    ) | {
        # The sandbox knows its whole assignment record: an empty bag says "none recorded".
        "assignmentBag": assignments(entry),
        "patentTermAdjustmentData": adjustment_data(entry),
    }

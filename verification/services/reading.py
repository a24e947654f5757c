"""Which register to read for a right, and the raw answers kept as evidence.

The office modules in `verification.registries` speak the wire formats; this module only picks
the client and number for a right and records every answer it got, byte for byte, so a run can
store them with their hash and read time.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from listings.models import Right
from verification.registries import epo_ops, euipo, tsdr, uspto_assignment, uspto_odp
from verification.registries.http import RegistryHttp, RegistryNotFound, RegistryResponse
from verification.registries.records import Deadline, RegistryRecord

REGISTER_NAMES = {
    "uspto_odp": "USPTO Open Data Portal",
    "tsdr": "USPTO TSDR",
    "uspto_assignment": "USPTO Assignment Search",
    "euipo": "EUIPO",
    "epo_ops": "EPO OPS (INPADOC legal status)",
}


@dataclass(frozen=True)
class Target:
    """A right as the listing states it: its office, kind and numbers (canonical forms)."""

    jurisdiction: str
    kind: str
    sub_kind: str
    application_number: str = ""
    registration_number: str = ""
    publication_number: str = ""

    @classmethod
    def from_right(cls, right: Right) -> Target:
        return cls(
            jurisdiction=right.jurisdiction,
            kind=right.kind,
            sub_kind=right.sub_kind,
            application_number=right.application_number,
            registration_number=right.registration_number,
            publication_number=right.publication_number,
        )

    def as_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


class RecordingHttp(RegistryHttp):
    """The shared HTTP layer, keeping every data answer (token exchanges are not evidence and
    carry secrets: only GETs are kept)."""

    def __init__(self, *, office: str, responses: list[RegistryResponse]) -> None:
        super().__init__(office=office)
        self.responses = responses

    def request(self, method: str, url: str, **kwargs: Any) -> RegistryResponse:
        response = super().request(method, url, **kwargs)
        if method == "GET":
            self.responses.append(response)
        return response


@dataclass
class Reading:
    """What reading the register produced: a record, or the reason no register can be read."""

    register: str = ""
    record: RegistryRecord | None = None
    responses: list[RegistryResponse] = field(default_factory=list)
    unsupported: str = ""  # e.g. CNIPA offers no API: staff verify from an uploaded extract


def register_read(  # noqa: PLR0911 - one branch per register
    *, target: Target, as_of: date, responses: list[RegistryResponse] | None = None
) -> Reading:
    """Read the right's register. Raises the registries' typed errors (RegistryError) when the
    register cannot give a usable answer; `responses` collects every answer received, including
    those read before an error, so that the evidence of a failure is kept too."""
    reading = Reading(responses=responses if responses is not None else [])
    kept = reading.responses
    jurisdiction, sub_kind = target.jurisdiction, target.sub_kind
    if jurisdiction == "CN":
        reading.unsupported = (
            "CNIPA offers no public API: staff verify this right from the uploaded register extract, "
            "with the same checklist."
        )
        return reading
    if target.kind == "copyright":
        reading.unsupported = "The Copyright Office's register has no API we read: staff verify from the certificate."
        return reading
    if jurisdiction == "US" and target.kind == "patent":
        reading.register = REGISTER_NAMES["uspto_odp"]
        client = uspto_odp.UsptoOdpClient(http=RecordingHttp(office="uspto_odp", responses=kept))
        if target.application_number:
            record = client.application(target.application_number, as_of=as_of)
        elif target.registration_number:
            record = client.patent(target.registration_number, as_of=as_of)
        else:
            reading.unsupported = "A US patent is read by its application or patent number; the listing has neither."
            return reading
        reading.record = _with_assignment_search(record, responses=kept)
        return reading
    if jurisdiction == "US" and sub_kind == "trademark":
        reading.register = REGISTER_NAMES["tsdr"]
        number = target.application_number or target.registration_number
        tsdr_client = tsdr.TsdrClient(http=RecordingHttp(office="tsdr", responses=kept))
        reading.record = tsdr_client.status(number, as_of=as_of)
        return reading
    if jurisdiction == "EU":
        reading.register = REGISTER_NAMES["euipo"]
        eu_client = euipo.EuipoClient(http=RecordingHttp(office="euipo", responses=kept))
        if sub_kind == "design":
            reading.record = eu_client.design(target.application_number or target.registration_number, as_of=as_of)
        else:
            reading.record = eu_client.trademark(target.application_number or target.registration_number, as_of=as_of)
        return reading
    if jurisdiction == "EP":
        reading.register = REGISTER_NAMES["epo_ops"]
        if not target.publication_number:
            reading.unsupported = "EPO legal status is read by publication number; the listing states none."
            return reading
        ops = epo_ops.EpoOpsClient(http=RecordingHttp(office="epo_ops", responses=kept))
        reading.record = ops.legal_status(f"EP{target.publication_number}", as_of=as_of)
        return reading
    reading.unsupported = f"No register is read for {target.sub_kind} rights of {target.jurisdiction}."
    return reading


def _with_assignment_search(record: RegistryRecord, *, responses: list[RegistryResponse]) -> RegistryRecord:
    """ODP's answer usually carries the recorded assignments; when it does not, the assignment
    search supplies them (a truncated search is not complete, so the section stays missing)."""
    if "assignments" in record.sections or not record.application_number.isdigit():
        return record
    try:
        search = uspto_assignment.UsptoAssignmentClient(
            http=RecordingHttp(office="uspto_assignment", responses=responses)
        ).for_application(record.application_number)
    except RegistryNotFound:
        # The right exists (ODP said so); a search that cannot find it leaves the conveyances
        # unknown, for review, rather than turning the right into an unknown number.
        return record
    if search.truncated:
        return record
    return dataclasses.replace(record, assignments=search.assignments, sections=record.sections | {"assignments"})


# --- the record as data, for storage and the command's JSON -----------------------------------------


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _deadline(d: Deadline | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {
        "kind": d.kind,
        "due_date": _day(d.due_date),
        "window_opens": _day(d.window_opens),
        "grace_ends": _day(d.grace_ends),
        "derived": d.derived,
        "satisfied": d.satisfied,
    }


def facts_as_dict(record: RegistryRecord) -> dict[str, Any]:
    """The register's facts in a stable JSON shape (documented in verify_right's help)."""
    encumbrances = {id(e) for e in record.encumbrances}
    return {
        "office": record.office,
        "source": record.source,
        "kind": record.kind,
        "subkind": record.subkind,
        "application_number": record.application_number,
        "patent_number": record.patent_number,
        "registration_number": record.registration_number,
        "publication_number": record.publication_number,
        "title": record.title,
        "status": record.status,
        "status_code": record.status_code,
        "status_text": record.status_text,
        "status_date": _day(record.status_date),
        "owners": [{"name": p.name, "address": p.address, "country": p.country, "role": p.role} for p in record.owners],
        "filing_date": _day(record.filing_date),
        "grant_date": _day(record.grant_date),
        "registration_date": _day(record.registration_date),
        "expiry_date": _day(record.expiry_date),
        "next_due": _deadline(record.next_due),
        "deadlines": [_deadline(d) for d in record.deadlines],
        "assignments": [
            {
                "kind": a.kind,
                "conveyance_text": a.conveyance_text,
                "reel_frame": a.reel_frame,
                "assignors": [p.name for p in a.assignors],
                "assignees": [p.name for p in a.assignees],
                "recorded_date": _day(a.recorded_date),
                "execution_date": _day(a.execution_date),
                "outstanding_encumbrance": id(a) in encumbrances,
            }
            for a in record.assignments
        ],
        "sections": sorted(record.sections),
        "derived": list(record.derived),
        "notes": list(record.notes),
        "source_url": record.source_url,
        "raw_sha256": record.raw_sha256,
        "read_at": record.read_at.isoformat() if record.read_at else None,
    }

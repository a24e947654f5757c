"""USPTO patent assignment search: the Solr XML of /patent/lookup (as `registry/uspto_assignment`).

Missing values are written as Solr writes them: the string NULL, the date 0001-01-01.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from xml.etree import ElementTree as ET

from sandbox_registry.formats import sub, xml_bytes
from sandbox_registry.models import AssignmentParty, AssignmentPartyRole, RecordedAssignment

NULL = "NULL"
NULL_DATE = "0001-01-01T00:00:00Z"


def _date(day: date | None) -> str:
    # The office stores midnight Eastern as 04:00 UTC.
    return f"{day.isoformat()}T04:00:00Z" if day else NULL_DATE


def _str(parent: ET.Element, name: str, value: object) -> None:
    sub(parent, "str", value if value not in (None, "") else NULL, name=name)


def _arr(parent: ET.Element, name: str, values: Sequence[str], kind: str = "str") -> None:
    node = sub(parent, "arr", name=name)
    for value in values:
        sub(node, kind, value or (NULL_DATE if kind == "date" else NULL))


def _doc(result: ET.Element, assignment: RecordedAssignment) -> None:
    doc = sub(result, "doc")
    parties = list(assignment.parties.all())
    assignors = [p for p in parties if p.role == AssignmentPartyRole.ASSIGNOR]
    assignees = [p for p in parties if p.role == AssignmentPartyRole.ASSIGNEE]
    properties = sorted(assignment.properties.all(), key=lambda e: e.application_number)
    _str(doc, "id", f"{assignment.reel}-{assignment.frame}")
    _str(doc, "displayId", f"{assignment.reel:06d}-{assignment.frame:04d}")
    _str(doc, "reelNo", assignment.reel)
    _str(doc, "frameNo", assignment.frame)
    sub(doc, "date", _date(assignment.recorded_date), name="recordedDate")
    _str(doc, "pageCount", assignment.page_count)
    _str(doc, "conveyanceText", assignment.conveyance_text)
    _str(doc, "corrName", assignment.correspondent_name)
    executed = [p.execution_date for p in assignors if p.execution_date]
    sub(doc, "date", _date(min(executed) if executed else None), name="patAssignorEarliestExDate")
    _arr(doc, "patAssignorName", [p.name for p in assignors])
    _arr(doc, "patAssignorExDate", [_date(p.execution_date) for p in assignors], kind="date")

    def column(attr: str, people: list[AssignmentParty]) -> list[str]:
        return [str(getattr(p, attr) or NULL) for p in people]

    _arr(doc, "patAssigneeName", [p.name for p in assignees])
    _arr(doc, "patAssigneeAddress1", column("address_line_1", assignees))
    _arr(doc, "patAssigneeAddress2", column("address_line_2", assignees))
    _arr(doc, "patAssigneeCity", column("city", assignees))
    _arr(doc, "patAssigneeState", column("region", assignees))
    _arr(doc, "patAssigneeCountryName", column("country_name", assignees))
    _arr(doc, "patAssigneePostcode", column("postal_code", assignees))
    _arr(doc, "inventionTitle", [e.title for e in properties])
    _arr(doc, "applNum", [e.application_number for e in properties])
    _arr(doc, "filingDate", [_date(e.filing_date) for e in properties], kind="date")
    _arr(doc, "issueDate", [_date(e.grant_date) for e in properties], kind="date")
    _arr(doc, "patNum", [e.patent_number for e in properties])
    _arr(doc, "publNum", [e.publication_number for e in properties])


def lookup_xml(
    assignments: Sequence[RecordedAssignment], *, total: int, start: int, rows: int, filter_query: str
) -> bytes:
    root = ET.Element("response")
    header = sub(root, "lst", name="responseHeader")
    sub(header, "int", 0, name="status")
    params = sub(header, "lst", name="params")
    for name, value in (("q", "*:*"), ("start", start), ("rows", rows), ("fq", filter_query)):
        sub(params, "str", value, name=name)
    result = sub(root, "result", name="response", numFound=str(total), start=str(start))
    for assignment in assignments:
        _doc(result, assignment)
    return xml_bytes(root).replace(b' standalone="yes"', b"")

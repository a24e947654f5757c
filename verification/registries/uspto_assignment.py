"""USPTO patent assignment search: recorded assignments, security interests and releases.

Path (relative to `USPTO_ASSIGNMENT_BASE_URL`; no key):
    GET /patent/lookup?filter=PatentNumber|ApplicationNumber|PublicationNumber|ReelFrame
                       &query=...&rows=...&start=...&sort=ExecutionDate+desc&facet=false

The answer is Solr XML: `<response><result numFound=".." start=".."><doc>` with typed fields
(`<str name="reelNo">`, `<arr name="patAssigneeName"><str>..</str></arr>`, `<date ...>`). A
conveyance covers many properties; the parallel arrays applNum/patNum/filingDate list them.
Solr writes 'NULL' and 0001-01-01 where a value is missing; both read as absent.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from xml.etree.ElementTree import Element

from django.conf import settings

from verification.registries.http import InvalidRegistryNumber, RegistryHttp, RegistryMalformed
from verification.registries.parsing import clean, load_xml, local
from verification.registries.records import (
    AssignmentRecord,
    AssignmentSearchResult,
    Party,
    conveyance_kind,
    parse_date,
    sha256_hex,
)

OFFICE = "uspto_assignment"
PAGE_SIZE = 100
MAX_PAGES = 20  # 2,000 conveyances on one property is beyond any real title chain


def _fields(doc: Element) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for node in doc:
        name = node.get("name")
        if not name:
            continue
        if local(node.tag) == "arr":
            fields[name] = [(value.text or "").strip() for value in node]
        else:
            fields[name] = [(node.text or "").strip()]
    return fields


def _one(fields: dict[str, list[str]], name: str) -> str:
    values = fields.get(name) or [""]
    return clean(values[0])


def _at(values: list[str], index: int) -> str:
    return clean(values[index]) if index < len(values) else ""


def _parties(fields: dict[str, list[str]], prefix: str, role: str) -> tuple[Party, ...]:
    names = fields.get(f"{prefix}Name", [])
    parties = []
    for i, name in enumerate(names):
        if not clean(name):
            continue
        address = [
            _at(fields.get(f"{prefix}{key}", []), i)
            for key in ("Address1", "Address2", "City", "State", "Postcode", "CountryName")
        ]
        parties.append(
            Party(
                name=clean(name),
                address=", ".join(a for a in address if a),
                country=_at(fields.get(f"{prefix}CountryName", []), i),
                role=role,
            )
        )
    return tuple(parties)


def parse_doc(doc: Element) -> AssignmentRecord:
    fields = _fields(doc)
    text = _one(fields, "conveyanceText")
    executions = [parse_date(v) for v in fields.get("patAssignorExDate", [])]
    pages = _one(fields, "pageCount")
    return AssignmentRecord(
        conveyance_text=text,
        kind=conveyance_kind(text),
        reel=_one(fields, "reelNo"),
        frame=_one(fields, "frameNo"),
        identifier=_one(fields, "displayId") or _one(fields, "id"),
        assignors=_parties(fields, "patAssignor", "assignor"),
        assignees=_parties(fields, "patAssignee", "assignee"),
        recorded_date=parse_date(_one(fields, "recordedDate")),
        execution_date=min((d for d in executions if d), default=None),
        application_numbers=tuple(clean(v) for v in fields.get("applNum", []) if clean(v)),
        patent_numbers=tuple(clean(v) for v in fields.get("patNum", []) if clean(v)),
        page_count=int(pages) if pages.isdigit() else None,
    )


def parse_lookup(
    body: bytes | str, *, read_at: datetime | None = None, source_url: str = ""
) -> tuple[tuple[AssignmentRecord, ...], int]:
    """The conveyances on one page of a lookup, and the total the office holds."""
    root = load_xml(body, office=OFFICE, url=source_url)
    if local(root.tag) != "response":
        raise RegistryMalformed(f"not a Solr response (root {local(root.tag)})", office=OFFICE, url=source_url)
    result = next((n for n in root if local(n.tag) == "result"), None)
    if result is None:
        raise RegistryMalformed("the Solr response has no result", office=OFFICE, url=source_url)
    found = result.get("numFound", "")
    if not found.isdigit():
        raise RegistryMalformed("the Solr result has no numFound", office=OFFICE, url=source_url)
    docs = [parse_doc(d) for d in result if local(d.tag) == "doc"]
    return tuple(docs), int(found)


def _digits(number: str, *, what: str) -> str:
    text = re.sub(r"[\s,./-]", "", str(number).upper())
    text = re.sub(r"^US", "", text)
    text = re.sub(r"(?<=\d)(A\d?|B\d|E\d?|S\d?|P\d)$", "", text)
    if not re.fullmatch(r"(D|PP|RE)?\d{4,11}", text):
        raise InvalidRegistryNumber(f"not a US {what} number: {number!r}", office=OFFICE)
    return text


class UsptoAssignmentClient:
    """Searches recorded patent conveyances (or the sandbox registry's copy of them)."""

    def __init__(self, *, base_url: str | None = None, http: RegistryHttp | None = None) -> None:
        self.base_url = (base_url or settings.USPTO_ASSIGNMENT_BASE_URL).rstrip("/")
        self.http = http or RegistryHttp(office=OFFICE)

    def for_patent(self, patent_number: str) -> AssignmentSearchResult:
        return self.lookup(filter_name="PatentNumber", query=_digits(patent_number, what="patent"))

    def for_application(self, application_number: str) -> AssignmentSearchResult:
        return self.lookup(filter_name="ApplicationNumber", query=_digits(application_number, what="application"))

    def by_reel_frame(self, reel: str, frame: str) -> AssignmentSearchResult:
        if not (str(reel).isdigit() and str(frame).isdigit()):
            raise InvalidRegistryNumber(f"not a reel/frame: {reel}/{frame}", office=OFFICE)
        return self.lookup(filter_name="ReelFrame", query=f"{int(reel)}-{int(frame)}")

    def lookup(self, *, filter_name: str, query: str) -> AssignmentSearchResult:
        """Every page of one lookup. No conveyance on record is an empty result, not an error:
        the office answers numFound=0 for a property nobody has assigned."""
        collected: list[AssignmentRecord] = []
        total = 0
        hashes: list[str] = []
        first_url = ""
        read_at = datetime.now(tz=UTC)
        for page in range(MAX_PAGES):
            response = self.http.get(
                f"{self.base_url}/patent/lookup",
                params={
                    "filter": filter_name,
                    "query": query,
                    "rows": PAGE_SIZE,
                    "start": page * PAGE_SIZE,
                    "sort": "ExecutionDate desc",
                    "facet": "false",
                },
                headers={"Accept": "application/xml"},
                expect="xml",
            )
            if page == 0:
                first_url, read_at = response.url, response.read_at
            hashes.append(response.sha256)
            docs, total = parse_lookup(response.body, read_at=response.read_at, source_url=response.url)
            collected.extend(docs)
            if not docs or len(collected) >= total:
                break
        return AssignmentSearchResult(
            assignments=tuple(collected),
            total=total,
            source_url=first_url,
            # One page: its own hash. Several: the hash of the pages' hashes in order.
            raw_sha256=hashes[0] if len(hashes) == 1 else sha256_hex("".join(hashes).encode()),
            read_at=read_at,
            truncated=len(collected) < total,
        )

"""EPO Open Patent Services: INPADOC legal status of European patents.

Paths (relative to `EPO_OPS_BASE_URL`, e.g. https://ops.epo.org/3.2):
    POST /auth/accesstoken                      client credentials (HTTP Basic key:secret)
    GET  /rest-services/legal/publication/docdb/{CC}.{number}.{kind}
    GET  /rest-services/legal/publication/epodoc/{CC}{number}

The answer is `ops:world-patent-data/ops:patent-family/ops:family-member` holding the
bibliographic references and one `ops:legal` element per event (code, desc, infl attributes;
L001EP... fields, the event's details in L500EP). The status is derived: the EPO's own STAA
status text and grant events say whether the patent was granted, withdrawn or revoked; PG25 and
national lapse events say in which designated states it has lapsed; the term is 20 years from
the filing date (EPC art. 63). INPADOC legal status names no owner: owners stay empty and the
record says so.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, date, datetime
from xml.etree.ElementTree import Element

from django.conf import settings

from verification.registries.http import (
    InvalidRegistryNumber,
    RegistryHttp,
    RegistryMalformed,
    RegistryNotFound,
    RegistryRateLimited,
    RegistryUnavailable,
)
from verification.registries.parsing import attr, child, children, descendants, first, load_xml, local, text_of
from verification.registries.records import LegalEvent, RegistryRecord, Status, add_years, parse_date, sha256_hex

OFFICE = "epo_ops"

_WITHDRAWN = ("WITHDRAWN", "REFUSED", "DEEMED TO BE WITHDRAWN")
_REVOKED = ("REVOKED", "REVOCATION")
_GRANTED_STATUS = ("GRANTED", "NO OPPOSITION FILED", "OPPOSITION", "MAINTAINED", "EXPECTED) GRANT")
_NATIONAL_LAPSE = re.compile(r"^([A-Z]{2}):.*(LAPSE|CEASED|TRANSLATION NOT FILED|NOT VALIDATED)")


def publication_number_normalise(number: str) -> tuple[str, str]:
    """'EP 1 000 000 A1' -> ('docdb', 'EP.1000000.A1'); 'EP1000000' -> ('epodoc', 'EP1000000')."""
    text = re.sub(r"[\s.,/-]", "", str(number).upper())
    match = re.fullmatch(r"(EP)(\d{6,7})([AB]\d)?", text)
    if not match:
        raise InvalidRegistryNumber(f"not a European publication number: {number!r}", office=OFFICE)
    country, digits, kind = match.groups()
    digits = digits.zfill(7)
    if kind:
        return "docdb", f"{country}.{digits}.{kind}"
    return "epodoc", f"{country}{digits}"


def _event(node: Element) -> LegalEvent:
    details = child(node, "L500EP")
    country = text_of(details, "L501EP")
    parts = [
        f"{attr(d, 'desc') or local(d.tag)}: {(d.text or '').strip()}"
        for d in (details if details is not None else [])
        if (d.text or "").strip()
    ]
    effective = parse_date(text_of(details, "L525EP"))
    return LegalEvent(
        code=(node.get("code") or "").strip(),
        description=" ".join((node.get("desc") or "").split()),
        date=effective or parse_date(text_of(node, "L007EP")),
        country=country or text_of(node, "L001EP"),
        text="; ".join(parts),
        effect=(node.get("infl") or "").strip(),
    )


def _document_number(reference: Element | None, kind: str = "docdb") -> tuple[str, str, str, date | None]:
    for doc in children(reference, "document-id"):
        if doc.get("document-id-type") == kind:
            return (
                text_of(doc, "country"),
                text_of(doc, "doc-number"),
                text_of(doc, "kind"),
                parse_date(text_of(doc, "date")),
            )
    return "", "", "", None


def parse_legal(  # noqa: PLR0912, PLR0915 - one record, read top to bottom
    body: bytes | str, *, as_of: date | None = None, read_at: datetime | None = None, source_url: str = ""
) -> RegistryRecord:
    root = load_xml(body, office=OFFICE, url=source_url)
    if local(root.tag) == "fault":
        code = text_of(root, "code")
        if "NotFound" in code or "EntityNotFound" in code:
            raise RegistryNotFound(f"OPS: {code} {text_of(root, 'message')}", office=OFFICE, url=source_url)
        raise RegistryUnavailable(f"OPS fault: {code} {text_of(root, 'message')}", office=OFFICE, url=source_url)
    if local(root.tag) != "world-patent-data":
        raise RegistryMalformed(f"not an OPS answer (root {local(root.tag)})", office=OFFICE, url=source_url)
    family = first(root, "patent-family")
    members = list(descendants(family, "family-member"))
    if family is None or not members:
        raise RegistryNotFound("OPS returned no family member", office=OFFICE, url=source_url)
    wanted = _document_number(child(family, "publication-reference"))
    member = next(
        (m for m in members if _document_number(child(m, "publication-reference"))[:2] == wanted[:2]),
        members[0],
    )
    read_at = read_at or datetime.now(tz=UTC)
    as_of = as_of or read_at.date()
    derived: list[str] = []
    notes = ["INPADOC legal status names no owner: read the owner from the European Patent Register"]

    pub_country, pub_number, pub_kind, pub_date = _document_number(child(member, "publication-reference"))
    app_country, app_number, _app_kind, filing_date = _document_number(child(member, "application-reference"))
    events = tuple(sorted((_event(n) for n in children(member, "legal")), key=lambda e: e.date or date.min))

    designated: set[str] = set()
    for event in events:
        if event.code == "AK":
            match = re.search(r"Designated State\(s\): ([A-Z ]+)", event.text)
            if match:
                designated.update(match.group(1).split())
    lapsed: set[str] = set()
    for event in events:
        if event.date and event.date > as_of:
            continue
        if event.code == "PG25" and event.country:
            lapsed.add(event.country)
        match = _NATIONAL_LAPSE.match(event.description)
        if match and event.effect == "-":
            lapsed.add(match.group(1))

    staa = [e for e in events if e.code == "STAA"]
    status_text = staa[-1].text.split("STATUS:", 1)[-1].strip() if staa else ""
    words = " ".join(e.description for e in events).upper() + " " + status_text.upper()
    granted = any(e.code.startswith("GRA") and "GRANT" in e.description.upper() for e in events) or any(
        w in status_text.upper() for w in _GRANTED_STATUS
    )
    status: Status
    if any(w in status_text.upper() for w in _REVOKED):
        status = "cancelled"
    elif any(w in status_text.upper() for w in _WITHDRAWN) and not granted:
        status = "abandoned"
    elif granted:
        status = "in_force"
    elif any(
        w in words for w in ("APPLICATION DEEMED TO BE WITHDRAWN", "APPLICATION WITHDRAWN", "APPLICATION REFUSED")
    ):
        status = "abandoned"
    else:
        status = "pending"
    derived.append("status")

    expiry = add_years(filing_date, 20) if filing_date and status == "in_force" else None
    if expiry:
        derived.append("expiry_date")
    in_force_states = tuple(sorted(designated - lapsed))
    if status == "in_force":
        if designated and not in_force_states:
            status = "lapsed"
        elif expiry and as_of > expiry:
            status = "expired"
    if any("SPC" in e.text or "SUPPL" in e.text.upper() for e in events):
        notes.append("a supplementary protection certificate is recorded in at least one state")

    raw = body.encode() if isinstance(body, str) else body
    return RegistryRecord(
        office="EPO",
        source=OFFICE,
        kind="patent",
        subkind="european_patent",
        application_number=f"{app_country}{app_number}",
        publication_number=f"{pub_country}{pub_number}{pub_kind}",
        patent_number=f"{pub_country}{pub_number}" if granted else "",
        status=status,
        status_code=staa[-1].code if staa else (events[-1].code if events else ""),
        status_text=status_text,
        status_date=staa[-1].date if staa else None,
        filing_date=filing_date,
        earliest_filing_date=filing_date,
        publication_date=pub_date,
        expiry_date=expiry,
        events=events,
        territories_in_force=in_force_states if status in ("in_force", "lapsed") else (),
        territories_lapsed=tuple(sorted(lapsed)),
        sections=frozenset({"legal_status", "events"}),
        derived=tuple(dict.fromkeys(derived)),
        notes=tuple(notes),
        source_url=source_url,
        raw_sha256=sha256_hex(raw),
        read_at=read_at,
    )


class EpoOpsClient:
    """Reads INPADOC legal status from EPO OPS (or the sandbox registry)."""

    _token_lock = threading.Lock()

    def __init__(
        self,
        *,
        base_url: str | None = None,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        http: RegistryHttp | None = None,
    ) -> None:
        self.base_url = (base_url or settings.EPO_OPS_BASE_URL).rstrip("/")
        self.consumer_key = consumer_key if consumer_key is not None else settings.EPO_OPS_CONSUMER_KEY
        self.consumer_secret = consumer_secret if consumer_secret is not None else settings.EPO_OPS_CONSUMER_SECRET
        self.http = http or RegistryHttp(office=OFFICE)
        self._token = ""
        self._token_expires = 0.0

    def _access_token(self, *, renew: bool = False) -> str:
        with self._token_lock:
            if self._token and not renew and time.monotonic() < self._token_expires:
                return self._token
            response = self.http.post(
                f"{self.base_url}/auth/accesstoken",
                data={"grant_type": "client_credentials"},
                auth=(self.consumer_key, self.consumer_secret),
            )
            payload = response.json()
            token = payload.get("access_token") if isinstance(payload, dict) else None
            if not token:
                raise RegistryUnavailable("OPS gave no access token", office=OFFICE, url=response.url)
            expires = float(payload.get("expires_in") or 1200)
            self._token, self._token_expires = str(token), time.monotonic() + max(30.0, expires - 60)
            return self._token

    def legal_status(self, publication_number: str, *, as_of: date | None = None) -> RegistryRecord:
        scheme, number = publication_number_normalise(publication_number)
        url = f"{self.base_url}/rest-services/legal/publication/{scheme}/{number}"
        for renew in (False, True):
            try:
                response = self.http.get(
                    url,
                    headers={"Authorization": f"Bearer {self._access_token(renew=renew)}", "Accept": "application/xml"},
                    expect="xml",
                )
            except (RegistryUnavailable, RegistryNotFound) as exc:
                message = str(exc).lower()
                # An expired token answers 400 or 401 naming the token; one fresh token is worth a retry.
                if not renew and (exc.status == 401 or "accesstoken" in message.replace(" ", "")):
                    continue
                if exc.status == 403 and ("quota" in message or "throttl" in message):
                    raise RegistryRateLimited(f"OPS quota exhausted: {exc.args[0]}", office=OFFICE, url=url) from exc
                raise
            return parse_legal(response.body, as_of=as_of, read_at=response.read_at, source_url=response.url)
        raise RegistryUnavailable("OPS refused a fresh token", office=OFFICE, url=url)

"""EUIPO: EU trade marks and registered Community designs.

Paths (relative to `EUIPO_BASE_URL`; OAuth2 client credentials, the token as a Bearer and the
client id in `X-IBM-Client-Id`):
    POST {EUIPO_TOKEN_URL}                                   grant_type=client_credentials
    GET  /trademark-search/trademarks?query=applicationNumber==...&page=0&size=10
    GET  /design-search/designs?query=designNumber==...&page=0&size=10

The search lists are read rather than the single-record paths because both offices' lists
carry the same fields (`trademarks` or `designs`, `totalElements`, `page`, `size`).

The office states status and expiry. An EU mark or design in force is renewed up to its
expiry date with six months' grace after it (EUTMR art. 53, CDR art. 13); the grace end is
derived. Design list entries name applicants by office id only: the owner name is then empty
and a name check must go to review.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, date, datetime
from typing import Any

from django.conf import settings

from verification.registries.http import (
    InvalidRegistryNumber,
    RegistryHttp,
    RegistryMalformed,
    RegistryNotFound,
    RegistryUnavailable,
)
from verification.registries.parsing import as_list, clean, load_json
from verification.registries.records import (
    Deadline,
    Party,
    RegistryRecord,
    SearchPage,
    Status,
    add_months,
    parse_date,
    sha256_hex,
)

OFFICE = "euipo"


def status_normalise(status: str) -> Status:
    word = status.upper()
    if "EXPIR" in word:
        return "expired"
    if any(w in word for w in ("CANCEL", "SURRENDER", "INVALID", "REVOK", "REMOVED")):
        return "cancelled"
    if any(w in word for w in ("WITHDRAW", "REFUS", "REJECT", "ABANDON")):
        return "abandoned"
    if "LAPSE" in word:
        return "lapsed"
    if word.startswith("REGISTERED") or word == "PUBLISHED" or "RENEW" in word:
        return "in_force"
    return "pending"


def _record(
    entry: dict[str, Any], *, kind: str, as_of: date, read_at: datetime, raw_sha256: str, url: str
) -> RegistryRecord:
    status_word = clean(entry.get("status"))
    status = status_normalise(status_word)
    derived: list[str] = []
    notes: list[str] = []
    expiry = parse_date(entry.get("expiryDate"))
    deadlines: tuple[Deadline, ...] = ()
    next_due = None
    if expiry and status in ("in_force", "pending"):
        next_due = Deadline(
            kind="renewal",
            due_date=expiry,
            window_opens=add_months(expiry, -6),
            grace_ends=add_months(expiry, 6),
            derived=False,
        )
        deadlines = (next_due,)
        derived.append("next_due.grace_ends")
        if status == "in_force" and next_due.in_grace(as_of=as_of):
            status = "grace"
            derived.append("status")
        elif status == "in_force" and next_due.overdue(as_of=as_of):
            notes.append(f"expired {expiry} with grace to {next_due.grace_ends}; the register still says {status_word}")
    owners = []
    for applicant in as_list(entry.get("applicants")):
        if isinstance(applicant, dict):
            owners.append(
                Party(
                    name=clean(applicant.get("name")),
                    identifier=clean(applicant.get("identifier")),
                    country=clean(applicant.get("countryCode")),
                    role="applicant",
                )
            )
    if owners and not any(p.name for p in owners):
        notes.append("the register names the applicant by office id only")
    if kind == "trademark":
        classes = tuple(str(c).zfill(2) for c in as_list(entry.get("niceClasses")) if clean(c))
        title = clean((entry.get("wordMarkSpecification") or {}).get("verbalElement"))
        subkind = clean(entry.get("markFeature")).lower()
        registration_number = clean(entry.get("applicationNumber")) if parse_date(entry.get("registrationDate")) else ""
    else:
        classes = tuple(clean(c) for c in as_list(entry.get("locarnoClasses")) if clean(c))
        title = clean(entry.get("verbalElement") or entry.get("productIndication"))
        subkind = "registered_community_design"
        registration_number = clean(entry.get("designNumber"))
    return RegistryRecord(
        office="EUIPO",
        source=OFFICE,
        kind=kind,
        subkind=subkind,
        application_number=clean(entry.get("applicationNumber")),
        registration_number=registration_number,
        title=title,
        status=status,
        status_code=status_word,
        status_text=status_word.replace("_", " ").capitalize(),
        owners=tuple(owners),
        filing_date=parse_date(entry.get("applicationDate")),
        registration_date=parse_date(entry.get("registrationDate")),
        expiry_date=expiry,
        deadlines=deadlines,
        next_due=next_due,
        classification_scheme="Nice" if kind == "trademark" else "Locarno",
        classes=classes,
        # Neither list carries recorded transfers or licences.
        sections=frozenset({"biblio"}),
        derived=tuple(derived),
        notes=tuple(notes),
        source_url=url,
        raw_sha256=raw_sha256,
        read_at=read_at,
    )


def _parse_list(
    body: bytes | str, *, key: str, kind: str, as_of: date | None, read_at: datetime | None, source_url: str
) -> SearchPage:
    data = load_json(body, office=OFFICE, url=source_url)
    if not isinstance(data, dict) or key not in data:
        raise RegistryMalformed(f"not an EUIPO {kind} list (no '{key}')", office=OFFICE, url=source_url)
    read_at = read_at or datetime.now(tz=UTC)
    as_of = as_of or read_at.date()
    raw = body.encode() if isinstance(body, str) else body
    digest = sha256_hex(raw)
    records = tuple(
        _record(e, kind=kind, as_of=as_of, read_at=read_at, raw_sha256=digest, url=source_url)
        for e in as_list(data[key])
        if isinstance(e, dict)
    )
    total = data.get("totalElements")
    return SearchPage(
        records=records,
        total=int(total) if isinstance(total, int) else len(records),
        page=int(data.get("page") or 0),
        size=int(data.get("size") or len(records)),
    )


def parse_trademarks(
    body: bytes | str, *, as_of: date | None = None, read_at: datetime | None = None, source_url: str = ""
) -> SearchPage:
    return _parse_list(body, key="trademarks", kind="trademark", as_of=as_of, read_at=read_at, source_url=source_url)


def parse_designs(
    body: bytes | str, *, as_of: date | None = None, read_at: datetime | None = None, source_url: str = ""
) -> SearchPage:
    return _parse_list(body, key="designs", kind="design", as_of=as_of, read_at=read_at, source_url=source_url)


def trademark_number_normalise(number: str) -> str:
    digits = re.sub(r"^(EU|EM|EUTM)\s*", "", str(number).strip().upper())
    digits = re.sub(r"[\s.,/-]", "", digits)
    if not re.fullmatch(r"\d{1,9}", digits):
        raise InvalidRegistryNumber(f"not an EU trade mark number: {number!r}", office=OFFICE)
    return digits.zfill(9)


def design_number_normalise(number: str) -> str:
    match = re.fullmatch(r"(?:EU|EM|RCD)?\s*0*(\d{1,9})\s*-\s*(\d{1,4})", str(number).strip().upper())
    if not match:
        raise InvalidRegistryNumber(f"not a Community design number (000000000-0000): {number!r}", office=OFFICE)
    return f"{match.group(1).zfill(9)}-{match.group(2).zfill(4)}"


class EuipoClient:
    """Reads EU trade marks and designs from the EUIPO APIs (or the sandbox registry)."""

    _token_lock = threading.Lock()

    def __init__(
        self,
        *,
        base_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_url: str | None = None,
        http: RegistryHttp | None = None,
    ) -> None:
        self.base_url = (base_url or settings.EUIPO_BASE_URL).rstrip("/")
        self.client_id = client_id if client_id is not None else settings.EUIPO_CLIENT_ID
        self.client_secret = client_secret if client_secret is not None else settings.EUIPO_CLIENT_SECRET
        # The real token endpoint lives on another host; the sandbox serves it under the base URL.
        self.token_url = token_url or settings.EUIPO_TOKEN_URL or f"{self.base_url}/oidc/accessToken"
        self.http = http or RegistryHttp(office=OFFICE)
        self._token = ""
        self._token_expires = 0.0

    def _access_token(self) -> str:
        with self._token_lock:
            if self._token and time.monotonic() < self._token_expires:
                return self._token
            response = self.http.post(
                self.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "scope": "uid",
                },
            )
            payload = response.json()
            token = payload.get("access_token") if isinstance(payload, dict) else None
            if not token:
                raise RegistryUnavailable("the token endpoint gave no access token", office=OFFICE, url=self.token_url)
            expires = float(payload.get("expires_in") or 600)
            self._token, self._token_expires = str(token), time.monotonic() + max(30.0, expires - 60)
            return self._token

    def _search(self, path: str, query: str) -> Any:
        return self.http.get(
            f"{self.base_url}{path}",
            params={"query": query, "page": 0, "size": 10},
            headers={
                "Authorization": f"Bearer {self._access_token()}",
                "X-IBM-Client-Id": self.client_id,
                "Accept": "application/json",
            },
            expect="json",
        )

    def trademark(self, application_number: str, *, as_of: date | None = None) -> RegistryRecord:
        number = trademark_number_normalise(application_number)
        response = self._search("/trademark-search/trademarks", f"applicationNumber=={number}")
        page = parse_trademarks(response.body, as_of=as_of, read_at=response.read_at, source_url=response.url)
        for record in page.records:
            if record.application_number == number:
                return record
        raise RegistryNotFound(f"no EU trade mark {number}", office=OFFICE, url=response.url)

    def design(self, design_number: str, *, as_of: date | None = None) -> RegistryRecord:
        number = design_number_normalise(design_number)
        response = self._search("/design-search/designs", f"designNumber=={number}")
        page = parse_designs(response.body, as_of=as_of, read_at=response.read_at, source_url=response.url)
        for record in page.records:
            if record.registration_number == number:
                return record
        raise RegistryNotFound(f"no Community design {number}", office=OFFICE, url=response.url)

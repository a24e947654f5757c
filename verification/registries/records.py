"""What a register says about a right, in one shape whatever the office.

Each office module turns its own wire format into these frozen dataclasses; nothing above
`verification.registries` sees an office's field names. A figure the office did not state but
we worked out (a US patent's expiry, a maintenance window, a trade mark's next renewal) is
named in `RegistryRecord.derived`, so a reviewer can tell what was read from what was computed.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Status = Literal["pending", "in_force", "grace", "lapsed", "expired", "abandoned", "cancelled"]
STATUSES: tuple[Status, ...] = ("pending", "in_force", "grace", "lapsed", "expired", "abandoned", "cancelled")

ConveyanceKind = Literal[
    "assignment", "security_interest", "release", "licence", "exclusive_licence", "change_of_name", "merger", "other"
]
ENCUMBRANCE_KINDS: frozenset[str] = frozenset({"security_interest", "licence", "exclusive_licence"})


@dataclass(frozen=True)
class Party:
    """An owner, applicant, assignor or assignee as the register names it."""

    name: str
    address: str = ""
    country: str = ""
    role: str = ""  # the office's own words: "SUBSEQUENT OWNER AFTER REGISTRATION", "applicant", ...
    entity_type: str = ""
    identifier: str = ""  # the office's party id where it gives one (EUIPO applicants often have no name)


@dataclass(frozen=True)
class AssignmentRecord:
    """One recorded conveyance: an assignment, a security interest, a release, a licence."""

    conveyance_text: str
    kind: ConveyanceKind
    reel: str = ""
    frame: str = ""
    assignors: tuple[Party, ...] = ()
    assignees: tuple[Party, ...] = ()
    recorded_date: date | None = None
    execution_date: date | None = None
    received_date: date | None = None
    application_numbers: tuple[str, ...] = ()
    patent_numbers: tuple[str, ...] = ()
    page_count: int | None = None
    identifier: str = ""  # the office's own id when it has no reel/frame (TSDR assignment ids)

    @property
    def reel_frame(self) -> str:
        return f"{self.reel}/{self.frame}" if self.reel and self.frame else self.identifier

    @property
    def is_encumbrance(self) -> bool:
        return self.kind in ENCUMBRANCE_KINDS


@dataclass(frozen=True)
class LegalEvent:
    """A dated entry in the office's history of the right (prosecution, INPADOC, TSDR events)."""

    code: str
    description: str
    date: date | None
    country: str = ""
    text: str = ""
    effect: str = ""  # INPADOC's influence: "+" strengthens the right, "-" weakens it


@dataclass(frozen=True)
class Deadline:
    """A maintenance fee or renewal: when its window opens, when it is due and when grace ends."""

    kind: str  # "maintenance_fee_3_5", "section_8", "section_8_9_renewal", "renewal", ...
    due_date: date
    window_opens: date | None = None
    grace_ends: date | None = None
    derived: bool = True
    satisfied: bool | None = None  # True: the register shows it paid/filed; None: the data does not say

    def overdue(self, *, as_of: date) -> bool:
        """Past its grace period with no sign in the register that it was met."""
        end = self.grace_ends or self.due_date
        return self.satisfied is not True and as_of > end

    def in_grace(self, *, as_of: date) -> bool:
        return self.satisfied is not True and self.grace_ends is not None and self.due_date < as_of <= self.grace_ends


@dataclass(frozen=True)
class RegistryRecord:
    """What one register says about one right, read at `read_at` from a response hashing to `raw_sha256`."""

    office: str  # "USPTO", "EUIPO", "EPO"
    source: str  # the register read: "uspto_odp", "tsdr", "euipo", "epo_ops"
    kind: str  # "patent", "trademark", "design"
    subkind: str = ""  # "utility", "design", "plant", "provisional", "collective_membership_mark", ...
    application_number: str = ""
    patent_number: str = ""
    registration_number: str = ""
    publication_number: str = ""
    title: str = ""
    status: Status = "pending"
    status_code: str = ""
    status_text: str = ""
    status_date: date | None = None
    owners: tuple[Party, ...] = ()
    filing_date: date | None = None
    earliest_filing_date: date | None = None  # the date a patent's term runs from
    grant_date: date | None = None
    registration_date: date | None = None
    publication_date: date | None = None
    expiry_date: date | None = None
    deadlines: tuple[Deadline, ...] = ()
    next_due: Deadline | None = None
    classification_scheme: str = ""  # "CPC", "Nice", "Locarno"
    classes: tuple[str, ...] = ()
    assignments: tuple[AssignmentRecord, ...] = ()
    events: tuple[LegalEvent, ...] = ()
    pta_days: int | None = None
    territories_in_force: tuple[str, ...] = ()
    territories_lapsed: tuple[str, ...] = ()
    related_applications: tuple[str, ...] = ()  # continuity: parents and children
    # Which parts of the office's record the response carried ("biblio", "assignments", ...): a
    # check must not read "no assignment recorded" from a response that had no assignment section.
    sections: frozenset[str] = frozenset()
    derived: tuple[str, ...] = ()  # names of fields computed by us rather than read
    notes: tuple[str, ...] = ()
    source_url: str = ""
    raw_sha256: str = ""
    read_at: datetime | None = None

    @property
    def encumbrances(self) -> tuple[AssignmentRecord, ...]:
        """Security interests and licences on record that no recorded release points at."""
        return outstanding_encumbrances(self.assignments)

    @property
    def owner_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.owners if p.name)


# --- helpers shared by the office modules ---------------------------------------------------------


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


_DATE_PREFIX = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})")


def parse_date(value: object) -> date | None:
    """Dates as the offices write them: 2016-09-02, 20020423, 1995-02-07-05:00,
    2006-09-14T04:00:00Z. Placeholders such as 0001-01-01 mean "none"."""
    if value is None:
        return None
    text = str(value).strip()
    match = _DATE_PREFIX.match(text)
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    if year <= 1 or month == 0 or day == 0:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def add_months(day: date, months: int) -> date:
    """Calendar months, clamped to the month's end (29 Feb + 12 months -> 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


def conveyance_kind(text: str) -> ConveyanceKind:  # noqa: PLR0911 - a rule table
    """Classify a recorded conveyance by the office's own text. A release is checked first:
    "RELEASE OF SECURITY INTEREST" lifts an encumbrance rather than adding one."""
    upper = " ".join(text.upper().split())
    if "RELEASE" in upper or "TERMINATION" in upper or "SATISFACTION" in upper:
        return "release"
    if any(word in upper for word in ("SECURITY", "LIEN", "MORTGAGE", "COLLATERAL", "PLEDGE")):
        return "security_interest"
    if "LICENSE" in upper or "LICENCE" in upper:
        return "licence" if "NON-EXCLUSIVE" in upper or "NONEXCLUSIVE" in upper else "exclusive_licence"
    if "MERGER" in upper:
        return "merger"
    if "CHANGE OF NAME" in upper or "NAME CHANGE" in upper:
        return "change_of_name"
    if "ASSIGN" in upper:
        return "assignment"
    return "other"


_REEL_FRAME_REFERENCE = re.compile(r"REEL\s*:?\s*0*(\d+)\s*/?\s*,?\s*FRAME\s*:?\s*0*(\d+)", re.IGNORECASE)


def outstanding_encumbrances(assignments: tuple[AssignmentRecord, ...]) -> tuple[AssignmentRecord, ...]:
    """Encumbrances not lifted by a release that names their reel and frame. A release that
    does not say which interest it ends is not guessed at: the interest stays for review."""
    released: set[tuple[str, str]] = set()
    for record in assignments:
        if record.kind == "release":
            for reel, frame in _REEL_FRAME_REFERENCE.findall(record.conveyance_text):
                released.add((reel.lstrip("0"), frame.lstrip("0")))
    return tuple(
        record
        for record in assignments
        if record.is_encumbrance and (record.reel.lstrip("0"), record.frame.lstrip("0")) not in released
    )


def next_deadline(deadlines: tuple[Deadline, ...], *, as_of: date) -> Deadline | None:
    """The earliest deadline not known to be met whose grace period has not ended; failing
    that, the latest overdue one (so an overdue fee is shown, not hidden)."""
    open_ones = [d for d in deadlines if d.satisfied is not True]
    upcoming = sorted((d for d in open_ones if (d.grace_ends or d.due_date) >= as_of), key=lambda d: d.due_date)
    if upcoming:
        return upcoming[0]
    overdue = sorted(open_ones, key=lambda d: d.due_date)
    return overdue[-1] if overdue else None


@dataclass(frozen=True)
class AssignmentSearchResult:
    """The recorded conveyances a search found, with the total the office reported."""

    assignments: tuple[AssignmentRecord, ...]
    total: int
    source_url: str = ""
    raw_sha256: str = ""
    read_at: datetime | None = None
    truncated: bool = False  # more were on record than we fetched

    @property
    def encumbrances(self) -> tuple[AssignmentRecord, ...]:
        return outstanding_encumbrances(self.assignments)


@dataclass(frozen=True)
class SearchPage:
    """A page of records from a search endpoint (EUIPO lists)."""

    records: tuple[RegistryRecord, ...]
    total: int
    page: int = 0
    size: int = 0
    extra: dict[str, object] = field(default_factory=dict, compare=False)

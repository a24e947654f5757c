"""Writes to the sandbox register: seeding, status changes and recorded assignments.

Staff use the last two through the admin to demonstrate monitoring (a right lapses, an
assignment or a security interest is recorded) and, later, filing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from sandbox_registry.models import (
    OFFICE_OF_KIND,
    AssignmentParty,
    AssignmentPartyRole,
    AssignmentRegister,
    Kind,
    PartyRole,
    RecordedAssignment,
    RegisterEntry,
    RegisterEvent,
    RegisterParty,
)
from sandbox_registry.seeding import AssignmentSeed, EntrySeed, Seeds
from sandbox_registry.vocabulary import STATUSES

# Series code 99 is not one the USPTO gives applications: numbers the sandbox assigns itself
# (for catalogue patents whose source states no application number) cannot collide with real ones.
ASSIGNED_SERIES = "99"
BATCH = 1000
OWNERSHIP_WORDS = ("ASSIGN", "MERGER", "CHANGE OF NAME", "NAME CHANGE")


class SandboxError(ValueError):
    """A change the register refuses; nothing was written."""


@dataclass
class SeedReport:
    entries_created: int = 0
    entries_present: int = 0
    assignments_created: int = 0
    assignments_present: int = 0
    parties_created: int = 0
    events_created: int = 0
    numbers_assigned: int = 0
    sources: dict[str, int] = field(default_factory=dict)


@transaction.atomic
def register_seed(*, seeds: Seeds) -> SeedReport:
    """Write the seeds the register does not hold yet; a right or a conveyance already held (by
    any of its numbers, or reel/frame) is left as it is, so staff's changes survive a re-seed."""
    report = SeedReport(sources=dict(seeds.sources))
    known: set[tuple[str, str, str]] = set()
    for kind, application, patent, registration, publication in RegisterEntry.objects.values_list(
        "kind", "application_number", "patent_number", "registration_number", "publication_number"
    ):
        probe = EntrySeed(
            kind=kind,
            fields={
                "application_number": application,
                "patent_number": patent,
                "registration_number": registration,
                "publication_number": publication,
            },
        )
        known.update(probe.keys())

    fresh: list[EntrySeed] = []
    seen: set[tuple[str, str, str]] = set()
    for seed in seeds.entries:
        keys = seed.keys()
        if not keys:
            continue
        if any(k in known for k in keys):
            report.entries_present += 1
        elif not any(k in seen for k in keys):
            # A right several sources name (a NASA patent also in a Google export) is written
            # once, from the first source: the registry files come first, as the fullest.
            fresh.append(seed)
        seen.update(keys)

    next_number = _next_assigned_number()
    for seed in fresh:
        if seed.kind == Kind.US_PATENT and not seed.fields.get("application_number"):
            seed.fields["application_number"] = f"{ASSIGNED_SERIES}{next_number:06d}"
            seed.fields["application_number_assigned"] = True
            next_number += 1
            report.numbers_assigned += 1

    entries = [RegisterEntry(**{**s.fields, "kind": s.kind, "office": OFFICE_OF_KIND[Kind(s.kind)]}) for s in fresh]
    RegisterEntry.objects.bulk_create(entries, batch_size=BATCH)
    report.entries_created = len(entries)
    parties = [RegisterParty(entry=e, **p) for e, s in zip(entries, fresh, strict=True) for p in s.parties]
    events = [RegisterEvent(entry=e, **ev) for e, s in zip(entries, fresh, strict=True) for ev in s.events]
    RegisterParty.objects.bulk_create(parties, batch_size=BATCH)
    RegisterEvent.objects.bulk_create(events, batch_size=BATCH)
    report.parties_created, report.events_created = len(parties), len(events)

    _assignments_seed(seeds.assignments, report)
    return report


def _next_assigned_number() -> int:
    highest = RegisterEntry.objects.filter(kind=Kind.US_PATENT, application_number_assigned=True).aggregate(
        Max("application_number")
    )["application_number__max"]
    return int(highest[len(ASSIGNED_SERIES) :]) + 1 if highest else 1


def _assignments_seed(seeds: list[AssignmentSeed], report: SeedReport) -> None:
    held = set(RecordedAssignment.objects.values_list("register", "reel", "frame"))
    fresh: list[AssignmentSeed] = []
    for seed in seeds:
        key = (seed.register, seed.fields["reel"], seed.fields["frame"])
        if key in held:
            report.assignments_present += 1
            continue
        held.add(key)
        fresh.append(seed)
    if not fresh:
        return
    rows = [RecordedAssignment(register=s.register, **s.fields) for s in fresh]
    RecordedAssignment.objects.bulk_create(rows, batch_size=BATCH)
    AssignmentParty.objects.bulk_create(
        [AssignmentParty(assignment=a, **p) for a, s in zip(rows, fresh, strict=True) for p in s.parties],
        batch_size=BATCH,
    )
    wanted = {k for s in fresh for k in s.properties}
    by_key: dict[tuple[str, str, str], int] = {}
    for name in ("application_number", "patent_number"):
        values = [v for (_kind, n, v) in wanted if n == name]
        for kind, value, pk in RegisterEntry.objects.filter(**{f"{name}__in": values}).values_list("kind", name, "id"):
            by_key[(kind, name, value)] = pk
    through = RecordedAssignment.properties.through
    links = [
        through(recordedassignment_id=a.pk, registerentry_id=by_key[k])
        for a, s in zip(rows, fresh, strict=True)
        for k in dict.fromkeys(s.properties)
        if k in by_key
    ]
    through.objects.bulk_create(links, batch_size=BATCH)
    report.assignments_created = len(rows)


@transaction.atomic
def entry_status_set(*, entry: RegisterEntry, outcome: str, on: date | None = None) -> RegisterEntry:
    """Put a right into one of the outcomes of `vocabulary.STATUSES`, in its office's words."""
    vocabulary = STATUSES.get(entry.kind, {})
    if outcome not in vocabulary:
        raise SandboxError(f"{entry.get_kind_display()} has no '{outcome}' status in the sandbox's vocabulary")
    locked = RegisterEntry.objects.select_for_update().get(pk=entry.pk)
    locked.status_code, locked.status_text = vocabulary[outcome]
    locked.status_date = on or timezone.localdate()
    locked.save(update_fields=["status_code", "status_text", "status_date", "updated_at"])
    return locked


@dataclass(frozen=True)
class PartyIn:
    name: str
    execution_date: date | None = None
    address_line_1: str = ""
    address_line_2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country_name: str = ""
    entity_type: str = ""


@transaction.atomic
def assignment_record(
    *,
    entries: Iterable[RegisterEntry],
    conveyance_text: str,
    assignors: list[PartyIn],
    assignees: list[PartyIn],
    recorded_date: date | None = None,
    page_count: int | None = None,
) -> RecordedAssignment:
    """Record a conveyance at the next free reel/frame, against rights of one register (a US
    cover sheet covers patents or trademarks, never both)."""
    properties = list(entries)
    kinds = {e.kind for e in properties}
    if not properties or not kinds <= {Kind.US_PATENT, Kind.US_TRADEMARK} or len(kinds) != 1:
        raise SandboxError("a recorded assignment covers US patents or US trademarks, one register at a time")
    if not conveyance_text.strip() or not assignors or not assignees:
        raise SandboxError("a conveyance needs its text, at least one assignor and at least one assignee")
    if any(not p.name.strip() for p in [*assignors, *assignees]):
        raise SandboxError("every party needs a name")
    register = AssignmentRegister.PATENT if kinds == {Kind.US_PATENT} else AssignmentRegister.TRADEMARK
    # Reels are handed out in order; the lock keeps two staff members from taking the same one.
    RecordedAssignment.objects.select_for_update().filter(register=register).order_by("-reel").first()
    highest = RecordedAssignment.objects.filter(register=register).aggregate(Max("reel"))["reel__max"] or 80000
    assignment = RecordedAssignment.objects.create(
        register=register,
        reel=highest + 1,
        frame=1,
        conveyance_text=conveyance_text.strip(),
        recorded_date=recorded_date or timezone.localdate(),
        received_date=recorded_date or timezone.localdate(),
        page_count=page_count,
    )
    AssignmentParty.objects.bulk_create(
        [AssignmentParty(assignment=assignment, role=AssignmentPartyRole.ASSIGNOR, **vars(p)) for p in assignors]
        + [AssignmentParty(assignment=assignment, role=AssignmentPartyRole.ASSIGNEE, **vars(p)) for p in assignees]
    )
    assignment.properties.set(properties)
    assignment_owners_update(assignment=assignment)
    return assignment


def assignment_owners_update(*, assignment: RecordedAssignment) -> int:
    """TSDR names the owner of record in the mark's own record: a recorded transfer of ownership
    adds the assignees as the newest owners. (ODP states owners through the assignments
    themselves, so patents need nothing more.) Returns the owners added."""
    if assignment.register != AssignmentRegister.TRADEMARK:
        return 0
    text = assignment.conveyance_text.upper()
    if "SECURITY" in text or "RELEASE" in text or "LICEN" in text or not any(w in text for w in OWNERSHIP_WORDS):
        return 0
    added = 0
    assignees = list(assignment.parties.filter(role=AssignmentPartyRole.ASSIGNEE))
    for entry in assignment.properties.all():
        top = entry.parties.filter(role=PartyRole.APPLICANT).aggregate(Max("sequence"))["sequence__max"] or 10
        registered = entry.registration_number != ""
        for party in assignees:
            fields: dict[str, Any] = {
                "role": PartyRole.APPLICANT,
                "name": party.name,
                "role_text": "SUBSEQUENT OWNER AFTER REGISTRATION" if registered else "ASSIGNEE",
            }
            if entry.parties.filter(role=PartyRole.APPLICANT, name=party.name, sequence=top).exists():
                continue  # already the owner of record (the admin saved the assignment twice)
            RegisterParty.objects.create(
                entry=entry,
                sequence=top + 1,
                entity_type=party.entity_type,
                address_line_1=party.address_line_1,
                address_line_2=party.address_line_2,
                city=party.city,
                region=party.region,
                postal_code=party.postal_code,
                **fields,
            )
            added += 1
    return added

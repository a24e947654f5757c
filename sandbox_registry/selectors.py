"""Reads of the sandbox register, with everything a wire format needs fetched in one go."""

from __future__ import annotations

import re

from django.db.models import Prefetch, Q, QuerySet

from sandbox_registry.models import Kind, RecordedAssignment, RegisterEntry


def entries_with_everything() -> QuerySet[RegisterEntry]:
    return RegisterEntry.objects.prefetch_related(
        "parties",
        "events",
        Prefetch(
            "assignments",
            queryset=RecordedAssignment.objects.prefetch_related("parties", "properties").order_by(
                "recorded_date", "reel", "frame"
            ),
        ),
    )


def us_patent_get(*, application_number: str) -> RegisterEntry | None:
    return entries_with_everything().filter(kind=Kind.US_PATENT, application_number=application_number).first()


def us_patents_search(*, field: str, value: str) -> QuerySet[RegisterEntry]:
    entries = entries_with_everything().filter(kind=Kind.US_PATENT)
    if field == "patentNumber":
        return entries.filter(patent_number=value)
    if field == "applicationNumberText":
        return entries.filter(application_number=value)
    if field == "applicationStatusCode":
        return entries.filter(status_code=value)
    if field == "inventionTitle":
        return entries.filter(title__icontains=value)
    return entries.none()


def us_trademark_get(*, serial: str = "", registration: str = "") -> RegisterEntry | None:
    entries = entries_with_everything().filter(kind=Kind.US_TRADEMARK)
    if serial:
        return entries.filter(application_number=serial).first()
    return entries.filter(registration_number=registration).first()


def patent_assignments_lookup(*, filter_name: str, query: str) -> QuerySet[RecordedAssignment] | None:
    """Conveyances recorded against the properties a lookup names; None for a filter the office
    does not offer."""
    assignments = RecordedAssignment.objects.filter(register="patent")
    if filter_name == "PatentNumber":
        scope = Q(properties__patent_number=query)
    elif filter_name == "ApplicationNumber":
        scope = Q(properties__application_number=query)
    elif filter_name == "PublicationNumber":
        scope = Q(properties__publication_number__icontains=query)
    elif filter_name == "ReelFrame":
        match = re.fullmatch(r"0*(\d+)-0*(\d+)", query)
        if not match:
            return assignments.none()
        scope = Q(reel=int(match.group(1)), frame=int(match.group(2)))
    else:
        return None
    # Newest execution first, as the real search sorts with ExecutionDate desc.
    ids = assignments.filter(scope).values("id")
    return (
        RecordedAssignment.objects.filter(id__in=ids)
        .prefetch_related("parties", "properties")
        .order_by("-recorded_date", "-reel", "-frame")
    )


def eu_rights_search(*, kind: str, criteria: dict[str, str]) -> QuerySet[RegisterEntry]:
    fields = {
        "applicationNumber": "application_number",
        "designNumber": "registration_number",
        "registrationNumber": "registration_number",
        "status": "status_code",
    }
    entries = RegisterEntry.objects.filter(kind=kind).prefetch_related("parties")
    for name, value in criteria.items():
        entries = entries.filter(**{fields[name]: value})
    return entries.order_by("application_number", "registration_number")


EU_SEARCH_FIELDS = frozenset({"applicationNumber", "designNumber", "registrationNumber", "status"})


def ep_patent_get(*, scheme: str, number: str) -> RegisterEntry | None:
    entries = RegisterEntry.objects.filter(kind=Kind.EP_PATENT).prefetch_related("events")
    if scheme == "docdb":
        parts = number.split(".")
        if len(parts) != 3:
            return None
        country, digits, kind = parts
        return entries.filter(publication_number=f"{country}{digits.lstrip('0').zfill(7)}{kind}").first()
    match = re.fullmatch(r"([A-Z]{2})0*(\d+)", number)
    if not match:
        return None
    prefix = f"{match.group(1)}{match.group(2).zfill(7)}"
    # epodoc names the publication without its kind: the latest publication answers (B before A).
    return entries.filter(publication_number__regex=rf"^{prefix}[A-Z]").order_by("-publication_number").first()

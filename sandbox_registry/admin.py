"""The sandbox register in the main site's admin: staff change a right's status (plain editing,
or an action putting it in the office's own words) and record assignments, to demonstrate
monitoring and filing against a register that answers like the real ones."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from sandbox_registry import services
from sandbox_registry.models import AssignmentParty, RecordedAssignment, RegisterEntry, RegisterEvent, RegisterParty


class RegisterPartyInline(admin.TabularInline[RegisterParty, RegisterEntry]):
    model = RegisterParty
    extra = 0
    fields = (
        "role",
        "sequence",
        "role_text",
        "name",
        "identifier",
        "entity_type",
        "address_line_1",
        "city",
        "region",
        "postal_code",
        "country_code",
    )


class RegisterEventInline(admin.TabularInline[RegisterEvent, RegisterEntry]):
    model = RegisterEvent
    extra = 0
    fields = ("date", "code", "description", "country", "effect")


def _status_action(outcome: str) -> Any:
    def action(modeladmin: RegisterEntryAdmin, request: HttpRequest, queryset: QuerySet[RegisterEntry]) -> None:
        changed, refused = 0, []
        for entry in queryset:
            try:
                services.entry_status_set(entry=entry, outcome=outcome)
                changed += 1
            except services.SandboxError as exc:
                refused.append(str(exc))
        if changed:
            modeladmin.message_user(request, f"{changed} right(s) now read as {outcome.replace('_', ' ')}.")
        for reason in dict.fromkeys(refused):
            modeladmin.message_user(request, reason, level=messages.WARNING)

    action.__name__ = f"mark_{outcome}"
    return admin.action(description=f"Set status: {outcome.replace('_', ' ')} (in the office's words)")(action)


@admin.register(RegisterEntry)
class RegisterEntryAdmin(admin.ModelAdmin[RegisterEntry]):
    list_display = (
        "kind",
        "application_number",
        "patent_number",
        "registration_number",
        "publication_number",
        "title",
        "status_code",
        "status_text",
        "status_date",
    )
    list_filter = ("office", "kind", "status_code", "application_number_assigned")
    search_fields = (
        "application_number",
        "patent_number",
        "registration_number",
        "publication_number",
        "title",
        "parties__name",
    )
    readonly_fields = ("updated_at", "source")
    inlines = [RegisterPartyInline, RegisterEventInline]
    actions = [_status_action(o) for o in ("in_force", "expired", "lapsed", "abandoned", "cancelled", "pending")]
    fieldsets = (
        (None, {"fields": ("office", "kind", "application_type", "title", "source", "updated_at")}),
        (
            "Numbers",
            {
                "fields": (
                    "application_number",
                    "application_number_assigned",
                    "patent_number",
                    "registration_number",
                    "publication_number",
                )
            },
        ),
        ("Status, in the office's words", {"fields": ("status_code", "status_text", "status_date")}),
        (
            "Dates",
            {
                "fields": (
                    "filing_date",
                    "publication_date",
                    "grant_date",
                    "registration_date",
                    "renewal_date",
                    "expiry_date",
                )
            },
        ),
        (
            "More",
            {
                "fields": (
                    "classes",
                    "pta_days",
                    "parent_application_number",
                    "parent_relation",
                    "parent_filing_date",
                    "details",
                )
            },
        ),
    )


class AssignmentPartyInline(admin.TabularInline[AssignmentParty, RecordedAssignment]):
    model = AssignmentParty
    extra = 2
    fields = (
        "role",
        "name",
        "execution_date",
        "entity_type",
        "address_line_1",
        "city",
        "region",
        "postal_code",
        "country_name",
    )


@admin.register(RecordedAssignment)
class RecordedAssignmentAdmin(admin.ModelAdmin[RecordedAssignment]):
    list_display = ("reel_frame", "register", "conveyance_text", "recorded_date")
    list_filter = ("register",)
    search_fields = ("conveyance_text", "parties__name", "properties__patent_number", "properties__application_number")
    autocomplete_fields = ("properties",)
    inlines = [AssignmentPartyInline]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # A trade mark's record names its owner itself: an ownership transfer adds the assignee.
        services.assignment_owners_update(assignment=form.instance)

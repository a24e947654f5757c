"""Staff review of verification runs in the admin.

The run list opens on the review queue: runs needing review or passed with warnings, not yet
decided, oldest first. A run's page shows the register's facts, the listing's claims and the
uploaded documents side by side, with the approve / reject form; deciding needs the
`verification.decide_verificationrun` permission (the Verification reviewers group), checked
again by the service.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse

from accounts.models import User
from verification.checks import CHECK_TITLES
from verification.models import (
    REVIEW_STATES,
    CheckOutcome,
    Notification,
    RegistryEvidence,
    ReviewDecision,
    Trigger,
    VerificationRun,
)
from verification.services import ReviewError, listing_verify_now, right_verify_now, run_decide
from verification.services.review import DECIDE_PERMISSION


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("waiting", "Waiting for a decision"), ("decided", "Decided"), ("all", "All runs")]

    def choices(self, changelist: Any) -> Any:
        # "All" is an explicit choice: the list opens on the queue.
        for lookup, title in self.lookup_choices:
            yield {
                "selected": (self.value() or "waiting") == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value() or "waiting"
        if value == "waiting":
            return queryset.filter(state__in=REVIEW_STATES, decision__isnull=True)
        if value == "decided":
            return queryset.filter(decision__isnull=False)
        return queryset


class CheckOutcomeInline(admin.TabularInline[CheckOutcome, VerificationRun]):
    model = CheckOutcome
    extra = 0
    fields = ("name", "outcome", "score", "evidence")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: VerificationRun | None = None) -> bool:
        return False


@admin.register(VerificationRun)
class VerificationRunAdmin(admin.ModelAdmin[VerificationRun]):
    list_display = ("id", "right", "listing", "trigger", "state", "owner_score", "created_at", "decided")
    list_filter = (QueueFilter, "state", "trigger")
    search_fields = ("right__title", "right__application_number", "right__registration_number", "seller_name")
    ordering = ("created_at", "id")  # oldest first: the queue is worked in order
    list_select_related = ("right", "listing", "decision")
    readonly_fields = (
        "right",
        "listing",
        "trigger",
        "state",
        "requested_by",
        "seller_name",
        "register",
        "summary",
        "error",
        "attempts",
        "created_at",
        "started_at",
        "finished_at",
    )
    exclude = ("facts", "claims")
    inlines = [CheckOutcomeInline]
    actions = ["verify_again"]
    change_form_template = "verification/admin/run_change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: VerificationRun | None = None) -> bool:
        return False

    @admin.display(description="owner match")
    def owner_score(self, run: VerificationRun) -> str:
        check = next((c for c in run.checks.all() if c.name == "owner"), None)
        return f"{check.score:.2f}" if check is not None and check.score is not None else "-"

    @admin.display(description="decision")
    def decided(self, run: VerificationRun) -> str:
        decision = getattr(run, "decision", None)
        return decision.get_decision_display() if decision is not None else "-"

    def get_queryset(self, request: HttpRequest) -> QuerySet[VerificationRun]:
        return super().get_queryset(request).prefetch_related("checks")

    def get_urls(self) -> list[Any]:
        return [
            path("<int:run_id>/decide/", self.admin_site.admin_view(self.decide_view), name="verification_run_decide"),
            path(
                "evidence/<int:evidence_id>/",
                self.admin_site.admin_view(self.evidence_view),
                name="verification_evidence_raw",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        run = get_object_or_404(VerificationRun.objects.select_related("right", "listing__seller"), pk=object_id)
        listing = run.listing
        context = {
            **(extra_context or {}),
            "run": run,
            "facts": run.facts,
            "claims": run.claims,
            "checks": [(CHECK_TITLES.get(c.name, c.name), c) for c in run.checks.all()],
            "documents": list(listing.documents.all()) if listing is not None else [],
            "evidence": list(run.evidence.defer("body")),
            "decision": ReviewDecision.objects.filter(run=run).select_related("decided_by").first(),
            "can_decide": request.user.has_perm(DECIDE_PERMISSION) and run.state in REVIEW_STATES,
            "decide_url": reverse("admin:verification_run_decide", args=[run.pk]),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)

    def decide_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        run = get_object_or_404(VerificationRun, pk=run_id)
        change_url = reverse("admin:verification_verificationrun_change", args=[run.pk])
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        if not request.user.has_perm(DECIDE_PERMISSION):
            return HttpResponseForbidden("Only verification reviewers can decide on a verification run.")
        assert isinstance(request.user, User)
        try:
            decision = run_decide(
                run=run,
                acting_user=request.user,
                decision=request.POST.get("decision", ""),
                reason=request.POST.get("reason", ""),
            )
        except ReviewError as error:
            self.message_user(request, str(error), messages.ERROR)
        else:
            self.message_user(request, f"Decision recorded: {decision.get_decision_display().lower()}.")
        return HttpResponseRedirect(change_url)

    def evidence_view(self, request: HttpRequest, evidence_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            return HttpResponseForbidden()
        evidence = get_object_or_404(RegistryEvidence, pk=evidence_id)
        # Served as plain text whatever the office sent: the raw answer is evidence, never a page.
        response = HttpResponse(bytes(evidence.body), content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="evidence-{evidence.pk}-{evidence.sha256[:12]}.txt"'
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @admin.action(description="Verify the selected runs' rights again now")
    def verify_again(self, request: HttpRequest, queryset: QuerySet[VerificationRun]) -> None:
        assert isinstance(request.user, User)
        done: set[tuple[str, int]] = set()
        for run in queryset.select_related("listing", "right"):
            if run.listing is not None:
                key = ("listing", run.listing.pk)
                if key not in done:
                    verdict = listing_verify_now(listing=run.listing, trigger=Trigger.STAFF, requested_by=request.user)
                    self.message_user(request, f"{run.listing}: {verdict}.")
            else:
                key = ("right", run.right.pk)
                if key not in done:
                    fresh = right_verify_now(right=run.right, requested_by=request.user)
                    self.message_user(request, f"{run.right}: {fresh.get_state_display().lower()}.")
            done.add(key)


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(admin.ModelAdmin[ReviewDecision]):
    """The audit trail: read-only."""

    list_display = ("run", "decision", "decided_by", "decided_at")
    list_filter = ("decision",)
    readonly_fields = ("run", "decision", "decided_by", "reason", "decided_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ReviewDecision | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ReviewDecision | None = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = ("title", "user", "kind", "created_at", "read_at", "emailed_at")
    list_filter = ("kind",)
    search_fields = ("title", "user__email")
    readonly_fields = ("user", "kind", "title", "body", "url", "right", "listing", "dedupe_key", "created_at")

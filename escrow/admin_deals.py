"""Deals, offers and the fee schedule in the staff admin.

Deals and offers are read-only: their states move only through the services, which the admin
actions call ("mark recorded" until the filings workflow exists; the dispute decision, which
needs the `escrow.decide_dispute` permission and a reason, and is audited on the timeline).
Imported by escrow/admin.py so that Django's admin autodiscovery registers it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts.models import User
from escrow import services
from escrow.models import Deal, DealEvent, DealFee, FeeSchedule, Offer
from escrow.services.deals import DisputeOutcome


class DealEventInline(admin.TabularInline[DealEvent, Deal]):
    model = DealEvent
    fields = ("at", "from_state", "to_state", "actor", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DealFeeInline(admin.TabularInline[DealFee, Deal]):
    model = DealFee
    fields = ("kind", "basis", "buyer_amount", "seller_amount")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _staff(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin[Deal]):
    list_display = ("id", "listing", "buyer", "seller", "price_money", "state", "payment_deadline", "created_at")
    list_filter = ("state", "currency", "deal_type")
    search_fields = ("id", "listing__title", "buyer__email", "seller__email", "payment_reference")
    list_select_related = ("listing", "buyer", "seller")
    inlines = [DealFeeInline, DealEventInline]
    actions = ["mark_recorded", "decide_release", "decide_refund"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in Deal._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Mark the transfer recorded (by hand, until filings exist)")
    def mark_recorded(self, request: HttpRequest, queryset: QuerySet[Deal]) -> None:
        for deal in queryset.order_by("pk"):
            try:
                services.deal_mark_recorded(deal=deal, acting_user=_staff(request), note="Marked recorded by staff.")
            except services.DealError as error:
                self.message_user(request, f"Deal #{deal.pk}: {error}", messages.ERROR)
            else:
                self.message_user(request, f"Deal #{deal.pk} is recorded.", messages.SUCCESS)

    def _decide(self, request: HttpRequest, queryset: QuerySet[Deal], outcome: str) -> HttpResponse | None:
        reason = request.POST.get("reason", "").strip()
        if "apply" not in request.POST or not reason:
            return TemplateResponse(
                request,
                "escrow/admin/decide_dispute.html",
                {
                    **self.admin_site.each_context(request),
                    "title": f"Decide the dispute: {outcome}",
                    "deals": queryset,
                    "outcome": outcome,
                    "action": f"decide_{outcome}",
                    "missing_reason": "apply" in request.POST,
                    "opts": self.model._meta,
                },
            )
        for deal in queryset.order_by("pk"):
            try:
                services.deal_dispute_decide(deal=deal, acting_user=_staff(request), outcome=outcome, reason=reason)
            except services.DealError as error:
                self.message_user(request, f"Deal #{deal.pk}: {error}", messages.ERROR)
            else:
                self.message_user(request, f"Deal #{deal.pk}: decided for a {outcome}.", messages.SUCCESS)
        return None

    @admin.action(description="Decide dispute: release to the seller", permissions=["decide_dispute"])
    def decide_release(self, request: HttpRequest, queryset: QuerySet[Deal]) -> HttpResponse | None:
        return self._decide(request, queryset, DisputeOutcome.RELEASE)

    @admin.action(description="Decide dispute: refund the buyer", permissions=["decide_dispute"])
    def decide_refund(self, request: HttpRequest, queryset: QuerySet[Deal]) -> HttpResponse | None:
        return self._decide(request, queryset, DisputeOutcome.REFUND)

    def has_decide_dispute_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("escrow.decide_dispute")


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin[Offer]):
    list_display = ("id", "listing", "buyer", "made_by", "money", "state", "expires_at", "created_at")
    list_filter = ("state", "made_by", "currency")
    search_fields = ("id", "listing__title", "buyer__email")
    list_select_related = ("listing", "buyer")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in Offer._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(FeeSchedule)
class FeeScheduleAdmin(admin.ModelAdmin[FeeSchedule]):
    list_display = (
        "id",
        "currency",
        "registration_fee",
        "registration_fee_payer",
        "transaction_fee_basis_points",
        "transaction_fee_payer",
        "broker_fee_basis_points",
        "valuation_fee",
        "translation_fee",
        "active",
        "created_at",
    )
    list_filter = ("currency", "active")
    fieldsets = [
        (None, {"fields": ["currency", "active", "note"]}),
        (
            "Every deal",
            {
                "fields": [
                    "registration_fee",
                    "registration_fee_payer",
                    "transaction_fee_basis_points",
                    "transaction_fee_payer",
                ]
            },
        ),
        (
            "Value-added services (charged only on the deals that ask for them)",
            {
                "fields": [
                    "broker_fee_basis_points",
                    "broker_fee_payer",
                    "valuation_fee",
                    "valuation_fee_payer",
                    "translation_fee",
                    "translation_fee_payer",
                ]
            },
        ),
    ]

"""Margin deposit rules, margin deposits and sellers' Connect accounts in the staff admin.

Rules are edited here (one active per currency: the database refuses a second). Deposits and
Connect accounts are read-only: they move through escrow.margin and escrow.payouts. The one
staff decision, the forfeiture, is an action that needs `escrow.forfeit_margin` (or
`escrow.decide_dispute`) and a reason, kept on the deposit with who decided.
Imported by escrow/admin.py so that Django's admin autodiscovery registers it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts.models import User
from escrow.margin import FORFEIT_PERMISSIONS, MarginError, margin_deposit_forfeit
from escrow.models import ConnectedAccount, MarginDeposit, MarginRule


@admin.register(MarginRule)
class MarginRuleAdmin(admin.ModelAdmin[MarginRule]):
    list_display = ("id", "currency", "basis_points", "minimum", "maximum", "fixed_amount", "active", "created_at")
    list_filter = ("currency", "active")


@admin.register(MarginDeposit)
class MarginDepositAdmin(admin.ModelAdmin[MarginDeposit]):
    list_display = ("id", "listing", "seller", "money", "state", "paid_at", "return_requested_at", "decided_by")
    list_filter = ("state", "currency")
    search_fields = ("listing__title", "seller__email", "payment_intent_id")
    list_select_related = ("listing", "seller", "decided_by")
    actions = ["forfeit"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in MarginDeposit._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_forfeit_permission(self, request: HttpRequest) -> bool:
        return any(request.user.has_perm(perm) for perm in FORFEIT_PERMISSIONS)

    @admin.action(description="Forfeit the margin deposit (with a reason)", permissions=["forfeit"])
    def forfeit(self, request: HttpRequest, queryset: QuerySet[MarginDeposit]) -> HttpResponse | None:
        reason = request.POST.get("reason", "").strip()
        if "apply" not in request.POST or not reason:
            return TemplateResponse(
                request,
                "escrow/admin/forfeit_margin.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Forfeit margin deposits",
                    "deposits": queryset,
                    "missing_reason": "apply" in request.POST,
                    "opts": self.model._meta,
                },
            )
        assert isinstance(request.user, User)
        for deposit in queryset.order_by("pk"):
            try:
                margin_deposit_forfeit(deposit=deposit, acting_user=request.user, reason=reason)
            except MarginError as error:
                self.message_user(request, f"Deposit #{deposit.pk}: {error}", messages.ERROR)
            else:
                self.message_user(request, f"Deposit #{deposit.pk} forfeited.", messages.SUCCESS)
        return None


@admin.register(ConnectedAccount)
class ConnectedAccountAdmin(admin.ModelAdmin[ConnectedAccount]):
    list_display = ("id", "user", "stripe_account_id", "transfers_active", "payouts_enabled", "updated_at")
    search_fields = ("user__email", "stripe_account_id")
    list_select_related = ("user",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in ConnectedAccount._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

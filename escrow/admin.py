"""The ledger in the staff admin: read-only for everyone, finance included.

Money moves only through services (escrow.ledger.journal_post and the deal services above it),
and the database refuses updates and deletes of journals and entries anyway; the admin only
lets staff see and search. A correction is a new journal posted by a service, never an edit.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.db.models import Model, QuerySet, Sum
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from escrow.models import Entry, Journal, LedgerAccount
from escrow.receipts import RECEIPT_ACCOUNT
from marketplace.money import Money, money_format

ModelT = TypeVar("ModelT", bound=Model)


class ReadOnlyAdmin(admin.ModelAdmin[ModelT]):
    # Big ledgers: an exact count of a filtered million-row table is not worth its query.
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _signed_amount(entry: Entry) -> str:
    side = "Dr" if entry.amount > 0 else "Cr"
    return f"{side} {money_format(abs(entry.money))}"


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin[LedgerAccount]):
    list_display = ("id", "kind", "owner", "reference", "currency", "balance", "non_negative", "created_at")
    list_filter = ("kind", "currency", "non_negative")
    search_fields = ("owner__email", "reference")
    list_select_related = ("owner",)
    readonly_fields = ("kind", "owner", "currency", "reference", "normal_balance", "non_negative", "created_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[LedgerAccount]:
        # One aggregate query for the whole page rather than one per row.
        return super().get_queryset(request).annotate(entries_total=Sum("entries__amount"))

    @admin.display(description="balance")
    def balance(self, account: LedgerAccount) -> str:
        total: int = getattr(account, "entries_total", None) or 0
        return money_format(Money(account.sign * total, account.currency))


class EntryInline(admin.TabularInline[Entry, Journal]):
    model = Entry
    fields = ("account", "amount_display")
    readonly_fields = ("account", "amount_display")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Entry]:
        return super().get_queryset(request).select_related("account", "account__owner")

    @admin.display(description="amount")
    def amount_display(self, entry: Entry) -> str:
        return _signed_amount(entry)


@admin.register(Journal)
class JournalAdmin(ReadOnlyAdmin[Journal]):
    list_display = ("id", "created_at", "kind", "description", "reference", "acting_user", "idempotency_key")
    list_filter = ("kind",)
    search_fields = ("idempotency_key", "reference", "description")
    list_select_related = ("acting_user",)
    readonly_fields = ("kind", "idempotency_key", "description", "reference", "acting_user", "created_at", "receipt")
    exclude = ("posted_txid",)
    date_hierarchy = "created_at"
    inlines = [EntryInline]

    @admin.display(description="receipt")
    def receipt(self, journal: Journal) -> str:
        """The party's PDF receipt of this movement, for finance staff (escrow.receipts)."""
        if journal.kind not in RECEIPT_ACCOUNT:
            return "-"
        url = reverse("escrow:receipt", args=[journal.pk])
        return format_html('<a href="{}">PDF receipt</a>', url)


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin[Entry]):
    list_display = ("id", "journal_link", "journal_kind", "account", "amount_display", "created_at")
    list_filter = ("currency", "journal__kind", "account__kind")
    search_fields = ("journal__idempotency_key", "journal__reference", "account__reference", "account__owner__email")
    list_select_related = ("journal", "account", "account__owner")
    readonly_fields = ("journal", "account", "amount", "currency")

    @admin.display(description="journal", ordering="journal_id")
    def journal_link(self, entry: Entry) -> str:
        return f"#{entry.journal_id}"

    @admin.display(description="event", ordering="journal__kind")
    def journal_kind(self, entry: Entry) -> str:
        return entry.journal.get_kind_display()

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, entry: Entry) -> str:
        return _signed_amount(entry)

    @admin.display(description="posted at", ordering="journal__created_at")
    def created_at(self, entry: Entry) -> Any:
        return entry.journal.created_at


import escrow.admin_deals  # noqa: E402 - deals, offers and the fee schedule
import escrow.admin_margin  # noqa: E402,F401 - margin rules and deposits, Connect accounts

"""Receipts: one per movement of money a party made or received, read from the ledger.

A receipt is the view of one journal from the side of the party it concerns: the buyer's
payment into escrow and the refund to their card; the seller's release (proceeds after fees),
the payout transfer, the margin deposit paid and returned. The journal names its party through
the account it moved (the buyer's escrow, the seller's payable, ...), so the receipt is that
account owner's, and only theirs and finance staff's (Invariant 6): anyone else is told there is
no such receipt. Nothing is stored: journals and the deal's agreed amounts never change, so the
same receipt reads the same every time (its number is the journal's).

The PDF itself is drawn by escrow.receipt_pdf, the one module that speaks reportlab.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from escrow.models import (
    Deal,
    Entry,
    Journal,
    JournalKind,
    LedgerAccountKind,
    MarginDeposit,
    StripeRequest,
    ValueAddedService,
)
from escrow.models.stripe import StripeRequestState
from escrow.services.fees import deal_fee_lines
from listings.models import DealType
from marketplace.money import Money

J, A = JournalKind, LedgerAccountKind

# The journals that are receipts, and the account whose owner each one is for.
RECEIPT_ACCOUNT: dict[str, str] = {
    J.DEAL_FUNDED: A.BUYER_ESCROW,
    J.BUYER_REFUND_PAID: A.REFUNDS_PAYABLE,
    J.DEAL_RELEASED: A.SELLER_PAYABLE,
    J.SELLER_PAYOUT: A.SELLER_PAYABLE,
    J.MARGIN_DEPOSIT_PAID: A.SELLER_DEPOSIT,
    J.MARGIN_DEPOSIT_RETURNED: A.SELLER_DEPOSIT,
}
RECEIPT_TITLES: dict[str, str] = {
    J.DEAL_FUNDED: "Payment into escrow",
    J.BUYER_REFUND_PAID: "Refund of your payment",
    J.DEAL_RELEASED: "Escrow released to you",
    J.SELLER_PAYOUT: "Payout to your Stripe account",
    J.MARGIN_DEPOSIT_PAID: "Margin deposit paid",
    J.MARGIN_DEPOSIT_RETURNED: "Margin deposit returned",
}
# Who paid whom: the party's side of the movement.
_PARTY_PAID = {J.DEAL_FUNDED, J.MARGIN_DEPOSIT_PAID}
FINANCE_PERMISSION = "escrow.view_journal"


@dataclass(frozen=True)
class ReceiptLine:
    label: str
    amount: Money
    total: bool = False


@dataclass(frozen=True)
class Receipt:
    journal_id: int
    journal_kind: str
    title: str
    issued_at: datetime
    party: User
    # "Received from" (the party paid the platform) or "Paid to" (the platform paid them).
    party_label: str
    subject: list[tuple[str, str]]
    lines: list[ReceiptLine]
    currency: str
    references: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""

    @property
    def number(self) -> str:
        return f"R-{self.journal_id:08d}"

    @property
    def filename(self) -> str:
        return f"receipt-{self.number}.pdf"

    @property
    def total(self) -> Money:
        return next(line.amount for line in self.lines if line.total)


@dataclass(frozen=True)
class ReceiptLink:
    journal_id: int
    title: str
    at: datetime


# --- Access ------------------------------------------------------------------------------------


def is_finance_staff(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.is_staff and user.is_active and user.has_perm(FINANCE_PERMISSION))


def _party_entry(journal: Journal) -> Entry | None:
    """The journal's line on the account of the party the receipt is for."""
    return (
        journal.entries.select_related("account", "account__owner")
        .filter(account__kind=RECEIPT_ACCOUNT[journal.kind], account__owner__isnull=False)
        .order_by("id")
        .first()
    )


def receipt_for(*, user: User | AnonymousUser, journal_id: int) -> Receipt | None:
    """The receipt of this journal if `user` may read it: the party it concerns, or finance
    staff. None otherwise, and for journals that are no receipt (the caller answers 404)."""
    if not user.is_authenticated:
        return None
    journal = Journal.objects.filter(pk=journal_id, kind__in=list(RECEIPT_ACCOUNT)).first()
    if journal is None:
        return None
    entry = _party_entry(journal)
    if entry is None or entry.account.owner is None:
        return None
    if entry.account.owner_id != user.pk and not is_finance_staff(user):
        return None
    return _receipt_build(journal=journal, entry=entry)


def receipts_in(entries: Iterable[Entry]) -> list[ReceiptLink]:
    """The receipts among a party's own ledger lines (selectors.deal_ledger_lines_of and the
    like): the lines on the account each receipt is for. No query beyond the lines'."""
    links = {
        entry.journal_id: ReceiptLink(
            journal_id=entry.journal_id, title=RECEIPT_TITLES[entry.journal.kind], at=entry.journal.created_at
        )
        for entry in entries
        if RECEIPT_ACCOUNT.get(entry.journal.kind) == entry.account.kind
    }
    return sorted(links.values(), key=lambda link: (link.at, link.journal_id))


def margin_receipts_of(*, user: User, deposits: Iterable[MarginDeposit]) -> dict[int, list[ReceiptLink]]:
    """The receipts of each of the seller's margin deposits, by deposit id."""
    by_reference = {deposit.reference: deposit.pk for deposit in deposits}
    if not by_reference:
        return {}
    entries = (
        Entry.objects.filter(
            account__owner=user, account__kind=A.SELLER_DEPOSIT, account__reference__in=list(by_reference)
        )
        .select_related("journal", "account")
        .order_by("journal_id")
    )
    found: dict[int, list[Entry]] = {}
    for entry in entries:
        found.setdefault(by_reference[entry.account.reference], []).append(entry)
    return {deposit_id: receipts_in(lines) for deposit_id, lines in found.items()}


# --- Building a receipt --------------------------------------------------------------------------


def _deal_of(reference: str) -> Deal | None:
    prefix, _, number = reference.partition(":")
    if prefix != "deal" or not number.isdigit():
        return None
    return Deal.objects.select_related("listing").filter(pk=int(number)).first()


def _deposit_of(reference: str) -> MarginDeposit | None:
    prefix, _, number = reference.partition(":")
    if prefix != "listing" or not number.isdigit():
        return None
    return MarginDeposit.objects.select_related("listing").filter(listing_id=int(number)).first()


def _stripe_object(key: str) -> str:
    request = StripeRequest.objects.filter(idempotency_key=key, state=StripeRequestState.SUCCEEDED).first()
    return request.response_object_id if request is not None else ""


def _ledger_reference(journal: Journal) -> list[tuple[str, str]]:
    """Stripe's balance transaction (or object) the journal names, for reconciliation."""
    if journal.reference.startswith("txn_"):
        return [("Stripe balance transaction", journal.reference)]
    for prefix, label in (("tr_", "Stripe transfer"), ("re_", "Stripe refund"), ("pi_", "Stripe PaymentIntent")):
        if journal.reference.startswith(prefix):
            return [(label, journal.reference)]
    return []


def _deal_subject(deal: Deal) -> list[tuple[str, str]]:
    subject = [
        (
            "Deal",
            f"#{deal.pk}, {DealType(deal.deal_type).label if deal.deal_type in DealType.values else deal.deal_type}",
        ),
        ("Listing", f"#{deal.listing_id}: {deal.listing.title}"),
    ]
    if deal.services:
        subject.append(("Services", ", ".join(ValueAddedService(s).label for s in deal.services)))
    return subject


def _buyer_lines(deal: Deal, *, total_label: str, total: Money) -> list[ReceiptLine]:
    lines = [ReceiptLine("Price", deal.price_money)]
    for fee in deal_fee_lines(deal=deal):
        if not fee.buyer_part.is_zero:
            lines.append(ReceiptLine(f"{fee.label} ({fee.basis})", fee.buyer_part))
    if money_of(lines) != total:
        # Never for the deals the services make (the escrow holds exactly the total due); kept so
        # that a receipt never shows a breakdown that does not add up to what moved.
        lines = [ReceiptLine(f"Deal #{deal.pk}", total)]
    return [*lines, ReceiptLine(total_label, total, total=True)]


def _seller_lines(deal: Deal, *, total_label: str, total: Money) -> list[ReceiptLine]:
    lines = [ReceiptLine("Price", deal.price_money)]
    for fee in deal_fee_lines(deal=deal):
        if not fee.seller_part.is_zero:
            lines.append(ReceiptLine(f"{fee.label} ({fee.basis})", -fee.seller_part))
    if money_of(lines) != total:
        lines = [ReceiptLine(f"Deal #{deal.pk}", total)]
    return [*lines, ReceiptLine(total_label, total, total=True)]


def money_of(lines: list[ReceiptLine]) -> Money:
    total = Money.zero(lines[0].amount.currency)
    for line in lines:
        total += line.amount
    return total


def _receipt_build(*, journal: Journal, entry: Entry) -> Receipt:  # noqa: PLR0912 - one case per kind
    party = entry.account.owner
    assert party is not None
    amount = abs(entry.money)
    kind = journal.kind
    references = _ledger_reference(journal)
    subject: list[tuple[str, str]] = []
    note = ""
    if kind in (J.MARGIN_DEPOSIT_PAID, J.MARGIN_DEPOSIT_RETURNED):
        deposit = _deposit_of(entry.account.reference)
        listing_text = f"#{deposit.listing_id}: {deposit.listing.title}" if deposit else entry.account.reference
        subject = [("Listing", listing_text)]
        if kind == J.MARGIN_DEPOSIT_PAID:
            lines = [ReceiptLine("Margin deposit", amount), ReceiptLine("Total paid", amount, total=True)]
            if deposit is not None and deposit.payment_intent_id:
                references.insert(0, ("Stripe PaymentIntent", deposit.payment_intent_id))
            note = (
                "Your guarantee for the listing, held by the platform. It is returned to your card when the "
                "listing is withdrawn with no deal under way or its deal completes; only a staff decision "
                "with a recorded reason can forfeit it. No fee is charged on a margin deposit."
            )
        else:
            lines = [ReceiptLine("Margin deposit returned", amount), ReceiptLine("Total returned", amount, total=True)]
            if deposit is not None and deposit.refund_id:
                references.insert(0, ("Stripe refund", deposit.refund_id))
            note = "Returned to the card that paid it; your bank shows it within a few days."
    else:
        deal = _deal_of(entry.account.reference)
        if deal is None:
            lines = [ReceiptLine(journal.description, amount), ReceiptLine("Total", amount, total=True)]
        else:
            subject = _deal_subject(deal)
            if kind == J.DEAL_FUNDED:
                lines = _buyer_lines(deal, total_label="Total paid into escrow", total=amount)
                if deal.payment_reference:
                    references.insert(0, ("Stripe PaymentIntent", deal.payment_reference))
                note = (
                    "The platform holds this payment in escrow until the office records the transfer to you "
                    "and the register confirms it; if the transfer fails it is refunded to your card."
                )
            elif kind == J.BUYER_REFUND_PAID:
                lines = _buyer_lines(deal, total_label="Total refunded to your card", total=amount)
                refund_id = _stripe_object(f"deal:{deal.pk}:refund")
                if refund_id:
                    references.insert(0, ("Stripe refund", refund_id))
                note = "Returned to the card that paid; your bank shows it within a few days."
            elif kind == J.DEAL_RELEASED:
                lines = _seller_lines(deal, total_label="Your proceeds", total=amount)
                note = (
                    "Released from escrow to you after the transfer was recorded; the payout to your Stripe "
                    "account follows (its own receipt). Until then the platform holds it for you."
                )
            else:  # SELLER_PAYOUT
                lines = _seller_lines(deal, total_label="Transferred to your Stripe account", total=amount)
                transfer_id = _stripe_object(f"deal:{deal.pk}:transfer")
                if transfer_id:
                    references.insert(0, ("Stripe transfer", transfer_id))
                note = "Your Stripe account pays it out to your bank on its own schedule."
    return Receipt(
        journal_id=journal.pk,
        journal_kind=kind,
        title=RECEIPT_TITLES[kind],
        issued_at=journal.created_at,
        party=party,
        party_label="Received from" if kind in _PARTY_PAID else "Paid to",
        subject=subject,
        lines=lines,
        currency=amount.currency,
        references=[*_dedupe(references), ("Ledger journal", f"#{journal.pk} ({journal.get_kind_display()})")],
        note=note,
    )


def _dedupe(references: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    kept = []
    for label, value in references:
        if value not in seen:
            seen.add(value)
            kept.append((label, value))
    return kept

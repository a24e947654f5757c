"""Daily reconciliation of the ledger with Stripe's balance transactions.

The convention that makes it possible: every journal that records money entering or leaving
the platform's Stripe balance (a captured payment, its Stripe fee, a refund, a transfer to a
seller) carries the Stripe balance transaction's id (`txn_...`) as its journal `reference`.
Then, for each balance transaction of the day:

- the platform-cash entries of the journals carrying its id sum to its `net` (amount - fee:
  the payment journal debits the gross, the Stripe-fee journal credits the fee), in its currency;
- the Stripe-fee entries of those journals sum to its `fee`;

and every journal posted that day that moves platform cash carries the id of a balance
transaction that Stripe has. Each way this fails is reported as one Difference.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Sum

from escrow import stripe_gateway
from escrow.models.ledger import Entry, Journal, LedgerAccountKind

BALANCE_TRANSACTION_PREFIX = "txn_"


class DifferenceKind(StrEnum):
    MISSING_IN_LEDGER = "missing_in_ledger"
    MISSING_AT_STRIPE = "missing_at_stripe"
    UNLINKED_LEDGER_JOURNAL = "unlinked_ledger_journal"
    CURRENCY_MISMATCH = "currency_mismatch"
    AMOUNT_MISMATCH = "amount_mismatch"
    FEE_MISMATCH = "fee_mismatch"


@dataclass(frozen=True)
class Difference:
    kind: DifferenceKind
    reference: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.reference}: {self.detail}"


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def _ledger_sums(references: set[str]) -> dict[str, dict[tuple[str, str], int]]:
    """Per journal reference: {(account kind, currency): sum of entries} for cash and fee accounts."""
    sums: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    rows = (
        Entry.objects.filter(
            journal__reference__in=references,
            account__kind__in=[LedgerAccountKind.PLATFORM_CASH, LedgerAccountKind.STRIPE_FEES],
        )
        .values_list("journal__reference", "account__kind", "currency")
        .annotate(total=Sum("amount"))
    )
    for reference, kind, currency, total in rows:
        sums[reference][(kind, currency)] = int(total)
    return sums


def _compare(txn: stripe_gateway.BalanceTransaction, sums: dict[tuple[str, str], int]) -> list[Difference]:
    cash = {currency: total for (kind, currency), total in sums.items() if kind == LedgerAccountKind.PLATFORM_CASH}
    fees = {currency: total for (kind, currency), total in sums.items() if kind == LedgerAccountKind.STRIPE_FEES}
    differences = []
    other_currencies = sorted((set(cash) | set(fees)) - {txn.currency})
    if other_currencies:
        differences.append(
            Difference(
                DifferenceKind.CURRENCY_MISMATCH,
                txn.id,
                f"Stripe's {txn.type} is in {txn.currency}; the ledger posted it in {', '.join(other_currencies)}.",
            )
        )
    ledger_net = cash.get(txn.currency, 0)
    if ledger_net != txn.net:
        differences.append(
            Difference(
                DifferenceKind.AMOUNT_MISMATCH,
                txn.id,
                f"Stripe's {txn.type} nets {txn.net} {txn.currency} (amount {txn.amount}, fee {txn.fee}); "
                f"the ledger's platform cash moved {ledger_net} {txn.currency}.",
            )
        )
    ledger_fee = fees.get(txn.currency, 0)
    if ledger_fee != txn.fee:
        differences.append(
            Difference(
                DifferenceKind.FEE_MISMATCH,
                txn.id,
                f"Stripe charged a fee of {txn.fee} {txn.currency}; the ledger recorded {ledger_fee} {txn.currency}.",
            )
        )
    return differences


def stripe_reconcile(*, day: dt.date) -> list[Difference]:
    """Every difference between Stripe's balance transactions created on `day` (UTC) and the
    ledger; an empty list when they agree."""
    start, end = _day_bounds(day)
    transactions = stripe_gateway.balance_transactions_list(created_from=start, created_to=end)
    stripe_ids = {txn.id for txn in transactions}

    # Journals posted that day that move platform cash: each must name a balance transaction.
    cash_journals = (
        Journal.objects.filter(
            created_at__gte=start, created_at__lt=end, entries__account__kind=LedgerAccountKind.PLATFORM_CASH
        )
        .distinct()
        .values_list("pk", "reference")
    )
    differences: list[Difference] = []
    ledger_only: set[str] = set()
    for journal_id, reference in cash_journals:
        if not reference.startswith(BALANCE_TRANSACTION_PREFIX):
            differences.append(
                Difference(
                    DifferenceKind.UNLINKED_LEDGER_JOURNAL,
                    f"journal:{journal_id}",
                    f"moves platform cash but its reference {reference!r} names no Stripe balance transaction.",
                )
            )
        elif reference not in stripe_ids:
            ledger_only.add(reference)

    sums = _ledger_sums(stripe_ids | ledger_only)
    for txn in sorted(transactions, key=lambda txn: (txn.created, txn.id)):
        if txn.id not in sums and not Journal.objects.filter(reference=txn.id).exists():
            differences.append(
                Difference(
                    DifferenceKind.MISSING_IN_LEDGER,
                    txn.id,
                    f"Stripe's {txn.type} of {txn.amount} {txn.currency} (source {txn.source or '-'}) "
                    "has no journal in the ledger.",
                )
            )
            continue
        differences.extend(_compare(txn, sums.get(txn.id, {})))

    for reference in sorted(ledger_only):
        # Posted today but perhaps created at Stripe just before midnight: ask for it by id.
        found = stripe_gateway.balance_transaction_retrieve(balance_transaction_id=reference)
        if found is None:
            differences.append(
                Difference(
                    DifferenceKind.MISSING_AT_STRIPE,
                    reference,
                    "the ledger posted it but Stripe has no such balance transaction.",
                )
            )
        else:
            differences.extend(_compare(found, sums.get(reference, {})))
    return differences

"""Ledger fixtures: a buyer whose escrow for one deal holds 1,000.00 USD, and helpers to prove
that a refused posting changed nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.models import User
from escrow.ledger import account_balance, journal_post, ledger_account_for
from escrow.models import Entry, Journal, JournalKind, LedgerAccount, LedgerAccountKind
from marketplace.money import Money
from tests.factories import UserFactory


@dataclass
class Books:
    buyer: User
    seller: User
    cash: LedgerAccount
    escrow: LedgerAccount
    payable: LedgerAccount
    fees: LedgerAccount

    def balances(self) -> dict[str, Money]:
        return {name: account_balance(account=getattr(self, name)) for name in ("cash", "escrow", "payable", "fees")}


def books_open(*, funded: int = 100_000, currency: str = "USD") -> Books:
    buyer, seller = UserFactory.create(), UserFactory.create()
    books = Books(
        buyer=buyer,
        seller=seller,
        cash=ledger_account_for(kind=LedgerAccountKind.PLATFORM_CASH, owner=None, currency=currency),
        escrow=ledger_account_for(
            kind=LedgerAccountKind.BUYER_ESCROW, owner=buyer, currency=currency, reference="deal:1"
        ),
        payable=ledger_account_for(kind=LedgerAccountKind.SELLER_PAYABLE, owner=seller, currency=currency),
        fees=ledger_account_for(kind=LedgerAccountKind.PLATFORM_FEES, owner=None, currency=currency),
    )
    if funded:
        # The buyer's payment captured at Stripe: cash up (debit), escrow owes the buyer (credit).
        journal_post(
            kind=JournalKind.DEAL_FUNDED,
            idempotency_key="deal:1:funded",
            lines=[(books.cash, Money(funded, currency)), (books.escrow, Money(-funded, currency))],
            description="Deal 1 funded",
            reference="deal:1",
        )
    return books


def ledger_state(books: Books) -> tuple[int, int, dict[str, Money]]:
    """Everything a refused posting must leave as it was."""
    return Journal.objects.count(), Entry.objects.count(), books.balances()


@pytest.fixture
def books(db: None) -> Books:
    return books_open()

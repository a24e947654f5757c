"""Real concurrency: threads, each on its own database connection, racing on one account."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
from django.db import IntegrityError, connection, connections, transaction

from escrow.ledger import LedgerError, journal_post, ledger_account_for, ledger_check
from escrow.models import Entry, Journal, JournalKind, LedgerAccount, LedgerAccountKind
from marketplace.money import Money
from tests.escrow.conftest import Books, books_open

pytestmark = pytest.mark.django_db(transaction=True)

T = TypeVar("T")


@pytest.fixture
def books(transactional_db: None) -> Books:
    return books_open(funded=100_000)


def race(count: int, attempt: Callable[[int], T]) -> list[T | Exception]:
    """Run `attempt(i)` in `count` threads released together; each thread's outcome or error."""
    barrier = threading.Barrier(count)

    def run(index: int) -> T | Exception:
        try:
            barrier.wait()
            return attempt(index)
        except Exception as error:  # noqa: BLE001 - the outcome under test
            return error
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_twenty_concurrent_withdrawals_of_60_from_1000_leave_40_and_never_go_negative(books: Books) -> None:
    def withdraw(index: int) -> Journal:
        return journal_post(
            kind=JournalKind.DEAL_RELEASED,
            idempotency_key=f"deal:1:part:{index}",
            lines=[(books.escrow, Money(6_000, "USD")), (books.payable, Money(-6_000, "USD"))],
            description=f"Part {index}",
        )

    outcomes = race(20, withdraw)

    posted = [o for o in outcomes if isinstance(o, Journal)]
    refused = [o for o in outcomes if not isinstance(o, Journal)]
    assert len(posted) == 16
    assert len(refused) == 4
    assert all(isinstance(error, LedgerError) and "may not go below zero" in str(error) for error in refused)
    assert books.balances()["escrow"] == Money(4_000, "USD")
    assert books.balances()["payable"] == Money(96_000, "USD")
    assert Journal.objects.count() == 1 + 16
    assert Entry.objects.count() == 2 + 32
    assert ledger_check().balanced


def test_twenty_concurrent_raw_inserts_cannot_overdraw_either(books: Books) -> None:
    # Bypassing the service (no locks taken up front): the trigger's own lock serialises them.
    def withdraw(index: int) -> int:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO escrow_journal (kind, idempotency_key, description, reference) "
                "VALUES ('correction', %s, 'raw', '') RETURNING id",
                [f"raw:{index}"],
            )
            journal_id = cursor.fetchone()[0]
            cursor.execute(
                "INSERT INTO escrow_entry (journal_id, account_id, amount, currency) "
                "VALUES (%s, %s, 6000, 'USD'), (%s, %s, -6000, 'USD')",
                [journal_id, books.escrow.pk, journal_id, books.payable.pk],
            )
        return journal_id

    outcomes = race(20, withdraw)

    assert sum(isinstance(o, int) for o in outcomes) == 16
    refused = [o for o in outcomes if not isinstance(o, int)]
    assert len(refused) == 4
    assert all(isinstance(error, IntegrityError) and "below zero" in str(error) for error in refused)
    assert books.balances()["escrow"] == Money(4_000, "USD")
    assert Journal.objects.count() == 1 + 16


def test_one_idempotency_key_posted_from_ten_threads_posts_one_journal(books: Books) -> None:
    def post_once(index: int) -> int:
        return journal_post(
            kind=JournalKind.DEAL_RELEASED,
            idempotency_key="deal:1:released",
            lines=[(books.escrow, Money(100_000, "USD")), (books.payable, Money(-100_000, "USD"))],
            description="Deal 1 released",
        ).pk

    outcomes = race(10, post_once)

    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert len(set(outcomes)) == 1
    assert Journal.objects.filter(idempotency_key="deal:1:released").count() == 1
    assert Entry.objects.count() == 4
    assert books.balances()["escrow"] == Money(0, "USD")
    assert books.balances()["payable"] == Money(100_000, "USD")


def test_one_idempotency_key_with_different_lines_from_ten_threads_posts_one_and_refuses_the_rest(
    books: Books,
) -> None:
    # Different amounts, different accounts: nothing to queue on but the key itself.
    def post(index: int) -> int:
        revenue = ledger_account_for(kind=LedgerAccountKind.PLATFORM_FEES, owner=None, currency="EUR")
        cash = ledger_account_for(kind=LedgerAccountKind.PLATFORM_CASH, owner=None, currency="EUR")
        return journal_post(
            kind=JournalKind.PLATFORM_FEE,
            idempotency_key="fee:1",
            lines=[(cash, Money(index + 1, "EUR")), (revenue, Money(-(index + 1), "EUR"))],
            description="Fee",
        ).pk

    outcomes = race(10, post)

    posted = {o for o in outcomes if isinstance(o, int)}
    refused = [o for o in outcomes if not isinstance(o, int)]
    assert len(posted) == 1
    assert len(refused) == 9
    assert all(isinstance(error, LedgerError) and "already used by journal" in str(error) for error in refused)
    assert Journal.objects.filter(idempotency_key="fee:1").count() == 1
    assert Entry.objects.filter(journal__idempotency_key="fee:1").count() == 2


def test_concurrent_openers_of_one_account_get_the_same_account(books: Books) -> None:
    def open_account(index: int) -> int:
        return ledger_account_for(
            kind=LedgerAccountKind.SELLER_DEPOSIT, owner=books.seller, currency="GBP", reference="listing:9"
        ).pk

    outcomes = race(10, open_account)

    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert len(set(outcomes)) == 1
    assert LedgerAccount.objects.filter(kind=LedgerAccountKind.SELLER_DEPOSIT, currency="GBP").count() == 1

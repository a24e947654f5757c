"""The rules PostgreSQL itself holds, proved with raw SQL that bypasses the service.

These tests commit for real (transaction=True), since the balance check runs at COMMIT."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from escrow.ledger import LedgerError, journal_post, ledger_check
from escrow.models import Entry, Journal, JournalKind, LedgerAccount
from marketplace.money import Money
from tests.escrow.conftest import Books, books_open, ledger_state

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def books(transactional_db: None) -> Books:
    return books_open()


def raw_post(key: str, lines: list[tuple[int, int, str]]) -> int:
    """Insert a journal and its entries with plain SQL, as a careless script would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO escrow_journal (kind, idempotency_key, description, reference) "
            "VALUES ('correction', %s, 'raw', '') RETURNING id",
            [key],
        )
        journal_id: int = cursor.fetchone()[0]
        for account_id, amount, currency in lines:
            cursor.execute(
                "INSERT INTO escrow_entry (journal_id, account_id, amount, currency) VALUES (%s, %s, %s, %s)",
                [journal_id, account_id, amount, currency],
            )
    return journal_id


def test_a_balanced_raw_posting_commits(books: Books) -> None:
    with transaction.atomic():
        raw_post("raw:1", [(books.escrow.pk, 500, "USD"), (books.payable.pk, -500, "USD")])

    assert books.balances()["payable"] == Money(500, "USD")


def test_an_unbalanced_raw_posting_is_refused_at_commit_and_changes_nothing(books: Books) -> None:
    before = ledger_state(books)

    with (
        pytest.raises(IntegrityError, match="does not balance: its USD entries sum to 1 minor units"),
        transaction.atomic(),
    ):
        raw_post("raw:1", [(books.escrow.pk, 501, "USD"), (books.payable.pk, -500, "USD")])

    assert ledger_state(books) == before


def test_a_journal_without_entries_is_refused_at_commit(books: Books) -> None:
    before = ledger_state(books)

    with pytest.raises(IntegrityError, match="has no entries"), transaction.atomic():
        raw_post("raw:empty", [])

    assert ledger_state(books) == before


def test_entries_cannot_be_added_to_a_journal_posted_earlier(books: Books) -> None:
    journal = Journal.objects.get(idempotency_key="deal:1:funded")
    before = ledger_state(books)

    with pytest.raises(IntegrityError, match="already posted"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO escrow_entry (journal_id, account_id, amount, currency) "
            "VALUES (%s, %s, 10, 'USD'), (%s, %s, -10, 'USD')",
            [journal.pk, books.escrow.pk, journal.pk, books.payable.pk],
        )

    assert ledger_state(books) == before


def test_an_entry_in_another_currency_than_its_account_is_refused(books: Books) -> None:
    before = ledger_state(books)

    with pytest.raises(IntegrityError, match="entry_currency_is_account_currency"), transaction.atomic():
        raw_post("raw:eur", [(books.escrow.pk, 500, "EUR"), (books.payable.pk, -500, "EUR")])

    assert ledger_state(books) == before


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE escrow_entry SET amount = amount * 2",
        "UPDATE escrow_entry SET account_id = account_id",
        "DELETE FROM escrow_entry",
        "UPDATE escrow_journal SET description = 'rewritten'",
        "DELETE FROM escrow_journal",
        "UPDATE escrow_ledgeraccount SET non_negative = false",
        "UPDATE escrow_ledgeraccount SET currency = 'EUR'",
    ],
)
def test_the_database_refuses_to_change_posted_history(books: Books, statement: str) -> None:
    before = ledger_state(books)
    descriptions = list(Journal.objects.values_list("description", flat=True))

    with (
        pytest.raises(IntegrityError, match="the ledger's history is never changed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)

    assert ledger_state(books) == before
    assert list(Journal.objects.values_list("description", flat=True)) == descriptions
    assert LedgerAccount.objects.filter(non_negative=True).count() == 2


def test_the_orm_cannot_change_or_delete_an_entry_either(books: Books) -> None:
    entry = Entry.objects.first()
    assert entry is not None
    before = ledger_state(books)

    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(amount=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        entry.delete()

    assert ledger_state(books) == before


def test_a_raw_insert_cannot_take_a_non_negative_account_below_zero(books: Books) -> None:
    before = ledger_state(books)

    with pytest.raises(IntegrityError, match="may not go below zero"), transaction.atomic():
        raw_post("raw:overdraw", [(books.escrow.pk, 100_001, "USD"), (books.payable.pk, -100_001, "USD")])

    assert ledger_state(books) == before


def test_the_service_refuses_a_lowering_posting_under_repeatable_read(books: Books) -> None:
    # The trigger's sum would run on a stale snapshot there, so it refuses rather than guess.
    before = ledger_state(books)

    def release_under_repeatable_read() -> None:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            journal_post(
                kind=JournalKind.DEAL_RELEASED,
                idempotency_key="deal:1:released",
                lines=[(books.escrow, Money(10, "USD")), (books.payable, Money(-10, "USD"))],
                description="Deal 1 released",
            )

    with pytest.raises(DatabaseError, match="READ COMMITTED or SERIALIZABLE"):
        release_under_repeatable_read()

    assert ledger_state(books) == before


def test_the_ledger_check_finds_journals_posted_with_the_rules_switched_off(books: Books) -> None:
    # Only a superuser can switch triggers off; the audit must still catch what slipped through.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        unbalanced = raw_post("raw:bad", [(books.escrow.pk, 7, "USD"), (books.payable.pk, -5, "USD")])
        empty = raw_post("raw:empty", [])

    check = ledger_check()

    assert not check.balanced
    assert check.problem_count == 2
    assert [(u.journal_id, u.currency, u.total) for u in check.unbalanced] == [
        (unbalanced, "USD", 2),
        (empty, None, 0),
    ]
    assert (check.journals, check.entries) == (3, 4)


def test_a_service_error_leaves_the_outer_transaction_usable(books: Books) -> None:
    # journal_post runs inside callers' transactions: a refusal must not poison them.
    with transaction.atomic():
        with pytest.raises(LedgerError):
            journal_post(
                kind=JournalKind.DEAL_RELEASED,
                idempotency_key="deal:1:released",
                lines=[(books.escrow, Money(100_001, "USD")), (books.payable, Money(-100_001, "USD"))],
                description="Too much",
            )
        journal_post(
            kind=JournalKind.DEAL_RELEASED,
            idempotency_key="deal:1:released",
            lines=[(books.escrow, Money(100_000, "USD")), (books.payable, Money(-100_000, "USD"))],
            description="All of it",
        )

    assert books.balances()["payable"] == Money(100_000, "USD")

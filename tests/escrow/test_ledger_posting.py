"""journal_post and the ledger's selectors, through the service."""

from __future__ import annotations

import pytest

from escrow.ledger import (
    LedgerError,
    account_balance,
    entries_of,
    journal_post,
    ledger_account_for,
    ledger_check,
)
from escrow.models import Entry, Journal, JournalKind, LedgerAccount, LedgerAccountKind
from marketplace.money import Money
from tests.escrow.conftest import Books, ledger_state
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

USD = "USD"


def release(books: Books, amount: int, key: str = "deal:1:released") -> Journal:
    return journal_post(
        kind=JournalKind.DEAL_RELEASED,
        idempotency_key=key,
        lines=[(books.escrow, Money(amount, USD)), (books.payable, Money(-amount, USD))],
        description="Deal 1 released",
        reference="deal:1",
        acting_user=books.seller,
    )


def test_a_balanced_posting_records_its_entries_and_moves_the_balances(books: Books) -> None:
    journal = release(books, 95_000)

    assert list(journal.entries.order_by("account_id").values_list("account_id", "amount", "currency")) == sorted(
        [(books.escrow.pk, 95_000, USD), (books.payable.pk, -95_000, USD)]
    )
    assert journal.kind == JournalKind.DEAL_RELEASED
    assert journal.acting_user == books.seller
    assert books.balances() == {
        "cash": Money(100_000, USD),
        "escrow": Money(5_000, USD),
        "payable": Money(95_000, USD),
        "fees": Money(0, USD),
    }
    assert ledger_check().balanced


def test_a_posting_may_split_across_several_accounts(books: Books) -> None:
    journal_post(
        kind=JournalKind.DEAL_RELEASED,
        idempotency_key="deal:1:released",
        lines=[
            (books.escrow, Money(100_000, USD)),
            (books.payable, Money(-97_500, USD)),
            (books.fees, Money(-2_500, USD)),
        ],
        description="Deal 1 released, 2.5% transaction fee",
    )

    assert books.balances()["escrow"] == Money(0, USD)
    assert books.balances()["fees"] == Money(2_500, USD)
    assert books.balances()["payable"] == Money(97_500, USD)


def test_a_repeated_idempotency_key_with_the_same_lines_returns_the_first_journal(books: Books) -> None:
    first = release(books, 60_000)
    before = ledger_state(books)

    again = release(books, 60_000)

    assert again.pk == first.pk
    assert ledger_state(books) == before


def test_a_repeated_idempotency_key_with_other_lines_is_refused_and_changes_nothing(books: Books) -> None:
    release(books, 60_000)
    before = ledger_state(books)

    with pytest.raises(LedgerError, match="already used by journal"):
        release(books, 50_000)

    assert ledger_state(books) == before


@pytest.mark.parametrize(
    ("lines_of", "message"),
    [
        (lambda b: [], "needs lines"),
        (lambda b: [(b.escrow, Money(100, USD)), (b.payable, Money(-99, USD))], "do not balance"),
        (lambda b: [(b.escrow, Money(100, USD))], "do not balance"),
        (lambda b: [(b.escrow, Money(0, USD)), (b.payable, Money(0, USD))], "is zero"),
        (lambda b: [(b.escrow, Money(100, "EUR")), (b.payable, Money(-100, "EUR"))], "currencies differ"),
        (lambda b: [(b.escrow, Money(100, USD)), (b.payable, Money(-100, USD)), (b.escrow, 5)], "must be Money"),
        (lambda b: [(b.escrow, Money(100, USD)), (LedgerAccount(currency=USD), Money(-100, USD))], "saved ledger"),
        (lambda b: [(b.escrow, Money(100, USD), "extra")], "pair"),
    ],
)
def test_bad_lines_are_refused_before_the_database_and_change_nothing(books: Books, lines_of, message) -> None:
    before = ledger_state(books)

    with pytest.raises(LedgerError, match=message):
        journal_post(
            kind=JournalKind.DEAL_RELEASED,
            idempotency_key="deal:1:released",
            lines=lines_of(books),
            description="Deal 1 released",
        )

    assert ledger_state(books) == before


def test_lines_in_two_currencies_must_each_balance(books: Books) -> None:
    eur_cash = ledger_account_for(kind=LedgerAccountKind.PLATFORM_CASH, owner=None, currency="EUR")
    eur_fees = ledger_account_for(kind=LedgerAccountKind.PLATFORM_FEES, owner=None, currency="EUR")
    before = ledger_state(books)

    with pytest.raises(LedgerError, match=r"in EUR the credits exceed debits by 0\.01 EUR"):
        journal_post(
            kind=JournalKind.CORRECTION,
            idempotency_key="correction:1",
            # The totals cancel across currencies (100 - 100 = 0) but not within EUR or USD.
            lines=[
                (books.cash, Money(100, USD)),
                (books.fees, Money(-99, USD)),
                (eur_cash, Money(-1, "EUR")),
            ],
            description="Mixed",
        )
    assert ledger_state(books) == before

    journal_post(
        kind=JournalKind.CORRECTION,
        idempotency_key="correction:2",
        lines=[
            (books.cash, Money(100, USD)),
            (books.fees, Money(-100, USD)),
            (eur_cash, Money(7, "EUR")),
            (eur_fees, Money(-7, "EUR")),
        ],
        description="Two currencies, each balanced",
    )
    assert account_balance(account=eur_fees) == Money(7, "EUR")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "gift"}, "not a kind of journal"),
        ({"idempotency_key": ""}, "idempotency key"),
        ({"idempotency_key": "k" * 201}, "idempotency key"),
        ({"description": "  "}, "description"),
        ({"reference": "r" * 101}, "reference"),
    ],
)
def test_a_posting_without_a_proper_kind_key_or_description_is_refused(books: Books, changes, message) -> None:
    before = ledger_state(books)
    arguments = {
        "kind": JournalKind.DEAL_RELEASED,
        "idempotency_key": "deal:1:released",
        "lines": [(books.escrow, Money(10, USD)), (books.payable, Money(-10, USD))],
        "description": "Deal 1 released",
        **changes,
    }

    with pytest.raises(LedgerError, match=message):
        journal_post(**arguments)

    assert ledger_state(books) == before


def test_a_non_negative_account_cannot_be_taken_below_zero_by_the_service(books: Books) -> None:
    release(books, 99_999, key="deal:1:partial")
    before = ledger_state(books)

    with pytest.raises(LedgerError, match=r"holds 0.01 USD; this posting would leave -0.01 USD"):
        release(books, 2)

    assert ledger_state(books) == before
    release(books, 1, key="deal:1:rest")
    assert books.balances()["escrow"] == Money(0, USD)


def test_the_platform_cash_account_may_go_negative_as_it_is_not_guarded(books: Books) -> None:
    # Stripe fees can be debited before the matching payment settles; only parties' money is guarded.
    stripe_fees = ledger_account_for(kind=LedgerAccountKind.STRIPE_FEES, owner=None, currency=USD)
    journal_post(
        kind=JournalKind.STRIPE_FEE,
        idempotency_key="fee:1",
        lines=[(stripe_fees, Money(200_000, USD)), (books.cash, Money(-200_000, USD))],
        description="Fee",
    )
    assert books.balances()["cash"] == Money(-100_000, USD)


def test_one_account_per_kind_owner_currency_and_reference(books: Books) -> None:
    again = ledger_account_for(kind=LedgerAccountKind.BUYER_ESCROW, owner=books.buyer, currency=USD, reference="deal:1")
    other_deal = ledger_account_for(
        kind=LedgerAccountKind.BUYER_ESCROW, owner=books.buyer, currency=USD, reference="deal:2"
    )
    platform_again = ledger_account_for(kind=LedgerAccountKind.PLATFORM_CASH, owner=None, currency=USD)

    assert again.pk == books.escrow.pk
    assert other_deal.pk != books.escrow.pk
    assert platform_again.pk == books.cash.pk
    assert books.escrow.non_negative
    assert books.payable.non_negative
    assert not books.cash.non_negative
    deposit = ledger_account_for(kind=LedgerAccountKind.SELLER_DEPOSIT, owner=books.seller, currency=USD)
    assert deposit.non_negative


@pytest.mark.parametrize(
    ("kind", "owner", "currency", "message"),
    [
        (LedgerAccountKind.BUYER_ESCROW, None, USD, "give its owner"),
        (LedgerAccountKind.PLATFORM_CASH, "buyer", USD, "has no owner"),
        (LedgerAccountKind.BUYER_ESCROW, "buyer", "XYZ", "not supported"),
        ("piggy_bank", None, USD, "not a kind of ledger account"),
    ],
)
def test_an_account_that_cannot_exist_is_refused(books: Books, kind, owner, currency, message) -> None:
    accounts_before = LedgerAccount.objects.count()

    with pytest.raises(LedgerError, match=message):
        ledger_account_for(kind=kind, owner=books.buyer if owner else None, currency=currency)

    assert LedgerAccount.objects.count() == accounts_before


def test_a_party_sees_only_the_entries_of_their_own_accounts(books: Books) -> None:
    release(books, 40_000)
    stranger = UserFactory.create()

    assert [(e.account_id, e.amount) for e in entries_of(user=books.buyer)] == [
        (books.escrow.pk, 40_000),
        (books.escrow.pk, -100_000),
    ]
    assert [(e.account_id, e.amount) for e in entries_of(user=books.seller)] == [(books.payable.pk, -40_000)]
    assert list(entries_of(user=stranger)) == []


def test_the_ledger_check_counts_and_finds_every_journal_balanced(books: Books) -> None:
    release(books, 10_000)

    check = ledger_check()

    assert (check.journals, check.entries, check.unbalanced, check.balanced) == (2, 4, [], True)
    assert Entry.objects.count() == 4

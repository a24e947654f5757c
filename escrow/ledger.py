"""The ledger's services (writes) and selectors (reads).

Everything that moves money posts one journal through `journal_post`, keyed by an idempotency
key derived from the business event (e.g. f"deal:{deal.pk}:funded"), so that a retried task, a
duplicated webhook or a double click can never post twice. The database enforces the same
rules (see escrow/migrations/0002_ledger_rules.py); the checks here come first to give a clear
error before anything is written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet, Sum

from accounts.models import User
from escrow.models.ledger import (
    NON_NEGATIVE_KINDS,
    NORMAL_BALANCE_OF_KIND,
    OWNED_KINDS,
    Entry,
    Journal,
    JournalKind,
    LedgerAccount,
    LedgerAccountKind,
)
from marketplace.money import Money, MoneyError, currency_exponent, money_format

# One line of a posting: the account and the signed amount (positive debit, negative credit).
JournalLine = tuple[LedgerAccount, Money]
# A posting's lines in a comparable form: sorted (account id, amount, currency).
_LineKey = tuple[int, int, str]


class LedgerError(Exception):
    """A refused posting or account, with a message fit for staff and logs. Nothing was written."""


# --- Accounts -------------------------------------------------------------------------------


def ledger_account_for(*, kind: str, owner: User | None, currency: str, reference: str = "") -> LedgerAccount:
    """The one account of this kind for this owner, currency and reference; created on first use.

    Race-safe: the unique constraint on (kind, owner, currency, reference) lets one of two
    concurrent creators win, and get_or_create then reads the winner's row."""
    if kind not in LedgerAccountKind.values:
        raise LedgerError(f"{kind!r} is not a kind of ledger account.")
    account_kind = LedgerAccountKind(kind)
    try:
        currency_exponent(currency)
    except MoneyError as error:
        raise LedgerError(str(error)) from None
    if account_kind in OWNED_KINDS and owner is None:
        raise LedgerError(f"A {account_kind.label.lower()} account belongs to a party; give its owner.")
    if account_kind not in OWNED_KINDS and owner is not None:
        raise LedgerError(f"The {account_kind.label.lower()} account is the platform's own; it has no owner.")
    if owner is not None and owner.pk is None:
        raise LedgerError("The owner must be saved before an account is opened for them.")
    if len(reference) > 100:
        raise LedgerError("An account reference is at most 100 characters.")
    account, _ = LedgerAccount.objects.get_or_create(
        kind=account_kind,
        owner=owner,
        currency=currency,
        reference=reference,
        defaults={
            "normal_balance": NORMAL_BALANCE_OF_KIND[account_kind],
            "non_negative": account_kind in NON_NEGATIVE_KINDS,
        },
    )
    return account


# --- Posting --------------------------------------------------------------------------------


def _lines_check(*, lines: Sequence[JournalLine]) -> list[_LineKey]:
    """Refuse lines that could never post, before touching the database."""
    if not lines:
        raise LedgerError("A journal needs lines; an empty posting moves nothing.")
    keys: list[_LineKey] = []
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        if not isinstance(line, tuple) or len(line) != 2:
            raise LedgerError("Each line is a pair (ledger account, Money).")
        account, money = line
        if not isinstance(account, LedgerAccount) or account.pk is None:
            raise LedgerError("Each line's account must be a saved ledger account.")
        if not isinstance(money, Money):
            raise LedgerError(f"The amount on {account} must be Money, not {type(money).__name__}.")
        if money.is_zero:
            raise LedgerError(f"The line on {account} is zero; leave it out.")
        if money.currency != account.currency:
            raise LedgerError(f"{money_format(money)} cannot be posted to {account}: the currencies differ.")
        totals[money.currency] += money.amount
        keys.append((account.pk, money.amount, money.currency))
    for currency, total in sorted(totals.items()):
        if total != 0:
            side = "debits exceed credits" if total > 0 else "credits exceed debits"
            raise LedgerError(
                f"The lines do not balance: in {currency} the {side} by {money_format(abs(Money(total, currency)))}."
            )
    return sorted(keys)


def _lines_of(journal: Journal) -> list[_LineKey]:
    return sorted(journal.entries.values_list("account_id", "amount", "currency"))


def _journal_repeated(*, journal: Journal, kind: str, lines: list[_LineKey]) -> Journal:
    """The journal already posted under this key, if the repeat is the same event; else refuse."""
    if journal.kind != kind or _lines_of(journal) != lines:
        raise LedgerError(
            f"The idempotency key {journal.idempotency_key!r} was already used by journal #{journal.pk} with "
            "other lines; one business event posts once, so a different posting needs its own key."
        )
    return journal


def _balances_of(account_ids: Sequence[int]) -> dict[int, int]:
    """Sum of entries per account (debit positive), accounts without entries at 0."""
    sums = dict(
        Entry.objects.filter(account_id__in=account_ids)
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "total")
    )
    return {account_id: sums.get(account_id, 0) for account_id in account_ids}


def _accounts_read(account_ids: Sequence[int]) -> dict[int, LedgerAccount]:
    """The posting's accounts as the database has them (an account's identity never changes)."""
    accounts = LedgerAccount.objects.in_bulk(account_ids)
    missing = set(account_ids) - set(accounts)
    if missing:
        raise LedgerError(f"Ledger accounts {sorted(missing)} do not exist.")
    return accounts


def _lowered_guarded_accounts(*, accounts: dict[int, LedgerAccount], lines: list[_LineKey]) -> list[int]:
    """The non-negative accounts whose balance this posting lowers: the only ones it can overdraw."""
    change: dict[int, int] = defaultdict(int)
    for account_id, amount, currency in lines:
        if accounts[account_id].currency != currency:
            raise LedgerError(f"{money_format(Money(amount, currency))} cannot be posted to {accounts[account_id]}.")
        change[account_id] += amount
    return sorted(
        account_id
        for account_id, amount in change.items()
        if accounts[account_id].non_negative and accounts[account_id].sign * amount < 0
    )


def _accounts_lock(account_ids: list[int]) -> None:
    """Lock the accounts a posting may overdraw, in id order, so that two postings that lower the
    same accounts queue (instead of deadlocking) and each reads the balance the other left.

    Only those: locking every touched account would queue every payment in the platform behind
    the one platform-cash row, for nothing, since an unguarded balance has no limit to check.
    NO KEY UPDATE, like the database's own trigger: it does not wait for the KEY SHARE locks
    that other transactions' entries take on the account through their foreign key."""
    if account_ids:
        list(LedgerAccount.objects.select_for_update(no_key=True).filter(pk__in=account_ids).order_by("pk"))


def _non_negative_check(*, accounts: dict[int, LedgerAccount], guarded: list[int], lines: list[_LineKey]) -> None:
    if not guarded:
        return
    before = _balances_of(guarded)
    change: dict[int, int] = defaultdict(int)
    for account_id, amount, _ in lines:
        change[account_id] += amount
    for account_id in guarded:
        account = accounts[account_id]
        held = Money(account.sign * before[account_id], account.currency)
        left = Money(account.sign * (before[account_id] + change[account_id]), account.currency)
        if left.amount < 0:
            raise LedgerError(
                f"{account} holds {money_format(held)}; this posting would leave {money_format(left)}, "
                "and it may not go below zero."
            )


@transaction.atomic
def journal_post(
    *,
    kind: str,
    idempotency_key: str,
    lines: Sequence[JournalLine],
    description: str,
    acting_user: User | None = None,
    reference: str = "",
) -> Journal:
    """Post one journal: the entries of one business event, balanced per currency.

    Returns the journal already posted under `idempotency_key` when the lines (and kind) are
    the same, so callers may simply retry; refuses the key with other lines. Refuses unbalanced,
    empty, zero or currency-mismatched lines, and any posting that would take a non-negative
    account below zero, with a LedgerError and nothing written.

    Not durable on purpose: the service that decides a money movement (funding a deal, a
    release) posts inside its own transaction, so its state change and the journal commit
    together or not at all.
    """
    if kind not in JournalKind.values:
        raise LedgerError(f"{kind!r} is not a kind of journal.")
    if not isinstance(idempotency_key, str) or not idempotency_key.strip() or len(idempotency_key) > 200:
        raise LedgerError("A journal needs an idempotency key of 1 to 200 characters, derived from its event.")
    if not description.strip() or len(description) > 300:
        raise LedgerError("A journal needs a description of 1 to 300 characters.")
    if len(reference) > 100:
        raise LedgerError("A journal reference is at most 100 characters.")
    if acting_user is not None and acting_user.pk is None:
        raise LedgerError("The acting user must be saved.")
    wanted = _lines_check(lines=lines)

    existing = Journal.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _journal_repeated(journal=existing, kind=kind, lines=wanted)

    accounts = _accounts_read(sorted({account_id for account_id, _, _ in wanted}))
    guarded = _lowered_guarded_accounts(accounts=accounts, lines=wanted)
    _accounts_lock(guarded)
    if guarded:
        # A concurrent posting of the same event may have held these locks and committed meanwhile.
        existing = Journal.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _journal_repeated(journal=existing, kind=kind, lines=wanted)
    _non_negative_check(accounts=accounts, guarded=guarded, lines=wanted)

    try:
        # A savepoint: if a concurrent posting of the same key (on other accounts) commits
        # first, the unique constraint stops us here and the transaction stays usable.
        with transaction.atomic():
            journal = Journal.objects.create(
                kind=kind,
                idempotency_key=idempotency_key,
                description=description.strip(),
                reference=reference,
                acting_user=acting_user,
            )
    except IntegrityError:
        existing = Journal.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _journal_repeated(journal=existing, kind=kind, lines=wanted)

    # In account order, like the locks above, for the database's own checks (which lock too).
    Entry.objects.bulk_create(
        Entry(journal=journal, account_id=account_id, amount=amount, currency=currency)
        for account_id, amount, currency in wanted
    )
    return journal


# --- Selectors ------------------------------------------------------------------------------


def account_balance(*, account: LedgerAccount) -> Money:
    """What the account holds, seen from its normal side (buyer escrow holding 10.00 is +10.00)."""
    total = Entry.objects.filter(account=account).aggregate(total=Sum("amount"))["total"] or 0
    return Money(account.sign * total, account.currency)


def entries_of(*, user: User) -> QuerySet[Entry]:
    """The ledger lines a party may see: the entries of the accounts held for them, newest first."""
    return (
        Entry.objects.filter(account__owner=user)
        .select_related("journal", "account")
        .order_by("-journal__created_at", "-journal_id", "id")
    )


def journal_entries(*, journal: Journal) -> QuerySet[Entry]:
    return journal.entries.select_related("account").order_by("id")


@dataclass(frozen=True)
class UnbalancedJournal:
    journal_id: int
    # None when the journal has no entries at all.
    currency: str | None
    total: int


@dataclass(frozen=True)
class LedgerCheck:
    journals: int
    entries: int
    # At most LEDGER_CHECK_REPORT_LIMIT of them; `problem_count` counts them all.
    unbalanced: list[UnbalancedJournal] = field(default_factory=list)
    problem_count: int = 0

    @property
    def balanced(self) -> bool:
        return self.problem_count == 0


LEDGER_CHECK_REPORT_LIMIT = 1000

# Per (journal, currency) sums of the entries, keeping those that are not zero, plus the
# journals without entries; with the count of both tables. Subqueries rather than CTEs, so that
# the half-million sums of a million-entry ledger are filtered as they come, never stored.
_LEDGER_CHECK_SQL = """
SELECT
    (SELECT count(*) FROM escrow_journal),
    (SELECT count(*) FROM escrow_entry),
    (SELECT coalesce(json_agg(json_build_array(journal_id, currency, total, problems)), '[]'::json) FROM (
        SELECT journal_id, currency, total, count(*) OVER () AS problems FROM (
            SELECT journal_id, currency, sum(amount) AS total
            FROM escrow_entry
            GROUP BY journal_id, currency
            HAVING sum(amount) <> 0
            UNION ALL
            SELECT j.id, NULL, 0
            FROM escrow_journal j
            WHERE NOT EXISTS (SELECT 1 FROM escrow_entry e WHERE e.journal_id = j.id)
        ) AS found
        ORDER BY journal_id, currency
        LIMIT %s
    ) AS listed)
"""


def ledger_check() -> LedgerCheck:
    """Verify, in one query, that every journal has entries and balances per currency.

    The database refuses such journals at commit already; this is the independent audit (and
    the benchmark's measure) that would catch a rule dropped or bypassed by a superuser."""
    with connection.cursor() as cursor:
        cursor.execute(_LEDGER_CHECK_SQL, [LEDGER_CHECK_REPORT_LIMIT])
        journals, entries, listed = cursor.fetchone()
    return LedgerCheck(
        journals=journals,
        entries=entries,
        unbalanced=[UnbalancedJournal(journal_id=j, currency=c, total=int(t)) for j, c, t, _ in listed],
        problem_count=listed[0][3] if listed else 0,
    )

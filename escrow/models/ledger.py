"""The double-entry ledger: every movement of money is a journal of entries that sum to zero.

Sign convention (the textbook one): a positive entry is a debit, a negative entry a credit.
Each account kind has a normal side: assets and expenses grow with debits, liabilities and
revenue with credits. An account's balance is the sum of its entries seen from its normal
side, so "buyer escrow holds 1,000.00 USD" is a balance of +1,000.00 although its entries sum
to -1,000.00 (a credit). A buyer's payment, for example, is posted as
    platform cash at Stripe  +1,000.00  (debit: the platform holds more cash)
    buyer escrow             -1,000.00  (credit: the platform owes the buyer more)

The database holds the rules, not only this code (see migration 0002_ledger_rules): a journal
must balance per currency at commit, entries and journals are never updated or deleted, an
entry's currency is its account's, and a non-negative account never goes below zero.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from marketplace.money import CURRENCIES, MAX_AMOUNT, Money

CURRENCY_CHOICES = [(code, code) for code in sorted(CURRENCIES)]


class NormalBalance(models.TextChoices):
    DEBIT = "debit", "Debit (asset or expense)"
    CREDIT = "credit", "Credit (liability or revenue)"


class LedgerAccountKind(models.TextChoices):
    PLATFORM_CASH = "platform_cash", "Platform cash at Stripe"
    BUYER_ESCROW = "buyer_escrow", "Buyer escrow"
    SELLER_DEPOSIT = "seller_deposit", "Seller margin deposit"
    SELLER_PAYABLE = "seller_payable", "Seller payable"
    REFUNDS_PAYABLE = "refunds_payable", "Refunds payable"
    PLATFORM_FEES = "platform_fees", "Platform fees revenue"
    FORFEITED_DEPOSITS = "forfeited_deposits", "Forfeited margin deposits revenue"
    STRIPE_FEES = "stripe_fees", "Stripe fees"


# What the platform owes a party (held for them) may never go below zero: paying out more than
# was paid in is exactly the bug the ledger exists to make impossible.
NON_NEGATIVE_KINDS = frozenset(
    {LedgerAccountKind.BUYER_ESCROW, LedgerAccountKind.SELLER_DEPOSIT, LedgerAccountKind.SELLER_PAYABLE}
)
# Accounts held for a party have that party as owner; the platform's own accounts have none.
OWNED_KINDS = frozenset(
    {
        LedgerAccountKind.BUYER_ESCROW,
        LedgerAccountKind.SELLER_DEPOSIT,
        LedgerAccountKind.SELLER_PAYABLE,
        LedgerAccountKind.REFUNDS_PAYABLE,
    }
)
NORMAL_BALANCE_OF_KIND = {
    LedgerAccountKind.PLATFORM_CASH: NormalBalance.DEBIT,
    LedgerAccountKind.STRIPE_FEES: NormalBalance.DEBIT,
    LedgerAccountKind.BUYER_ESCROW: NormalBalance.CREDIT,
    LedgerAccountKind.SELLER_DEPOSIT: NormalBalance.CREDIT,
    LedgerAccountKind.SELLER_PAYABLE: NormalBalance.CREDIT,
    LedgerAccountKind.REFUNDS_PAYABLE: NormalBalance.CREDIT,
    LedgerAccountKind.PLATFORM_FEES: NormalBalance.CREDIT,
    LedgerAccountKind.FORFEITED_DEPOSITS: NormalBalance.CREDIT,
}


class LedgerAccount(models.Model):
    """One account per (kind, owner, currency, reference): e.g. the escrow of buyer 7 for deal
    42 in USD. Created through `escrow.ledger.ledger_account_for`; its identity never changes."""

    kind = models.CharField(max_length=32, choices=LedgerAccountKind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_accounts",
        help_text="The party the money is held for; empty for the platform's own accounts.",
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    reference = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text="What the account is for, when a party has one per thing (e.g. 'deal:42', 'listing:7').",
    )
    normal_balance = models.CharField(max_length=6, choices=NormalBalance.choices)
    non_negative = models.BooleanField(
        default=False, help_text="The database refuses any entry that would take the balance below zero."
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        ordering = ["kind", "currency", "id"]
        constraints = [
            # NULLS NOT DISTINCT: the platform's accounts (no owner) are unique too.
            models.UniqueConstraint(
                fields=["kind", "owner", "currency", "reference"],
                nulls_distinct=False,
                name="ledger_account_unique_per_kind_owner_currency_reference",
            ),
            # The target of the entries' (account, currency) foreign key (see 0002_ledger_rules).
            models.UniqueConstraint(fields=["id", "currency"], name="ledger_account_id_currency_unique"),
            models.CheckConstraint(condition=Q(currency__in=sorted(CURRENCIES)), name="ledger_account_currency_known"),
            models.CheckConstraint(
                condition=Q(kind__in=sorted(OWNED_KINDS), owner__isnull=False)
                | (~Q(kind__in=sorted(OWNED_KINDS)) & Q(owner__isnull=True)),
                name="ledger_account_owner_iff_party_kind",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=sorted(NON_NEGATIVE_KINDS)) | Q(non_negative=True),
                name="ledger_account_guarded_kinds_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k for k, side in NORMAL_BALANCE_OF_KIND.items() if side == NormalBalance.DEBIT])
                & Q(normal_balance=NormalBalance.DEBIT)
                | Q(kind__in=[k for k, side in NORMAL_BALANCE_OF_KIND.items() if side == NormalBalance.CREDIT])
                & Q(normal_balance=NormalBalance.CREDIT),
                name="ledger_account_normal_balance_of_kind",
            ),
        ]

    def __str__(self) -> str:
        label = LedgerAccountKind(self.kind).label
        owner = f" of user #{self.owner_id}" if self.owner_id else ""
        reference = f" [{self.reference}]" if self.reference else ""
        return f"{label}{owner}{reference} ({self.currency})"

    @property
    def sign(self) -> int:
        """+1 when debits increase the balance, -1 when credits do."""
        return 1 if self.normal_balance == NormalBalance.DEBIT else -1


class JournalKind(models.TextChoices):
    """The business events that move money. Each posts one journal, keyed by its idempotency key."""

    MARGIN_DEPOSIT_PAID = "margin_deposit_paid", "Margin deposit paid"
    MARGIN_DEPOSIT_RETURNED = "margin_deposit_returned", "Margin deposit returned"
    MARGIN_DEPOSIT_FORFEITED = "margin_deposit_forfeited", "Margin deposit forfeited"
    DEAL_FUNDED = "deal_funded", "Deal funded by the buyer"
    DEAL_RELEASED = "deal_released", "Escrow released to the seller"
    DEAL_REFUNDED = "deal_refunded", "Escrow refunded to the buyer"
    PLATFORM_FEE = "platform_fee", "Platform fee charged"
    STRIPE_FEE = "stripe_fee", "Stripe fee recorded"
    SELLER_PAYOUT = "seller_payout", "Seller paid by transfer"
    BUYER_REFUND_PAID = "buyer_refund_paid", "Refund paid to the buyer"
    CORRECTION = "correction", "Correction (reverses or amends an earlier journal)"


class Journal(models.Model):
    """One posting: a business event's entries, which sum to zero per currency."""

    kind = models.CharField(max_length=40, choices=JournalKind.choices)
    idempotency_key = models.CharField(
        max_length=200,
        help_text="Derived from the business event (e.g. 'deal:42:funded'), so it can never post twice.",
    )
    description = models.CharField(max_length=300)
    reference = models.CharField(max_length=100, blank=True, default="", db_index=True)
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who caused the posting, when a person did (staff decisions, a party's action).",
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    # Set by the database (the transaction that inserted the journal), so that no later
    # transaction can add entries to a journal already posted; see 0002_ledger_rules.
    posted_txid = models.BigIntegerField(null=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Named, so that journal_post can tell a repeated business event from other conflicts.
            models.UniqueConstraint(fields=["idempotency_key"], name="journal_idempotency_key_unique"),
            models.CheckConstraint(condition=~Q(idempotency_key=""), name="journal_idempotency_key_not_empty"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}: {self.description}"


class Entry(models.Model):
    """One line of a journal: a signed amount (debit positive, credit negative) on an account."""

    journal = models.ForeignKey(Journal, on_delete=models.PROTECT, related_name="entries")
    # The composite (account, currency) foreign key and the covering index below replace the
    # plain index Django would make.
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries", db_index=False)
    amount = models.BigIntegerField(help_text="Minor units; positive is a debit, negative a credit.")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)

    class Meta:
        ordering = ["journal_id", "id"]
        verbose_name_plural = "entries"
        indexes = [
            # Balances are sums over one account's entries: an index-only scan with the amount.
            models.Index(fields=["account"], include=["amount"], name="entry_account_amount_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(amount=0) & Q(amount__gte=-MAX_AMOUNT) & Q(amount__lte=MAX_AMOUNT),
                name="entry_amount_non_zero_and_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.money} on account #{self.account_id} (journal #{self.journal_id})"

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)

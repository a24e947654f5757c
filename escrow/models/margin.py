"""The seller's side of the money: the margin deposit rule, each listing's margin deposit, and
the seller's Stripe Connect account that payouts are transferred to.

A margin deposit is the seller's guarantee (DESIGN.md: Margin deposit): `required -> paid ->
returned | forfeited`, a protected django-fsm field moved only by escrow.margin. `returned`
means the refund reached Stripe; `return_requested_at` marks the decision to return it, taken
before the refund leaves (on commit, in a task), so that no forfeiture can race it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from listings.models import Listing
from marketplace.money import CURRENCIES, MAX_AMOUNT, Money, fee_compute

CURRENCY_CHOICES = [(code, code) for code in sorted(CURRENCIES)]


class MarginRule(models.Model):
    """How much margin deposit a listing in one currency takes: a percentage (basis points) of
    the asking price kept between a minimum and a maximum, or a fixed amount. One active rule per
    currency (the database holds it); a listing without an asking price pays the minimum."""

    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="USD")
    basis_points = models.PositiveIntegerField(
        null=True, blank=True, help_text="Of the asking price; 100 basis points = 1%. Empty for a fixed amount."
    )
    minimum = models.BigIntegerField(default=0, help_text="Minor units; the least a percentage rule takes.")
    maximum = models.BigIntegerField(
        null=True, blank=True, help_text="Minor units; the most a percentage rule takes (empty: no cap)."
    )
    fixed_amount = models.BigIntegerField(
        null=True, blank=True, help_text="Minor units, the same for every listing. Empty for a percentage."
    )
    active = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["currency", "-active", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["currency"], condition=Q(active=True), name="margin_rule_one_active"),
            models.CheckConstraint(
                condition=Q(basis_points__isnull=True, fixed_amount__gt=0, fixed_amount__lte=MAX_AMOUNT)
                | Q(fixed_amount__isnull=True, basis_points__gt=0, basis_points__lte=10_000),
                name="margin_rule_percentage_xor_fixed",
            ),
            models.CheckConstraint(
                condition=Q(minimum__gte=0, minimum__lte=MAX_AMOUNT)
                & (Q(maximum__isnull=True) | Q(maximum__gte=models.F("minimum"), maximum__lte=MAX_AMOUNT)),
                name="margin_rule_bounds_in_range",
            ),
            models.CheckConstraint(condition=Q(currency__in=sorted(CURRENCIES)), name="margin_rule_currency_known"),
        ]

    def __str__(self) -> str:
        if self.fixed_amount is not None:
            return f"{self.currency}: fixed {Money(self.fixed_amount, self.currency)}"
        cap = f", at most {Money(self.maximum, self.currency)}" if self.maximum is not None else ""
        return f"{self.currency}: {self.basis_points} bp, at least {Money(self.minimum, self.currency)}{cap}"

    def amount_for(self, *, asking_price: int | None) -> Money:
        """The deposit for a listing at this asking price (fee_compute's half-up rounding)."""
        if self.fixed_amount is not None:
            return Money(self.fixed_amount, self.currency)
        amount = Money(self.minimum, self.currency)
        if asking_price is not None and self.basis_points is not None:
            share = fee_compute(amount=Money(asking_price, self.currency), basis_points=self.basis_points)
            amount = max(amount, share)
        if self.maximum is not None:
            amount = min(amount, Money(self.maximum, self.currency))
        return amount


class MarginDepositState(models.TextChoices):
    REQUIRED = "required", "Required"
    PAID = "paid", "Paid (held)"
    RETURNED = "returned", "Returned"
    FORFEITED = "forfeited", "Forfeited"


M = MarginDepositState


class MarginDeposit(FSMModelMixin, models.Model):
    """One listing's margin deposit: its amount (fixed when first required), its payment and its
    end. One per listing: a listing pays its guarantee once, whatever happens to it later."""

    listing = models.OneToOneField(Listing, on_delete=models.PROTECT, related_name="margin_deposit")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="margin_deposits")
    amount = models.BigIntegerField(help_text="Minor units of the currency.")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    state = FSMField(default=M.REQUIRED, choices=M.choices, protected=True)
    payment_intent_id = models.CharField(max_length=255, blank=True)
    refund_id = models.CharField(max_length=255, blank=True)
    return_requested_at = models.DateTimeField(null=True, blank=True)
    forfeiture_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    forfeited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("forfeit_margin", "Can forfeit a seller's margin deposit")]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0, amount__lte=MAX_AMOUNT), name="margin_deposit_amount_in_range"
            ),
            models.CheckConstraint(condition=Q(currency__in=sorted(CURRENCIES)), name="margin_deposit_currency_known"),
            # A forfeiture is a staff decision with its reason, never a silent one.
            models.CheckConstraint(
                condition=~Q(state=M.FORFEITED) | (~Q(forfeiture_reason="") & Q(decided_by__isnull=False)),
                name="margin_deposit_forfeiture_has_reason_and_decider",
            ),
            models.CheckConstraint(
                condition=Q(state=M.REQUIRED) | ~Q(payment_intent_id=""), name="margin_deposit_paid_has_payment"
            ),
            # Returned and forfeited exclude each other: a return decided is never forfeited.
            models.CheckConstraint(
                condition=~Q(state=M.FORFEITED) | Q(return_requested_at__isnull=True),
                name="margin_deposit_forfeited_not_returning",
            ),
        ]

    def __str__(self) -> str:
        return f"Margin deposit of listing {self.listing_id}: {self.money} ({self.get_state_display()})"

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)

    @property
    def reference(self) -> str:
        """How the ledger names the listing's deposit (account and journal references)."""
        return f"listing:{self.listing_id}"

    # --- Transitions: called only by escrow.margin ------------------------------------------

    @transition(field=state, source=M.REQUIRED, target=M.PAID)
    def pay(self, *, payment_intent_id: str) -> None:
        self.payment_intent_id = payment_intent_id
        self.paid_at = timezone.now()

    @transition(field=state, source=M.PAID, target=M.RETURNED)
    def return_(self, *, refund_id: str) -> None:
        self.refund_id = refund_id
        self.returned_at = timezone.now()

    @transition(field=state, source=M.PAID, target=M.FORFEITED)
    def forfeit(self, *, reason: str, by_id: int) -> None:
        self.forfeiture_reason = reason
        self.decided_by_id = by_id
        self.forfeited_at = timezone.now()


class ConnectedAccount(models.Model):
    """A seller's Stripe Connect (Express) account, with what Stripe last told us it can do.
    Stored from `account.updated` (re-read from the API) and from the onboarding return page."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="connected_account")
    stripe_account_id = models.CharField(max_length=255, unique=True)
    charges_enabled = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    transfers_active = models.BooleanField(
        default=False, help_text="The 'transfers' capability is active: the platform can pay the seller."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(stripe_account_id__startswith="acct_"), name="connected_account_id_is_an_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.stripe_account_id} of user #{self.user_id}"

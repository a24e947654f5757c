"""The seller's margin deposit (DESIGN.md: Margin deposit): required when staff approve a listing
and the platform asks for one (LISTING_MARGIN_REQUIRED), paid by card to publish the listing,
returned when the listing is withdrawn with no open deal or its deal completes, forfeited only
by a staff decision with a recorded reason.

Ledger: paying posts platform cash / the seller's deposit account for the listing (naming
Stripe's balance transaction); the return posts it back out of platform cash once Stripe's
refund is made (a task, on commit, key `listing:{id}:margin:refund`); a forfeiture moves the
deposit to the platform's forfeited-deposits revenue and no cash moves.
"""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_fsm import can_proceed

from accounts.models import User
from escrow import stripe_gateway
from escrow.ledger import LedgerError, journal_post, ledger_account_for
from escrow.models import Deal, JournalKind, LedgerAccount, LedgerAccountKind, MarginDeposit, MarginRule
from escrow.models.deals import INACTIVE_DEAL_STATES
from escrow.models.margin import MarginDepositState
from escrow.payments import (
    MARGIN_DEPOSIT,
    PaymentError,
    captured_amount,
    card_attempt_key,
    charge_of,
    payment_intent_id_for,
    stripe_fee_post,
)
from listings import services as listing_services
from listings.models import Listing, ListingState
from marketplace.money import Money, money_format

logger = logging.getLogger(__name__)

M = MarginDepositState
FORFEIT_PERMISSIONS = ("escrow.forfeit_margin", "escrow.decide_dispute")


class MarginError(Exception):
    """A refused margin deposit action, with a message fit to show the person. Nothing changed."""

    def __init__(self, message: str, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.forbidden = forbidden


def margin_payment_key(listing_id: int) -> str:
    return f"listing:{listing_id}:margin"


def _deposit_account(deposit: MarginDeposit) -> LedgerAccount:
    return ledger_account_for(
        kind=LedgerAccountKind.SELLER_DEPOSIT,
        owner=deposit.seller,
        currency=deposit.currency,
        reference=deposit.reference,
    )


def _platform(kind: str, currency: str) -> LedgerAccount:
    return ledger_account_for(kind=kind, owner=None, currency=currency)


# --- Selectors ----------------------------------------------------------------------------------


def margin_rule_for(*, currency: str) -> MarginRule | None:
    return MarginRule.objects.filter(currency=currency, active=True).first()


def margin_deposits_of(*, user: User) -> QuerySet[MarginDeposit]:
    return MarginDeposit.objects.filter(seller=user).select_related("listing").order_by("-created_at", "-id")


def listings_awaiting_margin(*, user: User) -> QuerySet[Listing]:
    return Listing.objects.filter(seller=user, state=ListingState.AWAITING_MARGIN).order_by("-updated_at", "-id")


# --- Requiring and paying -----------------------------------------------------------------------


def _seller_listing_check(*, listing: Listing, seller: User) -> None:
    if listing.seller_id != seller.pk:
        raise MarginError("Only the listing's seller pays its margin deposit.", forbidden=True)
    if listing.state != ListingState.AWAITING_MARGIN:
        raise MarginError(
            f"This listing is {listing.get_state_display().lower()}: it is not awaiting a margin deposit."
        )


@transaction.atomic
def margin_deposit_require(*, listing: Listing, seller: User) -> MarginDeposit:
    """The listing's deposit, created with the active rule's amount the first time it is asked.
    The amount is fixed from then on, so a later change of rule never alters what the seller saw."""
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    _seller_listing_check(listing=listing, seller=seller)
    deposit = MarginDeposit.objects.filter(listing=listing).first()
    if deposit is not None:
        return deposit
    rule = margin_rule_for(currency=listing.currency)
    if rule is None:
        raise MarginError(f"No margin deposit rule is set for {listing.currency}; staff have been told to set one.")
    amount = rule.amount_for(asking_price=listing.asking_price)
    if amount.amount <= 0:
        raise MarginError("The margin rule gives no deposit for this listing; staff must correct the rule.")
    return MarginDeposit.objects.create(listing=listing, seller=seller, amount=amount.amount, currency=amount.currency)


def margin_payment_start(*, listing: Listing, seller: User) -> tuple[MarginDeposit, stripe_gateway.PaymentIntent]:
    """The deposit and its PaymentIntent for the seller's card (one per listing, key
    `listing:{id}:margin`). Refused: another person's listing, a listing not awaiting its
    deposit, a deposit already paid. Outside a transaction (money_call commits its key first)."""
    deposit = margin_deposit_require(listing=listing, seller=seller)
    if deposit.state != M.REQUIRED:
        raise MarginError(f"The margin deposit is {deposit.get_state_display().lower()} already.")
    intent = stripe_gateway.payment_intent_create(
        amount=deposit.money,
        purpose=MARGIN_DEPOSIT,
        reference=deposit.reference,
        idempotency_key=margin_payment_key(listing.pk),
        customer_email=seller.email,
        metadata={"listing": str(listing.pk)},
    )
    return deposit, intent


def margin_payment_card_pay(*, listing: Listing, seller: User, card_token: str) -> stripe_gateway.PaymentIntent:
    """Charge the card the seller typed (tokenized by Stripe.js) on the deposit's one
    PaymentIntent: `succeeded`, or `requires_action` for 3-D Secure (finished in the browser).
    The listing is published by payment_intent_settle (webhook or return page), not here.
    Refused with nothing changed as margin_payment_start refuses, and for an unreadable token
    or a refused card (the gateway's errors). Outside a transaction."""
    stripe_gateway.card_token_check(card_token)
    deposit, intent = margin_payment_start(listing=listing, seller=seller)
    return stripe_gateway.payment_intent_card_confirm(
        payment_intent_id=intent.id,
        card_token=card_token,
        idempotency_key=card_attempt_key(margin_payment_key(listing.pk), card_token),
        customer_email=seller.email,
        reference=deposit.reference,
    )


def margin_payment_apply(*, intent: stripe_gateway.PaymentIntent) -> str:
    """Hold the deposit this succeeded intent paid, and publish the listing. Idempotent: the same
    intent applied again (webhook and return page) changes nothing."""
    listing_id = intent.metadata.get("listing", "")
    if not listing_id.isdigit() or intent.metadata.get("reference") != f"listing:{listing_id}":
        raise PaymentError(f"PaymentIntent {intent.id} names no listing of ours.")
    deposit = MarginDeposit.objects.filter(listing_id=int(listing_id)).first()
    if deposit is None or payment_intent_id_for(key=margin_payment_key(int(listing_id))) != intent.id:
        raise PaymentError(f"PaymentIntent {intent.id} is not the margin deposit we asked for listing {listing_id}.")
    if not intent.succeeded:
        return "pending"
    if deposit.payment_intent_id == intent.id:
        return "already_paid"
    charge = charge_of(intent)
    return _margin_paid(deposit_id=deposit.pk, intent=intent, txn_id=charge.balance_transaction, fee=charge.fee)


@transaction.atomic
def _margin_paid(*, deposit_id: int, intent: stripe_gateway.PaymentIntent, txn_id: str, fee: Money | None) -> str:
    # The listing first, then the deposit: the order every margin action locks in.
    deposit = MarginDeposit.objects.get(pk=deposit_id)
    listing = Listing.objects.select_for_update().get(pk=deposit.listing_id)
    deposit = MarginDeposit.objects.select_for_update().get(pk=deposit_id)
    if deposit.payment_intent_id == intent.id:
        return "already_paid"
    if deposit.state != M.REQUIRED:
        raise PaymentError(
            f"The margin deposit of listing {listing.pk} is {deposit.state}; a second payment is refused."
        )
    if captured_amount(intent) != deposit.money:
        raise PaymentError(f"The margin deposit is {deposit.money}, not {money_format(captured_amount(intent))}.")
    journal_post(
        kind=JournalKind.MARGIN_DEPOSIT_PAID,
        idempotency_key=f"{deposit.reference}:margin:paid",
        lines=[
            (_platform(LedgerAccountKind.PLATFORM_CASH, deposit.currency), deposit.money),
            (_deposit_account(deposit), -deposit.money),
        ],
        description=f"Margin deposit of listing {listing.pk} paid ({intent.id})",
        reference=txn_id or deposit.reference,
    )
    stripe_fee_post(fee=fee, key=f"{deposit.reference}:margin:stripe_fee", txn_id=txn_id, what="a margin deposit")
    deposit.pay(payment_intent_id=intent.id)
    deposit.save()
    if listing.state == ListingState.AWAITING_MARGIN:
        listing_services.listing_publish_after_margin(listing=listing)
    else:
        # Withdrawn (or suspended) while the card was being charged: the guarantee is not needed.
        _return_request(deposit=deposit)
    return "paid"


# --- Return -------------------------------------------------------------------------------------


def _return_request(*, deposit: MarginDeposit) -> None:
    """Decide the return of a paid deposit (caller holds its lock); the refund leaves on commit."""
    if deposit.state != M.PAID or deposit.return_requested_at is not None:
        return
    MarginDeposit.objects.filter(pk=deposit.pk).update(return_requested_at=timezone.now())
    deposit_id = deposit.pk
    transaction.on_commit(lambda: margin_refund_task.delay(deposit_id))


def _active_deal_exists(listing_id: int) -> bool:
    return Deal.objects.filter(listing_id=listing_id).exclude(state__in=INACTIVE_DEAL_STATES).exists()


@transaction.atomic
def margin_deposit_return_for_listing(*, listing_id: int, note: str = "") -> bool:
    """Return the listing's paid deposit (its deal completed, or it was withdrawn); True when a
    return was decided now. Called from the release service, inside its transaction."""
    deposit = MarginDeposit.objects.select_for_update().filter(listing_id=listing_id).first()
    if deposit is None or deposit.state != M.PAID or deposit.return_requested_at is not None:
        return False
    logger.info("Margin deposit %s returned: %s", deposit.pk, note)
    _return_request(deposit=deposit)
    return True


@transaction.atomic
def listing_withdraw_returning_margin(*, listing: Listing, acting_user: User) -> Listing:
    """The seller withdraws the listing; with no open deal, its margin deposit goes back."""
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    if _active_deal_exists(listing.pk):
        raise MarginError("A deal on this listing is under way: it cannot be withdrawn now.")
    try:
        listing = listing_services.listing_withdraw(listing=listing, acting_user=acting_user)
    except listing_services.ListingError as error:
        raise MarginError(str(error)) from None
    margin_deposit_return_for_listing(listing_id=listing.pk, note="The listing was withdrawn.")
    return listing


def margin_deposits_settle(*, now: datetime | None = None) -> list[int]:
    """Return every paid deposit whose listing no longer needs it: withdrawn with no open deal
    (whichever page withdrew it), or sold by a deal that completed. Celery beat; safe to rerun."""
    due = MarginDeposit.objects.filter(
        state=M.PAID, return_requested_at__isnull=True, listing__state__in=[ListingState.WITHDRAWN, ListingState.SOLD]
    ).values_list("pk", "listing_id")
    returned = []
    for deposit_id, listing_id in list(due.order_by("pk")):
        if _active_deal_exists(listing_id):
            continue
        if margin_deposit_return_for_listing(listing_id=listing_id, note="Settled by the daily sweep."):
            returned.append(deposit_id)
    return returned


def margin_refund_pay(*, deposit_id: int) -> str:
    """Refund a deposit whose return was decided, once (key `listing:{id}:margin:refund`), then
    record it. Raises StripeUnavailable for a retry. Outside a transaction."""
    deposit = MarginDeposit.objects.select_related("seller").get(pk=deposit_id)
    if deposit.state != M.PAID or deposit.return_requested_at is None:
        return "nothing"
    refund = stripe_gateway.refund_create(
        payment_intent_id=deposit.payment_intent_id,
        amount=deposit.money,
        idempotency_key=f"{margin_payment_key(deposit.listing_id)}:refund",
    )
    return _margin_returned(deposit_id=deposit.pk, refund=refund)


@transaction.atomic
def _margin_returned(*, deposit_id: int, refund: stripe_gateway.Refund) -> str:
    deposit = MarginDeposit.objects.select_for_update().get(pk=deposit_id)
    if deposit.state == M.RETURNED:
        return "nothing"
    journal_post(
        kind=JournalKind.MARGIN_DEPOSIT_RETURNED,
        idempotency_key=f"{deposit.reference}:margin:returned",
        lines=[
            (_deposit_account(deposit), deposit.money),
            (_platform(LedgerAccountKind.PLATFORM_CASH, deposit.currency), -deposit.money),
        ],
        description=f"Margin deposit of listing {deposit.listing_id} returned ({refund.id})",
        reference=refund.balance_transaction or refund.id,
    )
    deposit.return_(refund_id=refund.id)
    deposit.save()
    return "returned"


# Retried while Stripe's answer is unknown: the same idempotency key makes Stripe answer the first result.
_RETRY_ON = (stripe_gateway.StripeUnavailable,)


@shared_task(name="escrow.margin_refund_pay", autoretry_for=_RETRY_ON, retry_backoff=30, max_retries=12)
def margin_refund_task(deposit_id: int) -> str:
    return margin_refund_pay(deposit_id=deposit_id)


@shared_task(name="escrow.margin_deposits_settle")
def margin_deposits_settle_task() -> int:
    return len(margin_deposits_settle())


# --- Forfeiture ---------------------------------------------------------------------------------


@transaction.atomic
def margin_deposit_forfeit(*, deposit: MarginDeposit, acting_user: User, reason: str) -> MarginDeposit:
    """Staff forfeit a paid deposit (the seller failed to sign, misrepresented the right...):
    needs `escrow.forfeit_margin` (or `escrow.decide_dispute`) and a reason, kept with who decided."""
    if not acting_user.is_staff or not any(acting_user.has_perm(perm) for perm in FORFEIT_PERMISSIONS):
        raise MarginError("You do not have the permission to forfeit a margin deposit.", forbidden=True)
    if not isinstance(reason, str) or not reason.strip():
        raise MarginError("Give the reason for the forfeiture: the seller reads it.")
    if len(reason) > 5000:
        raise MarginError("The reason is at most 5,000 characters.")
    Listing.objects.select_for_update().get(pk=deposit.listing_id)
    deposit = MarginDeposit.objects.select_for_update().get(pk=deposit.pk)
    if deposit.return_requested_at is not None:
        raise MarginError("This deposit is being returned to the seller; it can no longer be forfeited.")
    if not can_proceed(deposit.forfeit):
        raise MarginError(f"A {deposit.get_state_display().lower()} deposit cannot be forfeited.")
    try:
        journal_post(
            kind=JournalKind.MARGIN_DEPOSIT_FORFEITED,
            idempotency_key=f"{deposit.reference}:margin:forfeited",
            lines=[
                (_deposit_account(deposit), deposit.money),
                (_platform(LedgerAccountKind.FORFEITED_DEPOSITS, deposit.currency), -deposit.money),
            ],
            description=f"Margin deposit of listing {deposit.listing_id} forfeited by staff",
            acting_user=acting_user,
            reference=deposit.reference,
        )
    except LedgerError as error:
        raise MarginError(f"The ledger refused the forfeiture: {error}") from error
    deposit.forfeit(reason=reason.strip(), by_id=acting_user.pk)
    deposit.save()
    return deposit

"""Card payments into the platform: the buyer's escrow payment for a deal (and, through
escrow.margin, the seller's margin deposit), with Stripe PaymentIntents and Stripe.js.

1. `deal_payment_start` creates the deal's one PaymentIntent under the key `deal:{id}:payment`
   (money_call commits the key before the request leaves, so a reload or a double click gets
   the same intent back, never a second one). The pay page's Stripe.js tokenizes the card typed
   and `deal_payment_card_pay` charges it on that intent (each card under its own key); a
   3-D Secure challenge is then answered in the browser.
2. `payment_intent_settle` is THE path that applies a payment, whoever learns of it first: the
   `payment_intent.succeeded` webhook, or the page's return view after Stripe.js confirmed (for
   development, where localstripe sends no webhooks, and for a webhook that is late). It re-reads
   the intent from Stripe (an event's copy may be stale or out of order), checks it is the one
   we created for that deal, and funds the deal under a key derived from the intent, so running
   it twice, or concurrently, funds once.
3. The funding journal and Stripe's fee name Stripe's balance transaction (`txn_...`), so the
   daily reconciliation (escrow.stripe_reconciliation) matches them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

from accounts.models import User
from escrow import stripe_gateway
from escrow.ledger import journal_post, ledger_account_for
from escrow.models import Deal, DealEvent, DealState, JournalKind, LedgerAccountKind, StripeEvent, StripeRequest
from escrow.models.stripe import StripeRequestState
from escrow.services import DealError, deal_mark_funded
from escrow.services.common import Refusal
from marketplace.money import Money

logger = logging.getLogger(__name__)

DEAL_PAYMENT = "deal_payment"
MARGIN_DEPOSIT = "margin_deposit"


def deal_payment_key(deal_id: int) -> str:
    return f"deal:{deal_id}:payment"


def payment_intent_id_for(*, key: str) -> str:
    """The PaymentIntent we created under this key ("" if none): the only one that may fund."""
    record = StripeRequest.objects.filter(idempotency_key=key, state=StripeRequestState.SUCCEEDED).first()
    return record.response_object_id if record is not None else ""


# --- Starting a payment -----------------------------------------------------------------------


def deal_payment_start(*, deal: Deal, buyer: User) -> stripe_gateway.PaymentIntent:
    """The deal's PaymentIntent for the buyer's card (created once; the same one again after).

    Refused, with nothing created: someone else's deal, a deal not awaiting payment (paid, or
    cancelled). Must run outside a transaction (the key is committed before Stripe is called)."""
    deal = Deal.objects.select_related("buyer").get(pk=deal.pk)
    if deal.buyer_id != buyer.pk:
        raise DealError("This deal is not yours to pay.", code=Refusal.FORBIDDEN)
    if deal.funding_key or deal.state != DealState.AWAITING_PAYMENT:
        raise DealError(f"Deal #{deal.pk} is {deal.get_state_display().lower()}: there is nothing to pay.")
    return stripe_gateway.payment_intent_create(
        amount=deal.total_due,
        purpose=DEAL_PAYMENT,
        reference=deal.reference,
        idempotency_key=deal_payment_key(deal.pk),
        customer_email=buyer.email,
        metadata={"deal": str(deal.pk)},
    )


def card_attempt_key(payment_key: str, card_token: str) -> str:
    """The idempotency key of charging one card (one token) on a payment: a double click or a
    retry of the same card confirms once; another card is another attempt on the same intent."""
    return f"{payment_key}:card:{card_token}"


def deal_payment_card_pay(*, deal: Deal, buyer: User, card_token: str) -> stripe_gateway.PaymentIntent:
    """Charge the card the buyer typed (tokenized by Stripe.js) on the deal's one PaymentIntent;
    the intent comes back `succeeded` or `requires_action` (3-D Secure, finished in the browser).
    The deal is funded by payment_intent_settle (webhook or return page), not here.

    Refused with nothing changed: an unreadable token, someone else's deal, a deal not awaiting
    payment (DealError); a refused card (CardDeclined). Outside a transaction."""
    stripe_gateway.card_token_check(card_token)
    intent = deal_payment_start(deal=deal, buyer=buyer)
    return stripe_gateway.payment_intent_card_confirm(
        payment_intent_id=intent.id,
        card_token=card_token,
        idempotency_key=card_attempt_key(deal_payment_key(deal.pk), card_token),
        customer_email=buyer.email,
        reference=deal.reference,
    )


# --- Applying a payment -------------------------------------------------------------------------


@dataclass(frozen=True)
class StripeCharge:
    """What the ledger needs of a captured payment: Stripe's balance transaction and its fee."""

    balance_transaction: str
    fee: Money | None


def charge_of(intent: stripe_gateway.PaymentIntent) -> StripeCharge:
    """The balance transaction and fee of a succeeded intent's charge, when Stripe has them. A
    fee in another currency than the payment (a different settlement currency) is not posted:
    reconciliation reports it for staff instead of the ledger guessing a rate."""
    if not intent.latest_charge:
        return StripeCharge("", None)
    txn_id = stripe_gateway.charge_balance_transaction_id(charge_id=intent.latest_charge)
    if not txn_id:
        return StripeCharge("", None)
    txn = stripe_gateway.balance_transaction_retrieve(balance_transaction_id=txn_id)
    if txn is None or txn.currency != intent.amount.currency:
        return StripeCharge(txn_id, None)
    return StripeCharge(txn_id, Money(txn.fee, txn.currency))


def stripe_fee_post(*, fee: Money | None, key: str, txn_id: str, what: str) -> None:
    """Stripe's fee on a payment: an expense, out of platform cash (inside the caller's transaction)."""
    if fee is None or fee.amount <= 0:
        return
    journal_post(
        kind=JournalKind.STRIPE_FEE,
        idempotency_key=key,
        lines=[
            (ledger_account_for(kind=LedgerAccountKind.STRIPE_FEES, owner=None, currency=fee.currency), fee),
            (ledger_account_for(kind=LedgerAccountKind.PLATFORM_CASH, owner=None, currency=fee.currency), -fee),
        ],
        description=f"Stripe fee on {what}",
        reference=txn_id,
    )


def captured_amount(intent: stripe_gateway.PaymentIntent) -> Money:
    """What a succeeded intent captured. Our intents capture automatically and in full, so it is
    the amount; `amount_received` says so too where given (localstripe leaves it out)."""
    return intent.amount_received if intent.amount_received.amount else intent.amount


class PaymentError(Exception):
    """A payment that cannot be applied (not ours, not for this object); nothing changed."""


def _reference_id(intent: stripe_gateway.PaymentIntent, prefix: str, field: str) -> int:
    reference = intent.metadata.get("reference", "")
    value = intent.metadata.get(field, "")
    if not value.isdigit() or reference != f"{prefix}:{value}":
        raise PaymentError(f"PaymentIntent {intent.id} names no {prefix} of ours.")
    return int(value)


def deal_payment_apply(*, intent: stripe_gateway.PaymentIntent) -> str:
    """Fund the deal this succeeded intent pays for; "funded", "pending" or "already_funded"."""
    deal_id = _reference_id(intent, "deal", "deal")
    deal = Deal.objects.filter(pk=deal_id).first()
    if deal is None or payment_intent_id_for(key=deal_payment_key(deal_id)) != intent.id:
        raise PaymentError(f"PaymentIntent {intent.id} is not the payment we asked for deal #{deal_id}.")
    if not intent.succeeded:
        return "pending"
    funding_key = f"payment_intent:{intent.id}"
    if deal.funding_key == funding_key:
        return "already_funded"
    charge = charge_of(intent)
    with transaction.atomic():
        deal = deal_mark_funded(
            deal=deal,
            amount=captured_amount(intent),
            payment_reference=intent.id,
            idempotency_key=funding_key,
            ledger_reference=charge.balance_transaction,
        )
        stripe_fee_post(
            fee=charge.fee,
            key=f"deal:{deal.pk}:stripe_fee",
            txn_id=charge.balance_transaction,
            what=f"deal #{deal.pk}'s payment",
        )
        if deal.state == DealState.CANCELLED and deal.refunded_amount > 0:
            # Paid after the deal was cancelled: deal_mark_funded owes it back; send it now.
            from escrow.payouts import deal_refund_schedule

            deal_refund_schedule(deal=deal)
    return "funded"


def payment_intent_settle(*, payment_intent_id: str) -> str:
    """Apply a PaymentIntent as Stripe has it now (webhook and return page alike)."""
    intent = stripe_gateway.payment_intent_retrieve(payment_intent_id=payment_intent_id)
    purpose = intent.metadata.get("purpose", "")
    if purpose == DEAL_PAYMENT:
        return deal_payment_apply(intent=intent)
    if purpose == MARGIN_DEPOSIT:
        from escrow.margin import margin_payment_apply

        return margin_payment_apply(intent=intent)
    return "ignored"  # not a payment of ours (another integration on the same Stripe account)


# --- Webhook handlers (registered in EscrowConfig.ready) -----------------------------------------


def _event_object_id(event: StripeEvent, prefix: str) -> str:
    obj = (event.payload.get("data") or {}).get("object") or {}
    object_id = str(obj.get("id") or "")
    return object_id if object_id.startswith(prefix) else ""


def _intent_unknown(payment_intent_id: str, error: stripe_gateway.StripeInvalidRequest) -> None:
    # Stripe has no such intent for our key (another mode or account's event): nothing of ours
    # to change. An unknown outcome (StripeUnavailable) is not caught: the event stays for replay.
    logger.warning("Stripe event for PaymentIntent %s ignored: %s", payment_intent_id, error)


def payment_intent_succeeded_handle(event: StripeEvent) -> None:
    payment_intent_id = _event_object_id(event, "pi_")
    if payment_intent_id:
        try:
            payment_intent_settle(payment_intent_id=payment_intent_id)
        except stripe_gateway.StripeInvalidRequest as error:
            _intent_unknown(payment_intent_id, error)


def payment_intent_failed_handle(event: StripeEvent) -> None:
    """A declined or failed card: say so on the deal's timeline; the deal still awaits payment."""
    payment_intent_id = _event_object_id(event, "pi_")
    if not payment_intent_id:
        return
    try:
        intent = stripe_gateway.payment_intent_retrieve(payment_intent_id=payment_intent_id)
    except stripe_gateway.StripeInvalidRequest as error:
        _intent_unknown(payment_intent_id, error)
        return
    if intent.metadata.get("purpose") != DEAL_PAYMENT:
        return
    deal_id = _reference_id(intent, "deal", "deal")
    deal = Deal.objects.filter(pk=deal_id).first()
    if deal is None or payment_intent_id_for(key=deal_payment_key(deal_id)) != intent.id:
        return
    if deal.state != DealState.AWAITING_PAYMENT or intent.succeeded:
        return  # paid meanwhile: an old failure is no news
    last_error = (event.payload.get("data") or {}).get("object", {}).get("last_payment_error") or {}
    message = str(last_error.get("message") or "the card was not charged")[:500]
    DealEvent.objects.create(
        deal=deal,
        from_state=deal.state,
        to_state=deal.state,
        note=f"The card payment failed: {message}. Pay again with another card before the deadline.",
    )

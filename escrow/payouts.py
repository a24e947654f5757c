"""Money leaving the platform for a deal: the payout transfer to the seller's Connect account after
release, and the refund to the buyer's card after a refund; plus the seller's Connect onboarding.

The deal services decide (release, refund) and post the ledger inside their transaction; they
call `deal_released_settle` / `deal_refund_schedule`, which queue a task ON COMMIT. The task
calls Stripe with a key derived from the deal and the step (`deal:{id}:transfer`,
`deal:{id}:refund`) that escrow.stripe_gateway.money_call commits before the request leaves,
so a retry after a lost answer gets Stripe's first answer and moves the money once. Only then
does the ledger record the cash leaving (naming Stripe's balance transaction, for
reconciliation), under its own key, so a task that runs twice posts once.

A seller without a Connect account able to receive transfers is not paid yet: the money stays
in their seller payable account, owed, until onboarding completes (`account.updated` or the
return page), which pays every deal still owed.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction
from django.db.models import Sum

from accounts.models import User
from escrow import stripe_gateway
from escrow.ledger import account_balance, journal_post, ledger_account_for
from escrow.models import (
    ConnectedAccount,
    Deal,
    DealState,
    Entry,
    JournalKind,
    LedgerAccount,
    LedgerAccountKind,
    StripeEvent,
)
from escrow.services.common import deal_record
from marketplace.money import Money, money_format

logger = logging.getLogger(__name__)

D = DealState


class PayoutError(Exception):
    """A refused onboarding or payout step, with a message fit to show the person."""


# --- Scheduling (called inside the deal services' transactions) ---------------------------------


def deal_released_settle(*, deal: Deal) -> None:
    """After a release: pay the seller on commit, and return the listing's margin deposit."""
    from escrow.margin import margin_deposit_return_for_listing

    margin_deposit_return_for_listing(listing_id=deal.listing_id, note=f"Deal #{deal.pk} completed.")
    deal_id = deal.pk
    transaction.on_commit(lambda: deal_payout_task.delay(deal_id))


def deal_refund_schedule(*, deal: Deal) -> None:
    """After a refund decision: send the money back to the buyer's card on commit."""
    deal_id = deal.pk
    transaction.on_commit(lambda: deal_refund_task.delay(deal_id))


# --- Accounts -------------------------------------------------------------------------------------


def _payable(deal: Deal) -> LedgerAccount:
    return ledger_account_for(
        kind=LedgerAccountKind.SELLER_PAYABLE, owner=deal.seller, currency=deal.currency, reference=deal.reference
    )


def _refunds_payable(deal: Deal) -> LedgerAccount:
    return ledger_account_for(
        kind=LedgerAccountKind.REFUNDS_PAYABLE, owner=deal.buyer, currency=deal.currency, reference=deal.reference
    )


def _cash(currency: str) -> LedgerAccount:
    return ledger_account_for(kind=LedgerAccountKind.PLATFORM_CASH, owner=None, currency=currency)


def seller_payout_account(*, user: User) -> ConnectedAccount | None:
    """The seller's Connect account when it can receive transfers; None while it cannot."""
    account = ConnectedAccount.objects.filter(user=user).first()
    return account if account is not None and account.transfers_active else None


def seller_owed(*, user: User) -> list[tuple[Deal, Money]]:
    """Released deals whose proceeds are still owed to the seller (not transferred yet)."""
    owed = []
    totals = (
        Entry.objects.filter(account__kind=LedgerAccountKind.SELLER_PAYABLE, account__owner=user)
        .values("account__reference", "account__currency")
        .annotate(total=Sum("amount"))
    )
    for row in totals:
        held = -int(row["total"] or 0)
        deal_id = _deal_id_of(row["account__reference"])
        if held > 0 and deal_id is not None:
            deal = Deal.objects.filter(seller=user, pk=deal_id).first()
            if deal is not None:
                owed.append((deal, Money(held, row["account__currency"])))
    return sorted(owed, key=lambda item: item[0].pk)


def _deal_id_of(reference: str) -> int | None:
    prefix, _, number = reference.partition(":")
    return int(number) if prefix == "deal" and number.isdigit() else None


# --- The payout transfer --------------------------------------------------------------------------


def deal_payout(*, deal_id: int) -> str:
    """Transfer a released deal's proceeds to the seller's Connect account, once.

    Returns what happened ("paid", "owed", "nothing"). Raises StripeUnavailable when Stripe's
    answer is unknown: the caller retries and the same key makes Stripe answer the first result.
    Must run outside a transaction (money_call commits its key before the call)."""
    deal = Deal.objects.select_related("seller").get(pk=deal_id)
    if deal.state not in (D.RELEASED, D.CLOSED):
        return "nothing"
    payable = _payable(deal)
    held = account_balance(account=payable)
    if held.amount <= 0:
        return "nothing"  # paid already (a duplicate task) or nothing was owed
    if held != deal.seller_proceeds:
        raise PayoutError(f"Deal #{deal.pk}: the payable holds {money_format(held)}, not {deal.seller_proceeds}.")
    account = seller_payout_account(user=deal.seller)
    if account is None:
        return "owed"
    transfer = stripe_gateway.transfer_create(
        amount=held,
        destination_account=account.stripe_account_id,
        idempotency_key=f"deal:{deal.pk}:transfer",
        transfer_group=deal.reference,
    )
    _payout_record(deal=deal, amount=held, transfer=transfer)
    return "paid"


@transaction.atomic
def _payout_record(*, deal: Deal, amount: Money, transfer: stripe_gateway.Transfer) -> None:
    journal_post(
        kind=JournalKind.SELLER_PAYOUT,
        idempotency_key=f"deal:{deal.pk}:payout",
        lines=[(_payable(deal), amount), (_cash(deal.currency), -amount)],
        description=f"Deal #{deal.pk} paid to the seller by transfer {transfer.id}",
        reference=transfer.balance_transaction or transfer.id,
    )
    locked = Deal.objects.select_for_update().get(pk=deal.pk)
    if locked.state == D.RELEASED:
        locked.close()
        locked.save()
        deal_record(locked, from_state=D.RELEASED, actor=None, note=f"{money_format(amount)} paid to the seller.")


# --- The refund -----------------------------------------------------------------------------------


def deal_refund_pay(*, deal_id: int) -> str:
    """Send a refunded deal's money back to the buyer's card, once; never more than captured.

    Returns "paid" or "nothing"; raises StripeUnavailable for a retry, like deal_payout."""
    deal = Deal.objects.get(pk=deal_id)
    if deal.refunded_amount <= 0 or not deal.payment_reference.startswith("pi_"):
        return "nothing"
    owed = account_balance(account=_refunds_payable(deal))
    if owed.amount <= 0:
        return "nothing"
    # The ledger's refunds payable holds what the deal's refund moved out of escrow, which the
    # escrow's non-negative rule bounds by what was paid in; the deal's own record must agree.
    if owed.amount > deal.refunded_amount or deal.refunded_amount > deal.funded_amount:
        raise PayoutError(f"Deal #{deal.pk}: {money_format(owed)} owed back exceeds what was captured.")
    refund = stripe_gateway.refund_create(
        payment_intent_id=deal.payment_reference, amount=owed, idempotency_key=f"deal:{deal.pk}:refund"
    )
    _refund_record(deal=deal, amount=owed, refund=refund)
    return "paid"


@transaction.atomic
def _refund_record(*, deal: Deal, amount: Money, refund: stripe_gateway.Refund) -> None:
    journal_post(
        kind=JournalKind.BUYER_REFUND_PAID,
        idempotency_key=f"deal:{deal.pk}:refund_paid",
        lines=[(_refunds_payable(deal), amount), (_cash(deal.currency), -amount)],
        description=f"Deal #{deal.pk} refunded to the buyer's card ({refund.id})",
        reference=refund.balance_transaction or refund.id,
    )
    locked = Deal.objects.select_for_update().get(pk=deal.pk)
    deal_record(locked, from_state=locked.state, actor=None, note=f"{money_format(amount)} refunded to the card.")


# --- Tasks: thin, retried with the same key while Stripe's answer is unknown -----------------------

# Retried while Stripe's answer is unknown: the same idempotency key makes Stripe answer the first result.
_RETRY_ON = (stripe_gateway.StripeUnavailable,)


@shared_task(name="escrow.deal_payout", autoretry_for=_RETRY_ON, retry_backoff=30, max_retries=12)
def deal_payout_task(deal_id: int) -> str:
    return deal_payout(deal_id=deal_id)


@shared_task(name="escrow.deal_refund_pay", autoretry_for=_RETRY_ON, retry_backoff=30, max_retries=12)
def deal_refund_task(deal_id: int) -> str:
    return deal_refund_pay(deal_id=deal_id)


# --- Connect onboarding ---------------------------------------------------------------------------


def connected_account_start(*, user: User, refresh_url: str, return_url: str) -> str:
    """Open (once) the seller's Connect account and return a fresh onboarding link's URL."""
    account = ConnectedAccount.objects.filter(user=user).first()
    if account is None:
        created = stripe_gateway.connected_account_create(
            email=user.email, country=str(user.country or "US").upper(), reference=f"user:{user.pk}"
        )
        # The key in connected_account_create makes a retry return the same account, so a lost
        # race here finds the same id.
        account, _ = ConnectedAccount.objects.get_or_create(user=user, defaults={"stripe_account_id": created.id})
        _account_store(account=account, data=created)
    link = stripe_gateway.account_link_create(
        account_id=account.stripe_account_id, refresh_url=refresh_url, return_url=return_url
    )
    return link.url


def _account_store(*, account: ConnectedAccount, data: stripe_gateway.ConnectedAccount) -> bool:
    """Store what Stripe says the account can do; True when it just became able to receive."""
    became_able = data.can_receive_transfers and not account.transfers_active
    ConnectedAccount.objects.filter(pk=account.pk).update(
        charges_enabled=data.charges_enabled,
        payouts_enabled=data.payouts_enabled,
        details_submitted=data.details_submitted,
        transfers_active=data.can_receive_transfers,
    )
    return became_able


@transaction.atomic
def connected_account_refresh(*, stripe_account_id: str) -> ConnectedAccount | None:
    """Re-read the account from Stripe (never trusting an event's copy) and store it; pay every
    deal still owed to the seller once the account can receive transfers."""
    account = ConnectedAccount.objects.select_for_update().filter(stripe_account_id=stripe_account_id).first()
    if account is None:
        return None  # not one of ours
    data = stripe_gateway.connected_account_retrieve(account_id=stripe_account_id)
    _account_store(account=account, data=data)
    if data.can_receive_transfers:
        for deal, _amount in seller_owed(user=account.user):
            deal_id = deal.pk
            transaction.on_commit(lambda deal_id=deal_id: deal_payout_task.delay(deal_id))  # type: ignore[misc]
    return ConnectedAccount.objects.get(pk=account.pk)


def account_updated_handle(event: StripeEvent) -> None:
    """Webhook `account.updated`: refresh the seller's account from the API."""
    account_id = str(((event.payload.get("data") or {}).get("object") or {}).get("id") or "")
    if account_id.startswith("acct_"):
        connected_account_refresh(stripe_account_id=account_id)

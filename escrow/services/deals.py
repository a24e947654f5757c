"""The deal lifecycle: buy now, funding, transfer, release, refund, cancellation and disputes.

Money moves only here and only through the ledger (escrow.ledger.journal_post), in the same
transaction as the state change that justifies it, each journal keyed by the deal and the step
(f"deal:{id}:released"), so that a retried task or a duplicated webhook can never move money
twice. Invariant 2 is held four ways: the state machine (release only from recorded, or by a
staff decision on a recorded deal; refund never after release), the re-verification of the
rights against the register before any release to the seller (read with no row locked), the
idempotency keys, and the ledger's non-negative buyer escrow (nothing leaves it that was not
paid in).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from accounts.models import User
from escrow.ledger import JournalLine, LedgerError, account_balance, ledger_account_for
from escrow.ledger import journal_post as ledger_journal_post
from escrow.models import Deal, DealState, JournalKind, LedgerAccount, LedgerAccountKind
from escrow.services.common import (
    DealError,
    Refusal,
    deal_create,
    deal_locked,
    deal_record,
    listing_available_check,
    listing_locked,
)
from escrow.services.fees import deal_fee_lines, fee_quote, services_costing_the_seller
from escrow.services.notifications import deal_event_notify
from escrow.services.release_review import release_runs_approved
from listings import services as listing_services
from listings.models import Listing, ListingState, PriceMode
from marketplace.money import Money, money_format
from verification.models import Notification
from verification.services import rights_reverify_for_release

logger = logging.getLogger(__name__)

D = DealState
K = Notification.Kind


# --- The deal's ledger accounts ----------------------------------------------------------------


def deal_escrow_account(*, deal: Deal) -> LedgerAccount:
    """The buyer's escrow for this deal: what the platform holds for them."""
    return ledger_account_for(
        kind=LedgerAccountKind.BUYER_ESCROW, owner=deal.buyer, currency=deal.currency, reference=deal.reference
    )


def deal_seller_payable_account(*, deal: Deal) -> LedgerAccount:
    """What the platform owes the seller for this deal, until the payout transfer."""
    return ledger_account_for(
        kind=LedgerAccountKind.SELLER_PAYABLE, owner=deal.seller, currency=deal.currency, reference=deal.reference
    )


def deal_refunds_payable_account(*, deal: Deal) -> LedgerAccount:
    """What the platform owes the buyer back for this deal, until the refund is paid."""
    return ledger_account_for(
        kind=LedgerAccountKind.REFUNDS_PAYABLE, owner=deal.buyer, currency=deal.currency, reference=deal.reference
    )


def journal_post(
    *,
    kind: str,
    idempotency_key: str,
    lines: list[JournalLine],
    description: str,
    reference: str,
    acting_user: User | None = None,
) -> None:
    """Post through the ledger; its refusal (which writes nothing) becomes the deal's refusal."""
    try:
        ledger_journal_post(
            kind=kind,
            idempotency_key=idempotency_key,
            lines=lines,
            description=description[:300],
            acting_user=acting_user,
            reference=reference,
        )
    except LedgerError as error:
        raise DealError(f"The ledger refused the posting: {error}") from error


def _platform_account(kind: str, currency: str) -> LedgerAccount:
    return ledger_account_for(kind=kind, owner=None, currency=currency)


def deal_fee_revenue_account(*, kind: str, currency: str) -> LedgerAccount:
    """The platform's revenue account of one kind of fee (a fee of no kind: the general one)."""
    reference = f"fee:{kind}" if kind else ""
    return ledger_account_for(kind=LedgerAccountKind.PLATFORM_FEES, owner=None, currency=currency, reference=reference)


# --- Checks ------------------------------------------------------------------------------------


def _party_check(*, deal: Deal, user: User) -> str:
    party = deal.party_of(user.pk)
    if party is None:
        raise DealError("This deal is not yours.", code=Refusal.FORBIDDEN)
    return party


def _staff_check(*, user: User | None, permission: str | None = None) -> None:
    if user is None:
        return  # the platform itself (a task, the filings workflow)
    if not user.is_staff:
        raise DealError("Only staff can do this.", code=Refusal.FORBIDDEN)
    if permission is not None and not user.has_perm(permission):
        raise DealError("You do not have the permission to do this.", code=Refusal.FORBIDDEN)


def _state_name(deal: Deal) -> str:
    return deal.get_state_display().lower()


def _reason_check(reason: str, *, what: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise DealError(f"Give the reason for the {what}: the parties read it.", code=Refusal.INVALID, field="reason")
    if len(reason) > 5000:
        raise DealError("The reason is at most 5,000 characters.", code=Refusal.INVALID, field="reason")
    return reason.strip()


# --- Buy now -----------------------------------------------------------------------------------


@transaction.atomic
def deal_buy_now(*, listing: Listing, buyer: User, deal_type: str | None = None, services: object = ()) -> Deal:
    """Buy a fixed-price listing at its asking price: a deal awaiting payment, the listing reserved.
    The buyer may ask for value-added services they pay for themselves; one whose fee falls on the
    seller needs the seller's word, so it takes an offer instead.

    The listing's row lock makes concurrent buyers queue: the first reserves it, every other
    one then reads `reserved` and is refused (and the database's one-active-deal constraint
    would refuse a second deal anyway)."""
    listing = listing_locked(listing.pk)
    listing_available_check(listing=listing, buyer=buyer)
    if listing.price_mode != PriceMode.FIXED or listing.asking_price is None:
        raise DealError(
            "This listing has no asking price to buy at; make an offer instead.", code=Refusal.INVALID, field="listing"
        )
    deal_type = deal_type or (listing.deal_types[0] if listing.deal_types else "")
    if deal_type not in listing.deal_types:
        raise DealError("The seller does not offer that kind of deal.", code=Refusal.INVALID, field="deal_type")
    price = Money(listing.asking_price, listing.currency)
    quote = fee_quote(price=price, services=services)
    costing = services_costing_the_seller(quote)
    if costing:
        raise DealError(
            f"The seller pays part of the {', '.join(costing)} fee, so the seller must agree to it: "
            "make an offer at the asking price with that service instead.",
            code=Refusal.INVALID,
            field="services",
        )
    deal = deal_create(
        listing=listing,
        buyer=buyer,
        price=price,
        deal_type=deal_type,
        offer=None,
        quote=quote,
        note=f"Bought at the asking price, {money_format(price)}.",
    )
    deal_event_notify(deal=deal, kind=K.DEAL_CREATED, actor=buyer)
    return deal


# --- Payment -----------------------------------------------------------------------------------


@transaction.atomic
def deal_mark_funded(
    *, deal: Deal, amount: Money, payment_reference: str, idempotency_key: str, ledger_reference: str = ""
) -> Deal:
    """The payment provider captured the buyer's payment: hold it in escrow, the deal is funded.

    Idempotent: the same payment (same key) applied again changes nothing, in whatever state the
    deal is by then. Another payment for a deal already paid is refused. A payment that arrives
    after the deal was cancelled is recorded and owed back to the buyer at once (the money is at
    the platform either way; the ledger must say so), and the deal stays cancelled.

    `ledger_reference`: Stripe's balance transaction of the payment (`txn_...`) when known, the
    funding journal's reference so that reconciliation finds it (escrow.stripe_reconciliation)."""
    if not isinstance(idempotency_key, str) or not idempotency_key.strip() or len(idempotency_key) > 200:
        raise DealError("A payment needs an idempotency key of 1 to 200 characters.", code=Refusal.INVALID)
    if not isinstance(payment_reference, str) or len(payment_reference) > 200:
        raise DealError("A payment reference is at most 200 characters.", code=Refusal.INVALID)
    _listing, deal = deal_locked(deal)
    if deal.funding_key == idempotency_key:
        return deal  # this payment was applied already
    if deal.funding_key:
        raise DealError(f"Deal #{deal.pk} is already paid; a second payment is refused (it must be refunded).")
    if not isinstance(amount, Money) or amount.currency != deal.currency:
        raise DealError(f"Deal #{deal.pk} is paid in {deal.currency}.", code=Refusal.INVALID, field="amount")
    if amount != deal.total_due:
        raise DealError(
            f"Deal #{deal.pk} is paid with exactly {money_format(deal.total_due)}, not {money_format(amount)}.",
            code=Refusal.INVALID,
            field="amount",
        )
    late = deal.state == D.CANCELLED
    if not late and not can_proceed(deal.fund):
        raise DealError(f"A {_state_name(deal)} deal cannot be funded.")

    escrow = deal_escrow_account(deal=deal)
    journal_post(
        kind=JournalKind.DEAL_FUNDED,
        idempotency_key=f"deal:{deal.pk}:funded",
        lines=[(_platform_account(LedgerAccountKind.PLATFORM_CASH, deal.currency), amount), (escrow, -amount)],
        description=f"Deal #{deal.pk} funded by the buyer ({payment_reference or 'payment'})",
        reference=ledger_reference or deal.reference,
    )
    if late:
        journal_post(
            kind=JournalKind.DEAL_REFUNDED,
            idempotency_key=f"deal:{deal.pk}:refunded",
            lines=[(escrow, amount), (deal_refunds_payable_account(deal=deal), -amount)],
            description=f"Deal #{deal.pk} was cancelled before its payment arrived: owed back to the buyer",
            reference=deal.reference,
        )
        Deal.objects.filter(pk=deal.pk).update(
            funded_amount=amount.amount,
            refunded_amount=amount.amount,
            funding_key=idempotency_key,
            payment_reference=payment_reference,
            refunded_at=timezone.now(),
            updated_at=timezone.now(),
        )
        deal = Deal.objects.get(pk=deal.pk)
        note = "A payment arrived after cancellation: refunded."
        deal_record(deal, from_state=D.CANCELLED, actor=None, note=note)
        deal_event_notify(deal=deal, kind=K.DEAL_REFUNDED, actor=None, note=note, only="buyer")
        return deal
    deal.fund(amount=amount.amount, funding_key=idempotency_key, payment_reference=payment_reference)
    deal.save()
    deal_record(deal, from_state=D.AWAITING_PAYMENT, actor=None, note=f"{money_format(amount)} held in escrow.")
    deal_event_notify(deal=deal, kind=K.DEAL_FUNDED, actor=None)
    return deal


# --- Transfer ----------------------------------------------------------------------------------


@transaction.atomic
def deal_start_transfer(*, deal: Deal, acting_user: User | None = None) -> Deal:
    """The transfer filing starts (staff, or the filings workflow as the platform)."""
    _staff_check(user=acting_user)
    _listing, deal = deal_locked(deal)
    if not can_proceed(deal.start_transfer):
        raise DealError(f"A {_state_name(deal)} deal cannot start its transfer.")
    deal.start_transfer()
    deal.save()
    deal_record(deal, from_state=D.FUNDED, actor=acting_user, note="The transfer filing has started.")
    deal_event_notify(deal=deal, kind=K.DEAL_IN_TRANSFER, actor=acting_user)
    return deal


@transaction.atomic
def deal_mark_recorded(*, deal: Deal, acting_user: User | None, note: str = "") -> Deal:
    """The office recorded the transfer to the buyer (staff by hand until filings exist)."""
    _staff_check(user=acting_user)
    _listing, deal = deal_locked(deal)
    from_state = deal.state
    if not can_proceed(deal.mark_recorded):
        raise DealError(f"A {_state_name(deal)} deal cannot be marked recorded.")
    deal.mark_recorded()
    deal.save()
    deal_record(deal, from_state=from_state, actor=acting_user, note=note or "The office recorded the transfer.")
    deal_event_notify(deal=deal, kind=K.DEAL_RECORDED, actor=acting_user)
    return deal


# --- Release and refund ------------------------------------------------------------------------


def _rights_reverified_check(*, deal: Deal) -> str:
    """Invariant 2: funds go to the seller only after the rights are re-verified against the
    register. Called with no row locked (it is network I/O); its runs persist whatever we decide.
    The buyer counts as an owner of record: after recordation the register names them.

    A release refused for a run that staff then approved relies on that decision instead of
    reading the register again (escrow.services.release_review); returns the timeline's note."""
    approved = release_runs_approved(deal=deal)
    if approved:
        runs = ", ".join(f"#{run_id}" for run_id in approved)
        return f"Escrow released to the seller: the rights re-verified, staff approving verification run {runs}."
    if not rights_reverify_for_release(listing=deal.listing, buyer_name=deal.buyer.legal_name):
        raise DealError(
            "The rights could not be re-verified against the register: "
            "the release waits for staff review of the verification run."
        )
    return "Escrow released to the seller."


def _release(*, listing: Listing, deal: Deal, acting_user: User | None, note: str) -> Deal:
    """Move the escrow to the seller (minus fees) and mark the listing sold; the caller has
    locked both rows and checked who may do this."""
    if deal.recorded_at is None:
        raise DealError("The escrow is released only after the transfer is recorded.")
    if listing.state != ListingState.RESERVED:
        raise DealError(
            f"The listing is {listing.get_state_display().lower()}; the release waits for staff to look into it."
        )
    escrow = deal_escrow_account(deal=deal)
    held = account_balance(account=escrow)
    if held != deal.total_due:
        raise DealError(f"The escrow holds {money_format(held)}, not {money_format(deal.total_due)}; staff must look.")
    lines = [(escrow, deal.total_due), (deal_seller_payable_account(deal=deal), -deal.seller_proceeds)]
    # Each fee to its own revenue account ("fee:broker", ...), so finance sees what each earned.
    for fee in deal_fee_lines(deal=deal):
        lines.append((deal_fee_revenue_account(kind=fee.kind, currency=deal.currency), -fee.total))
    lines = [(account, money) for account, money in lines if not money.is_zero]
    from_state = deal.state
    deal.release()
    deal.save()
    journal_post(
        kind=JournalKind.DEAL_RELEASED,
        idempotency_key=f"deal:{deal.pk}:released",
        lines=lines,
        description=f"Deal #{deal.pk} released to the seller",
        acting_user=acting_user,
        reference=deal.reference,
    )
    deal_record(deal, from_state=from_state, actor=acting_user, note=note)
    listing_services.listing_mark_sold(listing=listing, acting_user=acting_user, note=f"Sold by deal #{deal.pk}.")
    # The transfer to the seller leaves on commit and the margin deposit goes back (imported
    # here: escrow.payouts builds on these services).
    from escrow.payouts import deal_released_settle

    deal_released_settle(deal=deal)
    return deal


def _refund(*, listing: Listing, deal: Deal, acting_user: User | None, note: str) -> Deal:
    """Owe the buyer back everything the escrow holds and free the listing; never more than was
    captured (the escrow account cannot go negative, and the deal's check constraint agrees)."""
    escrow = deal_escrow_account(deal=deal)
    held = account_balance(account=escrow)
    if held.amount <= 0:
        raise DealError("The escrow holds nothing to refund.")
    if held.amount + deal.refunded_amount > deal.funded_amount:
        raise DealError("The escrow holds more than was captured; staff must look.")
    from_state = deal.state
    deal.refund(amount=held.amount)
    deal.save()
    journal_post(
        kind=JournalKind.DEAL_REFUNDED,
        idempotency_key=f"deal:{deal.pk}:refunded",
        lines=[(escrow, held), (deal_refunds_payable_account(deal=deal), -held)],
        description=f"Deal #{deal.pk} refunded to the buyer",
        acting_user=acting_user,
        reference=deal.reference,
    )
    deal_record(deal, from_state=from_state, actor=acting_user, note=note)
    if listing.state == ListingState.RESERVED:
        listing_services.listing_release_reservation(
            listing=listing, acting_user=acting_user, note=f"Deal #{deal.pk} was refunded."
        )
    # The refund to the buyer's card leaves on commit (imported here, as in _release).
    from escrow.payouts import deal_refund_schedule

    deal_refund_schedule(deal=deal)
    return deal


def _release_state_check(deal: Deal) -> None:
    if deal.state == D.DISPUTED:
        raise DealError("The deal is disputed: no money moves until staff decide.")
    if deal.state != D.RECORDED:
        raise DealError(f"A {_state_name(deal)} deal cannot be released; the transfer must be recorded first.")


def deal_release(*, deal: Deal, acting_user: User | None = None) -> Deal:
    """Release the escrow of a recorded deal to the seller (staff, or the platform itself), once
    the register still shows the rights in force and owned by the seller (or by the buyer).

    Not atomic on purpose: the register is read first, with no row locked and outside the money
    transaction, so that a slow office holds no lock and the verification runs are kept even when
    the release is refused. The locked body then checks everything again."""
    _staff_check(user=acting_user)
    current = Deal.objects.select_related("listing", "buyer").get(pk=deal.pk)
    _release_state_check(current)  # no register traffic for a deal that cannot be released anyway
    note = "Escrow released to the seller."
    if current.listing.state == ListingState.RESERVED:
        note = _rights_reverified_check(deal=current)
    return _deal_release_locked(deal=deal, acting_user=acting_user, note=note)


@transaction.atomic
def _deal_release_locked(*, deal: Deal, acting_user: User | None, note: str) -> Deal:
    listing, deal = deal_locked(deal)
    _release_state_check(deal)
    deal = _release(listing=listing, deal=deal, acting_user=acting_user, note=note)
    deal_event_notify(deal=deal, kind=K.DEAL_RELEASED, actor=acting_user)
    return deal


def deal_release_after_review(*, deal_id: int) -> str:
    """Release a recorded deal again once staff approved the before-release verification that
    held it (the task `run_approved` queues). "released", or why not: "nothing" (no longer
    recorded), "waiting" (another right still waits for review), "refused" (with the reason on
    the log: the register or the ledger said no; staff see the deal as it is)."""
    deal = Deal.objects.select_related("listing").filter(pk=deal_id).first()
    if deal is None or deal.state != D.RECORDED:
        return "nothing"
    if not release_runs_approved(deal=deal):
        return "waiting"
    try:
        deal_release(deal=deal, acting_user=None)
    except DealError as error:
        logger.warning("Deal #%s was not released after review: %s", deal_id, error)
        return "refused"
    return "released"


@transaction.atomic
def deal_refund(*, deal: Deal, acting_user: User | None, reason: str) -> Deal:
    """Refund the buyer before release: staff (transfer refused or failed) or the seller (who
    gives up the sale). Refused while disputed, and after release."""
    reason = _reason_check(reason, what="refund")
    if acting_user is not None and not acting_user.is_staff and deal.party_of(acting_user.pk) != "seller":
        raise DealError("Only the seller or staff can refund this deal.", code=Refusal.FORBIDDEN)
    listing, deal = deal_locked(deal)
    if deal.state == D.DISPUTED:
        raise DealError("The deal is disputed: no money moves until staff decide.")
    if deal.state not in (D.FUNDED, D.IN_TRANSFER, D.RECORDED):
        raise DealError(f"A {_state_name(deal)} deal cannot be refunded.")
    deal = _refund(listing=listing, deal=deal, acting_user=acting_user, note=reason)
    deal_event_notify(deal=deal, kind=K.DEAL_REFUNDED, actor=acting_user, note=reason)
    return deal


@transaction.atomic
def deal_close(*, deal: Deal, acting_user: User | None = None) -> Deal:
    """The seller's payout is done: the deal is complete."""
    _staff_check(user=acting_user)
    _listing, deal = deal_locked(deal)
    if not can_proceed(deal.close):
        raise DealError(f"A {_state_name(deal)} deal cannot be closed.")
    deal.close()
    deal.save()
    deal_record(deal, from_state=D.RELEASED, actor=acting_user, note="Complete.")
    return deal


# --- Cancellation ------------------------------------------------------------------------------


def _cancel(*, listing: Listing, deal: Deal, acting_user: User | None, note: str) -> Deal:
    from_state = deal.state
    deal.cancel()
    deal.save()
    deal_record(deal, from_state=from_state, actor=acting_user, note=note)
    deal_event_notify(deal=deal, kind=K.DEAL_CANCELLED, actor=acting_user, note=note)
    if listing.state == ListingState.RESERVED:
        listing_services.listing_release_reservation(
            listing=listing, acting_user=acting_user, note=f"Deal #{deal.pk} was cancelled."
        )
    return deal


@transaction.atomic
def deal_cancel(*, deal: Deal, acting_user: User, reason: str = "") -> Deal:
    """Either party withdraws from a deal before it is paid."""
    _party_check(deal=deal, user=acting_user)
    listing, deal = deal_locked(deal)
    if not can_proceed(deal.cancel):
        raise DealError(f"A {_state_name(deal)} deal cannot be cancelled; it is paid already.")
    return _cancel(listing=listing, deal=deal, acting_user=acting_user, note=reason.strip() or "Withdrawn.")


def deals_cancel_unpaid(*, now: datetime | None = None) -> list[int]:
    """Cancel every deal past its payment deadline and release its listing (Celery beat).

    One transaction per deal, so one failure does not hold back the others, and a deal paid
    meanwhile (its state re-read under the lock) is left alone. Safe to run twice."""
    now = now or timezone.now()
    due = list(
        Deal.objects.filter(state__in=[D.AGREED, D.AWAITING_PAYMENT], payment_deadline__lt=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    cancelled = []
    for deal_id in due:
        if _deal_cancel_if_unpaid(deal_id=deal_id, now=now):
            cancelled.append(deal_id)
    return cancelled


@transaction.atomic
def _deal_cancel_if_unpaid(*, deal_id: int, now: datetime) -> bool:
    deal = Deal.objects.filter(pk=deal_id).first()
    if deal is None:
        return False
    listing, deal = deal_locked(deal)
    if deal.state not in (D.AGREED, D.AWAITING_PAYMENT) or deal.payment_deadline >= now:
        return False
    _cancel(listing=listing, deal=deal, acting_user=None, note="Not paid by the deadline.")
    return True


# --- Disputes ----------------------------------------------------------------------------------


@transaction.atomic
def deal_dispute_open(*, deal: Deal, acting_user: User, reason: str) -> Deal:
    """Either party opens a dispute: no money moves until staff decide."""
    reason = _reason_check(reason, what="dispute")
    party = _party_check(deal=deal, user=acting_user)
    _listing, deal = deal_locked(deal)
    if deal.state == D.DISPUTED:
        raise DealError("This deal is already disputed.")
    if not can_proceed(deal.open_dispute):
        raise DealError(f"A {_state_name(deal)} deal cannot be disputed: no money is held for it.")
    from_state = deal.state
    deal.open_dispute(reason=reason, by_id=acting_user.pk)
    deal.save()
    deal_record(deal, from_state=from_state, actor=acting_user, note=f"Dispute opened by the {party}: {reason}")
    deal_event_notify(deal=deal, kind=K.DISPUTE_OPENED, actor=acting_user)
    return deal


class DisputeOutcome:
    RELEASE = "release"
    REFUND = "refund"
    CHOICES = (RELEASE, REFUND)


def deal_dispute_decide(*, deal: Deal, acting_user: User, outcome: str, reason: str) -> Deal:
    """Staff with `escrow.decide_dispute` decide: release to the seller (only if the transfer was
    recorded, and once the rights are re-verified against the register, as in `deal_release`) or
    refund the buyer. The decision, its reason and who made it are kept."""
    _staff_check(user=acting_user, permission="escrow.decide_dispute")
    if outcome not in DisputeOutcome.CHOICES:
        raise DealError("Decide for a release or a refund.", code=Refusal.INVALID, field="outcome")
    reason = _reason_check(reason, what="decision")
    if outcome == DisputeOutcome.RELEASE:
        current = Deal.objects.select_related("listing", "buyer").get(pk=deal.pk)
        # Only a release that could go ahead reads the register; the locked body refuses the rest.
        if (
            current.state == D.DISPUTED
            and current.recorded_at is not None
            and current.listing.state == ListingState.RESERVED
        ):
            _rights_reverified_check(deal=current)
    return _deal_dispute_decide_locked(deal=deal, acting_user=acting_user, outcome=outcome, reason=reason)


@transaction.atomic
def _deal_dispute_decide_locked(*, deal: Deal, acting_user: User, outcome: str, reason: str) -> Deal:
    listing, deal = deal_locked(deal)
    if deal.state != D.DISPUTED:
        raise DealError(f"A {_state_name(deal)} deal has no dispute to decide.")
    deal.decision_reason = reason
    note = f"Dispute decided by staff for a {outcome}: {reason}"
    if outcome == DisputeOutcome.RELEASE:
        deal = _release(listing=listing, deal=deal, acting_user=acting_user, note=note)
    else:
        deal = _refund(listing=listing, deal=deal, acting_user=acting_user, note=note)
    # One alert for the decision, which says where the money went.
    deal_event_notify(deal=deal, kind=K.DISPUTE_DECIDED, actor=acting_user)
    return deal


__all__ = [
    "DisputeOutcome",
    "deal_buy_now",
    "deal_cancel",
    "deal_close",
    "deal_dispute_decide",
    "deal_dispute_open",
    "deal_escrow_account",
    "deal_fee_revenue_account",
    "deal_mark_funded",
    "deal_mark_recorded",
    "deal_refund",
    "deal_refunds_payable_account",
    "deal_release",
    "deal_release_after_review",
    "deal_seller_payable_account",
    "deal_start_transfer",
    "deals_cancel_unpaid",
]

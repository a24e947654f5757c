"""Negotiation: offers, counters, acceptance (which agrees a deal), rejection, withdrawal, expiry.

A negotiation is between a listing's seller and one buyer; its offers form a chain through
`parent`, at most one of them open (a database constraint). The recipient of the open offer
counters, accepts or rejects it; its maker withdraws it.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from escrow.models import Deal, Offer, OfferState, Party
from escrow.services.common import (
    DealError,
    Refusal,
    amount_check,
    deal_create,
    listing_available_check,
    listing_locked,
    offer_locked,
)
from escrow.services.fees import fee_quote
from escrow.services.notifications import offer_event_notify
from listings.models import Listing, PriceMode
from marketplace.money import Money, money_format
from verification.models import Notification

MESSAGE_MAX = 5000


def _message_check(message: str) -> str:
    if not isinstance(message, str):
        raise DealError("The message must be text.", code=Refusal.INVALID, field="message")
    if len(message) > MESSAGE_MAX:
        raise DealError(f"The message is at most {MESSAGE_MAX:,} characters.", code=Refusal.INVALID, field="message")
    return message.strip()


def _party_of(*, offer: Offer, listing: Listing, user: User) -> str:
    if user.pk == offer.buyer_id:
        return Party.BUYER
    if user.pk == listing.seller_id:
        return Party.SELLER
    raise DealError("This offer is not yours.", code=Refusal.FORBIDDEN)


def _open_check(offer: Offer, *, now: datetime | None = None) -> None:
    if offer.state != OfferState.OPEN:
        raise DealError(f"This offer is {offer.get_state_display().lower()}; it can no longer be answered.")
    if offer.expires_at <= (now or timezone.now()):
        raise DealError("This offer has expired.")


def _create(
    *,
    listing: Listing,
    buyer: User,
    made_by: str,
    amount: Money,
    deal_type: str,
    services: tuple[str, ...],
    message: str,
    parent: Offer | None,
    acting_user: User,
) -> Offer:
    try:
        with transaction.atomic():
            offer = Offer.objects.create(
                listing=listing,
                buyer=buyer,
                made_by=made_by,
                amount=amount.amount,
                currency=amount.currency,
                deal_type=deal_type,
                services=list(services),
                message=message,
                parent=parent,
            )
    except IntegrityError:
        # Only reachable if the negotiation's open offer was not closed first: the constraint
        # holds even then.
        raise DealError("You already have an open offer on this listing; withdraw or wait for it.") from None
    kind = Notification.Kind.OFFER_RECEIVED if parent is None else Notification.Kind.OFFER_COUNTERED
    offer_event_notify(offer=offer, kind=kind, actor=acting_user)
    return offer


def _services_for(*, amount: Money, services: object) -> tuple[str, ...]:
    """The services of a proposal, checked, with its fees computable at this amount: the other
    side is shown the exact amounts before answering (refused here rather than there)."""
    return fee_quote(price=amount, services=services).services


@transaction.atomic
def offer_make(
    *, listing: Listing, buyer: User, amount: Money, deal_type: str, message: str = "", services: object = ()
) -> Offer:
    """A buyer proposes a price, at or above the seller's minimum where there is one, with the
    value-added services they ask for (priced by the fee schedule; the seller sees each fee)."""
    message = _message_check(message)
    listing = listing_locked(listing.pk)
    listing_available_check(listing=listing, buyer=buyer)
    amount = amount_check(amount=amount, listing=listing)
    if deal_type not in listing.deal_types:
        raise DealError("The seller does not offer that kind of deal.", code=Refusal.INVALID, field="deal_type")
    if listing.price_mode == PriceMode.FIXED and listing.minimum_price is None:
        raise DealError("This listing is sold at its fixed price only; use Buy now.", code=Refusal.INVALID)
    if listing.minimum_price is not None and amount.amount < listing.minimum_price:
        minimum = Money(listing.minimum_price, listing.currency)
        raise DealError(
            f"The seller considers offers of {money_format(minimum)} or more.", code=Refusal.INVALID, field="amount"
        )
    if Offer.objects.filter(listing=listing, buyer=buyer, state=OfferState.OPEN).exists():
        raise DealError("You already have an open offer on this listing; withdraw it or wait for the answer.")
    return _create(
        listing=listing,
        buyer=buyer,
        made_by=Party.BUYER,
        amount=amount,
        deal_type=deal_type,
        services=_services_for(amount=amount, services=services),
        message=message,
        parent=None,
        acting_user=buyer,
    )


@transaction.atomic
def offer_counter(
    *, offer: Offer, acting_user: User, amount: Money, message: str = "", services: object = None
) -> Offer:
    """The recipient answers with another price (and, if given, other services; else the same):
    the offer is countered, the counter is open."""
    message = _message_check(message)
    listing, offer = offer_locked(offer)
    party = _party_of(offer=offer, listing=listing, user=acting_user)
    if party != offer.recipient:
        raise DealError("You made this offer; wait for the answer, or withdraw it.", code=Refusal.FORBIDDEN)
    _open_check(offer)
    listing_available_check(listing=listing, buyer=offer.buyer)
    amount = amount_check(amount=amount, listing=listing)
    # The minimum binds the buyer's proposals; the seller may counter at any price.
    if party == Party.BUYER and listing.minimum_price is not None and amount.amount < listing.minimum_price:
        minimum = Money(listing.minimum_price, listing.currency)
        raise DealError(
            f"The seller considers offers of {money_format(minimum)} or more.", code=Refusal.INVALID, field="amount"
        )
    chosen = _services_for(amount=amount, services=offer.services if services is None else services)
    offer.counter()
    offer.save()
    return _create(
        listing=listing,
        buyer=offer.buyer,
        made_by=party,
        amount=amount,
        deal_type=offer.deal_type,
        services=chosen,
        message=message,
        parent=offer,
        acting_user=acting_user,
    )


@transaction.atomic
def offer_accept(*, offer: Offer, acting_user: User) -> Deal:
    """The recipient accepts: a deal at the offer's price awaits payment, the listing is reserved,
    and the other buyers' open offers on it expire."""
    listing, offer = offer_locked(offer)
    party = _party_of(offer=offer, listing=listing, user=acting_user)
    if party != offer.recipient:
        raise DealError("You made this offer; only the other side can accept it.", code=Refusal.FORBIDDEN)
    _open_check(offer)
    listing_available_check(listing=listing, buyer=offer.buyer)
    if offer.currency != listing.currency:
        raise DealError("The listing's currency changed since this offer was made.", code=Refusal.INVALID)
    offer.accept()
    offer.save()
    deal = deal_create(
        listing=listing,
        buyer=offer.buyer,
        price=offer.money,
        deal_type=offer.deal_type,
        services=tuple(offer.services),
        offer=offer,
        note=f"Offer #{offer.pk} of {money_format(offer.money)} accepted by the {party}.",
    )
    # The offer's maker hears of the acceptance, which names the deal and its payment deadline.
    offer_event_notify(offer=offer, kind=Notification.Kind.OFFER_ACCEPTED, actor=acting_user, deal=deal)
    return deal


@transaction.atomic
def offer_reject(*, offer: Offer, acting_user: User, message: str = "") -> Offer:
    message = _message_check(message)
    listing, offer = offer_locked(offer)
    party = _party_of(offer=offer, listing=listing, user=acting_user)
    if party != offer.recipient:
        raise DealError("You made this offer; withdraw it instead.", code=Refusal.FORBIDDEN)
    if offer.state != OfferState.OPEN:
        raise DealError(f"This offer is {offer.get_state_display().lower()}; it can no longer be answered.")
    offer.reject(note=message)
    offer.save()
    offer_event_notify(offer=offer, kind=Notification.Kind.OFFER_REJECTED, actor=acting_user)
    return offer


@transaction.atomic
def offer_withdraw(*, offer: Offer, acting_user: User) -> Offer:
    listing, offer = offer_locked(offer)
    party = _party_of(offer=offer, listing=listing, user=acting_user)
    if party != offer.made_by:
        raise DealError("Only the one who made an offer can withdraw it.", code=Refusal.FORBIDDEN)
    if offer.state != OfferState.OPEN:
        raise DealError(f"This offer is {offer.get_state_display().lower()}; there is nothing to withdraw.")
    offer.withdraw()
    offer.save()
    offer_event_notify(offer=offer, kind=Notification.Kind.OFFER_WITHDRAWN, actor=acting_user)
    return offer


def offers_expire(*, now: datetime | None = None) -> list[int]:
    """Expire every open offer past its time (Celery beat). One short transaction per offer, the
    state re-read under the lock, so an offer accepted meanwhile is left alone; safe to run twice."""
    now = now or timezone.now()
    due = list(
        Offer.objects.filter(state=OfferState.OPEN, expires_at__lte=now).order_by("pk").values_list("pk", flat=True)
    )
    return [offer_id for offer_id in due if _offer_expire_if_due(offer_id=offer_id, now=now)]


@transaction.atomic
def _offer_expire_if_due(*, offer_id: int, now: datetime) -> bool:
    offer = Offer.objects.filter(pk=offer_id).first()
    if offer is None:
        return False
    _listing, offer = offer_locked(offer)
    if offer.state != OfferState.OPEN or offer.expires_at > now:
        return False
    offer.expire(note="No answer in time.")
    offer.save()
    offer_event_notify(offer=offer, kind=Notification.Kind.OFFER_EXPIRED, actor=None)
    return True

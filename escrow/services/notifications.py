"""Telling the people in a negotiation or a deal what happened, in the site and by email.

Each offer and deal service calls one of these inside its own transaction, after its change:
the Notification row commits (or rolls back) with the change, and verification's `notify`
sends the email only once the transaction has committed. Who is told: both parties, except the
one who acted (a buyer who makes an offer is not told of it; staff and the platform's own
sweeps are no party, so both are told). Each alert is keyed by the offer or deal and the step
(`offer:12:countered`, `deal:7:funded`), so a retried task or a repeated call tells no one twice.
"""

from __future__ import annotations

from django.urls import reverse

from accounts.models import User
from escrow.models import Deal, Offer, Party, ValueAddedService
from escrow.services.errors import DealError
from escrow.services.fees import FeeQuote, fee_quote
from marketplace.money import money_format
from verification.models import Notification
from verification.services.monitoring import notify

K = Notification.Kind


def _dashboard_url(anchor: str) -> str:
    return f"{reverse('escrow:dashboard')}#{anchor}"


def _told(*, buyer_id: int, seller_id: int, actor: User | None) -> list[tuple[int, str]]:
    """(user id, their side) of the parties to tell: both but the one who acted."""
    parties = [(buyer_id, Party.BUYER), (seller_id, Party.SELLER)]
    return [(user_id, side) for user_id, side in parties if actor is None or user_id != actor.pk]


def _quote_text(quote: FeeQuote, side: str) -> str:
    """The exact amounts of a proposal for one side, fees line by line."""
    lines = [f"Price: {money_format(quote.price)}"]
    if side == Party.BUYER:
        lines += [f"{line.label} ({line.basis}): {money_format(line.buyer_part)}" for line in quote.buyer_lines()]
        lines.append(f"You would pay into escrow: {money_format(quote.buyer_pays)}")
    else:
        lines += [f"{line.label} ({line.basis}): -{money_format(line.seller_part)}" for line in quote.seller_lines()]
        lines.append(f"You would receive on release: {money_format(quote.seller_receives)}")
    return "\n".join(lines)


def _services_text(services: list[str] | tuple[str, ...]) -> str:
    if not services:
        return ""
    return "\nServices asked for: " + ", ".join(ValueAddedService(s).label for s in services) + "."


# --- Offers ------------------------------------------------------------------------------------

_OFFER_TITLES: dict[str, str] = {
    K.OFFER_RECEIVED: "New offer of {money} on {title}",
    K.OFFER_COUNTERED: "Counter-offer of {money} on {title}",
    K.OFFER_ACCEPTED: "Offer accepted on {title}: deal #{deal}",
    K.OFFER_REJECTED: "Offer of {money} on {title} rejected",
    K.OFFER_WITHDRAWN: "Offer of {money} on {title} withdrawn",
    K.OFFER_EXPIRED: "Offer of {money} on {title} expired",
}


def _offer_body(*, offer: Offer, kind: str, side: str, deal: Deal | None) -> str:
    other = "buyer" if side == Party.SELLER else "seller"
    expires = f"{offer.expires_at:%d %b %Y %H:%M} UTC"
    if kind in (K.OFFER_RECEIVED, K.OFFER_COUNTERED):
        verb = "offers" if kind == K.OFFER_RECEIVED else "counters with"
        message = f"\n\nTheir message: {offer.message}" if offer.message else ""
        try:
            amounts = "\n\nIf you accept:\n" + _quote_text(fee_quote(price=offer.money, services=offer.services), side)
        except DealError:  # a schedule that refuses this price: the dashboard says why
            amounts = ""
        return (
            f"The {other} {verb} {money_format(offer.money)} ({offer.get_deal_type_display()})."
            f"{_services_text(offer.services)}{amounts}{message}\n\n"
            f"Accept, counter or reject it on your dashboard before {expires}."
        )
    if kind == K.OFFER_ACCEPTED and deal is not None:
        if side == Party.BUYER:
            due = f"Pay {money_format(deal.total_due)} into escrow by {deal.payment_deadline:%d %b %Y %H:%M} UTC."
        else:
            due = f"The buyer has until {deal.payment_deadline:%d %b %Y %H:%M} UTC to pay into escrow."
        return (
            f"The {other} accepted {money_format(offer.money)}: deal #{deal.pk} is agreed and the listing "
            f"reserved. {due}"
        )
    if kind == K.OFFER_REJECTED:
        note = f"\n\nTheir message: {offer.closing_note}" if offer.closing_note else ""
        return f"The {other} rejected the offer of {money_format(offer.money)}.{note}"
    if kind == K.OFFER_WITHDRAWN:
        return f"The {other} withdrew the offer of {money_format(offer.money)}."
    reason = offer.closing_note or "No answer in time."
    return f"The offer of {money_format(offer.money)} expired: {reason}"


def offer_event_notify(
    *, offer: Offer, kind: str, actor: User | None, deal: Deal | None = None, only: str | None = None
) -> int:
    """Tell the negotiation's parties (but the actor; or `only` that side) of a step of this
    offer; returns how many were told now."""
    listing = offer.listing
    told = 0
    for user_id, side in _told(buyer_id=offer.buyer_id, seller_id=listing.seller_id, actor=actor):
        if only is not None and side != only:
            continue
        title = _OFFER_TITLES[kind].format(
            money=money_format(offer.money), title=listing.title, deal=deal.pk if deal is not None else ""
        )
        anchor = f"deal-{deal.pk}" if deal is not None else f"offer-{offer.pk}"
        if notify(
            user=user_id,
            kind=kind,
            title=title,
            body=_offer_body(offer=offer, kind=kind, side=side, deal=deal),
            dedupe_key=f"offer:{offer.pk}:{kind}",
            url=_dashboard_url(anchor),
            listing=listing,
        ):
            told += 1
    return told


# --- Deals -------------------------------------------------------------------------------------

_DEAL_TITLES: dict[str, str] = {
    K.DEAL_CREATED: "Deal #{deal} agreed: {title}",
    K.DEAL_FUNDED: "Deal #{deal} funded: {title}",
    K.DEAL_IN_TRANSFER: "Deal #{deal}: the transfer is being recorded",
    K.DEAL_RECORDED: "Deal #{deal}: the transfer is recorded",
    K.DEAL_RELEASED: "Deal #{deal}: escrow released to the seller",
    K.DEAL_REFUNDED: "Deal #{deal}: escrow refunded to the buyer",
    K.DEAL_CANCELLED: "Deal #{deal} cancelled: {title}",
    K.DISPUTE_OPENED: "Deal #{deal}: a dispute was opened",
    K.DISPUTE_DECIDED: "Deal #{deal}: staff decided the dispute",
}


def _deal_body(*, deal: Deal, kind: str, side: str, note: str) -> str:  # noqa: PLR0911 - one answer per step
    buyer = side == Party.BUYER
    deadline = f"{deal.payment_deadline:%d %b %Y %H:%M} UTC"
    if kind == K.DEAL_CREATED:
        if buyer:
            return f"Pay {money_format(deal.total_due)} into escrow by {deadline}."
        return (
            f"A buyer bought {deal.listing.title} at {money_format(deal.price_money)}; the listing is reserved. "
            f"The buyer has until {deadline} to pay into escrow; you receive "
            f"{money_format(deal.seller_proceeds)} after fees once the transfer is recorded."
        )
    if kind == K.DEAL_FUNDED:
        if buyer:
            return (
                f"Your payment of {money_format(deal.total_due)} is held in escrow until the transfer to you is "
                "recorded. Its receipt is on your dashboard."
            )
        return (
            f"The buyer's payment of {money_format(deal.total_due)} is held in escrow. "
            "Next: sign the transfer documents so that the transfer can be filed."
        )
    if kind == K.DEAL_IN_TRANSFER:
        return "The transfer filing has started; the escrow is released once the office records it."
    if kind == K.DEAL_RECORDED:
        return "The office recorded the transfer. The escrow is released to the seller once the register confirms it."
    if kind == K.DEAL_RELEASED:
        if buyer:
            return "The rights are yours on the register and the escrow went to the seller: the deal is complete."
        return (
            f"{money_format(deal.seller_proceeds)} is yours after fees. The transfer to your Stripe account "
            "follows (set up payouts if you have not); its receipt is on your dashboard."
        )
    if kind == K.DEAL_REFUNDED:
        why = f"\n\n{note}" if note else ""
        if buyer:
            return f"The escrow of deal #{deal.pk} goes back to your card; its receipt follows once sent.{why}"
        return f"The buyer's payment was refunded and the listing is free again.{why}"
    if kind == K.DEAL_CANCELLED:
        return f"The deal was cancelled before it was paid: {note or 'withdrawn'}. The listing is free again."
    if kind == K.DISPUTE_OPENED:
        other = "seller" if buyer else "buyer"
        return f"The {other} opened a dispute: {deal.dispute_reason}\n\nNo money moves until staff decide."
    outcome = "released to the seller" if deal.state != "refunded" else "refunded to the buyer"
    return f"Staff decided the dispute: the escrow is {outcome}.\n\n{deal.decision_reason}"


def deal_event_notify(*, deal: Deal, kind: str, actor: User | None, note: str = "", only: str | None = None) -> int:
    """Tell the deal's parties (but the actor; or `only` that side) of a step of the deal;
    returns how many were told now."""
    told = 0
    for user_id, side in _told(buyer_id=deal.buyer_id, seller_id=deal.seller_id, actor=actor):
        if only is not None and side != only:
            continue
        if notify(
            user=user_id,
            kind=kind,
            title=_DEAL_TITLES[kind].format(deal=deal.pk, title=deal.listing.title),
            body=_deal_body(deal=deal, kind=kind, side=side, note=note),
            dedupe_key=f"deal:{deal.pk}:{kind}",
            url=_dashboard_url(f"deal-{deal.pk}"),
            listing=deal.listing,
        ):
            told += 1
    return told
